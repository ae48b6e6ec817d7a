"""Clock domains with exact integer conversion between cycles and kernel ticks.

The kernel counts time in integer *ticks*. A :class:`Timebase` picks the tick so that one cycle of every clock
domain in a run is a whole number of ticks: the tick rate is the least common multiple of the domain frequencies
(in Hz, which must be integers). Converting cycles to ticks is then exact multiplication; ticks to cycles is an
exact division when the tick falls on an edge, and a floor/ceil otherwise. No floating point touches time.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import lcm

from archsim.base.errors import SimulationError


@dataclass(frozen=True, slots=True)
class ClockDomain:
    """A named clock. ``ticks_per_cycle`` is filled in by the :class:`Timebase` that owns the domain."""

    name: str
    freq_hz: int
    ticks_per_cycle: int

    @property
    def freq_mhz(self) -> float:
        return self.freq_hz / 1e6

    @property
    def period_ns(self) -> float:
        return 1e9 / self.freq_hz

    def cycles_to_ticks(self, cycles: int) -> int:
        return cycles * self.ticks_per_cycle

    def ticks_to_cycles(self, ticks: int) -> int:
        """Whole cycles elapsed by ``ticks`` (floor)."""
        return ticks // self.ticks_per_cycle

    def next_edge(self, ticks: int) -> int:
        """The first tick at or after ``ticks`` that is a rising edge of this clock."""
        t = self.ticks_per_cycle
        return -(-ticks // t) * t


def freq_to_hz(freq_mhz: float | int | Fraction) -> int:
    """Exact integer Hz from a frequency in MHz; rejects frequencies that are not a whole number of Hz."""
    hz = Fraction(freq_mhz) * 1_000_000 if not isinstance(freq_mhz, float) else Fraction(str(freq_mhz)) * 1_000_000
    if hz.denominator != 1 or hz <= 0:
        raise SimulationError(f"clock frequency {freq_mhz} MHz must be a positive whole number of Hz")
    return int(hz)


class Timebase:
    """The set of clock domains of one run and the common tick they share.

    >>> tb = Timebase({"dram": 2000, "asic": 1000})
    >>> tb["dram"].ticks_per_cycle, tb["asic"].ticks_per_cycle
    (1, 2)
    """

    __slots__ = ("tick_hz", "domains")

    def __init__(self, freqs_mhz: dict[str, float | int]):
        if not freqs_mhz:
            raise SimulationError("a timebase needs at least one clock domain")
        hz = {name: freq_to_hz(f) for name, f in freqs_mhz.items()}
        self.tick_hz = lcm(*hz.values())
        self.domains = {
            name: ClockDomain(name, f, self.tick_hz // f) for name, f in sorted(hz.items())
        }

    def __getitem__(self, name: str) -> ClockDomain:
        try:
            return self.domains[name]
        except KeyError:
            raise SimulationError(
                f"unknown clock domain {name!r}; expected one of: {', '.join(self.domains)}"
            ) from None

    def seconds(self, ticks: int) -> float:
        return ticks / self.tick_hz

    def convert(self, cycles: int, src: str, dst: str) -> Fraction:
        """Exact number of ``dst`` cycles that ``cycles`` cycles of ``src`` last (a Fraction)."""
        return Fraction(cycles * self[src].ticks_per_cycle, self[dst].ticks_per_cycle)

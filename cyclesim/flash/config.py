"""Flash geometry, timing and energy, and the PCIe link, as plain frozen data with derived durations.

Every duration is an integer number of picoseconds, rounded up once per operation (a page transfer is
``ceil(page_bytes / (rate x width))`` ps), so the event model and the closed forms use the same numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

from archsim.base.errors import SimulationError

PS_PER_S = 10**12
#: the flash clock domain: 1 THz, one tick per picosecond
FLASH_CLOCK_MHZ = 1_000_000

#: PCIe per-lane signalling rate (GT/s) and line-code efficiency by generation (PCI-SIG base specifications:
#: Gen1/2 use 8b/10b, Gen3 and later 128b/130b).
PCIE_GENERATIONS = {"gen1": (2.5, 8 / 10), "gen2": (5.0, 8 / 10), "gen3": (8.0, 128 / 130),
                    "gen4": (16.0, 128 / 130), "gen5": (32.0, 128 / 130)}


def ps(seconds: float) -> int:
    """``seconds`` as whole picoseconds, rounded up (an operation never takes less than its rate allows)."""
    return max(0, math.ceil(seconds * PS_PER_S - 1e-6))


@dataclass(frozen=True)
class PcieLink:
    """A PCIe link: generation, lanes and the fraction of the line rate that carries payload (TLP headers,
    flow control, DMA descriptors)."""

    generation: str = "gen4"
    lanes: int = 4
    efficiency_fraction: float = 1.0
    energy_pj_per_bit: float = 0.0

    def __post_init__(self):
        if self.generation not in PCIE_GENERATIONS:
            raise SimulationError(f"PCIe generation {self.generation!r}; expected one of: "
                                  f"{', '.join(PCIE_GENERATIONS)}")
        if self.lanes < 1 or not 0 < self.efficiency_fraction <= 1:
            raise SimulationError(f"PCIe link: lanes = {self.lanes}, efficiency = {self.efficiency_fraction}; "
                                  f"expected lanes >= 1 and 0 < efficiency <= 1")

    @property
    def raw_bytes_per_s(self) -> float:
        gts, code = PCIE_GENERATIONS[self.generation]
        return self.lanes * gts * 1e9 * code / 8

    @property
    def bytes_per_s(self) -> float:
        return self.raw_bytes_per_s * self.efficiency_fraction

    def transfer_ps(self, nbytes: int) -> int:
        return ps(nbytes / self.bytes_per_s)

    def energy_pj(self, nbytes: int) -> float:
        return nbytes * 8 * self.energy_pj_per_bit


@dataclass(frozen=True)
class FlashConfig:
    """One drive's NAND array: ``channels`` buses, ``ways`` dies (LUNs) per channel, ``planes`` per die."""

    channels: int = 8
    ways: int = 8
    planes: int = 1
    blocks_per_plane: int = 8192
    pages_per_block: int = 256
    page_bytes: int = 4096
    t_read_us: float = 35.76
    t_prog_us: float = 185.0
    t_erase_us: float = 3000.0
    bus_mt_per_s: float = 1400.0
    bus_width_bytes: int = 1
    read_energy_pj: float = 0.0       # one page sensed (array)
    prog_energy_pj: float = 0.0       # one page programmed
    erase_energy_pj: float = 0.0      # one block erased
    bus_energy_pj_per_byte: float = 0.0

    def __post_init__(self):
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name.endswith("_pj") or f.name.endswith("_per_byte"):
                ok = v >= 0
            else:
                ok = v > 0
            if not ok:
                raise SimulationError(f"flash config: {f.name} = {v!r}; expected a "
                                      f"{'non-negative' if f.name.endswith(('_pj', '_per_byte')) else 'positive'} "
                                      f"number")

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> "FlashConfig":
        """From a component's parameters (the ``FlashDrive`` kind's flash keys); extra keys are ignored."""
        return cls(**{f.name: params[f.name] for f in fields(cls) if f.name in params})

    # -- derived ---------------------------------------------------------------------------------------------
    @property
    def dies(self) -> int:
        return self.channels * self.ways

    @property
    def capacity_bytes(self) -> int:
        return self.dies * self.planes * self.blocks_per_plane * self.pages_per_block * self.page_bytes

    @property
    def bus_bytes_per_s(self) -> float:
        return self.bus_mt_per_s * 1e6 * self.bus_width_bytes

    @property
    def read_ps(self) -> int:
        return ps(self.t_read_us * 1e-6)

    @property
    def prog_ps(self) -> int:
        return ps(self.t_prog_us * 1e-6)

    @property
    def erase_ps(self) -> int:
        return ps(self.t_erase_us * 1e-6)

    @property
    def xfer_ps(self) -> int:
        """One page over the channel bus."""
        return ps(self.page_bytes / self.bus_bytes_per_s)

    def peak_read_bytes_per_s(self) -> float:
        """The array's streaming read bound: per channel the smaller of its bus rate and what its dies sense
        (``ways x planes`` pages per ``tR + planes x transfer``, a die holding its page register until the data
        is out)."""
        per_die = self.planes * self.page_bytes / ((self.read_ps + self.planes * self.xfer_ps) / PS_PER_S)
        per_bus = self.page_bytes / (self.xfer_ps / PS_PER_S)  # the rounded transfer time the models use
        return self.channels * min(per_bus, self.ways * per_die)

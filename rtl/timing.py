"""The single source of the RTL units' latency and throughput, read by the testbenches and the cycle models.

Each entry is what the Amaranth design in this package does, cycle for cycle; the RTL tests measure the design
and assert it equals these numbers, and the cycle models use the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral


@dataclass(frozen=True)
class UnitTiming:
    latency_cycles: int          # from an input beat to its effect on the output registers
    initiation_interval_cycles: int  # cycles between accepted input beats
    doc: str


LUT_DOT_UNIT = UnitTiming(
    latency_cycles=2, initiation_interval_cycles=1,
    doc="one weight bit plane per cycle: mux + conditional negate + shift (stage 1), accumulate (stage 2); "
        "an lmma of W_BIT-bit weights therefore issues every W_BIT cycles",
)


def lmma_cycles(weight_bits: int) -> int:
    """Cycles one LUT array spends on one ``lmma`` instruction: one bit plane per initiation interval.
    ``weight_bits`` must be a positive int (TypeError / ValueError otherwise)."""
    if isinstance(weight_bits, bool) or not isinstance(weight_bits, Integral):
        raise TypeError(f"lmma_cycles: weight_bits must be an int, got {type(weight_bits).__name__} {weight_bits!r}")
    if weight_bits < 1:
        raise ValueError(f"lmma_cycles: weight_bits must be a positive int (bits per weight), got {weight_bits}")
    return int(weight_bits) * LUT_DOT_UNIT.initiation_interval_cycles

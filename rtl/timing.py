"""The single source of the RTL units' latency and throughput, read by the testbenches and the cycle models.

Each entry is what the Amaranth design in this package does, cycle for cycle; the RTL tests measure the design
and assert it equals these numbers, and the cycle models use the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass


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
    """Cycles one LUT array spends on one ``lmma`` instruction: one bit plane per initiation interval."""
    return weight_bits * LUT_DOT_UNIT.initiation_interval_cycles

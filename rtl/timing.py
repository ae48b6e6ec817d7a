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
    """Cycles one LUT array (:class:`archsim.rtl.lut_unit.LutArray`) spends on one ``lmma`` instruction: one
    weight bit plane per initiation interval. The LUT Tensor Core cycle model calls this.
    ``weight_bits`` must be a positive int (TypeError / ValueError otherwise)."""
    if isinstance(weight_bits, bool) or not isinstance(weight_bits, Integral):
        raise TypeError(f"lmma_cycles: weight_bits must be an int, got {type(weight_bits).__name__} {weight_bits!r}")
    if weight_bits < 1:
        raise ValueError(f"lmma_cycles: weight_bits must be a positive int (bits per weight), got {weight_bits}")
    return int(weight_bits) * LUT_ARRAY.initiation_interval_cycles


def _log2_exact(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 1 or value & (value - 1):
        raise ValueError(f"{name} must be a power of two, got {value!r}")
    return int(value).bit_length() - 1


def pim_bank_mac_timing(lanes: int = 16) -> UnitTiming:
    """The PIM bank MAC unit (:mod:`archsim.rtl.pim_mac`): 1 multiply stage, log2(lanes) adder-tree stages, 1
    accumulate stage; a command (MAC, WR_BIAS, RD_MAC) may enter every cycle."""
    depth = _log2_exact("lanes", lanes)
    return UnitTiming(latency_cycles=2 + depth, initiation_interval_cycles=1,
                      doc=f"bf16 multiply (1) + {depth}-level fp32 adder tree ({depth}) + fp32 accumulate (1); "
                          "RD_MAC's result appears latency cycles after it is issued")


PIM_BANK_MAC = pim_bank_mac_timing(16)


def lut_array_timing() -> UnitTiming:
    """The LUT tensor-core array (:mod:`archsim.rtl.lut_array`), any M x N tile: table precompute and latch (1),
    8:1 lookup + conditional negate + shift (1), accumulate (1); one weight bit plane per cycle."""
    return UnitTiming(latency_cycles=3, initiation_interval_cycles=1,
                      doc="table precompute/latch (1) + lookup, negate, shift (1) + accumulate (1); an lmma of "
                          "W_BIT-bit weights issues every W_BIT cycles")


LUT_ARRAY = lut_array_timing()


def hash_grid_timing(dims: int = 3) -> UnitTiming:
    """The hash-grid encoding engine (:mod:`archsim.rtl.hashgrid`), fully pipelined: position scale and split (1),
    corner index and weights (1), table SRAM read (1), weighted sum, round, saturate (1); one query per cycle,
    for 2 or 3 dimensions alike (the 2^D corners are computed side by side)."""
    if dims not in (2, 3):
        raise ValueError(f"dims must be 2 or 3, got {dims!r}")
    return UnitTiming(latency_cycles=4, initiation_interval_cycles=1,
                      doc="pos_fract (1) + grid_index and interpol_weights (1) + grid_sram read (1) + weighted "
                          "feature sum (1); one query per cycle")


HASH_GRID = hash_grid_timing(3)


def attention_timing(head_dim: int = 128) -> UnitTiming:
    """The attention engine core (:mod:`archsim.rtl.attention`): q.k products (1), a log2(head_dim)-level adder
    tree, the score scaling into the base-2 exponent domain (1), the online-softmax update of the running max,
    sum and V accumulators (1); one key/value row per cycle."""
    depth = _log2_exact("head_dim", head_dim)
    return UnitTiming(latency_cycles=3 + depth, initiation_interval_cycles=1,
                      doc=f"q.k multiply (1) + {depth}-level adder tree ({depth}) + score scale (1) + online "
                          "softmax / V accumulate (1); one key and value row per cycle")


ATTENTION = attention_timing(128)

"""Number formats the hardware uses, emulated in numpy: bf16 storage, fp32 arithmetic.

``to_bf16`` rounds float32 values to bfloat16 (round to nearest, ties to even; NaN stays NaN) and returns them
as float32 so ordinary numpy arithmetic continues in fp32, which is what a bf16 datapath with fp32
accumulation does.
"""

from __future__ import annotations

import numpy as np


def to_bf16(x) -> np.ndarray:
    """Round to bfloat16 (RNE), returned as float32."""
    a = np.asarray(x, dtype=np.float32)
    bits = a.view(np.uint32).astype(np.uint64)
    rounding = ((bits >> 16) & 1) + 0x7FFF
    out = ((bits + rounding) >> 16 << 16).astype(np.uint32).view(np.float32)
    return np.where(np.isnan(a), a, out).astype(np.float32)


def fp32(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float32)


#: Storage width of every known dtype, in bits (workloads size tensors with it, the tensor-core model its
#: datapaths; it lives here so the simulator needs no workload module).
DTYPE_BITS: dict[str, int] = {
    "fp64": 64, "fp32": 32, "fp16": 16, "bf16": 16, "fp8_e4m3": 8, "fp8_e5m2": 8,
    "int32": 32, "int16": 16,
    **{f"int{b}": b for b in range(1, 9)},
    **{f"uint{b}": b for b in range(1, 9)},
}

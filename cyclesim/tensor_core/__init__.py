"""Tile-level, cycle-accurate model of tensor-core GPUs (LUT Tensor Core and MAC tensor cores).

* :mod:`~cyclesim.tensor_core.machine`: the machine, GEMM, tiling and datapath as plain frozen data;
* :mod:`~cyclesim.tensor_core.pipeline`: the per-SM tile pipeline of a GEMM kernel on the event kernel
  (global->shared loads, table precompute / dequantization, table broadcast, bit-serial ``lmma`` issue,
  accumulate, store; double buffering; HBM, L2, shared-memory and register limits);
* :mod:`~cyclesim.tensor_core.kernels`: streaming kernels and fused attention as rooflines;
* :mod:`~cyclesim.tensor_core.functional`: executes a tiling numerically with the bit-exact LUT reference.
"""

from cyclesim.tensor_core.machine import Datapath, Gemm, GemmTiming, Machine, Tiling, datapath
from cyclesim.tensor_core.pipeline import estimate_cycles, plan_block, simulate_gemm

__all__ = ["Datapath", "Gemm", "GemmTiming", "Machine", "Tiling", "datapath", "estimate_cycles", "plan_block",
           "simulate_gemm"]

"""Tile-level, cycle-accurate model of tensor-core GPUs (LUT Tensor Core and MAC tensor cores).

* :mod:`~archsim.cyclesim.tensor_core.machine`: the machine, GEMM, tiling and datapath as plain frozen data;
* :mod:`~archsim.cyclesim.tensor_core.pipeline`: the per-SM tile pipeline of a GEMM kernel on the event kernel
  (global->shared loads, table precompute / dequantization, table broadcast, bit-serial ``lmma`` issue,
  accumulate, store; double buffering; HBM, L2, shared-memory and register limits);
* :mod:`~archsim.cyclesim.tensor_core.kernels`: streaming kernels and fused attention as rooflines;
"""

from archsim.cyclesim.tensor_core.machine import Datapath, Gemm, GemmTiming, Machine, Tiling, datapath
from archsim.cyclesim.tensor_core.pipeline import estimate_cycles, plan_block, simulate_gemm

__all__ = ["Datapath", "Gemm", "GemmTiming", "Machine", "Tiling", "datapath", "estimate_cycles", "plan_block",
           "simulate_gemm"]

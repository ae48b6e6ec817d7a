"""Engine model of a tensor-core GPU at the tile level (impls ``LutTensorCoreGPU`` and ``MacTensorCoreGPU``).

One command is one kernel on the GPU's single stream. GEMM commands (``lut_gemm``, ``mac_gemm``,
``dense_gemm``) carry the GEMM and the mapper's tiling as plain values; their cycles come from the per-SM tile
pipeline simulation (:func:`archsim.cyclesim.tensor_core.pipeline.simulate_gemm`). Fused attention and streaming kernels
(norms, element-wise, softmax, table precompute) use the rooflines of :mod:`archsim.cyclesim.tensor_core.kernels`.
Every kernel with ``kernels`` > 0 pays ``kernel_overhead_us`` per launch.

Dynamic energy: LUT array-cycles x the array's energy per cycle for the activation format, MACs x energy per MAC
(padding included: the hardware does the work), and HBM bytes x energy per bit. Results are memoized by
``(op, work)``; the model holds no state between commands.
"""

from __future__ import annotations

import math
from typing import Any

from archsim.base.errors import SimulationError
from archsim.cyclesim.engines import EngineModel, engine_model
from archsim.cyclesim.tensor_core.kernels import fused_attention_cycles, fused_attention_macs, stream_cycles
from archsim.cyclesim.tensor_core.machine import Gemm, Machine, Tiling
from archsim.cyclesim.tensor_core.pipeline import simulate_gemm

GEMM_OPS = ("lut_gemm", "mac_gemm", "dense_gemm")
GEMM_FIELDS = ("M", "N", "K", "path", "a_format", "w_format", "out_format", "batch", "tables")
TILING_FIELDS = ("bm", "bn", "bk", "wm", "wn", "stages", "split_k")


def gemm_of(work: dict[str, Any]) -> tuple[Gemm, Tiling]:
    missing = [k for k in ("M", "N", "K", "path", "bm", "bn", "bk", "wm", "wn") if k not in work]
    if missing:
        raise SimulationError(f"a GEMM command needs {missing[0]!r} in its work")
    g = Gemm(**{k: work[k] for k in GEMM_FIELDS if k in work})
    t = Tiling(**{k: work[k] for k in TILING_FIELDS if k in work})
    return g, t


@engine_model("LutTensorCoreGPU", "MacTensorCoreGPU")
class TensorCoreGpuModel(EngineModel):
    def __init__(self, name: str, impl: str, params: dict[str, Any]):
        super().__init__(name, impl, params)
        self.machine = Machine.from_params(impl, params)
        self.overhead_cycles = math.ceil(params["kernel_overhead_us"] * params["freq_mhz"])
        self._memo: dict[tuple, tuple[int, float]] = {}

    def cost(self, op: str, work: dict[str, Any]) -> tuple[int, float]:
        key = (op, tuple(sorted(work.items())))
        hit = self._memo.get(key)
        if hit is None:
            hit = self._memo[key] = self._cost(op, work)
        return hit

    def _cost(self, op: str, work: dict[str, Any]) -> tuple[int, float]:
        m = self.machine
        launches = work.get("kernels", 1)
        if op in GEMM_OPS:
            g, t = gemm_of(work)
            if f"{g.path}_gemm" != op:
                raise SimulationError(f"command {op!r} carries a GEMM on path {g.path!r}")
            timing = simulate_gemm(m, g, t)
            cycles, pj = timing.cycles, sum(timing.energy_pj.values())
        elif op == "attention":
            cycles = fused_attention_cycles(m, work)
            pj = fused_attention_macs(work) * m.fp16_pj_per_mac + work["bytes"] * 8 * m.hbm_pj_per_bit
        else:
            cycles = stream_cycles(m, work)
            pj = work.get("bytes", 0) * 8 * m.hbm_pj_per_bit
        return max(1, cycles + launches * self.overhead_cycles), pj

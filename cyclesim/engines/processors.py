"""GPU and CPU baselines as kernel-level engines: per-kernel overhead plus a roofline of compute and memory.

Each command is one kernel (GPU) or operator (CPU): ``cycles = overhead + max(flops / peak, bytes / (bw x
achieved fraction))``, converted to the engine clock and rounded up. Dynamic energy is the board power above
idle for the kernel's duration; idle power is static. These are the baselines' models, with every parameter
taken from the spec (and its cited source), never fitted to a paper's speedup.
"""

from __future__ import annotations

import math
from typing import Any

from archsim.cyclesim.engines import EngineModel, engine_model

PEAK_KEYS = {  # the compute peak a kernel uses, by its math dtype
    "fp16": "fp16_tensor_tflops", "bf16": "fp16_tensor_tflops", "int8": "int8_tensor_tops",
    "fp8_e4m3": "fp8_tensor_tflops", "fp32": "fp32_tflops",
}


@engine_model("GPU")
class GpuKernelModel(EngineModel):
    @property
    def static_mw(self) -> float:
        return self.params["idle_power_w"] * 1e3

    def seconds(self, work: dict[str, Any]) -> float:
        p = self.params
        flops = work.get("flops", 0)
        peak_key = PEAK_KEYS.get(work.get("math", "fp16"), "fp16_tensor_tflops")
        # non-GEMM kernels (softmax, norms) run on the CUDA cores
        peak = p[peak_key] if work.get("tensor", True) else p["fp32_tflops"]
        if not peak:
            peak = p["fp32_tflops"]
        t_compute = flops / (peak * 1e12)
        t_memory = work.get("bytes", 0) / (p["memory_bw_gb_per_s"] * 1e9 * p["achieved_bw_fraction"])
        return p["kernel_overhead_us"] * 1e-6 * work.get("kernels", 1) + max(t_compute, t_memory)

    def cost(self, op: str, work: dict[str, Any]) -> tuple[int, float]:
        s = self.seconds(work)
        cycles = max(1, math.ceil(s * self.clock_mhz * 1e6))
        busy_w = self.params["board_power_w"] - self.params["idle_power_w"]
        return cycles, busy_w * s * 1e12


@engine_model("CPU")
class CpuOperatorModel(EngineModel):
    @property
    def static_mw(self) -> float:
        return 0.0  # the CPU is charged its TDP while busy (see cost); no idle term in the baseline

    def cost(self, op: str, work: dict[str, Any]) -> tuple[int, float]:
        p = self.params
        peak = p["cores"] * p["freq_mhz"] * 1e6 * p["fp32_flops_per_cycle"]
        t = max(work.get("flops", 0) / peak,
                work.get("bytes", 0) / (p["memory_bw_gb_per_s"] * 1e9 * p["achieved_bw_fraction"]))
        s = p["op_overhead_us"] * 1e-6 * work.get("kernels", 1) + t
        return max(1, math.ceil(s * self.clock_mhz * 1e6)), p["tdp_w"] * s * 1e12

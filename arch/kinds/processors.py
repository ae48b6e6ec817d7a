"""Processor kinds used as baselines and hosts: GPUs and CPUs as parameter sets."""

from archsim.arch.registry import register_kind
from archsim.arch.schema import Param, choice, count, nonneg, number, text

# The GPU kind is a roofline (cyclesim/engines/processors.py): it reads the chip's peak figures, not its SM or
# tensor-core counts or cache sizes, so those are not parameters (a sweep over them would be silently flat); the tile-level
# tensor-core kinds (arch/kinds/tensor_core.py) model SMs and tensor cores.
register_kind("GPU", "A GPU as a parameter set: peak compute, memory system, power, software overheads.", {
    "model": text("marketing name"),
    "freq_mhz": number("SM clock used for peak figures"),
    "fp16_tensor_tflops": number("dense FP16 tensor-core peak"),
    "int8_tensor_tops": nonneg("dense INT8 tensor-core peak (0: not supported)", default=0.0),
    "fp8_tensor_tflops": nonneg("dense FP8 tensor-core peak (0: not supported)", default=0.0),
    "fp32_tflops": number("FP32 CUDA-core peak"),
    "memory_bytes": count("device memory capacity"),
    "memory_bw_gb_per_s": number("peak device-memory bandwidth"),
    "board_power_w": number("board power limit (TDP)"),
    "idle_power_w": nonneg("board power when idle", default=0.0),
    "achieved_bw_fraction": number("fraction of peak bandwidth a memory-bound kernel reaches", max=1.0,
                                   default=0.8),
    "kernel_overhead_us": nonneg("fixed time per launched kernel (launch + framework dispatch)", default=5.0),
    "kernels_per_op": Param("dict", "kernels the framework launches per workload op kind, overriding "
                            "mapper.processors.KERNELS_PER_OP (e.g. {gelu: 8})", default={}),
    "framework_dtype": choice("data type the framework runs in: 'model' (the workload's) or 'fp32' (every "
                              "tensor in fp32, math on the FP32 peak)", ("model", "fp32"), default="model"),
}, children=False)

register_kind("CPU", "A CPU as a parameter set: cores, vector width, memory system, power.", {
    "model": text("marketing name"),
    "cores": count("physical cores"),
    "freq_mhz": number("sustained all-core frequency"),
    "fp32_flops_per_cycle": count("FP32 FLOPs per core per cycle (FMA units x lanes x 2)"),
    "memory_channels": count("DRAM channels"),
    "memory_bw_gb_per_s": number("peak DRAM bandwidth"),
    "llc_bytes": count("last-level cache"),
    "tdp_w": number("thermal design power"),
    "achieved_bw_fraction": number("fraction of peak bandwidth a GEMV reaches", max=1.0, default=0.7),
    "op_overhead_us": nonneg("fixed time per operator (framework dispatch)", default=10.0),
}, children=False)

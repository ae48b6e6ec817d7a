"""The GPU baseline models against public measurements, independent of the PIM-GPT and LUT Tensor Core papers.

Each check names its source and tolerance. Where a what-if variant derives a parameter from the same
measurement, the test recomputes the derivation (so the YAML's number cannot drift from its stated source);
where the shipped model misses the measurement, the test states by how much it may.
"""

from __future__ import annotations

import pytest

from archsim import arch, workloads
import archsim
from archsim.cyclesim.tensor_core import Gemm, Machine, simulate_gemm
from archsim.mapper.tensor_core_search import search

# stas00/ml-engineering, compute/accelerator/README.md, "Maximum Achievable Matmul FLOPS comparison table":
# NVIDIA A100 SXM, BF16 matmul (A100's BF16 and FP16 tensor rates are equal), 267.9 of 312 TFLOPS = 85.9%, best
# shape 6912x16384x2048, CUDA 12.1.
MAMF_SHAPE = (6912, 16384, 2048)
MAMF_EFFICIENCY = 267.9 / 312

# microsoft.github.io/batch-inference, examples/gpt_completion ("Baseline"): Hugging Face GPT-2 small, fp32,
# KV cache, batch 1, greedy, on a V100: 100 queries x 64 tokens = 6,400 model calls in 78.04 s.
HF_GPT2_V100_S_PER_TOKEN = 78.04 / 6400
# NVIDIA V100 datasheet (SXM2): 900 GB/s HBM2, 15.7 TFLOPS FP32, 125 TFLOPS tensor
V100 = {"gpu.memory_bw_gb_per_s": 900.0, "gpu.fp32_tflops": 15.7, "gpu.fp16_tensor_tflops": 125.0}


def _mamf_efficiency(spec_name: str) -> float:
    m = Machine.from_spec(arch.load(spec_name))
    g = Gemm(*MAMF_SHAPE, "mac", "fp16", "fp16")
    t = simulate_gemm(m, g, search(m, g).tiling)
    return t.ops_per_s(m) / m.peak_ops_per_s("mac")


def test_a100_fp16_gemm_efficiency_against_the_public_matmul_measurement():
    """The shipped tile model has no instruction-issue or scheduling losses: on the measured best shape it runs
    above the measured 85.9%, by at most 15 points (tolerance); the variant that takes the measurement in
    reproduces it within half a point (its mma_issue_fraction is 0.859 over the shipped efficiency)."""
    shipped = _mamf_efficiency("a100_fp16_tc")
    assert MAMF_EFFICIENCY < shipped <= MAMF_EFFICIENCY + 0.15
    assert _mamf_efficiency("a100_fp16_tc_mamf") == pytest.approx(MAMF_EFFICIENCY, abs=0.005)
    frac = arch.load("a100_fp16_tc_mamf")["gpu.mma_issue_fraction"]
    assert frac == pytest.approx(MAMF_EFFICIENCY / shipped, abs=0.001)


def _gpt2_small_v100(spec, overhead_us: float | None = None) -> float:
    sets = dict(V100)
    if overhead_us is not None:
        sets["gpu.kernel_overhead_us"] = overhead_us
    w = workloads.model("gpt2-small").decode(prompt=64, tokens=1)
    return archsim.simulate(spec.with_overrides(sets), w).seconds


def test_hf_gpt2_decode_per_token_time_against_the_public_measurement():
    """The eager-HF baseline (fp32, HF kernel counts, 36 us per kernel) on V100 datasheet figures reproduces the
    measured 12.19 ms per token within 2% (the per-kernel time is derived from it; this recomputes the
    derivation: (measured - roofline) / kernels per token). The shipped T4 model (fp16, 17 kernels per layer,
    10 us) on the same figures predicts under a third of the measurement: that is the gap the ladder's T4 rungs
    close."""
    hf = arch.load("t4_hf_kernels").with_overrides({"gpu.framework_dtype": "fp32", "gpu.kernel_overhead_us": 36.0})
    roof, per_us = _gpt2_small_v100(hf, 0.0), _gpt2_small_v100(hf, 1.0)
    kernels = round((per_us - roof) / 1e-6)
    derived = (HF_GPT2_V100_S_PER_TOKEN - roof) / kernels * 1e6
    assert arch.load("t4_hf_overhead")["gpu.kernel_overhead_us"] == pytest.approx(derived, abs=0.05)
    assert _gpt2_small_v100(hf) == pytest.approx(HF_GPT2_V100_S_PER_TOKEN, rel=0.02)
    assert kernels == 12 * 26 + 7  # 26 per layer: ln x2, addmm x4, KV cat x2, attention 8, GELU 8, residual x2
    assert _gpt2_small_v100(arch.load("t4")) < HF_GPT2_V100_S_PER_TOKEN / 3

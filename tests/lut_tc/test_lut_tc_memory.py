"""Acceptance: a memory-bound GEMV runs at the HBM bandwidth it is given; the memory system is never exceeded."""

from __future__ import annotations

import pytest

from archsim import arch
from archsim.cyclesim.tensor_core import Gemm, Machine, simulate_gemm
from archsim.cyclesim.tensor_core.kernels import stream_cycles
from archsim.mapper.tensor_core_search import search


def achieved_gb_per_s(m: Machine, g: Gemm) -> tuple[float, float]:
    t = simulate_gemm(m, g, search(m, g).tiling)
    return t.dram_bytes / t.seconds(m) / 1e9, m.hbm_bw_gb_per_s * m.hbm_efficiency


@pytest.mark.parametrize("spec, overrides", [
    ("lut_tensor_core", {}),
    ("lut_tensor_core", {"gpu.hbm_bw_gb_per_s": 1000.0, "gpu.hbm_efficiency_fraction": 1.0}),
    ("a100_lut_8x", {"gpu.hbm_bw_gb_per_s": 4000.0}),
    ("h100_lut_8x", {}),
])
def test_memory_bound_gemv_runs_at_the_given_hbm_bandwidth(spec, overrides):
    m = Machine.from_spec(arch.load(spec, set=overrides))
    got, given = achieved_gb_per_s(m, Gemm(1, 28672, 8192, "lut", "int8", "uint4"))
    assert 0.95 * given <= got <= given


@pytest.mark.parametrize("spec, g", [
    ("a100_fp16_tc", Gemm(1, 11008, 4096, "mac", "fp16", "fp16")),
    ("a100_int8_tc", Gemm(1, 28672, 8192, "mac", "int8", "int2")),
])
def test_mac_gemv_is_memory_bound_too(spec, g):
    m = Machine.from_spec(arch.load(spec))
    got, given = achieved_gb_per_s(m, g)
    assert 0.9 * given <= got <= given


@pytest.mark.parametrize("shape", [(1, 4096, 4096), (16, 12288, 4096), (1024, 9600, 3200), (4096, 4096, 11008)])
def test_hbm_and_l2_are_never_exceeded(shape):
    m = Machine.from_spec(arch.load("a100_lut_8x"))
    g = Gemm(*shape, "lut", "int8", "int2")
    t = simulate_gemm(m, g, search(m, g).tiling)
    assert t.dram_bytes / t.cycles <= m.hbm_bytes_per_cycle * (1 + 1e-9)
    assert t.l2_bytes / t.cycles <= m.l2_bw_bytes_per_cycle * (1 + 1e-9)


def test_streaming_kernel_runs_at_sustained_bandwidth():
    m = Machine.from_spec(arch.load("lut_tensor_core"))
    nbytes = 1 << 30
    cycles = stream_cycles(m, {"bytes": nbytes, "ops": 0})
    assert nbytes / ((cycles - m.dram_latency_cycles) / m.hz) == pytest.approx(2039e9 * 0.85, rel=1e-5)

"""Acceptance: the cycle model's peak equals the analytic peak for every configuration."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import pytest

from archsim import arch
from archsim.cyclesim.tensor_core import Gemm, Machine, Tiling, simulate_gemm
from archsim.cyclesim.tensor_core.pipeline import measured_peak_ops_per_s
from archsim.mapper.tensor_core_search import search

CONFIGS = ("a100_fp16_tc", "a100_int8_tc", "lut_tensor_core", "a100_lut_8x", "h100_fp8_tc", "h100_lut_4x",
           "h100_lut_8x")


def machine(name: str) -> Machine:
    return Machine.from_spec(arch.load(name))


def f_hz(m: Machine) -> Fraction:
    return Fraction(str(m.freq_mhz)) * 10**6


@pytest.mark.parametrize("name", CONFIGS)
def test_cycle_model_peak_equals_the_formula_exactly(name):
    m = machine(name)
    if m.is_lut:
        for w in (1, 2, 3, 4):
            formula = m.sms * 4 * Fraction(m.arrays_per_tc * 512, w) * 2 * f_hz(m)  # N_SM x 4 x (X 512/W) x 2 x f
            assert measured_peak_ops_per_s(m, "lut", w) == formula, (name, w)
    else:
        assert measured_peak_ops_per_s(m, "mac") == m.sms * 4 * m.macs_per_tc_per_cycle * 2 * f_hz(m)
    assert measured_peak_ops_per_s(m, "dense") == m.sms * m.fp16_macs_per_cycle * 2 * f_hz(m)


@pytest.mark.parametrize("name, path, a, w", [("lut_tensor_core", "lut", "int8", "int2"),
                                               ("a100_fp16_tc", "mac", "fp16", "fp16"),
                                               ("h100_lut_4x", "lut", "fp8_e4m3", "uint4")])
def test_large_gemm_approaches_but_never_exceeds_peak(name, path, a, w):
    m = machine(name)
    g = Gemm(4096, 12288, 12288, path, a, w)
    t = simulate_gemm(m, g, search(m, g).tiling)
    frac = t.ops_per_s(m) / m.peak_ops_per_s(path, g.w_bits)
    assert 0.7 < frac <= 1.0


def test_bit_serial_cycles_scale_with_weight_bits_when_compute_bound():
    m = replace(machine("lut_tensor_core"), l2_bw_bytes_per_cycle=1e9, hbm_bw_gb_per_s=1e12,
                smem_bw_bytes_per_cycle=1e9)  # with the real 128 B/clk the W1 table broadcast binds first
    t = Tiling(64, 256, 64, 2, 2, 3)
    c = {w: simulate_gemm(m, Gemm(2048, 4096, 4096, "lut", "int8", f"uint{w}"), t).cycles for w in (1, 2, 4)}
    assert c[4] / c[2] == pytest.approx(2.0, rel=0.03)
    assert c[2] / c[1] == pytest.approx(2.0, rel=0.05)


def test_more_arrays_help_only_until_memory_binds():
    base = machine("lut_tensor_core")
    g = Gemm(2048, 8192, 8192, "lut", "int8", "int2")
    free = replace(base, l2_bw_bytes_per_cycle=1e9, hbm_bw_gb_per_s=1e12, smem_bw_bytes_per_cycle=1e9)
    x4 = simulate_gemm(free, g, search(free, g).tiling).cycles
    free8 = replace(free, arrays_per_tc=8)
    x8 = simulate_gemm(free8, g, search(free8, g).tiling).cycles
    assert x4 / x8 == pytest.approx(2.0, rel=0.1)
    real8 = machine("a100_lut_8x")
    assert simulate_gemm(real8, g, search(real8, g).tiling).cycles > x8 * 1.2  # L2 binds the 8X arrays

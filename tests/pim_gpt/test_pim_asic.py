"""The PIM-GPT ASIC: bf16 rounding, the iterative non-linear units' accuracy, and the cycle formulas."""

import math

import numpy as np
import pytest

from archsim import arch
from archsim.cyclesim.engines import model_for
from archsim.cyclesim.engines.pim_asic import (asic_cycles, asic_exp, asic_gelu, asic_layernorm, asic_reciprocal,
                                       asic_rsqrt, asic_softmax)
from archsim.base.numerics import to_bf16

P = arch.load("pim_gpt").component("asic").params


def test_bf16_rounding_is_nearest_even():
    one = np.float32(1.0)
    ulp = np.float32(2.0 ** -7)  # bf16 spacing at 1.0
    assert to_bf16(one + ulp / 2) == one  # tie -> even (1.0)
    assert to_bf16(one + ulp + ulp / 2) == one + 2 * ulp  # tie -> even (upper)
    assert to_bf16(one + ulp * np.float32(0.51)) == one + ulp
    assert to_bf16(np.float32(3.0e38)) == np.float32(np.inf) or to_bf16(np.float32(3.0e38)) > 3.0e38
    assert np.isnan(to_bf16(np.float32(np.nan)))
    x = np.random.default_rng(0).standard_normal(10000).astype(np.float32)
    y = to_bf16(x)
    assert np.all(y.view(np.uint32) & 0xFFFF == 0)
    assert np.max(np.abs(y - x) / np.abs(x)) <= 2.0 ** -8


def test_nonlinear_units_accuracy():
    x = np.linspace(-20, 5, 2001, dtype=np.float32)
    # fp32 range reduction with a single-precision ln2 costs ~k ulps: about 1e-6 at x = -20
    assert np.max(np.abs(asic_exp(x, 8) / np.exp(x.astype(np.float64)) - 1)) < 3e-6
    assert np.max(np.abs(asic_exp(x, 4) / np.exp(x.astype(np.float64)) - 1)) > 1e-4  # terms matter
    v = np.geomspace(1e-3, 1e4, 500).astype(np.float32)
    rel_recip = np.max(np.abs(asic_reciprocal(v, 2) * v - 1))
    assert 1e-7 < rel_recip < 5e-4  # two NR steps from a ~12% seed: ~1e-4, not exact
    assert np.max(np.abs(asic_reciprocal(v, 3) * v - 1)) < 1e-6
    assert np.max(np.abs(asic_rsqrt(v, 2) * np.sqrt(v) - 1)) < 1e-5
    # fewer iterations must be measurably worse: the iteration count is really used
    assert np.max(np.abs(asic_rsqrt(v, 0) * np.sqrt(v) - 1)) > 1e-2


def test_softmax_layernorm_gelu_against_float64():
    rng = np.random.default_rng(1)
    s = rng.standard_normal((4, 300)) * 4
    ref = np.exp(s - s.max(-1, keepdims=True))
    ref /= ref.sum(-1, keepdims=True)
    assert np.max(np.abs(asic_softmax(s, P) - ref)) < 4e-3
    x = rng.standard_normal((3, 1600)) * 3 + 1
    g, b = rng.standard_normal(1600), rng.standard_normal(1600)
    ref = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5) * g + b
    assert np.max(np.abs(asic_layernorm(x, g, b, P) - ref)) < 0.05
    z = np.linspace(-6, 6, 1001)
    ref = 0.5 * z * (1 + np.tanh(math.sqrt(2 / math.pi) * (z + 0.044715 * z ** 3)))
    assert np.max(np.abs(asic_gelu(z, P) - ref)) < 0.03


def test_cycle_formulas():
    lanes, D, T = P["vector_lanes"], P["pipeline_depth_cycles"], P["exp_taylor_terms"]
    n = 1600
    Pn = math.ceil(n / lanes)
    R = math.ceil(math.log2(P["reduction_lanes"]))
    assert asic_cycles("add", {"n": n}, P)[0] == Pn + D
    assert asic_cycles("layernorm", {"n": n}, P)[0] == 5 * Pn + 2 * R + (3 * P["rsqrt_nr_iterations"] + 1) * D + D
    rows = 25
    assert asic_cycles("softmax", {"n": 100, "rows": rows}, P)[0] == rows * (
        (T + 5) * math.ceil(100 / lanes) + 2 * R + (2 * P["recip_nr_iterations"] + 1) * D) + D
    assert asic_cycles("reduce", {"n": n, "parts": 1}, P)[0] == 0
    slow = dict(P, freq_mhz=100.0)
    fast_model = model_for("asic", "PimAsic", P)
    slow_model = model_for("asic", "PimAsic", slow)
    assert fast_model.cost("gelu", {"n": 6400}) == slow_model.cost("gelu", {"n": 6400})  # cycles, not seconds
    with pytest.raises(Exception, match="cannot execute op 'conv'"):
        fast_model.cost("conv", {"n": 1})

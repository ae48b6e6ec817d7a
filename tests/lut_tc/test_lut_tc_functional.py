"""Acceptance: a mapped tiling, executed tile by tile with the bit-exact LUT reference, equals dequant_matmul
bit for bit (integer activations) and computes every (m, n, k) product exactly once."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archsim import arch
from archsim.base.errors import SimulationError
from archsim.cyclesim.tensor_core import Gemm, Machine, Tiling, datapath
from archsim.mapper.tensor_core_cosim import execute_tiling
from archsim.mapper.tensor_core_search import enumerate_tilings, fits, search
from archsim.workloads.lut_gemm import WeightFormat, dequant_matmul

MACHINES = {n: Machine.from_spec(arch.load(n)) for n in ("lut_tensor_core", "a100_lut_8x")}
FORMATS = ("uint1", "uint2", "uint3", "uint4", "int2", "int4", "binary", "ternary")
STORAGE = {"binary": "int1", "ternary": "int2"}


def operands(rng, M, N, K, fmt, act):
    lo, hi = {"int8": (-128, 127), "int16": (-32768, 32767)}[act]
    A = rng.integers(lo, hi + 1, (M, K))
    wf = WeightFormat.parse(fmt)
    clo, chi = wf.code_range
    codes = rng.integers(clo, chi + 1, (K, N))
    if wf.kind == "binary":
        codes = np.where(codes == 0, 1, codes)
    scale = rng.uniform(1e-3, 2.0, N)
    zero = None if wf.kind in ("binary", "ternary") else rng.integers(clo, chi + 1, N)
    return A, codes, scale, zero


def check(machine, M, N, K, fmt, act, tiling, seed, granularity="warp"):
    rng = np.random.default_rng(seed)
    A, codes, scale, zero = operands(rng, M, N, K, fmt, act)
    g = Gemm(M, N, K, "lut", act, STORAGE.get(fmt, fmt))
    res = execute_tiling(A, codes, scale, zero, fmt, act, tiling, datapath(machine, "lut", g.w_bits),
                         granularity=granularity)
    ref = dequant_matmul(A, codes, scale, zero, fmt, act)
    assert np.array_equal(res.out, ref)  # bit for bit
    assert res.coverage.min() == 1 and res.coverage.max() == 1


@settings(max_examples=25, deadline=None)
@given(M=st.integers(1, 40), N=st.integers(1, 300), K=st.integers(1, 120), fmt=st.sampled_from(FORMATS),
       act=st.sampled_from(("int8", "int16")), spec=st.sampled_from(sorted(MACHINES)), seed=st.integers(0, 2**16))
def test_searched_tiling_is_bit_exact(M, N, K, fmt, act, spec, seed):
    m = MACHINES[spec]
    g = Gemm(M, N, K, "lut", act, STORAGE.get(fmt, fmt))
    check(m, M, N, K, fmt, act, search(m, g).tiling, seed)


@settings(max_examples=25, deadline=None)
@given(M=st.integers(1, 24), N=st.integers(1, 200), K=st.integers(1, 96), fmt=st.sampled_from(FORMATS),
       pick=st.integers(0, 10**9), seed=st.integers(0, 2**16))
def test_any_enumerated_tiling_is_bit_exact(M, N, K, fmt, pick, seed):
    m = MACHINES["lut_tensor_core"]
    g = Gemm(M, N, K, "lut", "int8", STORAGE.get(fmt, fmt))
    tilings = [t for t in enumerate_tilings(m, g) if t.bm <= 64 and t.bn <= 256]
    check(m, M, N, K, fmt, "int8", tilings[pick % len(tilings)], seed)


def test_instruction_granularity_with_split_k():
    m = MACHINES["a100_lut_8x"]
    t = Tiling(32, 128, 32, 2, 2, 2, split_k=3)
    assert fits(m, Gemm(20, 150, 70, "lut", "int8", "uint3"), t)
    check(m, 20, 150, 70, "uint3", "int8", t, 7, granularity="instruction")


def test_float_activations_are_refused():
    with pytest.raises(SimulationError, match="integer activations"):
        execute_tiling(np.ones((2, 4)), np.ones((4, 2), dtype=int), 1.0, 0, "uint2", "fp16", Tiling(8, 64, 32, 1, 1))

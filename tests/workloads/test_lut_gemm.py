"""Tests of the bit-exact LUT mpGEMM reference (workloads/lut_gemm.py) against independent computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archsim.base.errors import WorkloadError
from archsim.workloads.lut_gemm import (
    WeightFormat,
    bit_planes,
    dequant_matmul,
    encode_weights,
    error_stats,
    lut_lookup,
    lut_mpgemm,
    lut_op_counts,
    precompute_tables,
    quantize,
    quantize_tables,
    round_fp8_e4m3,
    table_quant_error,
)

FAST = settings(max_examples=150, deadline=None)
THOROUGH = settings(max_examples=400, deadline=None)
INT_RANGE = {"int8": (-128, 127), "int16": (-32768, 32767)}


# ------------------------------------------------------------------------------------------------ generators


def weight_format(kind: str, bits: int) -> str:
    return kind if kind in ("binary", "ternary") else f"{kind}{bits}"


def random_codes(rng, fmt: str, K: int, N: int) -> np.ndarray:
    if fmt == "binary":
        return rng.choice([-1, 1], size=(K, N))
    if fmt == "ternary":
        return rng.integers(-1, 2, size=(K, N))
    lo, hi = WeightFormat.parse(fmt).code_range
    return rng.integers(lo, hi + 1, size=(K, N))


def random_zero(rng, fmt: str, N: int):
    if fmt in ("binary", "ternary") or rng.random() < 0.15:
        return None
    lo, hi = WeightFormat.parse(fmt).code_range
    return rng.integers(lo - 2, hi + 3, size=N)  # zero points slightly outside the code range are legal


def random_scale(rng, N: int, kind: str) -> np.ndarray:
    sign = rng.choice([-1.0, 1.0], size=N)
    if kind == "pow2":
        return sign * np.ldexp(1.0, rng.integers(-30, 31, size=N))
    return sign * np.exp(rng.uniform(math.log(1e-8), math.log(1e8), size=N))


def random_int_acts(rng, act_fmt: str, M: int, K: int) -> np.ndarray:
    lo, hi = INT_RANGE[act_fmt]
    A = rng.integers(lo, hi + 1, size=(M, K))
    corners = rng.random((M, K))
    A[corners < 0.1] = lo  # the extremes are where overflow or sign bugs would show
    A[corners > 0.9] = hi
    return A


formats = st.sampled_from(["uint", "int", "binary", "ternary"])


# ------------------------------------------------------------------------------------------- main property


@THOROUGH
@given(M=st.integers(1, 8), N=st.integers(1, 16), K=st.integers(1, 40), kind=formats, bits=st.integers(1, 4),
       act_fmt=st.sampled_from(["int8", "int16"]), scale_kind=st.sampled_from(["pow2", "general"]),
       seed=st.integers(0, 2**32 - 1))
def test_lut_mpgemm_equals_dequant_matmul_bit_for_bit(M, N, K, kind, bits, act_fmt, scale_kind, seed):
    rng = np.random.default_rng(seed)
    fmt = weight_format(kind, bits)
    A, codes = random_int_acts(rng, act_fmt, M, K), random_codes(rng, fmt, K, N)
    scale, zero = random_scale(rng, N, scale_kind), random_zero(rng, fmt, N)
    got = lut_mpgemm(A, codes, scale, zero, fmt, act_fmt)
    want = dequant_matmul(A, codes, scale, zero, fmt, act_fmt)
    assert got.shape == (M, N)
    assert np.array_equal(got, want), error_stats(got, want)
    # and the reference itself is right: float64 product of exact integers, checked with Python integers
    z = np.zeros(N, dtype=np.int64) if zero is None else np.asarray(zero)
    exact_int = [[sum(int(A[m, k]) * (int(codes[k, n]) - int(z[n])) for k in range(K)) for n in range(N)]
                 for m in range(M)]
    assert np.array_equal(want, scale * np.array(exact_int, dtype=np.float64))


def test_k_padding_is_neutral():
    rng = np.random.default_rng(1)
    A, codes = rng.integers(-128, 128, (3, 5)), rng.integers(0, 8, (5, 4))
    A8, codes8 = np.pad(A, ((0, 0), (0, 3))), np.pad(codes, ((0, 3), (0, 0)), constant_values=7)
    padded = lut_mpgemm(A8, codes8, 0.5, 3, "uint3", "int8")
    assert np.array_equal(lut_mpgemm(A, codes, 0.5, 3, "uint3", "int8"), padded)
    tables, rowsum = precompute_tables(A)
    assert tables.shape == (3, 2, 8) and np.array_equal(rowsum, A.sum(axis=1))


# ---------------------------------------------------------------------------- steps 1-5 one at a time


def full_table(a4: np.ndarray) -> np.ndarray:
    """The 16-entry table: bit k of x gives the sign of element k (set = +1)."""
    return np.array([sum((1 if (x >> k) & 1 else -1) * a4[k] for k in range(4)) for x in range(16)])


@FAST
@given(seed=st.integers(0, 2**32 - 1), act_fmt=st.sampled_from(["int8", "int16"]))
def test_tables_are_the_odd_symmetric_half_of_the_full_table(seed, act_fmt):
    rng = np.random.default_rng(seed)
    A = random_int_acts(rng, act_fmt, 2, 8)
    tables, _ = precompute_tables(A)
    for m in range(2):
        for g in range(2):
            lut16 = full_table(A[m, 4 * g: 4 * g + 4])
            assert all(lut16[x] == -lut16[~x & 0xF] for x in range(16))
            # stored entry j is the pattern with element 0 negative (bit 0 clear) and bits 1..3 = j
            assert np.array_equal(tables[m, g], lut16[[j << 1 for j in range(8)]])


@FAST
@given(M=st.integers(1, 4), N=st.integers(1, 6), K=st.integers(1, 13), bits=st.integers(1, 4),
       floats=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_encode_and_lookup_give_every_plane_dot_product(M, N, K, bits, floats, seed):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(M, K)).astype(np.float16).astype(np.float64) if floats else rng.integers(-128, 128, (M, K))
    q = rng.integers(0, 2**bits, size=(K, N))
    sign, index = encode_weights(q, bits)
    L = lut_lookup(precompute_tables(A)[0], sign, index)
    G = -(-K // 4)
    assert L.shape == (bits, M, G, N) and sign.shape == index.shape == (bits, G, N)
    for i in range(bits):
        t = 2 * ((q >> i) & 1) - 1  # t_i[k, n] in {-1, +1}
        for g in range(G):
            ks = slice(4 * g, min(K, 4 * g + 4))
            assert np.array_equal(L[i, :, g, :], A[:, ks] @ t[ks]), (i, g)


def test_encoding_on_hand_pattern():
    # one group, plane 0 of q = [1, 0, 1, 1]: c = 1, flipped bits of elements 1..3 = [1, 0, 0] -> j = 1
    sign, index = encode_weights(np.array([[1], [0], [1], [1]]), 1)
    assert sign.tolist() == [[[True]]] and index.tolist() == [[[1]]]


@pytest.mark.parametrize("fmt", ["uint1", "uint2", "uint3", "uint4", "int1", "int2", "int3", "int4", "binary",
                                 "ternary"])
def test_reinterpretation_identity(fmt):
    rng = np.random.default_rng(7)
    codes, zero = random_codes(rng, fmt, 9, 5), random_zero(rng, fmt, 5)
    scale = random_scale(rng, 5, "general")
    w = quantize(codes, scale, zero, fmt)
    b = w.bits
    q_prime = 2 * w.q.astype(np.int64) - (2**b - 1)
    t = 2 * bit_planes(w.q, b).astype(np.int64) - 1
    assert np.array_equal(q_prime, np.tensordot(2 ** np.arange(b), t, axes=1))  # q' = sum_i 2^i t_i
    z = 0 if zero is None else np.asarray(zero)
    offsets = codes - z  # the user's W / s
    if fmt == "binary":
        assert np.array_equal(w.scale_prime, scale) and np.array_equal(q_prime - w.zero_prime, offsets)
    else:
        assert np.array_equal(w.scale_prime * 2, scale) and np.array_equal(q_prime - w.zero_prime, 2 * offsets)
        assert np.array_equal(w.zero_prime, 2 * w.zero + 1 - 2**b)  # z' = 2z + 1 - 2^b
        assert np.array_equal(w.q.astype(np.int64) - w.zero, offsets)  # same W in the unsigned form


def test_signed_and_ternary_and_binary_mappings():
    w = quantize(np.array([[-8, 7, 0]]), 1.0, [-8, 0, 3], "int4")
    assert w.q.tolist() == [[0, 15, 8]] and w.zero.tolist() == [0, 8, 11]  # q = q_s + 8, z = z_s + 8
    t = quantize(np.array([[-1, 0, 1]]), 1.0, None, "ternary")
    assert t.bits == 2 and t.q.tolist() == [[0, 1, 2]] and t.zero.tolist() == [1, 1, 1]
    assert t.zero_prime.tolist() == [-1, -1, -1]
    bn = quantize(np.array([[-1, 1]]), 1.0, None, "binary")
    assert bn.bits == 1 and bn.q.tolist() == [[0, 1]] and bn.zero_prime.tolist() == [0, 0]


def test_ternary_and_binary_by_hand():
    A = np.array([[5, -3, 7, 2, 9]])
    assert lut_mpgemm(A, np.array([[1], [0], [-1], [1], [-1]]), 0.25, None, "ternary", "int8").tolist() == [
        [0.25 * (5 - 7 + 2 - 9)]]
    assert lut_mpgemm(A, np.array([[1], [-1], [1], [1], [-1]]), 3.0, 0, "binary", "int16").tolist() == [
        [3.0 * (5 + 3 + 7 + 2 - 9)]]


# ------------------------------------------------------------------------------------------------ FP8 / FP16


def e4m3_grid() -> tuple[np.ndarray, np.ndarray]:
    """Every finite e4m3 value decoded from its bit fields, with the parity of its mantissa field."""
    values, odd = [], []
    for e in range(16):
        for mant in range(8):
            if e == 15 and mant == 7:
                continue  # S.1111.111 is NaN
            v = mant * 2.0**-9 if e == 0 else (1 + mant / 8) * 2.0 ** (e - 7)
            values += [v, -v]
            odd += [mant & 1, mant & 1]
    return np.array(values), np.array(odd)


@pytest.mark.parametrize("x, want", [
    (448.0, 448.0), (449.0, 448.0), (464.0, 448.0), (500.0, 448.0), (1e9, 448.0), (-1e9, -448.0),
    (np.inf, 448.0), (-np.inf, -448.0), (0.0019531, 2.0**-9), (2.0**-9, 2.0**-9), (2.0**-10, 0.0),
    (3 * 2.0**-11, 2.0**-9), (3 * 2.0**-10, 2 * 2.0**-9), (2.0**-6, 2.0**-6), (1.0625, 1.0), (1.1875, 1.25),
    (17.0, 16.0), (19.0, 20.0), (-19.0, -20.0), (0.3, 0.3125), (240.0, 240.0), (432.0, 448.0),
])
def test_fp8_e4m3_hand_values(x, want):
    assert round_fp8_e4m3(x) == want


def test_fp8_e4m3_nan_and_signed_zero():
    assert np.isnan(round_fp8_e4m3(np.nan))
    assert np.signbit(round_fp8_e4m3(-2.0**-11))


def test_fp8_e4m3_is_nearest_even_on_the_decoded_grid():
    grid, odd = e4m3_grid()
    assert np.array_equal(round_fp8_e4m3(grid), grid) and grid.max() == 448.0
    rng = np.random.default_rng(3)
    mids = (np.sort(grid)[1:] + np.sort(grid)[:-1]) / 2  # exact ties
    xs = np.concatenate([rng.normal(size=2000) * np.exp(rng.uniform(-12, 7, 2000)), mids])
    xs = xs[np.abs(xs) <= 448]
    dist = np.abs(xs[:, None] - grid[None, :])
    best = dist == dist.min(axis=1, keepdims=True)
    best &= ~((best.sum(axis=1, keepdims=True) > 1) & (odd[None, :] == 1))  # a tie goes to the even mantissa
    want = np.array([grid[row][0] for row in best])
    got = round_fp8_e4m3(xs)
    assert np.array_equal(got, want), xs[got != want][:5]


def test_float_activations_are_rounded_to_their_format():
    A = np.array([[0.1, 1000.3, -3.3, 1e-5]])
    ones = np.ones((4, 1), dtype=np.int64)
    assert lut_mpgemm(A, ones, 1.0, 0, "uint1", "fp16")[0, 0] == np.sum(A.astype(np.float16).astype(np.float64))
    assert lut_mpgemm(A, ones, 1.0, 0, "uint1", "fp8_e4m3")[0, 0] == 448.0 - 3.25 + 0.1015625


@FAST
@given(M=st.integers(1, 6), N=st.integers(1, 12), K=st.integers(1, 40), kind=formats, bits=st.integers(1, 4),
       act_fmt=st.sampled_from(["fp16", "fp8_e4m3"]), accum=st.sampled_from(["fp64", "fp32"]),
       seed=st.integers(0, 2**32 - 1))
def test_float_activations_within_stated_bound(M, N, K, kind, bits, act_fmt, accum, seed):
    rng = np.random.default_rng(seed)
    fmt = weight_format(kind, bits)
    A = rng.normal(size=(M, K)) * np.exp(rng.uniform(-6, 5, size=(M, K)))
    codes, zero, scale = random_codes(rng, fmt, K, N), random_zero(rng, fmt, N), random_scale(rng, N, "general")
    got = lut_mpgemm(A, codes, scale, zero, fmt, act_fmt, accum=accum)
    want = dequant_matmul(A, codes, scale, zero, fmt, act_fmt)
    Ar = np.abs(A.astype(np.float16).astype(np.float64) if act_fmt == "fp16" else round_fp8_e4m3(A))
    z = np.zeros(N) if zero is None else np.asarray(zero, dtype=np.float64)
    ref_bound = (K + 2) * 2.0**-52 * (Ar @ np.abs(scale * (codes - z)))  # float64 dot-product error
    if accum == "fp64":
        bound = ref_bound + 2.0**-52 * np.abs(want)  # the LUT path is exact up to one final rounding
    else:
        w = quantize(codes, scale, zero, fmt)
        G = -(-K // 4)
        # every float32 rounding is at most 2^-24 of an intermediate no larger than (2^b + |z'|) sum_k |a|
        per_channel = np.abs(w.scale_prime) * (2**w.bits + np.abs(w.zero_prime))
        bound = ref_bound + 2.0**-23 * (G + w.bits + 6) * np.outer(Ar.sum(axis=1), per_channel)
    err = np.abs(got - want)
    assert np.all(err <= bound), f"max error {err.max():.3g} exceeds bound {bound[err > bound].min():.3g}"


def test_fp32_accumulation_follows_the_documented_order():
    """A scalar float32 re-implementation of the documented order must agree bit for bit."""
    rng = np.random.default_rng(11)
    M, N, K, b = 3, 4, 38, 3
    G = -(-K // 4)
    A = (rng.normal(size=(M, K)) * np.exp(rng.uniform(-4, 6, (M, K)))).astype(np.float16).astype(np.float32)
    q = rng.integers(0, 8, size=(K, N))
    scale, zero = rng.uniform(0.01, 1, N), np.array([0, 3, 7, 5])
    f = np.float32
    Ap = np.pad(A, ((0, 0), (0, 4 * G - K)))
    qp = np.pad(q, ((0, 4 * G - K), (0, 0)))
    want = np.zeros((M, N))
    for m in range(M):
        rowsum = f(0)
        for g in range(G):
            rowsum = f(rowsum + f(f(f(Ap[m, 4 * g] + Ap[m, 4 * g + 1]) + Ap[m, 4 * g + 2]) + Ap[m, 4 * g + 3]))
        for n in range(N):
            acc = f(0)
            for g in range(G):
                P = f(0)
                for i in range(b):
                    t = [2 * ((int(qp[4 * g + k, n]) >> i) & 1) - 1 for k in range(4)]
                    L = f(f(f(t[0] * Ap[m, 4 * g] + t[1] * Ap[m, 4 * g + 1]) + t[2] * Ap[m, 4 * g + 2])
                          + t[3] * Ap[m, 4 * g + 3])
                    P = f(P + f(2**i) * L)
                acc = f(acc + P)
            zp = f(2 * zero[n] + 1 - 2**b)
            want[m, n] = f(f(scale[n] / 2) * f(acc - f(zp * rowsum)))
    got = lut_mpgemm(A, q, scale, zero, "uint3", "fp16", accum="fp32")
    assert np.array_equal(got, want), error_stats(got, want)
    assert not np.array_equal(got, lut_mpgemm(A, q, scale, zero, "uint3", "fp16"))  # fp32 really rounds


# --------------------------------------------------------------------------------------- table quantization


def test_quantize_tables_rounds_half_to_even():
    # 3-bit tables (qmax 3) of groups whose |a| sums to 3, so the step is exactly 1 and entries are .5 ties
    A = np.array([[-1.5, 0.75, 0.75, 0.0], [0.5, 1.25, 1.25, 0.0], [-0.5, 1.25, 1.25, 0.0], [1.5, 0.75, 0.75, 0.0]])
    codes, step = quantize_tables(precompute_tables(A)[0], A, 3)
    assert step.tolist() == [[1.0]] * 4
    assert codes[:, 0, :4].tolist() == [[0, 2, 2, 3], [-3, 0, 0, 2], [-2, 0, 0, 3], [-3, -2, -2, 0]]  # +-0.5, +-1.5
    Ai = np.array([[1, 2, 3, 4], [-128, -128, -128, -128]])  # integer steps never go below 1
    codes, step = quantize_tables(precompute_tables(Ai)[0], Ai, 10)
    assert step[0, 0] == 1.0 and np.array_equal(codes[0, 0], precompute_tables(Ai)[0][0, 0])
    assert step[1, 0] == 512 / 511 and codes[1, 0].max() == 511


def table_bound(A: np.ndarray, fmt: str, scale, zero, table_bits: int, integer: bool) -> np.ndarray:
    """|error| <= |s'_n| (2^b - 1)/2 sum_g step[m,g]: each entry is off by at most half a step, weighted by 2^i."""
    qmax = 2 ** (table_bits - 1) - 1
    K = A.shape[1]
    Ap = np.pad(np.abs(A.astype(np.float64)), ((0, 0), (0, -K % 4)))
    step = Ap.reshape(A.shape[0], -1, 4).sum(axis=2) / qmax
    if integer:
        step = np.maximum(step, 1.0)
    w = quantize(np.ones((1, len(scale)), dtype=np.int64), scale, zero, fmt)
    return np.outer(step.sum(axis=1), np.abs(w.scale_prime) * (2**w.bits - 1) / 2) * (1 + 1e-12)


@pytest.mark.parametrize("fmt", ["uint4", "int2", "ternary", "binary"])
def test_table_bits_8_is_lossy_and_bounded_for_int8_while_11_is_exact(fmt):
    rng = np.random.default_rng(5)
    M, N, K = 6, 10, 37
    A, codes = random_int_acts(rng, "int8", M, K), random_codes(rng, fmt, K, N)
    scale, zero = random_scale(rng, N, "general"), random_zero(rng, fmt, N)
    exact = dequant_matmul(A, codes, scale, zero, fmt, "int8")
    got8 = lut_mpgemm(A, codes, scale, zero, fmt, "int8", table_bits=8)
    err = np.abs(got8 - exact)
    assert err.max() > 0
    assert np.all(err <= table_bound(A, fmt, scale, zero, 8, integer=True)), err.max()
    stats = table_quant_error(A, codes, scale, zero, fmt, "int8", 8)
    assert stats.max_abs == err.max() and 0 < stats.max_rel < 0.05
    assert np.array_equal(lut_mpgemm(A, codes, scale, zero, fmt, "int8", table_bits=11), exact)
    assert table_quant_error(A, codes, scale, zero, fmt, "int8", 16).max_abs == 0.0


def test_int8_needs_11_table_bits_in_the_worst_case():
    A = np.full((1, 4), -128)  # entry 0 of the table is +512, which 10 signed bits cannot hold,
    codes = np.array([[0], [1], [0], [0]])  # so the 10-bit step is 512/511 and entry 1 (256) is off by half a step
    assert table_quant_error(A, codes, 1.0, 0, "uint1", "int8", 10).max_abs > 0
    assert table_quant_error(A, codes, 1.0, 0, "uint1", "int8", 11).max_abs == 0


def test_table_bits_8_bounded_for_fp16():
    rng = np.random.default_rng(9)
    M, N, K = 4, 8, 22
    A = (rng.normal(size=(M, K)) * 30).astype(np.float16).astype(np.float64)
    codes, scale, zero = random_codes(rng, "uint2", K, N), random_scale(rng, N, "pow2"), random_zero(rng, "uint2", N)
    err = np.abs(lut_mpgemm(A, codes, scale, zero, "uint2", "fp16", table_bits=8)
                 - lut_mpgemm(A, codes, scale, zero, "uint2", "fp16"))
    assert 0 < err.max() and np.all(err <= table_bound(A, "uint2", scale, zero, 8, integer=False) + 1e-12)


# ---------------------------------------------------------------------------------------------- op counts


def test_op_counts_for_one_lmma_tile():
    c = lut_op_counts(M=2, N=64, K=4, bits=2)
    assert (c.groups, c.tables, c.lmmas, c.bitserial_cycles_per_lmma, c.bitserial_cycles) == (1, 2, 1, 2, 2)
    assert (c.lookups_per_output, c.lookups, c.precompute_adds_per_table) == (2, 256, 10)
    c = lut_op_counts(M=3, N=65, K=9, bits=4)
    assert (c.groups, c.lmmas, c.bitserial_cycles, c.rowsum_adds, c.lookups) == (3, 12, 48, 6, 3 * 65 * 3 * 4)


def test_ten_adds_build_a_table():
    """The documented count: 3 adds for entry 0, then one add of +2 a_k per entry along a Gray code."""
    a = np.array([[7, -3, 11, 5]])
    adds = 0
    entries = {0: -a[0, 0] - a[0, 1] - a[0, 2] - a[0, 3]}
    adds += 3
    prev = 0
    for step in range(1, 8):
        j = step ^ (step >> 1)
        k = (j ^ prev).bit_length()  # the one element whose sign flips from - to + or back
        entries[j] = entries[prev] + (2 if j & (1 << (k - 1)) else -2) * a[0, k]
        adds += 1
        prev = j
    assert adds == lut_op_counts(1, 1, 4, 1).precompute_adds_per_table
    assert np.array_equal(precompute_tables(a)[0][0, 0], [entries[j] for j in range(8)])


# ------------------------------------------------------------------------------------------------ bad input


A_OK, C_OK = np.zeros((2, 4), dtype=np.int64), np.zeros((4, 3), dtype=np.int64)


@pytest.mark.parametrize("call, message", [
    (lambda: WeightFormat("uint", 5), "bits: expected an integer in 1..4 (weight formats INT1-INT4), got 5"),
    (lambda: encode_weights(C_OK, 5), "bits: expected an integer in 1..4 (weight formats INT1-INT4), got 5"),
    (lambda: lut_mpgemm(A_OK, C_OK, 1.0, 0, "uint5", "int8"),
     "bits: expected an integer in 1..4 (weight formats INT1-INT4), got 5"),
    (lambda: lut_mpgemm(A_OK, np.zeros((5, 3)), 1.0, 0, "uint2", "int8"),
     "codes: expected 4 rows (K, the columns of A), got 5"),
    (lambda: dequant_matmul(A_OK, np.zeros((3, 3)), 1.0, 0, "uint2", "int8"),
     "codes: expected 4 rows (K, the columns of A), got 3"),
    (lambda: lut_mpgemm(A_OK, C_OK, 1.0, 0, "int8", "int8"),
     "bits: expected an integer in 1..4 (weight formats INT1-INT4), got 8"),
    (lambda: lut_mpgemm(A_OK, C_OK, 1.0, 0, "nf4", "int8"),
     "fmt: unknown weight format 'nf4'; expected one of uint1-uint4, int1-int4, binary, ternary"),
    (lambda: lut_mpgemm(A_OK, C_OK, 1.0, 0, "uint2", "bf16"),
     "act_fmt: unknown activation format 'bf16'; expected one of int8, int16, fp16, fp8_e4m3"),
    (lambda: lut_mpgemm(A_OK + 200, C_OK, 1.0, 0, "uint2", "int8"),
     "A: int8 activations must be integers in [-128, 127]"),
    (lambda: lut_mpgemm(A_OK + 0.5, C_OK, 1.0, 0, "uint2", "int16"),
     "A: int16 activations must be integers in [-32768, 32767]"),
    (lambda: lut_mpgemm(A_OK, C_OK + 4, 1.0, 0, "uint2", "int8"), "codes: uint2 codes must be integers in [0, 3]"),
    (lambda: lut_mpgemm(A_OK, C_OK, 1.0, 0, "binary", "int8"), "codes: binary codes must be -1 or +1"),
    (lambda: lut_mpgemm(A_OK, C_OK, 1.0, 1, "ternary", "int8"),
     "zero: ternary weights have no zero point; expected None or 0"),
    (lambda: lut_mpgemm(A_OK, C_OK, [1.0, 2.0], 0, "uint2", "int8"),
     "scale: expected a scalar or shape (N,) = (3,), got shape (2,)"),
    (lambda: lut_mpgemm(A_OK, C_OK, 1.0, 0.5, "uint2", "int8"),
     "zero: expected integer zero points with |zero| <= 2**20 (exact integer epilogue)"),
    (lambda: lut_mpgemm(A_OK, C_OK, 1.0, 0, "uint2", "int8", table_bits=1),
     "table_bits: expected None or an integer in 2..32, got 1"),
    (lambda: lut_mpgemm(A_OK, C_OK, 1.0, 0, "uint2", "fp16", accum="fp16"),
     "accum: expected 'fp64' or 'fp32', got 'fp16'"),
    (lambda: lut_mpgemm(A_OK, C_OK, 1.0, 0, "uint2", "int8", accum="fp32"),
     "accum: 'fp32' applies to float activations; int8 accumulates exactly in int64"),
    (lambda: lut_mpgemm(A_OK + 7e4, C_OK, 1.0, 0, "uint2", "fp16"),
     "A: fp16 activations must lie within +-65504 after rounding"),
    (lambda: lut_op_counts(0, 1, 1, 2), "M: expected a positive integer, got 0"),
])
def test_bad_arguments_raise_workload_error(call, message):
    with pytest.raises(WorkloadError) as info:
        call()
    assert str(info.value) == message

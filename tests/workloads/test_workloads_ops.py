"""Ops: cost formulas against hand-computed values, references against independent computations."""

import math
from dataclasses import FrozenInstanceError, dataclass
from typing import ClassVar

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archsim.base.errors import WorkloadError
from archsim.workloads.ops import (DTYPE_BYTES, OP_KINDS, Attention, Elementwise, Embedding, Gelu, Gemm, KVAppend, LayerNorm,
                           MpGemm, Op, Relu, RMSNorm, Rope, Silu, Softmax, nbytes, register_op)

rng = np.random.default_rng(1234)


# -- dtypes -----------------------------------------------------------------------------------------------------
def test_dtype_bytes_table():
    assert DTYPE_BYTES["fp32"] == 4 and DTYPE_BYTES["fp16"] == 2 and DTYPE_BYTES["bf16"] == 2
    assert DTYPE_BYTES["fp8_e4m3"] == 1 and DTYPE_BYTES["int8"] == 1 and DTYPE_BYTES["int16"] == 2
    assert DTYPE_BYTES["int4"] == 0.5 and DTYPE_BYTES["int2"] == 0.25
    assert nbytes(3, "int4") == 1.5 and nbytes(4, "int4") == 2 and isinstance(nbytes(4, "int4"), int)


def test_unknown_dtype():
    with pytest.raises(WorkloadError, match=r"^unknown dtype 'fp7'; expected one of: fp64, fp32"):
        Gemm(name="g", M=1, N=2, K=3, a_dtype="fp7")


# -- cost formulas (hand-computed) ------------------------------------------------------------------------------
def test_gemv_costs():
    g = Gemm(name="fc", M=1, N=4096, K=1024, bias=True)  # fp16 everywhere
    assert g.is_gemv and g.kind == "gemm"
    assert g.flops() == 2 * 4096 * 1024 + 4096 == 8_392_704
    # a: 1024*2, W: 1024*4096*2 = 8 MiB, bias: 4096*2
    assert g.bytes_read() == 2048 + 8_388_608 + 8192
    assert g.bytes_written() == 8192
    assert g.in_shapes == ((1, 1024), (1024, 4096), (4096,)) and g.out_shape == (1, 4096)
    assert g.dtypes == ("fp16", "fp16", "fp16", "fp16")


def test_gemm_costs_mixed_dtypes():
    g = Gemm(name="g", M=8, N=16, K=32, a_dtype="fp32", w_dtype="int8", out_dtype="fp16")
    assert not g.is_gemv
    assert g.flops() == 2 * 8 * 16 * 32 == 8192
    assert g.bytes_read() == 8 * 32 * 4 + 32 * 16 * 1 == 1536
    assert g.bytes_written() == 8 * 16 * 2


def test_mpgemm_costs():
    g = MpGemm(name="m", M=1, N=64, K=128, weight_bits=2, weight_format="ternary", act_format="int8")
    assert g.w_dtype == "int2" and g.flops() == 2 * 64 * 128
    # activations 128 B, codes 128*64*2 bits = 2048 B, scale + zero 2*64*2 B
    assert g.bytes_read() == 128 + 2048 + 256
    assert MpGemm(name="m", M=1, N=3, K=1, weight_bits=4).bytes_read() == 2 + 1.5 + 12


def test_attention_costs_decode_and_causal():
    a = Attention(name="a", heads=4, head_dim=8, q_len=1, kv_len=10, batch=2, kv_heads=2)
    pairs = 2 * 4 * 10
    assert a.pairs == pairs and not a.causal
    assert a.parts() == {"qk": 2 * pairs * 8, "scale": pairs, "softmax": 5 * pairs, "av": 2 * pairs * 8}
    assert a.flops() == 4 * pairs * 8 + 6 * pairs == 2_560 + 480
    # q: 2*4*1*8, K and V caches: 2*2*10*8 each (GQA: read once per kv head), fp16
    assert a.bytes_read() == 2 * (64 + 320 + 320)
    assert a.bytes_written() == 2 * 64
    p = Attention(name="p", heads=1, head_dim=4, q_len=3, kv_len=5)
    assert p.causal and p.pairs == 3 * 2 + 6  # rows see 3, 4 and 5 keys


def test_small_op_costs():
    assert LayerNorm(name="ln", rows=2, cols=10).flops() == 140
    assert LayerNorm(name="ln", rows=2, cols=10).bytes_read() == 2 * (20 + 10 + 10)
    assert RMSNorm(name="rn", rows=2, cols=10).flops() == 80
    assert Softmax(name="s", rows=3, cols=7).flops() == 105
    assert Gelu(name="g", rows=1, cols=10).flops() == 90
    assert Silu(name="s", rows=1, cols=10).flops() == 40
    assert Relu(name="r", rows=1, cols=10).flops() == 10
    assert Relu(name="r", rows=1, cols=10, squared=True).flops() == 20
    e = Elementwise(name="e", op="mul", rows=4, cols=5, dtype="fp32")
    assert e.flops() == 20 and e.bytes_read() == 160 and e.bytes_written() == 80
    emb = Embedding(name="emb", vocab=50257, dim=1600, tokens=3)
    assert emb.flops() == 0 and emb.bytes_read() == 3 * 4 + 3 * 1600 * 2 and emb.bytes_written() == 3 * 3200
    kv = KVAppend(name="kv", heads=25, head_dim=64, q_len=1, kv_len=100, batch=2, dtype="bf16")
    assert kv.flops() == 0 and kv.bytes_written() == 2 * 2 * 25 * 64 * 2 == kv.bytes_read()
    assert Rope(name="r", heads=2, head_dim=4, q_len=3).flops() == 3 * 24


# -- references against independent computations -----------------------------------------------------------------
def test_gemm_reference():
    g = Gemm(name="g", M=3, N=5, K=4, bias=True)
    a, w, b = rng.normal(size=(3, 4)), rng.normal(size=(4, 5)), rng.normal(size=5)
    expect = np.array([[sum(a[i, k] * w[k, j] for k in range(4)) + b[j] for j in range(5)] for i in range(3)])
    np.testing.assert_allclose(g.reference(a, w, b), expect, rtol=1e-13)


@pytest.mark.parametrize("fmt,bits,lo,hi", [("uint", 4, 0, 15), ("int", 4, -8, 7), ("ternary", 2, -1, 1)])
def test_mpgemm_reference_is_dequantized_matmul(fmt, bits, lo, hi):
    g = MpGemm(name="m", M=2, N=6, K=8, weight_bits=bits, weight_format=fmt)
    a, q = rng.normal(size=(2, 8)), rng.integers(lo, hi + 1, size=(8, 6))
    s, z = rng.uniform(0.1, 1, 6), rng.integers(lo, hi + 1, size=6).astype(float)
    w = np.empty((8, 6))
    for k in range(8):
        for n in range(6):
            w[k, n] = s[n] * (q[k, n] - z[n])
    np.testing.assert_allclose(g.reference(a, q, s, z), a @ w, rtol=1e-13)


def test_mpgemm_rejects_bad_codes_and_formats():
    g = MpGemm(name="m", M=1, N=2, K=2, weight_bits=2, weight_format="ternary")
    with pytest.raises(WorkloadError, match=r"weight codes must be integers in \[-1, 1\]"):
        g.reference(np.ones((1, 2)), np.array([[2, 0], [0, 0]]), np.ones(2), np.zeros(2))
    b = MpGemm(name="b", M=1, N=1, K=2, weight_bits=1, weight_format="binary")
    with pytest.raises(WorkloadError, match="binary weight codes must be -1 or \\+1"):
        b.reference(np.ones((1, 2)), np.array([[1], [0]]), np.ones(1), np.zeros(1))
    with pytest.raises(WorkloadError, match=r"weight_bits = 3 for format 'ternary'; expected one of: 2"):
        MpGemm(name="m", M=1, N=1, K=1, weight_bits=3, weight_format="ternary")
    with pytest.raises(WorkloadError, match=r"weight_format = 'nf4'; expected one of: uint, int, binary, ternary"):
        MpGemm(name="m", M=1, N=1, K=1, weight_bits=4, weight_format="nf4")


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 5), st.integers(1, 9), st.floats(-30, 30))
def test_softmax_rows_sum_to_one(rows, cols, shift):
    x = np.random.default_rng(rows * 10 + cols).normal(size=(rows, cols)) * 5 + shift
    y = Softmax(name="s", rows=rows, cols=cols).reference(x)
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-12)
    expect = np.array([[math.exp(v) / sum(math.exp(u) for u in row) for v in row] for row in x])
    np.testing.assert_allclose(y, expect, rtol=1e-12)


def test_layernorm_and_rmsnorm():
    x = rng.normal(3.0, 2.0, size=(4, 50))
    y = LayerNorm(name="ln", rows=4, cols=50, eps=0.0).reference(x, np.ones(50), np.zeros(50))
    np.testing.assert_allclose(y.mean(axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=1), 1.0, rtol=1e-12)
    gamma, beta = rng.normal(size=50), rng.normal(size=50)
    y2 = LayerNorm(name="ln", rows=4, cols=50, eps=0.0).reference(x, gamma, beta)
    np.testing.assert_allclose(y2, y * gamma + beta, rtol=1e-12, atol=1e-12)
    r = RMSNorm(name="rn", rows=4, cols=50, eps=0.0).reference(x, np.ones(50))
    np.testing.assert_allclose((r**2).mean(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(r / x, (r / x)[:, :1] * np.ones((1, 50)), rtol=1e-12)  # a per-row rescale


def test_activations():
    x = np.linspace(-4, 4, 17)[None, :]
    n = x.shape[1]
    gelu = Gelu(name="g", rows=1, cols=n).reference(x)
    expect = [0.5 * v * (1 + math.tanh(math.sqrt(2 / math.pi) * (v + 0.044715 * v**3))) for v in x[0]]
    np.testing.assert_allclose(gelu[0], expect, rtol=1e-13, atol=1e-15)
    erf_gelu = [0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in x[0]]
    np.testing.assert_allclose(gelu[0], erf_gelu, atol=1e-3)  # the tanh form approximates the exact GELU
    silu = Silu(name="s", rows=1, cols=n).reference(x)
    np.testing.assert_allclose(silu[0], [v / (1 + math.exp(-v)) for v in x[0]], rtol=1e-13)
    np.testing.assert_array_equal(Relu(name="r", rows=1, cols=n).reference(x), np.where(x > 0, x, 0))
    np.testing.assert_array_equal(Relu(name="r", rows=1, cols=n, squared=True).reference(x), np.where(x > 0, x * x, 0))


def test_elementwise_embedding_kvappend():
    a, b = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    np.testing.assert_array_equal(Elementwise(name="e", op="add", rows=2, cols=3).reference(a, b), a + b)
    np.testing.assert_array_equal(Elementwise(name="e", op="mul", rows=2, cols=3).reference(a, b), a * b)
    table = rng.normal(size=(10, 4))
    np.testing.assert_array_equal(Embedding(name="t", vocab=10, dim=4, tokens=3).reference(np.array([7, 0, 7]), table),
                                  table[[7, 0, 7]])
    with pytest.raises(WorkloadError, match=r"ids must lie in \[0, 9\]; got \[0, 10\]"):
        Embedding(name="t", vocab=10, dim=4, tokens=2).reference(np.array([0, 10]), table)
    kc, vc = rng.normal(size=(1, 2, 3, 4)), rng.normal(size=(1, 2, 3, 4))
    kn, vn = rng.normal(size=(1, 2, 1, 4)), rng.normal(size=(1, 2, 1, 4))
    out = KVAppend(name="kv", heads=2, head_dim=4, q_len=1, kv_len=4).reference(kc, vc, kn, vn)
    assert out.shape == (2, 1, 2, 4, 4)
    np.testing.assert_array_equal(out[0, :, :, 3], kn[:, :, 0])
    np.testing.assert_array_equal(out[1, :, :, :3], vc)


def _attention_loops(q, k, v, causal):
    """Per-(batch, head, query) loops; GQA by integer division of the head index."""
    B, H, Q, D = q.shape
    Hk, L = k.shape[1], k.shape[2]
    out = np.zeros_like(q)
    for b in range(B):
        for h in range(H):
            kh = h // (H // Hk)
            for i in range(Q):
                last = L - Q + i if causal else L - 1
                s = np.array([q[b, h, i] @ k[b, kh, j] / math.sqrt(D) for j in range(last + 1)])
                p = np.exp(s - s.max())
                p /= p.sum()
                out[b, h, i] = sum(p[j] * v[b, kh, j] for j in range(last + 1))
    return out


@pytest.mark.parametrize("q_len,kv_len,heads,kv_heads", [(1, 7, 4, 4), (1, 5, 4, 2), (3, 3, 2, 2), (3, 6, 4, 1)])
def test_attention_reference(q_len, kv_len, heads, kv_heads):
    op = Attention(name="a", heads=heads, kv_heads=kv_heads, head_dim=8, q_len=q_len, kv_len=kv_len, batch=2)
    q = rng.normal(size=(2, heads, q_len, 8))
    k, v = rng.normal(size=(2, kv_heads, kv_len, 8)), rng.normal(size=(2, kv_heads, kv_len, 8))
    np.testing.assert_allclose(op.reference(q, k, v), _attention_loops(q, k, v, q_len > 1), rtol=1e-12, atol=1e-13)


def test_rope_reference_is_complex_rotation():
    op = Rope(name="r", heads=2, head_dim=6, q_len=3, pos=5, theta=100.0)
    x = rng.normal(size=(1, 2, 3, 6))
    z = x[..., :3] + 1j * x[..., 3:]
    freqs = np.array([100.0 ** (-2 * j / 6) for j in range(3)])
    rot = z * np.exp(1j * np.outer(np.arange(5, 8), freqs))
    np.testing.assert_allclose(op.reference(x), np.concatenate([rot.real, rot.imag], axis=-1), rtol=1e-12, atol=1e-14)


def test_reference_checks_shapes():
    with pytest.raises(WorkloadError, match=r"op 'g' \(gemm\): input 1 has shape \(3, 2\); expected \(2, 3\)"):
        Gemm(name="g", M=1, N=3, K=2).reference(np.ones((1, 2)), np.ones((3, 2)))
    with pytest.raises(WorkloadError, match=r"got 1 inputs; expected 2"):
        Gemm(name="g", M=1, N=3, K=2).reference(np.ones((1, 2)))


def test_invalid_fields():
    with pytest.raises(WorkloadError, match=r"^op 'g': M = 0; expected a positive integer$"):
        Gemm(name="g", M=0, N=1, K=1)
    with pytest.raises(WorkloadError, match=r"kv_len = 2; expected kv_len >= q_len = 3"):
        Attention(name="a", heads=1, head_dim=2, q_len=3, kv_len=2)
    with pytest.raises(WorkloadError, match=r"heads = 6 is not a multiple of kv_heads = 4"):
        Attention(name="a", heads=6, kv_heads=4, head_dim=2, q_len=1, kv_len=2)
    with pytest.raises(WorkloadError, match=r"op = 'sub'; expected one of: add, mul"):
        Elementwise(name="e", op="sub", rows=1, cols=1)
    with pytest.raises(FrozenInstanceError):
        Gemm(name="g", M=1, N=1, K=1).M = 2  # type: ignore[misc]


def test_registry_and_new_kind():
    assert {"gemm", "mpgemm", "attention", "softmax", "layernorm", "rmsnorm", "gelu", "silu", "relu", "elementwise",
            "embedding", "kv_append", "rope"} <= set(OP_KINDS)
    assert OP_KINDS["gemm"] is Gemm

    @dataclass(frozen=True, slots=True, kw_only=True)
    class Scale(Op):
        kind: ClassVar[str] = "test_scale"
        n: int

        def inputs(self):
            return (((self.n,), "fp32"),)

        def output(self):
            return (self.n,), "fp32"

        def flops(self):
            return self.n

        def reference(self, *inputs):
            (x,) = self._check(inputs)
            return 2 * x

    try:
        register_op(Scale)
        assert OP_KINDS["test_scale"] is Scale
        s = Scale(name="s", n=3)
        assert s.bytes_read() == 12 and s.bytes_written() == 12
        np.testing.assert_array_equal(s.reference(np.ones(3)), 2 * np.ones(3))
    finally:
        OP_KINDS.pop("test_scale", None)


def test_signature_ignores_name():
    a = Gemm(name="L0.attn.qkv", M=1, N=3, K=2)
    b = Gemm(name="L5.attn.qkv", M=1, N=3, K=2)
    assert a != b and a.signature() == b.signature() and hash(a.signature()) == hash(b.signature())

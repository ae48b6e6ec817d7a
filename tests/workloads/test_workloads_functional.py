"""The graph-driven functional pass against independent, plain-numpy transformer forwards over the full sequence.

The reference forwards below use only numpy and the weight dict; they share no code with workloads' ops.
"""

import numpy as np
import pytest

from archsim.base.errors import WorkloadError
from archsim.workloads import get_model
from archsim.workloads.functional import KVCache, decode_logits, forward, make_weights

ATOL = 1e-10


def _layernorm(x, g, b, eps):
    mu = x.mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(((x - mu) ** 2).mean(-1, keepdims=True) + eps) * g + b


def _rmsnorm(x, g, eps):
    return x / np.sqrt((x**2).mean(-1, keepdims=True) + eps) * g


def _causal_attention(q, k, v):
    """q: (B, T, H, dh), k/v: (B, T, Hkv, dh); heads sharing a KV head by integer division."""
    B, T, H, dh = q.shape
    group = H // k.shape[2]
    out = np.zeros_like(q)
    mask = np.triu(np.full((T, T), -np.inf), k=1)
    for h in range(H):
        s = np.einsum("bid,bjd->bij", q[:, :, h], k[:, :, h // group]) / np.sqrt(dh) + mask
        p = np.exp(s - s.max(-1, keepdims=True))
        p /= p.sum(-1, keepdims=True)
        out[:, :, h] = np.einsum("bij,bjd->bid", p, v[:, :, h // group])
    return out


def gpt_reference(c, W, ids):
    """GPT-2 / OPT forward over the whole sequence: logits (B, T, vocab)."""
    B, T = ids.shape
    H, dh, d = c.n_heads, c.d_head, c.d_model
    x = W["embed.tokens.table"][ids] + W["embed.pos.table"][np.arange(T)][None]
    for i in range(c.n_layers):
        p = f"L{i}"
        h = _layernorm(x, W[f"{p}.attn.norm.gamma"], W[f"{p}.attn.norm.beta"], c.norm_eps)
        qkv = h @ W[f"{p}.attn.qkv.w"] + W[f"{p}.attn.qkv.b"]
        q, k, v = (qkv[..., j * H * dh:(j + 1) * H * dh].reshape(B, T, H, dh) for j in range(3))
        a = _causal_attention(q, k, v).reshape(B, T, H * dh)
        x = x + a @ W[f"{p}.attn.out.w"] + W[f"{p}.attn.out.b"]
        h = _layernorm(x, W[f"{p}.mlp.norm.gamma"], W[f"{p}.mlp.norm.beta"], c.norm_eps)
        f = h @ W[f"{p}.mlp.fc1.w"] + W[f"{p}.mlp.fc1.b"]
        if c.activation == "gelu":
            f = 0.5 * f * (1 + np.tanh(np.sqrt(2 / np.pi) * (f + 0.044715 * f**3)))
        else:
            f = np.maximum(f, 0)
        x = x + f @ W[f"{p}.mlp.fc2.w"] + W[f"{p}.mlp.fc2.b"]
    x = _layernorm(x, W["final.norm.gamma"], W["final.norm.beta"], c.norm_eps)
    return x @ W["embed.tokens.table"].T  # tied embeddings


def _rope_complex(x, theta):
    """x: (B, T, n, dh); rotate (x_j, x_{j+dh/2}) pairs as complex numbers by position * theta^(-2j/dh)."""
    T, dh = x.shape[1], x.shape[-1]
    half = dh // 2
    z = x[..., :half] + 1j * x[..., half:]
    freqs = theta ** (-2.0 * np.arange(half) / dh)
    z = z * np.exp(1j * np.arange(T)[:, None] * freqs[None, :])[None, :, None, :]
    return np.concatenate([z.real, z.imag], axis=-1)


def llama_reference(c, W, ids):
    """LLaMA / BitNet forward (RMSNorm, RoPE, GQA, SwiGLU, untied head): logits (B, T, vocab)."""
    B, T = ids.shape
    H, Hkv, dh = c.n_heads, c.n_kv_heads, c.d_head

    def lin(name):
        if c.weight_format is None:
            return W[f"{name}.w"]
        return W[f"{name}.scale"][None, :] * (W[f"{name}.q"] - W[f"{name}.zero"][None, :])

    x = W["embed.tokens.table"][ids]
    for i in range(c.n_layers):
        p = f"L{i}"
        h = _rmsnorm(x, W[f"{p}.attn.norm.gamma"], c.norm_eps)
        qkv = h @ lin(f"{p}.attn.qkv")
        q = qkv[..., : H * dh].reshape(B, T, H, dh)
        k = qkv[..., H * dh:(H + Hkv) * dh].reshape(B, T, Hkv, dh)
        v = qkv[..., (H + Hkv) * dh:].reshape(B, T, Hkv, dh)
        q, k = _rope_complex(q, c.rope_theta), _rope_complex(k, c.rope_theta)
        x = x + _causal_attention(q, k, v).reshape(B, T, H * dh) @ lin(f"{p}.attn.out")
        h = _rmsnorm(x, W[f"{p}.mlp.norm.gamma"], c.norm_eps)
        g = h @ lin(f"{p}.mlp.gate")
        x = x + (g / (1 + np.exp(-g)) * (h @ lin(f"{p}.mlp.up"))) @ lin(f"{p}.mlp.down")
    return _rmsnorm(x, W["final.norm.gamma"], c.norm_eps) @ W["head.lm.w"]


TINY = {
    "gpt": (get_model("gpt2-small").scaled(n_layers=2, d_model=64, n_heads=4, d_ff=256, vocab=97, max_context=32),
            gpt_reference),
    "opt": (get_model("opt-13b").scaled(n_layers=2, d_model=48, n_heads=3, d_ff=96, vocab=61, max_context=24),
            gpt_reference),
    "llama-gqa": (get_model("llama2-70b").scaled(n_layers=2, d_model=64, n_heads=8, n_kv_heads=2, d_ff=96, vocab=97,
                                                 max_context=32), llama_reference),
    "bitnet": (get_model("bitnet-b1.58-3b").scaled(n_layers=2, d_model=64, n_heads=4, d_ff=80, vocab=89,
                                                   max_context=32), llama_reference),
}


def _ids(c, batch, length, seed=7):
    return np.random.default_rng(seed).integers(0, c.vocab, size=(batch, length))


@pytest.mark.parametrize("kind", list(TINY))
def test_decode_matches_independent_forward(kind):
    c, ref = TINY[kind]
    W = make_weights(c, seed=3)
    ids = _ids(c, 2, 12)
    expect = ref(c, W, ids)
    got = decode_logits(c, W, ids)
    assert got.shape == (2, 12, c.vocab)
    np.testing.assert_allclose(got, expect, rtol=0, atol=ATOL)


@pytest.mark.parametrize("kind", ["gpt", "llama-gqa"])
def test_prefill_then_decode_matches(kind):
    c, ref = TINY[kind]
    W = make_weights(c, seed=5)
    ids = _ids(c, 2, 14, seed=11)
    expect = ref(c, W, ids)
    all_logits, _ = forward(c, W, ids, logits="all")
    np.testing.assert_allclose(all_logits, expect, rtol=0, atol=ATOL)
    last, cache = forward(c, W, ids[:, :9], logits="last")
    assert last.shape == (2, c.vocab) and cache.length == 9
    np.testing.assert_allclose(last, expect[:, 8], rtol=0, atol=ATOL)
    rest = decode_logits(c, W, ids[:, 9:], cache=cache)
    np.testing.assert_allclose(rest, expect[:, 9:], rtol=0, atol=ATOL)
    assert cache.length == 14 and cache.layers[0].shape == (2, 2, c.n_kv_heads, 14, c.d_head)


def test_make_weights_is_seeded():
    c, _ = TINY["gpt"]
    a, b, other = make_weights(c, 1), make_weights(c, 1), make_weights(c, 2)
    assert a.keys() == b.keys()
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["L0.attn.qkv.w"], other["L0.attn.qkv.w"])
    assert np.shares_memory(a["head.lm.w"], a["embed.tokens.table"])  # tied
    q = make_weights(TINY["bitnet"][0], 0)["L1.mlp.down.q"]
    assert set(np.unique(q)) <= {-1, 0, 1}


def test_functional_errors():
    c, _ = TINY["gpt"]
    W = make_weights(c, 0)
    with pytest.raises(WorkloadError, match=r"expected a \(batch, length\) integer array"):
        forward(c, W, np.array([1, 2, 3]))
    del W["L1.mlp.fc2.b"]
    with pytest.raises(WorkloadError, match=r"weights: missing 'L1.mlp.fc2.b'"):
        forward(c, W, np.array([[1, 2]]))
    with pytest.raises(WorkloadError, match=r"prompt \+ tokens = 33 exceeds max_context 32"):
        decode_logits(c, make_weights(c, 0), np.zeros((1, 33), dtype=int))
    cache = KVCache()
    cache.length = 3  # claims positions it does not hold
    with pytest.raises(WorkloadError, match=r"the KV cache holds 0 positions; expected 3"):
        forward(c, make_weights(c, 0), np.array([[1]]), cache=cache)

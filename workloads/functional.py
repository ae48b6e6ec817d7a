"""A numpy forward pass driven by the op graph: every op computes with its own ``reference``.

This is the functional check of the IR itself (the graph wires the right ops with the right shapes) and the
golden model that mapped programs are compared with. The only code here is tensor plumbing between ops:
splitting the fused QKV output into heads, keeping the KV cache, and fetching weights by op name.

Weights are a flat dict keyed ``<op name>.<param>``: ``embed.tokens.table`` (vocab, d), ``embed.pos.table``
(max_context, d), ``<norm>.gamma`` / ``.beta``, ``<linear>.w`` (K, N) and ``.b`` (N,) for dense layers or
``.q`` (codes), ``.scale``, ``.zero`` for mixed-precision ones, and ``head.lm.w`` (d, vocab), which is a view of
the transposed token table when embeddings are tied.
"""

from __future__ import annotations

import numpy as np

from archsim.base.errors import WorkloadError
from archsim.workloads.builders import build_step_graph, model
from archsim.workloads.graph import OpGraph
from archsim.workloads.ops import (Attention, Embedding, Gemm, KVAppend, LayerNorm, MpGemm, RMSNorm, Rope, _code_range)
from archsim.workloads.zoo import ModelConfig


class KVCache:
    """Per-layer K/V caches, each stacked as (2, batch, kv_heads, length, d_head), plus the common length."""

    def __init__(self):
        self.layers: dict[int, np.ndarray] = {}
        self.length = 0


def _linear_shapes(c: ModelConfig) -> list[tuple[str, int, int]]:
    """(suffix, K, N) of every linear layer inside a transformer layer."""
    d, ff = c.d_model, c.d_ff
    shapes = [("attn.qkv", d, c.attn_width + 2 * c.kv_width), ("attn.out", c.attn_width, d)]
    if c.gated:
        shapes += [("mlp.gate", d, ff), ("mlp.up", d, ff), ("mlp.down", ff, d)]
    else:
        shapes += [("mlp.fc1", d, ff), ("mlp.fc2", ff, d)]
    return shapes


def make_weights(config: ModelConfig, seed: int = 0) -> dict[str, np.ndarray]:
    """Random float64 weights for ``config`` from ``np.random.default_rng(seed)`` (activations stay O(1))."""
    c, rng = config, np.random.default_rng(seed)
    d = c.d_model
    w: dict[str, np.ndarray] = {"embed.tokens.table": rng.normal(0.0, 1.0, (c.vocab, d))}
    if c.learned_pos_embeddings:
        w["embed.pos.table"] = rng.normal(0.0, 0.5, (c.max_context, d))

    def norm(name):
        w[f"{name}.gamma"] = 1.0 + 0.1 * rng.normal(size=d)
        if c.norm == "layernorm":
            w[f"{name}.beta"] = 0.1 * rng.normal(size=d)

    for i in range(c.n_layers):
        norm(f"L{i}.attn.norm")
        norm(f"L{i}.mlp.norm")
        for suffix, K, N in _linear_shapes(c):
            name = f"L{i}.{suffix}"
            if c.quantized:
                lo, hi = _code_range(c.weight_format, c.weight_bits)
                if c.weight_format == "binary":
                    q = rng.choice(np.array([-1, 1]), size=(K, N))
                else:
                    q = rng.integers(lo, hi + 1, size=(K, N))
                w[f"{name}.q"] = q
                w[f"{name}.scale"] = rng.uniform(0.5, 1.5, N) / np.sqrt(K * max(1, hi - lo) ** 2 / 4)
                w[f"{name}.zero"] = (np.full(N, (lo + hi) / 2) if c.weight_format == "uint" else np.zeros(N))
            else:
                w[f"{name}.w"] = rng.normal(0.0, 1.0, (K, N)) / np.sqrt(K)
                if c.biases:
                    w[f"{name}.b"] = 0.1 * rng.normal(size=N)
    norm("final.norm")
    w["head.lm.w"] = (w["embed.tokens.table"].T if c.tied_embeddings else rng.normal(0.0, 1.0, (d, c.vocab)) / np.sqrt(d))
    return w


def _heads(x: np.ndarray, batch: int, n: int, d_head: int) -> np.ndarray:
    """(batch*q, n*d_head) rows -> (batch, n, q, d_head)."""
    return x.reshape(batch, -1, n, d_head).transpose(0, 2, 1, 3)


def run_step(graph: OpGraph, config: ModelConfig, weights: dict[str, np.ndarray], ids: np.ndarray,
             cache: KVCache) -> np.ndarray:
    """Execute one step's graph on token ``ids`` (batch, q_len) and update ``cache``; returns the LM-head output."""
    c, W = config, weights
    B, q = ids.shape
    H, Hkv, dh = c.n_heads, c.n_kv_heads, c.d_head
    start = cache.length
    positions = np.tile(np.arange(start, start + q), B)
    vals: dict[str, np.ndarray] = {}

    def weight(key):
        try:
            return W[key]
        except KeyError:
            raise WorkloadError(f"weights: missing {key!r}; expected the keys made by make_weights") from None

    for name in graph.topo():
        node = graph.nx.nodes[name]
        op, srcs, layer = node["op"], [vals[s] for s in node["inputs"]], node["layer"]
        if isinstance(op, Embedding):
            out = op.reference(ids.reshape(-1) if name == "embed.tokens" else positions, weight(f"{name}.table"))
        elif isinstance(op, (LayerNorm, RMSNorm)):
            x = srcs[0]
            if op.rows != x.shape[0]:  # logits='last': normalise the last position of each sequence only
                x = x.reshape(B, -1, x.shape[-1])[:, -1]
            extra = (weight(f"{name}.beta"),) if isinstance(op, LayerNorm) else ()
            out = op.reference(x, weight(f"{name}.gamma"), *extra)
        elif isinstance(op, Gemm):
            out = op.reference(srcs[0], weight(f"{name}.w"), *((weight(f"{name}.b"),) if op.bias else ()))
        elif isinstance(op, MpGemm):
            out = op.reference(srcs[0], weight(f"{name}.q"), weight(f"{name}.scale"), weight(f"{name}.zero"))
        elif isinstance(op, Rope):
            out = op.reference(_heads(srcs[0], B, H + 2 * Hkv, dh)[:, : H + Hkv])
        elif isinstance(op, KVAppend):
            if len(srcs) == 2:  # (rotated Q,K heads, raw QKV)
                k_new, v_new = srcs[0][:, H:], _heads(srcs[1], B, H + 2 * Hkv, dh)[:, H + Hkv:]
            else:
                heads = _heads(srcs[0], B, H + 2 * Hkv, dh)
                k_new, v_new = heads[:, H: H + Hkv], heads[:, H + Hkv:]
            old = cache.layers.get(layer, np.zeros((2, B, Hkv, 0, dh)))
            if old.shape[3] != op.kv_len - op.q_len:
                raise WorkloadError(f"op {name!r}: the KV cache holds {old.shape[3]} positions; "
                                    f"expected {op.kv_len - op.q_len}")
            out = op.reference(old[0], old[1], k_new, v_new)
            cache.layers[layer] = out
        elif isinstance(op, Attention):
            qsrc = srcs[0]
            q_heads = qsrc[:, :H] if qsrc.ndim == 4 else _heads(qsrc, B, H + 2 * Hkv, dh)[:, :H]
            out = op.reference(q_heads, srcs[1][0], srcs[1][1]).transpose(0, 2, 1, 3).reshape(B * q, H * dh)
        else:
            out = op.reference(*srcs)
        vals[name] = out
    cache.length = start + q
    return vals["head.lm"]


def _check_ids(config: ModelConfig, ids) -> np.ndarray:
    ids = np.asarray(ids)
    if ids.ndim != 2 or ids.shape[0] < 1 or ids.shape[1] < 1 or not np.issubdtype(ids.dtype, np.integer):
        raise WorkloadError(f"ids: shape {ids.shape} dtype {ids.dtype}; expected a (batch, length) integer array")
    return ids


def forward(config: ModelConfig, weights: dict[str, np.ndarray], ids, cache: KVCache | None = None,
            logits: str = "all") -> tuple[np.ndarray, KVCache]:
    """Process ``ids`` (batch, q_len) after the positions already in ``cache`` in one step.

    Returns ``(logits, cache)``: logits (batch, q_len, vocab), or (batch, vocab) with ``logits='last'``.
    """
    ids = _check_ids(config, ids)
    cache = KVCache() if cache is None else cache
    B, q = ids.shape
    graph = build_step_graph(config, q_len=q, kv_len=cache.length + q, batch=B, logits=logits)
    out = run_step(graph, config, weights, ids, cache)
    return (out.reshape(B, q, -1) if logits == "all" else out), cache


def decode_logits(config: ModelConfig, weights: dict[str, np.ndarray], ids,
                  cache: KVCache | None = None) -> np.ndarray:
    """Feed ``ids`` (batch, T) one token per step through a decode workload; logits (batch, T, vocab).

    With a ``cache`` (for example from a prefill ``forward``) decoding continues after its positions.
    """
    ids = _check_ids(config, ids)
    cache = KVCache() if cache is None else cache
    B, T = ids.shape
    work = model(config).decode(prompt=cache.length, tokens=T, batch=B)
    out = [run_step(step.graph, config, weights, ids[:, step.index: step.index + 1], cache)
           for step in work.steps()]
    return np.stack(out, axis=1)

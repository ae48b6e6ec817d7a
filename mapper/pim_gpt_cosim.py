"""Functional co-simulation of the PIM-GPT mapping: run the mapped computation numerically with the hardware's
number formats and compare the logits with the workload's float64 reference.

What is emulated, step for step with :mod:`archsim.mapper.pim_gpt`:

* weights, KV cache, global-buffer inputs and every stored vector in bf16 (round to nearest even);
* the bank MAC unit: per MAC column, 16 bf16 x bf16 products summed by a 4-level adder tree in fp32, then added
  to the fp32 accumulator column after column in address order; RD_MAC returns the fp32 accumulator
  [assumed: the MAC unit accumulates in fp32 (spec ``mac_accum``); ``bf16`` rounds the accumulator after
  every column];
* the K-tiles of the layout (``Layout.matrices``): one partial sum per tile, added on the ASIC in fp32;
* the ASIC's own arithmetic: LayerNorm with the fast inverse square root, softmax with the Taylor-series exp
  and Newton-Raphson reciprocal, GELU from the same exp and reciprocal (``cyclesim.engines.pim_asic``);
* the attention scale 1/sqrt(d_head) applied on the ASIC before the softmax; context over position tiles of
  the global-buffer size, partial sums added on the ASIC.
"""

from __future__ import annotations

import numpy as np

from archsim.cyclesim.engines.pim_asic import asic_gelu, asic_layernorm, asic_softmax
from archsim.base.numerics import to_bf16
from archsim.mapper.pim_gpt_layout import Layout


def _tree16(products: np.ndarray) -> np.ndarray:
    """Sum the last axis (16 products) by a balanced adder tree in fp32."""
    p = products.astype(np.float32)
    while p.shape[-1] > 1:
        p = (p[..., 0::2] + p[..., 1::2]).astype(np.float32)
    return p[..., 0]


def bank_mac(w_rows: np.ndarray, x: np.ndarray, access: int, accum: str = "fp32") -> np.ndarray:
    """Dot products of every row of ``w_rows`` (bf16, N x k) with ``x`` (bf16, k) the way the bank MAC unit
    does them: column by column (``access`` values), fp32 accumulation."""
    n, k = w_rows.shape
    cols = -(-k // access)
    pad = cols * access - k
    w = np.pad(w_rows, ((0, 0), (0, pad))).reshape(n, cols, access).astype(np.float32)
    v = np.pad(x, (0, pad)).reshape(cols, access).astype(np.float32)
    partial = _tree16((w * v).astype(np.float32))  # (n, cols)
    acc = np.zeros(n, dtype=np.float32)
    for c in range(cols):
        acc = (acc + partial[:, c]).astype(np.float32)
        if accum == "bf16":
            acc = to_bf16(acc)
    return acc


class PimGptFunctional:
    """Decode with PIM-GPT's arithmetic. ``weights`` come from :func:`archsim.workloads.functional.make_weights`."""

    def __init__(self, config, weights: dict, layout: Layout, asic_params: dict, mac_accum: str = "fp32"):
        self.c, self.layout, self.p, self.accum = config, layout, asic_params, mac_accum
        self.W = {k: to_bf16(v) for k, v in weights.items()}
        self.k_cache = {L: [] for L in range(config.n_layers)}
        self.v_cache = {L: [] for L in range(config.n_layers)}
        self.position = 0

    def vmm(self, name: str, wkey: str, x: np.ndarray) -> np.ndarray:
        """y = x @ W over the layout's K-tiles; tile partial sums added on the ASIC in fp32."""
        w = self.W[wkey].T  # (N, K): one matrix row per output, as stored in the banks
        geo = self.layout.geometry
        y = np.zeros(w.shape[0], dtype=np.float32)
        k0 = 0
        for t in self.layout.matrices[name].tiles:
            y = (y + bank_mac(w[:, k0:k0 + t.k], to_bf16(x[k0:k0 + t.k]), geo.access_elems, self.accum)).astype(np.float32)
            k0 += t.k
        return y

    def step(self, token: int) -> np.ndarray:
        c, W, p = self.c, self.W, self.p
        H, dh = c.n_heads, c.d_head
        geo = self.layout.geometry
        pos = self.position
        x = to_bf16(W["embed.tokens.table"][token].astype(np.float32) + W["embed.pos.table"][pos])
        for L in range(c.n_layers):
            h = asic_layernorm(x, W[f"L{L}.attn.norm.gamma"], W[f"L{L}.attn.norm.beta"], p, c.norm_eps)
            qkv = to_bf16(self.vmm(f"L{L}.qkv", f"L{L}.attn.qkv.w", h) + W[f"L{L}.attn.qkv.b"])
            q, k, v = qkv[:H * dh], qkv[H * dh:2 * H * dh], qkv[2 * H * dh:]
            self.k_cache[L].append(k)
            self.v_cache[L].append(v)
            K = np.stack(self.k_cache[L])  # (kv, H*dh), row-major per position
            V = np.stack(self.v_cache[L])
            ctx = np.zeros(H * dh, dtype=np.float32)
            for head in range(H):
                sl = slice(head * dh, (head + 1) * dh)
                scores = bank_mac(K[:, sl], q[sl], geo.access_elems, self.accum)
                probs = asic_softmax(scores * np.float32(1.0 / np.sqrt(dh)), p)
                kv = len(probs)
                out = np.zeros(dh, dtype=np.float32)
                for t0 in range(0, kv, geo.gb_elems):  # V^T rows over position tiles of the GB size
                    t1 = min(kv, t0 + geo.gb_elems)
                    out = (out + bank_mac(V[t0:t1, sl].T, probs[t0:t1], geo.access_elems, self.accum)).astype(np.float32)
                ctx[sl] = out
            ctx = to_bf16(ctx)
            attn = self.vmm(f"L{L}.proj", f"L{L}.attn.out.w", ctx) + W[f"L{L}.attn.out.b"]
            x = to_bf16(x + attn)
            h = asic_layernorm(x, W[f"L{L}.mlp.norm.gamma"], W[f"L{L}.mlp.norm.beta"], p, c.norm_eps)
            f = asic_gelu(to_bf16(self.vmm(f"L{L}.fc1", f"L{L}.mlp.fc1.w", h) + W[f"L{L}.mlp.fc1.b"]), p)
            x = to_bf16(x + self.vmm(f"L{L}.fc2", f"L{L}.mlp.fc2.w", f) + W[f"L{L}.mlp.fc2.b"])
        h = asic_layernorm(x, W["final.norm.gamma"], W["final.norm.beta"], p, c.norm_eps)
        self.position += 1
        return self.vmm("lm_head", "head.lm.w", h)


def cosimulate(config, spec, ids, seed: int = 0) -> dict:
    """Decode ``ids`` (a 1-D sequence) on both the mapped PIM-GPT arithmetic and the float64 reference.

    Returns the logits of both and the mismatch: ``max_abs``, ``max_rel`` (over the reference's largest
    |logit|) and ``argmax_agree`` (fraction of positions whose top token matches).
    """
    from archsim.mapper.pim_gpt_layout import plan
    from archsim.workloads.functional import decode_logits, make_weights

    ids = np.asarray(ids, dtype=np.int64)
    weights = make_weights(config, seed)
    layout = plan(config, spec, len(ids))
    asic = spec.component("asic").params
    sim = PimGptFunctional(config, weights, layout, asic, spec.component("dram").params["mac_accum"])
    got = np.stack([sim.step(int(t)) for t in ids])
    ref = decode_logits(config, weights, ids[None, :])[0]
    err = np.abs(got.astype(np.float64) - ref)
    return {"pim": got, "reference": ref, "max_abs": float(err.max()),
            "max_rel": float(err.max() / np.abs(ref).max()),
            "argmax_agree": float(np.mean(got.argmax(-1) == ref.argmax(-1)))}

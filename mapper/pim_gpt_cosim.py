"""Functional co-simulation of the PIM-GPT mapping: execute the token programs that
:mod:`archsim.mapper.pim_gpt` emits (the same command objects the timing model runs) on the data model
:class:`archsim.cyclesim.dram.functional.PimMemory`, and compare the logits with the workload's float64
reference.

How it runs, per token, command by command of :meth:`PimGptMapper.token_block`:

* before the first token, every weight matrix is stored in the banks at the addresses the layout assigns
  (:func:`~archsim.mapper.pim_gpt_layout.output_place`, :func:`~archsim.mapper.pim_gpt_layout.segment_start`),
  rounded to bf16;
* a ``pim`` command's DRAM program is executed by the data model; the host (the ASIC) feeds the write data its
  WR_GB / WR_SBK need in program order (the input vector's K-tile slices; this token's K and V values;
  the query; the probabilities per position tile) and receives every RD_MAC result;
* an ``asic`` command computes from those RD_MAC results only: a ``reduce`` adds the partial sums in the order
  the mapping scheme defines (result ``i`` of a VMM is slot ``i mod slots`` of K-tile ``i // slots``; a result
  that never arrived counts as zero, so a command stream that drops work gives wrong numbers rather than a
  crash), then bias, residual, LayerNorm (fast inverse square root), softmax (Taylor exp, Newton-Raphson
  reciprocal) and GELU with the ASIC's arithmetic (``cyclesim.engines.pim_asic``); the attention scale
  1/sqrt(d_head) is applied on the ASIC before the softmax.

Not executed from DRAM: the embedding lookup. The mapper's embedding read is a timing stand-in (fixed rows of
channel 0, not addressed by token), so the ASIC takes the token and position embeddings from the weights.
"""

from __future__ import annotations

import numpy as np

from archsim.base.errors import MappingError
from archsim.base.numerics import to_bf16
from archsim.cyclesim.dram.functional import PimMemory
from archsim.cyclesim.engines.pim_asic import asic_gelu, asic_layernorm, asic_softmax
from archsim.mapper.pim_gpt import PimGptMapper
from archsim.mapper.pim_gpt_layout import ceil_div, segment_start, v_place

# matrix suffix in the layout -> weight key suffix, and the ASIC value feeding its WR_GBs
_MATS = {"qkv": "attn.qkv.w", "proj": "attn.out.w", "fc1": "mlp.fc1.w", "fc2": "mlp.fc2.w"}


def load_weights(mem: PimMemory, layout, name: str, w: np.ndarray) -> None:
    """Store ``w`` (K x N, ``y = x @ w``) as matrix ``name`` of the layout: output ``j`` of every K-tile at
    its segment in (channel, bank) = ``output_place(j)``."""
    geo, m = layout.geometry, layout.matrices[name]
    per_ch = m.slots * geo.banks
    wt = np.zeros((geo.channels * per_ch, m.k), np.float32)
    wt[:m.n] = w.T
    wt = wt.reshape(geo.channels, m.slots, geo.banks, m.k)   # output j = (ch, slot, bank), see output_place
    k0 = 0
    for t in m.tiles:
        for s in range(m.slots):
            row, elem = segment_start(t.row_base, s, t.accesses, geo)
            mem.store(slice(None), slice(None), row, elem, wt[:, s, :, k0:k0 + t.k])
        k0 += t.k


class PimGptMachine:
    """PIM-GPT as data: the banks (``PimMemory``) plus the ASIC's registers, driven by the mapped program."""

    def __init__(self, config, spec, weights: dict, max_positions: int, mapper: PimGptMapper | None = None):
        self.c = config
        self.mapper = mapper or PimGptMapper(config, spec, max_positions)
        self.layout = self.mapper.layout
        self.geo = g = self.layout.geometry
        self.p = spec.component("asic").params
        self.mem = PimMemory(channels=g.channels, banks=g.banks, rows=g.rows, row_elems=g.row_elems,
                             access_elems=g.access_elems, gb_elems=g.gb_elems,
                             accum=spec.component("dram").params["mac_accum"])
        self.W = {k: to_bf16(v) for k, v in weights.items()}
        for name in self.layout.matrices:
            key = "head.lm.w" if name == "lm_head" else f"{name.split('.')[0]}.{_MATS[name.split('.')[1]]}"
            load_weights(self.mem, self.layout, name, self.W[key])
        self.hpc = self.layout.kcache[0].heads_per_channel
        self.position = 0

    # -- helpers ------------------------------------------------------------------------------------------
    def _tile_inputs(self, name: str, x: np.ndarray) -> list:
        """The WR_GB data of one VMM: each K-tile's slice of ``x``, padded to whole columns."""
        out, k0 = [], 0
        for t in self.layout.matrices[name].tiles:
            out.append(np.pad(x[k0:k0 + t.k], (0, t.accesses * self.geo.access_elems - t.k)))
            k0 += t.k
        return out

    def _reduce(self, name: str, reads: list) -> np.ndarray:
        """Add the K-tiles' partial sums: channel result ``i`` is slot ``i mod slots`` (missing ones are 0)."""
        g, m = self.geo, self.layout.matrices[name]
        y = np.zeros((g.channels, m.slots, g.banks), np.float32)
        for ch, rs in enumerate(reads):
            for i, r in enumerate(rs[:m.slots * len(m.tiles)]):
                y[ch, i % m.slots] = (y[ch, i % m.slots] + r).astype(np.float32)
        return y.reshape(-1)[:m.n]

    def _heads(self, v: np.ndarray) -> np.ndarray:
        """(channels, hpc * d_head): the channel's heads' slices of a (H * d_head) vector, padded heads zero."""
        g, dh = self.geo, self.c.d_head
        out = np.zeros((g.channels * self.hpc * dh,), np.float32)
        out[:v.size] = v
        return out.reshape(g.channels, self.hpc * dh)

    def _scores_writes(self, layer: int, pos: int, k: np.ndarray, v: np.ndarray, q: np.ndarray) -> list:
        g, vc = self.geo, self.layout.vcache[layer]
        kh, vh, qh = self._heads(k), self._heads(v), self._heads(q)
        writes = []
        for ch in range(g.channels):
            items = [kh[ch]]
            for d in range(vh.shape[1]):  # one masked column write per dim, in the mapper's order
                _bank, _row, elem = v_place(vc, d, pos, g)
                vals = np.zeros(g.access_elems, np.float32)
                mask = np.zeros(g.access_elems, bool)
                vals[elem % g.access_elems] = vh[ch, d]
                mask[elem % g.access_elems] = True
                items.append((vals, mask))
            items.extend(np.split(qh[ch], self.hpc))  # one WR_GB per head
            writes.append(items)
        return writes

    def _scores(self, reads: list, kv: int) -> np.ndarray:
        """(H, kv) scores: channel result ``i`` is (head ``i // slots``, slot ``i mod slots``), bank ``b`` of
        slot ``s`` is position ``s * banks + b``; positions never read stay 0."""
        g = self.geo
        slots = ceil_div(kv, g.banks)
        s = np.zeros((g.channels, self.hpc, slots * g.banks), np.float32)
        for ch, rs in enumerate(reads):
            for i, r in enumerate(rs[:slots * self.hpc]):
                h, o = divmod(i, slots)
                s[ch, h, o * g.banks:(o + 1) * g.banks] = r
        return s.reshape(g.channels * self.hpc, -1)[:self.c.n_heads, :kv]

    def _context_writes(self, probs: np.ndarray, kv: int) -> list:
        g = self.geo
        ph = np.zeros((g.channels * self.hpc, kv), np.float32)
        ph[:probs.shape[0]] = probs
        ph = ph.reshape(g.channels, self.hpc, kv)
        writes = []
        for ch in range(g.channels):
            items = []
            for h in range(self.hpc):
                for t0 in range(0, kv, g.gb_elems):
                    chunk = ph[ch, h, t0:t0 + g.gb_elems]
                    items.append(np.pad(chunk, (0, ceil_div(chunk.size, g.access_elems) * g.access_elems
                                                - chunk.size)))
            writes.append(items)
        return writes

    def _context(self, reads: list, kv: int) -> np.ndarray:
        """(H * d_head): per head ``h`` and position tile ``t`` one result per V^T row group of the head's
        dims (bank ``b`` of row group ``r`` is dim ``r * banks + b``), partial sums over tiles added."""
        g, dh = self.geo, self.c.d_head
        tiles = ceil_div(kv, g.gb_elems)
        out = np.zeros((g.channels, self.hpc * dh), np.float32)
        for ch, rs in enumerate(reads):
            it = iter(rs)
            for h in range(self.hpc):
                first, last = h * dh // g.banks, ceil_div((h + 1) * dh, g.banks)
                for _t in range(tiles):
                    for grp in range(first, last):
                        r = next(it, None)
                        if r is None:
                            continue
                        for b in range(g.banks):
                            d = grp * g.banks + b
                            if h * dh <= d < (h + 1) * dh:
                                out[ch, d] = np.float32(out[ch, d] + r[b])
        return out.reshape(-1)[:self.c.n_heads * dh]

    # -- one token ------------------------------------------------------------------------------------------
    def step(self, token: int) -> np.ndarray:
        c, W, p, pos = self.c, self.W, self.p, self.position
        H, dh = c.n_heads, c.d_head
        kv = pos + 1
        reads: dict[str, list] = {}
        st: dict[str, np.ndarray] = {}
        logits = np.zeros(c.vocab, np.float32)
        for cmd in self.mapper.token_block(0, pos).commands:
            label = cmd.label
            if cmd.engine == "pim":
                program = cmd.work["program"]
                if label == "embedding":
                    self.mem.execute(program)
                    continue
                L = label.split(".")[0]
                if label.endswith(".scores"):
                    qkv = st["qkv"]
                    writes = self._scores_writes(int(L[1:]), pos, qkv[H * dh:2 * H * dh], qkv[2 * H * dh:],
                                                 qkv[:H * dh])
                elif label.endswith(".context"):
                    writes = self._context_writes(st["probs"], kv)
                else:
                    src = {"qkv": "h", "proj": "ctx", "fc1": "h", "fc2": "f", "lm_head": "h"}[label.split(".")[-1]]
                    writes = [self._tile_inputs(label, st[src])] * self.geo.channels
                reads[label] = self.mem.execute(program, writes)
                continue
            L = label.split(".")[0]
            if label == "embed.add":
                st["x"] = to_bf16(W["embed.tokens.table"][token].astype(np.float32) + W["embed.pos.table"][pos])
            elif label in ("ln_f",) or label.endswith((".ln1", ".ln2")):
                pre = "final.norm" if label == "ln_f" else f"{L}.{'attn' if label.endswith('ln1') else 'mlp'}.norm"
                st["h"] = asic_layernorm(st["x"], W[f"{pre}.gamma"], W[f"{pre}.beta"], p, c.norm_eps)
            elif label.endswith(".context.reduce"):
                st["ctx"] = to_bf16(self._context(reads.get(f"{L}.context", []), kv))
            elif label.endswith(".reduce"):
                mat = label[:-len(".reduce")]
                st["y"] = self._reduce(mat, reads.get(mat, [[] for _ in range(self.geo.channels)]))
            elif label.endswith(".qkv.bias"):
                st["qkv"] = to_bf16(st["y"] + W[f"{L}.attn.qkv.b"])
            elif label.endswith(".softmax"):
                scores = self._scores(reads.get(f"{L}.scores", []), kv)
                st["probs"] = np.stack([asic_softmax(s * np.float32(1.0 / np.sqrt(dh)), p) for s in scores])
            elif label.endswith(".proj.bias_residual"):
                st["x"] = to_bf16(st["x"] + (st["y"] + W[f"{L}.attn.out.b"]))
            elif label.endswith(".fc1.bias"):
                st["f"] = to_bf16(st["y"] + W[f"{L}.mlp.fc1.b"])
            elif label.endswith(".gelu"):
                st["f"] = asic_gelu(st["f"], p)
            elif label.endswith(".fc2.bias_residual"):
                st["x"] = to_bf16(st["x"] + st["y"] + W[f"{L}.mlp.fc2.b"])
            elif label == "argmax":
                logits = st["y"]
            else:
                raise MappingError(f"the co-simulation has no data semantics for ASIC step {label!r}")
        self.position += 1
        return logits


def cosimulate(config, spec, ids, seed: int = 0, mapper: PimGptMapper | None = None) -> dict:
    """Decode ``ids`` (a 1-D sequence) by executing the mapped program on the data model, and on the float64
    reference. Returns both logits and the mismatch: ``max_abs``, ``max_rel`` (over the reference's largest
    |logit|), ``per_token_rel`` (each position's max error over its reference's largest |logit|), and
    ``positions_tiled`` (how many global-buffer tiles the longest context took)."""
    from archsim.workloads.functional import decode_logits, make_weights

    ids = np.asarray(ids, dtype=np.int64)
    weights = make_weights(config, seed)
    m = PimGptMachine(config, spec, weights, len(ids), mapper)
    got = np.stack([m.step(int(t)) for t in ids])
    ref = decode_logits(config, weights, ids[None, :])[0]
    err = np.abs(got.astype(np.float64) - ref)
    return {"pim": got, "reference": ref, "max_abs": float(err.max()),
            "max_rel": float(err.max() / np.abs(ref).max()),
            "per_token_rel": err.max(-1) / np.abs(ref).max(-1),
            "positions_tiled": ceil_div(len(ids), m.geo.gb_elems), "counts": dict(m.mem.counts)}

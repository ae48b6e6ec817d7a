"""Build op graphs of transformer inference steps, lazily.

``model("gpt2-xl").decode(prompt=128, tokens=1024)`` returns a ``Workload``: a description of the run (model,
phase, lengths, batch) that builds each step's ``OpGraph`` only when asked, so a 1024-token decode never holds a
million-node graph. Every decode step has the same ops except the KV length seen by ``Attention``, and within a
step every layer is identical (``OpGraph.layer_signature``), which the simulator's burst mode exploits.

Per layer, GPT/OPT style (names ``L{i}.{block}.{part}``, attributes ``layer=i``, ``block='attn'|'mlp'``)::

    attn.norm (LayerNorm) -> attn.qkv (fused Q,K,V projection) -> attn.kv_append -> attn.attention
    -> attn.out -> attn.residual (add) -> mlp.norm -> mlp.fc1 -> mlp.act (GELU/ReLU) -> mlp.fc2 -> mlp.residual

LLaMA style: RMSNorm, ``attn.rope`` (on the Q and K heads) after ``attn.qkv``, grouped-query attention, and a
SwiGLU MLP ``mlp.gate``, ``mlp.up``, ``mlp.act`` (SiLU of the gate), ``mlp.mul``, ``mlp.down``.
Around the layers: ``embed.tokens`` (+ ``embed.pos`` and ``embed.add`` with learned positions) and
``final.norm`` + ``head.lm`` (the vocabulary projection). The fused QKV weight's columns are
``[Q heads | K heads | V heads]``, each head ``d_head`` wide.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Iterator

from archsim.base.errors import WorkloadError
from archsim.workloads.graph import OpGraph
from archsim.workloads.ops import (Attention, Elementwise, Embedding, Gelu, Gemm, KVAppend, LayerNorm, MpGemm, Relu,
                           RMSNorm, Rope, Silu)
from archsim.workloads.zoo import ModelConfig, get_model

PHASES = ("prefill", "decode")
LOGITS = ("last", "all")


def build_step_graph(config: ModelConfig, *, q_len: int, kv_len: int, batch: int = 1,
                     logits: str = "all") -> OpGraph:
    """The op graph of one forward step: ``q_len`` new tokens per sequence, caches then holding ``kv_len``.

    ``logits='last'`` applies the final norm and LM head to the last position of each sequence only.
    """
    c = config
    _require_int("q_len", q_len)
    _require_int("kv_len", kv_len)
    _require_int("batch", batch)
    if kv_len < q_len:
        raise WorkloadError(f"kv_len = {kv_len} is less than q_len = {q_len}; expected kv_len >= q_len")
    if kv_len > c.max_context:
        raise WorkloadError(f"kv_len = {kv_len} exceeds max_context {c.max_context} of model '{c.name}'; "
                            f"expected kv_len <= {c.max_context}")
    if logits not in LOGITS:
        raise WorkloadError(f"logits = {logits!r}; expected one of: {', '.join(LOGITS)}")
    rows, d, dt = batch * q_len, c.d_model, c.dtype
    H, Hkv, dh = c.n_heads, c.n_kv_heads, c.d_head
    g = OpGraph(f"{c.name}[q_len={q_len},kv_len={kv_len},batch={batch}]")

    def linear(name, K, N, src, layer, block):
        if c.quantized:
            op = MpGemm(name=name, M=rows, N=N, K=K, weight_bits=c.weight_bits, weight_format=c.weight_format,
                        act_format=c.act_format or dt, out_dtype=dt)
        else:
            op = Gemm(name=name, M=rows, N=N, K=K, a_dtype=dt, w_dtype=dt, out_dtype=dt, bias=c.biases)
        g.add(op, [src], layer=layer, block=block)
        return name

    def norm(name, src, layer, block, n_rows=rows):
        cls = LayerNorm if c.norm == "layernorm" else RMSNorm
        g.add(cls(name=name, rows=n_rows, cols=d, eps=c.norm_eps, dtype=dt), [src], layer=layer, block=block)
        return name

    def add(name, a, b, layer, block, op="add", cols=d):
        g.add(Elementwise(name=name, op=op, rows=rows, cols=cols, dtype=dt), [a, b], layer=layer, block=block)
        return name

    g.add(Embedding(name="embed.tokens", vocab=c.vocab, dim=d, tokens=rows, dtype=dt), block="embed")
    x = "embed.tokens"
    if c.learned_pos_embeddings:
        g.add(Embedding(name="embed.pos", vocab=c.max_context, dim=d, tokens=rows, dtype=dt), block="embed")
        x = add("embed.add", "embed.tokens", "embed.pos", None, "embed")

    for i in range(c.n_layers):
        p = f"L{i}"
        # attention block
        h = norm(f"{p}.attn.norm", x, i, "attn")
        qkv = linear(f"{p}.attn.qkv", d, (H + 2 * Hkv) * dh, h, i, "attn")
        kv_srcs, q_src = [qkv], qkv
        if c.rope_theta is not None:
            g.add(Rope(name=f"{p}.attn.rope", heads=H + Hkv, head_dim=dh, q_len=q_len, pos=kv_len - q_len,
                       batch=batch, theta=c.rope_theta, dtype=dt), [qkv], layer=i, block="attn")
            kv_srcs, q_src = [f"{p}.attn.rope", qkv], f"{p}.attn.rope"
        g.add(KVAppend(name=f"{p}.attn.kv_append", heads=Hkv, head_dim=dh, q_len=q_len, kv_len=kv_len,
                       batch=batch, dtype=dt), kv_srcs, layer=i, block="attn")
        g.add(Attention(name=f"{p}.attn.attention", heads=H, kv_heads=Hkv, head_dim=dh, q_len=q_len,
                        kv_len=kv_len, batch=batch, dtype=dt), [q_src, f"{p}.attn.kv_append"], layer=i, block="attn")
        o = linear(f"{p}.attn.out", H * dh, d, f"{p}.attn.attention", i, "attn")
        x = add(f"{p}.attn.residual", o, x, i, "attn")
        # MLP block
        h = norm(f"{p}.mlp.norm", x, i, "mlp")
        ff = c.d_ff
        if c.gated:
            gate = linear(f"{p}.mlp.gate", d, ff, h, i, "mlp")
            up = linear(f"{p}.mlp.up", d, ff, h, i, "mlp")
            g.add(Silu(name=f"{p}.mlp.act", rows=rows, cols=ff, dtype=dt), [gate], layer=i, block="mlp")
            mul = add(f"{p}.mlp.mul", f"{p}.mlp.act", up, i, "mlp", op="mul", cols=ff)
            o = linear(f"{p}.mlp.down", ff, d, mul, i, "mlp")
        else:
            f1 = linear(f"{p}.mlp.fc1", d, ff, h, i, "mlp")
            act = (Gelu(name=f"{p}.mlp.act", rows=rows, cols=ff, dtype=dt) if c.activation == "gelu" else
                   Relu(name=f"{p}.mlp.act", rows=rows, cols=ff, dtype=dt, squared=c.activation == "squared_relu"))
            g.add(act, [f1], layer=i, block="mlp")
            o = linear(f"{p}.mlp.fc2", ff, d, f"{p}.mlp.act", i, "mlp")
        x = add(f"{p}.mlp.residual", o, x, i, "mlp")

    out_rows = batch if logits == "last" else rows
    h = norm("final.norm", x, None, "head", n_rows=out_rows)
    g.add(Gemm(name="head.lm", M=out_rows, N=c.vocab, K=d, a_dtype=dt, w_dtype=dt, out_dtype=dt, bias=False),
          [h], block="head")
    return g


def _require_int(key: str, value, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        what = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise WorkloadError(f"{key} = {value!r}; expected {what}")


class Step:
    """One forward step of a workload; ``graph`` is built on first access (and cached by the workload)."""

    __slots__ = ("index", "q_len", "kv_len", "_workload")

    def __init__(self, index: int, q_len: int, kv_len: int, workload: Workload):
        self.index, self.q_len, self.kv_len, self._workload = index, q_len, kv_len, workload

    @property
    def graph(self) -> OpGraph:
        return self._workload.step_graph(self.kv_len, self.q_len)

    def __repr__(self) -> str:
        return f"Step(index={self.index}, q_len={self.q_len}, kv_len={self.kv_len})"


class Workload:
    """An inference run of one model: a prefill of ``prompt`` tokens, or a decode of ``tokens`` tokens.

    Decode step ``i`` (0-based) processes one token per sequence at position ``prompt + i`` with caches then
    holding ``kv_len = prompt + i + 1`` positions (the prompt is assumed already prefilled).
    """

    GRAPH_CACHE_SIZE = 64

    def __init__(self, config: ModelConfig, phase: str, *, prompt: int, tokens: int, batch: int = 1,
                 logits: str = "last", beyond_context: bool = False):
        if phase not in PHASES:
            raise WorkloadError(f"phase = {phase!r}; expected one of: {', '.join(PHASES)}")
        if phase == "prefill":
            _require_int("prompt", prompt)
            if tokens != 0:
                raise WorkloadError(f"tokens = {tokens!r} for a prefill; expected 0")
        else:
            _require_int("prompt", prompt, minimum=0)
            _require_int("tokens", tokens)
        _require_int("batch", batch)
        if logits not in LOGITS:
            raise WorkloadError(f"logits = {logits!r}; expected one of: {', '.join(LOGITS)}")
        self.context_note = None
        if prompt + tokens > config.max_context and beyond_context:
            # Timing studies (PIM-GPT's 1,024 generated tokens after a prompt) run past GPT-2's 1,024
            # positions; the position table is extended so every step is well-formed. Numerics past the
            # trained context are meaningless, which the note says.
            self.context_note = (f"prompt + tokens = {prompt + tokens} exceeds the {config.max_context}-token "
                                 f"context of {config.name}; the position table is extended for timing only")
            config = config.replace(max_context=prompt + tokens)
        if prompt + tokens > config.max_context:
            raise WorkloadError(f"prompt + tokens = {prompt + tokens} exceeds max_context {config.max_context} of "
                                f"model '{config.name}'; expected prompt + tokens <= {config.max_context}")
        self.model, self.phase = config, phase
        self.prompt, self.tokens, self.batch, self.logits = prompt, tokens, batch, logits
        self._graphs: OrderedDict[tuple[int, int], OpGraph] = OrderedDict()

    def __repr__(self) -> str:
        return (f"Workload({self.model.name!r}, {self.phase}, prompt={self.prompt}, tokens={self.tokens}, "
                f"batch={self.batch})")

    @property
    def n_steps(self) -> int:
        return 1 if self.phase == "prefill" else self.tokens

    def step(self, index: int) -> Step:
        """Step ``index`` (0-based)."""
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < self.n_steps:
            raise WorkloadError(f"step index = {index!r}; expected an integer in [0, {self.n_steps - 1}]")
        if self.phase == "prefill":
            return Step(0, self.prompt, self.prompt, self)
        return Step(index, 1, self.prompt + index + 1, self)

    def steps(self) -> Iterator[Step]:
        """The steps in order; their graphs are built only when accessed."""
        for i in range(self.n_steps):
            yield self.step(i)

    def step_graph(self, kv_len: int, q_len: int = 1) -> OpGraph:
        """The graph of a step with ``q_len`` new tokens and ``kv_len`` cached positions (LRU-cached)."""
        key = (kv_len, q_len)
        g = self._graphs.get(key)
        if g is None:
            g = build_step_graph(self.model, q_len=q_len, kv_len=kv_len, batch=self.batch,
                                 logits=self.logits if self.phase == "prefill" else "all")
            self._graphs[key] = g
            if len(self._graphs) > self.GRAPH_CACHE_SIZE:
                self._graphs.popitem(last=False)
        else:
            self._graphs.move_to_end(key)
        return g

    # -- counting ----------------------------------------------------------------------------------------
    def totals(self) -> dict[str, int | float]:
        """``{'steps', 'ops', 'flops', 'bytes_read', 'bytes_written'}`` summed over all steps.

        A decode's per-step counts are affine in ``kv_len`` (only attention grows), so the sum is taken in
        closed form from three step graphs (first, second, last); if the last one contradicts the affine fit,
        every step is summed instead.
        """
        out = self._sum_steps(lambda g: g.totals())
        return {"steps": self.n_steps, **out}

    def by_kind(self):
        """Per-kind counts summed over all steps, as a pandas DataFrame (columns as ``OpGraph.by_kind``)."""
        import pandas as pd

        def per_kind(g):
            df = g.by_kind().set_index("kind")
            return {(k, col): df.at[k, col] for k in df.index for col in df.columns}

        summed = self._sum_steps(per_kind)
        kinds = sorted({k for k, _ in summed})
        cols = ["count", "flops", "bytes_read", "bytes_written", "bytes"]
        return pd.DataFrame([[k] + [summed[(k, c)] for c in cols] for k in kinds], columns=["kind"] + cols)

    def _sum_steps(self, fn) -> dict:
        steps = list(self.steps()) if self.n_steps <= 3 else None
        if steps is not None:
            return _add_all([fn(s.graph) for s in steps])
        first, second, last = self.step(0), self.step(1), self.step(self.n_steps - 1)
        a, b, z = fn(first.graph), fn(second.graph), fn(last.graph)
        n = self.n_steps
        if set(a) == set(b) == set(z):
            slope = {k: b[k] - a[k] for k in a}
            if all(math.isclose(a[k] + slope[k] * (n - 1), z[k], rel_tol=1e-12, abs_tol=1e-9) for k in a):
                tri = n * (n - 1) // 2
                return {k: _tidy(n * a[k] + slope[k] * tri) for k in a}
        return _add_all([fn(s.graph) for s in self.steps()])


def _tidy(v):
    """Return whole-valued numbers as int."""
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v.item() if hasattr(v, "item") else v


def _add_all(dicts: list[dict]) -> dict:
    out: dict = {}
    for d in dicts:
        for k, v in d.items():
            out[k] = out.get(k, 0) + v
    return {k: _tidy(v) for k, v in out.items()}


class Model:
    """Entry point for one model's workloads: ``model("llama2-7b").decode(prompt=128, tokens=256)``."""

    def __init__(self, config: ModelConfig):
        self.config = config

    def __repr__(self) -> str:
        return f"Model({self.config.name!r})"

    def decode(self, prompt: int, tokens: int, batch: int = 1, beyond_context: bool = False) -> Workload:
        """Generate ``tokens`` tokens per sequence after a ``prompt``-token context, one step per token.

        ``beyond_context=True`` allows ``prompt + tokens`` past the model's context (for timing studies): the
        position table is extended and ``Workload.context_note`` says so.
        """
        return Workload(self.config, "decode", prompt=prompt, tokens=tokens, batch=batch,
                        beyond_context=beyond_context)

    def prefill(self, prompt: int, batch: int = 1, logits: str = "last") -> Workload:
        """Process a ``prompt``-token context in one step (``logits='all'`` projects every position)."""
        return Workload(self.config, "prefill", prompt=prompt, tokens=0, batch=batch, logits=logits)


def model(name: str | ModelConfig, **overrides) -> Model:
    """The workloads of a zoo model (or a given ``ModelConfig``), with optional config ``overrides``.

    ``model("gpt2-xl", dtype="bf16")`` keeps the shapes and changes the dtype.
    """
    config = get_model(name)
    if overrides:
        config = config.replace(**overrides)
    return Model(config)


#: Alias of ``model`` reading naturally for GPT models: ``workloads.gpt("gpt2-xl").decode(...)``.
gpt = model

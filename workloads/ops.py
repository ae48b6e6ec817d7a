"""Typed operations of the workload IR, each with its cost formulas and a numpy reference.

An op is a small frozen dataclass that knows its shapes and dtypes, so a mapper can lower it and a report can
count it without running anything:

* ``inputs()`` gives ``(shape, dtype)`` of every argument of ``reference`` in order, ``output()`` the result;
* ``flops()`` counts arithmetic (a multiply-add is 2 FLOPs; the per-element counts of non-linear ops are stated
  in each class docstring);
* ``bytes_read()`` / ``bytes_written()`` count the bytes the op must move at the dtypes given (sub-byte types are
  counted by bits; an op that touches only part of an input, such as an embedding gather, says so);
* ``reference(*inputs)`` is a plain numpy implementation (computed in the inputs' float precision, no rounding
  emulation: the mapper's co-simulation emulates bf16/int where the hardware uses them).

Adding an op kind (for example ``HashGridEncode`` or ``Mlp`` for NGPC) is one class deriving from
``workloads.op_base.Op`` (or ``workloads.ops.Op``, the same class)::

    @register_op
    @dataclass(frozen=True, slots=True, kw_only=True)
    class HashGridEncode(Op):
        kind: ClassVar[str] = "hashgrid_encode"
        points: int
        levels: int
        ...
        def inputs(self): ...
        def output(self): ...
        def flops(self): ...
        def reference(self, *inputs): ...

``register_op`` puts the class into ``OP_KINDS`` (kind -> class), which the mapper and reports look up by name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from archsim.base.errors import WorkloadError
from archsim.workloads.op_base import (DTYPE_BITS, DTYPE_BYTES, OP_KINDS, Op, Shape, dtype_bits, nbytes,  # noqa: F401
                               register_op)


@register_op
@dataclass(frozen=True, slots=True, kw_only=True)
class Gemm(Op):
    """``out[M,N] = a[M,K] @ w[K,N] (+ bias[N])``; a GEMV when M == 1. FLOPs 2MNK (+MN for the bias)."""

    kind: ClassVar[str] = "gemm"
    M: int
    N: int
    K: int
    a_dtype: str = "fp16"
    w_dtype: str = "fp16"
    out_dtype: str = "fp16"
    bias: bool = False

    def __post_init__(self):
        self._require_positive("M", "N", "K")
        self._require_dtypes("a_dtype", "w_dtype", "out_dtype")

    @property
    def is_gemv(self) -> bool:
        return self.M == 1

    def inputs(self):
        specs = [((self.M, self.K), self.a_dtype), ((self.K, self.N), self.w_dtype)]
        if self.bias:
            specs.append(((self.N,), self.w_dtype))
        return tuple(specs)

    def output(self):
        return (self.M, self.N), self.out_dtype

    def flops(self) -> int:
        return 2 * self.M * self.N * self.K + (self.M * self.N if self.bias else 0)

    def reference(self, *inputs):
        a, w, *b = self._check(inputs)
        out = a @ w
        return out + b[0] if b else out


#: Integer code range (lo, hi) of each MpGemm weight format for ``bits`` bits.
def _code_range(fmt: str, bits: int) -> tuple[int, int]:
    if fmt == "uint":
        return 0, 2**bits - 1
    if fmt == "int":
        return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    return -1, 1  # binary (codes -1, +1) and ternary (-1, 0, +1)


WEIGHT_FORMATS = {"uint": range(1, 9), "int": range(1, 9), "binary": (1,), "ternary": (2,)}
ACT_FORMATS = ("fp16", "bf16", "fp8_e4m3", "fp8_e5m2", "int8", "int16", "fp32")


@register_op
@dataclass(frozen=True, slots=True, kw_only=True)
class MpGemm(Op):
    """Mixed-precision GEMM: high-bit activations times low-bit weight codes.

    ``out = a @ W`` with ``W[k,n] = scale[n] * (q[k,n] - zero[n])`` (one scale and zero point per output
    channel). Codes: ``uint`` 0..2^b-1, ``int`` -2^(b-1)..2^(b-1)-1, ``binary`` {-1,+1} (b=1), ``ternary``
    {-1,0,+1} (b=2, BitNet b1.58). FLOPs 2MNK (the per-channel dequantization epilogue is not counted).
    """

    kind: ClassVar[str] = "mpgemm"
    M: int
    N: int
    K: int
    weight_bits: int
    weight_format: str = "uint"
    act_format: str = "fp16"
    out_dtype: str = "fp16"
    scale_dtype: str = "fp16"

    def __post_init__(self):
        self._require_positive("M", "N", "K", "weight_bits")
        if self.weight_format not in WEIGHT_FORMATS:
            raise WorkloadError(f"op {self.name!r}: weight_format = {self.weight_format!r}; "
                                f"expected one of: {', '.join(WEIGHT_FORMATS)}")
        if self.weight_bits not in WEIGHT_FORMATS[self.weight_format]:
            allowed = list(WEIGHT_FORMATS[self.weight_format])
            raise WorkloadError(f"op {self.name!r}: weight_bits = {self.weight_bits} for format "
                                f"{self.weight_format!r}; expected one of: {', '.join(map(str, allowed))}")
        if self.act_format not in ACT_FORMATS:
            raise WorkloadError(f"op {self.name!r}: act_format = {self.act_format!r}; "
                                f"expected one of: {', '.join(ACT_FORMATS)}")
        self._require_dtypes("out_dtype", "scale_dtype")

    @property
    def is_gemv(self) -> bool:
        return self.M == 1

    @property
    def w_dtype(self) -> str:
        """Storage dtype of the codes (``int2`` for ternary, ``uint4`` for 4-bit unsigned, ...)."""
        return f"{'u' if self.weight_format == 'uint' else ''}int{self.weight_bits}"

    def inputs(self):
        return (((self.M, self.K), self.act_format), ((self.K, self.N), self.w_dtype),
                ((self.N,), self.scale_dtype), ((self.N,), self.scale_dtype))

    def output(self):
        return (self.M, self.N), self.out_dtype

    def flops(self) -> int:
        return 2 * self.M * self.N * self.K

    def dequantize(self, q: np.ndarray, scale: np.ndarray, zero: np.ndarray) -> np.ndarray:
        """The real-valued weight matrix ``scale * (q - zero)``, after checking the codes."""
        q = np.asarray(q)
        lo, hi = _code_range(self.weight_format, self.weight_bits)
        if not np.array_equal(q, np.round(q)) or q.size and (q.min() < lo or q.max() > hi):
            raise WorkloadError(f"op {self.name!r}: weight codes must be integers in [{lo}, {hi}] "
                                f"for format {self.weight_format!r} with {self.weight_bits} bits")
        if self.weight_format == "binary" and np.any(q == 0):
            raise WorkloadError(f"op {self.name!r}: binary weight codes must be -1 or +1")
        return np.asarray(scale)[None, :] * (q - np.asarray(zero)[None, :])

    def reference(self, *inputs):
        a, q, scale, zero = self._check(inputs)
        return a @ self.dequantize(q, scale, zero)


@register_op
@dataclass(frozen=True, slots=True, kw_only=True)
class Attention(Op):
    """Scaled dot-product attention ``softmax(Q K^T / sqrt(d)) V`` with grouped-query heads.

    Q is (batch, heads, q_len, head_dim); K and V are the caches (batch, kv_heads, kv_len, head_dim), each KV head
    shared by heads/kv_heads query heads. Causal when q_len > 1: query i sits at position kv_len - q_len + i.
    FLOPs count only the unmasked (query, key) pairs: ``parts()`` splits them into QK^T (2d per pair), the 1/sqrt(d)
    scale (1), softmax (5: max, subtract, exp, sum, divide) and the context product AV (2d).
    """

    kind: ClassVar[str] = "attention"
    heads: int
    head_dim: int
    q_len: int
    kv_len: int
    batch: int = 1
    kv_heads: int | None = None
    dtype: str = "fp16"

    def __post_init__(self):
        self._require_positive("heads", "head_dim", "q_len", "kv_len", "batch", "n_kv_heads")
        self._require_dtypes("dtype")
        if self.heads % self.n_kv_heads:
            raise WorkloadError(f"op {self.name!r}: heads = {self.heads} is not a multiple of "
                                f"kv_heads = {self.n_kv_heads}")
        if self.kv_len < self.q_len:
            raise WorkloadError(f"op {self.name!r}: kv_len = {self.kv_len}; expected kv_len >= q_len = {self.q_len}")

    @property
    def n_kv_heads(self) -> int:
        return self.heads if self.kv_heads is None else self.kv_heads

    @property
    def causal(self) -> bool:
        return self.q_len > 1

    @property
    def pairs(self) -> int:
        """Unmasked (query, key) pairs over all heads and sequences."""
        q, kv = self.q_len, self.kv_len
        return self.batch * self.heads * (q * (kv - q) + q * (q + 1) // 2)

    def parts(self) -> dict[str, int]:
        p, d = self.pairs, self.head_dim
        return {"qk": 2 * p * d, "scale": p, "softmax": 5 * p, "av": 2 * p * d}

    def inputs(self):
        b, h, hk, d = self.batch, self.heads, self.n_kv_heads, self.head_dim
        return (((b, h, self.q_len, d), self.dtype), ((b, hk, self.kv_len, d), self.dtype),
                ((b, hk, self.kv_len, d), self.dtype))

    def output(self):
        return (self.batch, self.heads, self.q_len, self.head_dim), self.dtype

    def flops(self) -> int:
        return sum(self.parts().values())

    def reference(self, *inputs):
        q, k, v = self._check(inputs)
        group = self.heads // self.n_kv_heads
        k, v = np.repeat(k, group, axis=1), np.repeat(v, group, axis=1)
        scores = q @ k.swapaxes(-1, -2) / math.sqrt(self.head_dim)
        if self.causal:
            pos = self.kv_len - self.q_len + np.arange(self.q_len)
            scores = np.where(np.arange(self.kv_len)[None, :] > pos[:, None], -np.inf, scores)
        return _softmax(scores) @ v


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class _RowOp(Op):
    """Shared shape logic of ops over a (rows, cols) activation."""

    rows: int
    cols: int
    dtype: str = "fp16"
    per_element: ClassVar[int] = 1

    def __post_init__(self):
        self._require_positive("rows", "cols")
        self._require_dtypes("dtype")

    def inputs(self):
        return (((self.rows, self.cols), self.dtype),)

    def output(self):
        return (self.rows, self.cols), self.dtype

    def flops(self) -> int:
        return self.per_element * self.rows * self.cols


@register_op
@dataclass(frozen=True, slots=True, kw_only=True)
class Softmax(_RowOp):
    """Softmax along the last axis of (rows, cols). FLOPs 5 per element (max, subtract, exp, sum, divide)."""

    kind: ClassVar[str] = "softmax"
    per_element: ClassVar[int] = 5

    def reference(self, *inputs):
        (x,) = self._check(inputs)
        return _softmax(x)


@register_op
@dataclass(frozen=True, slots=True, kw_only=True)
class LayerNorm(_RowOp):
    """``(x - mean) / sqrt(var + eps) * gamma + beta`` per row. FLOPs 7 per element."""

    kind: ClassVar[str] = "layernorm"
    per_element: ClassVar[int] = 7
    eps: float = 1e-5

    def inputs(self):
        return (((self.rows, self.cols), self.dtype), ((self.cols,), self.dtype), ((self.cols,), self.dtype))

    def reference(self, *inputs):
        x, gamma, beta = self._check(inputs)
        mu = x.mean(axis=-1, keepdims=True)
        var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
        return (x - mu) / np.sqrt(var + self.eps) * gamma + beta


@register_op
@dataclass(frozen=True, slots=True, kw_only=True)
class RMSNorm(_RowOp):
    """``x / sqrt(mean(x^2) + eps) * gamma`` per row (LLaMA). FLOPs 4 per element."""

    kind: ClassVar[str] = "rmsnorm"
    per_element: ClassVar[int] = 4
    eps: float = 1e-5

    def inputs(self):
        return (((self.rows, self.cols), self.dtype), ((self.cols,), self.dtype))

    def reference(self, *inputs):
        x, gamma = self._check(inputs)
        return x / np.sqrt((x * x).mean(axis=-1, keepdims=True) + self.eps) * gamma


@register_op
@dataclass(frozen=True, slots=True, kw_only=True)
class Gelu(_RowOp):
    """GELU, tanh approximation as in GPT-2: ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``. 9 FLOPs/elem."""

    kind: ClassVar[str] = "gelu"
    per_element: ClassVar[int] = 9

    def reference(self, *inputs):
        (x,) = self._check(inputs)
        return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))


@register_op
@dataclass(frozen=True, slots=True, kw_only=True)
class Silu(_RowOp):
    """SiLU ``x * sigmoid(x)`` (the SwiGLU gate). FLOPs 4 per element (exp, add, divide, multiply)."""

    kind: ClassVar[str] = "silu"
    per_element: ClassVar[int] = 4

    def reference(self, *inputs):
        (x,) = self._check(inputs)
        return x / (1.0 + np.exp(-x))


@register_op
@dataclass(frozen=True, slots=True, kw_only=True)
class Relu(_RowOp):
    """``max(x, 0)`` (OPT), or its square when ``squared`` (squared-ReLU MLPs). FLOPs 1 (2 if squared) per element."""

    kind: ClassVar[str] = "relu"
    squared: bool = False

    def flops(self) -> int:
        return (2 if self.squared else 1) * self.rows * self.cols

    def reference(self, *inputs):
        (x,) = self._check(inputs)
        r = np.maximum(x, 0.0)
        return r * r if self.squared else r


ELEMENTWISE_OPS = {"add": np.add, "mul": np.multiply}


@register_op
@dataclass(frozen=True, slots=True, kw_only=True)
class Elementwise(_RowOp):
    """Binary element-wise ``a (op) b`` on two (rows, cols) tensors (residual add, SwiGLU product). 1 FLOP/elem."""

    kind: ClassVar[str] = "elementwise"
    op: str = "add"

    def __post_init__(self):
        _RowOp.__post_init__(self)
        if self.op not in ELEMENTWISE_OPS:
            raise WorkloadError(f"op {self.name!r}: op = {self.op!r}; expected one of: {', '.join(ELEMENTWISE_OPS)}")

    def inputs(self):
        return (((self.rows, self.cols), self.dtype),) * 2

    def reference(self, *inputs):
        a, b = self._check(inputs)
        return ELEMENTWISE_OPS[self.op](a, b)


@register_op
@dataclass(frozen=True, slots=True, kw_only=True)
class Embedding(Op):
    """Row gather ``table[ids]`` from a (vocab, dim) table. No FLOPs; reads only the ``tokens`` rows gathered."""

    kind: ClassVar[str] = "embedding"
    vocab: int
    dim: int
    tokens: int
    dtype: str = "fp16"
    ids_dtype: str = "int32"

    def __post_init__(self):
        self._require_positive("vocab", "dim", "tokens")
        self._require_dtypes("dtype", "ids_dtype")

    def inputs(self):
        return (((self.tokens,), self.ids_dtype), ((self.vocab, self.dim), self.dtype))

    def output(self):
        return (self.tokens, self.dim), self.dtype

    def flops(self) -> int:
        return 0

    def bytes_read(self):
        return nbytes(self.tokens, self.ids_dtype) + nbytes(self.tokens * self.dim, self.dtype)

    def reference(self, *inputs):
        ids, table = self._check(inputs)
        if ids.size and (ids.min() < 0 or ids.max() >= self.vocab):
            raise WorkloadError(f"op {self.name!r}: ids must lie in [0, {self.vocab - 1}]; "
                                f"got [{ids.min()}, {ids.max()}]")
        return table[ids]


@register_op
@dataclass(frozen=True, slots=True, kw_only=True)
class KVAppend(Op):
    """Append ``q_len`` new K and V vectors per KV head to caches that then hold ``kv_len`` positions.

    Reads the new vectors only and writes ``2 * batch * heads * q_len * head_dim`` elements; no FLOPs.
    The reference returns the updated caches stacked: (2, batch, heads, kv_len, head_dim).
    """

    kind: ClassVar[str] = "kv_append"
    heads: int
    head_dim: int
    q_len: int
    kv_len: int
    batch: int = 1
    dtype: str = "fp16"

    def __post_init__(self):
        self._require_positive("heads", "head_dim", "q_len", "kv_len", "batch")
        self._require_dtypes("dtype")
        if self.kv_len < self.q_len:
            raise WorkloadError(f"op {self.name!r}: kv_len = {self.kv_len}; expected kv_len >= q_len = {self.q_len}")

    def inputs(self):
        b, h, d = self.batch, self.heads, self.head_dim
        old, new = (b, h, self.kv_len - self.q_len, d), (b, h, self.q_len, d)
        return ((old, self.dtype), (old, self.dtype), (new, self.dtype), (new, self.dtype))

    def output(self):
        return (2, self.batch, self.heads, self.kv_len, self.head_dim), self.dtype

    def flops(self) -> int:
        return 0

    def bytes_read(self):
        return nbytes(2 * self.batch * self.heads * self.q_len * self.head_dim, self.dtype)

    def bytes_written(self):
        return self.bytes_read()

    def reference(self, *inputs):
        k_cache, v_cache, k_new, v_new = self._check(inputs)
        return np.stack([np.concatenate([k_cache, k_new], axis=2), np.concatenate([v_cache, v_new], axis=2)])


@register_op
@dataclass(frozen=True, slots=True, kw_only=True)
class Rope(Op):
    """Rotary position embedding (LLaMA, "rotate half" layout) on (batch, heads, q_len, head_dim).

    Query i is at position ``pos + i``; frequencies ``theta^(-2j/head_dim)``. FLOPs 3 per element (the sin/cos
    tables are precomputed).
    """

    kind: ClassVar[str] = "rope"
    heads: int
    head_dim: int
    q_len: int
    pos: int = 0
    batch: int = 1
    theta: float = 10000.0
    dtype: str = "fp16"

    def __post_init__(self):
        self._require_positive("heads", "head_dim", "q_len", "batch")
        self._require_dtypes("dtype")
        if self.head_dim % 2:
            raise WorkloadError(f"op {self.name!r}: head_dim = {self.head_dim}; expected an even number for RoPE")

    def inputs(self):
        return (((self.batch, self.heads, self.q_len, self.head_dim), self.dtype),)

    def output(self):
        return self.inputs()[0]

    def flops(self) -> int:
        return 3 * self.batch * self.heads * self.q_len * self.head_dim

    def reference(self, *inputs):
        (x,) = self._check(inputs)
        half = self.head_dim // 2
        inv_freq = self.theta ** (-np.arange(half) * 2.0 / self.head_dim)
        ang = (self.pos + np.arange(self.q_len))[:, None] * inv_freq[None, :]
        cos, sin = np.cos(ang), np.sin(ang)
        x1, x2 = x[..., :half], x[..., half:]
        return np.concatenate([x1 * cos - x2 * sin, x2 * cos + x1 * sin], axis=-1)

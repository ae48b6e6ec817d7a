"""The InstInfer attention engine core's fixed-point arithmetic, as numpy functions over plain arrays.

The core streams one key row and one value row per cycle against a query vector q (d = head_dim elements) and
keeps FlashAttention-style online-softmax state: a running maximum, a running sum of exponentials and an
accumulator per value channel. It is the numerical reference of :class:`archsim.rtl.attention.AttentionCore`
(bit for bit), and the InstInfer model can call :func:`attention_core` on each page of keys and values in order.

Formats (defaults are parameters):

* q, K, V: signed ``in_bits`` (8) integers; the real values are ``s_q q``, ``s_k K``, ``s_v V`` (per-tensor scales
  in software, :func:`quantize_symmetric`).
* score: ``s_j = sum_i q_i K[j, i]`` exact (``2 in_bits + log2 d`` bits).
* scale and shift registers: the softmax runs in base 2, ``exp(x) = 2^(x log2 e)``; the factor
  ``c = s_q s_k log2(e) / sqrt(d)`` times 2^TF is held as a 16-bit mantissa ``scale`` in [2^15, 2^16) and a right
  shift ``shift`` (0..63): ``scale 2^-shift = rne(c 2^TF)`` to 16 significant bits (:func:`scale_register`).
* base-2 logit: ``t_j = (s_j scale) >> shift`` (arithmetic, floor), TF = 8 fractional bits.
* running max ``mx``: the largest t so far (the first key of a stream sets it).
* exp approximation ``pow2neg(u)`` = 2^(-u / 2^TF) for u >= 0, as an unsigned number with PF = 15 fractional bits
  (2^15 is 1.0): with n = u >> TF and f = u mod 2^TF, the top 4 bits of f pick a 17-entry table
  ``L[i] = rne(2^(-i/16) 2^PF)`` and the low TF - 4 bits interpolate linearly,
  ``y = L[i] - (((L[i] - L[i+1]) lo) >> (TF - 4))``, then ``pow2neg = y >> n`` (0 once n > PF). Its error is at
  most about 2.4e-4 relative from the interpolation plus 2^-15 absolute from the rounding.
* update per key j (``e_old = pow2neg(mx_new - mx_old)``, ``e_new = pow2neg(mx_new - t_j)``):
  ``l = ((l e_old) >> PF) + e_new`` and ``o_i = ((o_i e_old) >> PF) + e_new V[j, i]`` (arithmetic shifts, floor);
  the first key of a stream starts from l = 0, o = 0.
* output (one division per channel, after the last key; not in the core): ``out_i = s_v o_i / l``
  (:func:`attention_output`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["TF", "PF", "EXP_TABLE", "pow2neg", "scale_register", "AttentionState", "attention_core",
           "attention_output", "quantize_symmetric", "attention_fixed", "attention_float"]

TF, PF = 8, 15
SCALE_BITS, SHIFT_BITS = 16, 6
EXP_SEGMENTS = 16
EXP_TABLE = tuple(int(np.rint(2.0 ** (-i / EXP_SEGMENTS) * 2 ** PF)) for i in range(EXP_SEGMENTS + 1))


def pow2neg(u) -> np.ndarray:
    """2^(-u / 2^TF) for integer u >= 0, unsigned with PF fractional bits (the core's exp unit)."""
    u = np.asarray(u, np.int64)
    n, f = u >> TF, u & ((1 << TF) - 1)
    lo_bits = TF - 4
    hi, lo = f >> lo_bits, f & ((1 << lo_bits) - 1)
    table = np.array(EXP_TABLE, np.int64)
    a, b = table[hi], table[hi + 1]
    y = a - (((a - b) * lo) >> lo_bits)
    return np.where(n > PF, 0, y >> np.minimum(n, PF + 1))


def scale_register(s_q: float, s_k: float, head_dim: int) -> tuple[int, int]:
    """(scale, shift) registers for real scores s_q s_k (q . k) / sqrt(d) in the base-2 domain with TF
    fractional bits: scale in [2^15, 2^16), scale 2^-shift = c 2^TF rounded to 16 significant bits."""
    c = s_q * s_k * math.log2(math.e) / math.sqrt(head_dim) * 2 ** TF
    if not c > 0 or not math.isfinite(c):
        raise ValueError(f"the score scale must be a positive number, got s_q={s_q}, s_k={s_k}")
    shift = SCALE_BITS - 1 - math.floor(math.log2(c))
    scale = int(np.rint(c * 2.0 ** shift))
    if scale == 1 << SCALE_BITS:
        scale, shift = scale >> 1, shift - 1
    if not 0 <= shift < 1 << SHIFT_BITS:
        raise ValueError(f"the score scale {c / 2 ** TF:.3g} needs a shift of {shift}, outside 0..63; rescale q or K")
    return scale, shift


@dataclass
class AttentionState:
    """Online-softmax state after a stream of keys: running max (TF fractional bits), running sum l (PF
    fractional bits) and the value accumulators o (PF fractional bits, times the V units)."""

    mx: int
    l: int
    o: np.ndarray


def attention_core(q, K, V, scale: int, shift: int, state: AttentionState | None = None) -> AttentionState:
    """Run keys K [n, d] and values V [n, d] (int arrays) against q [d] through the core, continuing ``state``
    (a previous page of the same stream) or starting a new stream. Returns the state after the last key."""
    q = np.asarray(q, np.int64)
    K, V = np.asarray(K, np.int64), np.asarray(V, np.int64)
    scores = K @ q
    t = (scores * int(scale)) >> int(shift)
    if state is None:
        mx, l, o = None, 0, np.zeros(q.shape[0], np.int64)
    else:
        mx, l, o = state.mx, state.l, state.o.copy()
    for j in range(K.shape[0]):
        tj = int(t[j])
        new = tj if mx is None else max(mx, tj)
        e_old = 0 if mx is None else int(pow2neg(new - mx))
        e_new = int(pow2neg(new - tj))
        l = ((l * e_old) >> PF) + e_new
        o = ((o * e_old) >> PF) + e_new * V[j]
        mx = new
    return AttentionState(mx, l, o)


def attention_output(state: AttentionState, s_v: float = 1.0) -> np.ndarray:
    """The attention output s_v o / l (float64), the division done once per channel after the stream."""
    return s_v * state.o.astype(np.float64) / float(state.l)


def quantize_symmetric(x, bits: int = 8) -> tuple[np.ndarray, float]:
    """Per-tensor symmetric quantization: (int codes, scale) with x ~ scale * codes, codes in +-(2^(bits-1)-1)."""
    x = np.asarray(x, np.float64)
    qmax = 2 ** (bits - 1) - 1
    amax = float(np.max(np.abs(x))) if x.size else 0.0
    scale = amax / qmax if amax > 0 else 1.0
    return np.clip(np.rint(x / scale), -qmax, qmax).astype(np.int64), scale


def attention_fixed(q, K, V, in_bits: int = 8) -> np.ndarray:
    """Float q [d], K [n, d], V [n, d] -> the core's answer: quantize, stream, divide (float64 [d])."""
    d = np.asarray(q).shape[0]
    qq, sq = quantize_symmetric(q, in_bits)
    kq, sk = quantize_symmetric(K, in_bits)
    vq, sv = quantize_symmetric(V, in_bits)
    return attention_output(attention_core(qq, kq, vq, *scale_register(sq, sk, d)), sv)


def attention_float(q, K, V) -> np.ndarray:
    """softmax(q K^T / sqrt(d)) V in float64, the reference the fixed-point core is measured against."""
    q, K, V = (np.asarray(a, np.float64) for a in (q, K, V))
    s = K @ q / math.sqrt(q.shape[0])
    p = np.exp(s - s.max())
    return (p / p.sum()) @ V

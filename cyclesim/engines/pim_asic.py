"""The PIM-GPT ASIC: a bf16 vector unit with a reduction tree and iterative non-linear functions.

One source for both the timing and the arithmetic of the non-linear units: the iteration counts come from the
spec (``exp_taylor_terms``, ``recip_nr_iterations``, ``rsqrt_nr_iterations``, ``gelu_taylor_terms``) and are
used by :class:`PimAsicModel` (cycles) and by the ``asic_*`` functions below (values, for the functional
co-simulation).

Timing (cycles of the ASIC clock; ``P(n) = ceil(n / lanes)`` passes over a vector, ``D`` the pipeline depth,
``R = ceil(log2 lanes)`` the reduction-tree depth) [assumed: the paper gives no microarchitecture; these
follow from a lanes-wide pipelined datapath that streams vectors from its buffer]:

* ``add`` (residual) ``P(n) + D``; ``reduce`` of ``parts`` partial-sum vectors ``(parts-1) P(n) + D``
* ``layernorm``: mean ``P + R``, variance ``2P + R``, scalar rsqrt ``(3 it + 1) D``, normalize ``2P``, plus ``D``
* ``softmax`` per row: max ``P + R``, exp ``(T + 2) P``, sum ``P + R``, scalar reciprocal ``(2 it + 1) D``,
  scale ``P``, plus ``D``
* ``gelu``: polynomial ``3P``, exp ``(T + 2) P``, vector reciprocal ``(2 it + 1) P``, combine ``3P``, plus ``D``

Energy: every element operation costs ``energy_pj_per_op``; every vector element read or written from the
buffer costs ``2 bytes x sram_energy_pj_per_byte``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from archsim.cyclesim.engines import EngineModel, engine_model
from archsim.base.numerics import fp32, to_bf16

LN2 = np.float32(math.log(2.0))


def _passes(n: int, lanes: int) -> int:
    return -(-n // lanes)


def asic_cycles(op: str, work: dict[str, Any], p: dict[str, Any]) -> tuple[int, int, int]:
    """``(cycles, element_ops, buffer_elements)`` of one ASIC command (see the module docstring)."""
    lanes, depth = p["vector_lanes"], p["pipeline_depth_cycles"]
    red = max(1, math.ceil(math.log2(p["reduction_lanes"]))) if p["reduction_lanes"] > 1 else 1
    n = int(work.get("n", 0))
    rows = int(work.get("rows", 1))
    P = _passes(n, lanes)
    T = p["exp_taylor_terms"]
    if op == "add":
        return P * rows + depth, n * rows, 3 * n * rows
    if op == "reduce":
        parts = int(work.get("parts", 2))
        if parts <= 1:
            return 0, 0, 0
        return (parts - 1) * _passes(n, p["reduction_lanes"]) * rows + depth, (parts - 1) * n * rows, (parts + 1) * n * rows
    if op == "layernorm":
        it = p["rsqrt_nr_iterations"]
        per = 5 * P + 2 * red + (3 * it + 1) * depth
        return per * rows + depth, 7 * n * rows, 3 * n * rows
    if op == "softmax":
        it = p["recip_nr_iterations"]
        per = (T + 5) * P + 2 * red + (2 * it + 1) * depth
        return per * rows + depth, (T + 6) * n * rows, 3 * n * rows
    if op == "gelu":
        it = p["recip_nr_iterations"]
        Tg = p["gelu_taylor_terms"]
        per = (6 + Tg + 2 + 2 * it + 1) * P
        return per * rows + depth, (Tg + 12 + 2 * it) * n * rows, 2 * n * rows
    raise KeyError(op)


@engine_model("PimAsic")
class PimAsicModel(EngineModel):
    @property
    def static_mw(self) -> float:
        return self.params["static_mw"]

    def cost(self, op: str, work: dict[str, Any]) -> tuple[int, float]:
        try:
            cycles, ops, elems = asic_cycles(op, work, self.params)
        except KeyError:
            raise self.unsupported(op) from None
        p = self.params
        return max(cycles, 1), ops * p["energy_pj_per_op"] + elems * 2 * p["sram_energy_pj_per_byte"]


# --- the arithmetic, as the ASIC does it (fp32 datapath, bf16 storage) --------------------------------------
def asic_exp(x, terms: int) -> np.ndarray:
    """exp by range reduction ``x = k ln2 + r`` and a ``terms``-term Taylor series of ``exp(r)`` (Horner)."""
    x = fp32(x)
    k = np.rint(x / LN2)
    r = fp32(x - k * LN2)
    acc = np.ones_like(r)
    for i in range(terms - 1, 0, -1):
        acc = fp32(1.0 + r * acc / np.float32(i))
    k = np.clip(k, -126, 127).astype(np.int32)
    return fp32(np.ldexp(acc, k))


def asic_reciprocal(x, iterations: int) -> np.ndarray:
    """1/x: a bit-trick seed (exponent negation) refined by Newton-Raphson ``y <- y (2 - x y)``."""
    x = fp32(x)
    y = (np.uint32(0x7EF311C7) - x.view(np.uint32)).view(np.float32)
    for _ in range(iterations):
        y = fp32(y * (np.float32(2.0) - x * y))
    return y


def asic_rsqrt(x, iterations: int) -> np.ndarray:
    """1/sqrt(x): the fast inverse square root seed 0x5f3759df and Newton-Raphson ``y (1.5 - x/2 y^2)``."""
    x = fp32(x)
    y = (np.uint32(0x5F3759DF) - (x.view(np.uint32) >> np.uint32(1))).view(np.float32)
    half = np.float32(0.5) * x
    for _ in range(iterations):
        y = fp32(y * (np.float32(1.5) - half * y * y))
    return y


def asic_softmax(x, p: dict[str, Any]) -> np.ndarray:
    x = fp32(x)
    e = asic_exp(x - x.max(axis=-1, keepdims=True), p["exp_taylor_terms"])
    s = e.sum(axis=-1, keepdims=True, dtype=np.float32)
    return to_bf16(e * asic_reciprocal(s, p["recip_nr_iterations"]))


def asic_layernorm(x, gamma, beta, p: dict[str, Any], eps: float = 1e-5) -> np.ndarray:
    x = fp32(x)
    n = np.float32(x.shape[-1])
    mean = x.sum(axis=-1, keepdims=True, dtype=np.float32) / n
    d = x - mean
    var = (d * d).sum(axis=-1, keepdims=True, dtype=np.float32) / n
    inv = asic_rsqrt(var + np.float32(eps), p["rsqrt_nr_iterations"])
    return to_bf16(d * inv * fp32(gamma) + fp32(beta))


def asic_gelu(x, p: dict[str, Any]) -> np.ndarray:
    """GELU (tanh form) with tanh(y) = 1 - 2 / (exp(2y) + 1) from the Taylor exp and NR reciprocal."""
    x = fp32(x)
    y = np.float32(math.sqrt(2.0 / math.pi)) * (x + np.float32(0.044715) * x * x * x)
    y = np.clip(y, -15, 15)
    t = 1 - 2 * asic_reciprocal(asic_exp(2 * y, p["gelu_taylor_terms"]) + 1, p["recip_nr_iterations"])
    return to_bf16(np.float32(0.5) * x * (1 + t))

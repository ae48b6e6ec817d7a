"""FlexGen's offloading cost model and policy search (Sheng et al., ICML 2023), as the InstInfer baseline.

Written from the equations of FlexGen's published cost model (FlexLLMGen ``experimental/cost_model.py``): for a
block of ``bls = gbs x nb`` sequences, placement fractions of the weights (``wg, wc, wn``), the KV cache
(``cg, cc, cn``) and the activations (``hg, hc, hn``) on GPU / CPU / disk, a prefill layer takes
``Tpre = max(ctog + dtoc, gtoc + ctod, comp)`` and a decode layer ``Tgen = ctog + max(gtoc, dtoc, ctod, comp)``
(every term linear in the fractions), the run takes ``T = l Tpre + l (n - 1) Tgen``, and peak memory on each
device stays under ``alpha`` of its capacity. For fixed ``(gbs, nb)`` this is a linear program over the
fractions, solved here with :func:`scipy.optimize.linprog` (HiGHS); :func:`search` sweeps the GPU batch size and
the number of GPU batches as FlexGen's ``solve`` does. As in FlexGen's runtime, activations never go to disk.

DeepSpeed ZeRO-Inference is the same cost model with its placement fixed: weights streamed from CPU memory
(``wc = 1``), KV cache and activations on the GPU, one GPU batch (:func:`zero_inference`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np

from archsim.base.errors import MappingError
from archsim.mapper import lowering

GB = 1 << 30  # FlexGen's GB (flexllmgen.utils.GB = 1 << 30), used for its bandwidths and capacities
T = 1e12      # FlexGen's T (flexllmgen.utils.T)

VARS = ("wg", "wc", "wn", "cg", "cc", "cn", "hg", "hc", "hn", "Tpre", "Tgen")
_IX = {v: i for i, v in enumerate(VARS)}


@dataclass(frozen=True)
class Hardware:
    """FlexGen's hardware constants (bandwidths in GB/s of 2^30 bytes, rates in TFLOPS of 1e12)."""

    gpu_memory_bytes: float
    cpu_memory_bytes: float
    disk_memory_bytes: float
    memory_headroom_fraction: float
    ctog_gb_per_s: float
    gtoc_cache_gb_per_s: float
    gtoc_hidden_gb_per_s: float
    dtoc_gb_per_s: float
    ctod_cache_prefill_gb_per_s: float
    ctod_hidden_prefill_gb_per_s: float
    ctod_decode_gb_per_s: float
    mm_prefill_tflops: float
    mm_decode_tflops: float
    bmm_prefill_tflops: float
    bmm_decode_tflops: float
    cpu_attention_tflops: float
    cpu_c1_ratio: float = 0.0168
    cpu_c2_ratio: float = 0.0328
    cpu_c3_ratio: float = 0.0621

    @classmethod
    def from_spec(cls, spec, path: str = "flexgen") -> "Hardware":
        comp = next((c for c in spec.walk() if c.path == path), None)
        if comp is None or comp.impl != "FlexGenCostModel":
            raise MappingError(f"spec {spec.name!r} has no FlexGenCostModel component {path!r}", file=spec.file,
                               key=f"components.{path}")
        p = comp.params
        return cls(**{f.name: p[f.name] for f in fields(cls)})

    def replace(self, **kw) -> "Hardware":
        return Hardware(**{**{f.name: getattr(self, f.name) for f in fields(self)}, **kw})


@dataclass(frozen=True)
class Shape:
    """What the cost model needs of a model and a run: layers, hidden and FFN sizes, heads, prompt, generation."""

    l: int
    h1: int
    h2: int
    nh: int
    s: int
    n: int

    @classmethod
    def of(cls, config, prompt: int, gen: int) -> "Shape":
        return cls(config.n_layers, config.d_model, config.d_ff, config.n_heads, prompt, gen)


@dataclass(frozen=True)
class Policy:
    gbs: int
    nb: int
    fractions: dict
    throughput: float        # generated tokens / s
    t_prefill_s: float       # l x Tpre
    t_decode_s: float        # l (n - 1) Tgen
    terms: dict              # the decode terms per layer (s) at the solution

    @property
    def batch(self) -> int:
        return self.gbs * self.nb

    @property
    def kv_access_share(self) -> float:
        """Share of a decode layer's time spent moving the KV cache (its disk read, FlexGen's dominant term)."""
        return self.terms["dtoc_cache"] / self.terms["Tgen"] if self.terms["Tgen"] else 0.0


def _cpu_rate(hw: Hardware, gbs: int, h1: int) -> float:
    """FlexGen's batch- and width-dependent CPU attention rate (FLOP/s)."""
    a = max(0.0, math.log2(64 / gbs))
    b = max(0.0, math.log2(4096 / h1))
    return hw.cpu_attention_tflops * T * max(0.1, 1 + hw.cpu_c1_ratio * a * b - hw.cpu_c2_ratio * a
                                             - hw.cpu_c3_ratio * b)


def _expr(const: float = 0.0, **coef: float) -> np.ndarray:
    """A linear expression over VARS as a vector; the constant sits in the last slot."""
    v = np.zeros(len(VARS) + 1)
    for k, c in coef.items():
        v[_IX[k]] += c
    v[-1] = const
    return v


def _terms(hw: Hardware, sh: Shape, gbs: int, bls: int, compress_w: bool = False) -> dict[str, np.ndarray]:
    s, n, h1, h2, nh = sh.s, sh.n, sh.h1, sh.h2, sh.nh
    wi = 8 * h1 ** 2 + 4 * h1 * h2
    if compress_w:
        wi /= 4
    bw = lambda x: x * GB  # noqa: E731
    e = {}
    e["ctogp"] = _expr(wc=wi, wn=wi, hc=2 * s * h1 * bls, hn=2 * s * h1 * bls) / bw(hw.ctog_gb_per_s)
    e["gtocp"] = (_expr(cc=4 * (s + 1) * h1 * bls, cn=4 * (s + 1) * h1 * bls) / bw(hw.gtoc_cache_gb_per_s)
                  + _expr(hc=2 * s * h1 * bls, hn=2 * s * h1 * bls) / bw(hw.gtoc_hidden_gb_per_s))
    e["dtocp"] = _expr(wn=wi, hn=2 * s * h1 * bls) / bw(hw.dtoc_gb_per_s)
    e["ctodp"] = (_expr(cn=4 * bls * (s + 1) * h1) / bw(hw.ctod_cache_prefill_gb_per_s)
                  + _expr(hn=2 * s * h1 * bls) / bw(hw.ctod_hidden_prefill_gb_per_s))
    e["compp"] = _expr(bls * (8 * s * h1 ** 2 + 4 * s * h1 * h2) / (hw.mm_prefill_tflops * T)
                       + 4 * bls * s ** 2 * h1 / (hw.bmm_prefill_tflops * T))
    e["ctogg"] = _expr(wc=wi, wn=wi, hc=2 * h1 * bls, hn=2 * h1 * bls) / bw(hw.ctog_gb_per_s)
    e["gtocg"] = _expr(hc=2 * h1 * bls, hn=2 * h1 * bls) / bw(hw.gtoc_hidden_gb_per_s)
    kv = 4 * bls * (s + n / 2) * h1
    e["dtoc_cache"] = _expr(cn=kv) / bw(hw.dtoc_gb_per_s)
    e["dtocg"] = e["dtoc_cache"] + _expr(hn=2 * h1 * bls) / bw(hw.dtoc_gb_per_s) + _expr(wn=wi) / (
        0.95 * bw(hw.dtoc_gb_per_s))
    e["ctodg"] = _expr(cn=4 * bls * h1, hn=2 * h1 * bls) / bw(hw.ctod_decode_gb_per_s)
    e["compg"] = (_expr(bls * (8 * h1 ** 2 + 4 * h1 * h2) / (hw.mm_decode_tflops * T))
                  + _expr(cg=kv) / (hw.bmm_decode_tflops * T) + _expr(cc=kv, cn=kv) / _cpu_rate(hw, gbs, h1))
    # peak memory (bytes)
    l = sh.l
    interp = (8 * gbs * s * h1 + gbs * (2 * s * h1 + 2 * nh * s ** 2) + gbs * 2 * s * h1 + 4 * gbs * s * h1
              + 2 * gbs * s * h2 + 2 * gbs * s * h1)
    e["gpu_p"] = (_expr(wg=wi * l, hg=2 * s * h1 * bls, cg=4 * (s + n) * h1 * bls * l)
                  + _expr(2 * wi + 2 * s * h1 * gbs + interp, wg=-2 * wi, hg=-2 * s * h1 * gbs))
    interg_c = 8 * gbs * h1 + 4 * gbs * h1 + 2 * gbs * h2 + 2 * gbs * h1
    interg_cg = gbs * (2 * h1 + 2 * (s + n) * h1 + 2 * nh * (s + n)) + gbs * (2 * (s + n) * h1 + 2 * h1)
    e["gpu_g"] = (_expr(wg=wi * l, hg=2 * h1 * bls, cg=4 * (s + n) * h1 * bls * l)
                  + _expr(2 * wi + 2 * h1 * gbs + interg_c, wg=-2 * wi, hg=-2 * h1 * gbs,
                          cg=2 * 2 * gbs * (s + n) * h1 + interg_cg))
    e["cpu_p"] = (_expr(wc=wi * l, hc=2 * s * h1 * bls, cc=4 * s * h1 * bls * l)
                  + _expr(wi + 2 * s * h1 * gbs, wg=-wi, hg=-2 * s * h1 * gbs))
    e["cpu_g"] = (_expr(wc=wi * l, hc=2 * h1 * bls, cc=4 * (s + n) * h1 * bls * l)
                  + _expr(2 * nh * (s + n) * gbs + 2 * h1 * gbs, wn=wi, hn=4 * h1 * gbs, cn=8 * (s + n) * h1 * gbs))
    e["disk"] = _expr(wn=wi * l, hn=2 * s * h1 * bls, cn=4 * (s + n) * h1 * bls * l)
    return e


def solve(hw: Hardware, sh: Shape, gbs: int, nb: int, *, fixed: dict | None = None,
          compress_w: bool = False) -> Policy | None:
    """The best placement for ``nb`` GPU batches of ``gbs`` sequences, or None if no placement fits memory."""
    from scipy.optimize import linprog

    if gbs < 1 or nb < 1:
        raise MappingError(f"gbs = {gbs}, nb = {nb}; expected positive integers", key="flexgen")
    bls = gbs * nb
    e = _terms(hw, sh, gbs, bls, compress_w)
    ub, rhs = [], []

    def le(lhs: np.ndarray, rhs_const: float = 0.0):  # lhs(x) <= rhs_const
        ub.append(lhs[:-1])
        rhs.append(rhs_const - lhs[-1])

    Tpre, Tgen = _expr(Tpre=1), _expr(Tgen=1)
    le(e["ctogp"] + e["dtocp"] - Tpre)
    le(e["gtocp"] + e["ctodp"] - Tpre)
    le(e["compp"] - Tpre)
    for k in ("gtocg", "dtocg", "ctodg", "compg"):
        le(e["ctogg"] + e[k] - Tgen)
    a = hw.memory_headroom_fraction
    le(e["gpu_p"], a * hw.gpu_memory_bytes)
    le(e["gpu_g"], a * hw.gpu_memory_bytes)
    le(e["cpu_p"], a * hw.cpu_memory_bytes)
    le(e["cpu_g"], a * hw.cpu_memory_bytes)
    le(e["disk"], a * hw.disk_memory_bytes)
    eq = [_expr(wg=1, wc=1, wn=1), _expr(cg=1, cc=1, cn=1), _expr(hg=1, hc=1, hn=1), _expr(hg=1, hc=1)]
    beq = [1.0, 1.0, 1.0, 1.0]
    for k, v in (fixed or {}).items():
        eq.append(_expr(**{k: 1}))
        beq.append(float(v))
    c = np.zeros(len(VARS))
    c[_IX["Tpre"]] = sh.l
    c[_IX["Tgen"]] = sh.l * (sh.n - 1)
    res = linprog(c, A_ub=np.array(ub), b_ub=np.array(rhs), A_eq=np.array([x[:-1] for x in eq]), b_eq=beq,
                  bounds=[(0, None)] * len(VARS), method="highs")
    if res.status != 0:
        return None
    x = res.x
    total = float(c @ x)
    xe = np.append(x, 1.0)
    terms = {k: float(e[k] @ xe) for k in ("ctogg", "gtocg", "dtocg", "ctodg", "compg", "dtoc_cache")}
    terms["Tgen"] = float(x[_IX["Tgen"]])
    terms["Tpre"] = float(x[_IX["Tpre"]])
    return Policy(gbs, nb, {k: float(x[_IX[k]]) for k in VARS[:9]}, bls * sh.n / total,
                  sh.l * terms["Tpre"], sh.l * (sh.n - 1) * terms["Tgen"], terms)


def _nb_upper_bound(hw, sh, gbs, **kw) -> int:
    """The largest feasible number of GPU batches (doubling, then bisection), 0 if even one does not fit."""
    if solve(hw, sh, gbs, 1, **kw) is None:
        return 0
    nb = 1
    while solve(hw, sh, gbs, nb * 2, **kw) is not None:
        nb *= 2
        if nb > 1 << 16:
            return nb
    lo, hi = nb, nb * 2  # lo feasible, hi not
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if solve(hw, sh, gbs, mid, **kw) is None:
            hi = mid
        else:
            lo = mid
    return lo


def gpu_batch_sizes(limit: int = 4096):
    """FlexGen's sweep of the GPU batch size: 1, 2, 3, 4, then doubling."""
    g = 1
    while g <= limit:
        yield g
        g = g + 1 if g < 4 else g * 2


def search(hw: Hardware, sh: Shape, *, max_gbs: int = 4096, compress_w: bool = False) -> Policy | None:
    """FlexGen's policy search: for each GPU batch size, the number of GPU batches up to the largest that fits
    (stopping when throughput falls), the LP's placement for each; the best throughput overall."""
    best = None
    for gbs in gpu_batch_sizes(max_gbs):
        ub = _nb_upper_bound(hw, sh, gbs, compress_w=compress_w)
        if ub == 0:
            break
        prev = 0.0
        for nb in range(1, ub + 1):
            p = solve(hw, sh, gbs, nb, compress_w=compress_w)
            if p is None or p.throughput < prev:
                break
            prev = p.throughput
            if best is None or p.throughput > best.throughput:
                best = p
    return best


#: InstInfer's FlexGen baseline offloads the KV cache to the SSD ("FlexGen offloading to the SSD")
KV_ON_DISK = {"cn": 1.0}


def at_batch(hw: Hardware, sh: Shape, batch: int, *, fixed: dict | None = None,
             compress_w: bool = False) -> Policy | None:
    """The best policy whose effective batch is exactly ``batch`` (over every split into gbs x nb), with the
    placements in ``fixed`` pinned (e.g. :data:`KV_ON_DISK`); None if FlexGen cannot run it (out of memory)."""
    best = None
    for gbs in range(1, batch + 1):
        if batch % gbs:
            continue
        p = solve(hw, sh, gbs, batch // gbs, fixed=fixed, compress_w=compress_w)
        if p is not None and (best is None or p.throughput > best.throughput):
            best = p
    return best


def zero_inference(hw: Hardware, sh: Shape, batch: int) -> Policy | None:
    """DeepSpeed ZeRO-Inference as the cost model sees it: weights in CPU memory streamed to the GPU, the KV
    cache and activations on the GPU, the whole batch as one GPU batch; None if it does not fit."""
    return solve(hw, sh, batch, 1, fixed={"wc": 1.0, "cg": 1.0, "hg": 1.0})


def zero_inference_best(hw: Hardware, sh: Shape, max_batch: int = 4096) -> Policy | None:
    """ZeRO-Inference at its best batch (powers of two up to the largest that fits)."""
    best = None
    b = 1
    while b <= max_batch:
        p = zero_inference(hw, sh, b)
        if p is None:
            break
        if best is None or p.throughput > best.throughput:
            best = p
        b *= 2
    return best


@lowering("flexgen")
def lower_flexgen(workload, spec, **_options):
    """FlexGen specs describe a cost model, not hardware to simulate command by command: say what to call."""
    raise MappingError(f"{spec.name} is FlexGen's offloading cost model, evaluated analytically, not simulated: use "
                       f"archsim.mapper.flexgen (Hardware.from_spec(spec), then search() or at_batch()); "
                       f"`archsim reproduce instinfer` compares it with InstInfer", file=spec.file, key="family")

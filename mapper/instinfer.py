"""Lowering for InstInfer: decode with the KV cache on computational storage drives.

Layout (the paper's KV-aware FTL): one 4 KB page holds 16 tokens x 128 channels of one head (fp16), the
token-indexed copy of K and of V; a channel-indexed copy of K packs ``n_channels_per_packed_page`` channels x
``page_values / n`` tokens per page (SparF reads selected channels from it). The (sequence, head) pairs are
split across the drives; within a drive a head's pages are striped over channels, ways and planes
(:func:`archsim.cyclesim.flash.device.striped_ops`), so its reads proceed in parallel.

Per decode step and layer: the GPU runs the norm and QKV projection; the q, k, v of all drives leave the GPU
over its own PCIe link (the spec's ``Link``, shared by every drive) and each drive receives its share over its
x4 link (peer-to-peer), runs decode attention from flash (dense: every token page of K and V; SparF: the channel-indexed
pages of the top-r channels of |q|, then the token pages holding the top-k tokens), returns its output, and
programs the pages the new token completed (a token page every 16 tokens, a channel page every
``page_values / n`` tokens; partial pages wait in drive DRAM). The GPU then runs the output projection and the
FFN. Prefill runs on the GPU, its K/V streamed to the drives and programmed layer by layer.

SparF parameters: compression ratio ``rho`` (default 1/8): ``r = rho x d_head`` channels and
``k = rho x kv_len / 2`` tokens move ``(kv_len r + 2 k d_head) / (2 kv_len d_head) = rho`` of dense attention's
data. Which pages hold the selected entries is a modelling choice (``sparf_locality``): ``uniform`` (selected
entries spread at random: the expected number of pages touched), ``clustered`` (they fill whole pages) or
``measured`` (``sparf_page_fractions``: the shares of channel and token pages read, e.g. as the functional
SparF of :mod:`archsim.mapper.instinfer_cosim` counts them on sample attention).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil

from archsim.base.errors import MappingError
from archsim.cyclesim.flash.csd import expected_groups_touched
from archsim.cyclesim.program import Block, Program
from archsim.mapper import lowering
from archsim.mapper.guard import BYTES_PER_COMMAND, Estimate, estimator
from archsim.mapper.processors import _work as gpu_work
from archsim.workloads.builders import build_step_graph

LOCALITIES = ("uniform", "clustered", "measured")
TOKENS_PER_PAGE = 16


@dataclass(frozen=True)
class Layout:
    """Page counts of the KV layout for one (sequence, head) pair."""

    page_bytes: int
    d_head: int
    pack: int
    dtype_bytes: int = 2

    def __post_init__(self):
        if self.page_bytes // self.dtype_bytes != TOKENS_PER_PAGE * self.d_head:
            raise MappingError(f"a {self.page_bytes}-byte page holds {self.page_bytes // self.dtype_bytes} fp16 "
                               f"values; the InstInfer layout needs 16 tokens x d_head ({self.d_head}) = "
                               f"{TOKENS_PER_PAGE * self.d_head} per page", key="components.csd.page_bytes")

    @property
    def values(self) -> int:
        return self.page_bytes // self.dtype_bytes

    @property
    def channel_page_tokens(self) -> int:
        return self.values // self.pack

    @property
    def channel_groups(self) -> int:
        return -(-self.d_head // self.pack)

    def token_pages(self, tokens: int) -> int:
        return -(-tokens // TOKENS_PER_PAGE)

    def channel_pages(self, tokens: int) -> int:
        return self.channel_groups * -(-tokens // self.channel_page_tokens)

    def pages_stored(self, tokens: int) -> int:
        """K and V token-indexed plus K channel-indexed."""
        return 2 * self.token_pages(tokens) + self.channel_pages(tokens)

    def completed_at(self, kv_len: int) -> int:
        """Pages one pair completes when its cache reaches ``kv_len`` tokens."""
        n = 2 if kv_len % TOKENS_PER_PAGE == 0 else 0
        if kv_len % self.channel_page_tokens == 0:
            n += self.channel_groups
        return n


@dataclass(frozen=True)
class SparF:
    rho: float = 1 / 8
    r: int | None = None
    k: int | None = None
    locality: str = "uniform"
    page_fractions: tuple[float, float] | None = None  # "measured": shares of channel and token pages read

    def __post_init__(self):
        if not 0 < self.rho <= 1:
            raise MappingError(f"sparf_ratio = {self.rho!r}; expected 0 < ratio <= 1", key="sparf_ratio")
        if self.locality not in LOCALITIES:
            raise MappingError(f"sparf_locality = {self.locality!r}; expected one of: {', '.join(LOCALITIES)}",
                               key="sparf_locality")
        if self.locality == "measured":
            fr = self.page_fractions
            if fr is None or len(fr) != 2 or not all(0 < f <= 1 for f in fr):
                raise MappingError(f"sparf_page_fractions = {fr!r}; 'measured' locality expects two fractions in "
                                   f"(0, 1]: the shares of channel pages and of token pages SparF reads",
                                   key="sparf_page_fractions")

    def rk(self, d_head: int, kv_len: int) -> tuple[int, int]:
        r = self.r if self.r is not None else max(1, round(self.rho * d_head))
        k = self.k if self.k is not None else max(1, round(self.rho * kv_len / 2))
        return min(r, d_head), min(k, kv_len)

    def pages(self, lay: Layout, kv_len: int) -> tuple[int, int, int]:
        """(channel pages of step 1, token pages of K and V in step 2, engine MACs) for one pair."""
        r, k = self.rk(lay.d_head, kv_len)
        rows = -(-kv_len // lay.channel_page_tokens)
        tok = lay.token_pages(kv_len)
        if self.locality == "clustered":
            g1, g2 = -(-r // lay.pack), -(-k // TOKENS_PER_PAGE)
        elif self.locality == "measured":
            g1 = ceil(self.page_fractions[0] * lay.channel_groups - 1e-9)
            g2 = ceil(self.page_fractions[1] * tok - 1e-9)
        else:
            g1 = ceil(expected_groups_touched(lay.channel_groups, lay.pack, r) - 1e-9)
            g2 = ceil(expected_groups_touched(tok, TOKENS_PER_PAGE, k) - 1e-9) if k < kv_len else tok
        return g1 * rows, 2 * min(g2, tok), kv_len * r + 2 * k * lay.d_head


def _split(units: int, drives: int) -> list[int]:
    return [units // drives + (1 if i < units % drives else 0) for i in range(drives)]


def _csd(spec):
    comp = next((c for c in spec.walk() if c.impl == "ComputationalStorageDrive"), None)
    if comp is None:
        raise MappingError(f"spec {spec.name!r} has no ComputationalStorageDrive component", file=spec.file,
                           key="components")
    return comp


def _gpu(spec):
    comp = next((c for c in spec.walk() if c.impl == "GPU"), None)
    if comp is None:
        raise MappingError(f"spec {spec.name!r} has no GPU component", file=spec.file, key="components")
    return comp


def _host_link(spec):
    """The GPU's own PCIe link (a ``Link`` component), which all peer-to-peer traffic crosses; None if absent."""
    return next((c for c in spec.walk() if c.impl == "Link"), None)


def plan(workload, spec, *, sparf: SparF | None = None) -> dict:
    """Sizes and capacity checks (raises :class:`MappingError` before any program is built)."""
    cfg = workload.model
    csd, gpu = _csd(spec), _gpu(spec)
    p = csd.params
    lay = Layout(p["page_bytes"], cfg.d_head, p["n_channels_per_packed_page"])
    if cfg.dtype not in ("fp16", "bf16"):
        raise MappingError(f"{cfg.name} is {cfg.dtype}; the InstInfer layout stores fp16 K/V", key="workload")
    drives = p["drives"]
    B, T = workload.batch, workload.prompt + workload.tokens
    units = B * cfg.n_kv_heads
    if units < drives:
        raise MappingError(f"{units} (sequence, head) pairs cannot be split over {drives} drives; expected at least "
                           f"one pair per drive", file=spec.file, key=f"components.{csd.path}.drives")
    per_drive = _split(units, drives)
    from archsim.cyclesim.flash.config import FlashConfig

    flash = FlashConfig.from_params(p)
    need_pages = max(per_drive) * cfg.n_layers * lay.pages_stored(T)
    if need_pages > flash.capacity_bytes // flash.page_bytes:
        need = need_pages * flash.page_bytes
        raise MappingError(
            f"the KV cache of {cfg.name} (batch {B}, {T} positions, token- and channel-indexed copies) needs "
            f"{need:,} bytes ({need / 1e9:,.1f} GB) on the fullest of {drives} drive(s); a drive holds "
            f"{flash.capacity_bytes:,} bytes ({flash.capacity_bytes / 1e9:,.1f} GB)",
            file=spec.file, key=f"components.{csd.path}.blocks_per_plane")
    dram_need = max(per_drive) * cfg.n_layers * (2 + lay.channel_groups) * flash.page_bytes
    if dram_need > p["dram_bytes"]:
        raise MappingError(f"the partial KV pages of {cfg.name} (batch {B}) need {dram_need:,} bytes of drive DRAM "
                           f"per drive; a drive has {p['dram_bytes']:,}", file=spec.file,
                           key=f"components.{csd.path}.dram_bytes")
    if p["accumulator_entries"] < cfg.d_head:
        raise MappingError(f"the attention engine keeps one output row of d_head = {cfg.d_head} accumulators per "
                           f"(sequence, head) in flight; it has {p['accumulator_entries']}", file=spec.file,
                           key=f"components.{csd.path}.accumulator_entries")
    weights = cfg.param_count() * 2.0  # dense fp16 weights, from the parameter count (no step graph needed)
    if weights > gpu["memory_bytes"]:
        raise MappingError(f"the weights of {cfg.name} ({weights:,.0f} bytes) do not fit the GPU's "
                           f"{gpu['memory_bytes']:,} bytes", file=spec.file, key=f"components.{gpu.path}.memory_bytes")
    link = _host_link(spec)
    return {"layout": lay, "per_drive": per_drive, "drives": drives, "csd": csd.path, "gpu": gpu.path,
            "sparf": sparf, "link": link.path if link is not None else None}


def drive_work(pl: dict, kv_len: int, d_head: int) -> list[dict]:
    """The attention work of each drive for one layer at ``kv_len``."""
    lay, sp = pl["layout"], pl["sparf"]
    out = []
    for u in pl["per_drive"]:
        if sp is None:
            phases = (u * 2 * lay.token_pages(kv_len),)
            macs = u * 2 * kv_len * d_head
            out.append({"phases": phases, "filtered": False, "macs": macs})
        else:
            p1, p2, macs = sp.pages(lay, kv_len)
            out.append({"phases": (u * p1, u * p2), "filtered": True, "macs": u * macs})
    return out


def _layer_gpu_ops(workload):
    """The GPU ops of one decoder layer (before and after attention) and of the step's embedding + head."""
    cfg = workload.model
    one = build_step_graph(cfg.replace(n_layers=1), q_len=1, kv_len=max(1, workload.prompt + 1),
                           batch=workload.batch, logits="all")
    pre, post, outside = [], [], []
    seen_attention = False
    for name in one.topo():
        a = one.attrs(name)
        op = a["op"]
        if a["layer"] is None:
            outside.append((name, op))
        elif op.kind in ("attention", "kv_append"):
            seen_attention = seen_attention or op.kind == "attention"
        elif seen_attention:
            post.append((name.split(".", 1)[1], op))
        else:
            pre.append((name.split(".", 1)[1], op))
    return pre, post, outside


@lowering("instinfer")
def lower_instinfer(workload, spec, *, sparf: bool = False, sparf_ratio: float = 1 / 8, sparf_r: int | None = None,
                    sparf_k: int | None = None, sparf_locality: str = "uniform",
                    sparf_page_fractions: tuple[float, float] | None = None, include_prefill: bool = True,
                    progress=None, **_options) -> Program:
    """Decode (and, by default, the prefill before it) on the GPU + drives. ``sparf=True`` uses SparF."""
    if workload.phase != "decode":
        raise MappingError("the InstInfer lowering maps a decode workload (its prefill is included); got a "
                           f"{workload.phase}", key="workload")
    sp = SparF(sparf_ratio, sparf_r, sparf_k, sparf_locality,
               tuple(sparf_page_fractions) if sparf_page_fractions is not None else None) if sparf else None
    pl = plan(workload, spec, sparf=sp)
    cfg, B = workload.model, workload.batch
    lay, N = pl["layout"], pl["drives"]
    engines = {"gpu": pl["gpu"]}
    if pl["link"] is not None:
        engines["host_link"] = pl["link"]
    for i in range(N):
        engines[f"csd{i}"] = pl["csd"]
        engines[f"pcie{i}"] = pl["csd"]
    program = Program(engines=engines, meta={"reference_clock": "gpu", "workload": repr(workload),
                                             "report": {"instinfer.drives": N,
                                                        "instinfer.sparf": bool(sparf)}})
    d, L = cfg.d_head, cfg.n_layers
    if include_prefill and workload.prompt > 0:
        _prefill(program, workload, pl)
    pre, post, outside = ([(name, op.kind, gpu_work(op)) for name, op in ops] for ops in _layer_gpu_ops(workload))
    n = workload.n_steps
    for step in workload.steps():
        if progress is not None:
            progress(step.index, n, "mapping steps")
        kv_len = step.kv_len
        works = drive_work(pl, kv_len, d)
        prog_pages = [u * lay.completed_at(kv_len) for u in pl["per_drive"]]
        key = ("instinfer.layer", B, kv_len, tuple(tuple(sorted((k, v) for k, v in w.items())) for w in works),
               tuple(prog_pages))
        # every layer of a step does the same work: one block object, listed once per layer (burst mode
        # simulates it once; command mode simulates every listing)
        blk = Block([], key=key, label=f"step{step.index}.layer")
        prev = None
        for name, kind, work in pre:
            prev = blk.add("gpu", kind, work, deps=() if prev is None else (prev,), label=name)
        units = sum(pl["per_drive"])
        if pl["link"] is not None:  # every drive's q, k, v leave the GPU over its own link first
            prev = blk.add("host_link", "p2p", {"bytes": units * 3 * d * 2}, deps=(prev,), label="qkv out of gpu")
        outs = []
        for i, (u, w) in enumerate(zip(pl["per_drive"], works)):
            qkv = blk.add(f"pcie{i}", "p2p", {"bytes": u * 3 * d * 2}, deps=(prev,), label="qkv to drive")
            att = blk.add(f"csd{i}", "attention", w, deps=(qkv,), label="attention")
            outs.append(blk.add(f"pcie{i}", "p2p", {"bytes": u * d * 2}, deps=(att,), label="out to gpu"))
            if prog_pages[i]:
                blk.add(f"csd{i}", "kv_program", {"pages": prog_pages[i]}, deps=(att,), label="kv program")
        if pl["link"] is not None:
            outs = [blk.add("host_link", "p2p", {"bytes": units * d * 2}, deps=tuple(outs), label="outputs into gpu")]
        prev = None
        for j, (name, kind, work) in enumerate(post):
            prev = blk.add("gpu", kind, work, deps=tuple(outs) if j == 0 else (prev,), label=name)
        program.blocks.extend([blk] * L)
        blk = program.block(key=("instinfer.head", B), label=f"step{step.index}.head")
        prev = None
        for name, kind, work in outside:
            prev = blk.add("gpu", kind, work, deps=() if prev is None else (prev,), label=name)
    if progress is not None:
        progress(n, n, "mapping steps")
    return program


def _prefill(program: Program, workload, pl: dict) -> None:
    """The prompt on the GPU, layer by layer; each layer's K/V streams to the drives and is programmed there
    while the GPU computes the next layer (one block: the engines overlap)."""
    cfg, P = workload.model, workload.prompt
    lay = pl["layout"]
    g = build_step_graph(cfg, q_len=P, kv_len=P, batch=workload.batch, logits="last")
    blk = program.block(key=None, label="prefill")
    prev = None
    writes_prev: dict[int, int] = {}
    for name in g.topo():
        a = g.attrs(name)
        prev = blk.add("gpu", a["op"].kind, gpu_work(a["op"]), deps=() if prev is None else (prev,), label=name)
        if a["op"].kind == "kv_append":
            layer = a["layer"]
            src = prev
            if pl["link"] is not None:  # the layer's K/V leave the GPU over its own link
                src = blk.add("host_link", "p2p", {"bytes": sum(pl["per_drive"]) * P * 2 * cfg.d_head * 2},
                              deps=(prev,), label=f"prefill L{layer} kv out of gpu")
            for i, u in enumerate(pl["per_drive"]):
                deps = (src,) + ((writes_prev[i],) if i in writes_prev else ())
                writes_prev[i] = blk.add(f"csd{i}", "kv_write",
                                         {"pages": u * lay.pages_stored(P), "bytes": u * P * 2 * cfg.d_head * 2},
                                         deps=deps, label=f"prefill L{layer} kv write")


@estimator("instinfer")
def _estimate(workload, spec, **_options) -> Estimate:
    L = workload.model.n_layers
    csd = _csd(spec)
    per_layer = 30 + 5 * csd["drives"]
    commands = workload.n_steps * L * per_layer
    return Estimate(memory_bytes=commands * BYTES_PER_COMMAND, commands=commands, memory_key="tokens",
                    commands_key="tokens", detail=f"{workload.n_steps:,} steps x {L} layers x ~{per_layer} commands")

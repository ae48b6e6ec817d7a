"""``archsim reproduce instinfer``: InstInfer (Pan et al., arXiv 2409.04992; HPCA 2025 "InstAttention").

Throughput (generated tokens per second over prefill + decode) of InstInfer (dense and SparF), FlexGen with
the KV cache on the SSD (the paper's baseline) and DeepSpeed ZeRO-Inference, for OPT-13B and OPT-30B at 1024 +
1024 tokens and LLaMA-2-13B at 2048 + 2048; the ratios the paper states; drive scaling (1, 2, 20 drives); the
KV-access share of a decode step; a decode step's breakdown (flash array, channel bus, attention engine, PCIe,
GPU); Table III's volumes and rates; SparF's error against dense attention. Paper values come from
../shared/reference/instinfer.md.

InstInfer runs are cycle-level simulations of the mapped program (arch/specs/instinfer*.yaml, the flash closed
forms equal to the flash event model); FlexGen and ZeRO-Inference are FlexGen's own cost model and policy search
with the A6000 + 980 Pro constants of arch/specs/flexgen_a6000.yaml (derived from FlexGen's T4 fit, nothing
fitted to InstInfer's results). SparF's page locality is unknown, so SparF is given as a range: ``uniform``
(selected channels and tokens scattered: the expected pages touched) to ``clustered`` (they fill whole pages).
OPT-30B does not fit one A6000 (the paper used two): both systems get a GPU of twice the memory, bandwidth and
FLOPS [assumed: ideal tensor parallelism].
"""

from __future__ import annotations

import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import archsim  # noqa: E402
from archsim import arch, workloads  # noqa: E402
from archsim.cyclesim.flash.csd import DriveTiming  # noqa: E402
from archsim.mapper import flexgen as fg  # noqa: E402
from archsim.mapper import instinfer as ii  # noqa: E402
from archsim.mapper import instinfer_cosim as cs  # noqa: E402
from archsim.reproduce import Claim, Report, target  # noqa: E402

SRC = "[paper] InstInfer / InstAttention (HPCA 2025), via ../shared/reference/instinfer.md"
MODELS = {"opt-13b": (1024, 1024), "opt-30b": (1024, 1024), "llama2-13b": (2048, 2048)}
BATCHES = (8, 16, 32, 64, 128, 256)
TWO_GPUS = ("opt-30b",)


def _log(msg: str) -> None:
    print(f"  [instinfer] {msg}", file=sys.stderr, flush=True)


def _two_gpus(spec):
    g = spec.component("gpu").params
    return spec.with_overrides({"gpu.memory_bytes": 2 * g["memory_bytes"],
                                "gpu.memory_bw_gb_per_s": 2 * g["memory_bw_gb_per_s"],
                                "gpu.fp16_tensor_tflops": 2 * g["fp16_tensor_tflops"],
                                "gpu.fp32_tflops": 2 * g["fp32_tflops"]})


class Runs:
    """Memoized runs of the three systems."""

    def __init__(self, quick: bool):
        self.quick = quick
        self.specs = {n: arch.load(n) for n in ("instinfer", "instinfer_2drives", "instinfer_20drives")}
        self.hw = fg.Hardware.from_spec(arch.load("flexgen_a6000"))
        self._inst: dict = {}
        self._fg: dict = {}
        self.measured = measured_fractions(quick)

    def lengths(self, model: str) -> tuple[int, int]:
        p, n = MODELS[model]
        return (p, 128) if self.quick else (p, n)

    def spec(self, model: str, drives: int = 1):
        s = self.specs[{1: "instinfer", 2: "instinfer_2drives", 20: "instinfer_20drives"}[drives]]
        return _two_gpus(s) if model in TWO_GPUS else s

    def hardware(self, model: str) -> fg.Hardware:
        h = self.hw
        if model in TWO_GPUS:
            h = h.replace(gpu_memory_bytes=2 * h.gpu_memory_bytes, mm_prefill_tflops=2 * h.mm_prefill_tflops,
                          mm_decode_tflops=2 * h.mm_decode_tflops, bmm_prefill_tflops=2 * h.bmm_prefill_tflops,
                          bmm_decode_tflops=2 * h.bmm_decode_tflops)
        return h

    def instinfer(self, model: str, batch: int, *, drives: int = 1, sparf: str | None = None) -> dict | None:
        key = (model, batch, drives, sparf)
        if key not in self._inst:
            p, n = self.lengths(model)
            w = workloads.model(model).decode(prompt=p, tokens=n, batch=batch)
            opts = {"sparf": sparf is not None, "sparf_locality": sparf or "uniform"}
            if sparf == "measured":
                opts["sparf_page_fractions"] = self.measured
            try:
                r = archsim.simulate(self.spec(model, drives), w, **opts)
            except archsim.ArchsimError as e:
                _log(f"{model} batch {batch} {drives} drive(s) {sparf or 'dense'}: {e}")
                self._inst[key] = None
            else:
                self._inst[key] = {"tok_s": batch * n / r.seconds, "s": r.seconds, "result": r,
                                   "j_per_token": r.energy_joules / (batch * n)}
        return self._inst[key]

    def flexgen(self, model: str, batch: int, fixed=fg.KV_ON_DISK) -> fg.Policy | None:
        key = (model, batch, tuple(sorted((fixed or {}).items())))
        if key not in self._fg:
            p, n = self.lengths(model)
            sh = fg.Shape.of(workloads.get_model(model), p, n)
            self._fg[key] = fg.at_batch(self.hardware(model), sh, batch, fixed=fixed)
        return self._fg[key]

    def flexgen_best(self, model: str, batches) -> fg.Policy | None:
        pols = [self.flexgen(model, b) for b in batches]
        pols = [p for p in pols if p is not None]
        return max(pols, key=lambda p: p.throughput) if pols else None

    def zero(self, model: str) -> fg.Policy | None:
        p, n = self.lengths(model)
        return fg.zero_inference_best(self.hardware(model), fg.Shape.of(workloads.get_model(model), p, n))


def measured_fractions(quick: bool) -> tuple[float, float]:
    """Shares of channel pages and token pages the functional SparF (ratio 1/8) reads on synthetic peaked
    attention (seeded; kv_len 2048): the ``measured`` locality between the uniform and clustered bounds."""
    st = cs.sparf_error_stats("peaked", 1 / 8, 2048, 128, range(2 if quick else 8))
    return st["channel_pages_read_fraction"], st["token_pages_read_fraction"]


def _tok(x) -> float:
    return float("nan") if x is None else float(x["tok_s"] if isinstance(x, dict) else x.throughput)


def throughput_table(runs: Runs, models, batches) -> pd.DataFrame:
    rows = []
    for m in models:
        p, n = runs.lengths(m)
        for b in batches:
            _log(f"{m} batch {b}")
            d, su, sc, sm = (runs.instinfer(m, b), runs.instinfer(m, b, sparf="uniform"),
                             runs.instinfer(m, b, sparf="clustered"), runs.instinfer(m, b, sparf="measured"))
            f, flp = runs.flexgen(m, b), runs.flexgen(m, b, fixed=None)
            rows.append({"model": m, "prompt": p, "generated": n, "batch": b,
                         "instinfer_dense_tok_s": _tok(d),
                         "instinfer_dense_j_per_token": d["j_per_token"] if d else float("nan"),
                         "instinfer_sparf_uniform_tok_s": _tok(su),
                         "instinfer_sparf_clustered_tok_s": _tok(sc), "instinfer_sparf_measured_tok_s": _tok(sm),
                         "flexgen_kv_on_ssd_tok_s": _tok(f),
                         "flexgen_free_placement_tok_s": _tok(flp),
                         "flexgen_kv_access_share": f.kv_access_share if f else float("nan"),
                         "dense_over_flexgen": _tok(d) / _tok(f) if f else float("nan"),
                         "sparf_uniform_over_flexgen": _tok(su) / _tok(f) if f else float("nan"),
                         "sparf_clustered_over_flexgen": _tok(sc) / _tok(f) if f else float("nan"),
                         "sparf_measured_over_flexgen": _tok(sm) / _tok(f) if f else float("nan")})
    return pd.DataFrame(rows)


def breakdown(runs: Runs, model: str, batch: int) -> tuple[pd.DataFrame, float]:
    """One decode layer mid-generation (a step that completes no page), with the page programs of the whole
    generation amortized over its steps: the busy time of each resource and the layer time; returns the table
    and InstInfer's KV-access share (drive attention time / layer time)."""
    p, n = runs.lengths(model)
    cfg = workloads.get_model(model)
    kv_len = p + n // 2 + 1
    spec = runs.spec(model)
    w = workloads.model(model).decode(prompt=kv_len - 1, tokens=1, batch=batch)
    r = archsim.simulate(spec, w, include_prefill=False)
    L = cfg.n_layers
    pl = ii.plan(w, spec)
    (work,) = ii.drive_work(pl, kv_len, cfg.d_head)
    t = DriveTiming.from_params(spec.component("csd").params)
    att = t.attention(work["phases"])
    u = pl["per_drive"][0]
    prog_s = sum(t.program_ps(u * pl["layout"].completed_at(x)) for x in range(p + 1, p + n + 1)) / n / 1e12
    f = t.flash
    comp = r.components
    layer_s = r.seconds / L + prog_s
    rows = [
        ("flash array (per die, tR)", att["array_ps"] / f.dies / 1e12),
        ("channel bus (per channel)", att["bus_ps"] / f.channels / 1e12),
        ("attention engine", att["engine_ps"] / 1e12),
        ("drive PCIe x4 link (peer-to-peer)", comp["pcie0"]["busy_cycles"] / 1e12 / L),
        ("GPU PCIe x16 link (all drives' traffic)", comp["host_link"]["busy_cycles"] / 1e12 / L
         if "host_link" in comp else 0.0),
        ("GPU (projections, FFN, head)", comp["gpu"]["busy_cycles"] / (comp["gpu"]["clock_mhz"] * 1e6) / L),
        ("drive attention command (end to end)", att["end_ps"] / 1e12),
        ("KV page programs (amortized per step)", prog_s),
    ]
    df = pd.DataFrame([{"resource": k, "busy_ms_per_layer": v * 1e3, "share_of_layer_time": v / layer_s}
                       for k, v in rows])
    df.loc[len(df)] = {"resource": "decode layer", "busy_ms_per_layer": layer_s * 1e3, "share_of_layer_time": 1.0}
    return df, att["end_ps"] / 1e12 / layer_s


def table3(runs: Runs, model: str, batch: int) -> pd.DataFrame:
    """Per-layer flash traffic of one generation: prefill writes, decode reads, decode writes, and the rates
    (bytes over the time the drive spends on them), beside Table III."""
    p, n = runs.lengths(model)
    spec = runs.spec(model)
    cfg = workloads.get_model(model)
    w = workloads.model(model).decode(prompt=p, tokens=n, batch=batch)
    pl = ii.plan(w, spec)
    lay, u = pl["layout"], pl["per_drive"][0]
    t = DriveTiming.from_params(spec.component("csd").params)
    page = t.flash.page_bytes
    pre_pages = u * lay.pages_stored(p)
    pre_bytes = u * p * 2 * cfg.d_head * 2
    pre_s = max(t.program_ps(pre_pages), t.p2p_ps(pre_bytes) + t.flash.xfer_ps + t.flash.prog_ps) / 1e12
    rd_pages = rd_ps = wr_pages = wr_ps = 0
    for kv_len in range(p + 1, p + n + 1):
        (work,) = ii.drive_work(pl, kv_len, cfg.d_head)
        rd_pages += sum(work["phases"])
        rd_ps += t.attention(work["phases"])["end_ps"]
        c = u * lay.completed_at(kv_len)
        wr_pages += c
        wr_ps += t.program_ps(c)
    rows = [("prefill write", 1.34, 3.78, pre_pages * page, pre_s),
            ("decode read", 1085.65, 7.66, rd_pages * page, rd_ps / 1e12),
            ("decode write", 1.93, 2.15, wr_pages * page, wr_ps / 1e12)]
    return pd.DataFrame([{"traffic_per_layer": k, "paper_gb": pg, "model_gb": b / 1e9, "paper_gb_per_s": pr,
                          "model_gb_per_s": b / s / 1e9 if s else float("nan")} for k, pg, pr, b, s in rows])


def sparf_error(quick: bool) -> pd.DataFrame:
    """SparF vs dense attention (paged functional path) on random and peaked attention, seeded."""
    n = 1024 if quick else 2048
    seeds = range(2 if quick else 8)
    return pd.DataFrame([{"data": kind, "compression_ratio": rho, "kv_len": n,
                          **cs.sparf_error_stats(kind, rho, n, 128, seeds)}
                         for kind in ("random", "peaked") for rho in (1 / 2, 1 / 4, 1 / 8, 1 / 16)])


def _figure(df: pd.DataFrame):
    models = list(dict.fromkeys(df.model))
    fig, axes = plt.subplots(1, len(models), figsize=(4.2 * len(models), 3.8), squeeze=False)
    series = [("instinfer_dense_tok_s", "InstInfer dense"), ("instinfer_sparf_uniform_tok_s", "SparF (uniform)"),
              ("instinfer_sparf_measured_tok_s", "SparF (measured)"),
              ("instinfer_sparf_clustered_tok_s", "SparF (clustered)"),
              ("flexgen_kv_on_ssd_tok_s", "FlexGen (KV on SSD)")]
    for ax, m in zip(axes[0], models):
        sub = df[df.model == m]
        x = np.arange(len(sub))
        width = 0.8 / len(series)
        for i, (col, label) in enumerate(series):
            ax.bar(x + i * width, sub[col], width, label=label)
        ax.set_xticks(x + 0.4 - width / 2, [str(b) for b in sub.batch])
        ax.set_yscale("log")
        ax.set_xlabel("batch")
        ax.set_ylabel("throughput (tokens/s)")
        p, n = int(sub.prompt.iloc[0]), int(sub.generated.iloc[0])
        ax.set_title(f"{m} ({p}+{n})")
        ax.grid(alpha=0.3, axis="y")
    axes[0][-1].legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    fig.tight_layout()
    return fig


def _at(df, model, batch, col):
    row = df[(df.model == model) & (df.batch == batch)]
    return float(row[col].iloc[0]) if len(row) else None


def _range(df, model, batch, over):
    """SparF's (uniform, clustered, measured) throughput at ``batch`` over ``over``."""
    vals = [_at(df, model, batch, f"instinfer_sparf_{v}_tok_s") for v in ("uniform", "clustered", "measured")]
    if any(v is None for v in vals) or not over:
        return None
    return tuple(v / over for v in vals)


def _bounds(name: str, paper: float, rng, note: str) -> list[Claim]:
    """SparF's locality cases as claims: the two bounds and the measured point, with whether the paper's value
    lies between the bounds."""
    if rng is None:
        return [Claim(name, paper, None, "x", source=SRC, note=note)]
    uni, clu, mea = rng
    lo, hi = min(uni, clu), max(uni, clu)
    where = f"the paper's {paper:g} lies {'inside' if lo <= paper <= hi else 'outside'} the bounds [{lo:.3g}, {hi:.3g}]"
    return [Claim(f"{name}, uniform locality (bound)", paper, uni, "x", source=SRC,
                  note="; ".join(x for x in (note, "selected channels and tokens scattered over pages", where) if x)),
            Claim(f"{name}, clustered locality (bound)", paper, clu, "x", source=SRC,
                  note=f"selected channels and tokens fill whole pages; {where}"),
            Claim(f"{name}, measured locality", paper, mea, "x", source=SRC,
                  note="pages read as the functional SparF reads them on seeded synthetic peaked attention "
                       "(sinks, recent window, heavy hitters, outlier query channels)")]


@target("instinfer", "InstInfer (KV cache + decode attention in flash drives) vs FlexGen on OPT-13B/30B, LLaMA-2-13B")
def build(quick: bool = False) -> Report:
    runs = Runs(quick)
    models = ["opt-13b"] if quick else list(MODELS)
    batches = (64, 256) if quick else BATCHES
    df = throughput_table(runs, models, batches)

    # FlexGen's best batch (KV on SSD) per model, and ZeRO-Inference's best
    fbest = {m: runs.flexgen_best(m, batches) for m in models}
    zbest = {m: runs.zero(m) for m in models}

    # drive scaling (OPT-13B, batch 256)
    drives = (1, 2) if quick else (1, 2, 20)
    sc_rows = []
    for nd in drives:
        _log(f"opt-13b batch 256, {nd} drive(s)")
        row = {"drives": nd}
        for v in (None, "uniform", "clustered", "measured"):
            r = runs.instinfer("opt-13b", 256, drives=nd, sparf=v)
            row[f"{v or 'dense'}_tok_s"] = _tok(r)
        sc_rows.append(row)
    scale = pd.DataFrame(sc_rows)
    for v in ("dense", "uniform", "clustered", "measured"):
        scale[f"{v}_over_1_drive"] = scale[f"{v}_tok_s"] / scale[f"{v}_tok_s"].iloc[0]

    bd, inst_kv_share = breakdown(runs, "opt-13b", 64)
    t3 = table3(runs, "opt-13b", 64)
    err = sparf_error(quick)

    array_gb_s = DriveTiming.from_params(runs.specs["instinfer"].component("csd").params).read_bandwidth() / 1e9
    f13 = runs.flexgen("opt-13b", 64)
    d64 = _at(df, "opt-13b", 64, "instinfer_dense_tok_s")
    fb13 = fbest["opt-13b"]
    claims = [
        Claim("OPT-13B batch 64: dense InstInfer / FlexGen", 6.85, d64 / _tok(f13) if f13 else None, "x",
              source=SRC, note="both at batch 64; FlexGen with the KV cache on the 980 Pro (the paper's SSD "
              "baseline). Decode is bandwidth-bound on both sides: the drive's array sustains "
              f"{array_gb_s:.2f} GB/s "
              f"(8 channels x 8 dies, tR 35.76 us, NVMeVirt preset) against FlexGen's disk->CPU "
              f"{runs.hw.dtoc_gb_per_s:.2f} GiB/s (FlexGen's T4-host efficiency applied to the 980 Pro)"),
        *_bounds("OPT-13B: InstInfer-SparF (batch 256) / FlexGen's best", 11.1,
                 _range(df, "opt-13b", 256, _tok(fb13) if fb13 else None),
                 f"SparF ratio 1/8 (r = 16 channels, k = kv_len/16 tokens) over FlexGen's best batch "
                 f"({fb13.batch if fb13 else '-'})"),
        *_bounds("OPT-13B batch 256: SparF / dense InstInfer", 2.08,
                 _range(df, "opt-13b", 256, _at(df, "opt-13b", 256, "instinfer_dense_tok_s")),
                  "uniform locality gains almost nothing: with k = kv_len/16 and 16 tokens a page, 64% of the "
                 "token pages hold a selected token, and 10.5 of the 16 channel groups one of the top-16 channels"),
        Claim("OPT-13B: dense InstInfer / DeepSpeed ZeRO-Inference's best", 1.046,
              (_at(df, "opt-13b", 16, "instinfer_dense_tok_s") or d64) / _tok(zbest["opt-13b"])
              if zbest["opt-13b"] else None, "x", source=SRC,
              note=f"ZeRO-Inference as FlexGen's cost model with the weights in CPU memory and the KV cache on the GPU "
                   f"(best batch {zbest['opt-13b'].batch if zbest['opt-13b'] else '-'}); InstInfer at batch 16. "
                   "The cost model's ZeRO keeps the KV cache in GPU memory, so it is fast at the small batches "
                   "that fit"),
        Claim("FlexGen KV-access share of decode (OPT-13B batch 64)", 0.9894,
              f13.kv_access_share if f13 else None, "fraction", source=SRC,
              note="disk->CPU KV-cache time / decode layer time in FlexGen's cost model"),
        Claim("InstInfer KV-access share of decode (OPT-13B batch 64)", 0.807, inst_kv_share, "fraction",
              source=SRC, note="drive attention time / decode layer time; the GPU side (roofline + 10 us per "
                               "kernel) is small next to the flash reads, so the model's share is higher"),
    ]
    if not quick:
        for m, paper_d, paper_s, fb_batch in (("opt-30b", 4.09, 9.39, 8), ("llama2-13b", 5.68, 12.48, 16)):
            f = runs.flexgen(m, fb_batch)
            claims.append(Claim(f"{m}: dense InstInfer (batch 128) / FlexGen (batch {fb_batch})", paper_d,
                                _at(df, m, 128, "instinfer_dense_tok_s") / _tok(f) if f else None, "x", source=SRC,
                                note="both sides are bound by KV-cache bandwidth, so the model's ratio is about "
                                     "the drive-array / SSD-path bandwidth ratio (~5.2x) for every model; the "
                                     "paper's spread across models (4.09x to 6.85x) comes from costs the model "
                                     "leaves out (GPU-side framework time, FlexGen's runtime overheads)"))
            claims.extend(_bounds(f"{m}: InstInfer-SparF (batch 128) / FlexGen (batch {fb_batch})", paper_s,
                                  _range(df, m, 128, _tok(f) if f else None), ""))
    two = scale[scale.drives == 2]
    fb32 = runs.flexgen("opt-13b", 32)
    claims.append(Claim("2 drives: dense InstInfer (batch 256) / FlexGen's best (batch 32)", 10.5,
                        float(two["dense_tok_s"].iloc[0]) / _tok(fb32) if fb32 and len(two) else None, "x",
                        source=SRC, note="FlexGen at batch 32, the paper's best FlexGen batch"))
    twenty = scale[scale.drives == 20]
    if len(twenty):
        claims.append(Claim("20 drives / 1 drive, dense (batch 256)", 8.99, float(twenty["dense_over_1_drive"].iloc[0]),
                            "x", source=SRC, note="the model scales almost linearly: the (sequence, head) pairs "
                            "split evenly, each drive has its own x4 link and the GPU side stays small. The paper's "
                            "20 drives were emulated (NVMeVirt) on one host, whose memory bandwidth and cores they "
                            "share; that shared bottleneck is not in the model"))
        claims.extend(_bounds("20 drives / 1 drive, SparF (batch 256)", 7.29,
                              tuple(float(twenty[f"{v}_over_1_drive"].iloc[0])
                                    for v in ("uniform", "clustered", "measured")), "as for dense"))
    for _, r in t3.iterrows():
        claims.append(Claim(f"Table III {r.traffic_per_layer} volume (OPT-13B b64, per layer)", r.paper_gb, r.model_gb,
                            "GB", source=SRC + " Table III",
                            note="dense decode reads every K and V token page each step (about 2.07 TB per layer "
                                 "over 1024 steps at batch 64); the paper's 1,086 GB is about half of that, what a "
                                 "SparF run reading half the pages (its 2.08x over dense) would read, so Table III "
                                 "may be a SparF run; not stated" if
                            r.traffic_per_layer == "decode read" else
                            "the model writes K and V token pages plus the channel-indexed K copy (1.5x the K/V "
                            "bytes)" if r.traffic_per_layer == "decode write" else
                            "K and V token pages + the channel-indexed K copy"))
        claims.append(Claim(f"Table III {r.traffic_per_layer} rate", r.paper_gb_per_s, r.model_gb_per_s, "GB/s",
                            source=SRC + " Table III",
                            note="program-bound: 64 dies x 4 KB per tPROG (185 us) = 1.42 GB/s; NVMeVirt's preset "
                                 "programs a 32 KB flash page per tPROG, which a 4 KB-page model does not"
                            if "write" in r.traffic_per_layer
                            else "read-bound: 64 dies x 4 KB per (tR + transfer)"))
    notes = [
        f"SparF measured locality: the functional SparF reads {runs.measured[0]:.1%} of the channel pages and "
        f"{runs.measured[1]:.1%} of the token pages on synthetic peaked attention (ratio 1/8, kv_len 2048)",
        f"lengths: {', '.join(f'{m} {runs.lengths(m)[0]}+{runs.lengths(m)[1]}' for m in models)}"
        + (" (quick: 128 generated tokens)" if quick else ""),
        "throughput = batch x generated tokens / (prefill + decode) seconds; InstInfer times are simulated "
        "(flash closed forms = flash event model; GPU = A6000 roofline + 10 us/kernel); FlexGen and "
        "ZeRO-Inference are FlexGen's cost model (its LP over placements, scipy HiGHS) with derived constants",
        "FlexGen (free placement) lets the LP keep part of the KV cache in the 96 GB DRAM; the paper's baseline "
        "offloads it to the SSD, which is the ratio's denominator",
        "OPT-30B: two A6000s modelled as one GPU of twice the memory, bandwidth and FLOPS (ideal tensor "
        "parallelism) for both InstInfer and FlexGen [assumed]",
        "DeepSpeed's collapse at batch 32, FlexGen's out-of-memory at batch 128 and vLLM-style recomputation are "
        "not modelled (the cost model fits batch 128 on the SSD)",
    ]
    return Report("instinfer", "InstInfer: paper vs model", claims=claims,
                  tables={"throughput": df.round(4), "drive_scaling": scale.round(4),
                          "decode_breakdown": bd.round(5), "table3": t3.round(4), "sparf_error": err.round(6)},
                  figures={"throughput": _figure(df)}, notes=notes)

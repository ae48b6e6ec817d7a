"""``archsim reproduce lut-tensor-core``: Table 1 of the LUT Tensor Core paper (Mo et al., arXiv 2408.06003),
its headline ratios, the table-precompute overhead and a precision sweep, from the tile-level cycle model.

Every number is simulated from the shipped specs (arch/specs/{a100_fp16_tc,a100_int8_tc,lut_tensor_core,
a100_lut_8x,h100_fp8_tc,h100_lut_4x,h100_lut_8x}.yaml) with the default mapping (table precompute fused into the
preceding element-wise kernel, unfused attention); nothing is fitted to the paper. Latencies are whole-model
prefills of BitNet b1.58 3B shapes at batch 1 x 2048 tokens and batch 1024 x 1 token.
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass, field

import pandas as pd

from archsim.reproduce import Claim, Report, target
from archsim.reproduce.report import cite
from archsim.reproduce.ladder import Ladder, Rung, Variant, cumulative

MODEL = "bitnet-b1.58-3b"
DENSE = {"weight_format": None, "weight_bits": None, "act_format": None}
OPT_GEMM = (4096, 12288, 12288)  # the paper's example GEMM from OPT-175B, used for energy per operation
KERNEL_GEMM = (2048, 27648, 5120)  # the paper's LLaMA2-13B kernel-level shape, used for the precision sweep
SRC_T1 = "[paper] Table 1 (energy column [secondary])"


@dataclass(frozen=True)
class Row:
    config: str
    spec: str
    workload: str
    model_kw: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)
    paper: tuple = ()  # BS1 SEQ2048 ms, BS1024 SEQ1 ms, peak T(FL)OPs, TC area/SM mm^2, density, energy eff

    @property
    def unit(self) -> str:
        return "TFLOPs" if "FP" in self.workload.split(" A_")[-1] else "TOPs"


ROWS = (
    Row("A100 FP16 TC", "a100_fp16_tc", "LLaMA 3B W_FP16 A_FP16", DENSE, {}, (106.71, 41.15, 312, 0.975, 2.96, 2.98)),
    Row("A100 INT8 TC", "a100_int8_tc", "BitNet b1.58 3B W_INT2 A_INT8", {}, {},
        (67.06, 21.70, 624, 0.312, 17.73, 19.94)),
    Row("A100-LUT-4X", "lut_tensor_core", "BitNet b1.58 3B W_INT2 A_INT8", {}, {},
        (42.49, 11.41, 1248, 0.187, 61.84, 33.32)),
    Row("A100-LUT-8X", "a100_lut_8x", "BitNet b1.58 3B W_INT2 A_INT8", {}, {},
        (38.02, 7.47, 2496, 0.373, 61.95, 33.65)),
    Row("H100 FP8 TC", "h100_fp8_tc", "BitNet b1.58 3B W_FP8 A_FP8", DENSE, {"linear_format": "fp8_e4m3"},
        (38.20, 12.30, 1525, 0.918, 12.59, None)),
    Row("H100-LUT-4X", "h100_lut_4x", "BitNet b1.58 3B W_INT2 A_FP8", {"act_format": "fp8_e4m3"}, {},
        (28.70, 9.90, 1525, 0.488, 23.69, None)),
    Row("H100-LUT-8X", "h100_lut_8x", "BitNet b1.58 3B W_INT2 A_FP8", {"act_format": "fp8_e4m3"}, {},
        (23.48, 5.97, 3049, 0.909, 25.40, 17.32)),
)
SHAPES = {"seq2048": {"prompt": 2048}, "bs1024": {"prompt": 1, "batch": 1024}}
QUICK_ROWS = tuple(r for r in ROWS if r.config in ("A100 FP16 TC", "A100-LUT-4X", "A100-LUT-8X"))


def _log(msg: str) -> None:
    print(f"  [lut-tensor-core] {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------ simulation helpers


def category(op: str, label: str) -> str:
    if ".attention" in label:
        return "attention"
    if label.startswith("head."):
        return "lm_head"
    if op in ("lut_gemm", "mac_gemm", "dense_gemm"):
        return "linear"
    if op == "precompute" or label.endswith("+tables"):
        return "tables"
    return "other"


def run_breakdown(spec_name, workload, set_: dict | None = None, **options) -> tuple[float, dict[str, float]]:
    """Simulated seconds of a workload, and seconds per kernel category (linear GEMMs, attention, LM head,
    kernels carrying table precompute, other streaming kernels)."""
    from archsim import arch
    from archsim import mapper
    from archsim.cyclesim.engines import model_for
    from archsim.cyclesim.run import run

    spec = arch.load(spec_name, set=set_) if isinstance(spec_name, str) else spec_name
    program = mapper.compile(workload, spec, **options)
    sim = run(program, spec, mode="burst")
    comp = spec.component(program.engines["gpu"])
    engine = model_for("gpu", comp.impl, comp.params)
    hz = comp.params["freq_mhz"] * 1e6
    parts: Counter = Counter()
    for block in program.blocks:
        for c in block.commands:
            parts[category(c.op, c.label)] += engine.cost(c.op, c.work)[0] / hz
    return sim.seconds, dict(parts)


def hardware(row: Row) -> dict:
    """Peak (from the cycle model's steady state), tensor-core area per SM, density, energy efficiency."""
    from archsim import arch
    from archsim.cyclesim.tensor_core import Gemm, Machine, simulate_gemm
    from archsim.cyclesim.tensor_core.pipeline import measured_peak_ops_per_s
    from archsim.mapper.tensor_core_search import search

    m = Machine.from_spec(arch.load(row.spec))
    a_fmt = row.model_kw.get("act_format", "int8")
    if m.is_lut:
        peak = measured_peak_ops_per_s(m, "lut", 2, a_fmt)
        gemm = Gemm(*OPT_GEMM, "lut", a_fmt, "int2")
    else:
        peak = measured_peak_ops_per_s(m, "mac")
        w_fmt = m.mac_format if row.model_kw is DENSE else "int2"
        gemm = Gemm(*OPT_GEMM, "mac", m.mac_format, w_fmt)
    peak = float(peak)
    area = m.tc_area_per_sm_mm2(a_fmt)
    timing = simulate_gemm(m, gemm, search(m, gemm).tiling)
    tc_pj = timing.energy_pj.get("tensor_core", 0.0)
    eff = gemm.ops / (tc_pj * 1e-12) / 1e12 if tc_pj else None
    return {"peak": peak / 1e12, "area": area, "density": peak / 1e12 / (m.sms * area) if area else None,
            "energy": eff, "gemm_util": timing.ops_per_s(m) / peak}


def _ratio(model, paper):
    return None if model is None or not paper else model / paper


# ------------------------------------------------------------------------------------------ the report parts


def table1(quick: bool) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    from archsim import workloads

    lat_rows, hw_rows, results = [], [], {}
    for row in (QUICK_ROWS if quick else ROWS):
        model = workloads.model(MODEL, **row.model_kw)
        res = {}
        for key, kw in SHAPES.items():
            _log(f"{row.config}: {key}")
            wl = model.prefill(**kw)
            res[key] = run_breakdown(row.spec, wl, **row.options)
            res[f"{key}_linear_ops"] = sum(op.flops() for op in wl.step(0).graph.ops()
                                           if op.kind in ("gemm", "mpgemm") and not op.name.startswith("head."))
        res["hw"] = hardware(row)
        results[row.config] = res
        p = row.paper
        s, b = res["seq2048"], res["bs1024"]
        lat_rows.append({
            "config": row.config, "workload": row.workload,
            "BS1 SEQ2048 paper ms": p[0], "BS1 SEQ2048 model ms": round(s[0] * 1e3, 2),
            "BS1 SEQ2048 model/paper": round(s[0] * 1e3 / p[0], 2),
            "BS1 SEQ2048 linear GEMMs ms": round(s[1].get("linear", 0) * 1e3, 2),
            "BS1 SEQ2048 attention ms": round(s[1].get("attention", 0) * 1e3, 2),
            "BS1024 SEQ1 paper ms": p[1], "BS1024 SEQ1 model ms": round(b[0] * 1e3, 2),
            "BS1024 SEQ1 model/paper": round(b[0] * 1e3 / p[1], 2),
            "BS1024 SEQ1 linear GEMMs ms": round(b[1].get("linear", 0) * 1e3, 2)})
        h = res["hw"]
        hw_rows.append({
            "config": row.config, "unit": row.unit,
            "peak paper": p[2], "peak model": round(h["peak"], 1), "peak model/paper": round(h["peak"] / p[2], 3),
            "TC mm2/SM paper": p[3], "TC mm2/SM model": None if h["area"] is None else round(h["area"], 3),
            "TC mm2/SM model/paper": None if h["area"] is None else round(h["area"] / p[3], 2),
            "density T(FL)OPs/mm2 paper": p[4],
            "density T(FL)OPs/mm2 model": None if h["density"] is None else round(h["density"], 2),
            "density model/paper": None if h["density"] is None else round(h["density"] / p[4], 2),
            "energy eff T(FL)OPs/W paper": p[5],
            "energy eff T(FL)OPs/W model": None if h["energy"] is None else round(h["energy"], 2),
            "energy eff model/paper": None if _ratio(h["energy"], p[5]) is None else round(h["energy"] / p[5], 2)})
    return pd.DataFrame(lat_rows), pd.DataFrame(hw_rows), results


def precompute_overhead(quick: bool) -> tuple[pd.DataFrame, dict]:
    """One decoder layer of OPT-175B and LLaMA2-70B, 4096 tokens (2 x 2048), W_INT2 A_FP16, on A100-LUT-4X:
    table precompute time over the layer's LUT GEMM time, as its own kernels and fused into the producers."""
    from archsim import workloads

    models = ("opt-175b",) if quick else ("opt-175b", "llama2-70b")
    rows, ranges = [], {"kernel": [], "fused": []}
    for name in models:
        cfg = workloads.get_model(name).replace(n_layers=1, weight_format="uint", weight_bits=2, act_format="fp16")
        wl = workloads.model(cfg).prefill(prompt=2048, batch=2)
        _log(f"precompute overhead: {name}")
        base = run_breakdown("lut_tensor_core", wl, precompute="none")[1]
        row = {"model": name, "layer LUT GEMMs ms": round(base["linear"] * 1e3, 3)}
        for mode in ("kernel", "fused"):
            parts = run_breakdown("lut_tensor_core", wl, precompute=mode)[1]
            extra = sum(parts.values()) - sum(base.values())
            pct = 100 * extra / base["linear"]
            ranges[mode].append(pct)
            row[f"{'unfused' if mode == 'kernel' else 'fused'} overhead %"] = round(pct, 2)
        if not quick:
            inline = run_breakdown("lut_tensor_core", wl, precompute="inline")[1]
            inline_extra = sum(inline.values()) - sum(base.values())
            row["in-GEMM (inline) overhead %"] = round(100 * inline_extra / base["linear"], 2)
        rows.append(row)
    return pd.DataFrame(rows), ranges


SENSITIVITY = (  # (variant, spec overrides, mapper options, applies to MAC rows too)
    ("as shipped", {}, {}, True),
    ("fused (flash) attention", {}, {"attention": "fused"}, True),
    ("exact 16-bit tables", {"gpu.table_bits": 16}, {}, False),
    ("tables built in the GEMM", {}, {"precompute": "inline"}, False),
    ("2x L2 bandwidth", {"gpu.l2_bw_bytes_per_cycle": 10240.0}, {}, True),
)


def sensitivity() -> pd.DataFrame:
    """What-if runs behind the disagreement notes: A100 FP16 TC and A100-LUT-8X with one assumption changed."""
    from archsim import workloads

    rows, base = [], {}
    for variant, set_, opts, mac_too in SENSITIVITY:
        for row in (ROWS[0], ROWS[3]):
            if not mac_too and "LUT" not in row.config:
                continue
            model = workloads.model(MODEL, **row.model_kw)
            _log(f"sensitivity: {row.config}, {variant}")
            t = {k: run_breakdown(row.spec, model.prefill(**kw), set_=set_ or None, **row.options, **opts)[0] * 1e3
                 for k, kw in SHAPES.items()}
            if "LUT" not in row.config:
                base[variant] = t
            ref = base.get(variant, base["as shipped"])
            rows.append({"variant": variant, "config": row.config, "BS1 SEQ2048 ms": round(t["seq2048"], 2),
                         "BS1024 SEQ1 ms": round(t["bs1024"], 2),
                         "BS1 SEQ2048 speedup over FP16 TC (same variant)": round(ref["seq2048"] / t["seq2048"], 2),
                         "BS1024 SEQ1 speedup over FP16 TC (same variant)": round(ref["bs1024"] / t["bs1024"], 2)})
    return pd.DataFrame(rows)


def precision_sweep(quick: bool) -> tuple[pd.DataFrame, object]:
    from archsim import arch
    import matplotlib.pyplot as plt
    from archsim.cyclesim.tensor_core import Gemm, Machine, simulate_gemm
    from archsim.mapper.tensor_core_search import search

    rows = []
    specs = ("lut_tensor_core",) if quick else ("lut_tensor_core", "a100_lut_8x")
    for spec in specs:
        m = Machine.from_spec(arch.load(spec))
        for a_fmt, a_name in (("int8", "A8"), ("fp16", "A16")):
            for w in ((2,) if quick else (1, 2, 4)):
                _log(f"precision sweep: {m.name} W{w}{a_name}")
                g = Gemm(*KERNEL_GEMM, "lut", a_fmt, f"uint{w}")
                t = simulate_gemm(m, g, search(m, g).tiling)
                tops = t.ops_per_s(m) / 1e12
                area = m.tc_area_per_sm_mm2(a_fmt) * m.sms
                rows.append({"config": m.name, "weights": f"W_INT{w}", "acts": a_name, "peak TOPs": round(
                    m.peak_ops_per_s("lut", w) / 1e12, 1), "GEMM TOPs": round(tops, 1), "bound": t.bound,
                    "TC mm2": round(area, 2), "density TOPs/mm2": round(tops / area, 2)})
    for spec, w_fmt in (("a100_fp16_tc", "fp16"), ("a100_int8_tc", "int2")):
        m = Machine.from_spec(arch.load(spec))
        g = Gemm(*KERNEL_GEMM, "mac", m.mac_format, w_fmt)
        t = simulate_gemm(m, g, search(m, g).tiling)
        area = m.tc_area_per_sm_mm2() * m.sms
        rows.append({"config": m.name, "weights": "W_FP16" if w_fmt == "fp16" else "W_INT2 (dequant)",
                     "acts": "A16" if m.mac_format == "fp16" else "A8",
                     "peak TOPs": round(m.peak_ops_per_s("mac") / 1e12, 1),
                     "GEMM TOPs": round(t.ops_per_s(m) / 1e12, 1), "bound": t.bound, "TC mm2": round(area, 2),
                     "density TOPs/mm2": round(t.ops_per_s(m) / 1e12 / area, 2)})
    df = pd.DataFrame(rows)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    lut = df[df["config"].str.contains("LUT")]
    labels = [f"W{w[-1]}" for w in lut["weights"].unique()]
    width = 0.8 / (len(specs) * 2)
    for ax, col, title in ((axes[0], "GEMM TOPs", "throughput (TOPs)"), (axes[1], "density TOPs/mm2",
                                                                          "compute density (TOPs/mm^2)")):
        i = 0
        for spec_name in lut["config"].unique():
            for acts in ("A8", "A16"):
                sub = lut[(lut["config"] == spec_name) & (lut["acts"] == acts)]
                xs = [j + (i - (len(specs) * 2 - 1) / 2) * width for j in range(len(sub))]
                ax.bar(xs, sub[col], width, label=f"{spec_name} {acts}")
                i += 1
        for _, r in df[~df["config"].str.contains("LUT")].iterrows():
            ax.axhline(r[col], ls="--", lw=1, color="gray" if "FP16" in r["config"] else "black")
            ax.text(len(labels) - 0.5, r[col], f" {r['config']}", va="bottom", ha="right", fontsize=7)
        ax.set_xticks(range(len(labels)), labels)
        ax.set_title(f"{title}, GEMM {KERNEL_GEMM[0]}x{KERNEL_GEMM[1]}x{KERNEL_GEMM[2]}", fontsize=9)
        ax.set_yscale("log")
    axes[0].legend(fontsize=7)
    fig.suptitle("LUT Tensor Core precision sweep (tile-level model; dashed: MAC tensor cores)", fontsize=10)
    fig.tight_layout()
    return df, fig


def latency_figure(lat: pd.DataFrame):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    x = range(len(lat))
    for ax, (paper, model, title) in zip(axes, (("BS1 SEQ2048 paper ms", "BS1 SEQ2048 model ms", "BS1 SEQ2048"),
                                                ("BS1024 SEQ1 paper ms", "BS1024 SEQ1 model ms", "BS1024 SEQ1"))):
        ax.bar([i - 0.2 for i in x], lat[paper], 0.4, label="paper")
        ax.bar([i + 0.2 for i in x], lat[model], 0.4, label="model")
        ax.set_xticks(list(x), lat["config"], rotation=30, ha="right", fontsize=7)
        ax.set_ylabel("ms")
        ax.set_title(f"BitNet b1.58 3B shapes, {title}", fontsize=9)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------------------------------ what-if ladders

#: Cumulative rungs for the headline speedups (A100-LUT-8X over A100 FP16 TC): each adds one alternative
#: assumption, shipped as a YAML extending a100_fp16_tc.yaml / a100_lut_8x.yaml or as a mapper option; whether a
#: rung is sourced or assumed is read from the tags of what it changes.
LADDER = (
    Variant("as_shipped", "as shipped", "both", source="shipped specs a100_fp16_tc.yaml and a100_lut_8x.yaml",
            expect="same"),
    Variant("accelsim_fp16", "FP16 TC as the authors' Accel-Sim config states it", "fp16",
            (("a100_fp16_tc_accelsim", "a100_fp16_tc"),), expect="same"),
    Variant("mamf_fp16", "FP16 TC: MMA issue at the measured A100 matmul efficiency", "fp16",
            (("a100_fp16_tc_mamf", "a100_fp16_tc"),), expect="up"),
    Variant("mamf_lut", "LUT-8X: the same issue losses", "lut", (("a100_lut_8x_mamf", "a100_lut_8x"),),
            expect="down"),
    Variant("drm", "LUT-8X: double register modelling", "lut", (("a100_lut_8x_drm", "a100_lut_8x"),),
            expect="up"),
    Variant("welder", "Welder-style fusion of element-wise chains (both GPUs)", "both",
            options={"elementwise": "fused"}, expect="up",
            source="[paper] the compiler is built on TVM, Roller and Welder, which fuses element-wise operator "
                   "chains; applied to both GPUs"),
    Variant("flash_attention", "fused (flash) attention (both GPUs)", "both", options={"attention": "fused"},
            expect="up", source="[assumed: the paper does not say how attention runs; a FlashAttention-style "
                                "kernel on both GPUs]"),
    Variant("row_scales", "LUT-8X: one table scale per row", "lut", (("a100_lut_8x_row_scales", "a100_lut_8x"),),
            expect="up"),
)


def ladder_runs(variants=LADDER, shapes=("bs1024", "seq2048")) -> list[dict]:
    """Per rung (cumulative): A100 FP16 TC and A100-LUT-8X whole-model latency (ms) at each shape."""
    from archsim import workloads

    fp16_row, lut_row = ROWS[0], ROWS[3]
    out = []
    for i in range(len(variants)):
        fp16, opts = cumulative(fp16_row.spec, list(variants[:i + 1]))
        lut, _ = cumulative(lut_row.spec, list(variants[:i + 1]))
        r = {}
        for key in shapes:
            _log(f"ladder rung {i} ({variants[i].name}): {key}")
            for tag, spec, row in (("fp16", fp16, fp16_row), ("lut8", lut, lut_row)):
                wl = workloads.model(MODEL, **row.model_kw).prefill(**SHAPES[key])
                r[f"{key}_{tag}_ms"] = run_breakdown(spec, wl, **row.options, **opts)[0] * 1e3
        out.append(r)
    return out


def ladders(runs: list[dict], variants=LADDER) -> list[Ladder]:
    lads = []
    for key, label, paper in (("bs1024", "BS1024 SEQ1", 5.51), ("seq2048", "BS1 SEQ2048", 2.81)):
        if f"{key}_fp16_ms" not in runs[0]:
            continue
        lad = Ladder(f"speedup_{key}", f"speedup {label}, A100-LUT-8X over A100 FP16 TC", "x", paper)
        for v, r in zip(variants, runs):
            f, lt = r[f"{key}_fp16_ms"], r[f"{key}_lut8_ms"]
            lad.rungs.append(Rung(v, f / lt, {"fp16_ms": f, "lut8x_ms": lt}))
        lads.append(lad)
    return lads


# ------------------------------------------------------------------------------------------ claims and notes

WHY = {
    "mac_fast": ("the model's MAC GEMMs run near the tensor-core peak (a tile-level pipeline has no instruction-"
                 "issue, bank-conflict or scheduling losses); the paper's latencies imply ~55-65% GEMM efficiency "
                 "(its simulator is calibrated on real A100 kernels)"),
    "lut_l2": ("the 8X arrays are L2-bandwidth-bound in the model: every thread block streams 2.5 bytes of table per "
               "activation (8-entry INT8 tables + an FP16 scale per table) plus the weight bits, and 5120 B/clk of "
               "L2 shared by all SMs feeds ~60% of the 8X peak with the largest tiles the register file allows for "
               "the accumulators; the paper does not describe an L2 limit"),
    "fixed": ("the non-GEMM kernels (attention, norms, SwiGLU, RoPE, KV append, LM head, the kernels that carry "
              "the table precompute) take the same time on every A100 row and bound the speedup"),
}


def _breakdown_note(res: dict, key: str, peak_tops: float) -> str:
    secs, parts = res[key]
    lin = parts.get("linear", 0.0)
    util = res[f"{key}_linear_ops"] / lin / 1e12 / peak_tops if lin else 0.0
    rest = ", ".join(f"{k} {v * 1e3:.2f}" for k, v in sorted(parts.items()) if k != "linear")
    return f"model {secs * 1e3:.2f} ms = linear GEMMs {lin * 1e3:.2f} ms ({100 * util:.0f}% of peak) + {rest} ms"


def claims_and_notes(rows, results: dict, ranges: dict, quick: bool) -> tuple[list[Claim], list[str]]:
    from archsim import arch

    claims: list[Claim] = []
    r = {row.config: results[row.config] for row in rows}
    ms = {c: (v["seq2048"][0] * 1e3, v["bs1024"][0] * 1e3) for c, v in r.items()}
    hw = {c: v["hw"] for c, v in r.items()}
    fp16, lut4, lut8 = "A100 FP16 TC", "A100-LUT-4X", "A100-LUT-8X"
    claims += [
        Claim("speedup BS1024 SEQ1, A100-LUT-8X over A100 FP16 TC", 5.51, ms[fp16][1] / ms[lut8][1], "x",
              f"{WHY['mac_fast']}; {WHY['lut_l2']}; {WHY['fixed']}", "[paper] abstract, Table 1"),
        Claim("speedup BS1 SEQ2048, A100-LUT-8X over A100 FP16 TC", 2.81, ms[fp16][0] / ms[lut8][0], "x",
              f"{WHY['mac_fast']}; and the unfused attention (the same 18 ms on both) dominates the LUT run",
              "[paper] abstract, Table 1"),
        Claim("compute density, A100-LUT-8X over A100 FP16 TC", 20.9, hw[lut8]["density"] / hw[fp16]["density"], "x",
              "peak over tensor-core area; LUT area from Table 2's 11,991 um^2 per array (Table 1 implies 11,700)",
              "[paper] abstract, Table 1"),
        Claim("energy efficiency, A100-LUT-4X over A100 FP16 TC", 11.2, hw[lut4]["energy"] / hw[fp16]["energy"], "x",
              "tensor-core energy per operation on the OPT-175B GEMM 4096x12288x12288; LUT energy from Table 2's "
              "16.22 mW per array at 1 GHz, FP16 from Table 1's 2.98 TFLOPs/W [secondary]", "[paper] abstract"),
        Claim("tensor-core area, A100-LUT-8X / A100 FP16 TC", 38.3,
              100 * hw[lut8]["area"] / hw[fp16]["area"], "%", "32 arrays x 11,991 um^2 over 0.975 mm^2",
              "[paper] abstract, Table 1"),
    ]
    for row in rows:
        res = r[row.config]
        for i, (key, label) in enumerate((("seq2048", "BS1 SEQ2048"), ("bs1024", "BS1024 SEQ1"))):
            model_ms, paper_ms = ms[row.config][i], row.paper[i]
            note = _breakdown_note(res, key, hw[row.config]["peak"])
            ratio = model_ms / paper_ms
            if ratio < 0.75:
                note += f"; faster than the paper: {WHY['mac_fast']}"
            elif ratio > 1.25:
                note += f"; slower than the paper: {WHY['lut_l2']}, and {WHY['fixed']}"
            claims.append(Claim(f"{row.config} latency {label}", paper_ms, model_ms, "ms", note, SRC_T1))
        claims.append(Claim(f"{row.config} peak", float(row.paper[2]), hw[row.config]["peak"], row.unit,
                            "steady state of the cycle model = N_SM x 4 x (X 512 / W_BIT) x 2 x f (LUT) or the "
                            "MMA rate (MAC), exactly", SRC_T1))
    modes = {"kernel": ("unfused (own kernel)", (16.47, 24.41)), "fused": ("fused into the producer", (2.52, 2.62))}
    for mode, (label, paper) in modes.items():
        vals = ranges[mode]
        note = ("one decoder layer, 4096 tokens, W_INT2 A_FP16, A100-LUT-4X, as % of the layer's LUT GEMM time; the "
                "precompute kernel streams FP16 activations in and 2.5-byte tables out at HBM speed, which the "
                "large compute-bound GEMMs of these layers dwarf; the paper's shapes, table width and precompute "
                "kernel are not given" if mode == "kernel" else
                "one decoder layer as above; the table math hides under the producer's memory traffic, the extra "
                "cost is writing tables instead of activations; attn.out's tables still need their own kernel "
                "(its producer, attention, is not element-wise)")
        claims.append(Claim(f"table precompute overhead, {label}", paper if not quick else paper[0],
                            (min(vals), max(vals)) if not quick else vals[0], "%", note,
                            "[paper] section 5 (OPT-175B, BLOOM-176B, LLaMA2-70B layers)"))
    notes = [
        "latencies: BitNet b1.58 3B shapes (LLaMA 3B with FP16/FP8 weights for the MAC rows), whole-model prefill, "
        "batch 1 x 2048 tokens and batch 1024 x 1 token; mapping: tables precomputed in the preceding element-wise "
        "kernel, unfused attention (QK^T GEMM, softmax kernel, PV GEMM), tilings from the bounded search; "
        + cite(arch.load("a100_fp16_tc"), "gpu.kernel_overhead_us", "us per kernel launch"),
        "hardware columns: peak from the cycle model's steady state; area = arrays x area per array (LUT) or Table 1's "
        "tensor-core area (MAC rows: an input, so ratio 1 by construction); density = peak / (SMs x area); energy "
        "efficiency = operations / tensor-core dynamic energy on the OPT-175B GEMM (energy per array-cycle or per "
        "MAC from Tables 1-2, so near 1 by construction); H100-LUT-8X's energy and H100-LUT-4X's array area are "
        "derived from their own rows; A100 INT8 TC: the paper lists 17.73 TOPs/mm^2, its own peak and area give 18.52",
        "the LUT GPU keeps the A100/H100 FP16 MMA path for attention and the FP16 LM head [assumed]; its area is "
        "outside the Table 1 tensor-core area, as in the paper",
        "not reproduced: 'up to 8.2x end to end' (needs RTX 3090 and BLOOM configurations); BLOOM-176B is not in "
        "the model zoo, so the precompute range covers OPT-175B and LLaMA2-70B",
        "precompute_overhead: building the tables inside the GEMM (inline) comes out no dearer than loading "
        "precomputed ones, because the LUT GEMMs are L2-bound and the CUDA cores are idle: 2-byte FP16 activations "
        "move instead of 2.5-byte tables",
    ]
    if not quick:
        notes.append("sensitivity: one assumption changed at a time for A100 FP16 TC and A100-LUT-8X (fused "
                     "attention, exact 16-bit tables, tables built in the GEMM, 2x L2 bandwidth); speedups compare "
                     "runs of the same variant")
    return claims, notes


@target("lut-tensor-core", "LUT Tensor Core (Mo et al. 2024): Table 1, headline ratios, precompute, precision sweep")
def build(quick: bool = False) -> Report:
    lat, hw, results = table1(quick)
    pre, ranges = precompute_overhead(quick)
    sweep, sweep_fig = precision_sweep(quick)
    claims, notes = claims_and_notes(QUICK_ROWS if quick else ROWS, results, ranges, quick)
    tables = {"table1_latency": lat, "table1_hardware": hw, "precompute_overhead": pre, "precision_sweep": sweep}
    if not quick:
        tables["sensitivity"] = sensitivity()
    lads = ladders(ladder_runs(shapes=("bs1024",) if quick else ("bs1024", "seq2048")))
    notes.append("ladders: cumulative what-if rungs; 'sourced' rungs change parameters whose sources are cited or "
                 "derived from public measurements, 'assumed' rungs are what-ifs without a source; no rung is "
                 "fitted to the paper's figures")
    return Report(target="lut-tensor-core",
                  title="LUT Tensor Core (Mo et al., arXiv 2408.06003): Table 1 on the tile-level cycle model",
                  claims=claims, tables=tables,
                  figures={"table1_latency": latency_figure(lat), "precision_sweep": sweep_fig}, notes=notes,
                  ladders=lads)

"""``archsim reproduce ngpc``: NGPC (Mubarik et al., "Hardware Acceleration of Neural Graphics", ISCA 2023).

For the four instant-ngp apps and the three encodings on NGPC-8/16/32/64: the end-to-end speedup of a frame
over the RTX 3090 alone (the GPU's measured time per sample and kernel split, ``ngp_baseline`` in ngpc.yaml),
where each app's speedup stops growing, 4K/8K frame rates, the encoding and MLP kernel speedups, the DRAM
bandwidth the cluster uses, and its area and power over the GPU. Every NGPC time is a cycle simulation of the
mapped frame (:func:`archsim.ngpc.simulate_frame`), sampled: a fixed number of queries' worth of NFP batches is
measured exactly on their actual addresses and the rest take their stratum's measurement (the sampling error
against full simulations is measured by ``benchmarks/ngpc.py``). Paper values: ../shared/reference/ngpc.md.
"""

from __future__ import annotations

import math

import pandas as pd

from archsim import arch, ngpc
from archsim.reproduce import Claim, Report, target
from archsim.reproduce.targets.pim_gpt import _figure
from archsim.workloads.ngp import APPS, ENCODINGS, frame, get_app

SIZES = (8, 16, 32, 64)
PAPER_AVG = {8: 12.0, 16: 20.0, 32: 33.0, 64: 39.0}
PAPER_SATURATION = {"nerf": 64, "nsdf": 32, "nvr": 16}
SRC = "NGPC (ISCA 2023, arXiv 2303.05735) via ../shared/reference/ngpc.md"
MEASURED_QUERIES = 1 << 17   # queries measured exactly per frame (sampled simulation)


class LowerBound(Claim):
    """A claim the paper states as "at least": the model agrees when it reaches it."""

    def agrees(self, tolerance: float = 0.25) -> bool:
        return self.model is not None and self.paper is not None and self.model >= self.paper


def spec_of(n: int):
    return arch.load("ngpc" if n == 8 else f"ngpc_{n}")


def simulate(n: int, app: str, encoding: str, res, budget: int):
    spec = spec_of(n)
    return ngpc.simulate_frame(spec, frame(app, encoding, res), sample_queries=budget)


#: (label, overrides, what changes and why it is plausible): each a single assumption of ngpc.yaml
VARIANTS = (
    ("as specified", {}, "ngpc_64.yaml"),
    ("32-byte lines", {"ngpc.grid_sram_line_bytes": 32}, "fill one 32-byte L2 sector per miss instead of 64 bytes"),
    ("128 MSHRs", {"ngpc.num_mshrs": 128}, "4x the outstanding misses per engine (assumed 32)"),
    ("2 MiB grid SRAM", {"ngpc.grid_sram_bytes": 2097152}, "a whole 2^19 x 2 x fp16 hashed level fits one engine"),
    ("2x DRAM bandwidth", {"ngpc.dram_bw_gb_per_s": 1872.0}, "twice the RTX 3090's 936 GB/s for the misses"),
    ("all of L2 for tables", {"ngpc.l2_table_bytes": 6291456}, "the tables may use the whole 6 MB L2 (assumed half)"),
    ("index banking", {"ngpc.bank_mapping": "index"}, "banks by entry index: the corners of a query conflict"),
    ("1.695 GHz", {"ngpc.freq_mhz": 1695.0}, "the NGPC at the GPU's boost clock"),
)


def saturation(speedups: dict[int, float], growth: float = 1.10) -> int:
    """The first size past which doubling the NFPs gains less than ``growth`` (the largest size if never)."""
    sizes = sorted(speedups)
    for a, b in zip(sizes, sizes[1:]):
        if speedups[b] < growth * speedups[a]:
            return a
    return sizes[-1]


@target("ngpc", "NGPC-8/16/32/64 beside an RTX 3090 on NeRF, NSDF, GIA, NVR with three grid encodings")
def build(quick: bool = False) -> Report:
    apps = ("nerf", "gia") if quick else APPS
    encs = ("hashgrid",) if quick else ENCODINGS
    sizes = (8, 64) if quick else SIZES
    res = (480, 270) if quick else "1080p"
    budget = 1 << 13 if quick else MEASURED_QUERIES
    rows = []
    for enc in encs:
        for app in apps:
            for n in sizes:
                r = simulate(n, app, enc, res, budget)
                rows.append({"app": app, "encoding": enc, "nfps": n, **r.row(),
                             "measured_jobs": r.measured_jobs, "jobs": r.jobs})
    df = pd.DataFrame(rows)
    hg = df[df.encoding == "hashgrid"]
    avg = hg.groupby("nfps")["speedup"].mean()

    # frame rates at 4K (NeRF) and 8K (the others) on the largest NGPC
    big = sizes[-1]
    fr_rows = []
    for app in apps:
        r_res = ((960, 540) if app == "nerf" else (1920, 1080)) if quick else ("4k" if app == "nerf" else "8k")
        r = simulate(big, app, "hashgrid", r_res, budget)
        fr_rows.append({"app": app, "resolution": str(r_res), "nfps": big, **r.row()})
    fps = pd.DataFrame(fr_rows)

    claims = [Claim(f"average speedup over RTX 3090, hashgrid, NGPC-{n}", PAPER_AVG[n], float(avg[n]), "x",
                    source=SRC + " [paper]",
                    note="" if n != big else
                    "the GPU keeps the fused rest of kernels ((1 - 0.4024 - 0.3212) x its time / 9.94): the "
                    "model's ceiling is 9.94 / 0.2764 = 36x for every app, because the only published kernel "
                    "split is one for all apps; the paper's 39x average and 58x best need per-app splits")
              for n in sizes]
    claims.append(Claim("best end-to-end speedup (up to)", 58.0, float(df.speedup.max()), "x", source=SRC + " [paper]",
                        note="a bound: the paper's best case; the model's best over apps, encodings and sizes"))
    sat_rows = []
    for app in apps:
        s = {int(r.nfps): float(r.speedup) for r in hg[hg.app == app].itertuples()}
        sat_rows.append({"app": app, "saturates_at_nfps": saturation(s),
                         "paper_saturates_at_nfps": PAPER_SATURATION.get(app, math.nan),
                         **{f"speedup_ngpc_{n}": s[n] for n in sizes}})
    sat = pd.DataFrame(sat_rows)
    for r in sat.itertuples():
        if r.app in PAPER_SATURATION:
            claims.append(Claim(f"{r.app}: speedup stops growing at NGPC-N", float(r.paper_saturates_at_nfps),
                                float(r.saturates_at_nfps), "NFPs", source=SRC + " [secondary]",
                                note="model: the first size past which doubling the NFPs gains under 10%"))
    base = spec_of(8).component("ngp_baseline").params
    rest_share = 1 - base["encoding_fraction"]["hashgrid"] - base["mlp_fraction"]["hashgrid"]
    for r in fps.itertuples():
        paper = 30.0 if r.app == "nerf" else 120.0
        pixels = r.samples / get_app(r.app).samples_per_ray
        # the GPU time per pixel that would let the fused rest alone reach the paper's rate
        need_ns = base["rest_fused_speedup_ratio"] / paper / rest_share / pixels * 1e9
        have_ns = base["ns_per_sample"][r.app] * get_app(r.app).samples_per_ray
        claims.append(LowerBound(f"{r.app} frame rate at {r.resolution}, NGPC-{big} (at least)", paper, float(r.fps),
                                 "frames/s", source=SRC + " [paper]",
                                 note=f"a bound: model {'meets' if r.fps >= paper else 'misses'} it; the frame is "
                                      f"bound by the GPU's fused rest ({r.rest_ms:.1f} ms) vs the NGPC's encoding "
                                      f"{r.encoding_ms:.1f} ms / MLP {r.mlp_ms:.1f} ms; the rate needs an RTX 3090 "
                                      f"time of at most {need_ns:.1f} ns per pixel, the baseline has "
                                      f"{have_ns:.1f} ns"))
    gap = [60 * frame(a, "hashgrid", "4k").samples * base["ns_per_sample"][a] * 1e-9 for a in apps]
    claims.append(Claim("gap of the RTX 3090 to 4K at 60 FPS", (1.51, 55.5), (min(gap), max(gap)), "x",
                        source=SRC + " [paper]",
                        note="an input check, not a prediction: NeRF's and GIA's GPU times per sample were "
                             "derived from these figures; NSDF's and NVR's are assumed (ngpc.yaml)"))
    k = hg[hg.nfps == big]
    claims.append(Claim(f"encoding kernel speedup, NGPC-{big}", 246.0, (float(k.encoding_speedup.min()),
                        float(k.encoding_speedup.max())), "x", source=SRC + " [secondary]",
                        note="the model's hashed levels (2 MiB and up) miss the 1 MB grid SRAM: the engines "
                             "wait on line fills (MSHRs x latency, and the shared L2 / 936 GB/s DRAM paths), not "
                             "on their one-query-per-cycle pipelines (see the variants table)"))
    claims.append(Claim(f"MLP kernel speedup, NGPC-{big}", 1232.0, (float(k.mlp_speedup.min()),
                        float(k.mlp_speedup.max())), "x", source=SRC + " [secondary]",
                        note="a 64x64 array does 4,096 MACs per cycle at 1 GHz: 64 of them give 262 TMAC/s, while the "
                             "GPU's measured NeRF MLP time (32.12% of 231 ms for 12.4 M samples x 10,240 MACs) "
                             "is 1.7 TMAC/s, so even a fully used array caps S_m near 150x; the apps' 16-wide "
                             "outputs and 32-wide inputs use a quarter / half of the array"))
    claims.append(Claim(f"DRAM bandwidth used, NGPC-{big} at the frame-rate resolutions", (69.0, 231.0),
                        (float(fps.bandwidth_gb_per_s.min()), float(fps.bandwidth_gb_per_s.max())), "GB/s",
                        source=SRC + " [secondary]", note="grid-SRAM line fills from DRAM / frame time"))
    area_rows = []
    gpu_area = spec_of(8)["ngp_baseline.area_mm2"]
    gpu_w = spec_of(8)["ngp_baseline.board_power_w"]
    nerf_hg = hg[hg.app == apps[0]].set_index("nfps")
    for n in sizes:
        a = ngpc.area_mm2(spec_of(n))
        area_rows.append({"nfps": n, **a, "area_over_gpu_percent": 100 * a["total_mm2"] / gpu_area,
                          "power_w": float(nerf_hg.loc[n, "ngpc_power_w"]),
                          "power_over_gpu_percent": 100 * float(nerf_hg.loc[n, "ngpc_power_w"]) / gpu_w})
    area = pd.DataFrame(area_rows).set_index("nfps")
    paper_area = {8: (4.52, 2.75), 64: (36.18, 22.06)}
    per_nfp_paper = paper_area[64][0] / 100 * gpu_area / 64
    for n, (pa, pp) in paper_area.items():
        if n not in area.index:
            continue
        claims.append(Claim(f"area over RTX 3090, NGPC-{n}", pa, float(area.loc[n, "area_over_gpu_percent"]), "%",
                            source=SRC + " [secondary]", note=(
                                f"inconsistent reference: 16 x 1 MB of grid SRAM per NFP is "
                                f"{float(area.loc[n, 'grid_sram_mm2']) / n:.1f} mm^2 at the assumed 0.4 mm^2/MiB "
                                f"(7 nm), while the paper's area is {per_nfp_paper:.2f} mm^2 per NFP in all "
                                f"(0.22 mm^2/MiB for the SRAM alone, the bare bitcell area, before any logic)")
                            if n == 64 else ""))
        claims.append(Claim(f"power over RTX 3090, NGPC-{n}", pp, float(area.loc[n, "power_over_gpu_percent"]), "%",
                            source=SRC + " [secondary]",
                            note="model: NGPC energy of a NeRF 1080p frame / frame time (assumed per-access "
                                 "energies in ngpc.yaml) over the 350 W board" if n == 64 else ""))
    # one assumption changed at a time: how far each moves NeRF (hashgrid, NGPC-64)
    var_rows = []
    for label, over, why in (VARIANTS[:2] if quick else VARIANTS):
        spec = spec_of(big).with_overrides(over) if over else spec_of(big)
        fr = frame("nerf", "hashgrid", res)
        r = ngpc.simulate_frame(spec, fr, sample_queries=budget)
        var_rows.append({"variant": label, "changed": why, **{k: v for k, v in r.row().items()
                                                               if k not in ("samples",)}})
    variants = pd.DataFrame(var_rows)
    figs = {"speedup": _figure(list(sizes), {**{a: [float(hg[(hg.app == a) & (hg.nfps == n)].speedup.iloc[0])
                                                 for n in sizes] for a in apps},
                                             "model average": [float(avg[n]) for n in sizes],
                                             "paper average": [PAPER_AVG[n] for n in sizes]},
                               "NFPs", "speedup over RTX 3090 (x)", "NGPC end-to-end speedup (hashgrid)", logx=True)}
    notes = [f"NGPC cycles are {spec_of(8)['ngpc.freq_mhz']:g} MHz NGPC-clock cycles (assumed); GPU cycles "
             f"{spec_of(8)['ngp_baseline.freq_mhz']:g} MHz",
             f"speedup table at {res}: each frame simulated with {budget:,} queries' worth of NFP batches "
             "measured exactly and the rest extrapolated per stratum (benchmarks/ngpc.py measures the error)",
             "the GPU baseline is the published kernel split and per-sample times in ngpc.yaml (NeRF 231 ms per "
             "1080p frame; GIA from the 1.51x gap; NSDF and NVR assumed), not a GPU simulation"]
    return Report("ngpc", "NGPC: paper vs model", claims=claims,
                  tables={"speedup": df.round(4), "saturation": sat.round(3), "frame_rates": fps.round(3),
                          "variants": variants.round(4),
                          "area_power": area.reset_index().round(4)},
                  figures=figs, notes=notes)

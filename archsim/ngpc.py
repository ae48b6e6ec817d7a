"""NGPC from the front door: simulate one frame of an instant-ngp app on an NGPC beside the RTX 3090.

    from archsim import ngpc
    r = ngpc.simulate_frame("ngpc_64", "nerf", "hashgrid", "4k")
    r.speedup, r.fps, r.encoding_speedup, r.mlp_speedup, r.bandwidth_gb_per_s

The GPU-only time of the frame is the baseline's measured time per sample (``ngp_baseline``); the NGPC time
is the cycle simulation of the mapped frame (``archsim.mapper.ngpc``), in which the encoding engines, the MLP
engines, the shared L2/DRAM path and the GPU's fused rest of kernels are engines of one event-driven run.
Kernel speedups S_e and S_m are the GPU's encoding / MLP time over the NGPC's (from the engines' busy time).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from archsim import arch
from archsim.base.errors import ArchsimError
from archsim.cyclesim.engines.ngpc import gpu_ns_per_sample
from archsim.cyclesim.run import run
from archsim.mapper import LOWERINGS
from archsim.mapper.ngpc import DEFAULT_BATCH
from archsim.workloads.ngp import NgpFrame, frame as make_frame

#: queries measured exactly per frame by default (sampled simulation); benchmarks/ngpc.py measures the error
SAMPLE_QUERIES = 1 << 18


@dataclass
class FrameResult:
    spec: str
    frame: str
    samples: int
    seconds: float                 # NGPC + GPU, pipelined
    gpu_seconds: float             # the RTX 3090 alone
    encoding_seconds: float        # NGPC encoding kernel (slowest encoder or the busier shared fill path)
    mlp_seconds: float             # NGPC MLP kernel (slowest MLP engine)
    rest_seconds: float            # GPU fused rest of kernels
    gpu_encoding_seconds: float
    gpu_mlp_seconds: float
    miss_bytes: int                # grid-SRAM line fills, L2 and DRAM
    dram_bytes: int                # of which from DRAM
    reads: int
    misses: int
    measured_jobs: int
    jobs: int
    energy_joules: float
    components: dict[str, Any] = field(repr=False, default_factory=dict)

    @property
    def speedup(self) -> float:
        return self.gpu_seconds / self.seconds

    @property
    def fps(self) -> float:
        return 1.0 / self.seconds

    @property
    def encoding_speedup(self) -> float:
        return self.gpu_encoding_seconds / self.encoding_seconds

    @property
    def mlp_speedup(self) -> float:
        return self.gpu_mlp_seconds / self.mlp_seconds

    @property
    def bandwidth_gb_per_s(self) -> float:
        """DRAM bandwidth the frame uses (line fills from DRAM / frame time)."""
        return self.dram_bytes / self.seconds / 1e9

    @property
    def fill_gb_per_s(self) -> float:
        """All grid-SRAM line fills (L2 and DRAM) / frame time."""
        return self.miss_bytes / self.seconds / 1e9

    @property
    def hit_rate(self) -> float:
        return 1 - self.misses / self.reads if self.reads else 1.0

    @property
    def power_w(self) -> float:
        return self.energy_joules / self.seconds

    def row(self) -> dict[str, float]:
        return {"samples": self.samples, "ngpc_ms": self.seconds * 1e3, "gpu_ms": self.gpu_seconds * 1e3,
                "speedup": self.speedup, "fps": self.fps, "encoding_speedup": self.encoding_speedup,
                "mlp_speedup": self.mlp_speedup, "encoding_ms": self.encoding_seconds * 1e3,
                "mlp_ms": self.mlp_seconds * 1e3, "rest_ms": self.rest_seconds * 1e3,
                "grid_sram_hit_rate": self.hit_rate, "fill_gb_per_s": self.fill_gb_per_s,
                "bandwidth_gb_per_s": self.bandwidth_gb_per_s,
                "ngpc_power_w": self.power_w}


def simulate_frame(spec, app: str | NgpFrame = "nerf", encoding: str = "hashgrid", res="1080p", *,
                   samples_per_ray: int | None = None, occupancy: float = 0.3, seed: int = 0,
                   batch_samples: int = DEFAULT_BATCH, sample_queries: int | None = SAMPLE_QUERIES,
                   progress=None) -> FrameResult:
    """Map and simulate one frame. ``spec``: a shipped name (``ngpc``, ``ngpc_16`` ...), a path or a Spec;
    ``app`` an app name or an :class:`~archsim.workloads.ngp.NgpFrame`. ``sample_queries``: measure evenly
    spaced NFP batches holding about that many queries exactly (at least 2 batches) and extrapolate the others
    from them; None measures every batch (a full simulation)."""
    spec = arch.load(spec) if not isinstance(spec, arch.ArchSpec) else spec
    if spec.family != "ngpc":
        raise ArchsimError(f"spec {spec.name!r} is of family {spec.family!r}; expected an NGPC spec "
                           f"(family ngpc, e.g. 'ngpc_64')")
    fr = app if isinstance(app, NgpFrame) else make_frame(app, encoding, res, samples_per_ray=samples_per_ray,
                                                          occupancy=occupancy, seed=seed)
    if sample_queries is not None and (isinstance(sample_queries, bool) or not isinstance(sample_queries, int)
                                       or sample_queries <= 0):
        raise ArchsimError(f"sample_queries = {sample_queries!r}; expected a positive integer or None")
    sample_jobs = None
    if sample_queries is not None and isinstance(batch_samples, int) and batch_samples > 0:
        per_job = max(1, batch_samples // spec["ngpc.num_nfps"])
        sample_jobs = max(2, math.ceil(sample_queries / per_job))
    prog = LOWERINGS.get("ngpc")(fr, spec, batch_samples=batch_samples, sample_jobs=sample_jobs)
    sim = run(prog, spec, progress=progress)
    comps = sim.components
    freq = spec["ngpc.freq_mhz"] * 1e6
    nfp = spec["ngpc.num_nfps"]
    enc_busy = max(comps[f"enc{k}"]["busy_cycles"] for k in range(nfp))
    mlp_busy = max(comps[f"mlp{k}"]["busy_cycles"] for k in range(nfp))
    mem_busy = max(comps["l2"]["busy_cycles"], comps["dram"]["busy_cycles"])
    base = spec.component("ngp_baseline").params
    gpu_s = fr.samples * gpu_ns_per_sample(base, fr.app.name, fr.encoding) * 1e-9
    reads = misses = misses_l2 = 0
    from archsim.cyclesim.engines.ngpc import NgpcModel

    model = NgpcModel("stats", "NGPC", spec.component("ngpc").params)
    for blk in prog.blocks:
        for c in blk.commands:
            if c.op == "encode":
                st = model.job_stats(c.work["job"])
                reads += st["reads"]
                misses += st["misses"]
                misses_l2 += st["misses_l2"]
    energy_pj = sum(v.get("dynamic_pj", 0.0) for k, v in sim.energy_pj.items() if k != "gpu")
    seconds = sim.seconds
    energy_pj += nfp * spec["ngpc.nfp_static_mw"] * 1e-3 * seconds * 1e12
    return FrameResult(
        spec=spec.name, frame=fr.name, samples=fr.samples, seconds=seconds, gpu_seconds=gpu_s,
        encoding_seconds=max(enc_busy, mem_busy) / freq, mlp_seconds=mlp_busy / freq,
        rest_seconds=comps["gpu"]["busy_cycles"] / (comps["gpu"]["clock_mhz"] * 1e6),
        gpu_encoding_seconds=gpu_s * base["encoding_fraction"][fr.encoding],
        gpu_mlp_seconds=gpu_s * base["mlp_fraction"][fr.encoding],
        miss_bytes=misses * spec["ngpc.grid_sram_line_bytes"],
        dram_bytes=(misses - misses_l2) * spec["ngpc.grid_sram_line_bytes"], reads=reads, misses=misses,
        measured_jobs=prog.meta["measured_jobs"], jobs=prog.meta["jobs"], energy_joules=energy_pj * 1e-12,
        components=comps)


def area_mm2(spec) -> dict[str, float]:
    """The cluster's area from its parameters: grid SRAM, encoder logic, MLP MACs (mm^2)."""
    p = spec.component("ngpc").params
    n, e = p["num_nfps"], p["engines"]
    sram = n * e * p["grid_sram_bytes"] / 2**20 * p["sram_mib_area_mm2"]
    logic = n * e * p["encoder_logic_mm2"]
    mlp = n * p["num_mlp_rows"] * p["num_mlp_cols"] * p["mlp_mac_um2"] * 1e-6
    return {"grid_sram_mm2": sram, "encoder_logic_mm2": logic, "mlp_mm2": mlp, "total_mm2": sram + logic + mlp}

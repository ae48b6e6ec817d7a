"""Lowering of an instant-ngp frame onto an NGPC beside a GPU (family ``ngpc``).

The frame's samples (pixel-major order) are cut into batches of ``batch_samples``; each batch is split into
``num_nfps`` contiguous slices, one per neural field processor (NFP). Within an NFP the grid's levels go to the
``engines`` encoding engines: with L levels and E engines, ``E // L`` engines serve each level, each taking a
contiguous share of the slice's queries (L > E: engine e serves levels e, e + E, ... in turn). The app's MLP
layers run on the NFP's MLP engine, one after the other; the GPU runs the fused rest of kernels of a batch when
every NFP has finished it.

Per batch b and NFP k the program has ``encode`` (engine ``enc<k>``), ``fill_l2`` and ``fill_dram`` (the
shared ``l2`` and ``dram`` engines: the line fills of the grid-SRAM misses) commands, then ``mlp`` (``mlp<k>``), then one ``rest`` command on
``gpu``. Dependencies give the pipelining: the encoders run one batch ahead of the MLP engine (two buffers of
encoded features: encode b waits for mlp b-2, so it overlaps mlp b-1), and the NGPC runs batch b + 1 while the GPU runs the rest of batch b (mlp b waits for rest b-2:
two output buffers).

An ``encode`` command carries an :class:`EncodeJob`: the addresses its engines will read (computed by the
engine datapath of :mod:`archsim.mapper.ngpc_engine` from the sample positions when the cycle model asks) and
the job before it on the same NFP, whose stream leaves the grid SRAMs warm. ``sample_jobs=m`` marks ``m``
evenly spaced jobs as measured and every other job takes the measurement of its stratum's job, scaled by its
query count (sampled simulation); ``None`` measures every job.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from archsim.base.errors import MappingError
from archsim.cyclesim.program import Program
from archsim.mapper import lowering
from archsim.mapper.ngpc_engine import LevelRegisters, corner_weights, grid_index, pos_fract, program_levels
from archsim.workloads.hashgrid import DEFAULT_FORMAT, EngineFormat
from archsim.workloads.ngp import NgpFrame

DEFAULT_BATCH = 1 << 18   # tiny-cuda-nn's inference batches are of this order [assumed]
MAX_COMMANDS = 5_000_000


def engine_parts(levels: int, engines: int, n: int) -> list[list[tuple[int, int, int]]]:
    """Per engine, its ``(level, start, stop)`` parts over an NFP slice of ``n`` queries."""
    if levels >= engines:
        return [[(lv, 0, n) for lv in range(e, levels, engines)] for e in range(engines)]
    g = engines // levels
    out = []
    for e in range(engines):
        lv, j = divmod(e, g)
        if lv >= levels:
            out.append([])
            continue
        out.append([(lv, n * j // g, n * (j + 1) // g)])
    return out


@dataclass(eq=False)
class EncodeJob:
    """One NFP's share of one batch: samples ``start:stop`` of the frame."""

    frame: NgpFrame
    regs: list[LevelRegisters]
    fmt: EngineFormat
    engines: int
    start: int
    stop: int
    batch: int
    nfp: int
    prev: "EncodeJob | None" = None
    representative: "EncodeJob | None" = None
    memo: dict = field(default_factory=dict)

    @property
    def queries(self) -> int:
        return self.stop - self.start

    def parts(self):
        return engine_parts(len(self.regs), self.engines, self.queries)

    def coords(self) -> np.ndarray:
        return self.fmt.quantize_coords(self.frame.points(self.start, self.stop))

    def engine_corners(self, X: np.ndarray | None = None, weights: bool = True):
        """Per engine, a list of ``(level, start, stop, idx, w)`` in the order the engine runs them (``w`` None
        unless ``weights``)."""
        X = self.coords() if X is None else X
        out = []
        for parts in self.parts():
            eng = []
            for lv, a, b in parts:
                reg = self.regs[lv]
                g, f = pos_fract(X[a:b], reg, self.fmt)
                eng.append((lv, a, b, grid_index(g, reg), corner_weights(f, self.fmt) if weights else None))
            out.append(eng)
        return out

    def _addresses(self):
        out = []
        for eng in self.engine_corners(weights=False):
            addrs = [(self.regs[lv].base_entry + idx) * self.regs[lv].entry_bytes for lv, _, _, idx, _ in eng]
            levels = [np.full(idx.shape[0], lv, dtype=np.int64) for lv, _, _, idx, _ in eng]
            eb = self.regs[eng[0][0]].entry_bytes if eng else 2
            if addrs:
                out.append((np.concatenate(addrs), eb, np.concatenate(levels)))
            else:
                out.append((np.zeros((0, 1 << self.frame.grid.dims), np.int64), eb, np.zeros(0, np.int64)))
        return out

    def table_bytes(self) -> list[int]:
        """Bytes of each level's table."""
        return [r.table_entries * r.entry_bytes for r in self.regs]

    def engine_streams(self) -> list[dict]:
        """Per engine: ``addr`` (queries, 2^D) corner byte addresses in order, ``entry_bytes``, and ``warm``
        (the same engine's addresses of the previous job on this NFP, or None)."""
        mine = self._addresses()
        warm = self.prev._addresses() if self.prev is not None else [(None, 0, None)] * len(mine)
        return [{"addr": a, "entry_bytes": eb, "levels": lv, "warm": w}
                for (a, eb, lv), (w, _, _) in zip(mine, warm)]


@lowering("ngpc")
def lower_ngpc(frame, spec, *, batch_samples: int = DEFAULT_BATCH, sample_jobs: int | None = None,
               fmt: EngineFormat = DEFAULT_FORMAT, progress=None) -> Program:
    if not isinstance(frame, NgpFrame):
        raise MappingError(f"the ngpc lowering expects an NgpFrame (archsim.workloads.ngp.frame(...)), got "
                           f"{type(frame).__name__}", key="workload")
    if isinstance(batch_samples, bool) or not isinstance(batch_samples, int) or batch_samples <= 0:
        raise MappingError(f"batch_samples = {batch_samples!r}; expected a positive integer", key="batch_samples")
    if sample_jobs is not None and (isinstance(sample_jobs, bool) or not isinstance(sample_jobs, int)
                                    or sample_jobs <= 0):
        raise MappingError(f"sample_jobs = {sample_jobs!r}; expected a positive integer or None",
                           key="sample_jobs")
    ng = spec.component("ngpc")
    n_nfp, engines = ng["num_nfps"], ng["engines"]
    if batch_samples < n_nfp:
        raise MappingError(f"batch_samples = {batch_samples} is smaller than the {n_nfp} NFPs; expected at least "
                           f"one sample per NFP", key="batch_samples")
    n = frame.samples
    n_batches = math.ceil(n / batch_samples)
    n_cmds = n_batches * (3 * n_nfp + 1)
    if n_cmds > MAX_COMMANDS:
        raise MappingError(f"{frame.name} in batches of {batch_samples:,} samples on {n_nfp} NFPs needs "
                           f"{n_cmds:,} commands; the limit is {MAX_COMMANDS:,}: use larger batches",
                           key="batch_samples")
    regs = program_levels(frame.grid, fmt)
    layers = tuple((a, b) for m in frame.mlps(1) for a, b in m.layer_shapes())
    engs = {f"enc{k}": "ngpc" for k in range(n_nfp)}
    engs.update({f"mlp{k}": "ngpc" for k in range(n_nfp)})
    engs.update({"l2": "ngpc", "dram": "ngpc", "gpu": "ngp_baseline"})
    prog = Program(engs)
    blk = prog.block(None, frame.name)
    jobs: list[EncodeJob] = []
    prev_job: list[EncodeJob | None] = [None] * n_nfp
    mlp_hist: list[list[int]] = [[] for _ in range(n_nfp)]   # per NFP, its mlp commands so far
    rests: list[int] = []
    for b in range(n_batches):
        s0, s1 = b * batch_samples, min(n, (b + 1) * batch_samples)
        size = s1 - s0
        mlps = []
        for k in range(n_nfp):
            a, c = s0 + size * k // n_nfp, s0 + size * (k + 1) // n_nfp
            if c == a:
                continue
            job = EncodeJob(frame, regs, fmt, engines, a, c, b, k, prev=prev_job[k])
            prev_job[k] = job
            jobs.append(job)
            dep = (mlp_hist[k][-2],) if len(mlp_hist[k]) >= 2 else ()
            e = blk.add(f"enc{k}", "encode", {"job": job}, dep, label=f"encode b{b} nfp{k}")
            f2 = blk.add("l2", "fill_l2", {"job": job}, dep, label=f"fill_l2 b{b} nfp{k}")
            fd = blk.add("dram", "fill_dram", {"job": job}, dep, label=f"fill_dram b{b} nfp{k}")
            mdeps = (e, f2, fd) + ((rests[b - 2],) if b >= 2 else ())
            m = blk.add(f"mlp{k}", "mlp", {"rows": c - a, "layers": layers}, mdeps, label=f"mlp b{b} nfp{k}")
            mlp_hist[k].append(m)
            mlps.append(m)
        rests.append(blk.add("gpu", "rest", {"app": frame.app.name, "encoding": frame.encoding, "samples": size},
                             mlps, label=f"rest b{b}"))
        if progress is not None:
            progress(b + 1, n_batches, "batches")
    _assign_representatives(jobs, sample_jobs)
    prog.meta.update({"reference_clock": "enc0", "frame": frame.name, "samples": n, "batches": n_batches,
                      "jobs": len(jobs), "measured_jobs": len({id(j.representative) for j in jobs}),
                      "batch_samples": batch_samples})
    return prog


def _assign_representatives(jobs: list[EncodeJob], m: int | None) -> None:
    J = len(jobs)
    if m is None or m >= J:
        for j in jobs:
            j.representative = j
        return
    picks = [jobs[min(J - 1, int((i + 0.5) * J / m))] for i in range(m)]
    for idx, j in enumerate(jobs):
        j.representative = picks[min(m - 1, idx * m // J)]

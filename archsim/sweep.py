"""Design-space sweeps: many design points, parallel across processes, resumable, never half-written.

    from archsim.sweep import sweep
    df = sweep("t4", "gpt2-small", {"gpu.memory_bw_gb_per_s": [160, 320, 640]}, tokens=32, workers=2,
               out="reports/bw.csv")

Every finished point is appended as one JSON line to ``<out>.partial.jsonl`` (flushed and fsynced), so an
interrupted sweep resumes where it stopped without recomputing or losing points; a torn last line is ignored.
When all points are done the table is written atomically to ``out`` (CSV) and the journal removed. Points are
identified by their overrides, so a rerun with a larger grid computes only the new points. Parallelism is
across design points (one process per worker), never inside one simulation; results do not depend on the
number of workers or the order points finish in (the table is sorted in grid order).
"""

from __future__ import annotations

import itertools
import json
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any, Callable, Iterable

import pandas as pd

from archsim.base.errors import ArchsimError
from archsim.base.io import check_output_file, write_text_atomic


def grid_points(grid: dict[str, Iterable[Any]]) -> list[dict[str, Any]]:
    """The cartesian product of the grid, in a stable order (first key varies slowest)."""
    keys = list(grid)
    values = [list(grid[k]) for k in keys]
    for k, v in zip(keys, values):
        if not v:
            raise ArchsimError(f"sweep axis {k!r} has no values", key=k)
    return [dict(zip(keys, combo)) for combo in itertools.product(*values)]


def point_id(point: dict[str, Any]) -> str:
    return json.dumps(point, sort_keys=True, separators=(",", ":"))


def _evaluate(args: tuple) -> dict[str, Any]:
    arch_name, workload_kw, point, mode = args
    import archsim

    r = archsim.simulate(arch_name, workload_kw["model"], set=point, mode=mode,
                         **{k: v for k, v in workload_kw.items() if k != "model"})
    row = {"point": point_id(point), **point, "cycles": r.cycles, "clock": r.clock, "clock_mhz": r.clock_mhz,
           "seconds": r.seconds, "energy_joules": r.energy_joules}
    for name, c in r.components.items():
        row[f"{name}.utilization"] = c["utilization"]
    return row


def _read_journal(path: Path) -> dict[str, dict]:
    done: dict[str, dict] = {}
    if not path.exists():
        return done
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line torn by an interruption: that point is recomputed
            if isinstance(row, dict) and "point" in row:
                done[row["point"]] = row
    return done


def sweep(arch_name: str, model: str, grid: dict[str, Iterable[Any]], *, out: str | Path | None = None,
          workers: int = 1, mode: str = "burst", progress: Callable[[int, int], None] | None = None,
          **workload_kw) -> pd.DataFrame:
    """Simulate every grid point of overrides; returns one row per point in grid order."""
    import archsim.arch as arch_pkg

    points = grid_points(grid)
    base = arch_pkg.load(arch_name)
    for p in points[:1]:
        base.with_overrides(p)  # fail fast on a bad key, before any process starts
    journal = Path(f"{out}.partial.jsonl") if out else None
    done = _read_journal(journal) if journal else {}
    todo = [p for p in points if point_id(p) not in done]
    wl = {"model": model, **workload_kw}
    total = len(points)
    if progress:
        progress(total - len(todo), total)
    if out:
        check_output_file(out, "out")  # the folder must exist (a FILE output never creates folders)
    fh = journal.open("a", encoding="utf-8") if journal else None

    def record(row: dict) -> None:
        done[row["point"]] = row
        if fh:
            fh.write(json.dumps(row, default=float) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        if progress:
            progress(len(done), total)

    try:
        jobs = [(arch_name, wl, p, mode) for p in todo]
        if workers <= 1 or len(jobs) <= 1:
            for j in jobs:
                record(_evaluate(j))
        else:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                futures = [pool.submit(_evaluate, j) for j in jobs]
                for f in as_completed(futures):
                    record(f.result())
    finally:
        if fh:
            fh.close()
    df = pd.DataFrame([done[point_id(p)] for p in points])
    if out:
        write_text_atomic(out, df.to_csv(index=False))
        journal.unlink(missing_ok=True)
    return df


def stderr_progress(enabled: bool = True) -> Callable[[int, int], None] | None:
    """A tqdm bar of finished points on stderr, or None when stderr is not a terminal (or not ``enabled``);
    the CLI ends it (:func:`archsim.progress.end_all`) when the command returns or fails."""
    from archsim.progress import Progress

    return Progress(enabled).callback("sweep", "point")

"""Run a sweep: validate every point, reuse what the store holds, compute the rest, export the table.

The table has one row per point in sweep order (workloads slowest, then the axes, first axis slowest): the
parameter columns, the workload columns, ``status``/``error``, and the metrics with units in their names.
Results do not depend on the executor, the number of jobs or the order points finish in.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from archsim.base.errors import ArchsimError
from archsim.dse.evaluate import evaluate
from archsim.dse.spec import SweepSpec, make_spec
from archsim.dse.store import Store, point_key

OUT_SUFFIXES = (".csv", ".parquet")


@dataclass
class SweepRun:
    table: pd.DataFrame
    computed: int
    reused: int
    errors: int
    store: str


def check_out(out: str | Path | None) -> Path | None:
    """Fail before any work if the output cannot be written."""
    if out is None:
        return None
    from archsim.base.io import check_output_file

    out = check_output_file(Path(out), "--out")  # a FILE option: its folder must exist, as for every output file
    if out.suffix not in OUT_SUFFIXES:
        raise ArchsimError(f"expected a .csv or .parquet output, got {out.name!r}", file=str(out), key="--out")
    return out


def default_store(out: Path | None) -> str:
    env = os.environ.get("ARCHSIM_STORE")
    if env:
        return env
    return str(out.parent / "archsim-store.sqlite") if out is not None else ":memory:"


def plan(spec: SweepSpec) -> list[dict[str, Any]]:
    """Every point as a task, validated: axis keys exist, workloads build, each point's architecture loads (a
    point whose values do not validate becomes an error point, recorded and not run)."""
    from archsim import __version__, arch
    from archsim.dse.evaluate import workload_of

    base = arch.load(spec.arch)
    for key in spec.axes:
        if not base.has(key):
            raise ArchsimError(f"{base.name} has no parameter {key!r} (archsim show {base.name} lists them)",
                               file=spec.file or "sweep", key=f"axes.{key}")
    for i, wl in enumerate(spec.workloads):
        try:
            workload_of(wl)
        except ArchsimError as exc:
            raise ArchsimError(exc.detail, file=spec.file or "sweep", key=f"workloads[{i}]") from None
    resolved: dict[str, Any] = {}
    tasks = []
    for ov, wl in spec.points():
        ident = repr(sorted(ov.items()))
        if ident not in resolved:
            try:
                resolved[ident] = ("ok", base.with_overrides(ov).to_dict() if ov else base.to_dict())
            except ArchsimError as exc:
                resolved[ident] = ("error", str(exc))
        status, payload = resolved[ident]
        params = payload if status == "ok" else {"base": base.to_dict(), "overrides": ov}
        key = point_key(params, wl, spec.mode, __version__)
        tasks.append({"key": key, "arch": spec.arch, "overrides": ov, "workload": wl, "mode": spec.mode,
                      "invalid": payload if status == "error" else None})
    return tasks


def _progress(total: int, initial: int, enabled: bool | None):
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled or total == 0:
        return None
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, unit="pt", desc="sweep", file=sys.stderr, dynamic_ncols=True)


def run_sweep(spec: SweepSpec, *, out: str | Path | None = None, store: str | Path | None = None,
              executor: str = "local", jobs: int = 1, scheduler: str | None = None,
              progress: bool | None = None) -> SweepRun:
    from archsim.dse import executors
    from archsim.dse.table import build_table, write_table

    out = check_out(out)
    if not isinstance(jobs, int) or jobs < 1:
        raise ArchsimError(f"expected --jobs >= 1, got {jobs!r}", key="--jobs")
    executors.check_executor(executor, scheduler)
    tasks = plan(spec)
    db = Store(store if store is not None else default_store(out))
    try:
        unique = {t["key"]: t for t in tasks}
        done = db.get_many(list(unique))
        reused = len(done)
        todo = [t for k, t in unique.items() if k not in done]
        for t in [t for t in todo if t["invalid"]]:
            db.put(t["key"], _config(t), "error", None, t["invalid"])
        todo = [t for t in todo if not t["invalid"]]
        bar = _progress(len(unique), len(unique) - len(todo), progress)
        computed = 0
        ex = executors.make_executor(executor, jobs=min(jobs, max(1, len(todo))), scheduler=scheduler) if todo else None
        try:
            if ex is not None:
                for res in ex.map_unordered(evaluate, [{k: v for k, v in t.items() if k != "invalid"}
                                                       for t in todo]):
                    db.put(res["key"], _config(unique[res["key"]]), res["status"], res["result"], res["error"])
                    computed += 1
                    if bar is not None:
                        bar.update(1)
        finally:
            if ex is not None:
                ex.close()
            if bar is not None:
                bar.close()
        stored = db.get_many(list(unique))
        table = build_table(spec, tasks, stored)
    finally:
        db.close()
    if out is not None:
        write_table(table, out)
    return SweepRun(table=table, computed=computed, reused=reused,
                    errors=int((table["status"] == "error").sum()), store=db.path)


def _config(task: dict[str, Any]) -> dict[str, Any]:
    return {"arch": task["arch"], "overrides": task["overrides"], "workload": task["workload"], "mode": task["mode"]}


def sweep(arch: str, axes: dict[str, Any], *, workloads: list[dict[str, Any]] | None = None, model: str | None = None,
          prompt: int = 64, tokens: int = 1, batch: int = 1, phase: str = "decode", mode: str = "burst",
          combine: str = "grid", metrics: list[str] | None = None, out: str | Path | None = None,
          store: str | Path | None = None, executor: str = "local", jobs: int = 1, scheduler: str | None = None,
          progress: bool | None = None) -> pd.DataFrame:
    """Simulate every point of ``axes`` over ``arch`` for each workload; one row per point (see module doc).

    ``workloads`` is a list of ``{model, prompt, tokens, batch, phase}``; or give one ``model`` with its options.
    """
    if workloads is None:
        if model is None:
            raise ArchsimError("expected workloads=[{model: ...}] or model=NAME", key="workloads")
        workloads = [{"model": model, "prompt": prompt, "tokens": tokens, "batch": batch, "phase": phase}]
    spec = make_spec(arch, axes, workloads, mode=mode, combine=combine, metrics=metrics)
    return run_sweep(spec, out=out, store=store, executor=executor, jobs=jobs, scheduler=scheduler,
                     progress=progress).table

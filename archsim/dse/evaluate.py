"""One design point: load the architecture with its overrides, build the workload, map, simulate, keep metrics.

Runs in a worker (a process of the local pool or a Dask worker); it takes and returns plain data. A user error
of this point (an invalid value, a workload that does not fit) comes back as ``{"status": "error"}`` so the
sweep records it and goes on.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

from archsim.base.errors import ArchsimError


def workload_of(wl: dict[str, Any]):
    return _workload(wl["model"], wl["phase"], wl["prompt"], wl["tokens"], wl["batch"], wl.get("weight_format"),
                     wl.get("weight_bits"))


@functools.lru_cache(maxsize=16)
def _workload(model: str, phase: str, prompt: int, tokens: int, batch: int, weight_format: str | None,
              weight_bits: int | None):
    from archsim import workloads
    from archsim.api import workload

    if weight_format is None and weight_bits is None:
        return workload(model, phase=phase, prompt=prompt, tokens=tokens, batch=batch)
    ov = {k: v for k, v in (("weight_format", weight_format), ("weight_bits", weight_bits)) if v is not None}
    m = workloads.model(model, **ov)
    if phase == "decode":
        return m.decode(prompt=prompt, tokens=tokens, batch=batch, beyond_context=True)
    if phase == "prefill":
        return m.prefill(prompt=prompt, batch=batch)
    raise ArchsimError(f"unknown phase {phase!r}; expected decode or prefill", key="phase")


def metrics_of(result, wl: dict[str, Any]) -> dict[str, Any]:
    produced = wl["batch"] * (wl["tokens"] if wl["phase"] == "decode" else wl["prompt"])
    out = {"cycles": result.cycles, "clock_mhz": result.clock_mhz, "latency_s": result.seconds,
           "throughput_tokens_per_s": produced / result.seconds if result.seconds else float("inf"),
           "energy_j": result.energy_joules, "energy_per_token_j": result.energy_joules / produced,
           "edp_j_s": result.energy_joules * result.seconds}
    for name, c in sorted(result.components.items()):
        out[f"utilization.{name}"] = c["utilization"]
    for name, e in sorted(result.energy_pj.items()):
        out[f"energy_j.{name}"] = (e.get("dynamic_pj", 0.0) + e.get("static_pj", 0.0)) * 1e-12
    return out


_first = threading.Lock()
_warm = False


def evaluate(task: dict[str, Any]) -> dict[str, Any]:
    """One point. The first point of a process runs alone: the registries import their modules on first use,
    which is not safe from several threads at once (Dask workers are threads)."""
    global _warm
    if _warm:
        return _evaluate(task)
    with _first:
        res = _evaluate(task)
        _warm = True
    return res


def _evaluate(task: dict[str, Any]) -> dict[str, Any]:
    from archsim import arch
    from archsim.api import simulate

    wl = task["workload"]
    try:
        spec = arch.load(task["arch"], set=task["overrides"] or None)
        graph = workload_of(wl)
        r = simulate(spec, graph, mode=task["mode"])
    except ArchsimError as exc:
        return {"key": task["key"], "status": "error", "result": None, "error": str(exc)}
    return {"key": task["key"], "status": "ok", "result": metrics_of(r, wl), "error": None}

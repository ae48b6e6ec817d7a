"""A sweep description: a base architecture, parameter axes, workloads and their options, metrics to keep.

YAML form (``archsim sweep SWEEP.yaml``)::

    arch: pim_gpt                       # a shipped name or a path (relative to this file)
    mode: burst                         # or command
    axes:                               # any parameter `archsim show ARCH` lists
      dram.channels: [4, 8, 16]                          # a list
      asic.freq_mhz: {range: {start: 100, stop: 1000, step: 300}}   # inclusive of stop when it lands on it
      dram.banks_per_group: {random: {low: 2, high: 8, count: 3, seed: 1, integer: true}}
    combine: grid                       # grid (cartesian product, first axis slowest) or zip
    workloads:
      - {model: gpt2-small, prompt: 8, tokens: 4}       # also phase, batch, weight_format, weight_bits
    metrics: [latency_s, energy_j, edp_j_s]   # optional; default: every metric

Everything is checked before the first point runs: every point's architecture loads, every workload builds.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archsim.base.errors import ArchsimError

WORKLOAD_KEYS = {"model", "prompt", "tokens", "batch", "phase", "weight_format", "weight_bits"}
#: every metric a point reports (the runner fills them); units in the names
METRICS = ("cycles", "clock_mhz", "latency_s", "throughput_tokens_per_s", "energy_j", "energy_per_token_j",
           "edp_j_s", "utilization", "energy_breakdown")


@dataclass
class SweepSpec:
    arch: str
    axes: dict[str, list[Any]]
    workloads: list[dict[str, Any]]
    mode: str = "burst"
    combine: str = "grid"
    metrics: list[str] | None = None
    file: str | None = None
    options: dict[str, Any] = field(default_factory=dict)

    def err(self, key: str, message: str) -> ArchsimError:
        return ArchsimError(message, file=self.file or "sweep", key=key)

    def overrides(self) -> list[dict[str, Any]]:
        keys = list(self.axes)
        vals = [self.axes[k] for k in keys]
        if not keys:
            return [{}]
        if self.combine == "zip":
            return [dict(zip(keys, combo)) for combo in zip(*vals)]
        return [dict(zip(keys, combo)) for combo in itertools.product(*vals)]

    def points(self) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """(overrides, workload) for every point, in a stable order: workloads slowest, then the axes."""
        return [(ov, wl) for wl in self.workloads for ov in self.overrides()]


def expand_axis(key: str, value: Any, where: str, distinct: bool = True) -> list[Any]:
    def bad(msg: str) -> ArchsimError:
        return ArchsimError(msg, file=where, key=f"axes.{key}")

    if isinstance(value, list):
        if not value:
            raise bad("expected at least one value")
        if distinct and len({repr(v) for v in value}) != len(value):
            raise bad(f"expected distinct values, got {value}")
        return list(value)
    if not isinstance(value, dict) or len(value) != 1:
        raise bad("expected a list of values, {range: {start, stop, step}} or {random: {low, high, count, seed}}")
    kind, args = next(iter(value.items()))
    if not isinstance(args, dict):
        raise bad(f"expected a mapping under {kind!r}")
    if kind == "range":
        extra = set(args) - {"start", "stop", "step"}
        if extra or not {"start", "stop", "step"} <= set(args):
            raise bad("expected range: {start, stop, step}")
        start, stop, step = args["start"], args["stop"], args["step"]
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (start, stop, step)) or step <= 0:
            raise bad("expected numeric start, stop and a positive step")
        out, v, i = [], start, 0
        while v <= stop + 1e-12 * abs(stop):
            out.append(v)
            i += 1
            v = start + i * step
        if not out:
            raise bad("expected start <= stop")
        return out
    if kind == "random":
        allowed = {"low", "high", "count", "seed", "integer", "log"}
        if set(args) - allowed or not {"low", "high", "count", "seed"} <= set(args):
            raise bad("expected random: {low, high, count, seed[, integer, log]}")
        import numpy as np

        low, high, count = args["low"], args["high"], args["count"]
        if not (isinstance(count, int) and count > 0) or not low < high:
            raise bad("expected low < high and a positive integer count")
        rng = np.random.default_rng(int(args["seed"]))
        if args.get("integer"):
            span = int(high) - int(low) + 1
            if count > span:
                raise bad(f"expected count <= {span} distinct integers in [{low}, {high}]")
            return sorted(int(v) for v in rng.choice(np.arange(int(low), int(high) + 1), size=count, replace=False))
        if args.get("log"):
            vals = np.exp(rng.uniform(np.log(low), np.log(high), size=count))
        else:
            vals = rng.uniform(low, high, size=count)
        return sorted(float(v) for v in vals)
    raise bad(f"unknown axis kind {kind!r}; expected a list, range or random")


def make_spec(arch: str, axes: dict[str, Any], workloads: list[dict[str, Any]], *, mode: str = "burst",
              combine: str = "grid", metrics: list[str] | None = None, file: str | None = None) -> SweepSpec:
    where = file or "sweep"
    if not isinstance(axes, dict):
        raise ArchsimError("expected a mapping of parameter -> values", file=where, key="axes")
    expanded = {str(k): expand_axis(str(k), v, where, distinct=combine != "zip") for k, v in axes.items()}
    if combine not in ("grid", "zip"):
        raise ArchsimError(f"expected grid or zip, got {combine!r}", file=where, key="combine")
    if combine == "zip" and len({len(v) for v in expanded.values()}) > 1:
        raise ArchsimError("expected axes of equal length for zip", file=where, key="combine")
    if mode not in ("burst", "command"):
        raise ArchsimError(f"expected burst or command, got {mode!r}", file=where, key="mode")
    if not isinstance(workloads, list) or not workloads:
        raise ArchsimError("expected a non-empty list of workloads", file=where, key="workloads")
    wls = []
    for i, wl in enumerate(workloads):
        if isinstance(wl, str):
            wl = {"model": wl}
        if not isinstance(wl, dict) or "model" not in wl:
            raise ArchsimError("expected {model: NAME, prompt, tokens, batch, phase}", file=where,
                               key=f"workloads[{i}]")
        extra = set(wl) - WORKLOAD_KEYS
        if extra:
            raise ArchsimError(f"unknown workload option(s) {sorted(extra)}; expected {sorted(WORKLOAD_KEYS)}",
                               file=where, key=f"workloads[{i}]")
        full = {"model": wl["model"], "prompt": wl.get("prompt", 64), "tokens": wl.get("tokens", 1),
                "batch": wl.get("batch", 1), "phase": wl.get("phase", "decode")}
        for k in ("weight_format", "weight_bits"):  # low-bit variants of a zoo model (LUT Tensor Core studies)
            if wl.get(k) is not None:
                full[k] = wl[k]
        for k in ("prompt", "tokens", "batch"):
            if not isinstance(full[k], int) or isinstance(full[k], bool) or full[k] < 1:
                raise ArchsimError(f"expected a positive integer, got {full[k]!r}", file=where,
                                   key=f"workloads[{i}].{k}")
        wls.append(full)
    if metrics is not None:
        unknown = [m for m in metrics if m not in METRICS]
        if unknown:
            raise ArchsimError(f"unknown metric(s) {unknown}; expected some of {list(METRICS)}", file=where,
                               key="metrics")
    return SweepSpec(arch=arch, axes=expanded, workloads=wls, mode=mode, combine=combine, metrics=metrics,
                     file=file)


def load_sweep(path: str | Path) -> SweepSpec:
    import yaml

    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ArchsimError("no such sweep file", file=str(path)) from None
    except yaml.YAMLError as exc:
        raise ArchsimError(f"invalid YAML: {str(exc).splitlines()[0]}", file=str(path)) from None
    if not isinstance(doc, dict):
        raise ArchsimError("expected a mapping with arch, axes, workloads", file=str(path))
    unknown = set(doc) - {"arch", "axes", "workloads", "mode", "combine", "metrics"}
    if unknown:
        raise ArchsimError(f"unknown key(s) {sorted(unknown)}; expected arch, axes, workloads, mode, combine, metrics",
                           file=str(path))
    if "arch" not in doc:
        raise ArchsimError("expected a base architecture (a shipped name or a path)", file=str(path), key="arch")
    arch = str(doc["arch"])
    if arch.endswith((".yaml", ".yml")) and not Path(arch).is_absolute():
        arch = str((path.parent / arch).resolve())
    return make_spec(arch, doc.get("axes") or {}, doc.get("workloads") or [], mode=doc.get("mode", "burst"),
                     combine=doc.get("combine", "grid"), metrics=doc.get("metrics"), file=str(path))

"""The Python front door: ``simulate(spec, workload) -> Result``.

    import archsim
    r = archsim.simulate("t4", "gpt2-xl", prompt=64, tokens=16)
    r.cycles, r.seconds, r.energy_joules
    r.table()          # pandas DataFrame, one row per component
    r.to_json()        # the same as JSON, with units in every key
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from archsim import units
from archsim.base.errors import ArchsimError, ArchSpecError, WorkloadError

if TYPE_CHECKING:
    import pandas as pd


def workload(model: str, *, phase: str = "decode", prompt: int = 64, tokens: int | None = None, batch: int = 1,
             beyond_context: bool = True):
    """A workload from the zoo by name: ``workload("gpt2-xl", prompt=64, tokens=1024)``.

    ``tokens`` (generated tokens, default 1) belongs to a decode; a prefill with ``tokens`` is refused
    (:class:`WorkloadError`), not ignored. Decode may run past the model's context (timing studies do); the
    result's ``extra["note"]`` says so.
    """
    from archsim import workloads

    m = workloads.model(model)
    if phase == "decode":
        return m.decode(prompt=prompt, tokens=1 if tokens is None else tokens, batch=batch,
                        beyond_context=beyond_context)
    if phase == "prefill":
        if tokens is not None:
            raise WorkloadError(f"tokens = {tokens!r} with phase prefill; a prefill processes the prompt and "
                                f"generates nothing (expected no tokens, or phase decode)", key="tokens")
        return m.prefill(prompt=prompt, batch=batch)
    raise WorkloadError(f"unknown phase {phase!r}; expected decode or prefill", key="phase")


def workload_info(w) -> dict[str, Any]:
    """A workload as data: ``{model, phase, prompt, tokens, batch}`` (what ``Result.workload`` holds)."""
    return {"model": w.model.name, "phase": w.phase, "prompt": w.prompt, "tokens": w.tokens, "batch": w.batch}


def describe_workload(info: dict[str, Any]) -> str:
    """``gpt2-small decode (prompt 64, 16 tokens, batch 1)``: a workload dict for people."""
    if not isinstance(info, dict):
        return str(info)
    what = f"prompt {info.get('prompt')}"
    if info.get("phase") == "decode":
        what += f", {info.get('tokens')} tokens"
    return f"{info.get('model')} {info.get('phase')} ({what}, batch {info.get('batch')})"


def check(spec, *, set: dict | None = None):  # noqa: A002
    """Every check ``run``/``simulate`` makes of an architecture before simulating, without simulating: load and
    validate it, find a lowering for its ``family`` and build every component's engine model (and the DRAM
    configuration of DRAM components), so their errors name the file now. Returns the loaded spec."""
    from archsim import arch
    from archsim import mapper
    from archsim.cyclesim.engines import ENGINE_MODELS, model_for

    if not isinstance(spec, arch.ArchSpec):
        spec = arch.load(spec, set=set)
    elif set:
        spec = spec.with_overrides(set)
    if spec.family not in mapper.families():
        raise ArchSpecError(f"unknown family {spec.family!r}; expected one of: {', '.join(mapper.families())}",
                            file=spec.file, key="family")
    for comp in spec.walk():
        if ENGINE_MODELS.get(comp.impl) is None:
            continue  # a component no engine runs (a container, a parameter set read by the mapper)
        try:
            model_for(comp.path, comp.impl, comp.params)
            if comp.impl in ("GDDR6_AiM", "GDDR6"):
                from archsim.cyclesim.dram.config import DramConfig

                DramConfig.from_params(comp.params, file=spec.file)
        except ArchsimError as exc:
            if exc.file:
                raise
            key = exc.key or f"components.{comp.path}"
            if not key.startswith("components.") and "." not in key:
                key = f"components.{comp.path}.{key}"
            raise type(exc)(exc.detail, file=spec.file, key=key) from None
    return spec


@dataclass
class Result:
    """What a simulation reports. Cycles are in the clock named by ``clock``; seconds are exact from ticks."""

    arch: str
    workload: dict[str, Any]   # {model, phase, prompt, tokens, batch}
    mode: str
    clock: str
    clock_mhz: float
    cycles: int
    seconds: float
    energy_joules: float
    components: dict[str, dict[str, Any]]
    energy_pj: dict[str, dict[str, float]]
    commands: int
    blocks_simulated: int
    blocks_reused: int
    extra: dict[str, Any]
    trace: dict | None = None

    def table(self) -> pd.DataFrame:
        """One row per component: clock, busy cycles, utilization, energy (pJ), and its command counters."""
        rows = []
        for name, c in self.components.items():
            e = self.energy_pj.get(name, {})
            rows.append({"component": name, "impl": c["impl"], "clock_mhz": c["clock_mhz"],
                         "busy_cycles": c["busy_cycles"], "utilization": c["utilization"],
                         "dynamic_energy_pj": e.get("dynamic_pj", 0.0), "static_energy_pj": e.get("static_pj", 0.0),
                         "energy_pj": e.get("dynamic_pj", 0.0) + e.get("static_pj", 0.0)})
        import pandas as pd  # here, not at import time: most runs never build a table (about 0.4 s)
        return pd.DataFrame(rows).set_index("component")

    def summary(self) -> str:
        lines = [f"{self.arch} running {describe_workload(self.workload)} ({self.mode} mode)",
                 f"  time    {self.cycles:,} cycles of the {self.clock} clock ({self.clock_mhz:g} MHz) = "
                 f"{units.seconds(self.seconds)}",
                 f"  energy  {units.joules(self.energy_joules)}",
                 f"  work    {self.commands:,} commands; {self.blocks_simulated:,} blocks simulated, "
                 f"{self.blocks_reused:,} reused"]
        for key, value in self.extra.items():
            lines.append(f"  {key:<7} {value}")
        lines.append("  per component:")
        for name, c in self.components.items():
            e = self.energy_pj.get(name, {})
            lines.append(f"    {name:<10} {c['impl']:<10} busy {c['busy_cycles']:>14,} cycles @ {c['clock_mhz']:g} MHz"
                         f"  util {c['utilization'] * 100:6.2f}%  energy "
                         f"{units.joules((e.get('dynamic_pj', 0) + e.get('static_pj', 0)) * 1e-12)}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"arch": self.arch, "workload": dict(self.workload) if isinstance(self.workload, dict)
                else self.workload, "mode": self.mode, "cycles": self.cycles,
                "clock": self.clock, "clock_mhz": self.clock_mhz, "seconds": self.seconds,
                "energy_joules": self.energy_joules, "commands": self.commands,
                "blocks_simulated": self.blocks_simulated, "blocks_reused": self.blocks_reused,
                "components": {n: {**c, "energy_pj": self.energy_pj.get(n, {})} for n, c in self.components.items()},
                "extra": self.extra}

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, sort_keys=False, default=_jsonable)


def _jsonable(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return str(x)


def simulate(spec, workload, *, mode: str = "burst", trace: bool = False,
             progress: Callable[[int, int], None] | None = None, set: dict | None = None,  # noqa: A002
             prompt: int = 64, tokens: int | None = None, batch: int = 1, phase: str = "decode",
             map_progress: Callable[[int, int, str], None] | None = None, limits=None, block_reuse: bool = True,
             **options) -> Result:
    """Map and simulate in one call.

    ``spec`` is an :class:`archsim.arch.ArchSpec`, a shipped name or a YAML path; ``workload`` a
    :class:`archsim.workloads.Workload` or a zoo model name (then ``prompt``/``tokens``/``batch``/``phase`` apply).
    The spec goes through :func:`check` first. ``limits`` (:class:`archsim.mapper.guard.Limits`) bounds the
    estimated memory and work (a run over them is refused before it starts). ``map_progress(done, total, what)``
    reports the mapping, ``progress(done_blocks, total_blocks)`` the simulation; neither affects the result.
    ``options`` go to the mapper's lowering.
    """
    from archsim import mapper
    from archsim.cyclesim.run import run

    spec = check(spec, set=set)
    if isinstance(workload, str):
        workload = globals()["workload"](workload, phase=phase, prompt=prompt, tokens=tokens, batch=batch)
    program = mapper.compile(workload, spec, limits=limits, progress=map_progress, **options)
    sim = run(program, spec, mode=mode, trace=trace, progress=progress, block_reuse=block_reuse)
    energy_pj = sum(v.get("dynamic_pj", 0.0) + v.get("static_pj", 0.0) for v in sim.energy_pj.values())
    return Result(arch=spec.name, workload=workload_info(workload), mode=mode, clock=sim.reference_clock,
                  clock_mhz=sim.clocks_mhz[sim.reference_clock], cycles=sim.cycles, seconds=sim.seconds,
                  energy_joules=energy_pj * 1e-12, components=sim.components, energy_pj=sim.energy_pj,
                  commands=sim.commands, blocks_simulated=sim.blocks_simulated, blocks_reused=sim.blocks_reused,
                  extra={**program.meta.get("report", {}), **sim.extra,
                         **({"note": workload.context_note} if getattr(workload, "context_note", None) else {})},
                  trace=sim.trace)

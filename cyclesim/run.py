"""Execute a :class:`~archsim.cyclesim.program.Program` on the event kernel.

Each program engine becomes a component that serves its ready commands one at a time, in the order they
became ready; a command becomes ready when all its dependencies have finished. Blocks are separated by
barriers. In ``burst`` mode a block whose ``key`` was already simulated is not simulated again: its duration,
counters, busy time and energy are replayed from the first run (stateless engines are idle at a barrier, so the
state is identical). A *stateful* engine (a DRAM, whose open rows and refresh schedule carry over) takes part
when it can key its state at the block's start (:meth:`~archsim.cyclesim.engines.EngineModel.memo_key`): the
memo key is then (block key, the start tick modulo every clock's period, each stateful engine's state key), and
a hit also applies each stateful engine's recorded effect (:mod:`archsim.cyclesim.dram.segmemo` says why that
is exact). The memo holds at most ``MEMO_LIMIT`` entries (cleared when full; only speed changes) and its size is
reported in the result's ``extra["blocks.memo"]``. ``command`` mode simulates every block; the two agree
exactly (tests check it), as does ``block_reuse=False``. A block whose commands form a chain (each waits for the one before) runs them back
to back without the event queue, at the start times the events would give.
"""

from __future__ import annotations

from collections import deque
from math import lcm
from dataclasses import dataclass, field
from typing import Any

from archsim.base.errors import SimulationError
from archsim.cyclesim.clock import Timebase
from archsim.cyclesim.engines import EngineModel, model_for
from archsim.cyclesim.gcpause import gc_paused
from archsim.cyclesim.kernel import Component, Simulator
from archsim.cyclesim.program import Block, Program

MODES = ("command", "burst")
MEMO_LIMIT = 50_000  # block entries per run; cleared when full (results stay exact, only speed changes)


class EngineRunner(Component):
    __slots__ = ("model", "queue", "running", "run", "_costs", "_op_keys")

    def __init__(self, sim: Simulator, name: str, model: EngineModel, clock: str, run: "_BlockRun | None"):
        super().__init__(sim, name, clock, static_mw=model.static_mw)
        self.model = model
        self.queue: deque[int] = deque()
        self.running = False
        self.run = run
        self._costs: dict = {}          # stateless models: (op, work items) -> (cycles, pj); cost is pure
        self._op_keys: dict[str, str] = {}

    def _cost(self, op: str, work: dict) -> tuple:
        try:
            key = (op, tuple(work.items()))
            got = self._costs.get(key)
        except TypeError:               # unhashable work: no caching
            return self.model.cost(op, work)
        if got is None:
            if len(self._costs) > 100_000:
                self._costs.clear()
            got = self._costs[key] = self.model.cost(op, work)
        return got

    def ready(self, idx: int) -> None:
        self.queue.append(idx)
        if not self.running:
            self._start()

    def _start(self) -> None:
        idx = self.queue.popleft()
        end = self.issue(self.run.block.commands[idx], self.sim.now)
        self.running = True
        self.sim.at(end, self._done, idx)

    def issue(self, cmd, now: int) -> int:
        """Execute ``cmd`` (ready at tick ``now``): busy time, counters, energy; returns its end tick."""
        model = self.model
        if model.stateful:
            start = self.clock.next_edge(now)
            cycles, pj, counters = model.execute(cmd.op, cmd.work, start // self.clock.ticks_per_cycle)
            for key, n in counters.items():
                self.count(key, n)
            now = start
        else:
            cycles, pj = self._cost(cmd.op, cmd.work)
        ticks = cycles * self.clock.ticks_per_cycle
        self.busy(now, now + ticks, cmd.label)
        key = self._op_keys.get(cmd.op)
        if key is None:
            key = self._op_keys[cmd.op] = f"{cmd.op}_commands"
        stats = self.stats
        stats[key] = stats.get(key, 0) + 1
        stats["busy_cycles"] = stats.get("busy_cycles", 0) + cycles
        if isinstance(pj, dict):  # energy by category (e.g. per DRAM command type)
            for category, value in pj.items():
                if value:
                    self.charge(category, value)
        elif pj:
            self.charge(cmd.op, pj)
        return now + ticks

    def _done(self, idx: int) -> None:
        self.running = False
        self.run.finished(idx)
        if self.queue and not self.running:
            self._start()


def _is_chain(cmds) -> bool:
    """Whether every command depends on exactly the one before it (and the first on none)."""
    if not cmds or cmds[0].deps:
        return False
    for i in range(1, len(cmds)):
        d = cmds[i].deps
        if len(d) != 1 or d[0] != i - 1:
            return False
    return True


class _BlockRun:
    """Dependency bookkeeping of one block in flight."""

    __slots__ = ("block", "waiting", "dependents", "runners", "left")

    def __init__(self, block: Block, runners: dict[str, EngineRunner]):
        self.block = block
        self.runners = runners
        n = len(block.commands)
        self.waiting = [len(c.deps) for c in block.commands]
        self.dependents: list[list[int]] = [[] for _ in range(n)]
        for i, c in enumerate(block.commands):
            for d in c.deps:
                self.dependents[d].append(i)
        self.left = n

    def start(self) -> None:
        for i, c in enumerate(self.block.commands):
            if not c.deps:
                self.runners[c.engine].ready(i)

    def finished(self, idx: int) -> None:
        self.left -= 1
        cmds = self.block.commands
        for j in self.dependents[idx]:
            self.waiting[j] -= 1
            if self.waiting[j] == 0:
                self.runners[cmds[j].engine].ready(j)


@dataclass
class SimResult:
    """Plain-data outcome of a run; :class:`archsim.api.Result` wraps it for users."""

    ticks: int
    tick_hz: int
    clocks_mhz: dict[str, float]
    reference_clock: str
    components: dict[str, dict[str, Any]]
    energy_pj: dict[str, dict[str, float]]
    blocks_simulated: int
    blocks_reused: int
    commands: int
    trace: dict | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return self.ticks / self.tick_hz

    @property
    def cycles(self) -> int:
        """Cycles of the reference clock (rounded up to a whole cycle)."""
        tpc = self.tick_hz // round(self.clocks_mhz[self.reference_clock] * 1e6)
        return -(-self.ticks // tpc)


def run(program: Program, spec, *, mode: str = "burst", trace: bool = False, progress=None,
        block_reuse: bool = True) -> SimResult:
    """Simulate ``program`` on ``spec``. ``progress(done_blocks, total_blocks)`` is called now and then.
    ``block_reuse=False`` simulates every block in burst mode too (for testing: the results do not change).
    The cyclic garbage collector is paused meanwhile (:mod:`archsim.cyclesim.gcpause`)."""
    with gc_paused():
        return _run(program, spec, mode, trace, progress, block_reuse)


def _run(program: Program, spec, mode: str, trace: bool, progress, block_reuse: bool) -> SimResult:
    if mode not in MODES:
        raise SimulationError(f"unknown mode {mode!r}; expected one of: {', '.join(MODES)}")
    if isinstance(program.blocks, list):
        program.validate()
    models: dict[str, EngineModel] = {}
    for name, path in program.engines.items():
        comp = spec.component(path)
        models[name] = model_for(name, comp.impl, comp.params)
    timebase = Timebase({name: m.clock_mhz for name, m in models.items()})
    sim = Simulator(timebase, trace=trace)
    runners = {name: EngineRunner(sim, name, m, name, None) for name, m in models.items()}
    memo: dict[Any, tuple] = {}
    simulated = reused = clears = 0
    total = program.meta.get("blocks") or (len(program.blocks) if isinstance(program.blocks, list) else 0)
    stateful = {name: m for name, m in models.items() if m.stateful}  # their cost depends on history
    period = 1
    for r in runners.values():
        period = lcm(period, r.clock.ticks_per_cycle)
    for m in models.values():
        m.mode = mode
    n_commands = 0
    bi = -1
    every = max(1, min(256, total // 1000))  # about a thousand reports, at least every 256 blocks
    for bi, block in enumerate(program.blocks):
        if progress is not None and bi % every == 0:
            progress(bi, total)
        count = block.count()
        if not count:
            continue
        n_commands += count
        mkey = refs = None
        offsets = block.offsets or {}
        if mode == "burst" and block_reuse and block.key is not None:
            if not stateful:
                mkey = block.key
            elif sim.tracer is None:     # a reused block's spans would carry the first one's labels
                got = _state_key(sim, runners, stateful, offsets)
                if got is not None:
                    mkey = (block.key, sim.now % period, got[0])
                    refs = got[1]
        hit = memo.get(mkey) if mkey is not None else None
        if hit is not None:
            delta, effects = hit
            for name, effect in effects.items():
                stateful[name].memo_apply(effect, refs[name], offsets.get(name))
            _replay(sim, runners, delta)
            reused += 1
            continue
        block.materialize()
        snaps = {n: m.memo_begin() for n, m in stateful.items()} if mkey is not None and stateful else None
        before = _snapshot(sim, runners)
        start = sim.now
        if _is_chain(block.commands):
            # each command waits for the one before: they run back to back, no event queue needed (the
            # events would give the same start times)
            now = start
            for cmd in block.commands:
                now = runners[cmd.engine].issue(cmd, now)
            sim.now = now
        else:
            br = _BlockRun(block, runners)
            for r in runners.values():
                r.run = br
            br.start()
            sim.run()
            if br.left:
                raise SimulationError(f"block {block.label!r}: {br.left} commands never became ready "
                                      f"(a dependency cycle?)")
        simulated += 1
        if mkey is not None:
            effects = {}
            for name, m in stateful.items():
                effects[name] = m.memo_end(snaps[name], refs[name], offsets.get(name))
                if effects[name] is None:
                    effects = None
                    break
            if effects is not None:
                if len(memo) >= MEMO_LIMIT:
                    memo.clear()
                    clears += 1
                memo[mkey] = (_delta(sim, runners, before, start), effects)
    if progress is not None:
        progress(bi + 1 if total == 0 else total, total or bi + 1)
    for name, m in models.items():
        for category, pj in m.finish(sim.now // runners[name].clock.ticks_per_cycle).items():
            sim.ledger.add(name, category, pj)
        stats = runners[name].stats
        for key, n in m.counters().items():
            stats[key] = stats.get(key, 0) + n
    sim.finish()
    components = {}
    for name, r in runners.items():
        comp = spec.component(program.engines[name])
        components[name] = {
            "impl": comp.impl, "path": comp.path, "clock_mhz": r.clock.freq_mhz,
            "busy_cycles": r.busy_ticks // r.clock.ticks_per_cycle,
            "utilization": r.busy_ticks / sim.now if sim.now else 0.0,
            "stats": dict(sorted(r.stats.items())),
        }
    ref = program.meta.get("reference_clock", next(iter(program.engines)))
    return SimResult(ticks=sim.now, tick_hz=timebase.tick_hz,
                     clocks_mhz={n: d.freq_mhz for n, d in timebase.domains.items()}, reference_clock=ref,
                     components=components, energy_pj=sim.ledger.per_component(), blocks_simulated=simulated,
                     blocks_reused=reused, commands=n_commands,
                     trace=sim.tracer.to_dict() if sim.tracer else None,
                     extra={**{k: v for name, m in models.items() for k, v in m.report().items()},
                            "blocks.memo": f"{len(memo):,} entries (limit {MEMO_LIMIT:,}, cleared {clears}x)"})


def _state_key(sim, runners, stateful, offsets):
    """The stateful models' keys of their state at the block's start, and the cycles they are relative to."""
    keys, refs = [], {}
    for name, m in stateful.items():
        tpc = runners[name].clock.ticks_per_cycle
        got = m.memo_key(-(-sim.now // tpc), offsets.get(name))
        if got is None:
            return None
        keys.append(got[0])
        refs[name] = got[1]
    return tuple(keys), refs


def _snapshot(sim: Simulator, runners: dict[str, EngineRunner]):
    return ({n: (r.busy_ticks, dict(r.stats)) for n, r in runners.items()}, dict(sim.ledger.dynamic_aj),
            len(sim.tracer.spans) if sim.tracer else 0)


def _delta(sim, runners, before, start):
    per, energy, nspans = before
    d_eng = {}
    for n, r in runners.items():
        busy0, stats0 = per[n]
        d_eng[n] = (r.busy_ticks - busy0, {k: v - stats0.get(k, 0) for k, v in r.stats.items()
                                           if v != stats0.get(k, 0)})
    d_energy = {k: v - energy.get(k, 0) for k, v in sim.ledger.dynamic_aj.items() if v != energy.get(k, 0)}
    spans = [(t, name, s - start, e - start) for t, name, s, e in sim.tracer.spans[nspans:]] if sim.tracer else []
    return sim.now - start, d_eng, d_energy, spans


def _replay(sim, runners, hit) -> None:
    duration, d_eng, d_energy, spans = hit
    start = sim.now
    for n, (busy, stats) in d_eng.items():
        r = runners[n]
        r.busy_ticks += busy
        for k, v in stats.items():
            r.stats[k] = r.stats.get(k, 0) + v
    for (comp, cat), pj in d_energy.items():
        sim.ledger.dynamic_aj[(comp, cat)] = sim.ledger.dynamic_aj.get((comp, cat), 0) + pj
    if sim.tracer is not None:
        for track, name, s, e in spans:
            sim.tracer.span(track, name, start + s, start + e)
    sim.now = start + duration

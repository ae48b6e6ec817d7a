"""The DRAM system: channels + controllers on the event kernel, SYNC barriers, results (cycles, counters, energy).

``DramSystem(spec, mode)`` keeps its state (time, open rows, refresh schedule, memo) across ``run`` calls, so a
caller (the PIM-GPT mapper) can run one phase, do ASIC work, and continue at a later cycle; each ``run`` returns
the cycles, counters and energy of that call only.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Any

from archsim.errors import SimulationError
from cyclesim.clock import Timebase
from cyclesim.dram.channel import CompiledRules
from cyclesim.dram.config import DramConfig
from cyclesim.dram.controller import ChannelController
from cyclesim.dram.engine import ChannelEngine
from cyclesim.dram.program import OP_SYNC, OP_WR, AddressMapping, DramBlock, as_channel_lists, validate_instr
from cyclesim.kernel import Simulator

MODES = ("command", "burst")


@dataclass
class DramResult:
    """What one :meth:`DramSystem.run` did. Cycles are in the DRAM command clock (``clock_mhz``)."""

    mode: str
    standard: str
    clock_mhz: float
    start_cycle: int
    end_cycle: int
    commands: dict[str, int]
    per_channel: list[dict[str, int]]
    per_bank: dict[tuple[int, int], dict[str, int]]
    energy_pj: dict[str, float]
    bus_bytes: int
    bank_bytes: int
    bank_activations: int
    bank_accesses: int
    refreshes: int
    events: int
    memo_hits: int = 0
    memo_misses: int = 0
    channel_cycles: list[int] = field(default_factory=list)
    trace: list[tuple] | None = None      # (cycle, channel, bank, command, row, col); -1 = not applicable
    slack: list[int] | None = None        # command mode with trace: issue cycle minus rule-earliest cycle

    @property
    def cycles(self) -> int:
        return self.end_cycle - self.start_cycle

    @property
    def ns(self) -> float:
        return self.cycles * 1e3 / self.clock_mhz

    @property
    def seconds(self) -> float:
        return self.ns * 1e-9

    @property
    def simulated_commands(self) -> int:
        return sum(self.commands.values())

    @property
    def energy_nj(self) -> float:
        return sum(self.energy_pj.values()) / 1e3

    @property
    def bus_bandwidth_gbps(self) -> float:
        """Bytes over the channel pins per second, in GB/s (1e9 B/s)."""
        return self.bus_bytes / self.ns if self.cycles else 0.0

    @property
    def internal_bandwidth_gbps(self) -> float:
        """Bytes read or written inside the banks (PIM MACs included) per second, in GB/s."""
        return self.bank_bytes / self.ns if self.cycles else 0.0

    @property
    def row_hit_rate(self) -> float:
        """1 - bank activations / bank column accesses (an ACT16 is 16 activations, a MAC16 16 accesses)."""
        if not self.bank_accesses:
            return 0.0
        return max(0.0, 1.0 - self.bank_activations / self.bank_accesses)

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode, "standard": self.standard, "clock": f"dram clock {self.clock_mhz:g} MHz",
            "clock_mhz": self.clock_mhz, "cycles": self.cycles, "start_cycle": self.start_cycle,
            "end_cycle": self.end_cycle, "ns": self.ns, "commands": dict(self.commands),
            "simulated_commands": self.simulated_commands,
            "per_channel": self.per_channel, "channel_cycles": self.channel_cycles,
            "bus_bytes": self.bus_bytes, "bank_bytes": self.bank_bytes,
            "bus_bandwidth_gb_per_s": self.bus_bandwidth_gbps,
            "internal_bandwidth_gb_per_s": self.internal_bandwidth_gbps,
            "row_hit_rate": self.row_hit_rate, "refreshes": self.refreshes,
            "energy_nj": self.energy_nj, "energy_pj": dict(self.energy_pj),
            "events": self.events, "memo_hits": self.memo_hits, "memo_misses": self.memo_misses,
        }

    def summary(self) -> str:
        lines = [f"{self.standard}, {self.mode} mode: {self.cycles:,} cycles (dram clock {self.clock_mhz:g} MHz) "
                 f"= {self.ns:,.1f} ns",
                 "commands: " + ", ".join(f"{k} {v:,}" for k, v in self.commands.items() if v),
                 f"bandwidth: {self.bus_bandwidth_gbps:.2f} GB/s at the pins, "
                 f"{self.internal_bandwidth_gbps:.2f} GB/s inside the banks",
                 f"row-hit rate: {self.row_hit_rate * 100:.2f} %  refreshes: {self.refreshes}",
                 f"energy: {self.energy_nj:,.3f} nJ ("
                 + ", ".join(f"{k} {v / 1e3:,.3f}" for k, v in self.energy_pj.items() if v) + ")"]
        return "\n".join(lines)


class DramSystem:
    """All channels of one DRAM configuration.

    ``mode``: ``"command"`` (one kernel event per DRAM command) or ``"burst"`` (closed-form runs and memoized
    blocks); both give identical cycles, counters, energy and command traces.
    """

    def __init__(self, spec: Any, mode: str = "burst", *, component: str = "dram"):
        if mode not in MODES:
            raise SimulationError(f"unknown DRAM simulation mode {mode!r}; expected one of: {', '.join(MODES)}")
        self.cfg = DramConfig.from_spec(spec, component)
        self.mode = mode
        self.rules = CompiledRules(self.cfg)
        self.mapping = AddressMapping(self.cfg)
        self.sim = Simulator(Timebase({"dram": self.cfg.freq_mhz}))
        self.ctls = [ChannelController(self.rules, ch, burst=mode == "burst") for ch in range(self.cfg.channels)]
        self.engines = [ChannelEngine(self.sim, self, c) for c in self.ctls]
        self.memo: dict = {}
        self.memo_hits = self.memo_misses = 0
        self._waiting: list[ChannelEngine] = []
        self._done: list[ChannelEngine] = []
        self._checked_shapes: weakref.WeakSet = weakref.WeakSet()

    @property
    def now(self) -> int:
        """The cycle at which the previous run ended (the earliest start of the next)."""
        return max([self.sim.now] + [max(c.st.done, c.ready) for c in self.ctls])

    def decode(self, addr: int) -> tuple[int, int, int, int]:
        """Byte address -> (channel, bank, row, col) by the spec's ``address_mapping``."""
        return self.mapping.decode(addr)

    def run(self, program, *, trace: bool = False, start_cycle: int | None = None) -> DramResult:
        """Run ``program`` (a :class:`DramProgram` or per-channel lists) from ``start_cycle`` (default: where
        the previous run ended). ``trace=True`` also returns the command trace."""
        cfg = self.cfg
        lists = as_channel_lists(program, cfg.channels)
        syncs = [sum(1 for i in lst if type(i) is tuple and i[0] == OP_SYNC) for lst in lists]
        if len(set(syncs)) > 1:
            raise SimulationError(f"every channel needs the same number of SYNCs; got {syncs}")
        for ch, lst in enumerate(lists):
            self._validate(lst, f"channel {ch}")
        start = self.now if start_cycle is None else max(start_cycle, self.now)
        before = [(list(c.st.counts), c.refreshes, c.st.open_cycles_until(start)) for c in self.ctls]
        events0, hits0, miss0 = self.sim.events_run, self.memo_hits, self.memo_misses
        for c in self.ctls:
            c.ready = max(c.ready, start)
            c.load(lists[c.ch])
            c.st.trace = [] if trace else None
            c.slack = [] if trace and self.mode == "command" else None
        self._waiting, self._done = [], []
        if self.sim.now < start:
            self.sim.now = start
        for e in self.engines:
            e.start(start)
        self.sim.run()
        if len(self._done) != len(self.engines):  # pragma: no cover - SYNC counts are checked above
            raise SimulationError("the DRAM program did not finish: channels wait at a SYNC")
        return self._result(start, before, events0, hits0, miss0, trace)

    def _validate(self, items, where: str) -> None:
        cfg = self.cfg
        nb, nr, na = cfg.banks, cfg.rows, cfg.row_accesses
        for k, ins in enumerate(items):
            if type(ins) is tuple and len(ins) == 5 and ins[0] <= OP_WR and ins[4] == 1 \
                    and 0 <= ins[1] < nb and 0 <= ins[2] < nr and 0 <= ins[3] < na:
                continue  # a well-formed ordinary request (the common case, checked inline)
            if type(ins) is DramBlock:
                shape = ins.shape
                if shape not in self._checked_shapes:
                    for j, x in enumerate(shape.instrs):
                        validate_instr(x, cfg, f"{where}, block item {k}, instruction {j}")
                    self._checked_shapes.add(shape)
                top = shape.rows(cfg.row_accesses)[1]
                if ins.row_base < 0 or ins.row_base + top >= cfg.rows:
                    raise SimulationError(f"{where}, block item {k}: rows {ins.row_base}..{ins.row_base + top} "
                                          f"out of range 0..{cfg.rows - 1}")
            elif type(ins) is tuple and len(ins) == 5:
                validate_instr(ins, cfg, f"{where}, item {k}")
            else:
                raise SimulationError(f"{where}, item {k}: expected an instruction tuple or a DramBlock, "
                                      f"got {type(ins).__name__}")

    # -- barriers ----------------------------------------------------------------------------------------------
    def _arrive(self, eng: ChannelEngine) -> None:
        self._waiting.append(eng)
        if len(self._waiting) + len(self._done) < len(self.engines):
            return
        if self._done:  # pragma: no cover - SYNC counts are checked in run()
            raise SimulationError("a channel ended while others wait at a SYNC")
        gap = self.rules.bus_gap
        release = max(max(c.st.done, c.ready, c.st.last + gap) for c in self.ctls)
        waiting, self._waiting = self._waiting, []
        for e in waiting:
            e.ctl.ready = release
            e.start(release) if release >= self.sim.now else e.start(self.sim.now)

    def _finished(self, eng: ChannelEngine) -> None:
        self._done.append(eng)

    # -- results -----------------------------------------------------------------------------------------------
    def _result(self, start, before, events0, hits0, miss0, trace) -> DramResult:
        cfg, rules = self.cfg, self.rules
        names = rules.names
        B1 = cfg.banks + 1
        end = start
        chan_end = []
        for c in self.ctls:
            e = max(c.st.done, c.ready, start)
            chan_end.append(e - start)
            end = max(end, e)
        commands = {n: 0 for n in names}
        per_channel, per_bank = [], {}
        energy: dict[str, float] = {}
        bus = bank_bytes = acts = accesses = refreshes = 0
        ns_per_cycle = cfg.ns_per_cycle
        background = 0.0
        for c, (counts0, ref0, open0) in zip(self.ctls, before):
            counts = c.st.counts
            mine = {}
            for ci, name in enumerate(names):
                base = ci * B1
                tot = sum(counts[base:base + B1]) - sum(counts0[base:base + B1])
                mine[name] = tot
                if tot:
                    commands[name] += tot
                    energy[name] = energy.get(name, 0.0) + tot * cfg.energy_pj[name]
                    bus += tot * cfg.bus_bytes[name]
                    bank_bytes += tot * cfg.bank_bytes[name]
                    acts += tot * cfg.acts[name]
                    accesses += tot * cfg.accesses[name]
                    for b in range(cfg.banks):
                        k = counts[base + b + 1] - counts0[base + b + 1]
                        if k:
                            per_bank.setdefault((c.ch, b), {})[name] = k
            per_channel.append(mine)
            refreshes += c.refreshes - ref0
            open_cycles = c.st.open_cycles_until(end) - open0
            background += (cfg.act_standby_mw * open_cycles
                           + cfg.pre_standby_mw * (end - start - open_cycles)) * ns_per_cycle
            for name, n in mine.items():
                if n and cfg.energy_pj[name]:
                    self.sim.ledger.add(f"dram.ch{c.ch}", name, n * cfg.energy_pj[name])
        energy["background"] = background
        self.sim.ledger.add("dram", "background", background)
        tr = slack = None
        if trace:
            tr = []
            for c in self.ctls:
                tr.extend(c.st.trace)
            order = sorted(range(len(tr)), key=lambda i: (tr[i][0], tr[i][1]))
            tr = [(t, ch, b, names[ci], r, col) for t, ch, b, ci, r, col in (tr[i] for i in order)]
            if self.mode == "command":
                flat = [s for c in self.ctls for s in c.slack]
                slack = [flat[i] for i in order]
            for c in self.ctls:
                c.st.trace = None
                c.slack = None
        return DramResult(
            mode=self.mode, standard=cfg.standard.name, clock_mhz=cfg.freq_mhz, start_cycle=start, end_cycle=end,
            commands={k: v for k, v in commands.items()}, per_channel=per_channel, per_bank=per_bank,
            energy_pj=energy, bus_bytes=bus, bank_bytes=bank_bytes, bank_activations=acts, bank_accesses=accesses,
            refreshes=refreshes, events=self.sim.events_run - events0, memo_hits=self.memo_hits - hits0,
            memo_misses=self.memo_misses - miss0, channel_cycles=chan_end, trace=tr, slack=slack)

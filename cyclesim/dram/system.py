"""The DRAM system: channels + controllers on the event kernel, SYNC barriers, results (cycles, counters, energy).

``DramSystem(spec, mode)`` keeps its state (time, open rows, refresh schedule, memo) across ``run`` calls, so a
caller (the PIM-GPT mapper) can run one phase, do ASIC work, and continue at a later cycle; each ``run`` returns
the cycles, counters and energy of that call only. Refreshes that fall due while a channel is idle (at a SYNC,
in a DELAY, between runs) are issued at their due cycles when the channel next has a command to issue, so the
result of a run also reports the refreshes of the idle time before it (their cycles may precede
``start_cycle``); they never delay a SYNC release, a DELAY or the end of a run.

Channel symmetry (burst mode): when every channel gets the same instruction stream and the channels are in the
same state, only channel 0 is simulated and its effect is replicated (see :mod:`archsim.cyclesim.dram.symmetry`).
"""

from __future__ import annotations

import itertools
import weakref
from operator import mul, sub
from dataclasses import dataclass, field
from typing import Any

from archsim.base.errors import SimulationError
from archsim.cyclesim.clock import Timebase
from archsim.cyclesim.dram.channel import CompiledRules
from archsim.cyclesim.dram.config import DramConfig
from archsim.cyclesim.dram.controller import ChannelController
from archsim.cyclesim.dram.engine import ChannelEngine
from archsim.cyclesim.dram.program import (OP_MEMO, OP_SYNC, OP_WR, AddressMapping, DramBlock, DramRepeat,
                                          as_channel_lists, validate_instr)
from archsim.cyclesim.dram.runmemo import RunMemo
from archsim.cyclesim.dram.segmemo import SegmentMemo
from archsim.cyclesim.dram.symmetry import Shadow, sync_prefix
from archsim.cyclesim.dram.tailmemo import TailMemo
from archsim.cyclesim.kernel import Simulator

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
    energy_pj: dict[str, float]
    bus_bytes: int
    bank_bytes: int
    bank_activations: int
    bank_accesses: int
    refreshes: int
    events: int
    memo_hits: int = 0                    # burst mode: block instances taken from the memo
    memo_misses: int = 0                  # burst mode: block instances simulated command by command
    tile_steps: int = 0                   # burst mode: memo applications (a closed-form skip counts once)
    simulated_channels: int = 0           # channels simulated (burst mode replicates channel 0 when it can)
    channel_cycles: list[int] = field(default_factory=list)
    trace: list[tuple] | None = None      # (cycle, channel, bank, command, row, col); -1 = not applicable
    slack: list[int] | None = None        # command mode with trace: issue cycle minus rule-earliest cycle
    # per channel: the counter deltas, indexed like ChannelState.counts (replicated channels share one list);
    # per_channel and per_bank are built from them on first use, as most callers never look
    counter_deltas: list[list[int]] = field(default_factory=list, repr=False)
    counter_layout: tuple = field(default=((), (), 0), repr=False)   # (names, is_chan, banks)

    @property
    def per_channel(self) -> list[dict[str, int]]:
        """Commands issued per channel: [{name: count}]."""
        names, is_chan, banks = self.counter_layout
        return [dict(zip(names, _command_totals(d, is_chan, banks))) for d in self.counter_deltas]

    @property
    def per_bank(self) -> dict[tuple[int, int], dict[str, int]]:
        """Bank commands issued per (channel, bank), nonzero counts only: {(ch, bank): {name: count}}."""
        names, is_chan, banks = self.counter_layout
        out: dict[tuple[int, int], dict[str, int]] = {}
        for ch, d in enumerate(self.counter_deltas):
            for ci, chan in enumerate(is_chan):
                if chan:
                    continue
                base = ci * (banks + 1) + 1
                for b in range(banks):
                    if d[base + b]:
                        out.setdefault((ch, b), {})[names[ci]] = d[base + b]
        return dict(sorted(out.items()))

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
            "tile_steps": self.tile_steps, "simulated_channels": self.simulated_channels,
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


def _command_totals(delta: list[int], is_chan, banks: int) -> list[int]:
    """Per-command totals of a channel's counter list (a channel command is counted at bank -1 only)."""
    b1 = banks + 1
    return [delta[ci * b1] if chan else sum(delta[ci * b1 + 1:ci * b1 + b1]) for ci, chan in enumerate(is_chan)]


class DramSystem:
    """All channels of one DRAM configuration.

    ``mode``: ``"command"`` (one kernel event per DRAM command) or ``"burst"`` (closed-form runs, memoized
    blocks, closed-form repeats, channel symmetry); both give identical cycles, counters, energy and command
    traces. ``fast_repeat=False`` expands :class:`DramRepeat` items into blocks and ``symmetry=False`` simulates
    every channel in burst mode too (both for testing; the results do not change).
    """

    def __init__(self, spec: Any, mode: str = "burst", *, component: str = "dram", fast_repeat: bool = True,
                 symmetry: bool = True):
        if mode not in MODES:
            raise SimulationError(f"unknown DRAM simulation mode {mode!r}; expected one of: {', '.join(MODES)}")
        self.cfg = DramConfig.from_spec(spec, component)
        self.mode = mode
        self.rules = CompiledRules(self.cfg)
        self.mapping = AddressMapping(self.cfg)
        self.sim = Simulator(Timebase({"dram": self.cfg.freq_mhz}))
        self._ctls = [ChannelController(self.rules, ch, burst=mode == "burst", fast_repeat=fast_repeat)
                      for ch in range(self.cfg.channels)]
        self.engines = [ChannelEngine(self.sim, self, c) for c in self._ctls]
        self.symmetry = symmetry and mode == "burst" and self.cfg.channels > 1
        self.memo: dict = {}                     # burst-mode block memo (see cyclesim.dram.engine)
        self.key_ids: dict = {}                  # relative state key -> id (memo keys use the id)
        self.key_counter = itertools.count()
        self.memo_hits = self.memo_misses = self.tile_steps = 0
        self.whole_repeats: dict = {}            # (shape, count, stride) -> rows if memoized whole, else False
        self._shadow: Shadow | None = None      # channels 1.. replicate channel 0 while set
        self.run_memo = RunMemo(self)            # whole recurring runs (burst mode)
        self.segments = SegmentMemo(self)        # blocks of runs the program runner reuses (burst mode)
        self.tails = TailMemo(self)              # the rest of a barrier segment after a MEMO hint (burst mode)
        self._active: list[ChannelEngine] = []
        self._waiting: list[ChannelEngine] = []
        self._done: list[ChannelEngine] = []
        self._fork: tuple | None = None         # (position after the last common SYNC, lists, before)
        self._checked_shapes: weakref.WeakSet = weakref.WeakSet()
        self._checked_instrs: set = set()        # instruction tuples already range-checked
        self._energy_pj = [self.cfg.energy_pj[n] for n in self.rules.names]
        self._weights = [[table[n] for n in self.rules.names]      # per command: bytes and accesses it moves
                         for table in (self.cfg.bus_bytes, self.cfg.bank_bytes, self.cfg.acts, self.cfg.accesses)]

    @property
    def ctls(self) -> list[ChannelController]:
        """The channel controllers, every channel's state up to date (treat as read-only)."""
        if self._shadow is not None:
            self._shadow.materialize()
        return self._ctls

    @property
    def now(self) -> int:
        """The cycle at which the previous run ended (the earliest start of the next)."""
        ctls = self._ctls[:1] if self._shadow is not None else self._ctls
        return max([self.sim.now] + [max(c.st.done, c.ready) for c in ctls])

    def decode(self, addr: int) -> tuple[int, int, int, int]:
        """Byte address -> (channel, bank, row, col) by the spec's ``address_mapping``."""
        return self.mapping.decode(addr)

    def background_pj(self, start: int, end: int) -> float:
        """Background (standby) energy of all channels from ``start`` to ``end`` (cycles), from each channel's
        open-row time, for idle time between runs (the DRAM engine books it between commands). Refreshes that
        fall due in the interval close the open rows at their due cycles (as the next run will issue them)."""
        if end <= start:
            return 0.0
        cfg = self.cfg
        pj = 0.0
        open_c = None
        for c in self._ctls:
            if open_c is None or self._shadow is None:    # replicated channels: channel 0's figure
                a, b = c.open_cycles_at((start, end))
                open_c = b - a
            pj += (cfg.act_standby_mw * open_c + cfg.pre_standby_mw * (end - start - open_c)) * cfg.ns_per_cycle
        return pj

    def run(self, program, *, trace: bool = False, start_cycle: int | None = None,
            recurring: bool = False) -> DramResult:
        """Run ``program`` (a :class:`DramProgram` or per-channel lists) from ``start_cycle`` (default: where
        the previous run ended). ``trace=True`` also returns the command trace. ``recurring=True`` says the
        program will be run many times (burst mode then memoizes the whole run: :mod:`archsim.cyclesim.dram.runmemo`;
        the results do not change)."""
        return self._run(program, trace, start_cycle, recurring, True)

    def advance(self, program, *, start_cycle: int | None = None, recurring: bool = False) -> int:
        """:meth:`run` without the figures of the run: returns the cycle at which it ended. Counters, energy
        and time accumulate in the channels either way and :meth:`totals` reports them since cycle 0, which is
        all a caller running many short programs back to back (the PIM-GPT engine) needs."""
        return self._run(program, False, start_cycle, recurring, False)

    def drop_memo(self) -> None:
        """Forget every burst-mode memo entry now (results are unaffected; later runs only go slower at first).
        The entries link to each other (an entry caches its successor), so without this their memory waits for
        the cyclic garbage collector, which is paused during a program run (:mod:`archsim.cyclesim.gcpause`)."""
        for e in self.memo.values():
            if e.next:
                e.next.clear()
        self.memo.clear()
        self.key_ids.clear()

    def totals(self, end_cycle: int | None = None) -> DramResult:
        """Everything from cycle 0 to ``end_cycle`` (default and at least: where the last run ended): commands,
        energy (the background of idle time included), bytes, activations, refreshes."""
        if self._shadow is not None:
            self._shadow.materialize()
            self._shadow = None
        zero = [0] * len(self._ctls[0].st.counts)
        return self._result(0, [(zero, 0, 0)] * len(self._ctls), 0, 0, 0, False, end=end_cycle)

    def _run(self, program, trace: bool, start_cycle: int | None, recurring: bool, figures: bool):
        cfg = self.cfg
        ctls = self._ctls
        lists = as_channel_lists(program, cfg.channels)
        first = lists[0]
        identical = all(lst == first for lst in lists[1:])
        rshape = None
        if identical:
            rshape = self.run_memo.known(program, first) if recurring else None
            if rshape is None:      # (a recurring program seen before with the same items was checked then)
                self._validate(first, "channel 0")
                if recurring:
                    rshape = self.run_memo.remember(program, first, cfg.row_accesses)
            common = len(first)
        else:
            counts = [self._validate(lst, f"channel {ch}") for ch, lst in enumerate(lists)]
            if len(set(counts)) > 1:
                raise SimulationError(f"every channel needs the same number of SYNCs; got {counts}")
            common = sync_prefix(lists)
        start = self.now if start_cycle is None else max(start_cycle, self.now)
        shadow = None
        if self.symmetry and common:
            if self._shadow is None and Shadow.channels_equal(self, start):
                self._shadow = Shadow(self, start)
            shadow = self._shadow
        if shadow is None and self._shadow is not None:
            self._shadow.materialize()
            self._shadow = None
        runners = ctls[:1] if shadow is not None else ctls
        before = None               # the counters at the start, for the figures of this run
        if shadow is not None:
            shadow.stale = True
            lead = ctls[0]
            if figures or not identical:
                before = [(list(lead.st.counts), lead.refreshes, lead.open_cycles_until(start))] * len(ctls)
            self._fork = None if identical else (common, lists, before)
        else:
            if figures:
                before = [(list(c.st.counts), c.refreshes, c.open_cycles_until(start)) for c in ctls]
            self._fork = None
        events0, hits0, miss0, steps0 = self.sim.events_run, self.memo_hits, self.memo_misses, self.tile_steps
        for c in ctls:
            c.st.trace = None
            c.slack = None
        for c in runners:
            c.ready = max(c.ready, start)
            c.base = c.ready
            c.bases = [c.base]
            c.load(lists[c.ch])
            c.st.trace = [] if trace else None
            c.slack = [] if trace and self.mode == "command" else None
            c.defer = not trace and self.mode == "command"   # (ChannelController.commit)
        pending = None
        if rshape is not None and len(runners) == 1 and not trace and self.mode == "burst":
            lead = runners[0]
            eng = self.engines[lead.ch]
            base = max(lead.st.last + self.rules.bus_gap, lead.ready)
            pending = self.run_memo.begin(eng, rshape, base)
            if pending is None:          # the whole run came from the memo
                lead.pos = len(lead.items)
                return self._finish(start, before, events0, hits0, miss0, steps0, trace, figures)
        if len(runners) == 1 and self.mode == "burst" and self._fork is None:
            self._run_alone(self.engines[runners[0].ch])
        else:
            self._active = [self.engines[c.ch] for c in runners]
            self._waiting, self._done = [], []
            if self.sim.now < start:
                self.sim.now = start
            for e in self._active:
                e.start(start)
            self.sim.run()
            if len(self._done) != len(self._active):  # pragma: no cover - SYNC counts are checked above
                raise SimulationError("the DRAM program did not finish: channels wait at a SYNC")
            self._fork = None
        if pending is not None:
            self.run_memo.record(eng, rshape, pending)
        return self._finish(start, before, events0, hits0, miss0, steps0, trace, figures)

    def _run_alone(self, eng: ChannelEngine) -> None:
        """Burst mode with one channel simulated (the others replicate it, or there are none): the controller's
        decisions in a loop, without kernel events, which only order channels against each other
        (:meth:`ChannelEngine.play`). Each decision counts as an event."""
        self.sim.events_run += eng.play()

    def _end(self, start: int) -> int:
        """Where the run that started at ``start`` ended: every channel's commands done and released."""
        ctls = self._ctls[:1] if self._shadow is not None else self._ctls
        return max(start, max(max(c.st.done, c.ready) for c in ctls))

    def _finish(self, start, before, events0, hits0, miss0, steps0, trace, figures):
        if not figures:
            return self._end(start)
        res = self._result(start, before, events0, hits0, miss0, trace)
        res.tile_steps = self.tile_steps - steps0
        res.simulated_channels = 1 if self._shadow is not None else len(self._ctls)
        return res

    def _validate(self, items, where: str) -> int:
        """Range-check every item; returns the number of SYNCs."""
        cfg = self.cfg
        nb, nr, na = cfg.banks, cfg.rows, cfg.row_accesses
        checked = self._checked_instrs
        syncs = 0
        for k, ins in enumerate(items):
            if type(ins) is tuple and len(ins) == 5 and ins[0] <= OP_WR and ins[4] == 1 \
                    and 0 <= ins[1] < nb and 0 <= ins[2] < nr and 0 <= ins[3] < na:
                continue  # a well-formed ordinary request (the common case, checked inline)
            if type(ins) is DramBlock or type(ins) is DramRepeat:
                shape = ins.shape
                if shape not in self._checked_shapes:
                    for j, x in enumerate(shape.instrs):
                        validate_instr(x, cfg, f"{where}, block item {k}, instruction {j}")
                    self._checked_shapes.add(shape)
                if type(ins) is DramBlock:
                    lo, hi = ins.row_base, ins.row_base + shape.rows(na)[1]
                elif ins.count:
                    lo, hi = ins.row_span(na)
                else:
                    continue
                if lo < 0 or hi >= nr:
                    raise SimulationError(f"{where}, block item {k}: rows {lo}..{hi} out of range 0..{nr - 1}")
            elif type(ins) is tuple and len(ins) == 5:
                if ins not in checked:
                    validate_instr(ins, cfg, f"{where}, item {k}")
                    if len(checked) > 100_000:
                        checked.clear()
                    checked.add(ins)
                if ins[0] == OP_SYNC:
                    syncs += 1
                elif ins[0] == OP_MEMO and k and type(items[k - 1]) is tuple and items[k - 1][0] <= OP_WR:
                    raise SimulationError(f"{where}, item {k}: a MEMO hint directly after an RD/WR request would "
                                          f"end the FR-FCFS window there; put it before the requests")
            else:
                raise SimulationError(f"{where}, item {k}: expected an instruction tuple, a DramBlock or a "
                                      f"DramRepeat, got {type(ins).__name__}")
        return syncs

    # -- barriers ----------------------------------------------------------------------------------------------
    def _arrive(self, eng: ChannelEngine) -> None:
        fork = self._fork
        if fork is not None and eng.ctl.pos == fork[0] and not eng.ctl.frames:
            # the channels' streams differ after this SYNC: every channel continues on its own from here
            self._fork = None
            common, lists, before = fork
            followers = self._shadow.split(lists, common, before)
            self._shadow = None
            self._active = list(self.engines)
            self._waiting.extend(self.engines[c.ch] for c in followers)
        self._waiting.append(eng)
        if len(self._waiting) + len(self._done) < len(self._active):
            return
        if self._done:  # pragma: no cover - SYNC counts are checked in run()
            raise SimulationError("a channel ended while others wait at a SYNC")
        gap = self.rules.bus_gap
        release = max(max(e.ctl.st.done, e.ctl.ready, e.ctl.st.last + gap) for e in self._active)
        waiting, self._waiting = self._waiting, []
        for e in waiting:
            e.ctl.ready = release
            e.ctl.base = release + 1   # the host decodes the next line one cycle after the release
            e.ctl.bases.append(e.ctl.base)
            e.start(release)

    def _finished(self, eng: ChannelEngine) -> None:
        self._done.append(eng)

    # -- results -----------------------------------------------------------------------------------------------
    def _result(self, start, before, events0, hits0, miss0, trace, end: int | None = None) -> DramResult:
        cfg = self.cfg
        names = self.rules.names
        is_chan = self.rules.is_chan
        ctls = self._ctls
        shadow = self._shadow is not None
        lead = ctls[0]
        if shadow:
            chan_end = [max(lead.st.done, lead.ready, start) - start] * len(ctls)
        else:
            chan_end = [max(c.st.done, c.ready, start) - start for c in ctls]
        end = max(start + max(chan_end), end or 0)
        figs = []
        for c, (counts0, ref0, open0) in zip(ctls[:1] if shadow else ctls, before):
            cur = c.st.counts
            delta = list(map(sub, cur, counts0)) if cur != counts0 else [0] * len(cur)
            figs.append((delta, _command_totals(delta, is_chan, cfg.banks), c.refreshes - ref0,
                         c.open_cycles_until(end) - open0))
        if shadow:                  # the replicated channels did what channel 0 did
            n = len(ctls)
            delta, tots, refreshes, open_cycles = figs[0]
            deltas, counts = [delta] * n, [t * n for t in tots]
            refreshes, open_cycles = refreshes * n, open_cycles * n
        else:
            deltas = [f[0] for f in figs]
            counts = [sum(col) for col in zip(*(f[1] for f in figs))]
            refreshes = sum(f[2] for f in figs)
            open_cycles = sum(f[3] for f in figs)
        e_pj = self._energy_pj
        commands = dict(zip(names, counts))
        # energy from the integer totals: independent of how the work was split over channels and steps
        energy = {names[ci]: n * e_pj[ci] for ci, n in enumerate(counts) if n}
        background = (cfg.act_standby_mw * open_cycles
                      + cfg.pre_standby_mw * ((end - start) * len(ctls) - open_cycles)) * cfg.ns_per_cycle
        energy["background"] = background
        bus, bank_bytes, acts, accesses = (sum(map(mul, counts, w)) for w in self._weights)
        tr = slack = None
        if trace:
            tr = []
            if shadow:
                for ch in range(len(ctls)):
                    tr.extend((t, ch, b, ci, r, col) for t, _c, b, ci, r, col in lead.st.trace)
            else:
                for c in ctls:
                    tr.extend(c.st.trace)
            order = sorted(range(len(tr)), key=lambda i: (tr[i][0], tr[i][1]))
            tr = [(t, ch, b, names[ci], r, col) for t, ch, b, ci, r, col in (tr[i] for i in order)]
            if self.mode == "command":
                flat = [s for c in ctls for s in c.slack]
                slack = [flat[i] for i in order]
            for c in ctls:
                c.st.trace = None
                c.slack = None
        return DramResult(
            mode=self.mode, standard=cfg.standard.name, clock_mhz=cfg.freq_mhz, start_cycle=start, end_cycle=end,
            commands=commands, energy_pj=energy, bus_bytes=bus, bank_bytes=bank_bytes, bank_activations=acts,
            bank_accesses=accesses, refreshes=refreshes, events=self.sim.events_run - events0,
            memo_hits=self.memo_hits - hits0, memo_misses=self.memo_misses - miss0, channel_cycles=chan_end,
            trace=tr, slack=slack,
            counter_deltas=deltas, counter_layout=(names, is_chan, cfg.banks))

"""An independent timing checker: replay a DRAM command trace against the standard's rule table.

Deliberately simple and separate from the scheduler (:mod:`archsim.cyclesim.dram.channel`): it shares only the rule
table and the timing values. For every command, in trace order, it looks back through the earlier commands of
the same channel, per preceding command name, and reports each rule whose latency is not met, naming the rule
and both commands; for a window rule (tFAW) it counts the matching commands inside the latency. It also checks
the row-buffer and mode preconditions of each command (``state.closed``, ``state.open``, ``state.row``,
``state.mode``), command names, bank fields and time order.

    violations = check_trace(trace, spec)          # [] for a valid trace
    for v in violations: print(v)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from archsim.cyclesim.dram.config import DramConfig


@dataclass(frozen=True)
class Violation:
    rule: str
    index: int                 # position of the offending command in the trace
    cycle: int
    channel: int
    command: str               # the following (offending) command, e.g. "RD bank 3 row 7 @ 120"
    preceding: str | None      # the earlier command involved, if any
    required: int | None = None
    actual: int | None = None

    def __str__(self) -> str:
        s = f"cycle {self.cycle} channel {self.channel}: rule {self.rule}: {self.command}"
        if self.preceding is not None and self.required is not None:
            s += f" is {self.actual} cycles after {self.preceding}; needs >= {self.required}"
        elif self.preceding is not None:
            s += f" (after {self.preceding})"
        return s


def _label(name: str, bank: int, row: int, cycle: int) -> str:
    where = f" bank {bank}" if bank >= 0 else ""
    where += f" row {row}" if row >= 0 else ""
    return f"{name}{where} @ {cycle}"


def check_trace(trace: Iterable[tuple], spec: Any) -> list[Violation]:
    """All violations in ``trace`` (``(cycle, channel, bank, command, row, col)`` tuples, ``-1`` = n/a)."""
    cfg = DramConfig.from_spec(spec)
    std = cfg.standard
    cmds = std.commands
    lat = cfg.latencies
    bpg = cfg.banks_per_group
    rules_for: dict[str, list] = {name: [] for name in cmds}
    for r in std.rules:
        for name in cmds:
            if r.following == ("*",) or name in r.following:
                rules_for[name].append(r)
    out: list[Violation] = []
    history: dict[int, dict[str, list]] = {}     # channel -> command -> [(cycle, bank, row, index)]
    open_rows: dict[int, list] = {}              # channel -> per bank (row, label of the ACT) or None
    mode: dict[int, tuple] = {}                  # channel -> (mode, label of the command that set it)
    last_cycle: dict[int, int] = {}

    for i, (cycle, ch, bank, name, row, col) in enumerate(trace):
        me = _label(str(name), bank, row, cycle)

        def bad(rule, pre=None, need=None, got=None):
            out.append(Violation(rule, i, cycle, ch, me, pre, need, got))

        if name not in cmds:
            bad("unknown_command")
            continue
        cdef = cmds[name]
        if not 0 <= ch < cfg.channels:
            bad("channel_range")
            continue
        if cdef.scope == "channel" and bank != -1 or cdef.scope == "bank" and not 0 <= bank < cfg.banks:
            bad("bank_field")
            continue
        if ch in last_cycle and cycle < last_cycle[ch]:
            bad("time_order", f"a command @ {last_cycle[ch]}")
        last_cycle[ch] = max(cycle, last_cycle.get(ch, cycle))
        hist = history.setdefault(ch, {})
        rows = open_rows.setdefault(ch, [None] * cfg.banks)
        cur_mode = mode.setdefault(ch, ("bank", "power-up"))

        # timing rules
        for r in rules_for[name]:
            need = lat[r.name]
            pre_names = list(cmds) if r.preceding == ("*",) else r.preceding
            found = []
            for p in pre_names:
                for (pc, pb, prow, pi) in reversed(hist.get(p, ())):
                    if cycle - pc >= need:
                        break
                    if pi == i:
                        continue
                    if r.scope == "bankgroup" and pb >= 0 and bank >= 0 and pb // bpg != bank // bpg:
                        continue
                    if r.scope == "bank" and pb >= 0 and bank >= 0 and pb != bank:
                        continue
                    found.append((pc, pi, p, pb, prow))
            if len(found) >= r.window:
                found.sort(reverse=True)
                pc, _pi, p, pb, prow = found[r.window - 1]
                bad(r.name, _label(p, pb, prow, pc), need, cycle - pc)

        # state preconditions
        if cdef.mode in ("bank", "reg") and cur_mode[0] != cdef.mode:
            bad("state.mode", f"{cur_mode[1]} (channel in {cur_mode[0]} mode)")
        targets = range(cfg.banks) if cdef.scope == "channel" else [bank]
        if cdef.needs == "closed":
            for b in targets:
                if rows[b] is not None:
                    bad("state.closed", rows[b][1])
                    break
        elif cdef.needs == "open":
            for b in targets:
                if rows[b] is None:
                    bad("state.open", f"bank {b} closed")
                    break
                if row >= 0 and rows[b][0] != row:
                    bad("state.row", rows[b][1])
                    break

        # effects
        if cdef.effect == "open":
            for b in targets:
                rows[b] = (row, me)
        elif cdef.effect == "close":
            for b in targets:
                rows[b] = None
        if cdef.sets_mode:
            mode[ch] = (cdef.sets_mode, me)
        hist.setdefault(name, []).append((cycle, bank, row, i))
    return out


def check_result(result, spec: Any) -> list[Violation]:
    """Check the command trace of a :class:`~archsim.cyclesim.dram.system.DramResult` run with ``trace=True``."""
    if result.trace is None:
        raise ValueError("the result has no command trace; run with trace=True")
    return check_trace(result.trace, spec)

"""One DRAM channel's timing state: earliest-issue times derived from the rule table, open rows, mode, counters.

:class:`CompiledRules` turns a standard's rule table (for one configuration) into flat update lists. Each channel
keeps one flat list ``nxt`` of earliest-issue cycles, laid out as ``[channel slots | bank-group slots x G |
bank slots x B]``; a slot exists for every (level, following command) that some rule constrains. Issuing command
``C`` at cycle ``t`` raises ``nxt[i]`` to ``t + latency`` for every compiled ``(i, latency)`` of ``C``; the
earliest cycle for command ``F`` at bank ``b`` is the maximum of its (at most three) slots, the command bus
(``last + 1``) and the window rules (tFAW). A channel-scope command (PREA, ACT16, MAC16, ...) is in every bank,
so its bank- and bank-group-level effects are folded into channel slots at compile time: issue and earliest-time
work never loop over banks. This is the Ramulator "future timing per node" scheme, flattened for CPython.

The rule table is the only source of timing here; the checker reads the same table but none of this code.
"""

from __future__ import annotations

from archsim.base.errors import SimulationError
from archsim.cyclesim.dram.config import DramConfig

# state effects of a command
EFF_NONE, EFF_OPEN, EFF_OPEN_ALL, EFF_CLOSE, EFF_CLOSE_ALL = range(5)
MODE_BANK, MODE_REG = 0, 1


class CompiledRules:
    """Per-configuration tables: command indices, per-(command, bank) update and earliest-slot lists."""

    def __init__(self, cfg: DramConfig):
        std = cfg.standard
        self.cfg = cfg
        self.names = list(std.commands)
        self.index = {n: i for i, n in enumerate(self.names)}
        n = len(self.names)
        defs = [std.commands[name] for name in self.names]
        self.is_chan = [d.scope == "channel" for d in defs]
        self.banks = B = cfg.banks
        self.bpg = cfg.banks_per_group
        groups = cfg.bank_groups
        self.bus_gap = 0
        every = list(range(n))
        entries = []      # (level, P, F, latency): level 0 channel, 1 bank group, 2 bank
        self.windows = []  # (P set, F set, latency, window)
        for rule in std.rules:
            lat = cfg.latencies[rule.name]
            pre = every if rule.preceding == ("*",) else [self.index[c] for c in rule.preceding]
            fol = every if rule.following == ("*",) else [self.index[c] for c in rule.following]
            if rule.preceding == ("*",) and rule.following == ("*",) and rule.scope == "channel":
                self.bus_gap = max(self.bus_gap, lat)     # one scalar instead of n x n entries
                continue
            if rule.window > 1:
                if rule.scope != "channel":
                    raise SimulationError(f"rule {rule.name}: window rules are supported at channel scope only")
                self.windows.append((frozenset(pre), frozenset(fol), lat, rule.window))
                continue
            level = SCOPE_LEVEL[rule.scope]
            for p in pre:
                for f in fol:
                    lv = 0 if (level == 0 or self.is_chan[p] or self.is_chan[f]) else level
                    entries.append((lv, p, f, lat))
        # slot numbering per level
        slots = [{}, {}, {}]
        for lv, _p, f, _lat in entries:
            slots[lv].setdefault(f, len(slots[lv]))
        self.n_chan, self.n_bg, self.n_bank = (len(s) for s in slots)
        self.bg_base = self.n_chan
        self.bank_base = self.n_chan + groups * self.n_bg
        self.size = self.bank_base + B * self.n_bank
        # per command, indexed [ci][bank + 1] (bank -1 = channel command): updates grouped by latency
        # ((latency, (slot, ...)), ...), the command's own earliest slots, and its self-spacing
        self.upd: list[list[tuple]] = []
        self.earl: list[list[tuple[int, ...]]] = []
        self.gap: list[list[int]] = []          # self-spacing of back-to-back identical commands (closed form)
        by_p: dict[int, list] = {}
        for e in entries:
            by_p.setdefault(e[1], []).append(e)
        for ci in range(n):
            ups, earls, gaps = [], [], []
            targets = [-1] if self.is_chan[ci] else list(range(B))
            row_u = [None] * (B + 1)
            row_e = [()] * (B + 1)
            row_g = [0] * (B + 1)
            for b in targets:
                acc: dict[int, int] = {}
                for lv, _p, f, lat in by_p.get(ci, ()):
                    i = self._slot(lv, f, b, slots)
                    if acc.get(i, -1) < lat:
                        acc[i] = lat
                ear = tuple(self._slot(lv, ci, b, slots) for lv in range(3)
                            if ci in slots[lv] and (lv == 0 or b >= 0))
                by_lat: dict[int, list[int]] = {}
                for i, lat in sorted(acc.items()):
                    by_lat.setdefault(lat, []).append(i)
                row_u[b + 1] = tuple((lat, tuple(ix)) for lat, ix in sorted(by_lat.items()))
                row_e[b + 1] = ear
                row_g[b + 1] = max([self.bus_gap] + [acc[i] for i in ear if i in acc])
            ups, earls, gaps = row_u, row_e, row_g
            self.upd.append(ups)
            self.earl.append(earls)
            self.gap.append(gaps)
        self.apply_upd = [[_update_function(u) for u in row] for row in self.upd]
        self._cross_rows: list[list] = [[None] * (B + 1) for _ in range(n)]
        self._writers: list | None = None
        self.win_pre = [[w for w in self.windows if ci in w[0]] for ci in range(n)]
        self.win_fol = [[(k, w[2], w[3]) for k, w in enumerate(self.windows) if ci in w[1]] for ci in range(n)]
        self.max_window = max([w[3] for w in self.windows], default=0)
        # effects, modes, per-command numbers
        self.effect = []
        self.need_mode = []
        self.sets_mode = []
        for d in defs:
            if d.effect == "open":
                self.effect.append(EFF_OPEN_ALL if d.scope == "channel" else EFF_OPEN)
            elif d.effect == "close":
                self.effect.append(EFF_CLOSE_ALL if d.scope == "channel" else EFF_CLOSE)
            else:
                self.effect.append(EFF_NONE)
            self.need_mode.append({"bank": MODE_BANK, "reg": MODE_REG}.get(d.mode, -1))
            self.sets_mode.append({"bank": MODE_BANK, "reg": MODE_REG}.get(d.sets_mode or "", -1))
        self.done = [cfg.done[name] for name in self.names]
        # a command can be collapsed into a closed-form run when only its own spacing binds after the first one
        self.runnable = [not self.win_fol[ci] and not self.win_pre[ci] and self.effect[ci] == EFF_NONE
                         and self.sets_mode[ci] < 0 for ci in range(n)]

    def cross(self, p: int, pb: int, f: int, fb: int) -> int:
        """The largest latency by which command ``p`` at bank ``pb`` raises an earliest slot of command ``f`` at
        bank ``fb`` (``-1`` = channel-wide), or :data:`NO_CROSS` if it raises none: issuing ``p`` at ``t`` makes
        ``f`` at ``fb`` wait until at least ``t + cross`` by the slots (the bus aside)."""
        return self.cross_row(f, fb).get(p * (self.banks + 1) + pb + 1, NO_CROSS)

    def cross_row(self, f: int, fb: int) -> dict[int, int]:
        """:meth:`cross` into command ``f`` at bank ``fb`` from every command that raises one of its slots, keyed
        by the counter index ``p * (banks + 1) + pb + 1`` of the raising command (missing: it raises none)."""
        row = self._cross_rows[f][fb + 1]
        if row is None:
            if self._writers is None:     # slot -> [(counter index, latency)] of every update, built once
                self._writers = [[] for _ in range(self.size)]
                b1 = self.banks + 1
                for p, per_bank in enumerate(self.upd):
                    for k, groups in enumerate(per_bank):
                        for lat, slots in groups or ():
                            for i in slots:
                                self._writers[i].append((p * b1 + k, lat))
            row = {}
            for i in self.earl[f][fb + 1]:
                for pk, lat in self._writers[i]:
                    if row.get(pk, NO_CROSS) < lat:
                        row[pk] = lat
            self._cross_rows[f][fb + 1] = row
        return row

    def _slot(self, lv: int, f: int, b: int, slots) -> int:
        if lv == 0:
            return slots[0][f]
        if lv == 1:
            return self.bg_base + (b // self.bpg) * self.n_bg + slots[1][f]
        return self.bank_base + b * self.n_bank + slots[2][f]


SCOPE_LEVEL = {"channel": 0, "bankgroup": 1, "bank": 2}
#: CompiledRules.cross of a command that raises none of the other's slots
NO_CROSS = -(1 << 60)


def _update_function(groups):
    """``f(nxt, t)`` raising ``nxt[i]`` to ``t + latency`` for every ``(latency, (i, ...))`` of ``groups``: the
    same updates as a loop over the table, written out as straight-line code (CPython runs it about twice as
    fast; this is the hot path of command mode). Generated from the compiled table, so the table stays the only
    source of timing."""
    if groups is None:
        return None
    f = _UPDATE_FUNCTIONS.get(groups)
    if f is not None:
        return f
    lines = ["def f(nxt, t):"]
    for lat, slots in groups:
        lines.append(f"    v = t + {int(lat)}")
        for i in slots:
            lines.append(f"    if nxt[{int(i)}] < v: nxt[{int(i)}] = v")
    if len(lines) == 1:
        lines.append("    pass")
    scope: dict = {}
    exec(compile("\n".join(lines), "<dram rule updates>", "exec"), scope)  # noqa: S102 - integers from the table
    if len(_UPDATE_FUNCTIONS) > 20_000:
        _UPDATE_FUNCTIONS.clear()
    f = _UPDATE_FUNCTIONS[groups] = scope["f"]
    return f


#: generated update functions by their table (DRAM systems of one configuration share them: sweeps, tests)
_UPDATE_FUNCTIONS: dict = {}


class ChannelState:
    """Timing and row-buffer state of one channel plus its command counters and (optional) command trace.

    Counters: ``counts[ci * (banks + 1) + bank + 1]`` issues of command ``ci`` at ``bank`` (``-1``: channel-wide).
    Background power needs the cycles with at least one open row: ``open_since``/``open_cycles``.
    """

    __slots__ = ("rules", "ch", "nxt", "last", "hist", "open_row", "n_open", "all_row", "mode", "counts",
                 "done", "open_since", "open_cycles", "trace", "banks", "b1", "apply_upd", "earl", "win_fol", "special",
                 "done_cycles", "bus_gap")

    def __init__(self, rules: CompiledRules, ch: int, start: int = 0):
        self.rules = rules
        self.ch = ch
        self.banks = rules.banks
        self.b1 = rules.banks + 1
        self.apply_upd, self.earl, self.win_fol = rules.apply_upd, rules.earl, rules.win_fol
        self.done_cycles, self.bus_gap = rules.done, rules.bus_gap
        self.special = [bool(rules.win_pre[c]) or rules.effect[c] != EFF_NONE or rules.sets_mode[c] >= 0
                        for c in range(len(rules.names))]
        self.nxt = [start] * rules.size
        self.last = start - rules.bus_gap
        self.hist = [[] for _ in rules.windows]
        self.open_row = [-1] * rules.banks
        self.n_open = 0
        self.all_row = -1
        self.mode = MODE_BANK
        self.counts = [0] * (len(rules.names) * (rules.banks + 1))
        self.done = start
        self.open_since = -1
        self.open_cycles = 0
        self.trace: list | None = None

    def earliest(self, ci: int, bank: int) -> int:
        """Earliest cycle at which the rules allow command ``ci`` at ``bank`` (``-1`` for channel commands)."""
        nxt = self.nxt
        e = self.last + self.bus_gap
        for i in self.earl[ci][bank + 1]:
            if nxt[i] > e:
                e = nxt[i]
        if self.win_fol[ci]:
            for k, lat, w in self.win_fol[ci]:
                h = self.hist[k]
                if len(h) >= w and h[-w] + lat > e:
                    e = h[-w] + lat
        return e

    def issue(self, ci: int, bank: int, row: int, col: int, t: int) -> None:
        """Apply command ``ci`` issued at cycle ``t``: timing, row state, mode, counters, trace."""
        self.apply_upd[ci][bank + 1](self.nxt, t)
        self.last = t
        if self.special[ci]:
            self._special(ci, bank, row, t)
        self.counts[ci * self.b1 + bank + 1] += 1
        d = t + self.done_cycles[ci]
        if d > self.done:
            self.done = d
        if self.trace is not None:
            self.trace.append((t, self.ch, bank, ci, row, col))

    def _special(self, ci: int, bank: int, row: int, t: int) -> None:
        rules = self.rules
        if rules.win_pre[ci]:
            for k, w in enumerate(rules.windows):
                if ci in w[0]:
                    h = self.hist[k]
                    h.append(t)
                    if len(h) > w[3]:
                        del h[0]
        eff = rules.effect[ci]
        if eff:
            self._effect(eff, bank, row, t)
        m = rules.sets_mode[ci]
        if m >= 0:
            self.mode = m

    def issue_run(self, ci: int, bank: int, row: int, cols, t0: int, n: int, gap: int) -> int:
        """Apply ``n`` back-to-back identical column commands, the k-th at ``t0 + k * gap`` (closed form).

        Valid when the caller has checked that nothing but the command's own spacing binds after the first one
        (``CompiledRules.gap``): timing updates are monotone maxima, so applying the last command's update once
        gives the same state as applying all ``n``. ``cols`` is the first column (consecutive columns follow) or
        a list of ``n`` columns. Returns the cycle of the last command.
        """
        t_last = t0 + (n - 1) * gap
        self.apply_upd[ci][bank + 1](self.nxt, t_last)
        self.last = t_last
        self.counts[ci * self.b1 + bank + 1] += n
        d = t_last + self.done_cycles[ci]
        if d > self.done:
            self.done = d
        if self.trace is not None:
            ch = self.ch
            if isinstance(cols, int):
                step = 1 if cols >= 0 else 0  # commands without a column keep -1
                self.trace.extend((t0 + k * gap, ch, bank, ci, row, cols + step * k) for k in range(n))
            else:
                self.trace.extend((t0 + k * gap, ch, bank, ci, row, cols[k]) for k in range(n))
        return t_last

    def _effect(self, eff: int, bank: int, row: int, t: int) -> None:
        was_open = self.n_open > 0
        rows = self.open_row
        if eff == EFF_OPEN:
            if rows[bank] >= 0:
                raise SimulationError(f"channel {self.ch}: ACT to bank {bank} with row {rows[bank]} open")
            rows[bank] = row
            self.n_open += 1
            self.all_row = row if self.n_open == self.banks and rows.count(row) == self.banks else -1
        elif eff == EFF_OPEN_ALL:
            if self.n_open:
                raise SimulationError(f"channel {self.ch}: all-bank ACT with {self.n_open} banks open")
            for b in range(self.banks):
                rows[b] = row
            self.n_open = self.banks
            self.all_row = row
        elif eff == EFF_CLOSE:
            if rows[bank] >= 0:
                rows[bank] = -1
                self.n_open -= 1
            self.all_row = -1
        else:
            for b in range(self.banks):
                rows[b] = -1
            self.n_open = 0
            self.all_row = -1
        now_open = self.n_open > 0
        if now_open and not was_open:
            self.open_since = t
        elif was_open and not now_open:
            self.open_cycles += t - self.open_since
            self.open_since = -1

    def open_cycles_until(self, t: int) -> int:
        """Cycles with at least one open row from the channel's start until cycle ``t``."""
        extra = t - self.open_since if self.open_since >= 0 and t > self.open_since else 0
        return self.open_cycles + extra

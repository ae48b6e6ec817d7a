"""The per-channel memory controller: PIM instructions in order, ordinary requests FR-FCFS, all-bank refresh.

The controller is a state machine over the channel state. ``decide()`` looks at the current instruction (or the
FR-FCFS window) and the row-buffer/mode state, picks the next DRAM command and its issue cycle ``t =
max(earliest-by-rules, ready)``; ``commit()`` applies it. Both fidelities run this same code:

* command mode: the kernel runs one event per command, at its issue cycle (``decide`` right after each commit;
  while a multi-column instruction streams in an open row, or FR-FCFS serves one group's row hits, only the
  issue cycle is recomputed). Without a trace, ``commit`` defers the timing update, count and done cycle of a
  plain command (no row, mode or window effect) while the same command follows: timing updates are maxima, so
  applying the last one equals applying each, and until then the next decision needs only the command's own
  spacing (``CompiledRules.gap``) and, for the other queued groups, its cross latencies
  (``CompiledRules.cross_row``); any other decision applies it first (``_apply_pending``). An FR-FCFS window's
  plan (the command each group needs) is kept until a command changes the rows or mode or a group enters or
  empties (``_plan``), and its groups' earliest cycles while the timing state stays;
* burst mode: when the next command is a column command that repeats (the n MAC16 of a MAC_ABK in an open
  row, WRGB of a WR_GB, reads of a window that all hit one row), ``decide`` returns the whole run: after the first
  command only the command's own spacing ``gap`` binds (the other constraints are fixed maxima already met), so
  command k issues at ``t0 + k * gap``. The run stops before the first command that would reach the refresh due
  cycle, exactly where command mode would start the refresh. A run is one kernel event.
* burst mode, :class:`DramBlock` and :class:`DramRepeat`: executed eagerly in one event (the channel is
  independent of the others until a SYNC, and blocks contain none) from the block memo of
  :mod:`archsim.cyclesim.dram.engine` (``decide`` returns ``S_BLOCK`` / ``S_REPEAT``). With ``fast_repeat=False`` and in
  command mode a repeat is expanded into its blocks.
* burst mode, a ``MEMO`` hint at the top level of the program: ``decide`` returns ``S_TAIL`` and the engine runs
  the rest of the barrier segment from its tail memo (or simulates and records it); elsewhere the hint is skipped.

Refresh (``refresh: all_bank``): when the next command would issue at or after the due cycle, the controller
first leaves register mode if needed, precharges all banks (PREA) if any row is open and issues REFab, each at
the earliest cycle the rules allow from the due cycle on; the due cycle then advances by nREFI. The refresh
commands are *not* held back by ``ready`` (the end of a DELAY, a SYNC release, the start of a run): a refresh
that fell due while the channel was idle issues at its due cycle, and an idle gap of k x nREFI holds k refreshes
at their due cycles instead of a pile of back-to-back ones in front of the next command. Refresh is decided when
the channel next wants a command (so those commands may lie before the kernel's current time; channels are
independent, so this changes nothing else), and idle refreshes do not delay a SYNC release, a DELAY or the end of
a run.
"""

from __future__ import annotations

import copy
from collections import deque

from archsim.base.errors import SimulationError
from archsim.cyclesim.dram.channel import MODE_BANK, MODE_REG, NO_CROSS, ChannelState, CompiledRules
from archsim.cyclesim.dram.program import (OP_ACT, OP_AF, OP_ARRIVE, OP_COPY_BKGB, OP_COPY_GBBK, OP_DELAY, OP_EWMUL, OP_MAC_ABK, OP_MAC_SBK, OP_MEMO, OP_NAMES,
                                   OP_PRE, OP_RD, OP_RD_AF, OP_RD_MAC, OP_RD_SBK, OP_SYNC, OP_WR, OP_WR_ABK,
                                   OP_WR_BIAS, OP_WR_GB, OP_WR_SBK, DramBlock, DramRepeat)

S_CMD, S_SYNC, S_END, S_BLOCK, S_BLOCK_END, S_REPEAT, S_TAIL = range(7)
K_PREP, K_COL, K_ONE, K_REQ, K_REF = range(5)
_END_FRAME = object()


class ChannelController:
    """Controller + state of one channel. ``items`` is the channel's instruction list (tuples and blocks)."""

    __slots__ = ("st", "rules", "cfg", "burst", "ch", "frames", "items", "pos", "ready", "ref_due", "refresh",
                 "nrefi", "q", "win", "wn", "seq", "c_op", "c_bank", "c_row", "c_col", "c_left", "p_ci", "p_bank",
                 "p_row", "p_col", "p_t", "p_n", "p_kind", "p_e", "p_block", "stop_depth", "instr_cmd", "ci",
                 "refreshes", "row_acc", "slack", "p_idx", "stream", "ci_rd", "ci_wr", "ci_act", "ci_pre",
                 "fast_repeat", "base", "timed", "bases", "plan", "plan_e", "own_e", "pend_n", "pend_t", "pend_gap",
                 "defer", "rival", "rival_for")

    #: keep an FR-FCFS window's plan while it holds (False: work it out at every decision, the reference the
    #: tests compare with)
    keep_plan = True

    def __init__(self, rules: CompiledRules, ch: int, *, burst: bool, start: int = 0, fast_repeat: bool = True):
        cfg = rules.cfg
        self.rules = rules
        self.cfg = cfg
        self.st = ChannelState(rules, ch, start)
        self.burst = burst
        self.fast_repeat = burst and fast_repeat   # DramRepeat in closed form (else expanded into blocks)
        self.ch = ch
        self.frames: list = []
        self.items: list | tuple = ()
        self.pos = 0
        self.ready = start
        self.base = start     # host base of ARRIVE offsets: the run's start, or 1 after the last SYNC release
        self.bases = [start]  # this run's host bases, one per barrier segment (the AiM host model reads them)
        self.timed = False    # an ARRIVE was seen: queued requests carry arrival cycles (no closed-form runs)
        self.refresh = cfg.refresh
        self.nrefi = cfg.timings["nREFI"]
        self.ref_due = start + self.nrefi if self.refresh else 1 << 62
        self.q = cfg.queue_entries
        # the FR-FCFS queue, grouped: (op, bank, row) -> deque of (arrival seq, col), oldest first; wn entries
        self.win: dict[tuple, deque] = {}
        self.wn = 0
        self.seq = 0
        self.plan: list | None = None   # the window's FR-FCFS plan while it holds (_decide_window, _plan)
        self.plan_e: list | None = None  # and its groups' earliest cycles by the rules while the state holds
        self.own_e: int | None = None    # and the streaming command's (see decide)
        # command mode: the update of the last ``pend_n`` plain commands (the same command at the same bank,
        # the last at ``pend_t``) is not applied yet (see commit and decide); ``pend_gap`` is that command's
        # self-spacing
        self.pend_n = self.pend_t = self.pend_gap = 0
        self.defer = False   # set for a run in command mode without a trace (DramSystem): commit may defer
        self.rival: tuple | None = None       # the other queued group while two stream (see _rival)
        self.rival_for: tuple | None = None   # (plan, key, rival) of the last _rival
        self.c_op = self.c_bank = self.c_row = self.c_col = -1
        self.c_left = 0
        self.p_block = None
        self.stop_depth = -1
        self.refreshes = 0
        self.row_acc = cfg.row_accesses
        self.slack: list | None = None
        self.p_idx = 0
        self.stream = False
        std = cfg.standard
        idx = rules.index
        self.ci = {role: idx[name] for role, name in std.roles.items()}
        self.ci_rd, self.ci_wr, self.ci_act, self.ci_pre = (self.ci[k] for k in ("read", "write", "open", "close"))
        self.instr_cmd = [-1] * len(OP_NAMES)
        for name, cmd in std.instructions.items():
            self.instr_cmd[OP_NAMES.index(name)] = idx[cmd]
        self.instr_cmd[OP_RD] = idx[std.roles["read"]]
        self.instr_cmd[OP_WR] = idx[std.roles["write"]]

    # -- program ------------------------------------------------------------------------------------------------
    def load(self, items) -> None:
        self.items = items
        self.pos = 0
        self.frames = []

    def open_cycles_until(self, t: int) -> int:
        """Cycles with at least one open row from the start until ``t``, counting the refreshes that fall due
        before ``t`` while the channel idles: they close the rows at their (due) cycles although the controller
        issues them only when it next decides a command. For ``t`` up to the channel's next command (the start
        or end of a run, idle time between runs)."""
        return self.open_cycles_at((t,))[0]

    def open_cycles_at(self, ts) -> list[int]:
        """:meth:`open_cycles_until` for each of the increasing cycles ``ts``."""
        st = self.st
        if not st.n_open or self.ref_due >= ts[-1]:
            return [st.open_cycles_until(t) for t in ts]
        if st.mode == MODE_BANK:    # the sequence starts with the PREA that closes every row
            at = self._refresh_command(st)[1]
            return [st.open_cycles_until(t if t <= at else at) for t in ts]
        probe = copy.copy(st)       # play the pending refresh sequence up to its PREA on a copy
        probe.nxt, probe.open_row, probe.counts = list(st.nxt), list(st.open_row), list(st.counts)
        probe.hist, probe.trace = [list(h) for h in st.hist], None
        out = []
        for t in ts:
            while probe.n_open:
                c, at, _e = self._refresh_command(probe)
                if at >= t:
                    break
                probe.issue(c, -1, -1, -1, at)
            out.append(probe.open_cycles_until(t))
        return out

    def _fetch(self):
        while True:
            items = self.items
            if self.pos < len(items):
                self.pos += 1
                return items[self.pos - 1]
            if not self.frames:
                return None
            self.items, self.pos = self.frames.pop()
            return _END_FRAME

    def push_block(self, blk: DramBlock) -> None:
        self.frames.append((self.items, self.pos))
        self.items = blk.instrs
        self.pos = 0

    def _refill(self) -> None:
        items, win = self.items, self.win
        pos, wn, seq = self.pos, self.wn, self.seq
        n_items, room = len(items), self.q - wn
        arr = 0
        added = 0
        while pos < n_items and added < room:
            nxt = items[pos]
            if type(nxt) is not tuple:
                break
            if nxt[0] == OP_ARRIVE:   # an arrival cycle for the request that follows (AiM host decode)
                if pos + 1 >= n_items or type(items[pos + 1]) is not tuple or items[pos + 1][0] > OP_WR:
                    break             # it belongs to a PIM instruction: the window ends here
                self.timed = True
                arr = self.base + nxt[4]
                pos += 1
                nxt = items[pos]
            elif nxt[0] > OP_WR:
                break
            key = nxt[:3]
            group = win.get(key)
            if group is None:
                group = win[key] = deque()
                self.plan = None
            group.append((seq, nxt[3], arr))
            seq += 1
            pos += 1
            added += 1
        self.wn += added
        self.pos, self.seq = pos, seq

    # -- decisions ----------------------------------------------------------------------------------------------
    def decide(self) -> int:
        """Choose the next command (sets ``p_*``) or report SYNC / END / BLOCK / end of the block being run."""
        if self.stream:
            # command mode, next column of the same instruction in the same open row, or the next request of
            # the only queued group of row hits: nothing but timing can have changed since the last decision,
            # so only the issue cycle is recomputed (the same result as the full decision below)
            self.stream = False
            st = self.st
            c, b = self.p_ci, self.p_bank
            e = self.own_e    # the slots' part stays while the command's own update is deferred
            if e is None:
                nxt = st.nxt
                e = 0
                for i in st.earl[c][b + 1]:
                    if nxt[i] > e:
                        e = nxt[i]
                if not self.burst:
                    self.own_e = e
            bus = st.last + st.bus_gap
            if bus > e:
                e = bus
            if self.pend_n:   # the updates not applied yet are this command's own: they bind by its spacing
                g = self.pend_t + self.pend_gap
                if g > e:
                    e = g
            t = e if e > self.ready else self.ready
            full = False
            if self.wn:
                ent = self.win[self.p_idx][0]
                if ent[2] > t:
                    t = ent[2]
                rv = self.rival
                if rv is not None:   # another group is queued: it cannot issue before pend_t + rv[0]
                    lim = self.pend_t + rv[0]
                    full = t > lim or t == lim and not rv[1] and rv[2][0][0] < ent[0]
            if t < self.ref_due and not full and not st.win_fol[c]:
                if self.wn:   # the FR-FCFS queue holds one group (the one just served): its oldest is next
                    self.p_col = ent[1]
                else:
                    self.p_col = self.c_col
                self.p_t, self.p_e = t, e
                return S_CMD
        self.own_e = None   # (it is the streaming command's, and another may be chosen now)
        if self.wn:   # requests are queued: FR-FCFS (the loop below would come to the same call)
            return self._decide_window()
        if self.pend_n:
            self._apply_pending()
        while True:
            if self.c_left <= 0 and not self.wn:
                item = self._fetch()
                if item is None:
                    return S_END
                if item is _END_FRAME:
                    if len(self.frames) < self.stop_depth:
                        return S_BLOCK_END
                    continue
                if type(item) is DramBlock:
                    if self.burst and self.stop_depth < 0:
                        self.p_block = item
                        return S_BLOCK
                    self.push_block(item)
                    continue
                if type(item) is DramRepeat:
                    if self.fast_repeat and self.stop_depth < 0:
                        self.p_block = item
                        return S_REPEAT
                    self.frames.append((self.items, self.pos))
                    self.items, self.pos = item.blocks(), 0
                    continue
                op = item[0]
                if op <= OP_WR:
                    self.pos -= 1   # let _refill queue it with the ones that follow
                    self._refill()
                elif op == OP_SYNC:
                    return S_SYNC
                elif op == OP_ARRIVE:   # the next item reaches the controller at base + k
                    t = self.base + item[4]
                    if t > self.ready:
                        self.ready = t
                    continue
                elif op == OP_MEMO:   # burst mode, top level: the engine may memoize the rest of the segment
                    if self.burst and self.stop_depth < 0 and not self.frames:
                        return S_TAIL
                    continue
                elif op == OP_DELAY:
                    st = self.st
                    self.ready = max(st.done, self.ready, st.last + self.rules.bus_gap) + item[4]
                    continue
                else:
                    self.c_op, self.c_bank, self.c_row, self.c_col, self.c_left = item
                    continue
            if self.wn:
                return self._decide_window()
            if self._decide_pim():
                return S_CMD

    def _apply_pending(self) -> None:
        """Apply the deferred update (timing, count, done cycle) of the last plain commands (see :meth:`commit`)."""
        st = self.st
        c, b = self.p_ci, self.p_bank
        t = self.pend_t
        st.apply_upd[c][b + 1](st.nxt, t)   # timing updates are maxima: the last one covers them all
        st.counts[c * st.b1 + b + 1] += self.pend_n
        d = t + st.done_cycles[c]
        if d > st.done:
            st.done = d
        self.pend_n = 0
        self.plan_e = self.own_e = None

    def _decide_pim(self) -> bool:
        st = self.st
        op = self.c_op
        ci = self.ci
        x = self.instr_cmd[op]
        if op == OP_ACT or op == OP_PRE:
            x = ci["open"] if op == OP_ACT else ci["close"]
        need = self.rules.need_mode[x] if x >= 0 else MODE_BANK
        if need >= 0 and st.mode != need:
            return self._emit(ci["mode_reg"] if need == MODE_REG else ci["mode_bank"], -1, -1, -1, 1, K_PREP)
        row = self.c_row
        if op == OP_MAC_ABK or op == OP_EWMUL or op == OP_AF or op == OP_WR_ABK:
            if x < 0:
                raise SimulationError(f"{OP_NAMES[op]} needs a PIM standard (timing_preset GDDR6_AiM), "
                                      f"not {self.cfg.standard.name}")
            if st.all_row != row:
                if st.n_open:
                    return self._emit(ci["close_all"], -1, -1, -1, 1, K_PREP)
                return self._emit(ci["open_all"], -1, row, -1, 1, K_PREP)
            if op == OP_AF:
                return self._emit(x, -1, row, -1, 1, K_ONE)
            if op == OP_WR_ABK:  # auto-precharge: one command closes every bank
                return self._emit(x, -1, row, self.c_col, 1, K_ONE)
            n = min(self.c_left, self.row_acc - self.c_col)
            return self._emit(x, -1, row, self.c_col, n, K_COL)
        if op == OP_WR_GB or op == OP_RD_MAC or op == OP_WR_BIAS or op == OP_RD_AF:
            if x < 0:
                raise SimulationError(f"{OP_NAMES[op]} needs a PIM standard (timing_preset GDDR6_AiM), "
                                      f"not {self.cfg.standard.name}")
            return self._emit(x, -1, -1, self.c_col if op == OP_WR_GB else -1, self.c_left, K_COL)
        b = self.c_bank
        if op == OP_MAC_SBK or op == OP_RD_SBK or op == OP_WR_SBK or op == OP_COPY_BKGB or op == OP_COPY_GBBK:
            if x < 0:
                raise SimulationError(f"{OP_NAMES[op]} needs a PIM standard (timing_preset GDDR6_AiM)")
            orow = st.open_row[b]
            if orow != row:
                if orow >= 0:
                    return self._emit(ci["close"], b, -1, -1, 1, K_PREP)
                return self._emit(ci["open"], b, row, -1, 1, K_PREP)
            n = min(self.c_left, self.row_acc - self.c_col)
            return self._emit(x, b, row, self.c_col, n, K_COL)
        if op == OP_ACT:
            if b < 0:
                if "open_all" not in ci:
                    raise SimulationError(f"an all-bank ACT needs a PIM standard, not {self.cfg.standard.name}")
                if st.n_open:
                    return self._emit(ci["close_all"], -1, -1, -1, 1, K_PREP)
                return self._emit(ci["open_all"], -1, row, -1, 1, K_ONE)
            orow = st.open_row[b]
            if orow == row:
                self.c_left = 0
                return False
            if orow >= 0:
                return self._emit(ci["close"], b, -1, -1, 1, K_PREP)
            return self._emit(ci["open"], b, row, -1, 1, K_ONE)
        if op == OP_PRE:
            if b < 0:
                return self._emit(ci["close_all"], -1, -1, -1, 1, K_ONE)
            if st.open_row[b] < 0:
                self.c_left = 0
                return False
            return self._emit(ci["close"], b, -1, -1, 1, K_ONE)
        raise SimulationError(f"instruction {OP_NAMES[op]} cannot be issued")  # pragma: no cover

    def _decide_window(self) -> int:
        """FR-FCFS over the queued requests: earliest issue cycle first, then row hits, then the oldest.

        Requests with the same (op, bank, row) need the same command at the same cycle, so only the oldest of
        each group competes; that is the per-request FR-FCFS choice at a fraction of the work. Which command
        each group needs (column, ACT or PRE; a PRE is never chosen for a bank with a queued hit) depends only on
        the open rows and the set of groups, so the controller keeps that :meth:`_plan` until a command changes
        the rows or mode (``special``) or a group appears or empties (``keep_plan``; burst mode too: its memos
        change rows only while no request is queued), and the groups' earliest cycles while the timing state
        stays; each decision then only compares issue cycles. A deferred update of the last requests
        (``pend_n``, see :meth:`commit`) is taken into account through each group's cross latencies (the
        largest latency by which that command raises the group's earliest slots, :meth:`CompiledRules.cross`),
        and applied before any other command is chosen.
        """
        st = self.st
        if st.mode != MODE_BANK:
            if self.pend_n:
                self._apply_pending()
            self._emit(self.ci["mode_bank"], -1, -1, -1, 1, K_PREP)
            return S_CMD
        plan = self.plan
        ec = self.plan_e
        if plan is None:
            plan = self._plan()
            ec = None
            if self.keep_plan:
                self.plan = plan
        if ec is None:  # (the timing state stays while the last requests' update is deferred)
            nxt, earl, win_fol = st.nxt, st.earl, st.win_fol
            ec = []
            for entry in plan:
                c, b = entry[1], entry[2]
                if win_fol[c]:
                    ec.append(st.earliest(c, b))
                else:   # st.earliest without the bus and the window rules, inline
                    e = 0
                    for i in earl[c][b + 1]:
                        if nxt[i] > e:
                            e = nxt[i]
                    ec.append(e)
            if self.keep_plan:
                self.plan_e = ec
        ready = self.ready
        bus = st.last + st.bus_gap
        pend = self.pend_n
        if pend:
            pk = self.p_ci * st.b1 + self.p_bank + 1
            pt = self.pend_t
        best = None
        best_t = best_hit = best_seq = best_e = best_a = 0
        for entry, e in zip(plan, ec):
            if e < bus:
                e = bus
            if pend:    # (window rules read only the ACT history, which the deferred update leaves alone)
                lat = pt + entry[5].get(pk, NO_CROSS)
                if lat > e:
                    e = lat
            t = e if e > ready else ready
            seq, _col, arr = entry[4][0]
            if arr > t:
                t = arr
            hit = entry[3]
            if best is None or t < best_t or (t == best_t and (hit < best_hit or hit == best_hit and seq < best_seq)):
                best, best_t, best_hit, best_seq, best_e, best_a = entry, t, hit, seq, e, arr
        key, c, b, _hit, group, _cross = best
        if pend and (c != self.p_ci or b != self.p_bank or best_t >= self.ref_due):
            self._apply_pending()   # another command next: the state must be whole
        if c == self.ci_act:   # (not before the request arrived: best_a)
            return self._emit(c, b, key[2], -1, 1, K_PREP, best_e, best_a) and S_CMD
        if c == self.ci_pre:
            return self._emit(c, b, -1, -1, 1, K_PREP, best_e, best_a) and S_CMD
        self.p_idx = key  # which queued group the column command serves (its oldest request)
        if self.burst:
            return self._emit(c, b, key[2], group[0][1], self._window_run(key), K_REQ, best_e, best_a) and S_CMD
        if best_t >= self.ref_due:
            return self._emit_refresh() and S_CMD
        # = self._emit(c, b, r, col, 1, K_REQ, best_e), the common case inline
        self.p_ci, self.p_bank, self.p_row, self.p_col, self.p_t, self.p_n, self.p_kind, self.p_e = \
            c, b, key[2], group[0][1], best_t, 1, K_REQ, best_e
        return S_CMD

    def _rival(self, key: tuple) -> tuple:
        """With the plan's two groups, the one just served (``key``, a row hit, its command's update deferred)
        and another: ``(lat, hit, group)`` of the other, ``lat`` the least it waits after the deferred command
        (its cross latency, at least the bus spacing), so the served group's next request issues first if it
        can issue before ``pend_t + lat`` (or at it, winning the tie: the other is no hit or is younger); None
        if the plan is not that. Returns and keeps ``(plan, key, rival)`` (commit reuses it for the plan)."""
        plan = self.plan
        mine = [e for e in plan if e[0] == key]
        others = [e for e in plan if e[0] != key]
        rv = None
        if len(mine) == 1 and not mine[0][3]:
            if not others:        # the other group waits for a PRE that would close the served row
                rv = (1 << 62, 1, None)
            elif len(others) == 1:
                y = others[0]
                lat = y[5].get(mine[0][1] * self.st.b1 + mine[0][2] + 1, NO_CROSS)
                rv = (max(lat, self.rules.bus_gap), y[3], y[4])
        self.rival_for = rf = (plan, key, rv)
        return rf

    def _plan(self) -> list[tuple]:
        """Per queued group (oldest first): ``(key, command, bank, hit, group, cross)``, ``hit`` 0 for a row hit
        (the column command) and 1 for the ACT or PRE it needs; groups whose PRE would close a row another queued
        group hits are left out. ``cross`` is :meth:`CompiledRules.cross_row` of the group's command when
        updates may be deferred (``defer``: a deferred update is accounted for through it), else None."""
        st = self.st
        rules = self.rules
        orow = st.open_row
        ci_rd, ci_wr, ci_act, ci_pre = self.ci_rd, self.ci_wr, self.ci_act, self.ci_pre
        protected = None
        rows = []
        for key, group in self.win.items():
            op, b, r = key
            o = orow[b]
            if o == r:
                c = ci_rd if op == OP_RD else ci_wr
                hit = 0
            elif o < 0:
                c = ci_act
                hit = 1
            else:
                if protected is None:
                    protected = {k[1] for k in self.win if orow[k[1]] == k[2]}
                if b in protected:
                    continue
                c = ci_pre
                hit = 1
            rows.append((key, c, b, hit, group))
        if not self.defer:    # (nothing is deferred: the cross latencies are not read)
            return [row + (None,) for row in rows]
        return [row + (rules.cross_row(row[1], row[2]),) for row in rows]

    def _window_run(self, key: tuple) -> int:
        """How many oldest-first hits to one row FR-FCFS will issue back to back from here (burst mode)."""
        if len(self.win) != 1 or self.wn < 2 or self.timed:
            return 1
        op, b, r = key
        m = self.wn
        items, pos = self.items, self.pos
        while pos < len(items):
            q = items[pos]
            if type(q) is not tuple or q[0] > OP_WR:
                return m  # the window ends after the matching requests
            if q[0] != op or q[1] != b or q[2] != r:
                return max(1, m - self.q + 1)  # a different request enters the queue after m - q + 1 issues
            m += 1
            pos += 1
        return m

    def _emit(self, c: int, b: int, row: int, col: int, n: int, kind: int, e: int | None = None,
              arrival: int = 0) -> bool:
        """Decide command ``c`` (``n`` of them in burst mode when they form a closed-form run); ``e``: its
        earliest cycle by the rules if the caller has it; not before ``arrival`` (when the request reached the
        controller). A refresh due by then is decided instead."""
        if e is None:
            e = self.st.earliest(c, b)
        t = e if e > self.ready else self.ready
        if arrival > t:
            t = arrival
        if t >= self.ref_due:
            return self._emit_refresh()
        if n > 1:
            if self.burst and self.rules.runnable[c]:
                gap = self.rules.gap[c][b + 1]
                left = -(-(self.ref_due - t) // gap)   # commands issued strictly before the refresh due cycle
                if left < n:
                    n = left
            else:
                n = 1
        self.p_ci, self.p_bank, self.p_row, self.p_col, self.p_t, self.p_n, self.p_kind, self.p_e = \
            c, b, row, col, t, n, kind, e
        return True

    def _emit_refresh(self) -> bool:
        c, t, e = self._refresh_command(self.st)
        self.p_ci, self.p_bank, self.p_row, self.p_col, self.p_t, self.p_n, self.p_kind, self.p_e = \
            c, -1, -1, -1, t, 1, K_REF, e
        return True

    def _refresh_command(self, st: ChannelState) -> tuple[int, int, int]:
        """The next command of the refresh sequence in state ``st``: (command, issue cycle, rule-earliest)."""
        ci = self.ci
        if st.mode != MODE_BANK:
            c = ci["mode_bank"]
        elif st.n_open:
            c = ci["close_all"]
        else:
            c = ci["refresh"]
        e = st.earliest(c, -1)
        return c, (e if e > self.ref_due else self.ref_due), e   # not held back by `ready`: idle refreshes on time

    # -- issue --------------------------------------------------------------------------------------------------
    def commit(self) -> int:
        """Issue the decided command (or run); returns the cycle of the last command issued."""
        st = self.st
        c, b, n, t, kind = self.p_ci, self.p_bank, self.p_n, self.p_t, self.p_kind
        if self.slack is not None:
            self.slack.append(t - self.p_e)
        if self.defer and n == 1 and not st.special[c]:
            # command mode defers the timing update, the count and the done cycle of a plain command: until the
            # next decision that is not the same command again (which applies them first, _apply_pending) only
            # this command's own spacing and its cross latencies can bind, and applying the latest update once
            # equals applying each (timing updates are maxima); the bus (st.last) moves now
            st.last = t
            if not self.pend_n:
                self.pend_gap = self.rules.gap[c][b + 1]
            self.pend_n += 1
            self.pend_t = t
            deferred = True
        else:
            deferred = False
            self.plan_e = self.own_e = None     # the timing state changes now
        if kind == K_REQ:
            key = self.p_idx
            win = self.win
            group = win[key]
            if n == 1:
                if deferred:
                    group.popleft()
                else:
                    st.issue(c, b, self.p_row, group.popleft()[1], t)
                    if st.special[c]:
                        self.plan = None
                if not group:
                    del win[key]
                    self.plan = None
                # one queue entry is free now: queue the next request if it is an ordinary one (= _refill)
                pos = self.pos
                try:
                    nxt = self.items[pos]
                except IndexError:
                    nxt = None
                if type(nxt) is tuple and nxt[0] <= OP_WR:
                    k = nxt[:3]
                    g = win.get(k)
                    if g is None:
                        g = win[k] = deque()
                        self.plan = None
                    seq = self.seq
                    g.append((seq, nxt[3], 0))
                    self.seq = seq + 1
                    self.pos = pos + 1
                else:
                    self.wn -= 1
                    if type(nxt) is tuple and nxt[0] == OP_ARRIVE:
                        self._refill()
                # command mode: if only this group is queued, FR-FCFS picks its next request (the same
                # command); with one other group, too unless that one can come first (decide checks _rival)
                if deferred and key in win:
                    nw = len(win)
                    if nw == 1:
                        self.stream = True
                        self.rival = None
                    elif nw == 2 and self.plan is not None:
                        rf = self.rival_for
                        if rf is None or rf[0] is not self.plan or rf[1] is not key:
                            rf = self._rival(key)
                        self.rival = rv = rf[2]
                        self.stream = rv is not None
                    else:
                        self.stream = False
                else:
                    self.stream = False
                return t
            else:  # the window is this one group; the run also serves requests not yet queued
                k = n - self.wn
                cols = [x[1] for x in group][:n]
                if k > 0:
                    cols += [q[3] for q in self.items[self.pos:self.pos + k]]
                    self.pos += k
                    self.seq += k
                    group.clear()
                    self.wn = 0
                else:
                    for _ in range(n):
                        group.popleft()
                    self.wn -= n
                t = st.issue_run(c, b, self.p_row, cols, t, n, self.rules.gap[c][b + 1])
            if not group:
                del self.win[key]
                self.plan = None
            self._refill()
            return t
        if self.plan is not None and st.special[c]:
            self.plan = None   # the open rows or the mode change: the FR-FCFS plan no longer holds
        if deferred:
            pass
        elif n == 1:
            st.issue(c, b, self.p_row, self.p_col, t)
        else:
            t = st.issue_run(c, b, self.p_row, self.p_col, t, n, self.rules.gap[c][b + 1])
        if kind == K_COL:
            self.c_left -= n
            if self.c_left > 0 and self.c_row >= 0:
                self.c_col += n
                if self.c_col >= self.row_acc:
                    self.c_row += 1
                    self.c_col = 0
                else:
                    self.stream = not self.burst
            else:
                if self.c_col >= 0:
                    self.c_col += n
                self.stream = self.c_left > 0 and not self.burst
        elif kind == K_ONE:
            self.c_left = 0
        elif kind == K_REF and c == self.ci["refresh"]:
            self.ref_due += self.nrefi
            self.refreshes += 1
        return t

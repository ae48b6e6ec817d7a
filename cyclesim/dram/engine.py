"""Kernel glue for one channel, and the burst-mode block memo.

How commands map to kernel events:

* command mode: exactly one event per DRAM command, at its issue cycle. The event commits the command, asks
  the controller for the next one and schedules it (a SYNC parks the channel; the barrier release is one event).
* burst mode: one event per *step*, where a step is a single command, a closed-form run of identical column
  commands (see :mod:`cyclesim.dram.controller`) or a whole :class:`~cyclesim.dram.program.DramBlock`.

A block is executed eagerly inside one event (channels interact only at SYNC, which blocks cannot contain) and
its effect is recorded relative to the block's start cycle ``base`` (the first cycle any of its commands could
issue) and its base row. The memo key is (block shape, channel state relative to ``base``): earliest-issue
slots, command-bus and window histories and completion time clamped at ``base`` (anything at or before ``base``
cannot bind), the open row of each bank relative to the block's base row if the block touches that row (``-1``
closed, ``-2`` a row the block does not touch), and the mode. Refresh is not in the key: an entry records the
offset of its last command and is applied only if the refresh due cycle lies beyond it; executions that
refreshed are not recorded.
"""

from __future__ import annotations

from cyclesim.dram.controller import S_BLOCK, S_BLOCK_END, S_CMD, S_END, S_SYNC, ChannelController
from cyclesim.kernel import Component

MEMO_LIMIT = 200_000  # entries per system; cleared when full (results stay exact, only speed changes)


class _Entry:
    __slots__ = ("last_rel", "nxt", "hist", "counts", "rows", "mode", "done_rel", "ready_rel", "open_acc",
                 "open_closed_initial", "open_since_rel", "trace", "rows_same")


class ChannelEngine(Component):
    __slots__ = ("ctl", "system")

    def __init__(self, sim, system, ctl: ChannelController):
        super().__init__(sim, f"dram.ch{ctl.ch}", "dram")
        self.ctl = ctl
        self.system = system

    def start(self, cycle: int) -> None:
        self.sim.schedule(cycle - self.sim.now, self.step)

    def fire(self, _arg) -> None:
        """Kernel event at a command's issue cycle: issue it, decide the next one and schedule it."""
        ctl = self.ctl
        ctl.commit()
        s = ctl.decide()
        if s == S_CMD:
            self.sim.schedule(ctl.p_t - self.sim.now, self.fire)
        else:
            self._other(s)

    def step(self, _arg) -> None:
        """Kernel event that only decides (channel start, after a SYNC release, after a block)."""
        s = self.ctl.decide()
        if s == S_CMD:
            self.sim.schedule(self.ctl.p_t - self.sim.now, self.fire)
        else:
            self._other(s)

    def _other(self, s: int) -> None:
        if s == S_BLOCK:
            t_end = self.run_block(self.ctl.p_block)
            self.sim.schedule(max(t_end - self.sim.now, 0), self.step)
        elif s == S_SYNC:
            self.system._arrive(self)
        elif s == S_END:
            self.system._finished(self)
        else:  # pragma: no cover
            raise AssertionError(f"unexpected controller status {s}")

    # -- blocks -------------------------------------------------------------------------------------------------
    def run_block(self, blk) -> int:
        """Run ``blk`` now (from the memo if possible); returns the cycle of its last command."""
        ctl = self.ctl
        st = ctl.st
        rules = ctl.rules
        base = max(ctl.ready, st.last + rules.bus_gap)
        shape, base_row = blk.shape, blk.row_base
        rel_rows = shape.rows(ctl.row_acc)[0]
        tracing = st.trace is not None
        key = (shape, tracing, self._rel_state(base, base_row, rel_rows))
        memo = self.system.memo
        ent = memo.get(key)
        if ent is not None and (ent.last_rel is None or ctl.ref_due - base > ent.last_rel):
            self.system.memo_hits += 1
            return self._apply(ent, base, base_row)
        self.system.memo_misses += 1
        # execute eagerly, recording what changed
        nxt0 = list(st.nxt)
        counts0 = list(st.counts)
        last0, done0, ready0, ref0 = st.last, st.done, ctl.ready, ctl.refreshes
        os0, acc0 = st.open_since, st.open_cycles
        tr0 = len(st.trace) if tracing else 0
        ctl.push_block(blk)
        ctl.stop_depth = len(ctl.frames)
        try:
            while True:
                s = ctl.decide()
                if s == S_CMD:
                    ctl.commit()
                elif s == S_BLOCK_END:
                    break
                else:  # pragma: no cover - SYNC is rejected when the block is built
                    raise AssertionError(f"unexpected status {s} inside a block")
        finally:
            ctl.stop_depth = -1
        if ctl.refreshes == ref0:
            self._record(key, base, base_row, rel_rows, nxt0, counts0, last0, done0, ready0, os0,
                         acc0, tr0)
        return st.last

    def _rel_state(self, base: int, base_row: int, rel_rows: frozenset) -> tuple:
        st = self.ctl.st
        rules = self.ctl.rules
        nxt = tuple([v - base if v > base else 0 for v in st.nxt])
        last = st.last + rules.bus_gap - base
        hist = tuple(tuple([h + w[2] - base if h + w[2] > base else 0 for h in st.hist[k]])
                     for k, w in enumerate(rules.windows))
        rows = tuple([-1 if r < 0 else (r - base_row if r - base_row in rel_rows else -2) for r in st.open_row])
        done = st.done - base if st.done > base else 0
        return nxt, last if last > 0 else 0, hist, rows, st.mode, done

    def _record(self, key, base, base_row, rel_rows, nxt0, counts0, last0, done0, ready0, os0, acc0,
                tr0) -> None:
        ctl = self.ctl
        st = ctl.st
        e = _Entry()
        e.last_rel = st.last - base if st.last != last0 else None
        e.nxt = [(i, v - base) for i, (v, v0) in enumerate(zip(st.nxt, nxt0)) if v != v0]
        # window histories hold issue cycles; those at or after base were appended by this block
        e.hist = [[x - base for x in h if x >= base] for h in st.hist]
        e.counts = [(i, v - v0) for i, (v, v0) in enumerate(zip(st.counts, counts0)) if v != v0]
        e.rows = tuple([-1 if r < 0 else (r - base_row if r - base_row in rel_rows else -2) for r in st.open_row])
        e.rows_same = e.rows[0] if e.rows.count(e.rows[0]) == len(e.rows) else None
        e.mode = st.mode
        e.done_rel = st.done - base if st.done != done0 else None
        e.ready_rel = ctl.ready - base if ctl.ready != ready0 else None
        if os0 >= 0 and st.open_since == os0:           # an interval open before the block is still open
            e.open_closed_initial, e.open_acc, e.open_since_rel = False, 0, None
        else:
            e.open_closed_initial = os0 >= 0
            e.open_acc = st.open_cycles - acc0 - ((base - os0) if os0 >= 0 else 0)
            e.open_since_rel = st.open_since - base if st.open_since >= 0 else None
        if st.trace is not None:
            e.trace = [(t - base, b, c, r - base_row if r >= 0 else -1, col) for t, _ch, b, c, r, col in st.trace[tr0:]]
        else:
            e.trace = None
        memo = self.system.memo
        if len(memo) >= MEMO_LIMIT:
            memo.clear()
        memo[key] = e

    def _apply(self, e: _Entry, base: int, base_row: int) -> int:
        ctl = self.ctl
        st = ctl.st
        nxt = st.nxt
        for i, r in e.nxt:
            v = base + r
            if nxt[i] < v:
                nxt[i] = v
        for k, new in enumerate(e.hist):
            if new:
                h = st.hist[k]
                h.extend(base + x for x in new)
                del h[:-ctl.rules.windows[k][3]]
        counts = st.counts
        for i, d in e.counts:
            counts[i] += d
        if e.last_rel is not None:
            st.last = base + e.last_rel
        open_row = st.open_row
        code = e.rows_same
        if code is not None and code != -2:   # every bank ends closed, or open on the same block row
            row = base_row + code if code >= 0 else -1
            open_row[:] = [row] * st.banks
            st.n_open = st.banks if row >= 0 else 0
            st.all_row = row
        else:
            for b, code in enumerate(e.rows):
                if code >= 0:
                    open_row[b] = base_row + code
                elif code == -1:
                    open_row[b] = -1
            st.n_open = st.banks - open_row.count(-1)
            r0 = open_row[0]
            st.all_row = r0 if r0 >= 0 and open_row.count(r0) == st.banks else -1
        st.mode = e.mode
        if e.done_rel is not None:
            st.done = base + e.done_rel
        if e.ready_rel is not None:
            ctl.ready = base + e.ready_rel
        if e.open_closed_initial:
            st.open_cycles += e.open_acc + (base - st.open_since)
            st.open_since = -1
        else:
            st.open_cycles += e.open_acc
        if e.open_since_rel is not None:
            st.open_since = base + e.open_since_rel
        if e.trace is not None and st.trace is not None:
            ch = st.ch
            st.trace.extend((base + t, ch, b, c, base_row + r if r >= 0 else -1, col) for t, b, c, r, col in e.trace)
        return st.last

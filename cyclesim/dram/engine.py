"""Kernel glue for one channel, and the burst-mode block memo with closed-form repeats.

How commands map to kernel events:

* command mode: exactly one event per DRAM command, at its issue cycle (a refresh that fell due while the
  channel was idle is issued when the channel wakes up, at its due cycle, so its event may run late). The event
  commits the command, asks the controller for the next one and schedules it (a SYNC parks the channel; the
  barrier release is one event).
* burst mode: one event per *step*, where a step is a single command, a closed-form run of identical column
  commands (see :mod:`archsim.cyclesim.dram.controller`), a whole :class:`~archsim.cyclesim.dram.program.DramBlock` or a whole
  :class:`~archsim.cyclesim.dram.program.DramRepeat`. When only one channel is simulated (channel symmetry, or a
  one-channel DRAM) the system runs the same steps in a loop without kernel events
  (``DramSystem._run_alone``).

Blocks and repeats are executed eagerly inside one event (channels interact only at SYNC, which blocks cannot
contain). A block's effect is recorded relative to its start cycle ``base`` (the first cycle any of its commands
could issue) and its base row. The *relative state key* is (block shape, channel state relative to ``base``):
earliest-issue slots, command bus, window histories and completion time clamped at ``base`` (anything at or
before ``base`` cannot bind), the open row of each bank relative to the block's base row if the block touches
that row (``ROW_CLOSED`` closed, ``ROW_OTHER`` a row the block does not touch: sentinels no relative row can
equal), and the mode. Applying an entry is exact because
every timing update is a monotone max of ``base + constant``. Two kinds of entries:

* plain, keyed by the relative state key: recorded from an execution whose commands all issued before the
  refresh due cycle (no refresh, not even its PREA); reused while the next refresh is due after the entry's
  last command (then the refresh cannot be triggered inside);
* refresh-phase, keyed by (relative state key, refresh due cycle - ``base``) for due cycles at or after
  ``base``: recorded from an execution that refreshed. The execution is a function of that pair, so it is exact
  too.

Keys are interned as integer ids (``DramSystem.key_ids``; ids are never reused, so a stale one only misses).

A repeat runs its instances through these entries. Each entry caches, per row stride, the key the next instance
will see and the start-to-start distance ``d`` (both are functions of the entry when the entry knows every open
row, i.e. no ``ROW_OTHER``). When that next key equals the entry's own key the repeat is in *steady state*: every further
instance takes ``d`` cycles and adds the same counters, so all m instances that end before the next refresh due
cycle are applied at once (counters times m, timing state of the last one, trace of each if recorded). An entry
whose successor is such a steady entry also caches *composites* (row strides >= 0): itself followed by m steady
instances, m being fixed by the refresh due cycle after it, recorded once (by the same diff as any entry) and
applied as one; so does an entry whose successor's successor is steady (itself, one plain instance, m steady
ones: a refresh instance, the first after it with every row closed, then the steady run). In steady state a
refresh interval is then one lookup of the refresh-phase entry of the instance the refresh falls into plus one
application of its composite, whatever the repeat count.
"""

from __future__ import annotations

from heapq import heappush
from itertools import compress
from itertools import repeat as _repeat
from operator import ne

from archsim.cyclesim.dram.controller import (S_BLOCK, S_BLOCK_END, S_CMD, S_END, S_REPEAT, S_SYNC, S_TAIL,
                                             ChannelController)
from archsim.cyclesim.dram.program import DramBlock
from archsim.cyclesim.kernel import Component

MEMO_LIMIT = 200_000  # entries per system; cleared when full (results stay exact, only speed changes)
# open-row codes of keys and entries besides a row relative to the base row (which may be negative: the segment
# and tail memos code every row of the bank relative to an anchor): closed, and open on a row not coded
ROW_CLOSED = -1 << 40
ROW_OTHER = -1 << 41
WHOLE_REPEAT_MAX = 64  # repeats of at most this many instances are also memoized whole (see run_tiles)
WHOLE_REPEAT_STEPS = 5  # ... if their first run took at least this many memo steps


class _Entry:
    """The effect of one block instance (or of an instance followed by a steady run: a composite), relative to
    its start cycle ``base`` and base row."""

    __slots__ = ("last_rel", "nxt_runs", "hist", "counts", "rows", "rows_same", "mode", "done_rel", "ready_rel",
                 "open_acc", "open_closed_initial", "open_since_rel", "trace", "plain", "refs", "ref_due_rel",
                 "exact_next", "next", "combo")


class _Next:
    """What follows an entry for one row stride: the next instance's key id and plain entry, the start-to-start
    distance, and whether the next key is the entry's own (steady state)."""

    __slots__ = ("key", "entry", "d", "loop")

    def __init__(self, key: int, d: int, loop: bool):
        self.key, self.entry, self.d, self.loop = key, None, d, loop


class ChannelEngine(Component):
    __slots__ = ("ctl", "system", "_fire", "_pair", "_times", "_buckets")

    def __init__(self, sim, system, ctl: ChannelController):
        super().__init__(sim, f"dram.ch{ctl.ch}", "dram")
        self.ctl = ctl
        self.system = system
        self._fire = self.fire      # one bound method for every command event
        self._pair = (self._fire, None)
        self._times, self._buckets = sim.calendar()

    def start(self, cycle: int) -> None:
        self.sim.schedule(cycle - self.sim.now if cycle > self.sim.now else 0, self.step)

    def fire(self, _arg) -> None:
        """Kernel event at a command's issue cycle: issue it, decide the next one and schedule it."""
        ctl = self.ctl
        ctl.commit()
        s = ctl.decide()
        if s == S_CMD:
            # = self.sim.schedule(max(ctl.p_t - now, 0), self._fire), inline (one event per command)
            t = ctl.p_t
            now = self.sim.now
            if t < now:
                t = now
            bucket = self._buckets.get(t)
            if bucket is None:
                self._buckets[t] = [self._fire, None]
                heappush(self._times, t)
            else:
                bucket += self._pair
        else:
            self._other(s)

    def step(self, _arg) -> None:
        """Kernel event that only decides (channel start, after a SYNC release, after a block)."""
        s = self.ctl.decide()
        if s == S_CMD:
            d = self.ctl.p_t - self.sim.now
            self.sim.schedule(d if d > 0 else 0, self._fire)
        else:
            self._other(s)

    def _other(self, s: int) -> None:
        if s == S_BLOCK or s == S_REPEAT:
            item = self.ctl.p_block
            if s == S_BLOCK:
                t_end = self.run_tiles(item.shape, item.row_base, 1, 0)
            else:
                t_end = self.run_tiles(item.shape, item.row_base, item.count, item.row_stride)
            self.sim.schedule(max(t_end - self.sim.now, 0), self.step)
        elif s == S_TAIL:
            self.sim.events_run += self.system.tails.run(self)
            self.sim.schedule(max(self.ctl.st.last - self.sim.now, 0), self.step)
        elif s == S_SYNC:
            self.system._arrive(self)
        elif s == S_END:
            self.system._finished(self)
        else:  # pragma: no cover
            raise AssertionError(f"unexpected controller status {s}")

    def play(self, end: int | None = None) -> int:
        """The controller's decisions in a loop, without kernel events (burst mode, this channel on its own: the
        same decide/commit sequence the events would make), until the program ends; or, with ``end``, until
        item ``end`` of the top-level list (a tail, :mod:`archsim.cyclesim.dram.tailmemo`: the SYNC there is left
        to the caller). A SYNC releases at once (nobody else to wait for); a MEMO hint runs the tail memo, except
        inside a tail (whose recording covers it). Returns the decisions made."""
        ctl = self.ctl
        st = ctl.st
        gap = ctl.rules.bus_gap
        decide, commit, run_tiles = ctl.decide, ctl.commit, self.run_tiles
        steps = 0
        while end is None or ctl.pos < end or ctl.c_left > 0 or ctl.wn or ctl.frames:
            steps += 1
            s = decide()
            if s == S_CMD:
                commit()
            elif s == S_REPEAT:
                item = ctl.p_block
                run_tiles(item.shape, item.row_base, item.count, item.row_stride)
            elif s == S_BLOCK:
                item = ctl.p_block
                run_tiles(item.shape, item.row_base, 1, 0)
            elif s == S_TAIL:
                if end is None:
                    steps += self.system.tails.run(self)
            elif s == S_SYNC:
                if end is not None:     # reached through items that issue nothing (a DELAY): the caller's
                    ctl.pos -= 1
                    break
                ctl.ready = max(st.done, ctl.ready, st.last + gap)
                ctl.base = ctl.ready + 1
                ctl.bases.append(ctl.base)
            elif s == S_END:
                break
            else:  # pragma: no cover
                raise AssertionError(f"unexpected controller status {s}")
        return steps

    # -- blocks and repeats -------------------------------------------------------------------------------------
    def run_tiles(self, shape, row: int, count: int, stride: int) -> int:
        """Run ``count`` instances of ``shape`` at rows ``row``, ``row + stride``, ... now, from the memo where
        possible (see the module docstring); returns the cycle of the channel's last command.

        A short repeat (2 to ``WHOLE_REPEAT_MAX`` instances) whose first run took at least ``WHOLE_REPEAT_STEPS``
        memo steps (refreshes cut its steady run) is also memoized as a whole: keyed by its shape, count and
        stride, the relative state at its start with every row it touches coded (not only the first instance's),
        and the refresh due cycle relative to its start (at or after it: an overdue refresh is not keyable, as
        for the instance entries). Its execution is a function of that key, so one application of the recorded
        effect replaces the chain of instance, composite and refresh-phase entries (PIM-GPT's V append: 16
        instances cut by about four refreshes). Which repeats qualify changes only the speed."""
        ctl = self.ctl
        if count < 2 or count > WHOLE_REPEAT_MAX or ctl.st.trace is not None:
            return self._run_instances(shape, row, count, stride)
        system = self.system
        row_acc = ctl.row_acc
        timing = shape.timing(row_acc)
        sig = (timing, count, stride)
        rows = system.whole_repeats.get(sig)
        if rows is None:    # first time: worth it if the chain took several steps (refreshes cut it)
            s0 = system.tile_steps
            t = self._run_instances(shape, row, count, stride)
            rows = False
            if system.tile_steps - s0 >= WHOLE_REPEAT_STEPS:   # every row the repeat touches, relative to its first
                rel_rows = shape.rows(row_acc)[0]
                rows = frozenset(x + j * stride for x in rel_rows for j in range(count)) if stride else rel_rows
            system.whole_repeats[sig] = rows
            return t
        if rows is False:
            return self._run_instances(shape, row, count, stride)
        st = ctl.st
        base = st.last + ctl.rules.bus_gap
        if ctl.ready > base:
            base = ctl.ready
        due = ctl.ref_due - base
        if due < 0:
            return self._run_instances(shape, row, count, stride)
        key = self._repeat_key(timing, count, stride, due, base, row, rows)
        e = system.memo.get(key)
        if e is not None:
            self._apply(e, base, row)
            system.memo_hits += count
            system.tile_steps += 1
            return st.last
        snap = self._snapshot()
        self._run_instances(shape, row, count, stride)
        self.remember(key, self.record_phased(base, row, rows, snap))
        return st.last

    def record_phased(self, base: int, base_row: int, rows, snap: tuple) -> _Entry:
        """The effect since ``snap`` (a :meth:`_snapshot`) as an entry keyed with the refresh phase: it carries the
        refreshes issued and the next due cycle relative to ``base`` (whole repeats, segments, tails)."""
        ctl = self.ctl
        e = self._record(base, base_row, rows, *snap)
        e.plain = False
        e.refs = ctl.refreshes - snap[-1]
        e.ref_due_rel = ctl.ref_due - base
        e.exact_next = False
        return e

    def phased_state(self, start: int, anchor: int, rows) -> tuple[tuple, int]:
        """``(state, ref)``: the channel state that can bind a command issued at or after ``start``, relative
        to ``ref`` (``start``, or the due cycle of a refresh already overdue, which issues first) and to the
        anchor row, with the refresh phase: ``(start - ref, ready - ref clamped, ref_due - ref, relative
        state)``. The key of segments and tails (their docstrings say why it is complete)."""
        ctl = self.ctl
        ref = ctl.ref_due if ctl.ref_due < start else start
        return (start - ref, ctl.ready - ref if ctl.ready > ref else 0, ctl.ref_due - ref,
                self._rel_state(ref, anchor, rows)), ref

    def _repeat_key(self, timing, count: int, stride: int, due: int, base: int, row: int, rows) -> tuple:
        """The whole-repeat key (see :meth:`run_tiles`)."""
        return ("repeat", timing, count, stride, due, self._rel_state(base, row, rows))

    def _run_instances(self, shape, row: int, count: int, stride: int) -> int:
        """:meth:`run_tiles` instance by instance (instance, composite and refresh-phase entries)."""
        ctl = self.ctl
        st = ctl.st
        system = self.system
        memo = system.memo
        gap = ctl.rules.bus_gap
        rel_rows = shape.rows(ctl.row_acc)[0]
        tracing = st.trace is not None
        key = ent = None
        hits = misses = steps = 0
        i = 0
        while i < count:
            steps += 1
            base = st.last + gap
            if ctl.ready > base:
                base = ctl.ready
            if key is None:
                key = self._key(shape, tracing, base, row, rel_rows)
                ent = memo.get(key)
            elif ent is None:
                ent = memo.get(key)
            due = ctl.ref_due - base
            if ent is None or (ent.last_rel is not None and due <= ent.last_rel):
                # no plain entry applies: the refresh falls into this instance (or the state is new)
                ent = memo.get((key, due)) if due >= 0 else None
                if ent is None:
                    ent = self._execute(shape, row, base, key, due, rel_rows)
                    misses += 1
                    i += 1
                    row += stride
                    if ent is None or not ent.exact_next:
                        key = ent = None
                    else:
                        key, ent = self._follow(ent, stride, base, key, shape, tracing, row, rel_rows)
                    continue
            nx = ent.next.get(stride)
            if nx is not None:
                if nx.loop:
                    # steady state: every instance that ends before the refresh due cycle, at once
                    m = count - i
                    if ent.last_rel is not None and nx.d:
                        fit = (due - ent.last_rel - 1) // nx.d + 1
                        if fit < m:
                            m = fit
                    self._apply_run(ent, base, row, m, nx.d, stride)
                    hits += m
                    i += m
                    row += m * stride
                    continue
                nxt_ent = nx.entry
                if nxt_ent is None:
                    nxt_ent = nx.entry = memo.get(nx.key)
                if nxt_ent is not None and stride >= 0:
                    pn = nxt_ent.next.get(stride)
                    if pn is not None and pn.loop:
                        # this instance, then the steady run up to the next refresh: one composite entry
                        m = count - i - 1
                        if nxt_ent.last_rel is not None and pn.d:
                            due2 = (ctl.ref_due if ent.plain else base + ent.ref_due_rel) - base - nx.d
                            fit = (due2 - nxt_ent.last_rel - 1) // pn.d + 1
                            if fit < m:
                                m = fit
                        if m > 0:
                            n = self._composite(ent, (), nxt_ent, base, row, m, (nx.d,), pn.d, stride, rel_rows)
                            hits += n
                            i += n
                            row += n * stride
                            key, ent = nx.key, nxt_ent
                            continue
                    elif pn is not None:
                        # this instance, one more (e.g. the first after a refresh, all rows closed), then the
                        # steady run up to the next refresh: one composite entry too
                        third = pn.entry
                        if third is None:
                            third = pn.entry = memo.get(pn.key)
                        pt = third.next.get(stride) if third is not None else None
                        if pt is not None and pt.loop:
                            due2 = (ctl.ref_due if ent.plain else base + ent.ref_due_rel) - base - nx.d
                            m = count - i - 2
                            if nxt_ent.last_rel is not None and due2 <= nxt_ent.last_rel:
                                m = 0       # the refresh falls into the middle instance
                            elif third.last_rel is not None and pt.d:
                                fit = (due2 - pn.d - third.last_rel - 1) // pt.d + 1
                                if fit < m:
                                    m = fit
                            if m > 0:
                                n = self._composite(ent, (nxt_ent,), third, base, row, m, (nx.d, pn.d), pt.d,
                                                    stride, rel_rows)
                                hits += n
                                i += n
                                row += n * stride
                                key, ent = pn.key, third
                                continue
            self._apply(ent, base, row)
            hits += 1
            i += 1
            row += stride
            if nx is None:
                if not ent.exact_next:
                    key = ent = None
                    continue
                key, ent = self._follow(ent, stride, base, key, shape, tracing, row, rel_rows)
            else:
                key, ent = nx.key, nx.entry
        system.memo_hits += hits
        system.memo_misses += misses
        system.tile_steps += steps
        return st.last

    def _key(self, shape, tracing: bool, base: int, row: int, rel_rows: frozenset) -> int:
        """The id of the relative state key (ids are never reused, so a stale one only misses)."""
        system = self.system
        k = (shape if tracing else shape.timing(self.ctl.row_acc), tracing, self._rel_state(base, row, rel_rows))
        kid = system.key_ids.get(k)
        if kid is None:
            kid = system.key_ids[k] = next(system.key_counter)
        return kid

    def _follow(self, ent: _Entry, stride: int, base: int, key: int, shape, tracing, row: int, rel_rows):
        """After applying ``ent`` (which knows every open row) at ``base``: cache and return the next instance's
        key id and plain entry."""
        st, ctl = self.ctl.st, self.ctl
        nbase = st.last + ctl.rules.bus_gap
        if ctl.ready > nbase:
            nbase = ctl.ready
        nkey = self._key(shape, tracing, nbase, row, rel_rows)
        nx = ent.next[stride] = _Next(nkey, nbase - base, ent.plain and nkey == key)
        nx.entry = self.system.memo.get(nkey)
        return nkey, nx.entry

    def _composite(self, ent: _Entry, mids: tuple, steady: _Entry, base: int, row: int, m: int, ds: tuple,
                   d2: int, stride: int, rel_rows: frozenset) -> int:
        """``ent``, then the plain entries ``mids`` (``ds``: start-to-start distances from ``ent`` on), then
        ``m`` instances of ``steady``, as one composite entry of ``ent``: applied, or on first use played and
        recorded (row stride >= 0: its rows are coded relative to the first instance). Returns the number of
        instances."""
        ckey = (stride, m, len(mids))
        comp = ent.combo.get(ckey)
        if comp is not None:
            self._apply(comp, base, row)
            return len(mids) + 1 + m
        ctl = self.ctl
        snap = self._snapshot()
        self._apply(ent, base, row)
        b, r = base, row
        for mid, d in zip(mids, ds):
            b, r = b + d, r + stride
            self._apply(mid, b, r)
        self._apply_run(steady, b + ds[-1], r + stride, m, d2, stride)
        n = len(mids) + 1 + m
        rows = frozenset(x + j * stride for x in rel_rows for j in range(n)) if stride else rel_rows
        e = self._record(base, row, rows, *snap)
        e.plain = ent.plain
        e.refs = ctl.refreshes - snap[-1]
        e.ref_due_rel = None if e.plain else ctl.ref_due - base
        e.exact_next = False
        ent.combo[ckey] = e
        return n

    def _snapshot(self) -> tuple:
        ctl = self.ctl
        st = ctl.st
        return (list(st.nxt), list(st.counts), st.last, st.done, ctl.ready, st.open_since, st.open_cycles,
                len(st.trace) if st.trace is not None else 0, ctl.refreshes)

    def _execute(self, shape, row: int, base: int, key: int, due: int, rel_rows) -> _Entry | None:
        """Simulate one instance command by command (the closed-form runs of the controller still apply) and
        record it: as a plain entry if every command issued before the refresh due cycle (so no part of a
        refresh sequence was issued), else as a refresh-phase entry under (key, ``due``) if ``due`` >= 0."""
        ctl = self.ctl
        st = ctl.st
        snap = self._snapshot()
        last0, due0 = st.last, ctl.ref_due
        blk = DramBlock.__new__(DramBlock)
        blk.shape, blk.row_base = shape, row
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
        refs = ctl.refreshes - snap[-1]
        plain = not refs and (st.last == last0 or st.last < due0)
        if not plain and due < 0:
            return None
        e = self._record(base, row, rel_rows, *snap)
        e.plain = plain
        e.refs = refs
        e.ref_due_rel = None if plain else ctl.ref_due - base
        self.remember(key if plain else (key, due), e)
        return e

    def remember(self, key, e: _Entry) -> None:
        """Store an entry in the system's memo (cleared when full: results stay exact, only speed changes)."""
        system = self.system
        if len(system.memo) >= MEMO_LIMIT:
            system.memo.clear()
            system.key_ids.clear()
        system.memo[key] = e

    def _rel_state(self, base: int, base_row: int, rel_rows: frozenset) -> tuple:
        st = self.ctl.st
        rules = self.ctl.rules
        # (v > base) and (v - base): v - base, or False (== 0, same hash) at or before base; faster than a
        # conditional expression
        nxt = tuple([(v > base) and (v - base) for v in st.nxt])
        last = st.last + rules.bus_gap - base
        hist = tuple(tuple([h + w[2] - base if h + w[2] > base else 0 for h in st.hist[k]])
                     for k, w in enumerate(rules.windows)) if rules.windows else ()
        if st.n_open == 0:
            rows = ROW_CLOSED
        elif st.all_row >= 0:
            r = st.all_row - base_row
            rows = r if r in rel_rows else ROW_OTHER
        else:
            rows = tuple([ROW_CLOSED if r < 0 else (r - base_row if r - base_row in rel_rows else ROW_OTHER)
                          for r in st.open_row])
        done = st.done - base if st.done > base else 0
        return nxt, last if last > 0 else 0, hist, rows, st.mode, done

    def _record(self, base, base_row, rel_rows, nxt0, counts0, last0, done0, ready0, os0, acc0, tr0,
                _ref0=None) -> _Entry:
        ctl = self.ctl
        st = ctl.st
        e = _Entry()
        e.last_rel = st.last - base if st.last != last0 else None
        nxt = st.nxt
        idx = list(compress(range(len(nxt)), map(ne, nxt, nxt0)))   # the slots this block changed, in runs
        if idx:
            cuts = [k for k in range(1, len(idx)) if idx[k] != idx[k - 1] + 1]
            lo = [0] + cuts
            hi = cuts + [len(idx)]
            # (a list comprehension: twice as fast as mapping a bound int.__add__)
            e.nxt_runs = tuple((idx[a], idx[b - 1] + 1, tuple([v - base for v in nxt[idx[a]:idx[b - 1] + 1]]))
                               for a, b in zip(lo, hi))
        else:
            e.nxt_runs = ()
        # window histories hold issue cycles; those at or after base were appended by this block
        e.hist = tuple(tuple(x - base for x in h if x >= base) for h in st.hist) if any(st.hist) else ()
        counts = st.counts
        e.counts = tuple([(i, counts[i] - counts0[i])
                          for i in list(compress(range(len(counts)), map(ne, counts, counts0)))])
        e.rows = tuple([ROW_CLOSED if r < 0 else (r - base_row if r - base_row in rel_rows else ROW_OTHER)
                        for r in st.open_row])
        e.rows_same = e.rows[0] if e.rows.count(e.rows[0]) == len(e.rows) else None
        e.exact_next = ROW_OTHER not in e.rows
        e.next = {}
        e.combo = {}
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
        return e

    def _apply(self, e: _Entry, base: int, base_row: int) -> None:
        """The effect of one instance: counters, open-row time, timing state, trace."""
        ctl = self.ctl
        st = ctl.st
        counts = st.counts
        for i, d in e.counts:
            counts[i] += d
        if e.open_closed_initial:
            st.open_cycles += e.open_acc + (base - st.open_since)
            st.open_since = -1
        else:
            st.open_cycles += e.open_acc
        if not e.plain:
            ctl.refreshes += e.refs
            ctl.ref_due = base + e.ref_due_rel
        self._apply_state(e, base, base_row)
        if e.trace is not None and st.trace is not None:
            ch = st.ch
            st.trace.extend((base + t, ch, b, c, base_row + r if r >= 0 else -1, col) for t, b, c, r, col in e.trace)

    def _apply_run(self, e: _Entry, base: int, row: int, m: int, d: int, stride: int) -> None:
        """``m`` instances of a plain steady-state entry, ``d`` cycles and ``stride`` rows apart, in O(1) (the
        trace, when recorded, still gets every command)."""
        if m == 1:
            self._apply(e, base, row)
            return
        ctl = self.ctl
        st = ctl.st
        counts = st.counts
        for i, dv in e.counts:
            counts[i] += m * dv
        # every instance starts in the open/closed state it ends in (the key repeats): the first closes the
        # interval open before it, the others the one the previous instance opened
        if e.open_closed_initial:
            st.open_cycles += e.open_acc + (base - st.open_since) + (m - 1) * (e.open_acc + d - e.open_since_rel)
            st.open_since = -1
        else:
            st.open_cycles += m * e.open_acc
        wins = ctl.rules.windows
        for w, new in enumerate(e.hist):
            if new:
                h = st.hist[w]
                size = wins[w][3]
                for j in range(max(0, m - 1 - -(-size // len(new))), m - 1):
                    h.extend(base + j * d + x for x in new)
        if e.trace is not None and st.trace is not None:
            ch = st.ch
            tr = e.trace
            for j in range(m):
                b0, r0 = base + j * d, row + j * stride
                st.trace.extend((b0 + t, ch, b, c, r0 + r if r >= 0 else -1, col) for t, b, c, r, col in tr)
        self._apply_state(e, base + (m - 1) * d, row + (m - 1) * stride)

    def _apply_state(self, e: _Entry, base: int, base_row: int) -> None:
        """Timing, row and mode state after an instance starting at ``base`` (the entry's key holds there)."""
        ctl = self.ctl
        st = ctl.st
        # each recorded slot ends at base + its offset exactly (see the module docstring)
        nxt = st.nxt
        for a, b, rel in e.nxt_runs:
            nxt[a:b] = [base + v for v in rel]    # (twice as fast as mapping a bound int.__add__)
        if e.hist:
            for k, new in enumerate(e.hist):
                if new:
                    h = st.hist[k]
                    h.extend(base + x for x in new)
                    del h[:-ctl.rules.windows[k][3]]
        if e.last_rel is not None:
            st.last = base + e.last_rel
        code = e.rows_same
        if code is not None and code != ROW_OTHER:   # every bank ends closed, or open on the same block row
            row = base_row + code if code != ROW_CLOSED else -1
            if (st.all_row != row) if row >= 0 else st.n_open:
                st.open_row[:] = _repeat(row, st.banks)
                st.n_open = st.banks if row >= 0 else 0
                st.all_row = row
        else:
            open_row = st.open_row
            for b, code in enumerate(e.rows):
                if code == ROW_CLOSED:
                    open_row[b] = -1
                elif code != ROW_OTHER:
                    open_row[b] = base_row + code
            st.n_open = st.banks - open_row.count(-1)
            r0 = open_row[0]
            st.all_row = r0 if r0 >= 0 and open_row.count(r0) == st.banks else -1
        st.mode = e.mode
        if e.done_rel is not None:
            st.done = base + e.done_rel
        if e.ready_rel is not None:
            ctl.ready = base + e.ready_rel
        if e.open_since_rel is not None:
            st.open_since = base + e.open_since_rel

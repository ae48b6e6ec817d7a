"""Burst mode: the effect of a whole recurring run, memoized like a block.

A caller that runs the same program again and again (the PIM-GPT mapper runs each weight matrix's
matrix-vector product once per token, on rows that never move) passes ``recurring=True`` to
:meth:`archsim.cyclesim.dram.DramSystem.run`. When one channel stands for all (channel symmetry, or a one-channel DRAM)
and no trace is asked for, the run is then treated as one block of :mod:`archsim.cyclesim.dram.engine`: its *shape* is
the program with rows relative to the lowest row it names (so the same product on another layer's rows shares
it), its key is (shape, channel state relative to the first cycle anything can issue), and its effect is
recorded once and applied on every later run with the same key. Entries are plain (no refresh inside: reused
while the next refresh falls due after the run's last command) or refresh-phase entries keyed by the refresh
due cycle relative to the start, exactly as for blocks, so applying one is exact (the tests compare against
command mode). A run that starts with a refresh overdue (it fell due while the channel idled, between runs, and
issues at its due cycle, before the run's first possible cycle) is keyed relative to that due cycle instead, with
the start's offset from it in the key.

The whole run stays one entry however many refreshes it contains: after a few thousand runs of a matrix most
refresh phases have been seen and a run costs one lookup.
"""

from __future__ import annotations

from archsim.cyclesim.dram.engine import MEMO_LIMIT, ChannelEngine
from archsim.cyclesim.dram.program import ROW_OPS, SPAN_OPS, DramBlock, DramRepeat, timing_instr


class RunShape:
    """A program (one channel's item list) with rows relative to its lowest row: ``sig`` is hashable, ``rows`` is
    the relative row range it may touch, ``base_row`` the absolute row of relative row 0."""

    __slots__ = ("sig", "rows", "base_row")

    def __init__(self, items: list, row_accesses: int):
        spans = []
        for it in items:
            t = type(it)
            if t is tuple:
                if it[0] in ROW_OPS:
                    op, _b, row, col, n = it
                    spans.append((row, row + ((col + n - 1) // row_accesses if op in SPAN_OPS else 0)))
            elif t is DramBlock:
                rows, top = it.shape.rows(row_accesses)
                if rows:
                    spans.append((it.row_base + min(rows), it.row_base + top))
            elif t is DramRepeat:
                if it.count and it.shape.rows(row_accesses)[0]:
                    spans.append(it.row_span(row_accesses))
        lo = min((a for a, _ in spans), default=0)
        hi = max((b for _, b in spans), default=-1)
        sig = []        # the timing-relevant content (columns that cannot matter erased, as for blocks)
        for it in items:
            t = type(it)
            if t is tuple:
                it = timing_instr(it, row_accesses)
                sig.append((it[0], it[1], it[2] - lo, it[3], it[4]) if it[0] in ROW_OPS else it)
            elif t is DramBlock:      # shapes are interned: equal means identical
                sig.append((it.shape.timing(row_accesses), it.row_base - lo))
            else:
                sig.append((it.shape.timing(row_accesses), it.count, it.row_base - lo, it.row_stride))
        self.sig = tuple(sig)
        self.rows = range(0, hi - lo + 1)
        self.base_row = lo


class RunMemo:
    """Whole-run entries of one :class:`~archsim.cyclesim.dram.DramSystem` (they live in its block memo)."""

    def __init__(self, system):
        self.system = system
        self._shapes: dict[int, tuple[object, list, RunShape]] = {}   # id(program) -> (program, items, shape)
        self.hits = self.misses = 0

    def known(self, program, items: list) -> RunShape | None:
        """The shape of ``program`` if it was remembered with these same items."""
        got = self._shapes.get(id(program))
        if got is not None and got[0] is program and got[1] == items:
            return got[2]
        return None

    def remember(self, program, items: list, row_accesses: int) -> RunShape:
        if len(self._shapes) > 4096:
            self._shapes.clear()
        shape = RunShape(items, row_accesses)
        self._shapes[id(program)] = (program, list(items), shape)
        return shape

    def begin(self, eng: ChannelEngine, shape: RunShape, base: int):
        """Apply the entry for this run if there is one (returns None); else return what :meth:`record` needs.

        ``base`` is the first cycle a command of the run could issue. The state is taken relative to ``base``,
        or, when a refresh is already overdue (it fell due while the channel idled and issues at its due
        cycle), relative to that due cycle, with ``base``'s offset from it in the key."""
        system = self.system
        ctl = eng.ctl
        ref = ctl.ref_due if ctl.ref_due < base else base
        k = ("run", shape.sig, base - ref, eng._rel_state(ref, shape.base_row, shape.rows))
        kid = system.key_ids.get(k)
        if kid is None:
            kid = system.key_ids[k] = next(system.key_counter)
        due = ctl.ref_due - ref
        memo = system.memo
        ent = memo.get(kid)
        if ent is None or (ent.last_rel is not None and due <= ent.last_rel):
            ent = memo.get((kid, due))
        if ent is not None:
            eng._apply(ent, ref, shape.base_row)
            self.hits += 1
            return None
        self.misses += 1
        return kid, ref, due, ctl.st.last, ctl.ref_due, eng._snapshot()

    def record(self, eng: ChannelEngine, shape: RunShape, pending) -> None:
        """After simulating the run normally: store its effect (see the module docstring)."""
        kid, ref, due, last0, due0, snap = pending
        ctl = eng.ctl
        st = ctl.st
        refs = ctl.refreshes - snap[-1]
        e = eng._record(ref, shape.base_row, shape.rows, *snap)
        e.plain = not refs and (st.last == last0 or st.last < due0)
        e.refs = refs
        e.ref_due_rel = None if e.plain else ctl.ref_due - ref
        e.exact_next = False
        system = self.system
        if len(system.memo) >= MEMO_LIMIT:
            system.memo.clear()
            system.key_ids.clear()
        system.memo[kid if e.plain else (kid, due)] = e

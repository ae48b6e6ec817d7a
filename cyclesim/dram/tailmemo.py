"""Burst mode: the tail memo, the rest of a barrier segment run as one memoized unit (the ``MEMO`` hint).

A DRAM program may say, with a ``MEMO`` item (:data:`archsim.cyclesim.dram.program.MEMO`), that the items from
there to the next SYNC (the *tail*) recur even where the items before them do not: PIM-GPT's attention scores of
every position in a group of 16 share the score loop, but each position appends its K to another bank first.
When the controller meets the hint at the top level of a program in burst mode, the channel's engine calls
:meth:`TailMemo.run`, which keys the tail and the channel state, applies a recorded effect on a hit and on a miss
simulates the tail as usual (closed-form runs, the block memo) and records its effect. Either way the controller
is left in front of the SYNC (or at the end), so the barrier is handled as without the hint.

Why the key is complete. The tail's commands are a function of its signature
(:class:`archsim.cyclesim.dram.runmemo.RunShape`: every item with rows relative to the tail's lowest row ``lo``
and columns that cannot matter erased), so equal signatures issue the same commands up to a translation of
every row by ``lo``. Their timing is a function of the part of the channel state that can still bind a command
issued at or after ``start``, the first cycle the tail's first command could issue (``max(last + bus gap,
ready)``): the same state the segment memo keys (:mod:`archsim.cyclesim.dram.segmemo`), relative to ``ref``
(``start``, or the due cycle of a refresh that is already overdue, which issues first): every earliest-issue
slot, the bus, the window histories and the completion time clamped at ``ref``, ``ready``, every bank's open row
relative to ``lo``, the mode, the refresh due cycle, ``start - ref``, and whether requests carry arrival
cycles. The controller holds nothing else that a command depends on at a hint (no queued request, no
instruction half issued, no open frame: checked). A tail with an ARRIVE (host timing relative to the segment's
base) is simulated without the memo. Counters, open-row time and refresh counts cannot influence timing and are
applied as deltas; every timing update is a monotone max of ``ref + constant``, so applying an effect at
another ``ref`` with an equal key gives exactly the state a simulation would give.

The entries live in the system's block memo (bounded by :data:`archsim.cyclesim.dram.engine.MEMO_LIMIT`).
"""

from __future__ import annotations

from archsim.cyclesim.dram.program import OP_ARRIVE, OP_SYNC
from archsim.cyclesim.dram.runmemo import RunShape


class TailMemo:
    """Key, simulate-and-record or apply the tail after a MEMO hint, for the channels of one :class:`DramSystem`."""

    enabled = True      # False: hints are skipped (for testing: the results do not change)

    def __init__(self, system):
        self.system = system
        self.hits = self.misses = 0
        self._shapes: dict[tuple, RunShape] = {}   # a tail's items -> its RunShape (the same tails recur)

    def run(self, eng) -> int:
        """Run the tail at ``eng``'s controller (just after a MEMO hint): from the memo, or simulated and
        recorded. Leaves the controller in front of the SYNC that ends the segment; returns the decisions
        simulated (the events they stand for)."""
        ctl = eng.ctl
        st = ctl.st
        items, pos = ctl.items, ctl.pos
        end = pos
        n = len(items)
        timed = False
        while end < n:
            x = items[end]
            if type(x) is tuple:
                if x[0] == OP_SYNC:
                    break
                if x[0] == OP_ARRIVE:
                    timed = True
            end += 1
        if end == pos or timed or not self.enabled or st.trace is not None or ctl.wn or ctl.c_left > 0 \
                or ctl.frames:
            return 0                # nothing to memoize, or not keyable: the controller simply goes on
        seg = tuple(items[pos:end])
        shape = self._shapes.get(seg)
        if shape is None:
            if len(self._shapes) >= 4096:
                self._shapes.clear()
            shape = self._shapes[seg] = RunShape(seg, ctl.row_acc)
        lo = shape.base_row
        rows = range(-lo, self.system.cfg.rows - lo)
        key, ref = self.key(eng, shape.sig, lo, rows)
        memo = self.system.memo
        e = memo.get(key)
        if e is not None:
            eng._apply(e, ref, lo)
            ctl.pos = end
            self.hits += 1
            return 0
        snap = eng._snapshot()
        steps = eng.play(end)
        eng.remember(key, eng.record_phased(ref, lo, rows, snap))
        self.misses += 1
        return steps

    @staticmethod
    def key(eng, sig: tuple, lo: int, rows: range) -> tuple[tuple, int]:
        """``(key, ref)`` of a tail with signature ``sig`` and lowest row ``lo`` from ``eng``'s state now (the
        module docstring says why the key is complete)."""
        ctl = eng.ctl
        start = ctl.st.last + ctl.rules.bus_gap
        if ctl.ready > start:
            start = ctl.ready
        state, ref = eng.phased_state(start, lo, rows)
        return ("tail", sig, ctl.timed) + state, ref

"""Channel symmetry (burst mode): simulate channel 0 only when every channel would do exactly the same.

The PIM-GPT mapper gives every channel the same instruction stream. Channels interact only at SYNC, so if the
streams are identical and the channels start in the same state, every channel issues the same commands at the
same cycles: simulating one of them and replicating its counters, energy and trace (channel number rewritten)
is exact.

*Same state* is checked on what can still matter from the run's start cycle ``S`` on: earliest-issue slots,
command bus, window histories, completion time and ``ready`` clamped at ``min(S, refresh due)`` (a value at or
before that cannot bind any later command: work issues at or after ``S``, refreshes at or after their due
cycle), the open rows, the mode and the refresh due cycle. Counters, open-row time and refresh counts may
differ: while shadowed, channel ``c``'s are channel 0's plus a constant offset taken when shadowing began.

The shadow persists across runs: the other channels' state is written out (:meth:`Shadow.materialize`) only
when something needs it: a run whose streams differ, a stream that differs after some SYNC (then the channels
split at that SYNC and continue on their own), or a read of :attr:`DramSystem.ctls`.
"""

from __future__ import annotations

from operator import add, sub

from archsim.cyclesim.dram.program import OP_SYNC


def sync_prefix(lists: list[list]) -> int:
    """Length of the longest common prefix of all channel lists that ends with a SYNC (0: none)."""
    first = lists[0]
    others = lists[1:]
    upto = 0
    for i in range(min(len(x) for x in lists)):
        x = first[i]
        for lst in others:
            y = lst[i]
            if y is not x and y != x:
                return upto
        if type(x) is tuple and x[0] == OP_SYNC:
            upto = i + 1
    return upto


def _signature(ctl, clamp: int, gap: int) -> tuple:
    """What of a channel's state can still influence commands issued at or after ``clamp``."""
    st = ctl.st
    hist = []
    for (_pre, _fol, lat, w), h in zip(ctl.rules.windows, st.hist):
        vals = [x + lat if x + lat > clamp else clamp for x in h]
        hist.append(tuple([clamp] * (w - len(vals)) + vals[-w:]))
    return (tuple([v if v > clamp else clamp for v in st.nxt]), max(st.last + gap, clamp), tuple(hist),
            tuple(st.open_row), st.mode, max(st.done, clamp), max(ctl.ready, clamp), ctl.ref_due, ctl.wn,
            ctl.c_left > 0, len(ctl.frames))


class Shadow:
    """Channels 1.. of ``system`` as channel 0 plus per-channel offsets of counters, open-row time, refreshes."""

    __slots__ = ("system", "offsets", "stale")

    @staticmethod
    def channels_equal(system, start: int) -> bool:
        """Whether every channel is in the same state as far as commands from ``start`` on can tell."""
        ctls = system._ctls
        lead = ctls[0]
        clamp = min(start, lead.ref_due)
        gap = system.rules.bus_gap
        sig = _signature(lead, clamp, gap)
        return all(_signature(c, clamp, gap) == sig for c in ctls[1:])

    def __init__(self, system, start: int):
        self.system = system
        lead = system._ctls[0]
        lc, lo, lr = lead.st.counts, lead.open_cycles_until(start), lead.refreshes
        self.offsets = [(list(map(sub, c.st.counts, lc)), c.open_cycles_until(start) - lo, c.refreshes - lr)
                        for c in system._ctls[1:]]
        self.stale = False

    def materialize(self) -> list:
        """Write channel 0's state (plus offsets) into the other channels; returns their controllers."""
        followers = self.system._ctls[1:]
        if not self.stale:
            return followers
        lead = self.system._ctls[0]
        ls = lead.st
        for c, (coff, ooff, roff) in zip(followers, self.offsets):
            st = c.st
            st.nxt[:] = ls.nxt
            st.last = ls.last
            st.hist = [list(h) for h in ls.hist]
            st.open_row[:] = ls.open_row
            st.n_open, st.all_row, st.mode, st.done = ls.n_open, ls.all_row, ls.mode, ls.done
            st.counts = list(map(add, ls.counts, coff))
            st.open_since, st.open_cycles = ls.open_since, ls.open_cycles + ooff
            c.ready, c.ref_due, c.refreshes = lead.ready, lead.ref_due, lead.refreshes + roff
            c.base, c.timed = lead.base, lead.timed
        self.stale = False
        return followers

    def split(self, lists: list[list], pos: int, before: list) -> list:
        """End the shadow in the middle of a run, at the SYNC before ``lists[*][pos]``: the other channels take
        channel 0's state, its trace so far (channel rewritten) and continue from ``pos`` of their own lists;
        ``before`` (the per-channel counter snapshots of the run) gets their true values. Returns them."""
        followers = self.materialize()
        lead = self.system._ctls[0]
        counts0, ref0, open0 = before[0]
        for c, (coff, ooff, roff) in zip(followers, self.offsets):
            before[c.ch] = (list(map(add, counts0, coff)), ref0 + roff, open0 + ooff)
            c.load(lists[c.ch])
            c.pos = pos
            if lead.st.trace is not None:
                ch = c.ch
                c.st.trace = [(t, ch, b, ci, r, col) for t, _c, b, ci, r, col in lead.st.trace]
        return followers

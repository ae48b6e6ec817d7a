"""Burst mode: the DRAM side of a memoized program block (several DRAM runs with other engines' work between).

The program runner (:func:`archsim.cyclesim.run.run`) can reuse a whole block of commands, for example one
transformer layer of PIM-GPT: six DRAM programs with the ASIC's steps in between. It asks the DRAM for a key of
its state at the block's first cycle, and on a miss it simulates the block and asks for the effect; on a hit it
applies the effect. This module is that DRAM side. It works when one channel stands for all (channel symmetry,
or a one-channel DRAM) for the whole block, and encodes channel 0 with the block memo's entries of
:mod:`archsim.cyclesim.dram.engine` (``_rel_state`` / ``_record`` / ``_apply``), relative to a start cycle and an
anchor row.

Why the key is complete. Whatever happens in the block is a function of (a) the commands the block issues and
(b) the part of the channel state that can still bind a command issued at or after the block's first DRAM cycle
``start``. (a) is the caller's part: blocks with the same key must issue the same programs up to a translation
of every row by the block's anchor (the PIM-GPT mapper's layers: layer ``L`` is layer 0 moved by the layer's
row stride; a test checks it) at the same offsets from the block's start (the runner adds the tick phase of the
start modulo every clock period to its key). (b) is this key: every earliest-issue slot, the command bus, the
window histories and the completion time, each relative to the reference cycle ``ref`` and clamped at it (a value
at or before ``ref`` cannot bind anything issued later); ``ready`` the same way; the open row of every bank
relative to the anchor (all rows are coded, so an open row outside the block's rows is still exact); the mode;
the refresh due cycle relative to ``ref``; and ``start - ref``. ``ref`` is ``start``, or an overdue refresh's due
cycle when one fell due while the channel idled (it issues at that cycle, before anything else: the run memo
keys such runs the same way). Counters, open-row time and refresh counts cannot influence timing and are
applied as deltas. Every timing update is a monotone max of ``ref + constant``, so applying the recorded effect
at another ``ref`` with an equal key gives exactly the state a simulation would give.

A block is recorded only if channel symmetry held from its start to its end (the same shadow, no split), the
channel was idle at both ends and the DRAM kernel's clock did not move (all runs ran without kernel events).
"""

from __future__ import annotations

from typing import Any

from archsim.cyclesim.dram.symmetry import Shadow


class SegmentMemo:
    """Key, record and apply the channel-0 effect of a block of runs on one :class:`DramSystem`."""

    def __init__(self, system):
        self.system = system
        self._all_rows = None

    def _rows(self, anchor: int) -> range:
        rows = self.system.cfg.rows
        return range(-anchor, rows - anchor)

    def key(self, start: int, anchor: int) -> tuple[Any, int] | None:
        """``(key, ref)`` of the state at DRAM cycle ``start`` (the block issues nothing earlier), or None when
        the state cannot be keyed (command mode, channels not symmetric, a channel busy)."""
        system = self.system
        if system.mode != "burst":
            return None
        if len(system._ctls) > 1 and system._shadow is None:
            # the channels may have become equal since the run that split them: shadow them now, as the next
            # run would at its start (equal from ``start`` on implies equal from any later cycle on)
            if not (system.symmetry and Shadow.channels_equal(system, start)):
                return None
            system._shadow = Shadow(system, start)
        ctl = system._ctls[0]
        if ctl.frames or ctl.c_left or ctl.wn or ctl.st.trace is not None or system.sim.now > start:
            return None
        ref = ctl.ref_due if ctl.ref_due < start else start
        ready = ctl.ready - ref if ctl.ready > ref else 0
        state = system.engines[0]._rel_state(ref, anchor, self._rows(anchor))
        return ("segment", start - ref, ready, ctl.ref_due - ref, state), ref

    def begin(self) -> tuple:
        system = self.system
        eng = system.engines[0]
        return system._shadow, system.sim.now, eng._snapshot()

    def end(self, snap: tuple, ref: int, anchor: int):
        """The effect of the block just simulated (an engine entry), or None if it cannot be reused."""
        system = self.system
        shadow, kernel_now, eng_snap = snap
        ctl = system._ctls[0]
        if system._shadow is not shadow or system.sim.now != kernel_now or ctl.frames or ctl.c_left or ctl.wn:
            return None
        if len(system._ctls) > 1 and shadow is None:
            return None
        eng = system.engines[0]
        e = eng._record(ref, anchor, self._rows(anchor), *eng_snap)
        e.plain = False
        e.refs = ctl.refreshes - eng_snap[-1]
        e.ref_due_rel = ctl.ref_due - ref
        e.exact_next = False
        return e

    def apply(self, entry, ref: int, anchor: int) -> None:
        system = self.system
        system.engines[0]._apply(entry, ref, anchor)
        if system._shadow is not None:
            system._shadow.stale = True

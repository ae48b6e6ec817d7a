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

A block is recorded if the channels were equal at its start and idle at its end: as channel 0's effect when the
same shadow held throughout (the DRAM kernel's clock did not move), or as every channel's effect when the block
ended the symmetry (a program for channel 0 only, such as PIM-GPT's embedding read); then the kernel's clock is
part of the effect too.
"""

from __future__ import annotations

from operator import add
from typing import Any

from archsim.cyclesim.dram.symmetry import Shadow


class SegmentMemo:
    """Key, record and apply the channel-0 effect of a block of runs on one :class:`DramSystem`."""

    def __init__(self, system):
        self.system = system

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
        state, ref = system.engines[0].phased_state(start, anchor, self._rows(anchor))
        return ("segment",) + state, ref

    def begin(self) -> tuple:
        system = self.system
        shadow = system._shadow
        if shadow is not None:      # the followers' snapshots are the lead's plus the shadow's offsets
            return shadow, system.sim.now, [system.engines[0]._snapshot()]
        return shadow, system.sim.now, [e._snapshot() for e in system.engines]

    @staticmethod
    def _follower_snaps(shadow, lead: tuple) -> list[tuple]:
        """The snapshot each follower would have given at the start (its state is the lead's, materialized)."""
        nxt, counts, last, done, ready, os0, acc0, _tr, refs = lead
        return [lead] + [(nxt, list(map(add, counts, coff)), last, done, ready, os0, acc0 + ooff, 0, refs + roff)
                         for coff, ooff, roff in shadow.offsets]

    def end(self, snap: tuple, ref: int, anchor: int):
        """The effect of the block just simulated, or None if it cannot be reused: channel 0's entry while the
        same shadow held throughout (the others follow it), else one entry per channel when the block ended the
        symmetry (the channels were equal at the start, so the key of channel 0 stands for all of them)."""
        system = self.system
        shadow, kernel_now, snaps = snap
        if any(c.frames or c.c_left or c.wn for c in system._ctls):
            return None
        rows = self._rows(anchor)
        if system._shadow is shadow and (shadow is not None or len(system._ctls) == 1):
            if system.sim.now != kernel_now:
                return None
            return ("one", self._entry(system.engines[0], snaps[0], ref, anchor, rows))
        if system._shadow is not None or shadow is None:
            return None         # a new shadow began inside the block (or there was none at the start)
        snaps = self._follower_snaps(shadow, snaps[0])
        entries = [self._entry(eng, sn, ref, anchor, rows) for eng, sn in zip(system.engines, snaps)]
        return ("all", entries, system.sim.now - ref if system.sim.now != kernel_now else None)

    @staticmethod
    def _entry(eng, snap, ref: int, anchor: int, rows: range):
        return eng.record_phased(ref, anchor, rows, snap)

    def apply(self, effect, ref: int, anchor: int) -> None:
        system = self.system
        if effect[0] == "one":
            system.engines[0]._apply(effect[1], ref, anchor)
            if system._shadow is not None:
                system._shadow.stale = True
            return
        _kind, entries, kernel_rel = effect
        if system._shadow is not None:      # the block ends the symmetry, as its simulation did
            system._shadow.materialize()
            system._shadow = None
        for eng, e in zip(system.engines, entries):
            eng._apply(e, ref, anchor)
        if kernel_rel is not None:
            system.sim.now = ref + kernel_rel

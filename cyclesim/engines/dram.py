"""DRAM / PIM-DRAM as an engine of a :class:`~archsim.cyclesim.program.Program`: a stateful wrapper of
:class:`archsim.cyclesim.dram.DramSystem`.

A command ``("dram", {"program": <per-channel instruction lists or DramProgram>, "recurring": bool})`` runs that
DRAM program from the command's start cycle (``recurring``: the same program object will run again, see
:mod:`archsim.cyclesim.dram.runmemo`); open rows, refresh schedule and the burst-mode memo carry over to the next command.
A command costs only its duration: the DRAM's command counts and energy accumulate in the channels and are
booked once, when the run ends (:meth:`DramSystem.totals`), including the background power burnt while the DRAM
waits for other engines (the ASIC), from each channel's open-row time.
"""

from __future__ import annotations

from typing import Any

from archsim.cyclesim.engines import EngineModel, engine_model


@engine_model("GDDR6_AiM", "GDDR6")
class DramEngineModel(EngineModel):
    stateful = True

    def __init__(self, name: str, impl: str, params: dict[str, Any]):
        super().__init__(name, impl, params)
        self._system = None
        self.last_end = 0
        self._totals = None     # DramResult from cycle 0 to the end, once the run has finished

    @property
    def system(self):
        if self._system is None:
            from archsim.cyclesim.dram import DramSystem

            self._system = DramSystem(self.params, self.mode)
        return self._system

    def execute(self, op: str, work: dict[str, Any], start_cycle: int):
        if op != "dram":
            raise self.unsupported(op)
        end = self.system.advance(work["program"], start_cycle=start_cycle, recurring=work.get("recurring", False))
        self.last_end = end
        return end - start_cycle, 0.0, {}

    # -- block reuse (archsim.cyclesim.dram.segmemo): offset = the block's anchor row --------------------------
    def memo_key(self, start_cycle, offset):
        return self.system.segments.key(start_cycle, offset or 0)

    def memo_begin(self):
        return self.system.segments.begin(), self.last_end

    def memo_end(self, snapshot, ref, offset):
        snap, last0 = snapshot
        e = self.system.segments.end(snap, ref, offset or 0)
        if e is None:
            return None
        return e, (self.last_end - ref if self.last_end != last0 else None)

    def memo_apply(self, effect, ref, offset):
        e, last_rel = effect
        self.system.segments.apply(e, ref, offset or 0)
        if last_rel is not None:
            self.last_end = ref + last_rel

    def finish(self, end_cycle: int) -> dict[str, float]:
        if self._system is None:
            return {}
        self._totals = self._system.totals(max(end_cycle, self.last_end))
        self._system.drop_memo()        # the run is over: free the memo by reference counting, at once
        return dict(self._totals.energy_pj)

    def counters(self) -> dict[str, int]:
        t = self._totals
        return {f"{k}_commands": v for k, v in t.commands.items() if v} if t is not None else {}

    def report(self) -> dict[str, Any]:
        t = self._totals
        if t is None:
            return {}
        system = self._system
        rm = system.run_memo
        return {f"{self.name}.row_hit_rate": t.row_hit_rate, f"{self.name}.refreshes": t.refreshes,
                f"{self.name}.bus_bytes": t.bus_bytes, f"{self.name}.bank_bytes": t.bank_bytes,
                f"{self.name}.memo": f"{system.memo_hits} hits / {system.memo_misses} misses",
                f"{self.name}.run_memo": f"{rm.hits} hits / {rm.misses} misses",
                f"{self.name}.tail_memo": f"{system.tails.hits} hits / {system.tails.misses} misses"}

"""DRAM / PIM-DRAM as an engine of a :class:`~cyclesim.program.Program`: a stateful wrapper of
:class:`cyclesim.dram.DramSystem`.

A command ``("dram", {"program": <per-channel instruction lists or DramProgram>, "recurring": bool})`` runs that
DRAM program from the command's start cycle (``recurring``: the same program object will run again, see
:mod:`cyclesim.dram.runmemo`); open rows, refresh schedule and the burst-mode memo carry over to the next command.
While the DRAM waits for other engines (the ASIC) it burns background power: that energy is booked for the
gaps between commands and at the end of the run, from each channel's open-row time.
"""

from __future__ import annotations

from typing import Any

from cyclesim.engines import EngineModel, engine_model


@engine_model("GDDR6_AiM", "GDDR6")
class DramEngineModel(EngineModel):
    stateful = True

    def __init__(self, name: str, impl: str, params: dict[str, Any]):
        super().__init__(name, impl, params)
        self._system = None
        self.last_end = 0
        self.totals = {"bank_activations": 0, "bank_accesses": 0, "bus_bytes": 0, "bank_bytes": 0, "refreshes": 0,
                       "memo_hits": 0, "memo_misses": 0}

    @property
    def system(self):
        if self._system is None:
            from cyclesim.dram import DramSystem

            self._system = DramSystem(self.params, self.mode)
        return self._system

    def _idle_background(self, start: int, end: int) -> float:
        return self.system.background_pj(start, end) if end > start else 0.0

    def execute(self, op: str, work: dict[str, Any], start_cycle: int):
        if op != "dram":
            raise self.unsupported(op)
        sysm = self.system
        energy = {"background": self._idle_background(self.last_end, min(start_cycle, sysm.now))}
        res = sysm.run(work["program"], start_cycle=start_cycle, recurring=work.get("recurring", False))
        for k, v in res.energy_pj.items():
            energy[k] = energy.get(k, 0.0) + v
        t = self.totals
        t["bank_activations"] += res.bank_activations
        t["bank_accesses"] += res.bank_accesses
        t["bus_bytes"] += res.bus_bytes
        t["bank_bytes"] += res.bank_bytes
        t["refreshes"] += res.refreshes
        t["memo_hits"] += res.memo_hits
        t["memo_misses"] += res.memo_misses
        self.last_end = res.end_cycle
        counters = {f"{k}_commands": v for k, v in res.commands.items() if v}
        return res.end_cycle - start_cycle, energy, counters

    def finish(self, end_cycle: int) -> dict[str, float]:
        return {"background": self._idle_background(self.last_end, end_cycle)} if self._system else {}

    def report(self) -> dict[str, Any]:
        t = self.totals
        if not self._system:
            return {}
        rm = self._system.run_memo
        hit = 1.0 - t["bank_activations"] / t["bank_accesses"] if t["bank_accesses"] else 0.0
        return {f"{self.name}.row_hit_rate": hit, f"{self.name}.refreshes": t["refreshes"],
                f"{self.name}.bus_bytes": t["bus_bytes"], f"{self.name}.bank_bytes": t["bank_bytes"],
                f"{self.name}.memo": f"{t['memo_hits']} hits / {t['memo_misses']} misses",
                f"{self.name}.run_memo": f"{rm.hits} hits / {rm.misses} misses"}

"""The computational storage drive as an engine (InstInfer): attention from flash, KV programs, PCIe transfers.

One drive appears in a program as two engines backed by the same component: ``csd<i>`` (flash + attention
engine: ops ``attention`` and ``kv_program``) and ``pcie<i>`` (its link: op ``p2p``), so transfers overlap the
drive's work. Times come from the closed forms of :mod:`archsim.cyclesim.flash.csd` (equal to the event model
on striped batches) in picoseconds (the engine clock is the 1 THz flash clock).
"""

from __future__ import annotations

from typing import Any

from archsim.cyclesim.engines import EngineModel, engine_model
from archsim.cyclesim.flash.config import FLASH_CLOCK_MHZ
from archsim.cyclesim.flash.csd import DriveTiming


@engine_model("ComputationalStorageDrive")
class CsdModel(EngineModel):
    def __init__(self, name: str, impl: str, params: dict[str, Any]):
        super().__init__(name, impl, params)
        self.timing = DriveTiming.from_params(params)

    @property
    def clock_mhz(self) -> float:
        return FLASH_CLOCK_MHZ

    @property
    def static_mw(self) -> float:
        return self.params.get("static_mw", 0.0) if self.name.startswith("csd") else 0.0

    def cost(self, op: str, work: dict[str, Any]):
        t = self.timing
        f = t.flash
        if op == "attention":
            phases = tuple(work["phases"])
            r = t.attention(phases, filtered=bool(work.get("filtered", False)))
            return max(1, r["end_ps"]), t.attention_energy_pj(phases, int(work.get("macs", 0)))
        if op == "kv_program":
            n = int(work["pages"])
            return max(1, t.program_ps(n)), {"flash_program": n * f.prog_energy_pj,
                                             "channel_bus": n * f.page_bytes * f.bus_energy_pj_per_byte}
        if op == "kv_write":  # prefill: the KV arrives over PCIe while earlier pages are programmed
            n, nbytes = int(work["pages"]), int(work["bytes"])
            end = max(t.program_ps(n), t.p2p_ps(nbytes) + f.xfer_ps + f.prog_ps)
            return max(1, end), {"flash_program": n * f.prog_energy_pj,
                                 "channel_bus": n * f.page_bytes * f.bus_energy_pj_per_byte,
                                 "pcie": t.pcie.energy_pj(nbytes)}
        if op == "p2p":
            nbytes = int(work["bytes"])
            return max(1, t.p2p_ps(nbytes)), {"pcie": t.pcie.energy_pj(nbytes)}
        raise self.unsupported(op)

"""A point-to-point link (the ``Link`` kind) as an engine: one command moves ``bytes`` in
``latency + bytes / bandwidth`` (picosecond clock), at ``energy_pj_per_bit``. InstInfer puts the GPU's PCIe x16
link here: every drive's peer-to-peer traffic crosses it, so it is shared by all drives."""

from __future__ import annotations

from typing import Any

from archsim.cyclesim.engines import EngineModel, engine_model
from archsim.cyclesim.flash.config import FLASH_CLOCK_MHZ, ps


@engine_model("Link")
class LinkModel(EngineModel):
    @property
    def clock_mhz(self) -> float:
        return FLASH_CLOCK_MHZ

    def cost(self, op: str, work: dict[str, Any]):
        if op not in ("p2p", "transfer"):
            raise self.unsupported(op)
        nbytes = int(work["bytes"])
        p = self.params
        t = ps(p.get("latency_ns", 0.0) * 1e-9) + ps(nbytes / (p["bandwidth_gb_per_s"] * 1e9))
        return max(1, t), {"link": nbytes * 8 * p.get("energy_pj_per_bit", 0.0)}

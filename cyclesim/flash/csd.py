"""Timing of a computational storage drive's commands: attention over pages read from flash, KV page programs,
and peer-to-peer transfers over the drive's PCIe link. Closed forms on top of :mod:`.burst`.

An attention *phase* reads ``n`` striped pages; each page, once out of its channel (and, for SparF, through the
per-channel token/channel filter), enters the attention engine, which takes ``e`` for a page (its fp16 values
over the dot-product lanes plus its tokens over the softmax lanes) and serves pages in arrival order. The
channels run in lockstep, so the ``g`` fullest channels deliver their last pages together, and the phase ends
when the engine finishes the last page: ``max(flash_end + g e, first_arrival + n e) + pipeline``. That is the
exact FIFO finish when the engine drains each group of simultaneous pages before the next arrives, or is
saturated from the first page on (tests check both against the event model); between the two it is a lower
bound. The SparF filter stage is folded in the same way. SparF's phases run one after the other: the second
needs the first's top-k.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from archsim.cyclesim.flash.burst import striped_ps
from archsim.cyclesim.flash.config import PS_PER_S, FlashConfig, PcieLink, ps


@dataclass(frozen=True)
class AttentionEngine:
    freq_mhz: float
    dot_product_lanes: int
    softmax_lanes: int
    pipeline_cycles: int = 0
    filter_bytes_per_s: float = 0.0
    energy_pj_per_mac: float = 0.0

    def cycles_ps(self, cycles: int) -> int:
        return ps(cycles / (self.freq_mhz * 1e6))

    def page_ps(self, page_bytes: int, tokens: int) -> int:
        """One page through the engine: its fp16 values over the lanes, its tokens over the softmax unit."""
        values = page_bytes // 2
        return self.cycles_ps(-(-values // self.dot_product_lanes) + -(-tokens // self.softmax_lanes))


@dataclass(frozen=True)
class DriveTiming:
    flash: FlashConfig
    pcie: PcieLink
    engine: AttentionEngine
    p2p_latency_ps: int = 0
    dram_bytes_per_s: float = 0.0   # drive DRAM: new K/V is buffered there and programmed from there

    @classmethod
    def from_params(cls, p: dict[str, Any], p2p_latency_ns: float = 0.0) -> "DriveTiming":
        return cls(FlashConfig.from_params(p),
                   PcieLink(p["pcie_generation"], p["pcie_lanes"], p["pcie_efficiency_fraction"],
                            p.get("pcie_energy_pj_per_bit", 0.0)),
                   AttentionEngine(p["engine_freq_mhz"], p["dot_product_lanes"], p["softmax_lanes"],
                                   p.get("engine_pipeline_cycles", 0), p["filter_gb_per_s"] * 1e9,
                                   p.get("engine_energy_pj_per_mac", 0.0)),
                   ps(p2p_latency_ns * 1e-9), p.get("dram_bw_gb_per_s", 0.0) * 1e9)

    # -- attention -------------------------------------------------------------------------------------------
    def phase(self, n_pages: int, *, filtered: bool = False, tokens_per_page: int = 16) -> dict[str, int]:
        """One read phase of ``n_pages`` striped pages into the engine: end and busy times (ps)."""
        f = self.flash
        if n_pages <= 0:
            return {"end_ps": 0, "array_ps": 0, "bus_ps": 0, "engine_ps": 0, "filter_ps": 0}
        flash_end = striped_ps(f, n_pages, "read")
        first = f.read_ps + f.xfer_ps
        filt = 0
        if filtered and self.engine.filter_bytes_per_s:
            filt = ps(f.page_bytes / self.engine.filter_bytes_per_s)
            per_channel = -(-n_pages // f.channels)
            # the filter follows the bus of its channel: it adds one page's delay, or sets the pace if slower
            flash_end = max(flash_end + filt, first + per_channel * filt)
            first += filt
        e = self.engine.page_ps(f.page_bytes, tokens_per_page)
        # the fullest channels deliver their last pages at the same instant: the engine takes them in turn
        last_group = n_pages % f.channels or f.channels
        end = max(flash_end + last_group * e, first + n_pages * e) + self.engine.cycles_ps(self.engine.pipeline_cycles)
        return {"end_ps": end, "array_ps": n_pages * f.read_ps // f.planes if f.planes else 0,
                "bus_ps": n_pages * f.xfer_ps, "engine_ps": n_pages * e,
                "filter_ps": n_pages * filt}

    def attention(self, phases: tuple[int, ...], filtered: bool = False) -> dict[str, int]:
        """Phases in sequence; the busy times add, the end is the sum of the phases' ends."""
        out = {"end_ps": 0, "array_ps": 0, "bus_ps": 0, "engine_ps": 0, "filter_ps": 0}
        for n in phases:
            ph = self.phase(n, filtered=filtered)
            for k, v in ph.items():
                out[k] += v
        return out

    def attention_energy_pj(self, phases: tuple[int, ...], macs: int) -> dict[str, float]:
        f = self.flash
        n = sum(phases)
        return {"flash_read": n * f.read_energy_pj, "channel_bus": n * f.page_bytes * f.bus_energy_pj_per_byte,
                "attention_engine": macs * self.engine.energy_pj_per_mac}

    # -- writes and transfers ---------------------------------------------------------------------------------
    def program_ps(self, n_pages: int) -> int:
        """Striped programs of ``n_pages`` pages whose data streams out of drive DRAM (the slower of the two)."""
        t = striped_ps(self.flash, n_pages, "program")
        if self.dram_bytes_per_s and n_pages:
            t = max(t, ps(n_pages * self.flash.page_bytes / self.dram_bytes_per_s) + self.flash.prog_ps)
        return t

    def p2p_ps(self, nbytes: int) -> int:
        if nbytes <= 0:
            return 0
        return self.p2p_latency_ps + self.pcie.transfer_ps(nbytes)

    def read_bandwidth(self) -> float:
        """Streaming read bandwidth of the array (bytes/s)."""
        return self.flash.peak_read_bytes_per_s()

    def seconds(self, ps_: int) -> float:
        return ps_ / PS_PER_S


def expected_groups_touched(groups: int, per_group: int, chosen: int) -> float:
    """Expected number of the ``groups`` groups of ``per_group`` items that hold at least one of ``chosen``
    items drawn uniformly without replacement (a page is read if any entry on it is needed)."""
    total = groups * per_group
    if chosen <= 0:
        return 0.0
    if chosen > total - per_group:
        return float(groups)
    # P(a group untouched) = C(total - per_group, chosen) / C(total, chosen)
    log_p = (math.lgamma(total - per_group + 1) - math.lgamma(total - per_group - chosen + 1)
             - math.lgamma(total + 1) + math.lgamma(total - chosen + 1))
    return groups * (1.0 - math.exp(log_p))

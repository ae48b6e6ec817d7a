"""A DRAM configuration resolved from the architecture spec: organization, standard, timings, energies.

Everything the channel model, the controller and the checker need comes from here, and everything here comes
from the ``dram`` component of the spec (nothing is hard-coded): the standard named by ``timing_preset`` with
``timing_cycles`` overrides applied by name, the organization counts, the clock, the address mapping and the
per-command energies evaluated from the standard's energy expressions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from archsim.base.errors import ArchSpecError
from archsim.cyclesim.dram.standards import (Standard, evaluate, get_standard, hidden_activation,
                                             register_reads_in_bank_mode)

_ENERGY_PARAMS = ("act_energy_pj", "rd_energy_pj", "wr_energy_pj", "io_energy_pj_per_bit", "mac_energy_pj",
                  "ref_energy_pj")


@dataclass
class DramConfig:
    standard: Standard
    timings: dict[str, int]
    latencies: dict[str, int]           # rule name -> cycles
    channels: int
    bank_groups: int
    banks_per_group: int
    rows: int
    columns: int                        # device columns per row (of device_width bits)
    device_width: int
    burst_length: int
    freq_mhz: float
    address_mapping: str
    refresh: bool
    queue_entries: int
    act_standby_mw: float
    pre_standby_mw: float
    params: dict[str, Any] = field(default_factory=dict)
    file: str | None = None
    # derived per command
    energy_pj: dict[str, float] = field(default_factory=dict)
    done: dict[str, int] = field(default_factory=dict)
    bus_bytes: dict[str, int] = field(default_factory=dict)
    bank_bytes: dict[str, int] = field(default_factory=dict)
    acts: dict[str, int] = field(default_factory=dict)
    accesses: dict[str, int] = field(default_factory=dict)

    @property
    def banks(self) -> int:
        return self.bank_groups * self.banks_per_group

    @property
    def access_bytes(self) -> int:
        """Bytes moved by one column command (one burst): device_width x burst_length bits."""
        return self.device_width * self.burst_length // 8

    @property
    def row_accesses(self) -> int:
        """Column commands per row: the ``col`` field of requests and commands runs over 0..row_accesses-1."""
        return self.columns // self.burst_length

    @property
    def row_bytes(self) -> int:
        return self.columns * self.device_width // 8

    @property
    def ns_per_cycle(self) -> float:
        return 1e3 / self.freq_mhz

    @property
    def clock_label(self) -> str:
        return f"dram clock {self.freq_mhz:g} MHz"

    def names(self) -> dict[str, float]:
        """Names available to energy/size expressions: timings, energy params, organization counts."""
        out: dict[str, float] = dict(self.timings)
        out.update({k: float(self.params.get(k, 0.0) or 0.0) for k in _ENERGY_PARAMS})
        out.update(banks=self.banks, access_bytes=self.access_bytes, access_bits=self.access_bytes * 8,
                   bank_groups=self.bank_groups, channels=self.channels)
        return out

    @classmethod
    def from_params(cls, params: dict[str, Any], *, file: str | None = None) -> "DramConfig":
        std = get_standard(params.get("timing_preset", "GDDR6_2000"))
        if params.get("rdmac_mode", "reg") == "bank":  # what-if: RD_MAC without the register-mode change
            std = register_reads_in_bank_mode(std)
        timings = std.resolve(params.get("timing_cycles") or {}, file=file)
        latencies = std.latencies(timings)
        if int(params.get("num_row_buffers", 1)) == 2:  # what-if: a second row buffer hides the row switch
            latencies = hidden_activation(latencies, timings, int(params.get("columns", 1024))
                                          // int(params.get("burst_length", 16)))
        cfg = cls(
            standard=std, timings=timings, latencies=latencies,
            channels=int(params["channels"]), bank_groups=int(params.get("bank_groups", 4)),
            banks_per_group=int(params.get("banks_per_group", 4)), rows=int(params.get("rows", 16384)),
            columns=int(params.get("columns", 1024)), device_width=int(params.get("device_width", 16)),
            burst_length=int(params.get("burst_length", 16)), freq_mhz=float(params["freq_mhz"]),
            address_mapping=params.get("address_mapping", "RoBaBgCoCh"),
            refresh=params.get("refresh", "all_bank") != "none",
            queue_entries=int(params.get("request_queue_entries", 32)),
            act_standby_mw=float(params.get("act_standby_mw", 0.0)),
            pre_standby_mw=float(params.get("pre_standby_mw", 0.0)),
            params=dict(params), file=file)
        if cfg.columns % cfg.burst_length:
            raise ArchSpecError(f"columns ({cfg.columns}) must be a multiple of burst_length ({cfg.burst_length})",
                                file=file, key="dram.columns")
        if cfg.device_width * cfg.burst_length % 8:
            raise ArchSpecError("device_width x burst_length must be a whole number of bytes", file=file,
                                key="dram.burst_length")
        names = cfg.names()
        for name, c in std.commands.items():
            what = f"{std.name} command {name}"
            cfg.energy_pj[name] = float(evaluate(c.energy, names, what=what))
            cfg.done[name] = int(evaluate(c.done, names, what=what))
            cfg.bus_bytes[name] = int(evaluate(c.bus_bytes, names, what=what))
            cfg.bank_bytes[name] = int(evaluate(c.bank_bytes, names, what=what))
            cfg.acts[name] = int(evaluate(c.acts, names, what=what))
            cfg.accesses[name] = int(evaluate(c.accesses, names, what=what))
        return cfg

    @classmethod
    def from_spec(cls, spec: Any, component: str = "dram") -> "DramConfig":
        """From an :class:`archsim.arch.ArchSpec`, an :class:`archsim.arch.Component`, a shipped spec name, or a params dict."""
        from archsim import arch

        if isinstance(spec, DramConfig):
            return spec
        if isinstance(spec, str):
            spec = arch.load(spec)
        if isinstance(spec, arch.ArchSpec):
            return cls.from_params(spec.component(component).params, file=spec.file)
        if isinstance(spec, arch.Component):
            return cls.from_params(spec.params)
        if isinstance(spec, dict):
            return cls.from_params(spec)
        raise TypeError(f"expected an ArchSpec, a Component, a spec name or a params dict, got {type(spec)}")

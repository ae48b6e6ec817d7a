"""DRAM standards as data: levels, commands, states and timing rules (in the spirit of Ramulator 2.1).

A standard is a plain table. The scheduler (:mod:`archsim.cyclesim.dram.channel`) compiles it into per-bank earliest-issue
arrays; the checker (:mod:`archsim.cyclesim.dram.checker`) reads the same table and replays a command trace against it
with a separate, naive implementation. Nothing about GDDR6 is hard-coded elsewhere.

Commands. ``scope`` is ``bank`` (addresses one bank) or ``channel`` (acts on the whole channel: every bank, the
global buffer or the mode register). ``needs`` is the row-buffer precondition (``closed``: the bank, or for a
channel command every bank, has no open row; ``open``: the row the command names is open in its bank, or in every
bank; ``any``), ``effect`` is ``open``/``close``/``None``, ``mode`` the channel mode the command needs (``bank``,
``reg``, ``any``; AiM register-mode commands need a mode change first), ``sets_mode`` the mode a mode-change
command enters. ``done`` is the latency from issue until the command's effect is complete (read data returned,
write data in, precharge finished), used for the end of a run and for SYNC. ``energy`` is an expression over the
spec's energy parameters and the organization (``banks``, ``access_bits``); ``bus_bytes``/``bank_bytes`` count
data over the pins and inside the banks; ``acts``/``accesses`` count bank activations and bank column accesses
(for the row-hit rate).

Rules. ``{name, scope, preceding, following, latency, window, source}``: a command in ``following`` may issue no
earlier than ``latency`` cycles after a command in ``preceding`` when both are in the same ``scope`` node
(``channel``: same channel; ``bankgroup``: same bank group; ``bank``: same bank). A channel-scope command is in
every bank group and bank of its channel. ``window: w`` means the constraint is against the w-th most recent
preceding command (tFAW: window 4). ``*`` means every command. ``latency`` is an expression of named timings
(``nCL+nBL+2-nCWL``).
"""

from __future__ import annotations

import ast
import operator
from dataclasses import dataclass, field

from archsim.base.errors import ArchSpecError, SimulationError

LEVELS = ("channel", "bankgroup", "bank", "row", "column")
SCOPES = ("channel", "bankgroup", "bank")

_RAMULATOR = "Ramulator 2.0 GDDR6 (src/dram/impl/GDDR6.cpp) as extended by the public AiM simulator"
_AIM_TABLE = "[public-sim] AiM simulator GDDR6_AiM timing preset (reference/pim-gpt.md)"


@dataclass(frozen=True)
class CommandDef:
    name: str
    scope: str                      # "bank" | "channel"
    needs: str = "any"              # "closed" | "open" | "any"
    effect: str | None = None       # "open" | "close" | None
    mode: str = "bank"              # "bank" | "reg" | "any"
    sets_mode: str | None = None
    done: str = "1"                 # cycles from issue to completion
    energy: str = "0"               # pJ per command
    bus_bytes: str = "0"
    bank_bytes: str = "0"
    acts: str = "0"                 # bank activations this command performs
    accesses: str = "0"             # bank column accesses this command performs
    column: bool = False            # takes a column address
    refresh: bool = False
    source: str = ""


@dataclass(frozen=True)
class Rule:
    name: str
    scope: str
    preceding: tuple[str, ...]
    following: tuple[str, ...]
    latency: str
    window: int = 1
    source: str = ""


def _cmds(*defs: CommandDef) -> dict[str, CommandDef]:
    return {d.name: d for d in defs}


def _r(name, scope, preceding, following, latency, window=1, source=_RAMULATOR) -> Rule:
    split = (lambda s: tuple(s.split()) if isinstance(s, str) else tuple(s))
    return Rule(name, scope, split(preceding), split(following), latency, window, source)


_IO = "io_energy_pj_per_bit * access_bits"

_BASE_COMMANDS = _cmds(
    CommandDef("ACT", "bank", needs="closed", effect="open", energy="act_energy_pj", acts="1",
               source="JEDEC GDDR6 ACTIVATE; energy of the ACT+PRE pair booked on ACT"),
    CommandDef("PRE", "bank", needs="open", effect="close", done="nRP", source="JEDEC GDDR6 PRECHARGE"),
    CommandDef("PREA", "channel", effect="close", done="nRP", source="JEDEC GDDR6 PRECHARGE ALL"),
    CommandDef("RD", "bank", needs="open", done="nCL+nBL", energy=f"rd_energy_pj + {_IO}",
               bus_bytes="access_bytes", bank_bytes="access_bytes", accesses="1", column=True,
               source="JEDEC GDDR6 READ (one burst of burst_length beats)"),
    CommandDef("WR", "bank", needs="open", done="nCWL+nBL", energy=f"wr_energy_pj + {_IO}",
               bus_bytes="access_bytes", bank_bytes="access_bytes", accesses="1", column=True,
               source="JEDEC GDDR6 WRITE (one burst)"),
    CommandDef("REFab", "channel", needs="closed", done="nRFC", energy="ref_energy_pj", refresh=True,
               source="JEDEC GDDR6 all-bank REFRESH"),
)

_PIM_COMMANDS = _cmds(
    CommandDef("ACT16", "channel", needs="closed", effect="open", energy="act_energy_pj * banks", acts="banks",
               source="[public-sim] AiM ACT16: activate the same row in every bank of the channel"),
    CommandDef("MAC", "bank", needs="open", done="1", energy="mac_energy_pj / banks",
               bank_bytes="access_bytes", accesses="1", column=True,
               source="[public-sim] AiM MAC_SBK: one 256-bit column MAC in one bank"),
    CommandDef("MAC16", "channel", needs="open", done="1", energy="mac_energy_pj",
               bank_bytes="banks * access_bytes", accesses="banks", column=True,
               source="[public-sim] AiM MAC_ABK: one 256-bit column MAC in every bank"),
    CommandDef("EWMUL16", "channel", needs="open", done="1", energy="mac_energy_pj",
               bank_bytes="banks * access_bytes", accesses="banks", column=True,
               source="[public-sim] AiM EWMUL; energy [assumed: like one MAC16]"),
    CommandDef("AF16", "channel", needs="open", done="1", energy="mac_energy_pj", accesses="banks",
               source="[public-sim] AiM AF (activation-function lookup); energy [assumed: like one MAC16]"),
    CommandDef("WRGB", "channel", mode="reg", done="nCWLGB+nBL", energy=_IO, bus_bytes="access_bytes",
               column=True, source="[public-sim] AiM WR_GB: write one 256-bit column of the global buffer"),
    CommandDef("RDMAC16", "channel", mode="reg", done="nCLREG+nBL", energy=_IO, bus_bytes="access_bytes",
               source="[public-sim] AiM RD_MAC: read the MAC result registers of every bank"),
    CommandDef("WRMAC16", "channel", mode="reg", done="nCWLREG+nBL", energy=_IO, bus_bytes="access_bytes",
               source="[public-sim] AiM WR_BIAS: write the MAC result registers of every bank"),
    CommandDef("WRA16", "channel", needs="open", effect="close", done="nCWL+nBL+nRP",
               energy=f"wr_energy_pj * banks + {_IO}", bus_bytes="access_bytes", bank_bytes="banks * access_bytes",
               accesses="banks", column=True,
               source="[public-sim] AiM WR_ABK: one column written to every bank, auto-precharge; done nCWL+nBL+nRPab"),
    CommandDef("RDAF16", "channel", mode="reg", done="nCLREG+nBL", energy=_IO, bus_bytes="access_bytes",
               source="[public-sim] AiM RD_AF: read the activation-function results of every bank"),
    CommandDef("RDCP", "bank", needs="open", done="1", energy="rd_energy_pj", bank_bytes="access_bytes",
               accesses="1", column=True,
               source="[public-sim] AiM COPY_BKGB: one bank column into the global buffer; energy [assumed: a RD]"),
    CommandDef("WRCP", "bank", needs="open", done="1", energy="wr_energy_pj", bank_bytes="access_bytes",
               accesses="1", column=True,
               source="[public-sim] AiM COPY_GBBK: one global-buffer column into a bank; energy [assumed: a WR]"),
    CommandDef("MODE_REG", "channel", mode="any", sets_mode="reg", done="nMODCH",
               source="[public-sim] mode change (TMOD) into register mode, nMODCH"),
    CommandDef("MODE_BANK", "channel", mode="any", sets_mode="bank", done="nMODCH",
               source="[public-sim] mode change (TMOD) back to bank mode, nMODCH"),
)

_BASE_RULES = [
    _r("cmd_bus", "channel", "*", "*", "1", source="[assumed: one command per cycle on a channel's command bus]"),
    _r("bus_rd", "channel", "RD RDMAC16", "RD RDMAC16", "nBL"),
    _r("bus_wr", "channel", "WR WRGB WRMAC16", "WR WRGB WRMAC16", "nBL"),
    _r("ccd_s_rd", "channel", "RD MAC MAC16 EWMUL16 AF16", "RD MAC MAC16 EWMUL16 AF16", "nCCDS"),
    _r("ccd_s_wr", "channel", "WR WRGB WRMAC16", "WR WRGB WRMAC16", "nCCDS"),
    _r("rtw", "channel", "RD", "WR", "nCL+nBL+2-nCWL",
       source="read-to-write bus turnaround as in Ramulator 2.0 DDR4 (nCL+nBL+2-nCWL)"),
    _r("rtw_reg", "channel", "RD", "WRGB WRMAC16", "nCL+nBL+2-nCWLREG"),
    _r("rtw_regrd", "channel", "RDMAC16", "WR", "nCLREG+nBL+2-nCWL"),
    _r("rtw_regreg", "channel", "RDMAC16", "WRGB WRMAC16", "nCLREG+nBL+2-nCWLREG"),
    _r("wtr_s", "channel", "WR", "RD RDMAC16", "nCWL+nBL+nWTRS"),
    _r("wtr_s_reg", "channel", "WRGB WRMAC16", "RD RDMAC16", "nCWLREG+nBL+nWTRS"),
    _r("rrd_s", "channel", "ACT ACT16", "ACT ACT16", "nRRDS"),
    _r("modch_reg", "channel", "MODE_REG", "WRGB RDMAC16 WRMAC16 MODE_BANK", "nMODCH", source=_AIM_TABLE),
    _r("modch_bank", "channel", "MODE_BANK", "ACT ACT16 PRE PREA RD WR MAC MAC16 EWMUL16 AF16 REFab MODE_REG",
       "nMODCH", source=_AIM_TABLE),
    _r("drain_gb", "channel", "WRGB", "MODE_BANK", "nCWLGB+nBL",
       source="[assumed: global-buffer write data lands before leaving register mode]"),
    _r("drain_wrmac", "channel", "WRMAC16", "MODE_BANK", "nCWLREG+nBL", source="[assumed: as drain_gb]"),
    _r("drain_rdmac", "channel", "RDMAC16", "MODE_BANK", "nCLREG+nBL",
       source="[assumed: register read data leaves before the mode change]"),
    _r("drain_rd", "channel", "RD", "MODE_REG", "nCL+nBL", source="[assumed: read data out before TMOD]"),
    _r("drain_wr", "channel", "WR EWMUL16", "MODE_REG", "nCWL+nBL", source="[assumed: write data in before TMOD]"),
    _r("drain_mac", "channel", "MAC MAC16 AF16", "MODE_REG", "nCCDL",
       source="[assumed: the MAC pipeline retires its last column before the registers are read]"),
    _r("refresh_mode", "channel", "REFab", "MODE_REG MODE_BANK", "nRFC",
       source="[assumed: no command during an all-bank refresh]"),
    _r("ccd_l_rd", "bankgroup", "RD MAC MAC16 EWMUL16 AF16", "RD MAC MAC16 EWMUL16 AF16", "nCCDL"),
    _r("ccd_l_wr", "bankgroup", "WR WRGB WRMAC16", "WR WRGB WRMAC16", "nCCDL"),
    _r("wtr_l", "bankgroup", "WR", "RD", "nCWL+nBL+nWTRL"),
    _r("rrd_l", "bankgroup", "ACT ACT16", "ACT ACT16", "nRRDL"),
    _r("rcd_rd", "bank", "ACT ACT16", "RD", "nRCDRD"),
    _r("rcd_wr", "bank", "ACT ACT16", "WR", "nRCDWR"),
    _r("rcd_mac", "bank", "ACT ACT16", "MAC MAC16", "nRCDRDMAC", source=_AIM_TABLE),
    _r("rcd_ewmul", "bank", "ACT ACT16", "EWMUL16", "nRCDEWMUL", source=_AIM_TABLE),
    _r("rcd_af", "bank", "ACT ACT16", "AF16", "nRCDRDAF", source=_AIM_TABLE),
    _r("ras", "bank", "ACT ACT16", "PRE PREA", "nRAS"),
    _r("rc", "bank", "ACT ACT16", "ACT ACT16", "nRC"),
    _r("rp", "bank", "PRE PREA", "ACT ACT16", "nRP"),
    _r("rtp", "bank", "RD MAC MAC16 AF16", "PRE PREA", "nRTP"),
    _r("wr_recovery", "bank", "WR EWMUL16", "PRE PREA", "nCWL+nBL+nWR"),
    _r("pre_ref", "bank", "PRE PREA", "REFab", "nRP"),
    _r("act_ref", "bank", "ACT ACT16", "REFab", "nRC"),
    _r("rfc", "bank", "REFab", "ACT ACT16 REFab", "nRFC"),
]

_AIM_SIM = ("[public-sim] AiM simulator GDDR6-AiM derived constraint (its GDDR6.cpp timing table, tWPRE = 1 tCK); "
            "reference/pim-gpt.md, issue 10")

# Where the public AiM simulator's rules differ from the GDDR6 base table, its rules (by name; same scope).
_AIM_OVERRIDES = {
    "rtw": ("RD", "WR", "nCL+nBL+3-nCWL+nWPRE"),                          # 50
    "rtw_reg": ("RD", "WRGB WRMAC16", "nCL+nBL+3-nCWLREG+nWPRE"),         # 55 (nCWLGB = nCWLREG)
    "rtw_regrd": ("RDMAC16", "WR", "nCLREG+nBL+3-nCWL+nWPRE"),            # 0: never binds
    "rtw_regreg": ("RDMAC16", "WRGB WRMAC16", "nCLREG+nBL+3-nCWLREG+nWPRE"),  # 5
    "wtr_s_reg": ("WRGB", "RD RDMAC16", "nCWLGB+nBL+nWTRS"),              # 12
}
_AIM_EXTRA = [
    # WRA16 (WR_ABK): a write to every bank with auto-precharge, and RDAF16 (RD_AF) a register read like RDMAC16
    _r("bus_wra16", "channel", "WR WRGB WRMAC16 WRA16", "WRA16", "nBL", source=_AIM_SIM),
    _r("bus_after_wra16", "channel", "WRA16", "WR WRGB WRMAC16", "nBL", source=_AIM_SIM),
    _r("ccd_l_wra16", "bankgroup", "WR WRGB WRMAC16 WRA16", "WRA16", "nCCDL", source=_AIM_SIM),
    _r("ccd_l_after_wra16", "bankgroup", "WRA16", "WR WRGB WRMAC16", "nCCDL", source=_AIM_SIM),
    _r("rtw_wra16", "channel", "RD", "WRA16", "nCL+nBL+3-nCWL+nWPRE", source=_AIM_SIM),
    _r("rtw_reg_wra16", "channel", "RDMAC16 RDAF16", "WRA16", "nCLREG+nBL+3-nCWL+nWPRE", source=_AIM_SIM),
    _r("wtr_l_wra16", "channel", "WRA16", "RD RDMAC16 RDAF16", "nCWL+nBL+nWTRL", source=_AIM_SIM),
    _r("rcd_wra16", "bank", "ACT ACT16", "WRA16", "nRCDWR", source=_AIM_SIM),
    _r("wra16_act", "bank", "WRA16", "ACT ACT16 REFab", "nCWL+nBL+nWR+nRP", source=_AIM_SIM),    # 73
    _r("drain_wra16", "channel", "WRA16", "MODE_REG", "nCWL+nBL+nRP", source="[assumed: as drain_wr]"),
    _r("bus_rdaf", "channel", "RD RDMAC16 RDAF16", "RDAF16", "nBL", source=_AIM_SIM),
    _r("bus_after_rdaf", "channel", "RDAF16", "RD RDMAC16", "nBL", source=_AIM_SIM),
    _r("rtw_regreg_af", "channel", "RDAF16", "WRGB WRMAC16", "nCLREG+nBL+3-nCWLREG+nWPRE", source=_AIM_SIM),
    _r("wtr_rdaf", "channel", "WRGB WRMAC16", "RDAF16", "nCWLREG+nBL+nWTRS", source=_AIM_SIM),
    _r("modch_reg_af", "channel", "MODE_REG", "RDAF16", "nMODCH", source=_AIM_TABLE),
    _r("drain_rdaf", "channel", "RDAF16", "MODE_BANK", "nCLREG+nBL", source="[assumed: as drain_rdmac]"),
    _r("modch_bank_wra16", "channel", "MODE_BANK", "WRA16", "nMODCH", source=_AIM_TABLE),
    # RDCP / WRCP (COPY_BKGB / COPY_GBBK): bank-side column commands in the read / write column groups
    _r("ccd_s_rdcp", "channel", "RD MAC MAC16 EWMUL16 AF16 RDCP", "RDCP", "nCCDS", source=_AIM_SIM),
    _r("ccd_s_after_rdcp", "channel", "RDCP", "RD MAC MAC16 EWMUL16 AF16", "nCCDS", source=_AIM_SIM),
    _r("ccd_l_rdcp", "bankgroup", "RD MAC MAC16 EWMUL16 AF16 RDCP", "RDCP", "nCCDL", source=_AIM_SIM),
    _r("ccd_l_after_rdcp", "bankgroup", "RDCP", "RD MAC MAC16 EWMUL16 AF16", "nCCDL", source=_AIM_SIM),
    _r("ccd_s_wrcp", "channel", "WR WRA16 WRCP", "WRCP", "nCCDS", source=_AIM_SIM),
    _r("ccd_s_after_wrcp", "channel", "WRCP", "WR WRA16", "nCCDS", source=_AIM_SIM),
    _r("ccd_l_wrcp", "bankgroup", "WR WRA16 WRCP", "WRCP", "nCCDL", source=_AIM_SIM),
    _r("ccd_l_after_wrcp", "bankgroup", "WRCP", "WR WRA16", "nCCDL", source=_AIM_SIM),
    _r("rcd_rdcp", "bank", "ACT ACT16", "RDCP", "nRCDRDCP", source=_AIM_TABLE),
    _r("rcd_wrcp", "bank", "ACT ACT16", "WRCP", "nRCDWRCP", source=_AIM_TABLE),
    _r("rtp_rdcp", "bank", "RDCP", "PRE PREA", "nRTP", source="[assumed: as a RD]"),
    _r("wr_recovery_wrcp", "bank", "WRCP", "PRE PREA", "nCWL+nBL+nWR", source="[assumed: as a WR]"),
    _r("drain_cp", "channel", "RDCP WRCP", "MODE_REG", "nCCDL", source="[assumed: as drain_mac]"),
    _r("wtr_s_wrmac", "channel", "WRMAC16", "RD", "nCWLREG+nBL+nWTRS", source=_AIM_SIM),           # 12
    _r("wtr_l_wrmac", "channel", "WRMAC16", "RDMAC16", "nCWLREG+nBL+nWTRL", source=_AIM_SIM),      # 14
]


def _aim_rules() -> list:
    out = []
    for r in _BASE_RULES:
        if r.name in _AIM_OVERRIDES:
            pre, fol, lat = _AIM_OVERRIDES[r.name]
            r = _r(r.name, r.scope, pre, fol, lat, r.window, source=_AIM_SIM)
        out.append(r)
    return out + _AIM_EXTRA


_FAW = _r("faw", "channel", "ACT", "ACT", "nFAW", window=4, source="JEDEC GDDR6 four-activate window")

_GDDR6_TIMINGS = {
    "nBL": 8, "nCL": 24, "nRCDRD": 26, "nRCDWR": 16, "nRP": 26, "nRAS": 53, "nRC": 79, "nWR": 26, "nRTP": 4,
    "nCWL": 6, "nCCDS": 4, "nCCDL": 6, "nRRDS": 7, "nRRDL": 7, "nWTRS": 9, "nWTRL": 11, "nFAW": 28,
    "nRFC": 210, "nRFCpb": 105, "nREFI": 3333,
}

_AIM_TIMINGS = {
    "nBL": 2, "nCL": 50, "nRCDRD": 36, "nRCDRDMAC": 56, "nRCDWR": 28, "nRP": 32, "nRAS": 54, "nRC": 89,
    "nWR": 33, "nRTP": 12, "nCWL": 6, "nCCDS": 2, "nCCDL": 2, "nRRDS": 11, "nRRDL": 11, "nFAW": 42,
    "nRFC": 210, "nRFCpb": 105, "nREFI": 3333, "nRCDEWMUL": 25, "nRCDRDAF": 86, "nRCDRDCP": 66, "nRCDWRCP": 48,
    "nCLGB": 1, "nCWLGB": 1, "nCWLREG": 1, "nCLREG": 0, "nMODCH": 32, "nWPRE": 1,
    # not in the AiM table: [assumed: the GDDR6_2000 values]
    "nWTRS": 9, "nWTRL": 11,
}

# Which command fills each role of the controller (so the controller names no command itself).
_BASE_ROLES = {"open": "ACT", "close": "PRE", "close_all": "PREA", "refresh": "REFab", "read": "RD", "write": "WR"}
_PIM_ROLES = {**_BASE_ROLES, "open_all": "ACT16", "mode_reg": "MODE_REG", "mode_bank": "MODE_BANK"}

# PIM instruction -> DRAM command it streams (the controller adds ACT/PRE/mode changes as the rules need).
_PIM_INSTRUCTIONS = {
    "WR_GB": "WRGB", "MAC_ABK": "MAC16", "RD_MAC": "RDMAC16", "WR_BIAS": "WRMAC16", "EWMUL": "EWMUL16",
    "AF": "AF16", "MAC_SBK": "MAC", "RD_SBK": "RD", "WR_SBK": "WR", "WR_ABK": "WRA16", "RD_AF": "RDAF16",
    "COPY_BKGB": "RDCP", "COPY_GBBK": "WRCP",
}


@dataclass(frozen=True)
class Standard:
    """One DRAM standard: the table above, filtered to its commands, plus default timing values with sources."""

    name: str
    source: str
    commands: dict[str, CommandDef]
    rules: tuple[Rule, ...]
    timings: dict[str, int]
    timing_source: str
    roles: dict[str, str]
    instructions: dict[str, str] = field(default_factory=dict)
    levels: tuple[str, ...] = LEVELS
    states: dict[str, tuple[str, ...]] = field(
        default_factory=lambda: {"bank": ("closed", "opened"), "channel_mode": ("bank", "reg")})

    def rules_for(self, command: str) -> list[Rule]:
        """Rules in which ``command`` is the following command."""
        return [r for r in self.rules if command in r.following]

    def resolve(self, overrides: dict[str, float] | None = None, *, file: str | None = None) -> dict[str, int]:
        """Timing values in cycles: the preset with ``overrides`` applied by name (unknown names are errors)."""
        values = dict(self.timings)
        for key, v in (overrides or {}).items():
            if key not in values:
                raise ArchSpecError(f"unknown timing {key!r} for standard {self.name}; expected one of: "
                                    f"{', '.join(sorted(values))}", file=file, key=f"dram.timing_cycles.{key}")
            if isinstance(v, float) and not v.is_integer():
                raise ArchSpecError(f"expected a whole number of cycles, got {v}", file=file,
                                    key=f"dram.timing_cycles.{key}")
            values[key] = int(v)
        return values

    def latencies(self, timings: dict[str, int]) -> dict[str, int]:
        """``{rule name: latency in cycles}``. A latency that evaluates below 0 (e.g. a read-to-write turnaround
        from a register read, nCLREG+nBL+2-nCWL) never binds and counts as 0."""
        out = {}
        for r in self.rules:
            lat = int(evaluate(r.latency, timings, what=f"rule {r.name}"))
            out[r.name] = lat if lat > 0 else 0
        return out


def _build(name: str, source: str, commands: dict[str, CommandDef], rules: list[Rule], timings: dict[str, int],
           timing_source: str, roles: dict[str, str], instructions: dict[str, str]) -> Standard:
    """Keep the rules (and rule members) that name commands of this standard; check every name resolves."""
    kept = []
    for r in rules:
        pre = r.preceding if r.preceding == ("*",) else tuple(c for c in r.preceding if c in commands)
        fol = r.following if r.following == ("*",) else tuple(c for c in r.following if c in commands)
        if pre and fol:
            kept.append(Rule(r.name, r.scope, pre, fol, r.latency, r.window, r.source))
    for r in kept:
        assert r.scope in SCOPES, r
        evaluate(r.latency, timings, what=f"{name} rule {r.name}")
    for c in commands.values():
        evaluate(c.done, timings, what=f"{name} command {c.name}")
    assert all(v in commands for v in roles.values()), roles
    return Standard(name, source, commands, tuple(kept), dict(timings), timing_source, roles, instructions)


# --- expressions ------------------------------------------------------------------------------------------------
_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
           ast.FloorDiv: operator.floordiv}


def evaluate(expr: str, names: dict[str, float], *, what: str = "expression") -> float:
    """Evaluate ``expr`` (names, numbers, + - * / //, unary -, max(), min()) against ``names``. No eval()."""
    try:
        tree = ast.parse(str(expr), mode="eval")
    except SyntaxError:
        raise SimulationError(f"{what}: cannot parse {expr!r}") from None

    def ev(node):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            return node.value
        if isinstance(node, ast.Name):
            if node.id not in names:
                raise SimulationError(f"{what}: unknown name {node.id!r} in {expr!r}")
            return names[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            return _BINOPS[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -ev(node.operand)
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("max", "min")
                and node.args and not node.keywords):
            return (max if node.func.id == "max" else min)(ev(a) for a in node.args)
        raise SimulationError(f"{what}: unsupported syntax in {expr!r}")

    return ev(tree)


# --- what-if variants of a standard (read from the spec: ``rdmac_mode``, ``num_row_buffers``) ---------------------
_RDMAC_BANK_RULES = [
    _r("mac_rdmac", "channel", "MAC MAC16", "RDMAC16", "nCCDL",
       source="[assumed: as drain_mac, the MAC pipeline retires its last column before its result is read]"),
    _r("rdmac_mac", "channel", "RDMAC16", "MAC MAC16", "nCLREG+nBL",
       source="[assumed: as drain_rdmac, the result leaves the register before the next MAC accumulates]"),
]


def register_reads_in_bank_mode(std: Standard) -> Standard:
    """``std`` with RDMAC16 (RD_MAC) issued in bank mode: no mode change around reading the MAC results, and
    two rules that keep the MAC pipeline and the result register ordered instead (``mac_rdmac``,
    ``rdmac_mac``). WRGB and WRMAC16 still need register mode."""
    if "RDMAC16" not in std.commands:
        raise ArchSpecError(f"rdmac_mode: standard {std.name} has no RD_MAC command", key="dram.rdmac_mode")
    from dataclasses import replace

    cmds = dict(std.commands)
    cmds["RDMAC16"] = replace(cmds["RDMAC16"], mode="bank",
                              source=cmds["RDMAC16"].source + "; issued in bank mode (what-if rdmac_mode: bank)")
    rules = list(std.rules) + _RDMAC_BANK_RULES
    return _build(std.name + "+rdmac_bank", std.source, cmds, rules, std.timings, std.timing_source, std.roles,
                  std.instructions)


#: rules a second row buffer takes off the critical path of a row switch, and the one that keeps the rest
HIDDEN_BY_SECOND_ROW_BUFFER = ("rtp", "rp", "ras", "rc", "rrd_s", "rrd_l")


def hidden_activation(latencies: dict[str, int], timings: dict[str, int], row_accesses: int) -> dict[str, int]:
    """Rule latencies with a second row buffer per bank (dual-row-buffer PIM): the next row is precharged and
    activated in the other buffer while the current row streams its ``row_accesses`` MAC columns, so a row
    switch costs only what the stream does not cover. Precharge (nRTP, nRP), nRAS, nRC and nRRD leave the
    critical path; ACT-to-MAC keeps the uncovered part, ``max(0, nRTP + nRP + nRCDRDMAC - row_accesses x
    nCCDL)``. This assumes full rows (the mapping streams each row whole); for rows cut short the benefit is
    overstated. Refresh rules (pre_ref, act_ref, rfc) are unchanged."""
    out = dict(latencies)
    for name in HIDDEN_BY_SECOND_ROW_BUFFER:
        if name in out:
            out[name] = 0
    if "rcd_mac" in out:
        stream = row_accesses * timings.get("nCCDL", 1)
        out["rcd_mac"] = max(0, timings.get("nRTP", 0) + timings.get("nRP", 0) + latencies["rcd_mac"] - stream)
    return out


STANDARDS: dict[str, Standard] = {
    "GDDR6_2000": _build(
        "GDDR6_2000", "JEDEC GDDR6 command set; timings from Ramulator 2.0 GDDR6_2000 presets [public-sim]",
        dict(_BASE_COMMANDS), _BASE_RULES + [_FAW], _GDDR6_TIMINGS,
        "[public-sim] Ramulator 2.0 GDDR6_2000 preset (reference/pim-gpt.md)", _BASE_ROLES, {}),
    "GDDR6_AiM": _build(
        "GDDR6_AiM", "SK hynix GDDR6-AiM command set as modelled by the public AiM simulator [public-sim]; "
        "tFAW not enforced (the preset lists nFAW 42 as disabled)",
        {**_BASE_COMMANDS, **_PIM_COMMANDS}, _aim_rules(), _AIM_TIMINGS, _AIM_TABLE, _PIM_ROLES, _PIM_INSTRUCTIONS),
}


def get_standard(name: str) -> Standard:
    try:
        return STANDARDS[name]
    except KeyError:
        raise ArchSpecError(f"unknown DRAM standard {name!r}; expected one of: {', '.join(STANDARDS)}",
                            key="dram.timing_preset") from None

"""DRAM and PIM-DRAM kinds: organization, clock, timing preset with per-timing overrides, energy."""

from archsim.arch.kinds import cross_check
from archsim.arch.registry import register_kind
from archsim.arch.schema import Param, choice, count, nonneg, number

_ORG = {
    "channels": count("independent channels"),
    "bank_groups": count("bank groups per channel", default=4),
    "banks_per_group": count("banks per bank group", default=4),
    "rows": count("rows per bank", default=16384),
    "columns": count("columns (of device_width bits) per row", default=1024),
    "device_width": count("data pins per channel (x16)", default=16),
    "burst_length": count("beats per column access", default=16),
    "channels_per_chip": count("channels per package", default=2),
    "freq_mhz": number("command clock frequency; every *_cycles value is in this clock"),
    "data_rate_gbps": number("per-pin data rate", default=16.0),
    "timing_preset": choice("named table of timing constraints (see cyclesim.dram.standards)",
                            ("GDDR6_2000", "GDDR6_AiM")),
    "timing_cycles": Param("dict", "overrides of single timing values by name, in command-clock cycles",
                           default={}),
    "address_mapping": choice("how a physical address splits into channel/bank/row/column",
                              ("RoBaBgCoCh", "RoCoBaBgCh", "ChRoBaBgCo"), default="RoBaBgCoCh"),
    "refresh": choice("refresh scheme", ("all_bank", "none"), default="all_bank"),
    "request_queue_entries": count("controller read/write queue depth per channel (FR-FCFS window)", default=32),
    "aim_queue_entries": count("AiM-format replay: requests a channel's queue holds before the host stalls "
                               "(public AiM simulator: Ramulator 2.0 ReqBuffer max_size 32)", default=32),
    # energy, from current-based power figures as Ramulator/DRAMPower-style scripts use them
    "act_standby_mw": nonneg("background power with a row open, per channel", default=0.0),
    "pre_standby_mw": nonneg("background power with all banks precharged, per channel", default=0.0),
    "act_energy_pj": nonneg("energy of one ACT+PRE pair", default=0.0),
    "rd_energy_pj": nonneg("energy of one column read (one burst)", default=0.0),
    "wr_energy_pj": nonneg("energy of one column write (one burst)", default=0.0),
    "io_energy_pj_per_bit": nonneg("off-chip I/O energy per bit", default=0.0),
    "ref_energy_pj": nonneg("energy of one all-bank refresh (REFab) of a channel", default=0.0),
}

register_kind("GDDR6", "GDDR6 DRAM: channels of bank groups of banks, ordinary read/write.", dict(_ORG),
              children=False)

register_kind("GDDR6_AiM", "GDDR6 with a MAC unit per bank (SK hynix AiM style): all-bank MAC commands.", {
    **_ORG,
    "macs_per_bank": count("bf16 multipliers per bank MAC unit", default=16),
    "global_buffer_bytes": count("per-channel global buffer holding the broadcast input vector", default=2048),
    "mac_energy_pj": nonneg("energy of one all-bank MAC16 command (16 banks x one 256-bit column)",
                            default=0.0),
    "mac_accum": choice("accumulator precision of the bank MAC unit", ("fp32", "bf16"), default="fp32"),
    "rdmac_mode": choice("channel mode RD_MAC needs: 'reg' (AiM: a mode change into and out of register mode "
                         "around it) or 'bank' (what-if: no mode change)", ("reg", "bank"), default="reg"),
    "num_row_buffers": count("row buffers per bank: 1 (AiM) or 2 (what-if: the next row is activated in the second "
                         "buffer while the current one streams; see cyclesim.dram.standards.hidden_activation)",
                         default=1, max=2),
}, children=False)


@cross_check("GDDR6", "GDDR6_AiM")
def _dram_org(p):
    for key in ("bank_groups", "banks_per_group", "rows", "columns"):
        v = p[key]
        if v & (v - 1):
            return key, f"expected a power of two, got {v}"
    return None

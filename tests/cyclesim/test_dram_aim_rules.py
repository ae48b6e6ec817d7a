"""Conformance with the public AiM simulator's GDDR6-AiM rules (issue 10): each gap and completion latency is
derived here from the named timing parameters and compared with what the scheduler issues (command mode, burst
mode and the independent checker agree on every trace)."""

import pytest

from dram_testlib import aim_spec
from archsim.cyclesim.dram import DramProgram, DramSystem, check_trace, rd_mac, wr_gb
from archsim.cyclesim.dram.program import rd_af, rd_sbk, wr_abk, wr_bias, wr_sbk


def run(items, spec=None):
    spec = spec or aim_spec(refresh="none")
    system = DramSystem(spec, "command")
    prog = DramProgram(system.cfg.channels)
    prog.add(0, *items)
    res = system.run(prog, trace=True)
    assert check_trace(res.trace, spec) == []
    burst = DramSystem(spec, "burst").run(prog, trace=True)
    assert (burst.cycles, burst.trace) == (res.cycles, res.trace)
    return res, system.cfg.timings


def at(res, cmd):
    return [t for t, ch, _b, c, _r, _col in res.trace if c == cmd and ch == 0]


def test_rdmac16_to_wrgb_and_wrmac16_is_nclreg_nbl_3_minus_ncwl_plus_nwpre():
    for follow, name, cwl in ((wr_gb(1), "WRGB", "nCWLGB"), (wr_bias(), "WRMAC16", "nCWLREG")):
        res, T = run([rd_mac(), follow])
        gap = T["nCLREG"] + T["nBL"] + 3 - T[cwl] + T["nWPRE"]
        assert gap == 5
        assert at(res, name)[0] - at(res, "RDMAC16")[0] == gap


def test_wrgb_to_rdmac16_is_ncwlgb_nbl_nwtrs():
    res, T = run([wr_gb(1), rd_mac()])
    assert at(res, "RDMAC16")[0] - at(res, "WRGB")[0] == T["nCWLGB"] + T["nBL"] + T["nWTRS"] == 12


def test_wrmac16_to_rdmac16_is_ncwlreg_nbl_nwtrl():
    res, T = run([wr_bias(), rd_mac()])
    assert at(res, "RDMAC16")[0] - at(res, "WRMAC16")[0] == T["nCWLREG"] + T["nBL"] + T["nWTRL"] == 14


def test_rd_to_wr_is_ncl_nbl_3_minus_ncwl_plus_nwpre():
    res, T = run([rd_sbk(0, 5, 0), wr_sbk(0, 5, 1)])
    assert at(res, "WR")[0] - at(res, "RD")[0] == T["nCL"] + T["nBL"] + 3 - T["nCWL"] + T["nWPRE"] == 50


@pytest.mark.parametrize("items, last, latency", [
    ([rd_sbk(0, 5, 0)], "RD", "nCL+nBL"),            # 52
    ([wr_sbk(0, 5, 0)], "WR", "nCWL+nBL"),           # 8
    ([wr_gb(1)], "WRGB", "nCWLGB+nBL"),              # 3
    ([wr_bias()], "WRMAC16", "nCWLREG+nBL"),         # 3
    ([rd_mac()], "RDMAC16", "nCLREG+nBL"),           # 2
    ([rd_af()], "RDAF16", "nCLREG+nBL"),             # 2
    ([wr_abk(5)], "WRA16", "nCWL+nBL+nRP"),          # 40
])
def test_completion_after_the_last_command(items, last, latency):
    """A run ends when its last command completes: the last command's issue cycle + its latency, unless a mode
    change back to bank mode is still needed (the controller leaves register mode only for bank commands)."""
    res, T = run(items)
    lat = sum(T[n] for n in latency.split("+"))
    assert lat == {"RD": 52, "WR": 8, "WRGB": 3, "WRMAC16": 3, "RDMAC16": 2, "RDAF16": 2, "WRA16": 40}[last]
    assert res.end_cycle == at(res, last)[-1] + lat


def test_mac16_completes_one_cycle_after_issue():
    from archsim.cyclesim.dram import mac_abk
    res, T = run([mac_abk(3, 0, 4)])
    macs = at(res, "MAC16")
    assert macs == [at(res, "ACT16")[0] + T["nRCDRDMAC"] + k * T["nCCDL"] for k in range(4)]
    assert res.end_cycle == macs[-1] + 1


def test_aim_reference_spec_is_the_simulators_effective_configuration():
    from archsim import arch
    from archsim.cyclesim.dram.config import DramConfig
    spec = arch.load("aim_reference")
    cfg = DramConfig.from_spec(spec)
    assert (cfg.channels, cfg.timings["nRRDS"], cfg.timings["nRRDL"], spec["dram.refresh"]) == (32, 5, 6, "none")
    res, _ = run([rd_mac()], spec)  # no refresh command ever appears
    assert "REFab" not in {c for _t, _ch, _b, c, _r, _col in res.trace}

"""Microbenchmarks with analytic answers, computed here from the timing parameters (never from the model).

Every command trace produced here also goes through the independent checker.
"""

from __future__ import annotations

import pytest

from dram_testlib import aim_spec, gddr6_spec
from archsim.cyclesim.dram import (DramProgram, DramSystem, act, check_trace, mac_abk, pre, rd, rd_mac, wr_gb)


def run(spec, prog, mode="command"):
    res = DramSystem(spec, mode).run(prog, trace=True)
    assert check_trace(res.trace, spec) == []
    other = DramSystem(spec, "burst" if mode == "command" else "command").run(prog, trace=True)
    assert (other.cycles, other.commands, other.trace) == (res.cycles, res.commands, res.trace)
    return res


def times(res, cmd):
    return [t for t, _ch, _b, c, _r, _col in res.trace if c == cmd]


# --- ordinary reads ------------------------------------------------------------------------------------------
def sequential_reads(system, n):
    prog = DramProgram(system.cfg.channels)
    for i in range(n):
        ch, b, r, c = system.decode(i * system.cfg.access_bytes)
        prog.add(ch, rd(b, r, c))
    return prog


def test_sequential_reads_without_refresh_reach_the_bus_peak():
    """RoBaBgCoCh: a sequential stream reads whole rows; the data bus (nBL per burst) is the bottleneck, ACT/PRE
    of the next bank overlap. First RD at nRCDRD, data of the last at + nCL + nBL: N*nBL + nRCDRD + nCL cycles."""
    spec = gddr6_spec(channels=1, refresh="none")
    system = DramSystem(spec, "command")
    T = system.cfg.timings
    n = 3000
    res = run(spec, sequential_reads(system, n))
    gap = max(T["nBL"], T["nCCDS"], T["nCCDL"])
    assert res.cycles == n * gap + T["nRCDRD"] + T["nCL"]
    peak = system.cfg.access_bytes / (gap * system.cfg.ns_per_cycle)        # GB/s of one channel
    assert res.bus_bandwidth_gbps == pytest.approx(peak * n * gap / res.cycles)
    rds = times(res, "RD")
    assert {b - a for a, b in zip(rds, rds[1:])} == {gap}


def test_sequential_reads_lose_exactly_the_refresh_gaps():
    """With all-bank refresh every nREFI, a refresh is due while the stream runs; the controller precharges all
    (no earlier than the due cycle and nRTP after the last read), waits nRP, refreshes for nRFC, re-activates and
    waits nRCDRD. So the read-to-read gap across a refresh is max(due - last_rd, nRTP) + nRP + nRFC + nRCDRD with
    1 <= due - last_rd <= nBL, every due cycle before the last read causes one refresh, and the bandwidth is the
    bus peak scaled by the time not lost to those gaps."""
    spec = gddr6_spec(channels=1, refresh="all_bank")
    system = DramSystem(spec, "burst")
    T = system.cfg.timings
    n = 12000
    res = run(spec, sequential_reads(system, n), mode="burst")
    rds = times(res, "RD")
    refresh_cost = T["nRP"] + T["nRFC"] + T["nRCDRD"]
    gaps = [b - a for a, b in zip(rds, rds[1:])]
    long_gaps = [g for g in gaps if g != T["nBL"]]
    assert res.refreshes == rds[-1] // T["nREFI"] == len(long_gaps) > 0
    for g in long_gaps:
        assert max(1, T["nRTP"]) + refresh_cost <= g <= T["nBL"] + refresh_cost
    assert res.cycles == n * T["nBL"] + T["nRCDRD"] + T["nCL"] + sum(g - T["nBL"] for g in long_gaps)
    peak = system.cfg.access_bytes / (T["nBL"] * system.cfg.ns_per_cycle)
    lo = peak * n * T["nBL"] / (n * T["nBL"] + T["nRCDRD"] + T["nCL"] + res.refreshes * refresh_cost)
    hi = peak * n * T["nBL"] / (n * T["nBL"] + T["nRCDRD"] + T["nCL"]
                                + res.refreshes * (refresh_cost + max(1, T["nRTP"]) - T["nBL"]))
    assert lo <= res.bus_bandwidth_gbps <= hi
    refs = times(res, "REFab")
    assert all(t % T["nREFI"] <= T["nRP"] + T["nBL"] + T["nRTP"] for t in refs)  # right after each due cycle


# --- row misses -----------------------------------------------------------------------------------------------
def test_row_miss_stream_to_one_bank_is_bound_by_trc():
    """Every read opens a new row of bank 0: PRE (nRAS after ACT), ACT (nRP after PRE): ACT-to-ACT = nRC, and
    the run takes (N-1) * nRC + nRCDRD + nCL + nBL cycles."""
    spec = gddr6_spec(channels=1, refresh="none")
    T = DramSystem(spec).cfg.timings
    assert T["nRAS"] + T["nRP"] == T["nRC"]
    n = 40
    prog = DramProgram(1)
    for i in range(n):
        prog.add(0, rd(0, i, 0))
    res = run(spec, prog)
    acts = times(res, "ACT")
    assert {b - a for a, b in zip(acts, acts[1:])} == {T["nRC"]}
    assert res.cycles == (n - 1) * T["nRC"] + T["nRCDRD"] + T["nCL"] + T["nBL"]
    assert res.row_hit_rate == 0.0


@pytest.mark.parametrize("timings, binding", [
    ({}, "nBL"),                                        # 28/4 = 7 = nRRD < nBL = 8: the data bus binds
    ({"nRRDS": 12, "nRRDL": 12}, "nRRDS"),              # tRRD binds
    ({"nFAW": 60}, "nFAW/4"),                           # four activates per nFAW window
])
def test_row_miss_stream_across_banks_is_bound_by_trrd_tfaw_or_the_bus(timings, binding):
    """Each read opens a new row in the next bank (bank groups alternate), so every request needs ACT (and PRE
    once a bank is reused). In steady state requests complete one per max(nBL, nRRDS, nFAW / 4) cycles: over any
    4 consecutive ACTs the time is 4 x that bound, and the whole run is within a start-up constant of N x bound."""
    spec = gddr6_spec(channels=1, refresh="none", timings=timings)
    system = DramSystem(spec)
    cfg, T = system.cfg, system.cfg.timings
    n = 400
    prog = DramProgram(1)
    for i in range(n):
        bank = (i % cfg.bank_groups) * cfg.banks_per_group + (i // cfg.bank_groups) % cfg.banks_per_group
        prog.add(0, rd(bank, 1 + i // cfg.banks, 0))
    res = run(spec, prog)
    bound = max(T["nBL"], T["nRRDS"], T["nFAW"] / 4)
    assert bound == {"nBL": T["nBL"], "nRRDS": T["nRRDS"], "nFAW/4": T["nFAW"] / 4}[binding]
    acts = times(res, "ACT")
    assert len(acts) == n
    mid = acts[n // 4: 3 * n // 4]
    assert all(b - a == 4 * bound for a, b in zip(mid, mid[4:]))
    startup = T["nRCDRD"] + T["nCL"] + T["nBL"] + T["nRC"]
    assert n * bound <= res.cycles <= n * bound + startup


# --- PIM ------------------------------------------------------------------------------------------------------
def test_all_bank_mac_stream_of_64_columns():
    """ACT16 at cycle 0; MAC16 k at nRCDRDMAC + k x nCCDL (k = 0..63); the 64th column's MAC completes 1 cycle
    after it issues (the public AiM simulator's MAC16 latency), at nRCDRDMAC + 63 x nCCDL + 1. With a precharge after it: PREA at max(last MAC16 + nRTP, ACT16 + nRAS), complete nRP
    later, so the run is nRCDRDMAC + 63 x nCCDL + nRTP + nRP (AiM timings) cycles. All 8 channels in parallel."""
    spec = aim_spec()
    system = DramSystem(spec)
    cfg, T = system.cfg, system.cfg.timings
    for with_pre in (False, True):
        prog = DramProgram(cfg.channels)
        for ch in range(cfg.channels):
            prog.add(ch, act(7), mac_abk(7, 0, 64), *([pre()] if with_pre else []))
        res = run(spec, prog)
        macs = [t for t, ch, _b, c, _r, _col in res.trace if c == "MAC16" and ch == 0]
        assert macs == [T["nRCDRDMAC"] + k * T["nCCDL"] for k in range(64)]
        if with_pre:
            prea = max(macs[-1] + T["nRTP"], T["nRAS"])
            assert times(res, "PREA") == [prea] * cfg.channels
            assert res.cycles == prea + T["nRP"] == T["nRCDRDMAC"] + 63 * T["nCCDL"] + T["nRTP"] + T["nRP"]
        else:
            assert res.cycles == T["nRCDRDMAC"] + 63 * T["nCCDL"] + 1
        assert res.commands["MAC16"] == 64 * cfg.channels
        assert res.bank_bytes == 64 * cfg.channels * cfg.banks * cfg.access_bytes
        assert res.row_hit_rate == pytest.approx(1 - 1 / 64)


def test_mac_rows_back_to_back_period():
    """MAC_ABK over 3 rows: each row costs ACT16 -> nRCDRDMAC -> 64 MAC16 -> nRTP -> PREA -> nRP -> next ACT16."""
    spec = aim_spec(refresh="none")
    T = DramSystem(spec).cfg.timings
    prog = DramProgram(1)
    prog.add(0, mac_abk(10, 0, 3 * 64))
    res = run(spec, prog)
    acts = times(res, "ACT16")
    period = T["nRCDRDMAC"] + 63 * T["nCCDL"] + T["nRTP"] + T["nRP"]
    assert [b - a for a, b in zip(acts, acts[1:])] == [period, period]
    assert [r for _t, _c, _b, c, r, _col in res.trace if c == "ACT16"] == [10, 11, 12]


@pytest.mark.parametrize("timings", [{}, {"nMODCH": 3}, {"nMODCH": 3, "nCWLGB": 20, "nCLREG": 9}])
def test_wr_gb_then_mac_abk_then_rd_mac(timings):
    """The order the rules allow: MODE_REG at 0; WRGB k at nMODCH + k x max(nBL, nCCDS, nCCDL); MODE_BANK when
    the last write landed (nCWLGB + nBL) and nMODCH after MODE_REG; ACT16 nMODCH later; MAC16 k at ACT16 +
    nRCDRDMAC + k x nCCDL; MODE_REG nCCDL after the last MAC16 (and nMODCH after MODE_BANK); RDMAC16 nMODCH
    later; the run ends when its data is out (nCLREG + nBL)."""
    spec = aim_spec(refresh="none", timing_cycles=timings)
    T = DramSystem(spec).cfg.timings
    ncols = 40
    prog = DramProgram(1)
    prog.add(0, wr_gb(ncols), mac_abk(3, 0, 64), rd_mac())
    res = run(spec, prog)
    seq = [(t, c) for t, _ch, _b, c, _r, _col in res.trace]
    assert [c for _t, c in seq] == (["MODE_REG"] + ["WRGB"] * ncols + ["MODE_BANK", "ACT16"] + ["MAC16"] * 64
                                    + ["MODE_REG", "RDMAC16"])
    g = max(T["nBL"], T["nCCDS"], T["nCCDL"])
    wr = [T["nMODCH"] + k * g for k in range(ncols)]
    mode_bank = max(wr[-1] + T["nCWLGB"] + T["nBL"], T["nMODCH"], wr[-1] + 1)
    act16 = mode_bank + T["nMODCH"]
    macs = [act16 + T["nRCDRDMAC"] + k * T["nCCDL"] for k in range(64)]
    mode_reg = max(macs[-1] + T["nCCDL"], mode_bank + T["nMODCH"], macs[-1] + 1)
    rdmac = mode_reg + T["nMODCH"]
    assert [t for t, _c in seq] == [0, *wr, mode_bank, act16, *macs, mode_reg, rdmac]
    assert res.cycles == rdmac + T["nCLREG"] + T["nBL"]


# --- energy ---------------------------------------------------------------------------------------------------
def test_energy_is_counts_times_per_command_energy_plus_background():
    spec = aim_spec(refresh="none")
    system = DramSystem(spec)
    cfg = system.cfg
    prog = DramProgram(1)
    prog.add(0, wr_gb(8), mac_abk(2, 0, 16), pre(), rd_mac())
    res = run(spec, prog)
    for name, n in res.commands.items():
        assert res.energy_pj.get(name, 0.0) == pytest.approx(n * cfg.energy_pj[name])
    assert cfg.energy_pj["MAC16"] == cfg.params["mac_energy_pj"]
    assert cfg.energy_pj["ACT16"] == pytest.approx(cfg.params["act_energy_pj"] * cfg.banks)
    assert cfg.energy_pj["WRGB"] == pytest.approx(cfg.params["io_energy_pj_per_bit"] * cfg.access_bytes * 8)
    (t_act,), (t_pre,) = times(res, "ACT16"), times(res, "PREA")
    open_cycles = t_pre - t_act
    ns = cfg.ns_per_cycle
    expected = (cfg.act_standby_mw * open_cycles + cfg.pre_standby_mw * (res.cycles * cfg.channels - open_cycles)) * ns
    assert res.energy_pj["background"] == pytest.approx(expected)
    assert res.energy_nj == pytest.approx(sum(res.energy_pj.values()) / 1e3)

"""The public AiM simulator's trace format (cyclesim.dram.aimtrace): the shipped traces in aim_traces/ and one
micro-trace per op replay with cycle counts equal to closed forms derived here from the timing parameters;
command mode equals burst mode and the independent checker accepts every trace."""

import json
from pathlib import Path

import pytest

from archsim import arch
from archsim.base.errors import TraceError
from archsim.cli import main
from archsim.cyclesim.dram import DramSystem, check_trace, replay
from archsim.cyclesim.dram.aimtrace import aim_cycles, is_aim_trace

HERE = Path(__file__).parent / "aim_traces"
SPEC = arch.load("aim_reference")
T = DramSystem(SPEC).cfg.timings
G = max(T["nBL"], T["nCCDS"], T["nCCDL"])  # back-to-back register-mode writes (WRGB) on one channel


def play(trace, fmt="auto"):
    res = replay(trace, SPEC, "command", record=True, fmt=fmt)
    assert check_trace(res.trace, SPEC) == []
    burst = replay(trace, SPEC, "burst", record=True, fmt=fmt)
    assert (burst.cycles, burst.commands, burst.trace) == (res.cycles, res.commands, res.trace)
    return res


def at(res, cmd, ch=None):
    return [t for t, c, _b, name, _r, _col in res.trace if name == cmd and (ch is None or c == ch)]


def gemv_closed_form(ncols, nmacs):
    """When the last command completes (the RD_MAC barrier releases). MODE_REG at 0; WRGB k at nMODCH + k G; MODE_BANK once the last write landed (nCWLGB + nBL); ACT16 nMODCH
    later; MAC16 k at ACT16 + nRCDRDMAC + k nCCDL; MODE_REG nCCDL after the last MAC16; RDMAC16 nMODCH later;
    done nCLREG + nBL after it."""
    last_wr = T["nMODCH"] + (ncols - 1) * G
    mode_bank = max(last_wr + T["nCWLGB"] + T["nBL"], T["nMODCH"])
    last_mac = mode_bank + T["nMODCH"] + T["nRCDRDMAC"] + (nmacs - 1) * T["nCCDL"]
    rdmac = max(last_mac + T["nCCDL"], mode_bank + T["nMODCH"]) + T["nMODCH"]
    return rdmac + T["nCLREG"] + T["nBL"]


@pytest.mark.parametrize("name, channels", [("gemv_tile", 1), ("gemv_tile_4ch", 4)])
def test_gemv_tile(name, channels):
    res = play(HERE / f"{name}.aim")
    # the host decodes the EOC line one cycle after the RD_MAC barrier released (every channel completed)
    assert res.cycles == gemv_closed_form(8, 64) + 1 == 300
    assert aim_cycles(res) == res.end_cycle + 1  # EOC returns one cycle after the host decoded it
    assert res.commands["MAC16"] == 64 * channels and res.commands["WRGB"] == 8 * channels
    assert {c for _t, c, *_ in res.trace} == set(range(channels))


def test_row_conflict_needs_prea_and_act16():
    res = play(HERE / "row_conflict.aim")
    last1 = T["nRCDRDMAC"] + 3 * T["nCCDL"]
    prea = max(last1 + T["nRTP"], T["nRAS"])
    act2 = max(prea + T["nRP"], T["nRC"])
    assert at(res, "PREA") == [prea] and at(res, "ACT16") == [0, act2]
    assert res.cycles == act2 + T["nRCDRDMAC"] + 3 * T["nCCDL"] + 1


def test_mode_changes_wrmac16_rdmac16_wrgb():
    res = play(HERE / "mode_changes.aim")
    wrmac = T["nMODCH"]
    rdmac = wrmac + T["nCWLREG"] + T["nBL"] + T["nWTRL"]
    wrgb = rdmac + T["nCLREG"] + T["nBL"] + 3 - T["nCWLGB"] + T["nWPRE"]  # later than the RD_MAC's barrier
    assert (at(res, "WRMAC16"), at(res, "RDMAC16"), at(res, "WRGB")) == ([wrmac], [rdmac], [wrgb])
    assert res.cycles == wrgb + T["nCWLGB"] + T["nBL"]


def test_blocking_read_holds_every_channel():
    res = play(HERE / "blocking_read.aim")
    last_mac = T["nRCDRDMAC"] + 31 * T["nCCDL"]
    rdmac_done = last_mac + T["nCCDL"] + T["nMODCH"] + T["nCLREG"] + T["nBL"]
    # the host decodes the next line (channel 1's WR_GB) one cycle after channel 0's read completed
    assert at(res, "MODE_REG", ch=1) == [rdmac_done + 1]
    assert res.cycles == rdmac_done + 1 + T["nMODCH"] + T["nCWLGB"] + T["nBL"]


def test_mem_stream_is_served_fr_fcfs():
    """Four reads and a write to one open row: the write is ready first (nRCDWR < nRCDRD), so FR-FCFS serves it
    at nRCDWR; the reads follow the write-to-read turnaround (same bank group, nCWL + nBL + nWTRL), nCCDL apart."""
    res = play(HERE / "mem_stream.aim")
    wr = T["nRCDWR"]
    rd0 = wr + T["nCWL"] + T["nBL"] + T["nWTRL"]
    assert at(res, "WR") == [wr] and at(res, "RD") == [rd0 + k * T["nCCDL"] for k in range(4)]
    assert res.cycles == rd0 + 3 * T["nCCDL"] + T["nCL"] + T["nBL"]


def test_every_op_trace_counts():
    res = play(HERE / "every_op.aim")
    want = {"WRGB": 2, "WRMAC16": 1, "MAC16": 2, "RDMAC16": 1, "MAC": 2, "EWMUL16": 2, "WR": 2, "RD": 2,
            "WRA16": 1, "RDAF16": 1, "RDCP": 2, "WRCP": 2}
    assert {k: res.commands[k] for k in want} == want


# one line per op on channel 0 (mask bit 31), from an idle channel in bank mode with every bank closed: the cycle
# its DRAM work completes (the line is decoded at cycle 0)
MICRO = {
    "AiM WR_GB 5 0 0x80000000": T["nMODCH"] + 4 * G + T["nCWLGB"] + T["nBL"],
    "AiM WR_BIAS 0 0x80000000": T["nMODCH"] + T["nCWLREG"] + T["nBL"],
    "AiM RD_MAC 0 0x80000000": T["nMODCH"] + T["nCLREG"] + T["nBL"],
    "AiM MAC_ABK 3 0x80000000 7": T["nRCDRDMAC"] + 2 * T["nCCDL"] + 1,
    "AiM MAC_SBK 3 0x80000000 5 7": T["nRCDRDMAC"] + 2 * T["nCCDL"] + 1,
    "AiM EWMUL 3 0x80000000 7": T["nRCDEWMUL"] + 2 * max(T["nCCDS"], T["nCCDL"]) + 1,
    "AiM WR_SBK 0 0x80000000 2 7": T["nRCDWR"] + T["nCWL"] + T["nBL"],
    "AiM RD_SBK 0 0x80000000 2 7": T["nRCDRD"] + T["nCL"] + T["nBL"],
    "W MEM 0 2 7": T["nRCDWR"] + T["nCWL"] + T["nBL"],
    "R MEM 0 2 7": T["nRCDRD"] + T["nCL"] + T["nBL"],
    "AiM WR_ABK 0 0x80000000 7": T["nRCDWR"] + T["nCWL"] + T["nBL"] + T["nRP"],   # WRA16 completes nCWL+nBL+nRP
    "AiM RD_AF 0 0x80000000": T["nMODCH"] + T["nCLREG"] + T["nBL"],
    "AiM COPY_BKGB 3 0x80000000 5 7": T["nRCDRDCP"] + 2 * T["nCCDL"] + 1,          # RDCP completes 1 after
    "AiM COPY_GBBK 3 0x80000000 5 7": T["nRCDWRCP"] + 2 * T["nCCDL"] + 1,          # WRCP likewise
    "AiM AF 0x80000000": T["nRCDRDAF"] + 1,        # ACT16 of the AFM-0 LUT row at 0, AF16 nRCDRDAF later, done 1
    "AiM EWADD 4 0 1": 0,                          # GPR + GPR: no DRAM command, as in the AiM simulator
    "AiM SYNC": 0,
    "W GPR 3": 0,
    "W CFR 1 0x1": 0,
}
BLOCKING = ("AiM RD_MAC", "AiM RD_AF", "AiM SYNC")


@pytest.mark.parametrize("line", sorted(MICRO))
def test_one_op_closed_form(line):
    res = play([line, "AiM EOC"])
    # the host decodes EOC at cycle 1, or one cycle after a blocking line's barrier released
    eoc = MICRO[line] + 1 if line.startswith(BLOCKING) else 1
    assert res.cycles == max(MICRO[line], eoc)
    assert aim_cycles(res) == res.cycles + 1


def test_af_reads_the_lut_row_the_afm_cfr_selects():
    """W CFR 2 (AFM) picks the LUT row: AF with AFM 3 at line 1 (ACT16 at 1, AF16 nRCDRDAF later); a new AFM is a
    row conflict (PREA, ACT16 of the other row, AF16); the same AFM again is a row hit (AF16 nCCDL later)."""
    res = play(["W CFR 2 3", "AiM AF 0x80000000", "W CFR 2 1", "AiM AF 0x80000000", "AiM AF 0x80000000",
                "AiM EOC"])
    rows = DramSystem(SPEC).cfg.rows
    act1 = 1
    af1 = act1 + T["nRCDRDAF"]
    prea = max(af1 + T["nRTP"], act1 + T["nRAS"])
    act2 = max(prea + T["nRP"], act1 + T["nRC"])
    af2 = act2 + T["nRCDRDAF"]
    assert at(res, "ACT16") == [act1, act2] and at(res, "PREA") == [prea]
    assert at(res, "AF16") == [af1, af2, af2 + T["nCCDL"]]
    assert [r for _t, _c, _b, n, r, _col in res.trace if n == "ACT16"] == [rows - 8 + 3, rows - 8 + 1]
    assert res.cycles == af2 + T["nCCDL"] + 1


def test_decode_rate_bounds_a_run_of_mem_reads():
    """One line per cycle: line i (R MEM to channel i % 32, bank 0, row 0) reaches its controller at cycle i.
    Channel c's first read activates at c; read j issues at max(arrival 32 j + c, ACT + nRCDRD, the previous
    read + nCCDL); the run ends when the last read's data is back (nCL + nBL)."""
    nch, per = 32, 4
    lines = [f"R MEM {i % nch} 0 0" for i in range(nch * per)] + ["AiM EOC"]
    res = play(lines)
    last = 0
    for c in range(nch):
        want, prev = [], -1
        for j in range(per):
            t = max(j * nch + c, c + T["nRCDRD"], prev + T["nCCDL"] if prev >= 0 else 0)
            want.append(t)
            prev = t
        assert at(res, "ACT", ch=c) == [c] and at(res, "RD", ch=c) == want
        last = max(last, prev)
    assert res.cycles == last + T["nCL"] + T["nBL"]
    # every line available at once would end nCL + nBL after channel 0's reads: the decode rate binds
    assert res.cycles > T["nRCDRD"] + (per - 1) * T["nCCDL"] + T["nCL"] + T["nBL"]


def test_decode_rate_delays_pim_lines_and_gpr_lines_take_a_cycle():
    """Ten W GPR lines occupy the host for cycles 0..9; the WR_GB line is decoded at 10 (MODE_REG at 10)."""
    res = play(["W GPR 0"] * 10 + ["AiM WR_GB 1 0 0x80000000", "AiM EOC"])
    assert at(res, "MODE_REG") == [10] and at(res, "WRGB") == [10 + T["nMODCH"]]
    assert res.cycles == 10 + T["nMODCH"] + T["nCWLGB"] + T["nBL"]


def test_mem_and_aim_never_share_a_channel_controller():
    """A MEM read, then an AiM WR_GB on its channel: the WR_GB waits until the read completed (nRCDRD + nCL +
    nBL), then MODE_REG, WRGB nMODCH later. And the other way: a MEM read after a WR_GB waits for the write."""
    res = play(["R MEM 0 2 7", "AiM WR_GB 1 0 0x80000000", "AiM EOC"])
    rd_done = T["nRCDRD"] + T["nCL"] + T["nBL"]
    assert at(res, "RD") == [T["nRCDRD"]] and at(res, "MODE_REG") == [rd_done]
    assert res.cycles == rd_done + T["nMODCH"] + T["nCWLGB"] + T["nBL"]
    res = play(["AiM WR_GB 1 0 0x80000000", "R MEM 0 2 7", "AiM EOC"])
    wr_done = T["nMODCH"] + T["nCWLGB"] + T["nBL"]
    (mode_bank,) = at(res, "MODE_BANK")
    assert mode_bank >= wr_done and at(res, "ACT") == [mode_bank + T["nMODCH"]]


def test_wr_abk_then_act16_waits_ncwl_nbl_nwr_nrp():
    res = play(["AiM WR_ABK 0 0x80000000 7", "AiM MAC_ABK 1 0x80000000 7", "AiM EOC"])
    (wra,) = at(res, "WRA16")
    assert wra == T["nRCDWR"]
    assert at(res, "ACT16") == [0, wra + T["nCWL"] + T["nBL"] + T["nWR"] + T["nRP"]]
    assert T["nCWL"] + T["nBL"] + T["nWR"] + T["nRP"] == 73
    assert res.cycles == at(res, "ACT16")[1] + T["nRCDRDMAC"] + 1


def test_detection_and_the_cli(tmp_path, capsys):
    assert is_aim_trace(["# c", "", "AiM WR_GB 1 0 0x80000000"]) and is_aim_trace(["R MEM 0 0 0"])
    assert not is_aim_trace(["RD 0 0 0 0"]) and not is_aim_trace(["WR_GB 0 4"])
    assert main(["dram", "replay", str(HERE / "gemv_tile.aim"), "--arch", "aim_reference", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["format"], out["cycles"], out["aim_cycles"]) == ("aim", 300, 301)
    assert main(["dram", "replay", str(HERE / "gemv_tile.aim"), "--arch", "aim_reference", "--format",
                 "archsim"]) == 2
    assert "line 2" in capsys.readouterr().err


@pytest.mark.parametrize("lines, match", [
    (["AiM WR_GB 1 0 0x00000001", "AiM EOC"], r"line 1: channel mask 0x00000001 selects channel 31 but the DRAM"),
    (["AiM MAC_ABK 2 0x80000000", "AiM EOC"], r"line 1: AiM MAC_ABK takes opsize mask row"),
    (["AiM FOO 1", "AiM EOC"], r"line 1: unknown AiM op 'FOO'"),
    (["AiM WR_AFLUT 1 0 1", "AiM EOC"], r"line 1: AiM WR_AFLUT is not supported"),
    (["W CFR 3 1", "AiM EOC"], r"line 1: unknown CFR 3"),
    (["W CFR 2 8", "AiM EOC"], r"line 1: AFM 8 out of range 0..7"),
    (["AiM WR_GB 1 0 0x80000000"], r"does not end with AiM EOC"),
    (["AiM EOC", "AiM SYNC"], r"line 2: nothing may follow AiM EOC"),
    (["R MEM 0 2", "AiM EOC"], r"line 1: R MEM takes <ch> <bank> <row>"),
    (["AiM MAC_ABK 1 0x80000000 zz", "AiM EOC"], r"line 1: expected an integer row, got 'zz'"),
])
def test_bad_lines_are_one_line_trace_errors(lines, match):
    with pytest.raises(TraceError, match=match):
        replay(lines, arch.load("pim_gpt"))  # 8 channels


def test_a_full_queue_stalls_the_host_for_every_channel():
    """MAC_ABK 40 on channel 0 (40 requests, queue depth 32): requests 32..39 enter when requests 0..7 leave
    (their MAC16 issue; the host retries the cycle after), so line 0 is in the queue at MAC16 #7 + 1 and the host
    decodes line 1 (channel 1's WR_GB) one cycle later. With a 64-deep queue line 1 is decoded at cycle 1."""
    from archsim.cyclesim.dram.aimhost import AIM_QUEUE_DEFAULT

    lines = ["AiM MAC_ABK 40 0x80000000 3", "AiM WR_GB 1 0 0x40000000", "AiM EOC"]
    assert AIM_QUEUE_DEFAULT == 32
    res = play(lines)
    mac7 = T["nRCDRDMAC"] + 7 * T["nCCDL"]
    assert at(res, "MAC16", ch=0)[7] == mac7
    assert at(res, "MODE_REG", ch=1) == [mac7 + 2]
    ch1_done = mac7 + 2 + T["nMODCH"] + T["nCWLGB"] + T["nBL"]
    ch0_done = T["nRCDRDMAC"] + 39 * T["nCCDL"] + 1
    assert res.cycles == max(ch0_done, ch1_done)
    deep = arch.load("aim_reference", set={"dram.aim_queue_entries": 64})
    res = replay(lines, deep, "command", record=True)
    assert at(res, "MODE_REG", ch=1) == [1]


def test_queue_stall_chain_with_depth_2():
    """Depth 2: WR_GB 4 on channel 0 (WRGB k at nMODCH + k G): requests 2 and 3 enter after WRGB 0 and 1 issue,
    so the host finishes line 0 at WRGB #1 + 1 and decodes line 1 (WR_GB 1 on channel 1) at WRGB #1 + 2."""
    spec = arch.load("aim_reference", set={"dram.aim_queue_entries": 2})
    lines = ["AiM WR_GB 4 0 0x80000000", "AiM WR_GB 1 0 0x40000000", "AiM EOC"]
    a = replay(lines, spec, "command", record=True)
    b = replay(lines, spec, "burst", record=True)
    assert (a.cycles, a.trace) == (b.cycles, b.trace) and check_trace(a.trace, spec) == []
    wrgb1 = T["nMODCH"] + G
    assert at(a, "MODE_REG", ch=1) == [wrgb1 + 2]
    # channel 0's own stream never waits for its queue (request j + 2 enters before request j + 1 issues)
    assert at(a, "WRGB", ch=0) == [T["nMODCH"] + k * G for k in range(4)]
    assert a.cycles == wrgb1 + 2 + T["nMODCH"] + T["nCWLGB"] + T["nBL"]


def test_a_mem_to_aim_switch_stalls_the_host():
    """Channel 0: R MEM, then AiM WR_GB: the controller takes the AiM request only after the read left its queue
    (RD at nRCDRD), so the host finishes line 1 at nRCDRD + 1 and decodes line 2 (channel 1's WR_GB) at
    nRCDRD + 2 instead of 2."""
    res = play(["R MEM 0 2 7", "AiM WR_GB 1 0 0x80000000", "AiM WR_GB 1 0 0x40000000", "AiM EOC"])
    assert at(res, "RD") == [T["nRCDRD"]]
    assert at(res, "MODE_REG", ch=1) == [T["nRCDRD"] + 2]
    assert at(res, "MODE_REG", ch=0) == [T["nRCDRD"] + T["nCL"] + T["nBL"]]   # and waits for its completion

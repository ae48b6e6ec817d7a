"""Standards as data, configuration from the spec, address mapping, program validation."""

from __future__ import annotations

import pytest

from archsim import arch
from dram_testlib import aim_spec, gddr6_spec
from archsim.base.errors import ArchSpecError, SimulationError
from archsim.cyclesim.dram import (STANDARDS, AddressMapping, DramConfig, DramProgram, DramSystem, check_trace, mac_abk,
                           rd, replay)
from archsim.cyclesim.dram.standards import evaluate

# reference/pim-gpt.md, [public-sim]
REF_AIM = dict(nBL=2, nCL=50, nRCDRD=36, nRCDRDMAC=56, nRCDWR=28, nRP=32, nRAS=54, nRC=89, nWR=33, nRTP=12, nCWL=6,
               nCCDS=2, nCCDL=2, nRRDS=11, nRRDL=11, nFAW=42, nRFC=210, nRFCpb=105, nREFI=3333, nRCDEWMUL=25,
               nRCDRDAF=86, nRCDRDCP=66, nRCDWRCP=48, nCLGB=1, nCWLGB=1, nCWLREG=1, nCLREG=0, nMODCH=32)
REF_GDDR6 = dict(nBL=8, nCL=24, nRCDRD=26, nRCDWR=16, nRP=26, nRAS=53, nRC=79, nWR=26, nRTP=4, nCWL=6, nCCDS=4,
                 nCCDL=6, nRRDS=7, nRRDL=7, nWTRS=9, nWTRL=11, nFAW=28, nRFC=210, nRFCpb=105, nREFI=3333)


def test_presets_match_the_reference_tables():
    assert {k: STANDARDS["GDDR6_AiM"].timings[k] for k in REF_AIM} == REF_AIM
    assert {k: STANDARDS["GDDR6_2000"].timings[k] for k in REF_GDDR6} == REF_GDDR6


@pytest.mark.parametrize("name", sorted(STANDARDS))
def test_standard_tables_are_consistent(name):
    std = STANDARDS[name]
    assert std.source and std.timing_source
    assert std.levels == ("channel", "bankgroup", "bank", "row", "column")
    for c in std.commands.values():
        assert c.scope in ("bank", "channel") and c.source
    for r in std.rules:
        assert r.scope in ("channel", "bankgroup", "bank") and r.source and r.window >= 1
        for c in r.preceding + r.following:
            assert c == "*" or c in std.commands
    lat = std.latencies(std.timings)
    assert set(lat) == {r.name for r in std.rules}
    assert all(v >= 0 for v in lat.values())


def test_aim_has_the_pim_commands_and_no_faw():
    aim, g6 = STANDARDS["GDDR6_AiM"], STANDARDS["GDDR6_2000"]
    for c in ("ACT16", "MAC16", "WRGB", "RDMAC16", "WRMAC16", "PREA", "MAC", "RD", "WR", "EWMUL16", "AF16", "REFab",
              "MODE_REG", "MODE_BANK"):
        assert c in aim.commands
    assert "MAC16" not in g6.commands and "faw" in {r.name for r in g6.rules}
    assert "faw" not in {r.name for r in aim.rules}
    assert aim.instructions["MAC_ABK"] == "MAC16" and aim.instructions["WR_GB"] == "WRGB"
    assert {r.latency for r in aim.rules_for("MAC16") if r.name == "rcd_mac"} == {"nRCDRDMAC"}


def test_timing_overrides_apply_by_name():
    spec = gddr6_spec(channels=1, refresh="none", timings={"nRCDRD": 40, "nCL": 30})
    cfg = DramConfig.from_spec(spec)
    assert cfg.timings["nRCDRD"] == 40 and cfg.latencies["rcd_rd"] == 40
    assert cfg.latencies["rtw"] == 30 + 8 + 2 - 6
    prog = DramProgram(1)
    prog.add(0, rd(0, 0, 0))
    res = DramSystem(spec).run(prog, trace=True)
    assert check_trace(res.trace, spec) == []
    assert [t for t, *_ in res.trace] == [0, 40] and res.cycles == 40 + 30 + 8
    set_spec = arch.load("pim_gpt", set={"dram.timing_cycles": {"nMODCH": 7}})
    assert DramConfig.from_spec(set_spec).latencies["modch_reg"] == 7


def test_unknown_timing_name_is_a_spec_error():
    with pytest.raises(ArchSpecError, match="unknown timing 'nFOO'.*nBL"):
        DramConfig.from_spec(gddr6_spec(timings={"nFOO": 3}))
    with pytest.raises(ArchSpecError, match="whole number"):
        DramConfig.from_spec(gddr6_spec(timings={"nCL": 2.5}))


def test_organization_comes_from_the_spec():
    spec = arch.load("pim_gpt", set={"dram.channels": 3, "dram.bank_groups": 2, "dram.banks_per_group": 2,
                                     "dram.columns": 512})
    system = DramSystem(spec)
    cfg = system.cfg
    assert (cfg.channels, cfg.banks, cfg.row_accesses) == (3, 4, 32)
    prog = DramProgram(3)
    for ch in range(3):
        prog.add(ch, mac_abk(0, 0, 32), rd(3, 1, 31))
    res = system.run(prog, trace=True)
    assert res.commands["MAC16"] == 96 and len(res.per_channel) == 3
    assert check_trace(res.trace, spec) == []
    assert res.bank_bytes == 96 * 4 * 32 + 3 * 32
    bad = DramProgram(3)
    bad.add(0, rd(4, 0, 0))
    with pytest.raises(SimulationError, match="bank 4 out of range"):
        system.run(bad)
    bad = DramProgram(3)
    bad.add(0, rd(0, 0, 32))
    with pytest.raises(SimulationError, match="column 32 out of range"):
        system.run(bad)


@pytest.mark.parametrize("mapping", ["RoBaBgCoCh", "RoCoBaBgCh", "ChRoBaBgCo"])
def test_address_mapping_round_trip(mapping):
    cfg = DramConfig.from_spec(arch.load("pim_gpt", set={"dram.address_mapping": mapping}))
    m = AddressMapping(cfg)
    for addr in (0, 32, 4096, 123456 * 32, m.capacity - 32):
        ch, b, r, c = m.decode(addr)
        assert m.encode(ch, b, r, c) == addr
        assert 0 <= ch < cfg.channels and 0 <= b < cfg.banks and 0 <= r < cfg.rows and 0 <= c < cfg.row_accesses
    if mapping.endswith("Ch"):
        assert [m.decode(i * 32)[0] for i in range(3)] == [0, 1, 2]
    with pytest.raises(SimulationError, match="outside the DRAM"):
        m.decode(m.capacity)


def test_pim_instructions_need_a_pim_standard():
    prog = DramProgram(2)
    prog.add(0, mac_abk(0, 0, 4))
    with pytest.raises(SimulationError, match="GDDR6_AiM"):
        DramSystem(gddr6_spec()).run(prog)


def test_expressions_are_evaluated_without_eval():
    names = {"nCL": 24, "nBL": 8, "nCWL": 6}
    assert evaluate("nCL+nBL+2-nCWL", names) == 28
    assert evaluate("max(nCL, 3*nBL) // 2", names) == 12
    for bad in ("__import__('os')", "nCL.real", "nXX + 1", "[1][0]"):
        with pytest.raises(SimulationError):
            evaluate(bad, names)


def test_replay_api_accepts_lines_and_counts_requests():
    res = replay(["# two reads", "RD 0 1 2 3", "RD 0 1 2 4", "WR_GB * 2", "SYNC"], aim_spec(), mode="command",
                 record=True)
    assert check_trace(res.trace, aim_spec()) == []
    assert res.commands["RD"] == 2 and res.commands["WRGB"] == 16 and res.cycles > 0
    assert res.to_dict()["clock"] == "dram clock 2000 MHz"
    assert "dram clock 2000 MHz" in res.summary()

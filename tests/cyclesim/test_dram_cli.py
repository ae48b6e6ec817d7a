"""``archsim dram replay`` and ``archsim dram check``, run in-process."""

from __future__ import annotations

import json

import pytest

from archsim.cli import main

GOOD = """\
# a GEMV tile on two channels, then ordinary traffic
WR_GB * 64
BLOCK
MAC_ABK 0 10 0 64
RD_MAC 0
MAC_ABK 1 10 0 64     # comment after a request
RD_MAC 1
END
SYNC
RD 0x1000
WR 0 3 7 5
ACT 2 4
EWMUL 2 4 0 8
AF 2 4
PRE 2
MAC_SBK 3 1 2 0 10
DELAY 3 100
WR_BIAS 3
"""


@pytest.fixture
def good(tmp_path):
    p = tmp_path / "good.trace"
    p.write_text(GOOD)
    return p


def test_replay_prints_cycles_and_the_clock(good, capsys):
    assert main(["dram", "replay", str(good), "--arch", "pim_gpt"]) == 0
    out = capsys.readouterr().out
    assert "cycles:" in out and "(dram clock 2000 MHz)" in out
    for word in ("MAC16 128", "bandwidth:", "GB/s", "row-hit rate:", "energy:", "nJ"):
        assert word in out


def test_replay_json_is_identical_in_both_modes(good, capsys):
    got = {}
    for mode in ("command", "burst"):
        assert main(["dram", "replay", str(good), "--arch", "pim_gpt", "--mode", mode, "--json"]) == 0
        got[mode] = json.loads(capsys.readouterr().out)
    a, b = got["command"], got["burst"]
    assert a["cycles"] == b["cycles"] > 0 and a["commands"] == b["commands"] and a["energy_nj"] == b["energy_nj"]
    assert a["clock"] == "dram clock 2000 MHz" and a["events"] >= a["simulated_commands"]


def test_trace_out_is_the_checkers_input(good, tmp_path, capsys):
    out = tmp_path / "cmds.txt"
    assert main(["dram", "replay", str(good), "--arch", "pim_gpt", "--trace-out", str(out)]) == 0
    capsys.readouterr()
    lines = [x for x in out.read_text().splitlines() if not x.startswith("#")]
    assert len(lines) > 100 and len(lines[0].split()) == 6
    assert main(["dram", "check", str(out), "--arch", "pim_gpt"]) == 0
    assert "0 violations" in capsys.readouterr().out
    cycle, rest = lines[-1].split(" ", 1)
    bad = tmp_path / "bad.txt"
    bad.write_text("\n".join(lines + [f"{cycle} {rest}"]) + "\n")   # the same command again, same cycle
    assert main(["dram", "check", str(bad), "--arch", "pim_gpt", "--json"]) == 1
    rules = {v["rule"] for v in json.loads(capsys.readouterr().out)["violations"]}
    assert "cmd_bus" in rules


def test_set_overrides_reach_the_model(good, capsys):
    assert main(["dram", "replay", str(good), "--arch", "pim_gpt", "--json"]) == 0
    base = json.loads(capsys.readouterr().out)["cycles"]
    assert main(["dram", "replay", str(good), "--arch", "pim_gpt", "--json",
                 "--set", "dram.timing_cycles={nRCDRDMAC: 80}"]) == 0
    assert json.loads(capsys.readouterr().out)["cycles"] > base


@pytest.mark.parametrize("text, line, words", [
    ("RD 0x10\nMAC_ABK 0 1 2\n", 2, "MAC_ABK takes CH ROW COL N"),
    ("\n# c\nFROB 1 2\n", 3, "unknown request 'FROB'"),
    ("RD 0 1 2 zz\n", 1, "expected an integer column"),
    ("WR_GB 99 4\n", 1, "channel 99 out of range"),
    ("MAC_ABK 0 1 70 4\n", 1, "column 70 out of range"),
    ("END\n", 1, "END without BLOCK"),
    ("RD 1\nBLOCK\nRD 2\n", 2, "BLOCK is never closed"),
    ("BLOCK\nSYNC\nEND\n", 2, "SYNC inside the BLOCK of line 1"),
    ("RD 0 -1 2 3\n", 1, "must not be negative"),
    ("RD 0x7fffffffffff\n", 1, "outside the DRAM"),
])
def test_malformed_line_exits_2_with_one_line(tmp_path, capsys, text, line, words):
    p = tmp_path / "bad.trace"
    p.write_text(text)
    assert main(["dram", "replay", str(p), "--arch", "pim_gpt"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"archsim: error: {p}: line {line}: ")
    assert words in err


def test_missing_file_and_bad_arch_exit_2(tmp_path, capsys):
    assert main(["dram", "replay", str(tmp_path / "nope.trace"), "--arch", "pim_gpt"]) == 2
    assert "no such trace file" in capsys.readouterr().err
    p = tmp_path / "t.trace"
    p.write_text("RD 0\n")
    assert main(["dram", "replay", str(p), "--arch", "pim_gpt", "--set", "dram.timing_cycles={nZZ: 1}"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown timing 'nZZ'" in err

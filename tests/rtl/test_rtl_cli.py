"""``archsim rtl``: list, export, sim (with a VCD), report, and one-line errors with exit status 2."""

import csv

import pytest

from archsim.cli import main

from .conftest import need_tool


def test_list_names_every_unit_with_parameters(capsys):
    assert main(["rtl", "list"]) == 0
    out = capsys.readouterr().out
    for name in ("pim_mac", "lut_array", "hash_grid", "attention"):
        assert name in out
    assert "lanes=16" in out and "m=2 n=64" in out and "head_dim=128" in out
    assert "latency 6 cycles" in out  # pim_mac at 16 lanes: 1 + 4 + 1


def test_export_writes_verilog(tmp_path, capsys):
    assert main(["rtl", "export", "lut_array", "--param", "n=4", "--out", str(tmp_path / "v")]) == 0
    text = (tmp_path / "v" / "lut_array.v").read_text()
    assert "module lut_array" in text and "input [11:0] index;" in text


def test_sim_is_bit_exact_and_writes_a_vcd(tmp_path, capsys):
    vcd = tmp_path / "wave.vcd"
    assert main(["rtl", "sim", "attention", "--param", "head_dim=4", "--vectors", "50", "--vcd", str(vcd)]) == 0
    out = capsys.readouterr().out
    assert "bit-exact" in out and "cycles/s" in out
    head = vcd.read_text()[:2000]
    assert "$timescale" in head and "$var" in head and "$enddefinitions" in vcd.read_text()


@pytest.mark.parametrize("argv, message", [
    (["rtl", "export", "nope", "--out", "x"], "unknown RTL unit 'nope'"),
    (["rtl", "export", "pim_mac", "--param", "lanes=3", "--out", "x"], "lanes must be a power of two"),
    (["rtl", "export", "pim_mac", "--param", "colour=red", "--out", "x"], "unknown parameter(s) colour"),
    (["rtl", "export", "pim_mac", "--param", "lanes", "--out", "x"], "expected KEY=VALUE"),
    (["rtl", "export", "lut_array", "--param", "table_bits=10", "--out", "x"], "too narrow for int8"),
    (["rtl", "sim", "pim_mac", "--vectors", "0"], "positive number of vectors"),
    (["rtl", "report", "pim_mac", "hash_grid", "--param", "lanes=4"], "--param applies to one unit"),
])
def test_bad_input_is_one_line_exit_2(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "x").exists() or not any((tmp_path / "x").iterdir())


def test_bad_out_paths(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("")
    assert main(["rtl", "export", "pim_mac", "--out", str(f)]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    assert main(["rtl", "sim", "pim_mac", "--vcd", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err


def test_report_table_and_csv(tmp_path, capsys):
    need_tool("yosys")
    out = tmp_path / "synth.csv"
    assert main(["rtl", "report", "lut_array", "--param", "m=1", "--param", "n=2", "--param", "w_bits=1",
                 "--csv", str(out)]) == 0
    text = capsys.readouterr().out
    assert "cells" in text and "flip-flops" in text and "um^2" in text
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 1 and rows[0]["unit"] == "lut_array" and int(rows[0]["cells"]) > 0
    assert float(rows[0]["area_um2_est"]) > 0 and int(rows[0]["flip_flops"]) > 0

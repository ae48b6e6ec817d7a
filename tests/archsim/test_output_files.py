"""Issue 9, section 6: files as users expect.

Written files respect the umask; a FILE output never creates folders while a DIR output may; CSV column names
are unique and meaningful (no ``ratio`` beside ``ratio ``); numeric claim columns are numbers, a range's ends in
separate columns.
"""

from __future__ import annotations

import csv
import os
import stat

import pandas as pd
import pytest

from archsim.base.errors import ArchsimError
from archsim.base.io import check_output_dir, check_output_file, write_text_atomic
from archsim.cli import main
from archsim.reproduce import Claim, Report


@pytest.fixture
def umask():
    old = os.umask(0o022)
    try:
        yield lambda m: os.umask(m)
    finally:
        os.umask(old)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_written_files_respect_the_umask(mask, expected, umask, tmp_path):
    umask(mask)
    p = write_text_atomic(tmp_path / "a.txt", "hello\n")
    assert p.read_text() == "hello\n" and mode(p) == expected
    write_text_atomic(p, "again\n")  # replacing a file gives the same permissions
    assert p.read_text() == "again\n" and mode(p) == expected
    assert [q.name for q in tmp_path.iterdir()] == ["a.txt"]  # no temporary left behind


def test_cli_outputs_are_0644_under_umask_022(umask, tmp_path, capsys):
    trace = tmp_path / "t.json"
    assert main(["run", "--arch", "t4", "--workload", "gpt2-small", "--quiet", "--trace-out", str(trace)]) == 0
    assert mode(trace) == 0o644


def test_a_file_output_never_creates_its_folder(tmp_path):
    target = tmp_path / "missing" / "deeper" / "x.csv"
    with pytest.raises(ArchsimError, match="does not exist") as info:
        check_output_file(target, "--out")
    assert info.value.key == "--out" and info.value.file == str(target)
    with pytest.raises(ArchsimError, match="cannot write the file"):
        write_text_atomic(target, "x")
    assert not (tmp_path / "missing").exists()


def test_trace_out_into_a_missing_folder_is_an_error_and_creates_nothing(tmp_path, capsys):
    rc = main(["run", "--arch", "t4", "--workload", "gpt2-small", "--trace-out", str(tmp_path / "nonexistent" / "x")])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "--trace-out" in err and "does not exist" in err
    assert not (tmp_path / "nonexistent").exists()


def test_a_dir_output_creates_its_folder(tmp_path):
    d = tmp_path / "reports" / "nested"
    assert check_output_dir(d, "--out") == d and d.is_dir()
    assert list(d.iterdir()) == []  # the write probe leaves nothing behind
    check_output_dir(d, "--out")  # an existing folder is fine


def _tiny_report() -> Report:
    return Report("tiny", "a tiny target", claims=[
        Claim("speedup over Xeon", (631.0, 1074.0), (300.0, 500.0), "x", note="range", source="paper"),
        Claim("row-hit rate", 0.98, 0.97, "fraction"),
        Claim("not modeled", 5.0, None, "x"),
        Claim("zero paper value", 0.0, 1.0, "x"),
    ], tables={"t": pd.DataFrame({"config": ["a"], "peak paper": [1.0], "peak model": [2.0]})})


def test_reproduce_out_creates_the_folder(tmp_path, monkeypatch, capsys):
    import archsim.reproduce as rep

    monkeypatch.setattr(rep, "build", lambda name, quick=False: _tiny_report())
    monkeypatch.setattr(rep, "names", lambda: ["tiny"])
    out = tmp_path / "new" / "reports"
    assert main(["reproduce", "tiny", "--out", str(out)]) == 0
    assert {p.name for p in (out / "tiny").iterdir()} == {"claims.csv", "t.csv", "report.txt"}


def test_claims_csv_numbers_are_numbers(tmp_path):
    _tiny_report().write(tmp_path)
    df = pd.read_csv(tmp_path / "tiny" / "claims.csv")
    numeric = ["paper_low", "paper_high", "model_low", "model_high", "ratio_model_over_paper_low",
               "ratio_model_over_paper_high"]
    for col in numeric:
        assert pd.api.types.is_float_dtype(df[col]), (col, df[col].dtype)
    assert df["passes"].dtype == bool
    r = df.set_index("claim")
    assert (r.loc["speedup over Xeon", "paper_low"], r.loc["speedup over Xeon", "paper_high"]) == (631.0, 1074.0)
    assert (r.loc["speedup over Xeon", "model_low"], r.loc["speedup over Xeon", "model_high"]) == (300.0, 500.0)
    assert r.loc["speedup over Xeon", "ratio_model_over_paper_low"] == pytest.approx(300 / 631)
    assert r.loc["speedup over Xeon", "ratio_model_over_paper_high"] == pytest.approx(500 / 1074)
    assert r.loc["row-hit rate", "paper_low"] == r.loc["row-hit rate", "paper_high"] == 0.98
    assert pd.isna(r.loc["not modeled", "model_low"]) and pd.isna(r.loc["not modeled", "ratio_model_over_paper_low"])
    assert pd.isna(r.loc["zero paper value", "ratio_model_over_paper_low"])
    assert not df.astype(str).apply(lambda c: c.str.contains(r"\d to \d")).any().any()  # no "631 to 1,074"


def _header(path) -> list[str]:
    with open(path, newline="", encoding="utf-8") as fh:
        return next(csv.reader(fh))


def test_a_table_with_ambiguous_column_names_is_refused(tmp_path):
    for cols in (["model", "ratio", "ratio "], ["model", " ratio"]):
        bad = Report("bad", "bad", tables={"t": pd.DataFrame([[1, 2, 3][:len(cols)]], columns=cols)})
        with pytest.raises(ValueError, match="column names must be unique"):
            bad.write(tmp_path)
    assert not (tmp_path / "bad").exists()


def test_lut_tensor_core_tables_have_unique_meaningful_headers(tmp_path, monkeypatch):
    """The LUT Tensor Core tables (numbers replaced by stand-ins: only the columns matter here), written to
    CSV and read back: every header is unique, without surrounding spaces, and says which shape or quantity
    it belongs to."""
    from archsim.reproduce.targets import lut_tensor_core as lut

    monkeypatch.setattr(lut, "run_breakdown", lambda spec, wl, set_=None, **o: (0.01, {"linear": 0.006,
                                                                                        "attention": 0.002}))
    monkeypatch.setattr(lut, "hardware", lambda row: {"peak": 100.0, "area": 0.2, "density": 5.0, "energy": 3.0,
                                                      "gemm_util": 0.5})
    lat, hw, _ = lut.table1(quick=True)
    tables = {"table1_latency": lat, "table1_hardware": hw, "sensitivity": lut.sensitivity(),
              "precompute_overhead": lut.precompute_overhead(quick=True)[0]}
    Report("lut-tensor-core", "t", tables=tables).write(tmp_path)
    for name, df in tables.items():
        header = _header(tmp_path / "lut-tensor-core" / f"{name}.csv")
        assert header == list(df.columns)
        assert len(set(header)) == len(header) and all(h == h.strip() for h in header), header
    lat_cols = _header(tmp_path / "lut-tensor-core" / "table1_latency.csv")
    for shape in ("BS1 SEQ2048", "BS1024 SEQ1"):
        assert {f"{shape} paper ms", f"{shape} model ms", f"{shape} model/paper"} <= set(lat_cols)
    hw_cols = _header(tmp_path / "lut-tensor-core" / "table1_hardware.csv")
    assert {"peak model/paper", "TC mm2/SM model/paper", "density model/paper", "energy eff model/paper"} <= set(hw_cols)
    assert all(c.startswith(("BS1 SEQ2048", "BS1024 SEQ1", "variant", "config"))
               for c in _header(tmp_path / "lut-tensor-core" / "sensitivity.csv"))

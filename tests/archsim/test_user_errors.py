"""Issue 9, section 3: no traceback, ever, for a user mistake.

Each case is a user mistake: from the CLI it must print exactly one line ``archsim: error: FILE: KEY: what was
expected`` on stderr and exit 2; from Python it raises a specific error class (or TypeError/ValueError for the
RTL helpers) with a message naming what was expected. Output paths are checked before any work starts: the
work functions are replaced by recorders that must not be called.
"""

from __future__ import annotations

import os

import pytest
from pathlib import Path

import archsim
from archsim import arch
from archsim.base.errors import ArchsimError, ArchSpecError, MappingError, WorkloadError
from archsim.cli import main

TRACE = "WR_GB * 8\nMAC_ABK 0 1 0 8\nRD_MAC 0\nSYNC\nRD 0x1000\n"


def cli(capsys, *argv):
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def assert_one_line_error(rc, err, *fragments):
    assert rc == 2, err
    assert "Traceback" not in err
    assert err.count("\n") == 1 and err.startswith("archsim: error: "), err
    for f in fragments:
        assert str(f) in err, (f, err)


@pytest.fixture
def trace(tmp_path):
    p = tmp_path / "req.trace"
    p.write_text(TRACE)
    return p


@pytest.fixture
def no_work(monkeypatch):
    """Replace the first piece of work of every writing command by a recorder."""
    calls = []

    def recorder(name):
        def fn(*a, **k):
            calls.append(name)
            raise AssertionError(f"{name} ran before the output path was checked")
        return fn

    import archsim.dse.runner
    import archsim.reproduce

    monkeypatch.setattr(archsim, "simulate", recorder("simulate"))
    monkeypatch.setattr(arch, "load", recorder("arch.load"))
    monkeypatch.setattr(archsim.dse.runner, "plan", recorder("sweep plan"))
    monkeypatch.setattr(archsim.reproduce, "build", recorder("reproduce.build"))
    return calls


# --- YAML files that are not YAML text --------------------------------------------------------------------------
def test_non_utf8_yaml_names_the_file_and_the_byte_offset(tmp_path, capsys):
    p = tmp_path / "latin1.yaml"
    data = "name: x  # caf\xe9\nfamily: gpu\n".encode("latin-1")
    p.write_bytes(data)
    with pytest.raises(ArchSpecError) as info:
        arch.load(p)
    e = info.value
    assert e.file == str(p.resolve()) and f"byte offset {data.index(0xe9)}" in str(e) and "UTF-8" in str(e)
    rc, _, err = cli(capsys, "validate", p)
    assert_one_line_error(rc, err, "latin1.yaml", f"byte offset {data.index(0xe9)}", "expected a UTF-8 YAML file")


@pytest.mark.parametrize("what, fragment", [
    ("dir", "is a directory; expected a YAML file"),
    ("-", "reading from standard input is not supported; give a file path"),
    ("/dev/stdin", "reading from standard input is not supported; give a file path"),
    ("/dev/null", "is not a regular file"),
])
def test_yaml_argument_that_is_not_a_file_says_what_it_is(what, fragment, tmp_path, capsys):
    target = tmp_path if what == "dir" else what
    for argv in (("validate", target), ("show", target), ("run", "--arch", target, "--workload", "gpt2-small")):
        rc, _, err = cli(capsys, *argv)
        assert_one_line_error(rc, err, fragment, target)
    with pytest.raises(ArchSpecError, match=fragment):
        arch.load(target)


def test_a_shipped_name_still_wins_over_a_directory_of_that_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "t4").mkdir()
    assert arch.load("t4").name == "t4"


def test_extends_a_directory_names_it(tmp_path):
    (tmp_path / "parent").mkdir()
    (tmp_path / "child.yaml").write_text("extends: parent\nname: c\nfamily: gpu\n")
    with pytest.raises(ArchSpecError) as info:
        arch.load(tmp_path / "child.yaml")
    assert info.value.key == "extends" and "parent: is a directory" in str(info.value)


# --- YAML numbers -----------------------------------------------------------------------------------------------
def _spec(tmp_path, value: str, key: str = "freq_mhz"):
    p = tmp_path / "s.yaml"
    p.write_text(f"extends: pim_gpt\nname: s\nfamily: pim_gpt\ncomponents:\n  asic:\n    {key}: {value}\n")
    return p


@pytest.mark.parametrize("text, value", [("2e3", 2000.0), ("1e300", 1e300), ("+5E2", 500.0), ("2.5e3", 2500.0),
                                         (".5e3", 500.0), ("1_000e-3", 1.0),
                                         ("-1e-3", None)])
def test_exponent_numbers_are_numbers(text, value, tmp_path):
    if value is None:  # a number: rejected as non-positive, not as "the string '-1e-3'"
        with pytest.raises(ArchSpecError, match="expected a positive number, got -0.001"):
            arch.load(_spec(tmp_path, text))
        return
    assert arch.load(_spec(tmp_path, text))["asic.freq_mhz"] == value
    assert arch.parse_override(f"asic.freq_mhz={text}") == ("asic.freq_mhz", value)


def test_integers_and_text_resolve_as_before():
    assert arch.parse_override("dram.channels=16") == ("dram.channels", 16)
    assert arch.parse_override("dram.refresh=none") == ("dram.refresh", "none")
    assert arch.parse_override("x.y=e3") == ("x.y", "e3")
    assert arch.parse_override("x.y=true") == ("x.y", True)


@pytest.mark.parametrize("text, why", [(".inf", "infinity and NaN"), ("-.inf", "infinity and NaN"),
                                       (".nan", "infinity and NaN"), ("1e400", "overflows a 64-bit float"),
                                       ("{value: -1e999, source: x}", "overflows a 64-bit float")])
def test_non_finite_numbers_are_refused_naming_the_key(text, why, tmp_path, capsys):
    p = _spec(tmp_path, text)
    with pytest.raises(ArchSpecError) as info:
        arch.load(p)
    e = info.value
    assert e.file == str(p.resolve()) and e.key.startswith("components.asic.freq_mhz")
    assert "expected a finite number" in str(e) and why in str(e)
    rc, _, err = cli(capsys, "validate", p)
    assert_one_line_error(rc, err, "s.yaml", "components.asic.freq_mhz", "expected a finite number")


def test_non_finite_inside_a_timing_table_names_the_entry(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text("extends: pim_gpt\nname: s\nfamily: pim_gpt\ncomponents:\n  dram:\n"
                 "    timing_cycles: {nRCDRD: .inf}\n")
    with pytest.raises(ArchSpecError) as info:
        arch.load(p)
    assert info.value.key == "components.dram.timing_cycles.nRCDRD"


@pytest.mark.parametrize("raw", ["1e400", ".inf", "-.inf", ".NaN"])
def test_set_values_follow_the_same_rules(raw, capsys):
    with pytest.raises(ArchSpecError, match="expected a finite number"):
        arch.parse_override(f"asic.freq_mhz={raw}")
    rc, _, err = cli(capsys, "show", "pim_gpt", "--set", f"asic.freq_mhz={raw}")
    assert_one_line_error(rc, err, "--set asic.freq_mhz", "expected a finite number", raw)
    with pytest.raises(ArchSpecError, match="expected a finite number") as info:
        arch.load("pim_gpt", set={"asic.freq_mhz": float(raw.replace(".", ""))})  # 1e400 -> inf, .inf -> inf
    assert info.value.key == "--set asic.freq_mhz"


def test_safe_loading_and_duplicate_keys_are_kept(tmp_path):
    p = tmp_path / "dup.yaml"
    p.write_text("name: a\nname: b\nfamily: gpu\n")
    with pytest.raises(ArchSpecError, match="duplicate key 'name'"):
        arch.load(p)
    p.write_text("name: !!python/object/apply:os.getcwd []\nfamily: gpu\n")
    with pytest.raises(ArchSpecError, match="invalid YAML"):
        arch.load(p)


# --- DRAM replay on a component that is no DRAM -----------------------------------------------------------------
@pytest.mark.parametrize("sub", ["replay", "check"])
def test_dram_command_on_a_non_dram_component(sub, trace, capsys):
    rc, _, err = cli(capsys, "dram", sub, trace, "--arch", "pim_gpt", "--component", "asic")
    assert_one_line_error(rc, err, "pim_gpt.yaml", "--component", "'asic' is a PimAsic, not a DRAM",
                          "expected a DRAM component of pim_gpt: dram")


def test_dram_command_on_a_spec_without_dram(trace, capsys):
    rc, _, err = cli(capsys, "dram", "replay", trace, "--arch", "t4", "--component", "gpu")
    assert_one_line_error(rc, err, "t4.yaml", "--component", "not a DRAM", "none (this spec has no DRAM)")


# --- output paths are checked before the work ---------------------------------------------------------------
def _bad_file_paths(tmp_path):
    (tmp_path / "regular.txt").write_text("x")
    return {
        "a directory": (tmp_path, "is a directory; expected a file path"),
        "under a regular file": (tmp_path / "regular.txt" / "out.json", "regular.txt is a file, not a folder"),
        "in /proc": ("/proc/archsim-test-out.json", "cannot create a file in the folder /proc"),
        "in a missing folder": (tmp_path / "missing" / "out.json", "does not exist"),
    }


FILE_CASES = ["a directory", "under a regular file", "in /proc", "in a missing folder"]


def _file_commands(trace):
    return {
        "run --trace-out": lambda out: ("run", "--arch", "t4", "--workload", "gpt2-small", "--trace-out", out),
        "dram replay --trace-out": lambda out: ("dram", "replay", trace, "--arch", "pim_gpt", "--trace-out", out),
        "sweep --out": lambda out: ("sweep", "--arch", "t4", "--workload", "gpt2-small", "--grid",
                                    "gpu.memory_bw_gb_per_s=160,320", "--out", out),
    }


@pytest.mark.parametrize("case", FILE_CASES)
@pytest.mark.parametrize("command", ["run --trace-out", "dram replay --trace-out", "sweep --out"])
def test_file_output_checked_before_any_work(command, case, tmp_path, trace, capsys, no_work):
    out, fragment = _bad_file_paths(tmp_path)[case]
    if command == "sweep --out" and case != "a directory":
        out = Path(out).with_suffix(".csv")  # a sweep table is .csv or .parquet (its own check)
    rc, _, err = cli(capsys, *_file_commands(trace)[command](out))
    assert_one_line_error(rc, err, str(out), command.split()[-1], fragment)
    assert no_work == []
    assert not (tmp_path / "missing").exists()  # a FILE option never creates its folder


def _bad_dir_paths(tmp_path):
    (tmp_path / "regular.txt").write_text("x")
    return {
        "a regular file": (tmp_path / "regular.txt", "is a file, not a folder"),
        "under a regular file": (tmp_path / "regular.txt" / "reports", "regular.txt is a file, not a folder"),
        "in /proc": ("/proc/archsim-test-reports", "cannot create the folder"),
    }


@pytest.mark.parametrize("case", ["a regular file", "under a regular file", "in /proc"])
@pytest.mark.parametrize("command", [("reproduce", "pim-gpt"), ("reproduce", "all"), ("demo",)])
def test_dir_output_checked_before_any_work(command, case, tmp_path, capsys, no_work):
    out, fragment = _bad_dir_paths(tmp_path)[case]
    rc, _, err = cli(capsys, *command, "--out", out)
    assert_one_line_error(rc, err, str(out), "--out", fragment)
    assert no_work == []


def test_a_target_folder_that_is_a_file_is_found_before_any_target_runs(tmp_path, capsys, no_work):
    (tmp_path / "lut-tensor-core").write_text("not a folder")
    rc, _, err = cli(capsys, "reproduce", "all", "--out", tmp_path)
    assert_one_line_error(rc, err, "lut-tensor-core", "is a file, not a folder")
    assert no_work == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder")
def test_unwritable_folder(tmp_path, trace, capsys, no_work):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        rc, _, err = cli(capsys, *_file_commands(trace)["run --trace-out"](ro / "t.json"))
        assert_one_line_error(rc, err, "--trace-out", "expected a writable folder")
        rc, _, err = cli(capsys, "reproduce", "all", "--out", ro / "reports")
        assert_one_line_error(rc, err, "--out", "expected a writable location")
    finally:
        ro.chmod(0o700)
    assert no_work == []


def test_sweep_api_checks_its_out_file_before_simulating(tmp_path, monkeypatch):
    import archsim.dse.runner as runner

    calls = []
    monkeypatch.setattr(runner, "plan", lambda spec: calls.append(spec))
    with pytest.raises(ArchsimError, match="does not exist") as info:
        runner.sweep("t4", {"gpu.memory_bw_gb_per_s": [160, 320]}, model="gpt2-small", out=tmp_path / "no" / "x.csv")
    assert info.value.key == "--out" and calls == [] and not (tmp_path / "no").exists()


# --- Python API -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [["dram.channels", 16], "dram.channels=16", 16, ("dram.channels",)])
def test_load_set_must_be_a_mapping(bad):
    with pytest.raises(ArchSpecError, match="expected set= to be a mapping") as info:
        arch.load("pim_gpt", set=bad)
    assert info.value.key == "set" and info.value.file.endswith("pim_gpt.yaml")


def test_set_keys_must_be_strings():
    with pytest.raises(ArchSpecError, match="as a string, got 3"):
        arch.load("pim_gpt", set={3: 16})
    with pytest.raises(ArchSpecError, match="expected set= to be a mapping"):
        arch.load("pim_gpt").with_overrides([("dram.channels", 16)])


def test_compile_argument_types():
    from archsim import mapper, workloads

    spec = arch.load("t4")
    with pytest.raises(MappingError, match="expects a Workload") as info:
        mapper.compile(None, spec)
    assert info.value.key == "workload"
    graph = workloads.gpt("gpt2-small").decode(prompt=4, tokens=1)
    with pytest.raises(MappingError, match=r"expects an architecture Spec .*archsim\.arch\.load\('t4'\)") as info:
        mapper.compile(graph, "t4")
    assert info.value.key == "spec"


def test_simulate_unknown_phase_is_a_workload_error():
    with pytest.raises(WorkloadError, match="unknown phase 'train'; expected decode or prefill") as info:
        archsim.simulate("t4", "gpt2-small", phase="train")
    assert type(info.value) is WorkloadError and info.value.key == "phase"


def test_lmma_cycles_needs_a_positive_int():
    import numpy as np

    from archsim.rtl.timing import lmma_cycles

    for bad in (0, -2):
        with pytest.raises(ValueError, match="weight_bits must be a positive int"):
            lmma_cycles(bad)
    for bad in ("4", 2.0, True, None):
        with pytest.raises(TypeError, match="weight_bits must be an int"):
            lmma_cycles(bad)
    assert lmma_cycles(3) == 3 and lmma_cycles(np.int64(2)) == 2


@pytest.mark.parametrize("kw, name", [({"n_cols": "4"}, "n_cols"), ({"table_bits": 11.0}, "table_bits"),
                                      ({"w_bits": None}, "w_bits"), ({"acc_bits": True}, "acc_bits")])
def test_lut_unit_argument_types(kw, name):
    from archsim.rtl.lut_unit import LutDotUnit

    with pytest.raises(TypeError, match=f"LutDotUnit: {name} must be an int, got "):
        LutDotUnit(**kw)


def test_whole_exponent_numbers_count_as_integers():
    """``channels: 2e3`` is the integer 2000 (an integer parameter); ``channels: 1.5`` is still refused."""
    spec = arch.load("pim_gpt", set={"dram.channels": 16.0})
    assert spec["dram.channels"] == 16 and isinstance(spec["dram.channels"], int)
    assert arch.load("pim_gpt", set=dict([arch.parse_override("dram.channels=1.6e1")]))["dram.channels"] == 16
    with pytest.raises(ArchSpecError, match="expected an integer, got"):
        arch.load("pim_gpt", set={"dram.channels": 1.5})

"""Sweeps: specs and axes, the content-addressed store, resume without recomputing or mixing stale results,
invalid points recorded, validation before work, CLI errors."""

import sqlite3

import pandas as pd
import pytest

import archsim
from archsim.base.errors import ArchsimError
from archsim.cli import main
from archsim.dse import runner
from archsim.dse.spec import expand_axis, load_sweep, make_spec

AXES = {"gpu.memory_bw_gb_per_s": [160, 320, 640], "gpu.kernel_overhead_us": [1, 10]}
WL = [{"model": "gpt2-small", "prompt": 8, "tokens": 2}]


def test_grid_order_parallel_equals_serial_and_exports(tmp_path):
    serial = archsim.sweep("t4", AXES, workloads=WL, jobs=1)
    (tmp_path / "new").mkdir()  # an output file's folder must exist (a FILE option never creates it)
    parallel = archsim.sweep("t4", AXES, workloads=WL, jobs=2, out=tmp_path / "new" / "p.parquet")
    assert list(serial["gpu.memory_bw_gb_per_s"]) == [160, 160, 320, 320, 640, 640]
    pd.testing.assert_frame_equal(serial, parallel)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "new" / "p.parquet"), serial)
    assert {"latency_s", "energy_j", "edp_j_s", "throughput_tokens_per_s", "utilization.gpu"} <= set(serial)
    assert (serial["edp_j_s"] == serial["energy_j"] * serial["latency_s"]).all()
    for ovh in (1, 10):  # more bandwidth never slows a bandwidth-bound decode down
        s = serial[serial["gpu.kernel_overhead_us"] == ovh]["latency_s"].tolist()
        assert s[0] > s[1] > s[2]


def test_resume_reuses_only_identical_configurations(tmp_path, monkeypatch):
    store = tmp_path / "s.sqlite"
    calls = []
    real = runner.evaluate

    def counting(task):
        calls.append(task["key"])
        return real(task)

    monkeypatch.setattr(runner, "evaluate", counting)
    first = archsim.sweep("t4", AXES, workloads=WL, store=store)
    assert len(calls) == 6
    again = archsim.sweep("t4", AXES, workloads=WL, store=store)
    assert len(calls) == 6  # all reused
    pd.testing.assert_frame_equal(first, again)
    # a changed workload option (the stale-journal bug: --tokens 64 then --tokens 1) recomputes every point
    other = archsim.sweep("t4", AXES, workloads=[{**WL[0], "tokens": 1}], store=store)
    assert len(calls) == 12
    assert (other["latency_s"].to_numpy() < first["latency_s"].to_numpy()).all()
    # a changed mode, or a different resolved architecture, also recomputes
    archsim.sweep("t4", {"gpu.memory_bw_gb_per_s": [160]}, workloads=WL, store=store, mode="command")
    assert len(calls) == 13
    # a larger grid computes only the new points
    archsim.sweep("t4", {**AXES, "gpu.kernel_overhead_us": [1, 10, 100]}, workloads=WL, store=store)
    assert len(calls) == 16
    assert sqlite3.connect(store).execute("SELECT COUNT(*) FROM points").fetchone()[0] == 16


def test_invalid_points_are_recorded_and_do_not_stop_the_sweep(tmp_path):
    df = archsim.sweep("t4", {"gpu.memory_bw_gb_per_s": [160, 0, 320]}, workloads=WL,
                       out=tmp_path / "r.csv")
    assert list(df["status"]) == ["ok", "error", "ok"]
    assert "memory_bw_gb_per_s" in df["error"][1] and df["latency_s"].isna().tolist() == [False, True, False]
    back = pd.read_csv(tmp_path / "r.csv", keep_default_na=False, na_values=[""])
    assert list(back["status"]) == ["ok", "error", "ok"]


def test_axes_lists_ranges_random_and_zip():
    assert expand_axis("a", {"range": {"start": 100, "stop": 1000, "step": 300}}, "f") == [100, 400, 700, 1000]
    r1 = expand_axis("a", {"random": {"low": 1, "high": 32, "count": 5, "seed": 3, "integer": True}}, "f")
    r2 = expand_axis("a", {"random": {"low": 1, "high": 32, "count": 5, "seed": 3, "integer": True}}, "f")
    assert r1 == r2 and len(set(r1)) == 5 and all(1 <= v <= 32 for v in r1)
    assert r1 != expand_axis("a", {"random": {"low": 1, "high": 32, "count": 5, "seed": 4, "integer": True}}, "f")
    spec = make_spec("t4", {"x.a": [1, 2], "x.b": [3, 4]}, WL, combine="zip")
    assert spec.overrides() == [{"x.a": 1, "x.b": 3}, {"x.a": 2, "x.b": 4}]
    with pytest.raises(ArchsimError, match=r"f: axes.a: expected distinct"):
        expand_axis("a", [1, 1], "f")
    with pytest.raises(ArchsimError, match=r"f: axes.a: unknown axis kind"):
        expand_axis("a", {"linspace": {}}, "f")


def test_sweep_yaml_and_its_errors(tmp_path, capsys):
    f = tmp_path / "s.yaml"
    f.write_text("arch: t4\naxes:\n  gpu.memory_bw_gb_per_s: {range: {start: 160, stop: 480, step: 160}}\n"
                 "workloads:\n  - {model: gpt2-small, prompt: 8, tokens: 2}\nmetrics: [latency_s, energy_j]\n")
    spec = load_sweep(f)
    assert spec.axes == {"gpu.memory_bw_gb_per_s": [160, 320, 480]}
    assert main(["sweep", str(f), "--out", str(tmp_path / "o.csv"), "--no-progress"]) == 0
    df = pd.read_csv(tmp_path / "o.csv")
    assert len(df) == 3 and "latency_s" in df and "edp_j_s" not in df
    cases = [("arch: t4\naxes: {gpu.bandwidth: [1]}\nworkloads: [gpt2-small]\n", "axes.gpu.bandwidth: t4 has no"),
             ("arch: t4\nworkloads: [{model: gpt2-small, tokens: -1}]\n", "workloads[0].tokens: expected a positive"),
             ("arch: t4\nworkloads: [{model: nosuchmodel}]\n", "workloads[0]:"),
             ("arch: t4\nworkloads: [gpt2-small]\nmetrics: [speed]\n", "metrics: unknown metric"),
             ("arch: t4\nworkload: [gpt2-small]\n", "unknown key"),
             ("arch: t4\naxes: {gpu.memory_bw_gb_per_s: []}\nworkloads: [gpt2-small]\n", "expected at least one")]
    for text, msg in cases:
        f.write_text(text)
        rc = main(["sweep", str(f), "--out", str(tmp_path / "bad.csv")])
        err = capsys.readouterr().err
        assert rc == 2 and str(f) in err and msg in err, (text, err)
        assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "bad.csv").exists()


def test_cli_flag_errors_before_any_work(tmp_path, capsys):
    base = ["sweep", "--arch", "t4", "--workload", "gpt2-small", "--tokens", "1"]
    out = ["--out", str(tmp_path / "x.csv")]
    for extra, msg in [(["--grid", "gpu.memory_bw_gb_per_s="], "expected KEY=V1,V2"),
                       (["--grid", "gpu.memory_bw_gb_per_s=1,2", "--grid", "gpu.memory_bw_gb_per_s=4"], "given twice"),
                       (["--grid", "gpu.memory_bw_gb_per_s=1", "--jobs", "0"], "expected --jobs >= 1"),
                       (["--grid", "gpu.memory_bw_gb_per_s=1", "--out", str(tmp_path / "x.txt")], "expected a .csv"),
                       (["--grid", "gpu.memory_bw_gb_per_s=1", "--executor", "dask"], "--scheduler")]:
        rc = main(base + extra + (out if "--out" not in extra else []))
        err = capsys.readouterr().err
        assert rc == 2 and msg in err, (extra, err)
    assert not (tmp_path / "x.csv").exists() and not (tmp_path / "archsim-store.sqlite").exists()


def test_jobs_capped_at_the_points_to_compute(monkeypatch):
    seen = {}
    from archsim.dse import executors

    real = executors.make_executor

    def spy(name, **kw):
        seen.update(kw)
        return real(name, **kw)

    monkeypatch.setattr(executors, "make_executor", spy)
    archsim.sweep("t4", {"gpu.memory_bw_gb_per_s": [160, 320]}, workloads=WL, jobs=1000)
    assert seen["jobs"] == 2


def test_shipped_sweep_yaml_validates_and_weight_bits_is_a_workload_option():
    from pathlib import Path

    spec = load_sweep(Path(__file__).resolve().parents[2] / "examples" / "pim_gpt_sweep.yaml")
    assert len(runner.plan(spec)) == 3 * 4
    wls = [{"model": "bitnet-b1.58-3b", "phase": "prefill", "prompt": 1, "batch": 64, "weight_format": "int",
            "weight_bits": b} for b in (1, 4)]
    df = archsim.sweep("lut_tensor_core", {"gpu.lut_arrays_per_tensor_core": [4]}, workloads=wls)
    assert list(df["weight_bits"]) == [1, 4] and (df["status"] == "ok").all()
    assert df["latency_s"][1] > df["latency_s"][0]  # bit-serial: 4 weight bit planes take longer than 1

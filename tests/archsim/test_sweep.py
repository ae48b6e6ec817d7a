"""Sweeps: grid order, parallel == serial, resume after an interruption without recomputing, atomic output."""

import json

import pandas as pd
import pytest

import archsim.sweep as sw
from archsim.base.errors import ArchsimError
from archsim.cli import main

GRID = {"gpu.memory_bw_gb_per_s": [160, 320, 640], "gpu.kernel_overhead_us": [1, 10]}


def test_grid_order_and_parallel_equals_serial(tmp_path):
    serial = sw.sweep("t4", "gpt2-small", GRID, tokens=2, workers=1)
    (tmp_path / "new" / "dir").mkdir(parents=True)  # a FILE output's folder must exist (it is never created)
    parallel = sw.sweep("t4", "gpt2-small", GRID, tokens=2, workers=2, out=tmp_path / "new" / "dir" / "p.csv")
    assert list(serial["gpu.memory_bw_gb_per_s"]) == [160, 160, 320, 320, 640, 640]
    pd.testing.assert_frame_equal(serial, parallel)
    assert (tmp_path / "new/dir/p.csv").exists() and not (tmp_path / "new/dir/p.csv.partial.jsonl").exists()
    # more bandwidth never slows a bandwidth-bound decode down
    for ovh in (1, 10):
        s = serial[serial["gpu.kernel_overhead_us"] == ovh]["seconds"].tolist()
        assert s[0] > s[1] > s[2]


def test_resume_skips_finished_points_and_ignores_a_torn_line(tmp_path, monkeypatch):
    out = tmp_path / "r.csv"
    full = sw.sweep("t4", "gpt2-small", GRID, tokens=2)
    journal = tmp_path / "r.csv.partial.jsonl"
    rows = full.to_dict("records")
    journal.write_text("\n".join(json.dumps(r) for r in rows[:4]) + "\n{\"point\": \"torn")
    calls = []
    real = sw._evaluate

    def counting(args):
        calls.append(args[2])
        return real(args)

    monkeypatch.setattr(sw, "_evaluate", counting)
    resumed = sw.sweep("t4", "gpt2-small", GRID, tokens=2, out=out)
    assert len(calls) == 2  # only the two points the journal did not hold
    pd.testing.assert_frame_equal(resumed, full, check_dtype=False)
    assert pd.read_csv(out).shape[0] == 6


def test_bad_axis_fails_before_any_work(tmp_path, capsys):
    with pytest.raises(ArchsimError, match="no parameter|unknown parameter"):
        sw.sweep("t4", "gpt2-small", {"gpu.bandwidth": [1]}, tokens=1)
    rc = main(["sweep", "--arch", "t4", "--workload", "gpt2-small", "--grid", "gpu.memory_bw_gb_per_s=",
               "--out", str(tmp_path / "x.csv")])
    assert rc == 2 and "expected KEY=V1,V2" in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists()

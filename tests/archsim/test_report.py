"""The HTML report: self-contained, every figure it references exists, opens in headless Chromium without
console errors and renders (the screenshot is not blank); a page with a script error is caught (control)."""

import base64
import os
import re
import shutil
import subprocess

import numpy as np
import pytest

import archsim
from archsim.cli import main

AXES = {"gpu.memory_bw_gb_per_s": [160, 320, 640], "gpu.kernel_overhead_us": [1, 10]}
WL = [{"model": "gpt2-small", "prompt": 8, "tokens": 2}]


def _chromium():
    exe = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI (.ci/run installs it)")
        pytest.skip("chromium not installed")
    return exe


def _open(page, shot, tmp_path):
    res = subprocess.run([_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr",
                          "--v=0", f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}",
                          "--window-size=1200,1400", f"file://{page}"],
                         capture_output=True, text=True, timeout=120)
    console_errors = [line for line in res.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    return res, console_errors


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    d = tmp_path_factory.mktemp("rep")
    archsim.sweep("t4", {**AXES, "gpu.memory_bw_gb_per_s": [160, 0, 320, 640]}, workloads=WL,
                  out=d / "r.parquet", store=d / "s.sqlite")
    assert main(["report", str(d / "r.parquet"), "--out", str(d / "html")]) == 0
    return d / "html"


def test_report_is_self_contained_and_every_figure_exists(report):
    page = (report / "report.html").read_text()
    assert "http://" not in page and "https://" not in page  # no network
    figs = re.findall(r"<figure id='([^']+)'><img alt='[^']*' src='data:image/png;base64,([^']+)'>", page)
    names = {n for n, _ in figs}
    assert {"pareto", "energy_breakdown", "sensitivity_gpu.memory_bw_gb_per_s",
            "sensitivity_gpu.kernel_overhead_us"} <= names
    assert len(re.findall(r"<img ", page)) == len(figs)
    for name, b64 in figs:
        data = base64.b64decode(b64)
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert (report / "figures" / f"{name}.png").read_bytes() == data
    assert "<table class='sortable'>" in page and "addEventListener('click'" in page
    assert page.count("<tr>") == (1 + 1) + (1 + 8)  # front (header + 1 point) + all (header + 8 points)


def test_report_opens_in_headless_chromium_and_renders(report, tmp_path):
    from PIL import Image

    shot = tmp_path / "shot.png"
    res, errors = _open(report / "report.html", shot, tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
    assert errors == []
    img = np.asarray(Image.open(shot).convert("L"), dtype=float)
    assert img.shape[0] > 500 and img.std() > 10  # not a blank page
    assert (img < 128).mean() > 0.01  # text and plot lines drawn


def test_chromium_check_catches_a_script_error(tmp_path):
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><html><body><p>x</p><script>noSuchFunction();</script></body></html>")
    _, errors = _open(bad, tmp_path / "bad.png", tmp_path)
    assert errors, "a page with an uncaught script error must be reported"


def test_report_errors(tmp_path, capsys):
    assert main(["report", str(tmp_path / "none.csv"), "--out", str(tmp_path / "o")]) == 2
    assert "none.csv: no such results file" in capsys.readouterr().err
    (tmp_path / "t.csv").write_text("a,b\n1,2\n")
    assert main(["report", str(tmp_path / "t.csv"), "--out", str(tmp_path / "o")]) == 2
    assert "--objectives" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()

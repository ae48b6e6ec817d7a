"""`archsim reproduce all` writes one HTML page: every report's claims (a disagreement highlighted), tables and
figures, self-contained; it opens in headless Chromium without console errors."""

import base64
import re
import shutil
import subprocess

import matplotlib
import pandas as pd
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from archsim.reproduce.html import write_html  # noqa: E402
from archsim.reproduce.report import Claim, Report  # noqa: E402


def _report(target, off):
    fig, ax = plt.subplots()
    ax.bar(["a", "b"], [1, 2])
    ax.set_ylabel("speedup (x)")
    return Report(target=target, title=f"{target} title",
                  claims=[Claim("speedup", 10.0, 10.0 * off, "x", note="why"), Claim("energy", 2.0, 2.1, "J")],
                  tables={"study": pd.DataFrame({"channels": [1, 2], "latency_s": [0.2, 0.1]})},
                  figures={"speedup": fig}, notes=["a note"])


def test_reproduce_html_page(tmp_path):
    page_path = write_html([_report("sys-a", 1.0), _report("sys-b", 3.0)], tmp_path)
    page = page_path.read_text()
    assert "http://" not in page and "https://" not in page
    assert page.count("<section id=") == 2 and page.count("class='disagrees'") == 1  # sys-b's speedup is 3x off
    imgs = re.findall(r"src='data:image/png;base64,([^']+)'", page)
    assert len(imgs) == 2 == page.count("<img ")
    assert all(base64.b64decode(b)[:4] == b"\x89PNG" for b in imgs)
    exe = shutil.which("chromium")
    if exe is None:
        pytest.skip("chromium not installed")
    res = subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0",
                          f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={tmp_path / 's.png'}",
                          f"file://{page_path}"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0 and not [x for x in res.stderr.splitlines() if "CONSOLE" in x or "Uncaught" in x]
    assert (tmp_path / "s.png").stat().st_size > 5000

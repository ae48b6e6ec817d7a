"""Acceptance: a sweep killed halfway (SIGKILL of the parent, then SIGINT) leaves no worker behind, and the
resumed sweep computes each remaining point once and gives the table of an uninterrupted run."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

AXES = ["--grid", "dram.channels=1,2,3,4", "--grid", "asic.freq_mhz=100,1000"]
ARGS = ["sweep", "--arch", "pim_gpt", "--workload", "gpt2-small", "--prompt", "8", "--tokens", "2", *AXES,
        "--jobs", "2", "--no-progress"]


def _cli(out: Path, store: Path) -> list[str]:
    return [sys.executable, "-m", "archsim.cli", *ARGS, "--out", str(out), "--store", str(store)]


def _descendants(pid: int) -> set[int]:
    kids, frontier = set(), {pid}
    while frontier:
        nxt = set()
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = Path(f"/proc/{entry}/stat").read_text()
                except OSError:
                    continue
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                if ppid in frontier:
                    nxt.add(int(entry))
        kids |= nxt
        frontier = nxt
    return kids


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _stored(store: Path) -> int:
    if not store.exists():
        return 0
    try:
        return sqlite3.connect(store, timeout=5).execute("SELECT COUNT(*) FROM points").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def _interrupt(out: Path, store: Path, sig: int, at_least: int) -> int:
    proc = subprocess.Popen(_cli(out, store), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while _stored(store) < at_least and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "the sweep finished before it could be interrupted"
    workers = _descendants(proc.pid)
    assert workers, "expected worker processes"
    os.kill(proc.pid, sig)
    proc.wait(60)
    deadline = time.monotonic() + 10
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [w for w in workers if _alive(w)], "a worker survived its parent"
    assert not out.exists()  # never a partial table
    return proc.returncode


def test_kill_then_interrupt_then_resume_equals_an_uninterrupted_run(tmp_path):
    ref_out = tmp_path / "ref.csv"
    subprocess.run(_cli(ref_out, tmp_path / "ref.sqlite"), check=True, capture_output=True)
    reference = pd.read_csv(ref_out)
    total = len(reference)

    out, store = tmp_path / "run.csv", tmp_path / "run.sqlite"
    rc = _interrupt(out, store, signal.SIGKILL, at_least=1)
    assert rc == -signal.SIGKILL
    after_kill = _stored(store)
    assert 1 <= after_kill < total
    rc = _interrupt(out, store, signal.SIGINT, at_least=after_kill + 1)
    assert rc == 130
    after_int = _stored(store)
    assert after_kill < after_int < total

    res = subprocess.run(_cli(out, store), check=True, capture_output=True, text=True)
    # each point computed once: the resumed run computes exactly the points the store did not hold
    assert f"({total - after_int} computed, {after_int} reused" in res.stdout
    assert _stored(store) == total
    pd.testing.assert_frame_equal(pd.read_csv(out), reference)

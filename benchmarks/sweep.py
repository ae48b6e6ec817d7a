"""Sweep throughput: points per minute of a 1,000-point PIM-GPT sweep (GPT-2 small, 32 generated tokens) on
2 local workers, into a fresh store. Budget (docs/design.md): the 1,000 points in under 10 minutes.

    .venv/bin/python benchmarks/sweep.py [--points 1000] [--jobs 2]

The axes are channels x banks per group x ASIC clock x global-buffer size; --points N takes N points
of that grid evenly spaced (N <= 1,000).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import archsim

AXES = {"dram.channels": [2, 4, 8, 16, 32], "dram.banks_per_group": [2, 4, 8, 16],
        "asic.freq_mhz": list(range(40, 1001, 40)), "dram.global_buffer_bytes": [1024, 2048]}  # 1,000 points
BUDGET_S = 600.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=1000)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--tokens", type=int, default=32)
    args = ap.parse_args()
    axes = dict(AXES)
    if args.points < 1000:  # a prefix of the grid: shrink the slowest axes first
        from archsim.dse.spec import make_spec

        grid = make_spec("pim_gpt", AXES, [{"model": "gpt2-small"}]).overrides()
        full = [grid[i * len(grid) // args.points] for i in range(args.points)]
        axes = {k: [p[k] for p in full] for k in AXES}
        combine = "zip"
    else:
        combine = "grid"
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        df = archsim.sweep("pim_gpt", axes, model="gpt2-small", prompt=32, tokens=args.tokens, jobs=args.jobs,
                           combine=combine, store=Path(tmp) / "store.sqlite", out=Path(tmp) / "t.parquet")
        wall = time.perf_counter() - t0
    n = len(df)
    print(f"sweep: {n} PIM-GPT points (gpt2-small, {args.tokens} tokens, {args.jobs} workers) in {wall:.1f} s = "
          f"{n / wall * 60:.0f} points/min; {int((df['status'] == 'error').sum())} invalid")
    print(f"  1,000 points at this rate: {1000 / (n / wall):.0f} s (budget {BUDGET_S:.0f} s)")


if __name__ == "__main__":
    main()

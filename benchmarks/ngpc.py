"""NGPC: wall time to map and simulate one 4K NeRF frame on NGPC-64 (budget: under 20 s), and the error of the
sampled simulation against full simulations at lower resolutions (2 to 64 NFP batches measured).

The 4K frame (49.8 M samples, 190 batches x 64 NFPs = 12,160 NFP batches) is simulated with NFP batches
holding ``--sample-queries`` queries measured exactly on their addresses and the rest extrapolated per stratum. The error is measured by
simulating smaller frames both ways (every NFP batch measured vs the same sampling rate) and comparing the
frame time, the encoding time and the grid-SRAM miss count.

    .venv/bin/python benchmarks/ngpc.py [--sample-queries 262144] [--arch ngpc_64]
"""

from __future__ import annotations

import argparse
import time

from archsim import ngpc
from archsim.workloads.ngp import frame

BUDGET_S = 20.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", default="ngpc_64")
    ap.add_argument("--sample-queries", type=int, default=ngpc.SAMPLE_QUERIES)
    args = ap.parse_args()

    t = time.perf_counter()
    r = ngpc.simulate_frame(args.arch, "nerf", "hashgrid", "4k", sample_queries=args.sample_queries)
    wall = time.perf_counter() - t
    print(f"NeRF hashgrid 4K on {args.arch}: {r.samples:,} samples, {r.jobs:,} NFP batches, "
          f"{r.measured_jobs} measured")
    print(f"  wall time {wall:.2f} s (budget {BUDGET_S:.0f} s: {'ok' if wall < BUDGET_S else 'OVER'})")
    print(f"  simulated frame {r.seconds * 1e3:.2f} ms ({r.fps:.1f} frames/s), speedup {r.speedup:.2f}x over "
          f"RTX 3090, encoding {r.encoding_seconds * 1e3:.2f} ms, MLP {r.mlp_seconds * 1e3:.2f} ms, grid-SRAM "
          f"hit rate {r.hit_rate:.4f}")

    print(f"sampling error against full simulations (every NFP batch measured); the 4K frame above measured "
          f"{r.measured_jobs} of {r.jobs:,}:")
    for res in ((320, 180), (640, 360)):
        fr = frame("nerf", "hashgrid", res)
        t = time.perf_counter()
        full = ngpc.simulate_frame(args.arch, fr, sample_queries=None)
        t_full = time.perf_counter() - t
        per_job = full.samples / full.jobs
        print(f"  {res[0]}x{res[1]}: {full.jobs} NFP batches, full simulation {t_full:.1f} s wall, frame "
              f"{full.seconds * 1e3:.3f} ms")
        for m in (2, 8, 32, 64):
            if m >= full.jobs:
                continue
            samp = ngpc.simulate_frame(args.arch, fr, sample_queries=max(1, round(m * per_job)))
            err = lambda a, b: 100 * (a - b) / b  # noqa: E731
            print(f"    {samp.measured_jobs:3d} measured: frame time {err(samp.seconds, full.seconds):+6.2f} %, "
                  f"encoding {err(samp.encoding_seconds, full.encoding_seconds):+6.2f} %, grid-SRAM misses "
                  f"{err(samp.misses, full.misses):+6.2f} %")


if __name__ == "__main__":
    main()

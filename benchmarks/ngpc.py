"""NGPC: wall time to map and simulate one 4K NeRF frame on NGPC-64 (budget: under 20 s), and the error of the
sampled simulation against full simulations at lower resolutions.

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

    rate = r.measured_jobs / r.jobs
    print(f"sampling error (same sampling rate, {rate:.4f} of NFP batches measured, vs every batch measured):")
    for res in ((320, 180), (640, 360)):
        fr = frame("nerf", "hashgrid", res)
        t = time.perf_counter()
        full = ngpc.simulate_frame(args.arch, fr, sample_queries=None)
        t_full = time.perf_counter() - t
        per_job = full.samples / full.jobs
        samp = ngpc.simulate_frame(args.arch, fr, sample_queries=max(1, round(full.jobs * rate * per_job)))
        m = samp.measured_jobs
        err = lambda a, b: 100 * (a - b) / b  # noqa: E731
        print(f"  {res[0]}x{res[1]}: {full.jobs} batches, {m} measured: frame time {err(samp.seconds, full.seconds):+.2f} %, "
              f"encoding {err(samp.encoding_seconds, full.encoding_seconds):+.2f} %, misses "
              f"{err(samp.misses, full.misses):+.2f} % (full simulation {t_full:.1f} s wall)")


if __name__ == "__main__":
    main()

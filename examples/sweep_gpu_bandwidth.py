"""Design-space exploration: how GPT-2 decode latency on a T4-class GPU scales with memory bandwidth and
per-kernel overhead. Copy this, change the grid, point it at your own YAML.

    .venv/bin/python examples/sweep_gpu_bandwidth.py [--out reports/examples]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from archsim.base.io import write_figure  # noqa: E402
from archsim import sweep  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="reports/examples")
    args = ap.parse_args()
    grid = {"gpu.memory_bw_gb_per_s": [80, 160, 320, 640, 1280], "gpu.kernel_overhead_us": [0, 5, 10, 20]}
    csv = Path(args.out) / "gpu_bandwidth.csv"
    df = sweep("t4", grid, model="gpt2-medium", prompt=32, tokens=16, jobs=2, out=csv)
    df["ms_per_token"] = df["latency_s"] / 16 * 1e3
    fig, ax = plt.subplots(figsize=(6, 4))
    for ovh, part in df.groupby("gpu.kernel_overhead_us"):
        ax.plot(part["gpu.memory_bw_gb_per_s"], part["ms_per_token"], marker="o", label=f"{ovh} us / kernel")
    ax.set_xscale("log")
    ax.set_xlabel("memory bandwidth (GB/s)")
    ax.set_ylabel("latency per token (ms)")
    ax.set_title("GPT-2 medium decode on a T4-class GPU")
    ax.legend()
    write_figure(Path(args.out) / "gpu_bandwidth.png", fig)
    print(df[["gpu.memory_bw_gb_per_s", "gpu.kernel_overhead_us", "ms_per_token"]].to_string(index=False))
    print(f"wrote {csv} and {Path(args.out) / 'gpu_bandwidth.png'}")


if __name__ == "__main__":
    main()

"""Design-space exploration on PIM-GPT: how latency per token depends on the channel count and the ASIC clock.
Copy it, change the grid or point it at your own YAML (any key `archsim show pim_gpt` lists can be swept).

    .venv/bin/python examples/pim_gpt_design_space.py [--model gpt2-small] [--tokens 4] [--out reports/examples]
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
    ap.add_argument("--model", default="gpt2-small")
    ap.add_argument("--prompt", type=int, default=32)
    ap.add_argument("--tokens", type=int, default=4)
    ap.add_argument("--out", default="reports/examples")
    args = ap.parse_args()
    grid = {"dram.channels": [2, 4, 8, 16], "asic.freq_mhz": [100, 250, 1000]}
    csv = Path(args.out) / "pim_gpt_design_space.csv"
    df = sweep("pim_gpt", grid, model=args.model, prompt=args.prompt, tokens=args.tokens, jobs=2, out=csv)
    df["us_per_token"] = df["latency_s"] / args.tokens * 1e6
    fig, ax = plt.subplots(figsize=(6, 4))
    for mhz, part in df.groupby("asic.freq_mhz"):
        ax.plot(part["dram.channels"], part["us_per_token"], marker="o", label=f"ASIC {mhz:g} MHz")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("PIM channels (16 banks each)")
    ax.set_ylabel("latency per token (us)")
    ax.set_title(f"PIM-GPT, {args.model}")
    ax.grid(alpha=0.3)
    ax.legend()
    png = write_figure(Path(args.out) / "pim_gpt_design_space.png", fig)
    print(df[["dram.channels", "asic.freq_mhz", "us_per_token", "energy_j"]].to_string(index=False))
    print(f"wrote {csv} and {png}")


if __name__ == "__main__":
    main()

"""Design-space exploration of the LUT Tensor Core: LUT arrays per tensor core x L2 bandwidth.

For each point the BitNet b1.58 3B prefill at batch 1024 x 1 token is mapped (tiling search) and simulated on
A100-LUT-NX (arch/specs/lut_tensor_core.yaml with two parameters overridden), and the tensor-core area per SM is
reported beside it: where do more arrays stop paying off, and what would move that point?

    .venv/bin/python examples/lut_tc_design_space.py [--out lut_tc_dse.png] [--batch 1024]
"""

from __future__ import annotations

import argparse

import pandas as pd

import archsim
from archsim import workloads
from archsim.base.io import write_figure
from archsim.cyclesim.tensor_core import Machine

ARRAYS = (1, 2, 4, 8, 16)
L2_BYTES_PER_CLK = (5120.0, 10240.0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="lut_tc_dse.png")
    ap.add_argument("--batch", type=int, default=1024)
    args = ap.parse_args()
    wl = workloads.model("bitnet-b1.58-3b").prefill(prompt=1, batch=args.batch)
    rows = []
    for l2 in L2_BYTES_PER_CLK:
        for x in ARRAYS:
            from archsim import arch

            spec = arch.load("lut_tensor_core", set={"gpu.lut_arrays_per_tensor_core": x,
                                                     "gpu.l2_bw_bytes_per_cycle": l2})
            r = archsim.simulate(spec, wl)
            area = Machine.from_spec(spec).tc_area_per_sm_mm2("int8")
            rows.append({"L2 B/clk": l2, "arrays/TC": x, "latency ms": round(r.seconds * 1e3, 3),
                         "TC mm2/SM": round(area, 3), "tokens/s per TC mm2": round(args.batch / r.seconds /
                                                                                    (area * 108), 1)})
            print(rows[-1], flush=True)
    df = pd.DataFrame(rows)
    print(df.to_string(index=False))

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for l2, sub in df.groupby("L2 B/clk"):
        ax.plot(sub["arrays/TC"], sub["latency ms"], marker="o", label=f"L2 {l2:.0f} B/clk")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("LUT arrays per tensor core (X)")
    ax.set_ylabel(f"BitNet 3B, batch {args.batch}: latency (ms)")
    ax.legend()
    fig.tight_layout()
    write_figure(args.out, fig)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

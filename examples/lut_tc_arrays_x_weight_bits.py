"""Design-space exploration of the LUT Tensor Core: LUT arrays per tensor core x weight bits, with a report.

BitNet b1.58 3B's linear layers with INT1/INT2/INT4 weights (the zoo model with its weight format overridden),
prefill of 1 token at batch 1024 (GEMM-bound), on A100-LUT-NX for N = 1..16 arrays per tensor core.

    .venv/bin/python examples/lut_tc_arrays_x_weight_bits.py [--batch 1024] [--jobs 2]
                                                             [--out reports/examples/lut_tc]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import archsim
from archsim.dse.report import write_report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", default="reports/examples/lut_tc")
    args = ap.parse_args()
    out = Path(args.out)
    axes = {"gpu.lut_arrays_per_tensor_core": [1, 2, 4, 8, 16]}
    wls = [{"model": "bitnet-b1.58-3b", "phase": "prefill", "prompt": 1, "batch": args.batch,
            "weight_format": "int", "weight_bits": bits} for bits in (1, 2, 4)]
    table = out / "lut_tc_dse.parquet"
    df = archsim.sweep("lut_tensor_core", axes, workloads=wls, jobs=args.jobs, out=table)
    cols = ["gpu.lut_arrays_per_tensor_core", "weight_bits", "status", "latency_s", "energy_j", "edp_j_s"]
    print(df[cols].to_string(index=False))
    print(f"table: {table}")
    print(f"report: {write_report(table, out / 'report', ['latency_s', 'energy_j'])}")


if __name__ == "__main__":
    main()

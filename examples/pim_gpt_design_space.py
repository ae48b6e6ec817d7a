"""Design-space exploration on PIM-GPT: channels x banks per bank group x ASIC clock, with an HTML report.
Copy it, change the axes or point it at your own YAML (any key `archsim show pim_gpt` lists can be swept).

    .venv/bin/python examples/pim_gpt_design_space.py [--model gpt2-small] [--tokens 8] [--jobs 2]
                                                      [--out reports/examples/pim_gpt]

Finished points are kept in OUT/archsim-store.sqlite: rerun it (or an interrupted run) and only new points
are computed. Prints the Pareto front (latency vs energy per token) and the report's path.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import archsim
from archsim.dse.report import write_report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="gpt2-small")
    ap.add_argument("--prompt", type=int, default=32)
    ap.add_argument("--tokens", type=int, default=8)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", default="reports/examples/pim_gpt")
    args = ap.parse_args()
    out = Path(args.out)
    axes = {"dram.channels": [2, 4, 8, 16, 32], "dram.banks_per_group": [2, 4], "asic.freq_mhz": [100, 250, 1000]}
    table = out / "pim_gpt_dse.parquet"
    df = archsim.sweep("pim_gpt", axes, model=args.model, prompt=args.prompt, tokens=args.tokens, jobs=args.jobs,
                       out=table)
    front = archsim.pareto_front(df, ["latency_s", "energy_per_token_j"])
    print(front[list(axes) + ["latency_s", "energy_per_token_j", "edp_j_s"]].to_string(index=False))
    print(f"table: {table}")
    print(f"report: {write_report(table, out / 'report', ['latency_s', 'energy_per_token_j'])}")


if __name__ == "__main__":
    main()

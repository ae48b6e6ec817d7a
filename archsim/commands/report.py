"""``archsim report RESULTS --out DIR``: a self-contained HTML report of a sweep's results table."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("report", help="an HTML report (Pareto, sensitivity, energy breakdown) of a sweep table")
    p.add_argument("results", metavar="RESULTS", help="a sweep table (.csv or .parquet)")
    p.add_argument("--out", required=True, metavar="DIR", help="directory for report.html and figures/")
    p.add_argument("--objectives", default="latency_s,energy_j",
                   help="comma-separated columns to minimize (default latency_s,energy_j)")
    p.set_defaults(func=cmd_report)


def cmd_report(args) -> int:
    from archsim.dse.report import write_report

    path = write_report(args.results, args.out, [o for o in args.objectives.split(",") if o])
    print(f"report: {path}")
    return 0

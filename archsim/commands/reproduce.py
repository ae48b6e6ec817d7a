"""``archsim reproduce TARGET|all``: paper headline numbers beside the model's."""

from __future__ import annotations

import time


def register(sub) -> None:
    p = sub.add_parser("reproduce", help="reproduce a paper's headline numbers (terminal table, CSV, PNG)")
    p.add_argument("target", help="a target name or 'all' (see `archsim reproduce list`)")
    p.add_argument("--out", default="reports", help="output directory (default: reports/)")
    p.add_argument("--quick", action="store_true", help="fewer sweep points (for smoke tests)")
    p.set_defaults(func=cmd_reproduce)


def check_out(targets: list[str], out: str) -> None:
    """Fail before any target runs if a report folder cannot be written (``--out`` and ``--out/<target>``)."""
    from pathlib import Path

    from archsim.base.io import check_output_dir

    check_output_dir(out, "--out")
    for name in targets:
        check_output_dir(Path(out) / name, "--out")


def run_targets(targets: list[str], out: str, quick: bool, html: bool = False) -> None:
    from archsim import reproduce
    from archsim.reproduce.html import write_html

    check_out(targets, out)
    reports = []
    for name in targets:
        t0 = time.monotonic()
        report = reproduce.build(name, quick=quick)
        print(report.render())
        paths = report.write(out)
        print(f"\n[{name}: wrote {len(paths)} files under {out}/{name}/ in {time.monotonic() - t0:.1f} s]\n")
        reports.append(report)
    if html and reports:  # `reproduce all`: every system on one page
        print(f"report: {write_html(reports, out)}")


def cmd_reproduce(args) -> int:
    from archsim import reproduce

    if args.target == "list":
        for name in reproduce.names():
            print(name)
        return 0
    targets = reproduce.names() if args.target == "all" else [args.target]
    for name in targets:
        if name not in reproduce.names():
            reproduce.build(name)  # the unknown-target error, before any folder is made
    run_targets(targets, args.out, args.quick, html=args.target == "all")
    return 0


def demo(args) -> None:
    from archsim import reproduce

    if reproduce.names():
        print("\n== reproduce all ==")
        run_targets(reproduce.names(), args.out, quick=False, html=True)

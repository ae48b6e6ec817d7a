"""``archsim sweep``: a grid of parameter overrides, in parallel, resumable."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("sweep", help="simulate a grid of design points (resumable; CSV output)")
    p.add_argument("--arch", required=True)
    p.add_argument("--workload", required=True)
    p.add_argument("--prompt", type=int, default=64)
    p.add_argument("--tokens", type=int, default=1)
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--grid", action="append", required=True, metavar="KEY=V1,V2,...",
                   help="an axis of the sweep, e.g. dram.channels=1,2,4,8 (repeat for more axes)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--mode", choices=("burst", "command"), default="burst")
    p.add_argument("--out", required=True, help="CSV file (a .partial.jsonl journal beside it while running)")
    p.set_defaults(func=cmd_sweep)


def parse_grid(items: list[str]) -> dict:
    from archsim.arch import parse_override
    from archsim.base.errors import ArchsimError

    grid = {}
    for item in items:
        key, _, values = item.partition("=")
        if not values:
            raise ArchsimError(f"expected KEY=V1,V2,... got {item!r}", key="--grid")
        grid[key] = [parse_override(f"{key}={v}")[1] for v in values.split(",")]
    return grid


def cmd_sweep(args) -> int:
    from archsim.base.errors import ArchsimError
    from archsim.base.io import check_output_file
    from archsim.sweep import stderr_progress, sweep

    if args.workers < 1:
        raise ArchsimError(f"expected --workers >= 1, got {args.workers}", key="--workers")
    check_output_file(args.out, "--out")  # the CSV (and its journal beside it), before any point runs
    df = sweep(args.arch, args.workload, parse_grid(args.grid), out=args.out, workers=args.workers,
               mode=args.mode, progress=stderr_progress(), prompt=args.prompt, tokens=args.tokens,
               batch=args.batch)
    print(f"{len(df)} points -> {args.out}")
    return 0

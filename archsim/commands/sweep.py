"""``archsim sweep [SWEEP.yaml]``: design points in parallel, kept in a content-addressed store, resumable."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("sweep", help="simulate a design space (resumable; SQLite store; CSV/Parquet output)")
    p.add_argument("file", nargs="?", metavar="SWEEP.yaml", help="a sweep description (or use --arch/--grid)")
    p.add_argument("--arch")
    p.add_argument("--workload", metavar="MODEL")
    p.add_argument("--prompt", type=int, default=64)
    p.add_argument("--tokens", type=int, default=1)
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--phase", choices=("decode", "prefill"), default="decode")
    p.add_argument("--grid", action="append", default=[], metavar="KEY=V1,V2,...",
                   help="an axis of the sweep, e.g. dram.channels=1,2,4,8 (repeat for more axes)")
    p.add_argument("--jobs", "--workers", dest="jobs", type=int, default=2,
                   help="parallel workers (capped at the number of points to compute)")
    p.add_argument("--executor", choices=("local", "dask"), default="local")
    p.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler address (with --executor dask)")
    p.add_argument("--mode", choices=("burst", "command"), default=None)
    p.add_argument("--store", help="SQLite result store (default: archsim-store.sqlite beside --out, "
                                   "or $ARCHSIM_STORE)")
    p.add_argument("--out", required=True, help="results table, .csv or .parquet (written atomically)")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_sweep)


def parse_grid(items: list[str]) -> dict:
    from archsim.arch import parse_override
    from archsim.base.errors import ArchsimError

    grid: dict = {}
    for item in items:
        key, _, values = item.partition("=")
        if not key or not values:
            raise ArchsimError(f"expected KEY=V1,V2,... got {item!r}", key="--grid")
        if key in grid:
            raise ArchsimError(f"axis {key!r} given twice; expected each key once (list all values in one --grid)",
                               key="--grid")
        grid[key] = [parse_override(f"{key}={v}")[1] for v in values.split(",")]
    return grid


def cmd_sweep(args) -> int:
    import sys

    from archsim.base.errors import ArchsimError
    from archsim.dse.runner import run_sweep
    from archsim.dse.spec import load_sweep, make_spec

    if args.file:
        if args.arch or args.workload or args.grid:
            raise ArchsimError("expected either SWEEP.yaml or --arch/--workload/--grid, not both", file=args.file)
        spec = load_sweep(args.file)
        if args.mode:
            spec.mode = args.mode
    else:
        if not args.arch or not args.workload:
            raise ArchsimError("expected SWEEP.yaml, or --arch ARCH --workload MODEL --grid KEY=V1,V2", key="sweep")
        wl = {"model": args.workload, "prompt": args.prompt, "tokens": args.tokens, "batch": args.batch,
              "phase": args.phase}
        spec = make_spec(args.arch, parse_grid(args.grid), [wl], mode=args.mode or "burst")
    try:
        run = run_sweep(spec, out=args.out, store=args.store, executor=args.executor, jobs=args.jobs,
                        scheduler=args.scheduler, progress=False if args.no_progress else None)
    except KeyboardInterrupt:
        print("archsim: sweep interrupted; finished points are kept in the store, rerun to resume",
              file=sys.stderr)
        return 130
    print(f"{len(run.table)} points ({run.computed} computed, {run.reused} reused from {run.store}, "
          f"{run.errors} invalid) -> {args.out}")
    return 0

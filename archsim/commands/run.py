"""``archsim run``: map and simulate a workload on an architecture."""

from __future__ import annotations

import json
import sys
import time

from archsim.commands.info import overrides


def register(sub) -> None:
    p = sub.add_parser("run", help="simulate a zoo workload on an architecture")
    p.add_argument("--arch", required=True, help="shipped name or YAML path")
    p.add_argument("--workload", required=True, help="zoo model name (see `archsim list`)")
    p.add_argument("--phase", choices=("decode", "prefill"), default="decode")
    p.add_argument("--prompt", type=int, default=64, help="prompt length in tokens (default 64)")
    p.add_argument("--tokens", type=int, default=1, help="generated tokens (decode; default 1)")
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--mode", choices=("burst", "command"), default="burst",
                   help="burst: reuse identical blocks (fast); command: simulate every command")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a parameter")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--trace-out", metavar="FILE", help="write a Chrome trace-event JSON timeline")
    p.add_argument("--quiet", action="store_true", help="no progress output on stderr")
    p.set_defaults(func=cmd_run)


def progress_printer(quiet: bool):
    if quiet or not sys.stderr.isatty():
        return None
    t0 = time.monotonic()

    def report(done: int, total: int) -> None:
        pct = 100.0 * done / total if total else 100.0
        print(f"\r  simulating: {done:,}/{total:,} blocks ({pct:5.1f}%), {time.monotonic() - t0:6.1f} s",
              end="" if done < total else "\n", file=sys.stderr, flush=True)

    return report


def cmd_run(args) -> int:
    import archsim
    from archsim.base.io import write_text_atomic

    result = archsim.simulate(args.arch, args.workload, phase=args.phase, prompt=args.prompt, tokens=args.tokens,
                              batch=args.batch, mode=args.mode, set=overrides(args.set),
                              trace=bool(args.trace_out), progress=progress_printer(args.quiet or args.json))
    if args.trace_out:
        write_text_atomic(args.trace_out, json.dumps(result.trace, separators=(",", ":")))
    print(result.to_json() if args.json else result.summary())
    return 0

"""``archsim run``: map and simulate a workload on an architecture."""

from __future__ import annotations

import json

from archsim.commands.info import overrides


def register(sub) -> None:
    p = sub.add_parser("run", help="simulate a zoo workload on an architecture")
    p.add_argument("--arch", required=True, help="shipped name or YAML path")
    p.add_argument("--workload", required=True, help="zoo model name (see `archsim list`)")
    p.add_argument("--phase", choices=("decode", "prefill"), default="decode")
    p.add_argument("--prompt", type=int, default=64, help="prompt length in tokens (default 64)")
    p.add_argument("--tokens", type=int, default=None, help="generated tokens (decode only; default 1)")
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--mode", choices=("burst", "command"), default="burst",
                   help="burst: reuse identical blocks (fast); command: simulate every command")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a parameter")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--trace-out", metavar="FILE", help="write a Chrome trace-event JSON timeline")
    p.add_argument("--quiet", action="store_true", help="no progress output on stderr")
    p.add_argument("--memory-limit", type=float, metavar="GB", default=None,
                   help="refuse a run whose estimated state exceeds this many GB (1e9 bytes; default: 3/4 of "
                        "physical memory)")
    p.add_argument("--work-limit", type=int, metavar="COMMANDS", default=None,
                   help="refuse a run of more estimated simulator commands (default 1,000,000,000)")
    p.set_defaults(func=cmd_run)


def limits_from(args):
    from archsim.base.errors import ArchsimError
    from archsim.mapper.guard import Limits

    mem, work = getattr(args, "memory_limit", None), getattr(args, "work_limit", None)
    if mem is not None and not mem > 0:
        raise ArchsimError(f"expected --memory-limit > 0 (GB), got {mem}", key="--memory-limit")
    if work is not None and work < 1:
        raise ArchsimError(f"expected --work-limit >= 1 (commands), got {work}", key="--work-limit")
    return Limits(memory_bytes=None if mem is None else int(mem * 1e9), commands=work)


def cmd_run(args) -> int:
    import archsim
    from archsim.base.io import check_output_file, write_text_atomic
    from archsim.progress import Progress

    if args.trace_out:
        check_output_file(args.trace_out, "--trace-out")  # before the simulation, not after it
    prog = Progress(not (args.quiet or args.json))
    try:
        result = archsim.simulate(args.arch, args.workload, phase=args.phase, prompt=args.prompt,
                                  tokens=args.tokens, batch=args.batch, mode=args.mode, set=overrides(args.set),
                                  trace=bool(args.trace_out), limits=limits_from(args),
                                  map_progress=prog.callback("mapping", "step"),
                                  progress=prog.callback("simulating", "block"))
    finally:
        prog.close()
    if args.trace_out:
        write_text_atomic(args.trace_out, json.dumps(result.trace, separators=(",", ":")))
    print(result.to_json() if args.json else result.summary())
    return 0

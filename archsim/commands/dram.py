"""``archsim dram replay | check``: replay a DRAM/PIM request trace; check a command trace against the rules.

    archsim dram replay TRACE --arch pim_gpt [--mode command|burst] [--trace-out FILE] [--json] [--set K=V]
    archsim dram check CMDTRACE --arch pim_gpt [--json] [--set K=V]

The request-trace and command-trace formats are documented in :mod:`archsim.cyclesim.dram.tracefile`.
"""

from __future__ import annotations

import json
import sys


def register(sub) -> None:
    p = sub.add_parser("dram", help="cycle-accurate GDDR6 / AiM PIM memory: replay traces, check command traces")
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])
    dsub = p.add_subparsers(dest="dram_command", metavar="SUBCOMMAND")

    r = dsub.add_parser("replay", help="run a request trace (RD/WR, WR_GB, MAC_ABK, RD_MAC, ... SYNC) and report "
                        "cycles, command counts, bandwidth, row-hit rate and energy")
    r.add_argument("trace", metavar="TRACE", help="request trace file (format: cyclesim.dram.tracefile)")
    r.add_argument("--arch", required=True, metavar="SPEC", help="shipped name (pim_gpt) or a YAML file")
    r.add_argument("--component", default="dram", help="path of the DRAM component in the spec (default dram)")
    r.add_argument("--mode", choices=("command", "burst"), default="burst",
                   help="command: one event per DRAM command; burst: closed-form runs and memoized blocks "
                        "(identical results, faster); default burst")
    r.add_argument("--format", choices=("auto", "archsim", "aim"), default="auto",
                   help="archsim: our request trace; aim: the public AiM simulator's trace (AiM <OP> ..., "
                        "R|W MEM, R|W GPR, W CFR, AiM EOC); auto (default): detected from the first line")
    r.add_argument("--trace-out", metavar="FILE", help="write the issued command trace (the checker's input)")
    r.add_argument("--json", action="store_true", help="machine-readable output")
    r.add_argument("--quiet", action="store_true", help="no progress output on stderr")
    r.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a parameter")
    r.set_defaults(func=cmd_replay)

    c = dsub.add_parser("check", help="check a command trace against the standard's timing rules and states")
    c.add_argument("trace", metavar="CMDTRACE", help="command trace (cycle channel bank command row column)")
    c.add_argument("--arch", required=True, metavar="SPEC", help="shipped name (pim_gpt) or a YAML file")
    c.add_argument("--component", default="dram", help="path of the DRAM component in the spec (default dram)")
    c.add_argument("--json", action="store_true", help="machine-readable output")
    c.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a parameter")
    c.set_defaults(func=cmd_check)


def _is_dram(comp) -> bool:
    from archsim import arch

    return "timing_preset" in arch.get_kind(comp.impl).params  # every DRAM kind names its timing table


def _load(args):
    from archsim import arch
    from archsim.base.errors import ArchSpecError
    from archsim.commands.info import overrides

    spec = arch.load(args.arch, set=overrides(args.set))
    comp = spec.component(args.component)
    if not _is_dram(comp):
        drams = [c.path for c in spec.walk() if _is_dram(c)]
        raise ArchSpecError(f"component {args.component!r} is a {comp.impl}, not a DRAM; expected a DRAM "
                            f"component of {spec.name}: {', '.join(drams) or 'none (this spec has no DRAM)'}",
                            file=spec.file, key="--component")
    return spec, comp


def cmd_replay(args) -> int:
    from archsim.base.io import check_output_file, write_text_atomic
    from archsim.cyclesim.dram import DramConfig, DramSystem, format_command_trace
    from archsim.cyclesim.dram.aimtrace import aim_cycles, parse_any
    from archsim.progress import Progress

    if args.trace_out:
        check_output_file(args.trace_out, "--trace-out")  # before the replay, not after it
    spec, comp = _load(args)
    system = DramSystem(DramConfig.from_params(comp.params, file=spec.file), args.mode)
    prog = Progress(not (args.json or getattr(args, "quiet", False)))  # only on a terminal
    program, fmt = parse_any(args.trace, system, args.format, progress=prog.callback("reading trace", "line"))
    if fmt == "aim":   # with the host's decode rate and queue-full stalls (cyclesim.dram.aimhost)
        from archsim.cyclesim.dram.aimhost import run_aim

        res, program = run_aim(args.trace, lambda: DramSystem(DramConfig.from_params(comp.params, file=spec.file),
                                                              args.mode), bool(args.trace_out))
    else:
        ctls = system._ctls  # read-only: how far each channel's controller is through its instructions

        def done_total():
            return max(((c.pos, len(c.items)) for c in ctls), key=lambda d: d[0] / max(d[1], 1))

        with prog.watch("replaying", done_total, "instr"):
            res = system.run(program, trace=bool(args.trace_out))
    if args.trace_out:
        write_text_atomic(args.trace_out, format_command_trace(res.trace, standard=res.standard,
                                                               clock_mhz=res.clock_mhz))
    cfg = system.cfg
    if args.json:
        out = {"trace": args.trace, "format": fmt, "arch": spec.name, "component": args.component,
               "channels": cfg.channels, "banks_per_channel": cfg.banks, **res.to_dict(),
               "cycles_counts": "cycle 0 (start of the run) to the completion of the last command"
                                + (" or the host's decode of EOC, whichever is later" if fmt == "aim" else "")}
        if fmt == "aim":
            out["aim_cycles"] = aim_cycles(res)
            out["aim_cycles_counts"] = "the AiM simulator's definition: ticks until the EOC callback returns"
        if args.trace_out:
            out["trace_out"] = args.trace_out
        print(json.dumps(out, indent=2, sort_keys=False))
        return 0
    print(f"{args.trace}: {_count(program):,} requests on {spec.name}.{args.component} ({res.standard}, {cfg.channels} "
          f"channels x {cfg.banks} banks), {args.mode} mode")
    print(f"cycles: {res.cycles:,} (dram clock {res.clock_mhz:g} MHz) = {res.ns:,.1f} ns, from the start of the "
          f"run to the completion of the last command" + (" or the host's decode of EOC" if fmt == "aim" else ""))
    if fmt == "aim":
        print(f"aim cycles: {aim_cycles(res):,} (the AiM simulator's count: ticks until the EOC callback returns)")
    print("commands: " + (", ".join(f"{k} {v:,}" for k, v in res.commands.items() if v) or "none")
          + f" (total {res.simulated_commands:,})")
    print(f"bandwidth: {res.bus_bandwidth_gbps:,.2f} GB/s at the pins ({res.bus_bytes:,} bytes), "
          f"{res.internal_bandwidth_gbps:,.2f} GB/s inside the banks ({res.bank_bytes:,} bytes)")
    print(f"row-hit rate: {res.row_hit_rate * 100:.2f} % ({res.bank_activations:,} bank activations, "
          f"{res.bank_accesses:,} bank column accesses); refreshes: {res.refreshes:,}")
    parts = ", ".join(f"{k} {v / 1e3:,.3f}" for k, v in res.energy_pj.items() if v)
    print(f"energy: {res.energy_nj:,.3f} nJ ({parts or 'no energy parameters set'})")
    if args.trace_out:
        print(f"command trace: {args.trace_out}")
    return 0


def _count(program) -> int:
    """Requests and PIM instructions in per-channel lists (inside blocks too), SYNC not counted."""
    from archsim.cyclesim.dram import DramBlock
    from archsim.cyclesim.dram.program import OP_ARRIVE, OP_DELAY, OP_MEMO, OP_SYNC

    n = 0
    for item in (i for lst in program for i in lst):
        if isinstance(item, DramBlock):
            n += _count([item.instrs])
        elif item[0] in (OP_SYNC, OP_ARRIVE, OP_MEMO) or item[0] == OP_DELAY and not item[4]:
            continue   # host-side markers of AiM traces (arrivals, a zero delay at a MEM/AiM switch) and SYNCs
        else:
            n += 1
    return n


def cmd_check(args) -> int:
    from archsim.cyclesim.dram import DramConfig, check_trace, parse_command_trace

    spec, comp = _load(args)
    cfg = DramConfig.from_params(comp.params, file=spec.file)
    trace = parse_command_trace(args.trace)
    violations = check_trace(trace, cfg)
    if args.json:
        print(json.dumps({"trace": args.trace, "commands": len(trace), "standard": cfg.standard.name,
                          "violations": [{"rule": v.rule, "index": v.index, "cycle": v.cycle, "channel": v.channel,
                                          "command": v.command, "preceding": v.preceding, "required": v.required,
                                          "actual": v.actual} for v in violations]}, indent=2))
    else:
        for v in violations:
            print(v)
        print(f"{args.trace}: {len(trace):,} commands checked against {cfg.standard.name}: "
              f"{len(violations)} violation{'s' if len(violations) != 1 else ''}",
              file=sys.stdout)
    return 1 if violations else 0


def demo(args) -> None:
    """Part of `archsim demo`: one GPT2-XL-sized GEMV on the PIM-GPT memory, both fidelities."""
    from archsim import arch
    from archsim.cyclesim.dram import DramBlock, DramProgram, DramSystem, mac_abk, rd_mac, wr_gb

    spec = arch.load("pim_gpt")
    results = {}
    for mode in ("command", "burst"):
        system = DramSystem(spec, mode)
        cfg = system.cfg
        prog = DramProgram(cfg.channels)
        for ch in range(cfg.channels):
            row = 0
            for cols in (64, 36):  # 1600 inputs = 1024 + 576 bf16 = 64 + 36 columns of 32 B
                prog.add(ch, wr_gb(cols))
                for _ in range(6400 // (cfg.channels * cfg.banks)):
                    prog.block(ch, DramBlock([mac_abk(row, 0, cols), rd_mac()]))
                    row += 1
        prog.sync()
        results[mode] = system.run(prog)
    res = results["burst"]
    same = results["command"].cycles == res.cycles and results["command"].commands == res.commands
    print("\n== DRAM / PIM model ==")
    print(f"GEMV 6400x1600 bf16 on pim_gpt: {res.cycles:,} cycles (dram clock {res.clock_mhz:g} MHz) = "
          f"{res.ns / 1e3:,.2f} us, {res.simulated_commands:,} commands, row-hit rate {res.row_hit_rate * 100:.2f} %, "
          f"{res.energy_nj / 1e3:,.2f} uJ; command mode == burst mode: {same}")

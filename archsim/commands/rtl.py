"""``archsim rtl list | export | sim | report``: the Amaranth units in rtl/, their Verilog, testbenches and
synthesis statistics."""

from __future__ import annotations

import sys
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("rtl", help="RTL units: list, export Verilog, simulate against the numpy models, synthesize")
    rs = p.add_subparsers(dest="rtl_command", metavar="ACTION")
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])

    q = rs.add_parser("list", help="the units, their parameters (defaults) and timing")
    q.set_defaults(func=cmd_list)

    q = rs.add_parser("export", help="write a unit's Verilog")
    q.add_argument("unit", metavar="UNIT")
    q.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="override a parameter")
    q.add_argument("--out", required=True, metavar="DIR", help="folder for UNIT.v")
    q.set_defaults(func=cmd_export)

    q = rs.add_parser("sim", help="run a unit's testbench in the Amaranth simulator against its numpy model")
    q.add_argument("unit", metavar="UNIT")
    q.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="override a parameter (default: the unit's small test parameters)")
    q.add_argument("--vectors", type=int, default=1000, help="number of test vectors (default 1000)")
    q.add_argument("--seed", type=int, default=0)
    q.add_argument("--vcd", metavar="FILE", help="write the waveform (GTKWave opens it)")
    q.set_defaults(func=cmd_sim)

    q = rs.add_parser("report", help="synthesize units with the system yosys (generic synth): cells, "
                                     "flip-flops, area estimate")
    q.add_argument("units", nargs="*", metavar="UNIT", help="units to synthesize (default: all)")
    q.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="override a parameter (with exactly one UNIT)")
    q.add_argument("--small", action="store_true", help="use the small test parameters instead of the defaults")
    q.add_argument("--csv", metavar="FILE", help="also write the table as CSV")
    q.set_defaults(func=cmd_report)


def _params_text(params: dict) -> str:
    return " ".join(f"{k}={v}" for k, v in params.items())


def cmd_list(args) -> int:
    from archsim.rtl.units import UNITS, build

    for name, info in UNITS.items():
        t = build(name, {}, metadata_only=True).timing
        print(f"{name:<10} {info.doc}")
        print(f"{'':<10} parameters: {_params_text(info.defaults())}")
        print(f"{'':<10} timing at defaults: latency {t.latency_cycles} cycles, II {t.initiation_interval_cycles} "
              f"cycle(s) per {info.vector}; small test set: {_params_text(info.small)}")
    return 0


def cmd_export(args) -> int:
    from archsim.base.io import check_output_dir, write_text_atomic
    from archsim.rtl.harness import export_verilog
    from archsim.rtl.units import build, parse_params

    build(args.unit, parse_params(args.param), metadata_only=True)  # parameter errors before touching --out
    out = check_output_dir(args.out, key="--out")
    dut = build(args.unit, parse_params(args.param))
    path = write_text_atomic(Path(out) / f"{args.unit}.v", export_verilog(dut, args.unit))
    print(f"wrote {path} ({args.unit}: {_params_text(parse_params(args.param)) or 'default parameters'}; "
          f"latency {dut.timing.latency_cycles} cycles, II {dut.timing.initiation_interval_cycles})")
    return 0


def cmd_sim(args) -> int:
    from archsim.base.io import check_output_file
    from archsim.rtl.params import RtlParamError
    from archsim.rtl.units import run_bench, unit

    info = unit(args.unit)
    if args.vectors < 1:
        raise RtlParamError(f"--vectors: expected a positive number of vectors, got {args.vectors}")
    vcd = str(check_output_file(args.vcd, key="--vcd")) if args.vcd else None
    from archsim.rtl.units import parse_params

    params = {**info.small, **parse_params(args.param)}
    dut, bench, trace, errors = run_bench(args.unit, params, vectors=args.vectors, seed=args.seed, vcd=vcd)
    print(f"{args.unit} ({_params_text(params)}): {bench.vectors} vectors (one per {info.vector}), {trace.cycles} cycles in "
          f"{trace.wall_s:.2f} s wall, {trace.cpu_s:.2f} s CPU ({trace.cycles_per_s:,.0f} cycles/s wall, "
          f"{trace.cycles_per_cpu_s:,.0f} cycles/s CPU, Amaranth simulator)")
    print(f"latency {dut.timing.latency_cycles} cycles, II {dut.timing.initiation_interval_cycles} cycle(s)")
    if vcd:
        print(f"wrote {vcd}")
    if errors:
        print(f"MISMATCH against the numpy model: {len(errors)} difference(s); first: {errors[0]}", file=sys.stderr)
        return 1
    print("bit-exact against the numpy model")
    return 0


def cmd_report(args) -> int:
    import csv
    import io
    import time

    from archsim.base.io import check_output_file, write_text_atomic
    from archsim.rtl.harness import NAND2_UM2, export_verilog, need_tool, yosys_synth
    from archsim.rtl.params import RtlParamError
    from archsim.rtl.units import UNITS, build, parse_params, unit

    names = args.units or list(UNITS)
    for n in names:
        unit(n)
    extra = parse_params(args.param)
    if extra and len(names) != 1:
        raise RtlParamError("--param applies to one unit: name exactly one UNIT with it")
    csv_path = check_output_file(args.csv, key="--csv") if args.csv else None
    need_tool("yosys")
    rows = []
    for n in names:
        params = {**(UNITS[n].small if args.small else {}), **extra}
        dut = build(n, params)
        print(f"synthesizing {n} ... (generic yosys synth; paper-size units take minutes)", file=sys.stderr,
              flush=True)
        t0 = time.perf_counter()
        sram_bits = getattr(dut, "sram_bits", 0)
        stats = yosys_synth(export_verilog(dut, n), n, keep_memories=bool(sram_bits))
        shown = {**UNITS[n].defaults(), **params}
        rows.append({"unit": n, "params": _params_text(shown), "latency_cycles": dut.timing.latency_cycles,
                     "ii_cycles": dut.timing.initiation_interval_cycles, "cells": stats.cells,
                     "flip_flops": stats.flip_flops, "gate_equivalents": round(stats.gate_equivalents, 1),
                     "area_um2_est": round(stats.area_um2, 1), "sram_bits": sram_bits,
                     "synth_s": round(time.perf_counter() - t0, 1)})
        r = rows[-1]
        print(f"{n:<10} cells {r['cells']:>9,}  flip-flops {r['flip_flops']:>7,}  "
              f"{r['gate_equivalents']:>11,.0f} GE  ~{r['area_um2_est']:>10,.0f} um^2  "
              f"{'SRAM ' + format(sram_bits, ',') + ' bits  ' if sram_bits else ''}"
              f"latency {r['latency_cycles']} cyc  II {r['ii_cycles']} cyc  ({r['params']}; yosys {r['synth_s']} s)",
              flush=True)
    print(f"area estimate: gate equivalents (NAND2 = 1) x {NAND2_UM2} um^2, an assumed 28 nm NAND2; generic "
          "Yosys gates, no technology mapping; a table SRAM is kept as one macro cell and listed in bits, "
          "outside the gate count")
    if csv_path:
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
        write_text_atomic(csv_path, buf.getvalue())
        print(f"wrote {csv_path}")
    return 0

"""Amaranth simulation speed of the RTL testbenches (measured, no budget: the Amaranth Python simulator is the
slow part of the RTL tests, so this is what decides how many vectors the default suite can afford).

For every unit, its testbench (random and edge-case vectors, compared with the numpy model) at the small test
parameters and at the paper-size defaults (``pim_mac`` 16 lanes, ``lut_array`` M2 N64, ``hash_grid`` 2^10-entry
table, ``attention`` d=128). Prints vectors, simulated cycles, wall and CPU seconds and cycles/s of each (on a shared machine the CPU figure is the fair one), and fails if any run
is not bit-exact.

    .venv/bin/python benchmarks/rtl_sim.py [--vectors 1000] [--default-vectors 300]
"""

from __future__ import annotations

import argparse
import sys

from archsim.rtl.units import UNITS, run_bench


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vectors", type=int, default=1000, help="vectors per unit at the small parameters")
    ap.add_argument("--default-vectors", type=int, default=300, help="vectors per unit at the default parameters")
    args = ap.parse_args(argv)
    bad = 0
    print(f"{'unit':<10} {'parameters':<22} {'vectors':>8} {'cycles':>8} {'wall s':>8} {'CPU s':>8} {'cycles/s':>10} {'cyc/CPU s':>10}  bit-exact")
    for name, info in UNITS.items():
        for label, params, n in (("small", info.small, args.vectors), ("default", {}, args.default_vectors)):
            dut, bench, trace, errors = run_bench(name, params, vectors=n, seed=1)
            shown = " ".join(f"{k}={v}" for k, v in params.items()) or "defaults"
            print(f"{name:<10} {shown:<22} {bench.vectors:>8} {trace.cycles:>8} {trace.wall_s:>8.2f} "
                  f"{trace.cpu_s:>8.2f} {trace.cycles_per_s:>10,.0f} {trace.cycles_per_cpu_s:>10,.0f}  {'yes' if not errors else 'NO: ' + errors[0]}", flush=True)
            bad += bool(errors)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

"""`archsim reproduce TARGET` end to end (claims, tables, figures and the what-if ladders): wall and CPU time of a
fresh process per target (budget: under 5 minutes each, full form).

    .venv/bin/python benchmarks/reproduce.py [--quick] [TARGET ...]     (default: pim-gpt lut-tensor-core)
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time

BUDGET_S = 300.0


def run(target: str, quick: bool) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as out:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        cmd = [sys.executable, "-m", "archsim.cli", "reproduce", target, "--out", out] + (["--quick"] if quick else [])
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("targets", nargs="*", default=["pim-gpt", "lut-tensor-core"])
    ap.add_argument("--quick", action="store_true", help="the quick form (as in the test suite)")
    args = ap.parse_args()
    for target in args.targets:
        wall, cpu = run(target, args.quick)
        verdict = "within" if wall < BUDGET_S else "OVER"
        print(f"reproduce {target}{' --quick' if args.quick else ''}: {wall:.1f} s wall, {cpu:.1f} s CPU "
              f"({verdict} the {BUDGET_S:.0f} s budget)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""PIM-GPT end to end: wall time and peak memory of GPT-2 XL generating 1,024 tokens in burst mode (budget:
under 60 s and under 2 GB), and the command-mode simulation rate on a small model.

    .venv/bin/python benchmarks/pim_gpt.py [--model gpt2-xl] [--prompt 64] [--tokens 1024] [--skip-command]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

import archsim


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="gpt2-xl")
    ap.add_argument("--prompt", type=int, default=64)
    ap.add_argument("--tokens", type=int, default=1024)
    ap.add_argument("--skip-command", action="store_true")
    args = ap.parse_args()

    def progress(done, total):
        print(f"\r  {done}/{total} tokens, {time.perf_counter() - t0:6.1f} s", end="", file=sys.stderr, flush=True)

    t0 = time.perf_counter()
    r = archsim.simulate("pim_gpt", args.model, prompt=args.prompt, tokens=args.tokens, mode="burst",
                         progress=progress)
    wall = time.perf_counter() - t0
    print(file=sys.stderr)
    dram_cmds = sum(v for k, v in r.components["pim"]["stats"].items() if k.endswith("_commands"))
    print(f"burst mode: {args.model}, prompt {args.prompt}, {args.tokens} tokens: {wall:.1f} s wall "
          f"(budget < 60 s), peak memory {peak_rss_mb():,.0f} MB (budget < 2,048 MB)")
    print(f"  simulated {r.seconds * 1e3:.2f} ms = {r.cycles:,} cycles of the {r.clock} clock "
          f"({r.clock_mhz:g} MHz), {r.seconds / args.tokens * 1e3:.4f} ms/token; {dram_cmds:,} DRAM commands "
          f"= {dram_cmds / wall:,.0f} simulated commands/s; {r.extra.get('pim.memo', '')}")
    if not args.skip_command:
        t0 = time.perf_counter()
        c = archsim.simulate("pim_gpt", "gpt2-small", prompt=8, tokens=1, mode="command")
        wall = time.perf_counter() - t0
        n = sum(v for k, v in c.components["pim"]["stats"].items() if k.endswith("_commands"))
        print(f"command mode: gpt2-small, 1 token: {n:,} DRAM commands in {wall:.2f} s = {n / wall:,.0f} "
              f"commands/s (end to end, mapping included)")


if __name__ == "__main__":
    main()

"""PIM-GPT end to end: GPT-2 XL generating 1,024 tokens in burst mode (budget: under 10 s wall on one core of a
quiet 2-core machine, peak memory under 1 GB), and the command-mode simulation rate on a small model.

Prints, per run, the wall and CPU time, the simulated time and the ratio of the two (how much slower than the
hardware the simulation runs), peak memory (resident set) and the block memo's size; then the median of the runs.
Each run is a fresh process (``--runs N`` starts N of them), so the memo and the caches start cold every time.

    .venv/bin/python benchmarks/pim_gpt.py [--model gpt2-xl] [--prompt 64] [--tokens 1024] [--runs 3]
                                           [--skip-command]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time


def _dram_commands(result) -> int:
    """DRAM commands issued (the DRAM model's per-command counters; ``dram_commands`` counts program runs)."""
    return sum(v for k, v in result.components["pim"]["stats"].items()
               if k.endswith("_commands") and k != "dram_commands")


def one_run(model: str, prompt: int, tokens: int) -> dict:
    import archsim

    t0, c0 = time.perf_counter(), time.process_time()
    r = archsim.simulate("pim_gpt", model, prompt=prompt, tokens=tokens, mode="burst")
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    dram_cmds = _dram_commands(r)
    return {"wall_s": wall, "cpu_s": cpu, "simulated_s": r.seconds, "cycles": r.cycles, "clock": r.clock,
            "clock_mhz": r.clock_mhz, "energy_j": r.energy_joules, "dram_commands": dram_cmds,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "blocks": f"{r.blocks_simulated:,} simulated, {r.blocks_reused:,} reused",
            "memo": r.extra.get("blocks.memo", ""), "tails": r.extra.get("pim.tail_memo", "")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="gpt2-xl")
    ap.add_argument("--prompt", type=int, default=64)
    ap.add_argument("--tokens", type=int, default=1024)
    ap.add_argument("--runs", type=int, default=3, help="fresh processes to time (median reported; default 3)")
    ap.add_argument("--skip-command", action="store_true")
    ap.add_argument("--one", action="store_true", help=argparse.SUPPRESS)   # a single run, as JSON (internal)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one_run(args.model, args.prompt, args.tokens)))
        return

    runs = []
    for i in range(args.runs):
        out = subprocess.run([sys.executable, __file__, "--one", "--model", args.model, "--prompt", str(args.prompt),
                              "--tokens", str(args.tokens)], capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        runs.append(r)
        print(f"run {i + 1}: {r['wall_s']:.2f} s wall, {r['cpu_s']:.2f} s CPU for {r['simulated_s'] * 1e3:.2f} ms "
              f"simulated ({r['wall_s'] / r['simulated_s']:,.0f}x slower than the hardware), peak "
              f"{r['peak_mb']:,.0f} MB; blocks {r['blocks']}; memo {r['memo']}; tail memo {r['tails']}", flush=True)
    if len({(r["cycles"], r["energy_j"], r["dram_commands"]) for r in runs}) != 1:
        raise SystemExit("runs disagree: the simulation is not deterministic")
    r = runs[0]
    wall = statistics.median(x["wall_s"] for x in runs)
    cpu = statistics.median(x["cpu_s"] for x in runs)
    peak = max(x["peak_mb"] for x in runs)
    print(f"burst mode: {args.model}, prompt {args.prompt}, {args.tokens:,} tokens, median of {len(runs)} runs: "
          f"{wall:.2f} s wall (budget < 10 s), {cpu:.2f} s CPU, peak memory {peak:,.0f} MB (budget < 1,024 MB)")
    print(f"  simulated {r['simulated_s'] * 1e3:.2f} ms = {r['cycles']:,} cycles of the {r['clock']} clock "
          f"({r['clock_mhz']:g} MHz), {r['simulated_s'] / args.tokens * 1e3:.4f} ms/token; wall / simulated = "
          f"{wall / r['simulated_s']:,.0f}x; {r['dram_commands']:,} DRAM commands = "
          f"{r['dram_commands'] / wall:,.0f} simulated commands/s; energy {r['energy_j'] * 1e3:.3f} mJ")
    if not args.skip_command:
        import archsim

        t0 = time.perf_counter()
        c = archsim.simulate("pim_gpt", "gpt2-small", prompt=8, tokens=1, mode="command")
        wall = time.perf_counter() - t0
        n = _dram_commands(c)
        print(f"command mode: gpt2-small, 1 token: {n:,} DRAM commands in {wall:.2f} s = {n / wall:,.0f} "
              f"commands/s (end to end, mapping included)")


if __name__ == "__main__":
    main()

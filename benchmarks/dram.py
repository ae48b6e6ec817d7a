"""DRAM/PIM model throughput (budget: command mode >= 300,000 DRAM commands/s on one core).

Workload: a GEMV-shaped PIM program, GPT2-XL sized: a 1600 x 6400 bf16 weight matrix over the channels of
``pim_gpt`` (8 x 16 banks). Each bank holds whole output rows; the 1600-long input is split into row-sized
tiles (1024 + 576 elements); per tile every channel writes the tile into its global buffer (WR_GB) and, per
group of 16 outputs (one per bank), runs one MAC_ABK over the tile's columns and one RD_MAC. Each (MAC_ABK,
RD_MAC) pair is a DramBlock, so burst mode can reuse the result of identical groups.

Prints command-mode commands/s (one kernel event per command) and burst-mode simulated commands/s (closed-form
runs and the block memo), and checks that both modes agree exactly. Also measures an ordinary sequential read
stream (FR-FCFS over the request queue) on the same channels.

    .venv/bin/python benchmarks/dram.py [--k 1600] [--n 6400] [--repeat 3] [--tokens 1] [--reads 100000]
"""

from __future__ import annotations

import argparse
import time

import arch
from cyclesim.dram import DramBlock, DramProgram, DramSystem, mac_abk, rd, rd_mac, wr_gb


def gemv_program(cfg, k: int, n: int, *, elem_bytes: int = 2, blocks: bool = True, tokens: int = 1,
                 first_row: int = 0) -> DramProgram:
    """The GEMV y[n] = W[n x k] x[k] mapped onto all channels and banks (see the module docstring)."""
    per_row = cfg.row_bytes // elem_bytes                 # input elements per DRAM row (1024 bf16)
    elems_per_access = cfg.access_bytes // elem_bytes     # 16 bf16 per 256-bit column
    lanes = cfg.channels * cfg.banks
    groups = -(-n // lanes)                               # outputs per bank
    tiles = [min(per_row, k - t) for t in range(0, k, per_row)]
    prog = DramProgram(cfg.channels)
    for _tok in range(tokens):
        for ch in range(cfg.channels):
            row = first_row
            for tile in tiles:
                cols = -(-tile // elems_per_access)
                prog.add(ch, wr_gb(cols))
                for _g in range(groups):
                    work = [mac_abk(row, 0, cols), rd_mac()]
                    if blocks:
                        prog.block(ch, DramBlock(work))
                    else:
                        prog.extend(ch, work)
                    row += 1
        prog.sync()
    return prog


def measure(spec, prog, mode: str, repeat: int):
    best = None
    for _ in range(repeat):
        system = DramSystem(spec, mode)
        t0 = time.perf_counter()
        res = system.run(prog)
        wall = time.perf_counter() - t0
        best = wall if best is None or wall < best else best
    return res, best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--k", type=int, default=1600, help="input length (default 1600, GPT2-XL d_model)")
    ap.add_argument("--n", type=int, default=6400, help="output length (default 6400, GPT2-XL d_ff)")
    ap.add_argument("--tokens", type=int, default=1, help="repeat the GEMV this many times (default 1)")
    ap.add_argument("--repeat", type=int, default=3, help="timing repetitions, best is reported (default 3)")
    ap.add_argument("--reads", type=int, default=100_000, help="ordinary sequential reads (default 100000)")
    args = ap.parse_args()
    spec = arch.load("pim_gpt")
    cfg = DramSystem(spec, "burst").cfg
    prog = gemv_program(cfg, args.k, args.n, tokens=args.tokens)
    rc, wall_c = measure(spec, prog, "command", args.repeat)
    rb, wall_b = measure(spec, prog, "burst", args.repeat)
    flat = gemv_program(cfg, args.k, args.n, tokens=args.tokens, blocks=False)
    rf, wall_f = measure(spec, flat, "burst", args.repeat)
    assert (rc.cycles, rc.commands, rc.per_bank) == (rb.cycles, rb.commands, rb.per_bank), "modes disagree"
    assert (rf.cycles, rf.commands) == (rc.cycles, rc.commands), "blocks changed the result"
    n = rc.simulated_commands
    print(f"GEMV {args.n}x{args.k} bf16 x {args.tokens} on pim_gpt ({cfg.channels} channels x {cfg.banks} banks, "
          f"{cfg.standard.name}): {rc.cycles:,} cycles (dram clock {cfg.freq_mhz:g} MHz) = {rc.ns / 1e3:,.2f} us, "
          f"{n:,} DRAM commands, row-hit rate {rc.row_hit_rate * 100:.2f} %")
    print(f"command mode: {n:,} commands, {rc.events:,} events in {wall_c:.3f} s = {n / wall_c:,.0f} commands/s "
          f"(budget >= 300,000 commands/s)")
    print(f"burst mode:   {rb.events:,} events in {wall_b:.4f} s = {n / wall_b:,.0f} simulated commands/s "
          f"(memo {rb.memo_hits:,} hits / {rb.memo_misses:,} misses)")
    print(f"burst mode, no blocks (closed-form runs only): {rf.events:,} events in {wall_f:.4f} s = "
          f"{n / wall_f:,.0f} simulated commands/s")
    print("command and burst mode agree exactly (cycles, command counts per bank)")
    system = DramSystem(spec, "burst")
    reads = DramProgram(cfg.channels)
    for i in range(args.reads):
        ch, b, r, c = system.decode(i * cfg.access_bytes)
        reads.add(ch, rd(b, r, c))
    sc, wall_sc = measure(spec, reads, "command", args.repeat)
    sb, wall_sb = measure(spec, reads, "burst", args.repeat)
    assert (sc.cycles, sc.commands) == (sb.cycles, sb.commands), "modes disagree"
    n = sc.simulated_commands
    print(f"sequential reads ({args.reads:,}, FR-FCFS, {cfg.queue_entries}-entry queue): {sc.cycles:,} cycles, "
          f"{sc.bus_bandwidth_gbps:.1f} GB/s at the pins; command mode {n / wall_sc:,.0f} commands/s, "
          f"burst mode {n / wall_sb:,.0f} simulated commands/s")


if __name__ == "__main__":
    main()

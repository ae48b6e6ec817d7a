"""DRAM/PIM model throughput (budget: command mode >= 500,000 DRAM commands/s on one core, on a PIM GEMV stream and on FR-FCFS reads alike).

Workload: a GEMV-shaped PIM program, GPT2-XL sized: a 1600 x 6400 bf16 weight matrix over the channels of
``pim_gpt`` (8 x 16 banks). Each bank holds whole output rows; the 1600-long input is split into row-sized
tiles (1024 + 576 elements); per tile every channel writes the tile into its global buffer (WR_GB) and, per
group of 16 outputs (one per bank), runs one MAC_ABK over the tile's columns and one RD_MAC. Each (MAC_ABK,
RD_MAC) pair is a DramBlock, so burst mode can reuse the result of identical groups.

Prints command-mode commands/s (one kernel event per command) and burst-mode simulated commands/s (closed-form
runs and the block memo), and checks that both modes agree exactly. Also measures an ordinary sequential read
stream (FR-FCFS over the request queue) on the same channels.

A synthetic GPT-2 XL token (budget: 1,024 tokens in burst mode under 60 s, i.e. under ~50 ms per token): per
channel, for each of 48 layers, the four weight VMMs QKV (4800x1600), proj (1600x1600), FC1 (6400x1600) and FC2
(1600x6400), each laid out as all-bank row segments of 64 MAC columns + RD_MAC (one DramRepeat per 1024-input
K-tile, after a WR_GB of the tile), a SYNC after each VMM and a DELAY for the ASIC's work. Every channel gets the
same stream, so burst mode simulates one channel and replicates it. Prints wall seconds and simulated cycles per
token and the projection to 1,024 tokens; checks command mode against burst mode on one token of a smaller
model (exact agreement of cycles, counters, energy).

    .venv/bin/python benchmarks/dram.py [--k 1600] [--n 6400] [--repeat 3] [--tokens 1] [--reads 100000]
                                        [--gpt-tokens 8] [--gpt-layers 48] [--asic-delay 2000] [--run-per-vmm]
"""

from __future__ import annotations

import argparse
import time

from archsim import arch
from archsim.cyclesim.dram import SYNC, DramBlock, DramProgram, DramRepeat, DramSystem, delay, mac_abk, rd, rd_mac, wr_gb

GPT2_XL_VMMS = (("qkv", 4800, 1600), ("proj", 1600, 1600), ("fc1", 6400, 1600), ("fc2", 1600, 6400))


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


def gpt_token_phases(cfg, *, layers: int = 48, vmms=GPT2_XL_VMMS, asic_delay: int = 2000,
                     elem_bytes: int = 2) -> list[list]:
    """One decode token's weight VMMs as phases (one instruction list per VMM, the same for every channel).

    A VMM of ``n_out x n_in`` bf16 weights fills ``n_out * n_in * 2 / (channels * row bytes * banks)``
    all-bank rows per channel; each row segment is ``MAC_ABK`` over the row's 64 columns + ``RD_MAC``. The
    input is split into row-sized K-tiles (1024 bf16); each K-tile is a WR_GB then a DramRepeat over its
    share of the rows. Weights of successive VMMs sit on successive rows. Each phase ends with a SYNC and a
    DELAY of ``asic_delay`` cycles (the ASIC's reductions and non-linear work)."""
    cols = cfg.row_accesses
    tile = DramBlock([mac_abk(0, 0, cols), rd_mac()], row_base=0)
    per_row = cfg.row_bytes // elem_bytes                     # inputs per row (1024 bf16)
    lanes_bytes = cfg.channels * cfg.banks * cfg.row_bytes    # weight bytes per all-bank row on every channel
    phases = []
    row = 0
    for _layer in range(layers):
        for _name, n_out, n_in in vmms:
            k_tiles = -(-n_in // per_row)
            segs = -(-(-(-n_out * n_in * elem_bytes // lanes_bytes)) // k_tiles)
            items = []
            for _k in range(k_tiles):
                items.append(wr_gb(cols))
                items.append(DramRepeat(tile, segs, row))
                row += segs
            items += [SYNC, delay(asic_delay)]
            phases.append(items)
    if row > cfg.rows:
        raise SystemExit(f"the synthetic model needs {row} rows per bank; the DRAM has {cfg.rows}")
    return phases


def run_token(system, phases, *, per_vmm: bool, trace: bool = False):
    """Run one token; returns (cycles, a dict of summed counters and energy)."""
    channels = system.cfg.channels
    chunks = phases if per_vmm else [[x for ph in phases for x in ph]]
    start = system.now
    total = {"commands": {}, "energy_pj": {}, "refreshes": 0, "memo_hits": 0, "memo_misses": 0,
             "tile_steps": 0, "events": 0, "simulated_channels": channels, "per_bank": {}, "trace": []}
    for items in chunks:
        res = system.run([items] * channels, trace=trace)
        for k, v in res.commands.items():
            total["commands"][k] = total["commands"].get(k, 0) + v
        for k, v in res.energy_pj.items():
            total["energy_pj"][k] = total["energy_pj"].get(k, 0.0) + v
        for key, d in res.per_bank.items():
            mine = total["per_bank"].setdefault(key, {})
            for k, v in d.items():
                mine[k] = mine.get(k, 0) + v
        for k in ("refreshes", "memo_hits", "memo_misses", "tile_steps", "events"):
            total[k] += getattr(res, k)
        total["simulated_channels"] = min(total["simulated_channels"], res.simulated_channels)
        if trace:
            total["trace"] += res.trace
    return system.now - start, total


def gpt_token_benchmark(spec, args) -> None:
    cfg = DramSystem(spec, "burst").cfg
    phases = gpt_token_phases(cfg, layers=args.gpt_layers, asic_delay=args.asic_delay)
    segs = sum(x.count for ph in phases for x in ph if isinstance(x, DramRepeat))
    system = DramSystem(spec, "burst")
    walls, cycles = [], []
    for _tok in range(args.gpt_tokens):
        t0 = time.perf_counter()
        cyc, tot = run_token(system, phases, per_vmm=args.run_per_vmm)
        walls.append(time.perf_counter() - t0)
        cycles.append(cyc)
    steady = sorted(walls[1:] or walls)
    per_token = steady[len(steady) // 2]
    how = f"{len(phases)} runs per token (one per VMM)" if args.run_per_vmm else "one run per token"
    print(f"GPT-2 XL token, synthetic ({args.gpt_layers} layers x 4 weight VMMs, {segs:,} row segments per "
          f"channel, DELAY {args.asic_delay} after each VMM, {how}), burst mode, {args.gpt_tokens} tokens:")
    print(f"  {per_token * 1e3:.1f} ms wall per token (median of the tokens after the first; best "
          f"{steady[0] * 1e3:.1f} ms; first token {walls[0] * 1e3:.1f} ms, memo warm-up), "
          f"{sum(cycles) / len(cycles):,.0f} cycles per token (dram clock {cfg.freq_mhz:g} MHz), "
          f"{tot['refreshes'] // cfg.channels:,} refreshes per channel per token, "
          f"{tot['tile_steps']:,} memo steps, simulated channels {tot['simulated_channels']}")
    proj = walls[0] + per_token * (1024 - 1)
    print(f"  projected 1,024 tokens: {proj:.1f} s wall (budget < 60 s)")


def gpt_token_agreement(spec) -> None:
    """Command mode == burst mode on a smaller model (4 layers, the VMMs halved): one token run VMM by VMM, then
    one run as a whole, on the same system."""
    cfg = DramSystem(spec, "burst").cfg
    small = tuple((name, n_out // 2, n_in // 2) for name, n_out, n_in in GPT2_XL_VMMS)
    phases = gpt_token_phases(cfg, layers=4, vmms=small, asic_delay=2000)
    out = {}
    for mode in ("command", "burst"):
        system = DramSystem(spec, mode)
        t0 = time.perf_counter()
        cyc, tot = run_token(system, phases, per_vmm=True)
        cyc2, tot2 = run_token(system, phases, per_vmm=False)
        out[mode] = (cyc, cyc2, tot, tot2, time.perf_counter() - t0)
    c, b = out["command"], out["burst"]
    for k in (0, 1):
        assert c[k] == b[k], ("cycles differ", c[k], b[k])
    for k in (2, 3):
        for field in ("commands", "energy_pj", "per_bank", "refreshes"):
            assert c[k][field] == b[k][field], f"{field} differs"
    n = sum(c[2]["commands"].values()) + sum(c[3]["commands"].values())
    print(f"small token (4 layers, VMMs halved), twice: {c[0]:,} + {c[1]:,} cycles, {n:,} commands, "
          f"{c[2]['refreshes'] + c[3]['refreshes']:,} refreshes; command mode {c[4]:.2f} s, burst mode "
          f"{b[4] * 1e3:.1f} ms; cycles, counters per bank, refreshes and energy agree exactly")


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
    ap.add_argument("--gpt-tokens", type=int, default=8, help="synthetic GPT-2 XL tokens (default 8)")
    ap.add_argument("--gpt-layers", type=int, default=48, help="layers of the synthetic token (default 48)")
    ap.add_argument("--asic-delay", type=int, default=2000, help="DELAY cycles after each VMM (default 2000)")
    ap.add_argument("--run-per-vmm", action="store_true", help="one DramSystem.run per VMM (as a mapper "
                    "driving the phases would) instead of one per token")
    args = ap.parse_args()
    spec = arch.load("pim_gpt")
    gpt_token_benchmark(spec, args)
    gpt_token_agreement(spec)
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
          f"(budget >= 500,000 commands/s)")
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
          f"{sc.bus_bandwidth_gbps:.1f} GB/s at the pins; command mode {n / wall_sc:,.0f} commands/s (budget >= "
          f"500,000 commands/s), "
          f"burst mode {n / wall_sb:,.0f} simulated commands/s")


if __name__ == "__main__":
    main()

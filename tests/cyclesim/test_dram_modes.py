"""Command mode (one kernel event per DRAM command) and burst mode (closed-form runs, memoized blocks) must agree
exactly: cycles, every counter, energy and the command trace itself. Every trace also passes the checker."""

from __future__ import annotations

import random

import pytest

from archsim.base.errors import SimulationError
from dram_testlib import SPECS, aim_spec, gddr6_spec, random_program, same, spec_of
from archsim.cyclesim.dram import (DramBlock, DramProgram, DramSystem, check_trace, delay, mac_abk, rd, rd_mac, wr,
                           wr_gb)

TOTALS = {"memo_hits": 0, "refreshes": 0, "commands": 0, "burst_events": 0, "programs": 0}


@pytest.mark.parametrize("chunk", range(8))
def test_modes_agree_on_random_programs(chunk):
    """25 seeded programs per chunk, 200 in all, round-robin over the four configurations."""
    names = list(SPECS)
    for seed in range(chunk * 25, chunk * 25 + 25):
        rng = random.Random(seed)
        name = names[seed % len(names)]
        spec = spec_of(name)
        cmd_sys = DramSystem(spec, "command")
        prog = random_program(rng, cmd_sys.cfg, rng.choice((20, 60, 200)), pim=SPECS[name][2])
        a = cmd_sys.run(prog, trace=True)
        b = DramSystem(spec, "burst").run(prog, trace=True)
        same(a, b)
        assert a.events >= a.simulated_commands          # at least one kernel event per command
        assert check_trace(a.trace, spec) == [], f"seed {seed}"
        TOTALS["memo_hits"] += b.memo_hits
        TOTALS["refreshes"] += b.refreshes
        TOTALS["commands"] += b.simulated_commands
        TOTALS["burst_events"] += b.events
        TOTALS["programs"] += 1


def test_random_programs_exercised_the_fast_paths():
    """The generated programs did hit the memo, refresh inside runs, and burst mode used far fewer events."""
    if TOTALS["programs"] < 200:
        pytest.skip("runs after the random-program tests (whole module)")
    assert TOTALS["memo_hits"] > 20
    assert TOTALS["refreshes"] > 100
    assert TOTALS["burst_events"] < TOTALS["commands"] / 2


def test_repeated_blocks_hit_the_memo_across_refresh_boundaries():
    """The same block shape on successive rows: identical state after each block, so all but the first few
    come from the memo; blocks that a refresh falls into are simulated again and still agree exactly."""
    spec = aim_spec(timing_cycles={"nREFI": 1000})
    prog = DramProgram(2)
    for ch in range(2):
        prog.add(ch, wr_gb(64))
        for g in range(60):
            prog.block(ch, DramBlock([mac_abk(100 + g, 0, 64), rd_mac()]))
    a = DramSystem(spec, "command").run(prog, trace=True)
    b = DramSystem(spec, "burst").run(prog, trace=True)
    same(a, b)
    assert b.refreshes > 10
    assert b.memo_hits > 60
    assert b.events < a.events / 20
    assert check_trace(b.trace, spec) == []


def test_block_shapes_are_relative_to_a_base_row():
    ra = DramSystem(aim_spec()).cfg.row_accesses
    a = DramBlock([mac_abk(5, 0, 64), rd(3, 9, 1)])
    b = DramBlock([mac_abk(50, 0, 64), rd(3, 54, 1)])
    c = DramBlock([mac_abk(5, 1, 64), rd(3, 9, 1)])
    d = DramBlock([mac_abk(5, 0, 64), rd(4, 9, 1)])
    assert a.shape is b.shape and (a.row_base, b.row_base) == (5, 50)        # same shape, other rows
    assert a.shape.rows(ra) == (frozenset({0, 4}), 4)                        # 64 columns from col 0: one row
    assert c.shape.rows(ra) == (frozenset({0, 1, 4}), 4)                     # from col 1 it spills into row 6
    assert a.shape is not c.shape and a.shape is not d.shape                 # columns and banks matter
    assert a.at(7).instrs == (mac_abk(7, 0, 64), rd(3, 11, 1)) and a.at(7).shape is a.shape


def test_blocks_placed_with_at_hit_the_memo_and_agree():
    spec = aim_spec()
    tile = DramBlock([mac_abk(0, 0, 64), rd_mac()])
    prog = DramProgram(1)
    prog.add(0, wr_gb(64))
    for g in range(40):
        prog.block(0, tile.at(200 + g))
    a = DramSystem(spec, "command").run(prog, trace=True)
    b = DramSystem(spec, "burst").run(prog, trace=True)
    same(a, b)
    assert check_trace(a.trace, spec) == []
    assert b.memo_hits >= 30
    with pytest.raises(SimulationError, match="out of range"):
        DramSystem(spec).run([[tile.at(DramSystem(spec).cfg.rows)]])
    with pytest.raises(SimulationError, match="do not nest"):
        DramBlock([tile])


def test_persistent_state_across_runs_and_start_cycle():
    """Two runs on one system continue from the first run's state (open rows, refresh, time) in both modes."""
    spec = gddr6_spec(channels=2)
    res = {}
    for mode in ("command", "burst"):
        system = DramSystem(spec, mode)
        p1, p2 = DramProgram(2), DramProgram(2)
        for i in range(300):
            p1.add(i % 2, rd(i % 3, 4, i % 64))
            p2.add(i % 2, wr(i % 3, 4 + i % 2, i % 64))
        p2.add(0, delay(40))
        r1 = system.run(p1, trace=True)
        r2 = system.run(p2, trace=True, start_cycle=r1.end_cycle + 5000)
        assert r2.start_cycle == r1.end_cycle + 5000
        assert check_trace(r1.trace + r2.trace, spec) == []
        res[mode] = (r1, r2)
    for a, b in zip(res["command"], res["burst"]):
        same(a, b)
    assert res["burst"][1].refreshes >= 1          # the refreshes of the idle gap, issued at their due cycles


def test_ordinary_read_runs_are_collapsed_in_burst_mode():
    spec = gddr6_spec(channels=1, refresh="none")
    prog = DramProgram(1)
    for i in range(64):
        prog.add(0, rd(2, 9, i))
    a = DramSystem(spec, "command").run(prog, trace=True)
    b = DramSystem(spec, "burst").run(prog, trace=True)
    same(a, b)
    assert check_trace(a.trace, spec) == []
    assert a.events == 1 + 65 and b.events == 3    # start + ACT + 64 RD; start + ACT + one run


@pytest.mark.slow
@pytest.mark.parametrize("chunk", range(10))
def test_modes_agree_on_many_larger_random_programs(chunk):
    """1000 more seeded programs, up to 600 items, with the checker on each trace (make test-slow)."""
    names = list(SPECS)
    for seed in range(10_000 + chunk * 100, 10_000 + chunk * 100 + 100):
        rng = random.Random(seed)
        name = names[seed % len(names)]
        spec = spec_of(name)
        cmd_sys = DramSystem(spec, "command")
        prog = random_program(rng, cmd_sys.cfg, rng.choice((50, 200, 600)), pim=SPECS[name][2])
        a = cmd_sys.run(prog, trace=True)
        same(a, DramSystem(spec, "burst").run(prog, trace=True))
        assert check_trace(a.trace, spec) == [], f"seed {seed}"


# --- issue 10: the new commands and the AiM-format traces ----------------------------------------------------
def _sprinkle_new_ops(rng, prog, cfg):
    """Insert WR_ABK (WRA16, auto-precharge), RD_AF (RDAF16), COPY_BKGB / COPY_GBBK (RDCP / WRCP) and WR_BIAS ->
    RD_MAC pairs (the rules changed
    for the public AiM simulator) into a random program, inside blocks too."""
    from archsim.cyclesim.dram.program import copy_bkgb, copy_gbbk, rd_af, wr_abk, wr_bias

    def new():
        k = rng.random()
        row = rng.randrange(cfg.rows - 200)
        if k < 0.4:
            return [wr_abk(row, rng.randrange(cfg.row_accesses))]
        if k < 0.6:
            return [rd_af(rng.choice((1, 2)))]
        if k < 0.8:
            op = rng.choice((copy_bkgb, copy_gbbk))
            return [op(rng.randrange(cfg.banks), row, rng.randrange(cfg.row_accesses), rng.choice((1, 3, 20)))]
        return [wr_bias(), rd_mac()]

    for lst in prog.channels:
        for _ in range(rng.randrange(1, 5)):
            at = rng.randrange(len(lst) + 1)
            if rng.random() < 0.3:
                lst.insert(at, DramBlock(new() + new()))
            else:
                lst[at:at] = new()


@pytest.mark.parametrize("chunk", range(4))
def test_modes_agree_with_wr_abk_rd_af_copies_and_register_pairs(chunk):
    for seed in range(1000 + chunk * 15, 1000 + chunk * 15 + 15):
        rng = random.Random(seed)
        name = ("aim", "aim_fast_refresh_q4")[seed % 2]
        spec = spec_of(name)
        cmd_sys = DramSystem(spec, "command")
        prog = random_program(rng, cmd_sys.cfg, rng.choice((20, 60)), pim=True)
        _sprinkle_new_ops(rng, prog, cmd_sys.cfg)
        a = cmd_sys.run(prog, trace=True)
        b = DramSystem(spec, "burst").run(prog, trace=True)
        same(a, b)
        assert a.commands.get("WRA16", 0) + a.commands.get("RDAF16", 0) > 0
        assert check_trace(a.trace, spec) == [], f"seed {seed}"


def test_modes_agree_on_every_shipped_aim_trace():
    from pathlib import Path
    from archsim import arch
    from archsim.cyclesim.dram import replay

    spec = arch.load("aim_reference")
    traces = sorted((Path(__file__).parent / "aim_traces").glob("*.aim"))
    assert len(traces) >= 7
    for t in traces:
        a = replay(t, spec, "command", record=True)
        b = replay(t, spec, "burst", record=True)
        same(a, b)


def _random_aim_trace(rng, cfg, n):
    """Random AiM-format lines on ``cfg``: MEM requests (row hits and conflicts), every modelled AiM op, CFR and
    GPR lines, EWADD and blocking lines, so that decode-rate arrivals, MEM/AiM switches and barriers mix."""
    chans = cfg.channels
    ra = cfg.row_accesses

    def mask():
        sel = rng.sample(range(chans), rng.randint(1, chans))
        return f"{sum(1 << (31 - c) for c in sel):#010x}"

    rows = (1, 2, 3)
    out = []
    for _ in range(n):
        k = rng.random()
        b, r = rng.randrange(cfg.banks), rng.choice(rows)
        if k < 0.45:
            out.append(f"{rng.choice('RW')} MEM {rng.randrange(chans)} {rng.choice((b, 0))} {r}")
        elif k < 0.5:
            out.append(rng.choice(("W GPR 1", "R GPR 2", f"W CFR 2 {rng.randrange(8)}", "W CFR 0 1",
                                   "AiM EWADD 2 0 1")))
        elif k < 0.55:
            out.append(rng.choice(("AiM SYNC", f"AiM RD_MAC 0 {mask()}", f"AiM RD_AF 0 {mask()}")))
        else:
            n_ = rng.randint(1, min(ra, 6))
            out.append(rng.choice((
                f"AiM WR_GB {n_} 0 {mask()}", f"AiM WR_BIAS 0 {mask()}", f"AiM MAC_ABK {n_} {mask()} {r}",
                f"AiM MAC_SBK {n_} {mask()} {b} {r}", f"AiM EWMUL {n_} {mask()} {r}", f"AiM AF {mask()}",
                f"AiM WR_ABK 0 {mask()} {r}", f"AiM WR_SBK 0 {mask()} {b} {r}", f"AiM RD_SBK 0 {mask()} {b} {r}",
                f"AiM COPY_BKGB {n_} {mask()} {b} {r}", f"AiM COPY_GBBK {n_} {mask()} {b} {r}")))
    return out + ["AiM EOC"]


@pytest.mark.parametrize("chunk", range(3))
def test_modes_agree_on_random_aim_format_traces(chunk):
    """Host decode arrivals (FR-FCFS included), MEM/AiM exclusion, AF with CFR modes, barriers: command mode ==
    burst mode and the checker accepts what the simulator issued, with refresh and a 4-entry queue too."""
    from archsim.cyclesim.dram import replay

    for seed in range(2000 + chunk * 10, 2000 + chunk * 10 + 10):
        rng = random.Random(seed)
        spec = spec_of(("aim", "aim_fast_refresh_q4")[seed % 2])
        if seed % 3 == 0:    # a 3-deep AiM queue: the host stalls often (cyclesim.dram.aimhost)
            spec = aim_spec(timing_cycles={"nREFI": 400}, aim_queue_entries=3)
        cfg = DramSystem(spec).cfg
        lines = _random_aim_trace(rng, cfg, rng.choice((30, 120)))
        a = replay(lines, spec, "command", record=True)
        b = replay(lines, spec, "burst", record=True)
        same(a, b)
        assert check_trace(a.trace, spec) == [], f"seed {seed}"

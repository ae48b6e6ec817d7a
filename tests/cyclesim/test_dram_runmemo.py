"""Whole-run memo of recurring programs (burst mode): exact against command mode, reused across row offsets and
refresh phases, and never stale when the caller changes a program it said was recurring."""

from __future__ import annotations

import random

import pytest

from archsim.base.errors import SimulationError
from dram_testlib import aim_spec, random_repeat_program, same
from archsim.cyclesim.dram import SYNC, DramProgram, DramRepeat, DramSystem, mac_abk, rd_mac, wr_gb
from archsim.cyclesim.dram.program import DramBlock

TILE = DramBlock([mac_abk(0, 0, 32), rd_mac(), mac_abk(0, 32, 32), rd_mac()], row_base=0)


def vmm_like(row_base: int, count: int) -> list:
    """The shape of a PIM-GPT weight product: WR_GB, a repeat over rows, a tail block, SYNC."""
    return [wr_gb(64), DramRepeat(TILE, count, row_base), TILE.at(row_base + count), SYNC]


def drive(spec, programs, order, starts, mode):
    """Run ``programs[i]`` for i in ``order``, the k-th from ``starts[k]`` (None: where the previous ended)."""
    system = DramSystem(spec, mode)
    out, overdue_hits = [], 0
    for i, start in zip(order, starts):
        overdue = system._ctls[0].ref_due < max(start or 0, system.now)
        hits = system.run_memo.hits
        out.append(system.run(programs[i], start_cycle=start, recurring=True))
        overdue_hits += overdue and system.run_memo.hits > hits
    return system, out, overdue_hits


@pytest.mark.parametrize("seed", range(2))
def test_recurring_runs_agree_with_command_mode(seed):
    """Weight-product-like programs (the same shape on other rows too) and random PIM programs (DELAYs,
    several SYNCs, single-bank ops), run in random order, mostly at a few offsets into a period of 10 refresh
    intervals (so refresh phases recur, and most runs start with a refresh that fell due while the DRAM idled),
    sometimes right after the previous run: every result equals command mode's, and many runs came from the
    memo, overdue ones included."""
    rng = random.Random(seed)
    nrefi = rng.choice((700, 1100))
    spec = aim_spec(timing_cycles={"nREFI": nrefi})
    cfg = DramSystem(spec).cfg
    programs = [[vmm_like(100, 5)] * cfg.channels, [vmm_like(400, 5)] * cfg.channels,
                [vmm_like(900, 3)] * cfg.channels]
    programs += [random_repeat_program(rng, cfg, 2, pim=True, symmetric=True, max_count=8) for _ in range(2)]
    n = 300
    order = [rng.randrange(len(programs)) for _ in range(n)]
    starts = [None if rng.random() < 0.15 else k * 10 * nrefi + rng.choice((0, 130, 420, 690)) for k in range(n)]
    _, ref, _ = drive(spec, programs, order, starts, "command")
    system, got, overdue_hits = drive(spec, programs, order, starts, "burst")
    for a, b in zip(ref, got):
        same(a, b)
    memo = system.run_memo
    assert memo.hits > n // 4 and memo.misses > 0
    assert overdue_hits >= 10


def test_the_same_shape_on_other_rows_shares_entries():
    """Two programs that differ only by a row offset: b run after a, then a after b, start from the same
    relative state (the other program's rows open, nothing pending), so the second is a hit."""
    spec = aim_spec(timing_cycles={"nREFI": 100_000})
    cfg = DramSystem(spec).cfg
    system = DramSystem(spec, "burst")
    a, b = [vmm_like(100, 6)] * cfg.channels, [vmm_like(3000, 6)] * cfg.channels
    system.run(a, recurring=True)
    system.run(b, start_cycle=system.now + 500, recurring=True)
    assert (system.run_memo.hits, system.run_memo.misses) == (0, 2)
    system.run(a, start_cycle=system.now + 500, recurring=True)
    assert (system.run_memo.hits, system.run_memo.misses) == (1, 2)


def test_a_program_changed_in_place_is_checked_and_simulated_again():
    spec = aim_spec()
    cfg = DramSystem(spec).cfg
    prog = DramProgram(cfg.channels)
    for ch in range(cfg.channels):
        prog.extend(ch, vmm_like(200, 4))
    system, cmd = DramSystem(spec, "burst"), DramSystem(spec, "command")
    for _ in range(3):
        same(system.run(prog, recurring=True), cmd.run(prog))
    for ch in range(cfg.channels):
        prog.extend(ch, vmm_like(600, 9))
    same(system.run(prog, recurring=True), cmd.run(prog))
    for ch in range(cfg.channels):
        prog.add(ch, mac_abk(cfg.rows + 5, 0, 4))
    with pytest.raises(SimulationError, match="out of range"):
        system.run(prog, recurring=True)


@pytest.mark.parametrize("mode", ["burst", "command"])
def test_engine_totals_are_the_per_run_figures_plus_idle_background(mode):
    """The DRAM engine of a Program keeps no per-run figures (DramSystem.advance) and books everything at the
    end (DramSystem.totals). That must equal running the same programs with DramSystem.run, summing each run's
    counters and energy, plus the background energy of every idle gap between runs and after the last one
    (background_pj), some gaps longer than a refresh interval."""
    from collections import Counter

    from archsim.cyclesim.engines.dram import DramEngineModel

    rng = random.Random(5)
    spec = aim_spec(timing_cycles={"nREFI": 900})
    cfg = DramSystem(spec).cfg
    programs = [[vmm_like(100, 5)] * cfg.channels, [vmm_like(700, 2)] * cfg.channels,
                random_repeat_program(rng, cfg, 2, pim=True, symmetric=True, max_count=8)]
    params = next(c for c in spec.walk() if c.impl == "GDDR6_AiM").params
    eng = DramEngineModel("pim", "GDDR6_AiM", params)
    eng.mode = mode
    ref = DramSystem(spec, "command")
    energy, commands, t = Counter(), Counter(), 0
    for k in range(60):
        prog = programs[rng.randrange(len(programs))]
        start = t + rng.choice((0, 10, 300, 2500))
        cycles, pj, counters = eng.execute("dram", {"program": prog, "recurring": True}, start)
        assert (pj, counters) == (0.0, {})
        energy["background"] += ref.background_pj(t, start)
        res = ref.run(prog, start_cycle=start)
        assert cycles == res.end_cycle - start
        energy.update(res.energy_pj)
        commands.update({f"{n}_commands": v for n, v in res.commands.items() if v})
        t = res.end_cycle
    end = t + 4321
    energy["background"] += ref.background_pj(t, end)
    got = eng.finish(end)
    assert eng.counters() == dict(commands)
    assert set(k for k, v in got.items() if v) == set(k for k, v in energy.items() if v)
    for k, v in energy.items():
        assert got.get(k, 0.0) == pytest.approx(v, rel=1e-9)

"""Burst mode without a trace keys its block memo on the timing shape: blocks equal up to columns that cannot
change the timing share entries. Results must still equal command mode's, and a column that does matter (a
multi-column op crossing into the next row) must not be erased."""

from __future__ import annotations

import random

import pytest

from dram_testlib import SPECS, aim_spec, random_program, random_repeat_program, same, spec_of
from archsim.cyclesim.dram import SYNC, DramBlock, DramSystem, mac_abk, rd_mac, wr_gb, wr_sbk


def test_blocks_differing_only_in_columns_share_entries_and_agree_with_command_mode():
    spec = aim_spec(timing_cycles={"nREFI": 100_000})
    cfg = DramSystem(spec).cfg
    items = [wr_gb(8)]
    for i in range(24):     # a V^T-append-like block: one write per bank, a different column each time
        items.append(DramBlock([wr_sbk(b, 0, (7 * i) % cfg.row_accesses, 1) for b in range(16)], row_base=0)
                     .at(100 + 2 * i))
    prog = [items + [SYNC]] * cfg.channels
    burst = DramSystem(spec, "burst")
    b = burst.run(prog)
    same(DramSystem(spec, "command").run(prog), b)
    assert b.memo_hits >= 20
    # with a trace the columns are recorded, so the blocks are told apart, and the trace is command mode's
    t = DramSystem(spec, "burst").run(prog, trace=True)
    same(DramSystem(spec, "command").run(prog, trace=True), t)
    assert t.memo_hits < b.memo_hits


@pytest.mark.parametrize("col", [0, 40, 60])
def test_a_column_that_decides_a_row_crossing_is_kept(col):
    """MAC_ABK of 30 columns from ``col``: from 40 and 60 it crosses into the next row at different points
    (different commands), so those blocks must not share memo entries with each other or with col 0."""
    spec = aim_spec(timing_cycles={"nREFI": 100_000})
    cfg = DramSystem(spec).cfg
    tile = DramBlock([mac_abk(0, col, 30), rd_mac()], row_base=0)
    others = [DramBlock([mac_abk(0, c, 30), rd_mac()], row_base=0) for c in (0, 40, 60) if c != col]
    items = [wr_gb(8)] + [blk.at(10 + 3 * i) for i, blk in enumerate(others * 3)] + [tile.at(50), SYNC]
    prog = [items] * cfg.channels
    same(DramSystem(spec, "command").run(prog), DramSystem(spec, "burst").run(prog))


@pytest.mark.parametrize("chunk", range(2))
def test_modes_agree_without_a_trace_on_random_programs(chunk):
    """The random-program agreement tests record traces; these 24 run without one (so burst mode keys on
    timing shapes), plain and repeat programs, and must agree in every counter, the energy and the cycles."""
    names = list(SPECS)
    for seed in range(7_000 + chunk * 12, 7_000 + chunk * 12 + 12):
        rng = random.Random(seed)
        name = names[seed % len(names)]
        spec = spec_of(name)
        cfg = DramSystem(spec).cfg
        pim = SPECS[name][2]
        if seed % 2:
            prog = random_program(rng, cfg, 120, pim=pim)
        else:
            prog = random_repeat_program(rng, cfg, 2, pim=pim, symmetric=rng.random() < 0.6, max_count=40)
        same(DramSystem(spec, "command").run(prog), DramSystem(spec, "burst").run(prog))

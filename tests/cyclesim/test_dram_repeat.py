"""DramRepeat (closed form between refreshes), channel symmetry and idle-time refresh.

Burst mode must agree exactly with command mode (cycles, every counter, energy, the command trace) with each
fast path on and off, and every trace passes the independent checker."""

from __future__ import annotations

import random

import numpy as np
import pytest

from archsim.base.errors import SimulationError
from dram_testlib import SPECS, aim_spec, gddr6_spec, random_repeat_program, random_tile, same, spec_of
from archsim.cyclesim.dram import (SYNC, DramBlock, DramProgram, DramRepeat, DramSystem, act, check_trace, delay, mac_abk,
                           rd, rd_mac, wr, wr_gb)

TILE = DramBlock([mac_abk(0, 0, 64), rd_mac()], row_base=0)
TWO_OUT = DramBlock([mac_abk(0, 0, 32), rd_mac(), mac_abk(0, 32, 32), rd_mac()], row_base=0)


def agree(spec, prog, *, runs=None, variants=({}, {"fast_repeat": False}, {"symmetry": False})):
    """Run ``prog`` (or the list ``runs`` of (program, start_cycle)) in command mode and in burst mode with
    each variant of the fast paths; all must agree exactly and the command trace must pass the checker.
    Returns (command-mode results, default burst-mode results)."""
    runs = runs or [(prog, None)]
    cmd = DramSystem(spec, "command")
    ref = [cmd.run(p, trace=True, start_cycle=s) for p, s in runs]
    assert check_trace([x for r in ref for x in r.trace], spec) == []
    out = None
    for kw in variants:
        system = DramSystem(spec, "burst", **kw)
        got = [system.run(p, trace=True, start_cycle=s) for p, s in runs]
        for a, b in zip(ref, got):
            same(a, b)
        out = out or got
    return ref, out


# --- the item itself ------------------------------------------------------------------------------------------
def test_repeat_is_its_instances():
    rep = DramRepeat(TILE, 3, 100, 2)
    assert [b.row_base for b in rep.blocks()] == [100, 102, 104] and len(rep.blocks()) == 3
    assert rep.instance(2).instrs == (mac_abk(104, 0, 64), rd_mac())
    assert rep.tile == TILE.at(100) and rep == DramRepeat(TILE.at(7), 3, 100, 2)
    assert hash(rep) == hash(DramRepeat(TILE, 3, 100, 2)) and rep != DramRepeat(TILE, 3, 100, 1)
    assert DramRepeat([mac_abk(1, 0, 64), rd_mac()], 2, 10).instance(1).instrs == (mac_abk(12, 0, 64), rd_mac())
    assert DramRepeat(TILE, 4, 50, -3).row_span(64) == (41, 50)
    prog = DramProgram(2)
    assert prog.repeat(1, TILE, 5, 0) == DramRepeat(TILE, 5, 0) and prog.channels[1] == [DramRepeat(TILE, 5, 0)]
    with pytest.raises(SimulationError, match="count must not be negative"):
        DramRepeat(TILE, -1, 0)
    with pytest.raises(SimulationError, match="must be integers"):
        DramRepeat(TILE, 2.0, 0)
    assert DramRepeat(TILE, np.int64(2), np.int32(5)).instance(1).row_base == 6


def test_repeat_rows_are_checked():
    spec = aim_spec()
    system = DramSystem(spec)
    rows = system.cfg.rows
    with pytest.raises(SimulationError, match=r"rows -1\.\.2 out of range"):
        system.run([[DramRepeat(TILE, 4, 2, -1)]])
    with pytest.raises(SimulationError, match="out of range"):
        system.run([[DramRepeat(TILE, 3, rows - 2)]])
    with pytest.raises(SimulationError, match="out of range"):
        system.run([[DramRepeat([mac_abk(0, 0, 65)], 1, rows - 1)]])     # spills into the next row
    res = system.run([[DramRepeat(TILE, 0, 0), DramRepeat(TILE, 3, rows - 3)]])
    assert res.commands["MAC16"] == 3 * 64


def test_command_mode_expands_a_repeat_into_its_blocks():
    spec = aim_spec(channels=2, timing_cycles={"nREFI": 700})
    rep = DramRepeat(TWO_OUT, 40, 30, 3)
    a = DramSystem(spec, "command").run([[wr_gb(64), rep], [rd(1, 2, 3)]], trace=True)
    b = DramSystem(spec, "command").run([[wr_gb(64), *rep.blocks()], [rd(1, 2, 3)]], trace=True)
    same(a, b)
    assert a.refreshes > 10


# --- closed form ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("tile", [TILE, TWO_OUT], ids=["one_output", "two_outputs"])
def test_a_long_repeat_costs_a_few_steps_per_refresh(tile):
    """1000 row segments: after a few instances every instance starts from the same relative state, so the
    instances up to each refresh are applied at once; the instance a refresh falls into and the steady run after
    it are one composite memo entry. Memo steps grow with the refreshes, not with the count."""
    spec = aim_spec(channels=1, timing_cycles={"nREFI": 2000})
    prog = [[wr_gb(64), DramRepeat(tile, 1000, 10)]]
    (a,), (b,) = agree(spec, prog, runs=[(prog, None)], variants=({},))
    assert b.memo_hits + b.memo_misses == 1000
    assert b.tile_steps <= 2 * b.refreshes + 10 and b.refreshes > 100
    assert b.memo_misses <= b.refreshes + 10
    assert b.events <= 10 and a.events > 1000 * 66


def test_without_refresh_a_repeat_is_a_handful_of_steps():
    spec = aim_spec(refresh="none")
    res = DramSystem(spec).run([[wr_gb(64), DramRepeat(TILE, 5000, 0)]] * 8)
    assert res.tile_steps <= 4 and res.commands["MAC16"] == 8 * 5000 * 64 and res.simulated_channels == 1


REPEAT_CASES = [(seed, name) for seed in range(12) for name in SPECS]
_small: dict = {}


def small_spec(name: str, refresh: bool):
    """The configuration ``name`` with 3 channels (keeps command mode and the checker quick)."""
    key = (name, refresh)
    if key not in _small:
        make, kw, _pim = SPECS[name]
        kw = dict(kw, channels=3)
        if not refresh:
            kw["refresh"] = "none"
        _small[key] = make(**kw)
    return _small[key]


def test_repeats_of_random_tiles_with_strides():
    """Tiles with ordinary requests (FR-FCFS windows), single-bank ops, explicit ACT/PRE and DELAYs; strides 0,
    -1 and 3 (instances that revisit rows and leave rows open for the next one)."""
    rng = random.Random(5)
    for name in ("aim_fast_refresh_q4", "gddr6_faw_q3"):
        spec = small_spec(name, refresh=True)
        cfg = DramSystem(spec).cfg
        for stride in (0, -1, 3):
            prog = DramProgram(cfg.channels)
            for ch in range(cfg.channels):
                tile = DramBlock(random_tile(rng, cfg, pim=SPECS[name][2]), row_base=0)
                prog.repeat(ch, tile, 60, 200, stride)
                prog.add(ch, rd(0, 3, 1))
            agree(spec, prog)


@pytest.mark.parametrize("chunk", range(4))
def test_modes_agree_on_random_repeat_programs(chunk):
    """48 seeded PIM-GPT-like programs (WR_GB, repeats of up to 60 instances, SYNC, DELAY) on 3 channels:
    channel-symmetric (some splitting after a SYNC) and asymmetric, refresh every 3333, 600 or 400 cycles or
    off; two runs on one system, the second after an idle gap or right after the first."""
    for seed, name in REPEAT_CASES[chunk::4]:
        rng = random.Random(seed)
        spec = small_spec(name, refresh=seed % 5 != 4)
        cfg = DramSystem(spec).cfg
        progs = [random_repeat_program(rng, cfg, rng.choice((1, 2)), pim=SPECS[name][2],
                                       symmetric=seed % 3 != 0, max_count=60) for _ in range(2)]
        agree(spec, None, runs=[(progs[0], None), (progs[1], rng.choice((None, 30_000)))])


@pytest.mark.slow
@pytest.mark.parametrize("chunk", range(10))
def test_modes_agree_on_many_larger_random_repeat_programs(chunk):
    """120 more on the full configurations (8 or 2 channels), repeats of up to 300 instances, two runs on one
    system (make test-slow)."""
    names = list(SPECS)
    for seed in range(20_000 + chunk * 12, 20_000 + chunk * 12 + 12):
        rng = random.Random(seed)
        name = names[seed % len(names)]
        spec = spec_of(name)
        cfg = DramSystem(spec).cfg
        progs = [random_repeat_program(rng, cfg, rng.choice((1, 2, 3)), pim=SPECS[name][2],
                                       symmetric=rng.random() < 0.6, max_count=300) for _ in range(2)]
        agree(spec, None, runs=[(progs[0], None), (progs[1], rng.choice((None, 50_000)))])


# --- channel symmetry -----------------------------------------------------------------------------------------
def vmm(rows_from: int, count: int, tile=TILE) -> list:
    return [wr_gb(64), DramRepeat(tile, count, rows_from), SYNC, delay(2000)]


def test_identical_channels_simulate_one_and_replicate():
    spec = aim_spec(timing_cycles={"nREFI": 900})
    prog = [vmm(0, 30) + vmm(30, 12, TWO_OUT)] * 8
    (a,), (b,) = agree(spec, prog)
    assert b.simulated_channels == 1 and a.simulated_channels == 8
    assert {ch for _t, ch, *_ in b.trace} == set(range(8))
    assert b.per_channel[0] == b.per_channel[7] and b.refreshes == 8 * b.per_channel[3]["REFab"] > 0


def test_channels_split_where_their_streams_differ():
    """The same VMM on every channel, then one channel does more: simulated once up to the SYNC, then each."""
    spec = aim_spec(timing_cycles={"nREFI": 900})
    prog = [vmm(0, 20) + vmm(20, 5) for _ in range(8)]
    prog[5] = prog[5] + [wr_gb(8), rd(3, 7, 1)]
    prog[2] = prog[2][:4] + [delay(100)] + prog[2][4:]
    (a,), (b,) = agree(spec, prog)
    assert b.simulated_channels == 8


def test_symmetry_ends_when_states_differ_and_resumes_when_they_agree_again():
    """After an asymmetric run the channels' states differ; a long idle gap makes them equal again (nothing
    before the gap can bind), so the third run is simulated once. Counters per channel stay exact throughout,
    also as seen through ``ctls``."""
    spec = aim_spec(channels=4, timing_cycles={"nREFI": 900})
    same_prog = [vmm(0, 20)] * 4
    odd = [vmm(0, 20) for _ in range(4)]
    odd[1] = [rd(2, 40, 0)] + odd[1] + [act(77, bank=5)]     # channel 1 ends with another row open
    runs = [(same_prog, None), (odd, None), (same_prog, None), (same_prog, 200_000)]
    ref, got = agree(spec, None, runs=runs)
    assert [r.simulated_channels for r in got] == [1, 4, 4, 1]
    cmd, burst = DramSystem(spec, "command"), DramSystem(spec, "burst")
    for p, s in runs:
        cmd.run(p, start_cycle=s)
        burst.run(p, start_cycle=s)
    end = burst.now
    assert burst.background_pj(end, end + 5000) == cmd.background_pj(end, end + 5000) > 0
    for c1, c2 in zip(cmd.ctls, burst.ctls):
        assert c1.st.counts == c2.st.counts and c1.refreshes == c2.refreshes
        assert c1.st.open_cycles_until(end + 7) == c2.st.open_cycles_until(end + 7)
        assert (c1.st.open_row, c1.st.mode, c1.ref_due) == (c2.st.open_row, c2.st.mode, c2.ref_due)
    assert burst.run(same_prog).simulated_channels == 1   # reading ctls keeps the shadow valid


# --- refresh while idle ---------------------------------------------------------------------------------------
def ref_times(res, ch=0, cmd="REFab"):
    return [t for t, c, _b, name, _r, _col in res.trace if c == ch and name == cmd]


def test_an_idle_gap_of_k_refresh_intervals_issues_k_refreshes_at_their_due_cycles():
    """The channel ends a run in register mode with a row open. k = 5 refreshes fall due before the next run
    starts: the first leaves register mode and precharges at its due cycle, the others are exactly on their due
    cycles, all before the new work, which then starts on time (no back-to-back catch-up)."""
    spec = aim_spec(channels=2)
    T = DramSystem(spec).cfg.timings
    k, refi = 5, T["nREFI"]
    prog = [[mac_abk(3, 0, 64), rd_mac()]] * 2
    start2 = k * refi + T["nRFC"] + 300
    ref, got = agree(spec, None, runs=[(prog, None), ([[mac_abk(9, 0, 64)]] * 2, start2)])
    r2 = got[1]
    assert r2.refreshes == 2 * k
    assert ref_times(r2, 1, "MODE_BANK") == [refi] and ref_times(r2, 1, "PREA") == [refi + T["nMODCH"]]
    assert ref_times(r2, 1) == [refi + T["nMODCH"] + T["nRP"]] + [j * refi for j in range(2, k + 1)]
    assert ref_times(r2, 1, "ACT16") == [start2]


def test_a_channel_waiting_at_a_sync_refreshes_on_time_and_does_not_delay_the_release():
    spec = aim_spec(channels=2)
    T = DramSystem(spec).cfg.timings
    busy = [wr_gb(64), DramRepeat(TILE, 40, 0), SYNC, act(50)]
    ref, (res,) = agree(spec, [busy, [SYNC, act(50)]])
    due = [j * T["nREFI"] for j in range(1, 4)]
    assert ref_times(res, 1) == due                 # channel 1 idles at the SYNC, closed, in bank mode
    (act0,), (act1,) = ref_times(res, 0, "ACT16")[-1:], ref_times(res, 1, "ACT16")
    assert act1 <= act0                             # its refreshes did not hold the release back
    assert res.refreshes == 2 * len(due) and act1 - ref_times(res, 1)[-1] < T["nREFI"]


def test_refreshes_fall_due_inside_a_delay_on_time():
    """A row open, then a DELAY of 3 refresh intervals: the first refresh precharges and refreshes at its due
    cycle, the next two are exactly on theirs; the read after the DELAY re-opens the row after the last one."""
    spec = aim_spec(channels=1)
    T = DramSystem(spec).cfg.timings
    refi = T["nREFI"]
    prog = [[act(4, bank=2), delay(3 * refi), rd(2, 4, 0)]]
    ref, (res,) = agree(spec, prog)
    assert ref_times(res, 0, "PREA") == [refi]
    assert ref_times(res) == [refi + T["nRP"], 2 * refi, 3 * refi]
    assert ref_times(res, 0, "ACT") == [0, 3 * refi + T["nRFC"]]


def test_gddr6_requests_after_a_long_idle_gap():
    """Ordinary traffic, then the same traffic 40 refresh intervals later: the idle refreshes are spread over
    the gap on their due cycles, none piles up back to back in front of the new requests."""
    spec = gddr6_spec(channels=2, timings={"nREFI": 500})
    T = DramSystem(spec).cfg.timings
    p = DramProgram(2)
    for i in range(200):
        p.add(i % 2, rd(i % 4, 7, i % 64), wr(i % 3, 8, i % 64))
    ref, got = agree(spec, None, runs=[(p, None), (p, 50_000)])
    refs = ref_times(got[1], 0)
    assert len(refs) >= 40 * 0.9
    assert min(b - a for a, b in zip(refs, refs[1:])) > T["nRFC"] + 100


@pytest.mark.parametrize("mode", ["command", "burst"])
def test_background_energy_of_an_idle_gap_splits_exactly(mode):
    """Rows left open, then 3 refresh intervals idle: run + idle gap (``background_pj``) + run books the same
    background energy as one run with a DELAY over the gap. The first refresh of the gap closes the rows at its
    due cycle, although the controller issues it only when the next run starts."""
    spec = aim_spec(channels=2)
    cfg = DramSystem(spec).cfg
    gap = 3 * cfg.timings["nREFI"] + 100
    first, second = [mac_abk(3, 0, 64), rd_mac()], [mac_abk(9, 0, 64)]
    one = DramSystem(spec, mode).run([first + [delay(gap)] + second] * 2)
    system = DramSystem(spec, mode)
    r1 = system.run([first] * 2)
    idle = system.background_pj(r1.end_cycle, r1.end_cycle + gap)
    r2 = system.run([second] * 2, start_cycle=r1.end_cycle + gap)
    assert (r2.end_cycle, r1.refreshes + r2.refreshes) == (one.end_cycle, one.refreshes) and r2.refreshes == 6
    parts = r1.energy_pj["background"] + idle + r2.energy_pj["background"]
    assert parts == pytest.approx(one.energy_pj["background"], rel=1e-12)
    floor = cfg.pre_standby_mw * r2.cycles * cfg.channels * cfg.ns_per_cycle   # all rows closed, at least
    assert r2.energy_pj["background"] >= floor
    assert idle < cfg.act_standby_mw * gap * cfg.channels * cfg.ns_per_cycle       # not open all the gap

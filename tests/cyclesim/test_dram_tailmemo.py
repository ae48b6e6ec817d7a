"""The tail memo (burst mode): the rest of a barrier segment after a MEMO hint, keyed by its row-relative
signature and the channel's relative state and reused. Expected values come from command mode (which ignores the
hint) and from burst mode with the tail memo off; a planted fault (a key without the refresh phase) must be
caught by the same comparison."""

from __future__ import annotations

import random

import pytest

import archsim
from archsim import arch, workloads
from archsim.base.errors import SimulationError
from dram_testlib import aim_spec, random_repeat_program, same
from archsim.cyclesim.dram import SYNC, DramBlock, DramRepeat, DramSystem, mac_abk, rd_mac, wr_gb
from archsim.cyclesim.dram import program as P
from archsim.cyclesim.dram import tailmemo
from archsim.cyclesim.dram.program import MEMO, OP_RD, OP_WR, as_channel_lists
from archsim.cyclesim.dram.functional import iter_instrs

TILE = DramBlock([mac_abk(0, 0, 32), rd_mac(), mac_abk(0, 32, 32), rd_mac()], row_base=0)


V_TILE = DramBlock([P.wr_sbk(b, 0, 0, 1) for b in range(16)], row_base=0)


def scores_like(position: int, rows: int = 6) -> list:
    """PIM-GPT's attention scores in miniature: a position-dependent single-bank write (the K append) and a
    write to every bank on a few rows (the V append), a MEMO hint, then a loop that depends only on the
    position's group of 16 (WR_GB, a repeat over rows, a tail block), a DELAY, SYNC."""
    return [P.wr_sbk(position % 16, 2000 + position // 16, 0, 2), DramRepeat(V_TILE, 4, 3000 + position // 64),
            MEMO, wr_gb(64), DramRepeat(TILE, rows + position // 16, 100), TILE.at(100 + rows + position // 16),
            P.delay(7), SYNC]


def with_hints(rng: random.Random, lists: list[list]) -> list[list]:
    """The channel lists with MEMO hints at random legal places (the same places in every channel, so
    identical streams stay identical): never right after an RD/WR request."""
    n = min(len(lst) for lst in lists)
    spots = sorted(rng.sample(range(n + 1), k=min(n + 1, rng.choice((1, 2, 4)))), reverse=True)
    out = [list(lst) for lst in lists]
    for k in spots:
        if all(not (k and type(lst[k - 1]) is tuple and lst[k - 1][0] <= OP_WR) for lst in out):
            for lst in out:
                lst.insert(k, MEMO)
    return out


def drive(spec, programs, order, starts, mode):
    system = DramSystem(spec, mode)
    out = [system.run(programs[i], start_cycle=s) for i, s in zip(order, starts)]
    return system, out


@pytest.mark.parametrize("seed", range(3))
def test_hinted_programs_agree_with_command_mode(seed):
    """Scores-like programs at many positions and random PIM programs with hints (symmetric ones on one
    simulated channel, per-channel ones through the event kernel), run in random order at offsets into a period
    of refresh intervals (so refresh phases recur and refreshes fall into tails, some overdue): every result
    equals command mode's and many tails came from the memo."""
    rng = random.Random(seed)
    nrefi = rng.choice((700, 1100))
    spec = aim_spec(timing_cycles={"nREFI": nrefi})
    cfg = DramSystem(spec).cfg
    programs = [[scores_like(p)] * cfg.channels for p in range(0, 40, 3)]
    for sym in (True, True, False):
        prog = random_repeat_program(rng, cfg, 3, pim=True, symmetric=sym, max_count=8)
        programs.append(with_hints(rng, as_channel_lists(prog, cfg.channels)))
    n = 260
    order = [rng.randrange(len(programs)) for _ in range(n)]
    starts = [None if rng.random() < 0.15 else k * 10 * nrefi + rng.choice((0, 130, 420, 690)) for k in range(n)]
    _, ref = drive(spec, programs, order, starts, "command")
    system, got = drive(spec, programs, order, starts, "burst")
    for a, b in zip(ref, got):
        same(a, b)
    assert system.tails.hits > n // 4 and system.tails.misses > 0


def _burst_pair(monkeypatch, spec, programs, order, starts):
    _, on = drive(spec, programs, order, starts, "burst")
    monkeypatch.setattr(tailmemo.TailMemo, "enabled", False)
    system, off = drive(spec, programs, order, starts, "burst")
    monkeypatch.setattr(tailmemo.TailMemo, "enabled", True)
    assert system.tails.hits == system.tails.misses == 0
    return on, off


def _scores_sequence(nrefi: int):
    """The positions of two groups, one after the other, then again, with idle gaps of varying length."""
    positions = list(range(16, 48)) * 2
    rng = random.Random(5)
    starts = []
    t = 0
    for _ in positions:
        t += rng.choice((3 * nrefi, 3 * nrefi + 200, 7 * nrefi + 450))
        starts.append(t)
    return positions, starts


def test_tail_memo_on_off_identical_and_planted_refresh_fault_is_caught(monkeypatch):
    spec = aim_spec(timing_cycles={"nREFI": 900})
    cfg = DramSystem(spec).cfg
    positions, starts = _scores_sequence(900)
    programs = {p: [scores_like(p)] * cfg.channels for p in set(positions)}
    on, off = _burst_pair(monkeypatch, spec, programs, positions, starts)
    for a, b in zip(on, off):
        same(a, b)

    # negative control: a key that leaves out the refresh due cycle reuses tails across refresh phases
    orig = tailmemo.TailMemo.key

    def wrong(eng, sig, lo, rows):
        key, ref = orig(eng, sig, lo, rows)
        return key[:5] + (0,) + key[6:], ref

    monkeypatch.setattr(tailmemo.TailMemo, "key", staticmethod(wrong))
    bad, off = _burst_pair(monkeypatch, spec, programs, positions, starts)
    assert any(a.cycles != b.cycles or a.commands != b.commands for a, b in zip(bad, off))


def test_hint_does_not_change_a_program_and_tails_are_reused_across_positions():
    """The same programs with and without the hint give the same results; with it, the loop of 16 positions
    of a group is simulated once per distinct starting state (a few: the first runs start from other
    states), not once per position."""
    spec = aim_spec(timing_cycles={"nREFI": 100_000})
    cfg = DramSystem(spec).cfg
    plain = DramSystem(spec, "burst")
    hinted = DramSystem(spec, "burst")
    for p in range(32, 48):
        prog = scores_like(p)
        a = plain.run([[x for x in prog if x is not MEMO]] * cfg.channels, start_cycle=p * 100_000 + 5000)
        b = hinted.run([prog] * cfg.channels, start_cycle=p * 100_000 + 5000)
        same(a, b)
    assert hinted.tails.hits >= 12 and hinted.tails.misses <= 4, (hinted.tails.hits, hinted.tails.misses)


def test_hint_errors():
    spec = aim_spec()
    cfg = DramSystem(spec).cfg
    system = DramSystem(spec, "burst")
    with pytest.raises(SimulationError, match="item 1: a MEMO hint directly after an RD/WR request"):
        system.run([[P.rd(0, 5, 0), MEMO, SYNC]] * cfg.channels)
    with pytest.raises(SimulationError, match="MEMO takes no operands"):
        system.run([[(P.OP_MEMO, 0, 5, 0, 1), SYNC]] * cfg.channels)
    with pytest.raises(SimulationError, match="cannot contain MEMO"):
        DramBlock([mac_abk(0, 0, 4), MEMO])
    # before the requests of a window it is fine, and the functional model skips it
    system.run([[MEMO, P.rd(0, 5, 0), P.rd(0, 5, 1), SYNC]] * cfg.channels)
    assert [i[0] for i in iter_instrs([MEMO, P.rd(0, 5, 0), SYNC])] == [OP_RD, P.OP_SYNC]


TINY = workloads.get_model("gpt2-small").scaled(n_layers=12, d_model=64, n_heads=4, d_head=16, d_ff=256,
                                                vocab=97, max_context=64)


@pytest.mark.parametrize("model", ["tiny", "gpt2-small"])
def test_pim_gpt_with_and_without_the_tail_memo(monkeypatch, model):
    """PIM-GPT's attention programs carry hints: the tail memo changes no cycle, counter or energy figure, and
    is really used."""
    if model == "tiny":
        spec = arch.load("pim_gpt", set={"dram.global_buffer_bytes": 64})
        w = workloads.model(TINY).decode(prompt=14, tokens=20)
    else:
        spec = arch.load("pim_gpt")
        w = workloads.gpt(model).decode(prompt=30, tokens=6)
    on = archsim.simulate(spec, w, mode="burst")
    monkeypatch.setattr(tailmemo.TailMemo, "enabled", False)
    off = archsim.simulate(spec, w, mode="burst")
    hits = int(on.extra["pim.tail_memo"].split()[0])
    assert hits > 0 and off.extra["pim.tail_memo"] == "0 hits / 0 misses"
    assert (on.cycles, on.components, on.energy_pj) == (off.cycles, off.components, off.energy_pj)


def test_open_rows_below_the_anchor_are_not_confused_with_closed_or_untouched_banks():
    """The segment and tail memos code every open row relative to an anchor, so relative rows can be negative;
    the codes for a closed bank and for a row not coded must not collide with them (they were -1 and -2, so a
    bank open one row below the anchor keyed like a closed bank). Two states that differ only there must key
    differently, and a tail recorded from one must not be applied to the other (checked against command mode)."""
    spec = aim_spec(timing_cycles={"nREFI": 100_000})
    cfg = DramSystem(spec).cfg
    anchor = 500
    keys = []
    for prelude in ([P.pre()], [P.act(anchor - 1)], [P.act(anchor - 2)]):   # closed; all open below the anchor
        system = DramSystem(spec, "burst")
        system.run([prelude + [SYNC]] * cfg.channels)
        keys.append(system.segments.key(50_000, anchor)[0])     # long after: every timing slot has expired
    assert len(set(keys)) == 3

    # the same tail (a single-bank MAC at the anchor row) after every bank was left closed, or open one row below
    # the anchor, each followed by a long DELAY: only the open rows differ at the tail's start
    tail = [MEMO, P.mac_sbk(3, anchor, 0, 4), P.rd_mac(), SYNC]
    progs = [[P.pre(), P.delay(5000)] + tail, [P.act(anchor - 1), P.delay(5000)] + tail]
    res = {}
    for mode in ("command", "burst"):
        system = DramSystem(spec, mode)
        res[mode] = [system.run([progs[k % 2]] * cfg.channels, start_cycle=k * 100_000 + 7) for k in range(6)]
    for a, b in zip(res["command"], res["burst"]):
        same(a, b)
    assert system.tails.hits >= 2


def _v_programs(cfg):
    """The V append in miniature: a single-bank write (position % 16), then 16 rows x a write to every bank."""
    return {p: [[P.wr_sbk(p % 16, 2000, 0, 1), DramRepeat(V_TILE, 16, 3000 + p % 3, 7), SYNC]] * cfg.channels
            for p in range(32)}


def _v_drive(spec, mode):
    system = DramSystem(spec, mode)
    rng = random.Random(3)
    out = []
    t = 0
    for k in range(120):   # long idle gaps, then the start 300 to 700 cycles after a refresh fell due
        t = (t // 1500 + 30) * 1500 + rng.choice((300, 500, 700))
        out.append(system.run(_v_programs(system.cfg)[k % 32], start_cycle=t))
    return system, out


def test_whole_repeat_memo_agrees_with_command_mode_and_planted_fault_is_caught(monkeypatch):
    """Repeats whose chain refreshes cut (nREFI 1500: several refreshes in each) are memoized whole after their
    first run; every result equals command mode's, whole-repeat entries were used, and a key without the
    refresh phase (the runs start at three phases from the same state) is caught by the same comparison."""
    from archsim.cyclesim.dram import engine

    spec = aim_spec(timing_cycles={"nREFI": 1500})
    _, ref = _v_drive(spec, "command")
    system, got = _v_drive(spec, "burst")
    for a, b in zip(ref, got):
        same(a, b)
    assert any(k[0] == "repeat" for k in system.memo if type(k) is tuple)
    assert any(system.whole_repeats.values())

    orig = engine.ChannelEngine._repeat_key

    def wrong(self, timing, count, stride, due, base, row, rows):
        return orig(self, timing, count, stride, 0, base, row, rows)

    monkeypatch.setattr(engine.ChannelEngine, "_repeat_key", wrong)
    _, bad = _v_drive(spec, "burst")
    assert any(a.cycles != b.cycles or a.commands != b.commands for a, b in zip(ref, bad))

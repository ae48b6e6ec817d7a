"""Command mode's FR-FCFS fast paths: the kept plan against burst mode, the untraced path against the traced one.

The controller keeps each FR-FCFS window's plan (which command each queued group needs) until the rows, the mode
or the set of groups change; ``keep_plan = False`` works it out at every decision instead, the reference for the
kept one in both modes, on request streams (many groups entering and leaving a small queue) and random programs.

Without a trace, command mode defers the timing update of a run of requests served back to back (the same
command at the same bank) and accounts for it through the command's self-spacing and its cross latencies
(``ChannelController.commit`` / ``_decide_window``, ``CompiledRules.cross_row``); with a trace every command is
applied at once through ``ChannelState.issue``. The traced path is the one the mode-agreement and checker tests
pin, so untraced == traced on many programs pins the fast path. Planted faults (a forgotten deferred update, a
zero self-spacing, no cross latency) must make some program disagree.
"""

from __future__ import annotations

import random

import pytest

from archsim.cyclesim.dram import DramProgram, DramSystem, rd, wr
from archsim.cyclesim.dram import channel as CH
from archsim.cyclesim.dram import controller as CT
from archsim.cyclesim.dram import check_trace
from dram_testlib import SPECS, random_program, same, spec_of


def _figures(res):
    return (res.cycles, res.end_cycle, res.commands, res.per_channel, res.per_bank, res.energy_pj, res.bus_bytes,
            res.bank_bytes, res.bank_activations, res.bank_accesses, res.refreshes, res.channel_cycles)


def streamy_program(rng: random.Random, cfg, items: int) -> DramProgram:
    """Runs of requests to consecutive columns of one row (the FR-FCFS hit streams the fast path is for), often
    two or three runs interleaved over banks, mostly reads, with some writes and row conflicts."""
    prog = DramProgram(cfg.channels)
    banks = rng.sample(range(cfg.banks), k=min(cfg.banks, rng.choice((2, 4, cfg.banks))))
    rows = rng.sample(range(cfg.rows - 8), k=rng.choice((1, 2, 3)))
    ra = cfg.row_accesses
    n = 0
    while n < items:
        ch = rng.randrange(cfg.channels)
        runs = [(rng.choice((rd, rd, rd, wr)), rng.choice(banks), rng.choice(rows), rng.randrange(ra))
                for _ in range(rng.choice((1, 1, 2, 3)))]
        length = rng.choice((1, 5, 20, 64, 150))
        for k in range(length):
            op, b, r, c0 = runs[k % len(runs)] if rng.random() < 0.8 else runs[0]
            prog.add(ch, op(b, r, (c0 + k) % ra))
        n += length
        if rng.random() < 0.1:
            prog.sync()
    return prog


def _programs(count: int):
    names = list(SPECS)
    for seed in range(count):
        rng = random.Random(1000 + seed)
        name = names[seed % len(names)]
        spec = spec_of(name)
        cfg = DramSystem(spec, "command").cfg
        if seed % 2:
            yield seed, spec, streamy_program(rng, cfg, rng.choice((100, 400, 1200)))
        else:
            yield seed, spec, random_program(rng, cfg, rng.choice((60, 200)), pim=SPECS[name][2])


def _disagreements(count: int) -> list[int]:
    bad = []
    for seed, spec, prog in _programs(count):
        traced = DramSystem(spec, "command").run(prog, trace=True)
        untraced = DramSystem(spec, "command").run(prog)
        if _figures(traced) != _figures(untraced):
            bad.append(seed)
    return bad


def _mode_disagreements(count: int) -> list[int]:
    bad = []
    for seed, spec, prog in _programs(count):
        if seed % 2 == 0:
            continue        # the random programs are compared across modes in test_dram_modes
        a = DramSystem(spec, "command").run(prog, trace=True)
        b = DramSystem(spec, "burst").run(prog, trace=True)
        try:
            same(a, b)
        except AssertionError:
            bad.append(seed)
        assert check_trace(a.trace, spec) == [], f"seed {seed}"
    return bad


def _plan_disagreements(count: int) -> list[tuple]:
    """Programs whose results change when the FR-FCFS plan is worked out at every decision instead of kept."""
    bad = []
    for seed, spec, prog in _programs(count):
        for mode in ("command", "burst"):
            kept = DramSystem(spec, mode).run(prog)
            CT.ChannelController.keep_plan = False
            try:
                fresh = DramSystem(spec, mode).run(prog)
            finally:
                CT.ChannelController.keep_plan = True
            if _figures(kept) != _figures(fresh):
                bad.append((seed, mode))
    return bad


def test_kept_plan_equals_the_plan_worked_out_at_every_decision():
    assert _plan_disagreements(48) == []


def test_planted_fault_plan_kept_across_a_new_group_is_caught(monkeypatch):
    """A plan that misses the newest group (as if it were not dropped when the group entered), in both modes."""
    plan = CT.ChannelController._plan

    def stale(self):
        rows = plan(self)
        return rows[:-1] if self.keep_plan and len(rows) > 1 else rows

    monkeypatch.setattr(CT.ChannelController, "_plan", stale)
    assert _plan_disagreements(16)


def test_command_mode_equals_burst_mode_on_request_streams():
    assert _mode_disagreements(48) == []


def test_planted_fault_stale_plan_is_caught(monkeypatch):
    """A command-mode plan that misses the newest queued group (as if it were not invalidated when the group
    entered) must make command mode disagree with burst mode."""
    plan = CT.ChannelController._plan

    def stale(self):
        rows = plan(self)
        return rows[:-1] if not self.burst and len(rows) > 1 else rows

    monkeypatch.setattr(CT.ChannelController, "_plan", stale)
    assert _mode_disagreements(24)


def test_untraced_command_mode_equals_traced():
    assert _disagreements(48) == []


def test_the_fast_path_defers_and_crosses():
    """The programs above do reach the deferred update and FR-FCFS decisions made with one pending (else the
    test proves nothing)."""
    seen = {"deferred": 0, "crossed": 0}
    apply, window = CT.ChannelController._apply_pending, CT.ChannelController._decide_window

    def counting_apply(self):
        seen["deferred"] += self.pend_n
        apply(self)

    def counting_window(self):
        seen["crossed"] += self.pend_n > 0
        return window(self)

    mp = pytest.MonkeyPatch()
    mp.setattr(CT.ChannelController, "_apply_pending", counting_apply)
    mp.setattr(CT.ChannelController, "_decide_window", counting_window)
    try:
        for _seed, spec, prog in _programs(8):
            DramSystem(spec, "command").run(prog)
    finally:
        mp.undo()
    assert seen["deferred"] > 1000 and seen["crossed"] > 500


def test_planted_fault_forgotten_deferred_update_is_caught(monkeypatch):
    def forget(self):
        self.pend_n = 0

    monkeypatch.setattr(CT.ChannelController, "_apply_pending", forget)
    assert _disagreements(12)


def test_planted_fault_no_cross_latency_is_caught(monkeypatch):
    monkeypatch.setattr(CH.CompiledRules, "cross_row", lambda self, f, fb: {})
    assert _disagreements(12)


def test_planted_fault_zero_self_spacing_is_caught(monkeypatch):
    """The stream decision takes the deferred command's own spacing (``pend_gap``) from ``CompiledRules.gap``."""
    init = CT.ChannelController.__init__

    def zero_gap(self, rules, *a, **kw):
        init(self, rules, *a, **kw)
        if not self.burst and self.st.trace is None:
            fake = CH.CompiledRules.__new__(CH.CompiledRules)
            fake.__dict__.update(rules.__dict__)
            fake.gap = [[0] * len(row) for row in rules.gap]
            self.rules = fake

    monkeypatch.setattr(CT.ChannelController, "__init__", zero_gap)
    assert _disagreements(12)


@pytest.mark.parametrize("name", ["gddr6", "aim"])
def test_cross_latency_is_the_largest_rule_between_the_two_commands(name):
    """``cross`` against the rule table read directly: the largest latency of a rule from ``p`` to ``f`` whose
    scope covers the two banks (the command bus rule and window rules aside), none if no rule applies."""
    rules = DramSystem(spec_of(name), "command")._ctls[0].rules
    std, lat, bpg = rules.cfg.standard, rules.cfg.latencies, rules.bpg

    def by_table(p, pb, f, fb):
        found = [lat[r.name] for r in std.rules
                 if r.window <= 1 and not (r.scope == "channel" and r.preceding == ("*",) and r.following == ("*",))
                 and (r.preceding == ("*",) or p in r.preceding) and (r.following == ("*",) or f in r.following)
                 and (r.scope == "channel" or r.scope == "bankgroup" and pb // bpg == fb // bpg
                      or r.scope == "bank" and pb == fb)]
        return max(found, default=None)

    checked = 0
    for p in ("RD", "WR"):
        for f in ("RD", "WR", "ACT", "PRE"):
            for fb in (0, 1, bpg, rules.banks - 1):
                want = by_table(p, 0, f, fb)
                got = rules.cross(rules.index[p], 0, rules.index[f], fb)
                assert (got if got >= 0 else None) == want, (p, f, fb)
                checked += want is not None
    assert checked >= 8

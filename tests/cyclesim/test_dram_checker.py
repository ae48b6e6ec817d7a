"""The independent checker: silent on every trace the simulator produces, and it finds every violation injected
by moving one command a cycle earlier where that breaks a rule (and only there)."""

from __future__ import annotations

import random

import pytest

from dram_testlib import aim_spec, gddr6_spec, random_program
from archsim.cyclesim.dram import (DramProgram, DramSystem, check_trace, format_command_trace, mac_abk, parse_command_trace,
                           rd, rd_mac, wr, wr_gb)
from archsim.cyclesim.dram.checker import Violation


def shift_check(spec, res, indices):
    """Shift each command in ``indices`` one cycle earlier. The scheduler records each command's slack (issue
    cycle minus the earliest cycle the rules allow). Slack 0: the shifted trace must have a violation naming that
    command. Slack > 0: the shifted trace must be clean. Returns how many violations were injected."""
    injected = 0
    for i in indices:
        t = res.trace[i][0]
        if t == 0:
            continue
        shifted = list(res.trace)
        shifted[i] = (t - 1,) + shifted[i][1:]
        found = check_trace(shifted, spec)
        if res.slack[i] == 0:
            injected += 1
            assert found, f"moving {res.trace[i]} to cycle {t - 1} breaks a rule; the checker found nothing"
            assert all(v.index == i for v in found), [str(v) for v in found]
            assert all(v.preceding is not None for v in found)
        else:
            assert found == [], [str(v) for v in found]
    return injected


def test_every_injected_violation_is_found_in_a_pim_trace():
    spec = aim_spec(timing_cycles={"nREFI": 600})
    prog = DramProgram(2)
    prog.add(0, wr_gb(4), mac_abk(3, 60, 8), rd_mac(), rd(1, 2, 3), wr(1, 2, 4), rd(5, 7, 0))
    prog.add(1, mac_abk(9, 0, 5), wr_gb(2), rd_mac(2))
    prog.sync()
    prog.add(0, rd(0, 1, 1), rd(4, 1, 1), rd(8, 1, 1), rd(12, 1, 1), rd(1, 1, 1), mac_abk(4, 0, 70))
    res = DramSystem(spec, "command").run(prog, trace=True)
    assert check_trace(res.trace, spec) == []
    injected = shift_check(spec, res, range(len(res.trace)))       # every command of the trace
    assert injected > len(res.trace) // 2


@pytest.mark.parametrize("seed", range(6))
def test_every_injected_violation_is_found_in_random_traces(seed):
    rng = random.Random(1000 + seed)
    spec = [aim_spec(timing_cycles={"nREFI": 500}), gddr6_spec(timings={"nFAW": 40, "nREFI": 700}, queue=4),
            gddr6_spec()][seed % 3]
    system = DramSystem(spec, "command")
    res = system.run(random_program(rng, system.cfg, 80, pim=seed % 3 == 0), trace=True)
    assert check_trace(res.trace, spec) == []
    tight = [i for i, s in enumerate(res.slack) if s == 0 and res.trace[i][0] > 0]
    loose = [i for i, s in enumerate(res.slack) if s > 0]
    picks = rng.sample(tight, min(60, len(tight))) + rng.sample(loose, min(20, len(loose)))
    assert shift_check(spec, res, picks) == min(60, len(tight)) > 0


def test_faw_violation_names_the_window():
    spec = gddr6_spec(channels=1, refresh="none", timings={"nFAW": 40})
    trace = [(0, 0, 0, "ACT", 1, -1), (7, 0, 4, "ACT", 1, -1), (14, 0, 8, "ACT", 1, -1), (21, 0, 12, "ACT", 1, -1),
             (39, 0, 1, "ACT", 1, -1)]
    (v,) = check_trace(trace, spec)
    assert (v.rule, v.index, v.required, v.actual) == ("faw", 4, 40, 39)
    assert v.preceding == "ACT bank 0 row 1 @ 0"
    assert check_trace(trace[:4] + [(40, 0, 1, "ACT", 1, -1)], spec) == []


@pytest.mark.parametrize("trace, rule", [
    ([(0, 0, 3, "RD", 5, 0)], "state.open"),
    ([(0, 0, 3, "ACT", 5, -1), (100, 0, 3, "ACT", 6, -1)], "state.closed"),
    ([(0, 0, 3, "ACT", 5, -1), (100, 0, 3, "RD", 6, 0)], "state.row"),
    ([(0, 0, 3, "ACT", 5, -1), (10, 0, 3, "RD", 5, 0)], "rcd_rd"),
    ([(0, 0, 3, "ACT", 5, -1), (0, 0, 7, "ACT", 5, -1)], "cmd_bus"),
    ([(0, 0, 3, "FOO", 5, 0)], "unknown_command"),
    ([(0, 0, -1, "RD", 5, 0)], "bank_field"),
    ([(9, 0, 3, "ACT", 5, -1), (5, 0, 4, "ACT", 5, -1)], "time_order"),
])
def test_state_and_format_violations(trace, rule):
    spec = gddr6_spec(channels=1)
    found = check_trace(trace, spec)
    assert rule in {v.rule for v in found}, [str(v) for v in found]
    assert all(str(v).startswith(f"cycle {v.cycle} channel {v.channel}: rule ") for v in found)


def test_pim_mode_rules():
    spec = aim_spec()
    ok = [(0, 0, -1, "ACT16", 2, -1), (56, 0, -1, "MAC16", 2, 0)]
    assert check_trace(ok, spec) == []
    assert {v.rule for v in check_trace([(0, 0, -1, "WRGB", -1, 0)], spec)} == {"state.mode"}
    early = [(0, 0, -1, "MODE_REG", -1, -1), (31, 0, -1, "WRGB", -1, 0)]
    (v,) = check_trace(early, spec)
    assert (v.rule, v.required, v.actual) == ("modch_reg", 32, 31)
    assert {v.rule for v in check_trace(ok[:1] + [(55, 0, -1, "MAC16", 2, 0)], spec)} == {"rcd_mac"}


def test_command_trace_text_round_trip():
    spec = aim_spec()
    prog = DramProgram(1)
    prog.add(0, wr_gb(2), mac_abk(1, 0, 3), rd_mac())
    res = DramSystem(spec).run(prog, trace=True)
    assert check_trace(res.trace, spec) == []
    text = format_command_trace(res.trace, standard=res.standard, clock_mhz=res.clock_mhz)
    assert "dram clock 2000 MHz" in text.splitlines()[1]
    assert parse_command_trace(text) == res.trace
    assert isinstance(Violation("x", 0, 0, 0, "a", None), Violation)

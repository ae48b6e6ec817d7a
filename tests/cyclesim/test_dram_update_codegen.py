"""The straight-line rule-update functions generated from the compiled table do exactly what a loop over the
table does, for every command, bank and standard (random states and issue cycles)."""

import random

import pytest

from archsim import arch
from archsim.cyclesim.dram.channel import CompiledRules, _update_function
from archsim.cyclesim.dram.config import DramConfig


def _loop(groups, nxt, t):
    for lat, slots in groups:
        v = t + lat
        for i in slots:
            if nxt[i] < v:
                nxt[i] = v


@pytest.mark.parametrize("spec,component", [("pim_gpt", "dram"), ("aim_reference", "dram")])
def test_generated_updates_equal_the_table_loop(spec, component):
    s = arch.load(spec)
    comps = {c.path: c for c in s.walk()}
    path = component if component in comps else next(p for p, c in comps.items() if c.impl.startswith("GDDR6"))
    rules = CompiledRules(DramConfig.from_spec(s, path))
    rng = random.Random(7)
    checked = 0
    for ci, row in enumerate(rules.upd):
        for b1, groups in enumerate(row):
            if groups is None:
                continue
            fn = rules.apply_upd[ci][b1]
            for _ in range(5):
                base = [rng.randrange(0, 400) for _ in range(rules.size)]
                t = rng.randrange(0, 300)
                a, b = list(base), list(base)
                fn(a, t)
                _loop(groups, b, t)
                assert a == b, (rules.names[ci], b1 - 1)
                checked += 1
    assert checked > 100


def test_a_wrong_latency_is_visible():
    """Negative control: the comparison above would see a one-cycle change in one latency."""
    groups = ((3, (0, 2)), (5, (1,)))
    wrong = ((3, (0, 2)), (6, (1,)))
    a, b = [0, 0, 0], [0, 0, 0]
    _update_function(wrong)(a, 10)
    _loop(groups, b, 10)
    assert a != b

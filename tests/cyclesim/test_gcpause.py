"""The cyclic collector is paused during a program run and restored to its previous state after it."""

import gc

import archsim
from archsim.cyclesim.gcpause import gc_paused


def test_gc_state_is_restored_even_after_an_error():
    assert gc.isenabled()
    try:
        with gc_paused():
            assert not gc.isenabled()
            raise ValueError("boom")
    except ValueError:
        pass
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()           # it was off before: it stays off
    finally:
        gc.enable()


def test_simulate_leaves_the_collector_on():
    seen = []
    r = archsim.simulate("pim_gpt", "gpt2-small", prompt=8, tokens=2, progress=lambda *a: seen.append(gc.isenabled()))
    assert r.cycles > 0 and seen and not any(seen)      # off while the blocks ran
    assert gc.isenabled()

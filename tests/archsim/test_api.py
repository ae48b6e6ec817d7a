"""simulate(): the two fidelities agree exactly, results are deterministic, the baseline model is a roofline."""

import pytest

from archsim import arch
import archsim
from archsim import mapper
from archsim import workloads
from archsim.cyclesim.run import run


def test_burst_equals_command_mode_exactly():
    w = workloads.gpt("gpt2-medium").decode(prompt=16, tokens=6)
    for name in ("t4", "xeon_gold_6154"):
        a = archsim.simulate(name, w, mode="burst")
        b = archsim.simulate(name, w, mode="command")
        assert a.blocks_reused > 0 and b.blocks_reused == 0
        assert (a.cycles, a.seconds, a.components, a.energy_pj) == (b.cycles, b.seconds, b.components, b.energy_pj)


def test_deterministic_json():
    a = archsim.simulate("t4", "gpt2-small", tokens=3).to_json()
    b = archsim.simulate("t4", "gpt2-small", tokens=3).to_json()
    assert a == b


def test_gpu_kernel_time_is_overhead_plus_roofline():
    spec = arch.load("t4")
    w = workloads.gpt("gpt2-small").decode(prompt=4, tokens=1)
    program = mapper.compile(w, spec)
    p = spec.component("gpu").params
    expected_s = 0.0
    for cmd in program.commands():
        peak = (p["fp16_tensor_tflops"] if cmd.work["tensor"] else p["fp32_tflops"]) * 1e12
        t = cmd.work["kernels"] * p["kernel_overhead_us"] * 1e-6 + max(
            cmd.work["flops"] / peak, cmd.work["bytes"] / (p["memory_bw_gb_per_s"] * 1e9 * p["achieved_bw_fraction"]))
        expected_s += -(-t * 1590e6 // 1) / 1590e6
    res = run(program, spec)
    assert res.seconds == pytest.approx(expected_s, rel=1e-9)


def test_overrides_change_the_answer_in_the_expected_direction():
    slow = archsim.simulate("t4", "gpt2-xl", tokens=1, set={"gpu.memory_bw_gb_per_s": 160})
    fast = archsim.simulate("t4", "gpt2-xl", tokens=1)
    assert slow.seconds > fast.seconds * 1.3  # GEMV-bound decode is bandwidth-bound


def test_table_has_units():
    t = archsim.simulate("t4", "gpt2-small", tokens=1).table()
    assert list(t.columns) == ["impl", "clock_mhz", "busy_cycles", "utilization", "dynamic_energy_pj",
                               "static_energy_pj", "energy_pj"]
    assert t.loc["gpu", "utilization"] == pytest.approx(1.0)


def test_empty_program_runs_to_zero_time():
    from archsim.cyclesim.program import Program

    seen = []
    res = run(Program(engines={"gpu": "gpu"}), arch.load("t4"), progress=lambda d, t: seen.append((d, t)))
    assert (res.ticks, res.commands, seen) == (0, 0, [(0, 0)])


def test_a_chain_runs_as_the_events_would_run_it():
    """PIM-GPT's token blocks are chains (each command waits for the one before), which the runner executes
    back to back without the event queue. The same commands with a redundant extra dependency on the command
    two back (no longer a chain to the runner, the same order in fact) go through the events: every figure and
    the trace agree."""
    from archsim.cyclesim.program import Block, Command, Program

    spec = arch.load("pim_gpt")
    w = workloads.gpt("gpt2-small").decode(prompt=3, tokens=2)
    chained = mapper.compile(w, spec)
    blocks = list(chained.blocks)
    assert all(len(c.deps) <= 1 for b in blocks for c in b.commands)

    def unchain(b):
        return Block([Command(c.engine, c.op, c.work, c.deps + ((i - 2,) if i >= 2 else ()), c.label)
                      for i, c in enumerate(b.commands)], b.key, b.label)

    a = run(Program(engines=chained.engines, blocks=blocks, meta=chained.meta), spec, trace=True)
    b = run(Program(engines=chained.engines, blocks=[unchain(x) for x in blocks], meta=chained.meta), spec,
            trace=True)
    assert (a.ticks, a.components, a.energy_pj, a.trace) == (b.ticks, b.components, b.energy_pj, b.trace)
    assert a.ticks > 0 and a.trace["traceEvents"]

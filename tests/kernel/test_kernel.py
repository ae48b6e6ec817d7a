"""Event kernel: ordering, determinism, clock-domain conversion, resources, energy and the trace."""

import json
from fractions import Fraction

import pytest

from archsim.base.errors import SimulationError
from archsim.cyclesim import Component, Resource, Simulator, Timebase


def test_timebase_is_exact_lcm():
    tb = Timebase({"dram": 2000, "asic": 1000, "gpu": 1410})
    assert tb.tick_hz == 282_000_000_000  # lcm(2e9, 1e9, 1.41e9)
    assert tb["dram"].ticks_per_cycle == 141 and tb["asic"].ticks_per_cycle == 282
    assert tb["gpu"].ticks_per_cycle == 200
    # 1410 GPU cycles last exactly 1 us; 2000 DRAM cycles too
    assert tb["gpu"].cycles_to_ticks(1410) == tb["dram"].cycles_to_ticks(2000)
    assert tb.seconds(tb["gpu"].cycles_to_ticks(1410)) == pytest.approx(1e-6, rel=1e-15)
    assert tb.convert(3, "asic", "dram") == 6
    assert tb.convert(1, "dram", "gpu") == Fraction(141, 200)
    assert tb["gpu"].next_edge(201) == 400 and tb["gpu"].next_edge(400) == 400
    assert tb["asic"].ticks_to_cycles(563) == 1


def test_fractional_mhz_and_bad_clocks():
    tb = Timebase({"a": 1.5, "b": 1})
    assert tb["a"].freq_hz == 1_500_000 and tb.tick_hz == 3_000_000
    with pytest.raises(SimulationError, match="positive whole number of Hz"):
        Timebase({"x": 0})
    with pytest.raises(SimulationError, match="unknown clock domain 'c'; expected one of: a, b"):
        tb["c"]


def test_events_run_in_time_then_schedule_order():
    sim = Simulator(Timebase({"c": 1000}))
    log = []
    sim.schedule(5, log.append, "b")
    sim.schedule(3, log.append, "a")
    sim.schedule(5, log.append, "c")

    def chain(tag):
        log.append(tag)
        sim.schedule(0, log.append, tag + "-same-time")  # joins the current time, after what is queued

    sim.schedule(3, chain, "x")
    end = sim.run()
    assert log == ["a", "x", "x-same-time", "b", "c"]
    assert end == 5 and sim.events_run == 5


def test_run_until_and_past_scheduling():
    sim = Simulator(Timebase({"c": 1000}))
    log = []
    for t in (1, 4, 9):
        sim.at(t, log.append, t)
    sim.run(until=4)
    assert log == [1, 4] and sim.now == 4 and sim.pending == 1
    with pytest.raises(SimulationError, match="before now"):
        sim.at(2, log.append, 0)
    with pytest.raises(SimulationError, match="in the past"):
        sim.schedule(-1, log.append, 0)
    sim.run()
    assert log == [1, 4, 9]


class Worker(Component):
    """Takes jobs from a shared resource; each job lasts a pseudo-random number of its own cycles."""

    __slots__ = ("res", "seed", "left")

    def __init__(self, sim, name, clock, res, seed, jobs):
        super().__init__(sim, name, clock, static_mw=2.0)
        self.res, self.seed, self.left = res, seed, jobs

    def go(self, _):
        self.seed = (self.seed * 48271) % 2147483647
        dur = self.cycles(1 + self.seed % 7)
        start = self.res.reserve(self.sim.now, dur)
        self.busy(start, start + dur, f"job{self.left}")
        self.count("jobs")
        self.charge("compute", 1.5)
        self.left -= 1
        self.sim.at(start + dur, self.go if self.left else self.done)

    def done(self, _):
        self.count("finished")


def run_workers(trace=True):
    sim = Simulator(Timebase({"fast": 2000, "slow": 700}), trace=trace)
    res = Resource("bus", capacity=2)
    ws = [Worker(sim, f"w{i}", "fast" if i % 2 else "slow", res, i + 11, 50) for i in range(5)]
    for w in ws:
        sim.schedule(0, w.go)
    sim.run()
    sim.finish()
    return sim, res


def test_determinism_two_runs_identical_traces():
    a, _ = run_workers()
    b, _ = run_workers()
    ja = json.dumps(a.tracer.to_dict(), sort_keys=True)
    assert ja == json.dumps(b.tracer.to_dict(), sort_keys=True)
    assert a.now == b.now and a.ledger.per_component() == b.ledger.per_component()
    assert len(a.tracer.spans) == 250 and a.events_run == 255


def test_resource_capacity_and_accounting():
    sim, res = run_workers(trace=False)
    assert res.grants == 250
    assert res.busy_ticks == sum(c.busy_ticks for c in sim.components.values())
    assert 0 < res.utilization(sim.now) <= 1.0
    one = Resource("r")
    assert one.reserve(10, 5) == 10 and one.reserve(0, 5) == 15 and one.reserve(30, 1) == 30
    two = Resource("r2", 2)
    assert [two.reserve(0, 10) for _ in range(3)] == [0, 0, 10]
    with pytest.raises(SimulationError):
        Resource("bad", 0)


def test_energy_ledger_dynamic_plus_static():
    sim, _ = run_workers(trace=False)
    per = sim.ledger.per_component()
    seconds = sim.now / sim.timebase.tick_hz
    for name in ("w0", "w1"):
        assert per[name]["compute_pj"] == pytest.approx(50 * 1.5)
        assert per[name]["static_pj"] == pytest.approx(2.0 * 1e9 * seconds)
    assert sim.ledger.total_pj() == pytest.approx(sum(r["dynamic_pj"] + r["static_pj"] for r in per.values()))


def test_chrome_trace_file(tmp_path):
    sim, _ = run_workers()
    out = tmp_path / "t.json"
    sim.tracer.write(out)
    doc = json.loads(out.read_text())
    spans = [e for e in doc["traceEvents"] if e["ph"] == "X"]
    names = {e["args"]["name"] for e in doc["traceEvents"] if e["ph"] == "M"}
    assert names == {f"w{i}" for i in range(5)} and len(spans) == 250
    assert all(e["dur"] > 0 and e["ts"] >= 0 for e in spans)


def test_duplicate_component_names_rejected():
    sim = Simulator(Timebase({"c": 1000}))
    Component(sim, "a", "c")
    with pytest.raises(SimulationError, match="two components are named 'a'"):
        Component(sim, "a", "c")

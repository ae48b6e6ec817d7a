"""Flash microbenchmarks with analytic answers (the validation ladder's rung 2), and the closed forms against the
event model. Expected values are written from the timing equations (tR, tPROG, page / (rate x width)), with
durations rounded up to whole picoseconds as the model documents."""

from __future__ import annotations

import math
import random

import pytest

from archsim.base.errors import SimulationError
from archsim.cyclesim.flash import FlashConfig, PcieLink
from archsim.cyclesim.flash.burst import channel_ps, striped_ps
from archsim.cyclesim.flash.device import FlashDrive, new_simulator, run_striped

# 8 KiB pages on a 333 MT/s x8 bus: the reference's worked example (about 24.6 us per transfer)
CFG = FlashConfig(channels=2, ways=4, planes=2, page_bytes=8192, t_read_us=40.0, t_prog_us=200.0,
                  t_erase_us=3000.0, bus_mt_per_s=333.0, bus_width_bytes=1)
T_R = 40_000_000                                  # ps
T_PROG = 200_000_000
X = math.ceil(8192 / 333e6 * 1e12)               # one page over the bus, ps


def _drive(cfg=CFG, **kw):
    sim = new_simulator()
    return sim, FlashDrive(sim, cfg, **kw)


def test_transfer_time_follows_rate_and_width():
    assert CFG.xfer_ps == X
    assert 24.5e6 < X < 24.7e6                    # the reference's "about 24.6 us"
    wide = FlashConfig(page_bytes=8192, bus_mt_per_s=333.0, bus_width_bytes=2)
    assert wide.xfer_ps == math.ceil(8192 / 666e6 * 1e12)


def test_one_page_read_is_tr_plus_transfer():
    sim, d = _drive()
    op = d.submit("read", 0, 0)
    assert sim.run() == T_R + X
    assert op.done_ps == T_R + X
    assert d.counts["read_pages"] == 1 and d.counts["bus_bytes"] == 8192


def test_dies_of_one_channel_overlap_tr_and_serialize_transfers():
    sim, d = _drive()
    ops = [d.submit("read", 0, w) for w in range(4)]
    assert sim.run() == T_R + 4 * X               # not 4 x (tR + x), not tR + x
    assert sorted(o.done_ps for o in ops) == [T_R + (i + 1) * X for i in range(4)]


def test_different_channels_overlap_fully():
    sim, d = _drive()
    a, b = d.submit("read", 0, 0), d.submit("read", 1, 0)
    assert sim.run() == T_R + X
    assert a.done_ps == b.done_ps == T_R + X


def test_reads_on_one_die_serialize():
    sim, d = _drive()
    d.submit("read", 0, 0)
    d.submit("read", 0, 0, page=1)
    assert sim.run() == 2 * (T_R + X)             # the die holds its register until the data is out


def test_multi_plane_read_shares_one_tr():
    sim, d = _drive()
    d.submit("read", 0, 0, planes=(0, 1))
    assert sim.run() == T_R + 2 * X


def test_program_and_read_on_one_die_serialize():
    sim, d = _drive()
    p = d.submit("program", 0, 0)
    r = d.submit("read", 0, 0, page=1)
    assert sim.run() == X + T_PROG + T_R + X
    assert p.done_ps == X + T_PROG and r.done_ps == X + T_PROG + T_R + X
    # on another die of the same channel they overlap: only the bus is shared
    sim, d = _drive()
    d.submit("program", 0, 0)
    r = d.submit("read", 0, 1)
    sim.run()
    assert r.done_ps == max(T_R, X) + X


def test_erase_takes_tbers():
    sim, d = _drive()
    d.submit("erase", 1, 3)
    assert sim.run() == 3_000_000_000


def test_bus_bandwidth_caps_a_channel():
    """Many dies on one channel: the channel delivers at most page / x."""
    cfg = FlashConfig(channels=1, ways=16, planes=1, page_bytes=8192, t_read_us=40.0, bus_mt_per_s=333.0)
    n = 2000
    end, stats = run_striped(cfg, n)
    bw = n * 8192 / (end / 1e12)
    bus = 8192 / (cfg.xfer_ps / 1e12)
    assert bw <= bus and bw > 0.99 * bus
    assert end == T_R + n * cfg.xfer_ps         # bus-bound closed form
    assert stats["channel_bus_busy_ps"] == n * cfg.xfer_ps


def test_die_bound_channel_reaches_the_die_rate():
    """Few dies, slow array: each die delivers planes x page per (tR + planes x) and the bus idles."""
    cfg = FlashConfig(channels=1, ways=2, planes=2, page_bytes=4096, t_read_us=75.0, bus_mt_per_s=1400.0)
    n = 400
    end, _ = run_striped(cfg, n)
    x = cfg.xfer_ps
    per_die = 2 * 4096 / ((75e6 + 2 * x) / 1e12)
    assert n * 4096 / (end / 1e12) == pytest.approx(2 * per_die, rel=0.01)
    assert cfg.peak_read_bytes_per_s() == pytest.approx(2 * per_die, rel=1e-12)


def test_pcie_caps_the_drive():
    """Eight fast channels behind a PCIe Gen3 x1 link: the host sees the link's rate."""
    cfg = FlashConfig(channels=8, ways=8, planes=2, page_bytes=4096, t_read_us=40.0, bus_mt_per_s=1400.0)
    link = PcieLink("gen3", 1, 0.9)
    n = 4000
    end, stats = run_striped(cfg, n, pcie=link, to_host=True)
    bw = n * 4096 / (end / 1e12)
    assert link.bytes_per_s == pytest.approx(8e9 * 128 / 130 / 8 * 0.9)
    assert link.bytes_per_s * 0.98 < bw <= link.bytes_per_s
    assert stats["pcie_bytes"] == n * 4096
    # with a Gen4 x16 link the flash array is the limit again
    n = 16000                                      # long enough that the first tR is under 1% of the run
    end2, _ = run_striped(cfg, n, pcie=PcieLink("gen4", 16, 0.9), to_host=True)
    assert n * 4096 / (end2 / 1e12) == pytest.approx(cfg.peak_read_bytes_per_s(), rel=0.01)


def test_controller_queue_depth_one_serializes_everything():
    sim, d = _drive(queue_depth=1)
    d.submit("read", 0, 0)
    d.submit("read", 1, 0)
    assert sim.run() == 2 * (T_R + X)
    assert d.max_die_queue == 1


@pytest.mark.parametrize("seed", range(4))
def test_closed_form_equals_event_model(seed):
    rng = random.Random(seed)
    for _ in range(60):
        cfg = FlashConfig(channels=rng.randint(1, 4), ways=rng.randint(1, 6), planes=rng.randint(1, 3),
                          t_read_us=rng.choice([1.0, 5.0, 20.0, 35.76, 75.0]),
                          t_prog_us=rng.choice([3.0, 50.0, 185.0]), bus_mt_per_s=rng.choice([333, 800, 1400, 2400]),
                          page_bytes=rng.choice([4096, 8192, 16384]))
        n = rng.randint(0, 150)
        op = rng.choice(["read", "program"])
        end, _ = run_striped(cfg, n, op)
        assert striped_ps(cfg, n, op) == end, (cfg, n, op)


def test_closed_form_regimes_meet_at_the_boundary():
    # t = (D - 1) P x: bus-bound and die-bound formulas agree
    x, D, P = 1000, 5, 2
    t = (D - 1) * P * x
    n = 37
    bus = t + n * x
    assert channel_ps(n, D, P, t, x) == bus
    assert channel_ps(n, D, P, t + 1, x) >= bus


def test_negative_control_a_bus_without_contention_is_caught(monkeypatch):
    """Planted fault: a channel bus that serves any number of dies at once; the two-die check must fail."""
    from archsim.cyclesim.flash import device

    class _NoContention(device.Resource):
        def reserve(self, earliest, duration):
            self.busy_ticks += duration
            return earliest

    monkeypatch.setattr(device, "Resource", _NoContention)
    sim, d = _drive()
    for w in range(4):
        d.submit("read", 0, w)
    assert sim.run() != T_R + 4 * X


def test_bad_addresses_are_refused():
    _, d = _drive()
    with pytest.raises(SimulationError, match="channel 5"):
        d.submit("read", 5, 0)
    with pytest.raises(SimulationError, match="planes"):
        d.submit("read", 0, 0, planes=(0, 0))
    with pytest.raises(SimulationError, match="flash op"):
        d.submit("copy", 0, 0)
    with pytest.raises(SimulationError, match="PCIe generation"):
        PcieLink("gen9", 4)
    with pytest.raises(SimulationError, match="t_read_us"):
        FlashConfig(t_read_us=0)


def _event_phase(timing, n):
    """The attention phase by events: striped reads on the flash event model; each page, when out of its
    channel, enters the engine (a FIFO server of one page per ``e``)."""
    from archsim.cyclesim.kernel import Resource

    f = timing.flash
    e = timing.engine.page_ps(f.page_bytes, 16)
    sim = new_simulator()
    drive = FlashDrive(sim, f)
    engine = Resource("engine")
    ends = []

    def arrived(op):
        for _ in op.planes:
            ends.append(engine.reserve(sim.now, e) + e)

    from archsim.cyclesim.flash.device import striped_ops

    for c, w, planes in striped_ops(f, n):
        drive.submit("read", c, w, planes, callback=arrived)
    sim.run()
    return max(ends) + timing.engine.cycles_ps(timing.engine.pipeline_cycles)


@pytest.mark.parametrize("lanes", [1140, 16, 1])
def test_attention_phase_closed_form_equals_flash_events_into_the_engine(lanes):
    """With the shipped engine and a 16-lane one (both keep up with the flash) and a 1-lane one (saturated from
    its first page) the closed form of an attention phase equals the event model feeding a FIFO engine."""
    from archsim import arch
    from archsim.cyclesim.flash.csd import DriveTiming

    p = dict(arch.load("instinfer").component("csd").params)
    p.update(channels=2, ways=3, dot_product_lanes=lanes)
    t = DriveTiming.from_params(p)
    for n in (1, 7, 48, 301):
        assert t.phase(n)["end_ps"] == _event_phase(t, n), n

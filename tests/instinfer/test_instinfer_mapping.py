"""The InstInfer lowering: specs, capacity refusals, page counts from the layout, timing against the flash event
model, burst == command mode, drive scaling, and planted mapper faults."""

from __future__ import annotations

import math

import pytest

import archsim
from archsim import arch, workloads
from archsim.base.errors import MappingError
from archsim.cyclesim.flash import FlashConfig
from archsim.cyclesim.flash.device import run_striped
from archsim.cyclesim.run import run
from archsim.mapper import compile as compile_
from archsim.mapper import instinfer as ii


def _work(prompt=64, tokens=32, batch=2, model="opt-13b"):
    return workloads.model(model).decode(prompt=prompt, tokens=tokens, batch=batch)


def test_specs_load_with_one_two_and_twenty_drives():
    for name, n in (("instinfer", 1), ("instinfer_2drives", 2), ("instinfer_20drives", 20)):
        s = arch.load(name)
        assert s.family == "instinfer" and s["csd.drives"] == n
        assert s["csd.channels"] == 8 and s["csd.bus_mt_per_s"] == 1400.0 and s["csd.engine_freq_mhz"] == 285
    f = arch.load("flexgen_a6000")
    assert f.family == "flexgen" and f["ssd.seq_read_gb_per_s"] == 7.0


def test_kv_cache_larger_than_the_drives_is_refused_up_front():
    spec = arch.load("instinfer", set={"csd.blocks_per_plane": 64})     # 64 dies x 64 x 256 x 4 KB = 4.3 GB
    with pytest.raises(MappingError, match=r"KV cache of opt-13b .* needs .* a drive holds") as e:
        compile_(_work(prompt=1024, tokens=1024, batch=4), spec)
    assert e.value.key == "components.csd.blocks_per_plane"
    # the same cache fits two such drives? no: 4 GB per drive is still too small; 20 drives hold it
    spec20 = arch.load("instinfer_20drives", set={"csd.blocks_per_plane": 64})
    compile_(_work(prompt=1024, tokens=1024, batch=4), spec20, include_prefill=False)


def test_decode_attention_reads_every_token_page_of_k_and_v():
    w = _work()
    pl = ii.plan(w, arch.load("instinfer"))
    kv_len = 80
    (work,) = ii.drive_work(pl, kv_len, 128)
    pairs = 2 * 40                                              # batch 2 x 40 heads
    assert work["phases"] == (pairs * 2 * math.ceil(kv_len / 16),)
    assert work["macs"] == pairs * 2 * kv_len * 128


def test_attention_time_is_the_flash_event_model_plus_the_engine():
    spec = arch.load("instinfer")
    p = spec.component("csd").params
    flash = FlashConfig.from_params(p)
    w = _work(prompt=100, tokens=1, batch=1)
    prog = compile_(w, spec, include_prefill=False)
    att = [c for c in prog.blocks[0].commands if c.op == "attention"][0]
    n = 40 * 2 * math.ceil(101 / 16)
    assert att.work["phases"] == (n,)
    end, _ = run_striped(flash, n)                                # the event model, page by page
    e_cycles = math.ceil(2048 / p["dot_product_lanes"]) + math.ceil(16 / p["softmax_lanes"])
    e = math.ceil(e_cycles / 285e6 * 1e12)
    # 560 pages = 70 per channel: the 8 channels deliver their last pages together, the engine takes them in turn
    expected = max(end + 8 * e, flash.read_ps + flash.xfer_ps + n * e) + math.ceil(16 / 285e6 * 1e12)
    from archsim.cyclesim.engines.csd import CsdModel

    cycles, _ = CsdModel("csd0", "ComputationalStorageDrive", p).cost("attention", att.work)
    assert cycles == expected


def test_kv_programs_follow_the_page_cadence():
    w = _work(prompt=250, tokens=30, batch=1)
    prog = compile_(w, arch.load("instinfer"), include_prefill=False)
    pages = sum(c.work["pages"] for b in prog.blocks for c in b.commands if c.op == "kv_program")
    layers, pairs = 40, 40
    # kv_len 251..280 crosses token-page boundaries at 256, 272 and the 256-token channel-page boundary at 256
    assert pages == layers * pairs * (2 * 2 + 16 * 1)


def test_burst_equals_command_mode():
    spec = arch.load("instinfer_2drives")
    prog = compile_(_work(prompt=40, tokens=20, batch=3), spec)
    a, b = run(prog, spec, mode="burst"), run(prog, spec, mode="command")
    assert a.ticks == b.ticks
    assert a.blocks_reused > 0 and b.blocks_reused == 0


def test_two_drives_split_the_pairs_and_halve_the_attention():
    w = _work(prompt=512, tokens=4, batch=4)
    one = ii.drive_work(ii.plan(w, arch.load("instinfer")), 516, 128)
    two = ii.drive_work(ii.plan(w, arch.load("instinfer_2drives")), 516, 128)
    assert two[0]["phases"][0] + two[1]["phases"][0] == one[0]["phases"][0]
    r1 = archsim.simulate("instinfer", w, include_prefill=False)
    r2 = archsim.simulate("instinfer_2drives", w, include_prefill=False)
    busy1, busy2 = r1.components["csd0"]["busy_cycles"], r2.components["csd0"]["busy_cycles"]
    assert 1.95 < busy1 / busy2 <= 2.0                  # each drive does half the work
    assert r2.components["csd1"]["busy_cycles"] == busy2
    assert r2.seconds < r1.seconds


def test_sparf_reads_fewer_pages_and_clustered_fewer_than_uniform():
    w = _work(prompt=2000, tokens=1, batch=1)
    spec = arch.load("instinfer")
    dense = ii.drive_work(ii.plan(w, spec), 2001, 128)[0]
    uni = ii.drive_work(ii.plan(w, spec, sparf=ii.SparF()), 2001, 128)[0]
    clu = ii.drive_work(ii.plan(w, spec, sparf=ii.SparF(locality="clustered")), 2001, 128)[0]
    assert sum(clu["phases"]) < sum(uni["phases"]) <= sum(dense["phases"])
    # clustered: 16 channels in 2 groups x 8 rows of 256 tokens; k = 125 tokens in 8 pages of K and of V
    assert clu["phases"] == (40 * 2 * 8, 40 * 2 * 8)
    assert ii.SparF().rk(128, 2001) == (16, 125)


def test_negative_control_a_mapper_that_forgets_v_is_caught(monkeypatch):
    real = ii.drive_work

    def no_v(pl, kv_len, d):
        out = real(pl, kv_len, d)
        return [{**w, "phases": (w["phases"][0] // 2,)} for w in out]

    monkeypatch.setattr(ii, "drive_work", no_v)
    with pytest.raises(AssertionError):
        test_decode_attention_reads_every_token_page_of_k_and_v()


def test_bad_requests_are_refused():
    with pytest.raises(MappingError, match="decode workload"):
        compile_(workloads.model("opt-13b").prefill(prompt=16), arch.load("instinfer"))
    with pytest.raises(MappingError, match="sparf_ratio"):
        compile_(_work(), arch.load("instinfer"), sparf=True, sparf_ratio=0)
    with pytest.raises(MappingError, match="pairs cannot be split"):
        small = workloads.get_model("opt-13b").scaled(n_heads=8, d_model=1024)
        compile_(workloads.model(small).decode(prompt=8, tokens=1), arch.load("instinfer_20drives"))


def test_drive_dram_bandwidth_can_bound_the_programs():
    from archsim.cyclesim.flash.csd import DriveTiming

    p = dict(arch.load("instinfer").component("csd").params)
    fast = DriveTiming.from_params(p)
    slow = DriveTiming.from_params({**p, "dram_bw_gb_per_s": 0.1})
    n = 6400
    assert fast.program_ps(n) < slow.program_ps(n)
    # 64 dies at 4 KB per 185 us program 1.42 GB/s; 0.1 GB/s of DRAM sets the pace instead
    assert slow.program_ps(n) == pytest.approx(n * 4096 / 0.1e9 * 1e12 + slow.flash.prog_ps, abs=1)


def test_too_few_accumulators_are_refused():
    with pytest.raises(MappingError, match="accumulators"):
        compile_(_work(), arch.load("instinfer", set={"csd.accumulator_entries": 64}))


def test_all_peer_to_peer_traffic_crosses_the_gpus_own_link():
    w = _work(prompt=64, tokens=2, batch=2)
    prog = compile_(w, arch.load("instinfer_2drives"), include_prefill=False)
    blk = prog.blocks[0]
    link = [c for c in blk.commands if c.engine == "host_link"]
    drives = [c for c in blk.commands if c.engine.startswith("pcie")]
    assert sum(c.work["bytes"] for c in link) == sum(c.work["bytes"] for c in drives)  # q, k, v and outputs
    fast = archsim.simulate("instinfer_2drives", w, include_prefill=False)
    slow = archsim.simulate("instinfer_2drives", w, include_prefill=False, set={"host_link.bandwidth_gb_per_s": 0.01})
    per_layer_bytes = sum(c.work["bytes"] for c in link)
    extra = 2 * 40 * per_layer_bytes / 0.01e9                      # 2 steps x 40 layers through a 10 MB/s link
    assert slow.seconds - fast.seconds == pytest.approx(extra, rel=0.02)

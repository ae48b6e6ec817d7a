"""Every RTL unit, the same checks: bit-exact against its numpy model on >= 1,000 vectors (edge cases first),
latency and initiation interval measured in simulation equal rtl.timing, the exported Verilog lints and runs
in Icarus with the same outputs cycle for cycle, and planted faults make the comparison fail."""

import re

import numpy as np
import pytest

from archsim.rtl import harness
from archsim.rtl.units import UNITS, build, run_bench, unit

from .conftest import need_tool

NAMES = list(UNITS)
_RUNS: dict = {}


def small_run(name):
    """One 1,000-vector run per unit at its small parameters, shared by the tests of this module."""
    if name not in _RUNS:
        _RUNS[name] = run_bench(name, UNITS[name].small, vectors=1000, seed=11)
    return _RUNS[name]


@pytest.mark.parametrize("name", NAMES)
def test_bit_exact_against_numpy_model(name):
    dut, bench, trace, errors = small_run(name)
    assert bench.vectors >= 1000
    assert errors == []


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_bit_exact_many_vectors_default_size(name):
    params = {"pim_mac": {}, "lut_array": {"m": 2, "n": 64}, "hash_grid": {"log2_table": 8},
              "attention": {"head_dim": 32}}[name]
    vectors = 2000 if name == "pim_mac" else 5000   # the 16-lane fp32 tree simulates at ~20-50 cycles/s
    _, bench, _, errors = run_bench(name, params, vectors=vectors, seed=5)
    assert bench.vectors >= vectors and errors == []


# ------------------------------------------------------------------------------------- latency and II

def _probe(name, dut):
    """(one beat, the output that shows its effect) for each unit."""
    from archsim.rtl.harness import pack

    if name == "pim_mac":
        return {"op": 3, "clear": 1}, lambda o: o["result_valid"] == 1
    if name == "lut_array":
        return ({"valid": 1, "load": 1, "clear": 1, "act": pack([1, 2, 3, 4] * dut.m, dut.act_bits)},
                lambda o: o["acc"] != 0)
    if name == "hash_grid":
        return {"valid": 1, "x": 0, "scale": 256, "res": 3, "dense": 1, "table_size": 8}, \
            lambda o: o["out_valid"] == 1
    return {"valid": 1, "first": 1, "last": 1}, lambda o: o["done"] == 1


@pytest.mark.parametrize("name", NAMES)
def test_latency_and_initiation_interval_match_rtl_timing(name):
    dut = build(name, UNITS[name].small)
    beat, seen = _probe(name, dut)
    lat = dut.timing.latency_cycles
    trace = harness.simulate(dut, [beat] + [{}] * (lat + 3))
    first = next(t for t, o in enumerate(trace.outputs) if seen(o))
    assert first == lat
    # back to back: 5 beats on consecutive cycles give their effects on consecutive cycles (II = 1)
    if name == "lut_array":
        return  # accumulating beats all show as "acc != 0"; its II is proven by the bit-exact bench
    dut = build(name, UNITS[name].small)
    trace = harness.simulate(dut, [beat] * 5 + [{}] * (lat + 3))
    hits = [t for t, o in enumerate(trace.outputs) if seen(o)]
    assert hits == [lat + i * dut.timing.initiation_interval_cycles for i in range(5)]


def test_cycle_models_use_rtl_timing():
    """The LUT tensor-core cycle model's lmma takes W_BIT initiation intervals of the RTL array."""
    from archsim.cyclesim.tensor_core import machine
    from archsim.rtl import timing

    assert machine.lmma_cycles is timing.lmma_cycles
    assert timing.lmma_cycles(4) == 4 * timing.LUT_ARRAY.initiation_interval_cycles


# ----------------------------------------------------------------------------------- Verilog tools

ALLOWED_LINT = {"WIDTH", "UNUSEDSIGNAL", "CASEINCOMPLETE"}
"""Warnings Amaranth's generated Verilog always has (implicit width extension, unused bits of intermediate
slices, a case with a default assignment before it); anything else would be a real finding."""


@pytest.mark.parametrize("name", NAMES)
def test_verilog_lints_with_verilator(name):
    need_tool("verilator")
    src = harness.export_verilog(build(name, UNITS[name].small), name)
    messages = harness.verilator_lint(src, name)
    assert set(re.findall(r"%Warning-([A-Z]+)", messages)) <= ALLOWED_LINT
    assert "%Error" not in messages


@pytest.mark.parametrize("name", NAMES)
def test_icarus_equals_amaranth_cycle_for_cycle(name):
    need_tool("iverilog")
    dut, bench, trace, _ = small_run(name)
    src = harness.export_verilog(build(name, UNITS[name].small), name)
    ins, outs = harness.ports(dut)
    icarus = harness.icarus_simulate(src, name, ins, outs, bench.stimulus)
    assert len(icarus) == len(trace.outputs)
    assert icarus == trace.outputs
    assert bench.check(icarus) == []


@pytest.mark.slow
def test_yosys_synthesizes_a_small_unit():
    need_tool("yosys")
    src = harness.export_verilog(build("lut_array", {"m": 1, "n": 2, "w_bits": 2}), "lut_array")
    stats = harness.yosys_synth(src, "lut_array")
    # registers of this design: 8 x 11-bit table entries, 2 x 32-bit accumulators, 2 x 32-bit terms and 12
    # control/plane bits; Yosys merges the terms' equal sign-extension bits, so the count is bounded, not fixed
    assert 8 * 11 + 2 * 32 <= stats.flip_flops <= 8 * 11 + 2 * 32 + 2 * 32 + 12
    assert stats.cells > stats.flip_flops and stats.area_um2 > 0


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_yosys_synthesizes_every_small_unit(name):
    need_tool("yosys")
    dut = build(name, UNITS[name].small)
    sram = getattr(dut, "sram_bits", 0)
    stats = harness.yosys_synth(harness.export_verilog(dut, name), name, keep_memories=bool(sram))
    assert stats.cells > 0 and stats.flip_flops > 0
    assert ("$mem_v2" in stats.cell_types) == bool(sram)  # the table SRAM stays one macro cell


# ------------------------------------------------------------------------------ planted faults

def test_fault_pim_model_sums_sequentially(monkeypatch):
    """A model that sums the 16 products left to right instead of by the tree disagrees with the RTL."""
    from archsim.rtl import pim_mac

    def sequential(p):
        p = np.asarray(p, np.float32)
        acc = p[..., 0]
        for i in range(1, p.shape[-1]):
            acc = np.float32(acc + p[..., i])
        return acc

    dut, bench, trace, _ = small_run("pim_mac")
    monkeypatch.setattr(pim_mac, "tree_sum", sequential)
    assert bench.check(trace.outputs) != []


def test_fault_pim_design_in_bf16_accumulation():
    """The same commands through a bf16-accumulating design do not match the fp32 model."""
    from archsim.rtl.pim_mac import PimMacBench

    right = build("pim_mac", UNITS["pim_mac"].small)
    bench = PimMacBench(right, 150, seed=3)
    assert bench.check(harness.simulate(right, bench.stimulus).outputs) == []
    wrong = build("pim_mac", {**UNITS["pim_mac"].small, "accum": "bf16"})
    assert bench.check(harness.simulate(wrong, bench.stimulus).outputs) != []


def test_fault_lut_latency_off_by_one(monkeypatch):
    """A bench that believes the array is one cycle faster than it is sees wrong accumulators."""
    from archsim.rtl.timing import UnitTiming

    dut, bench, trace, _ = small_run("lut_array")
    monkeypatch.setattr(dut, "timing", UnitTiming(dut.timing.latency_cycles - 1, 1, "planted"))
    assert bench.check(trace.outputs) != []


def test_fault_lut_model_table_sign(monkeypatch):
    from archsim.rtl import lut_unit

    dut, bench, trace, _ = small_run("lut_array")
    flipped = [[-s for s in row] for row in lut_unit._TABLE_SIGNS]
    monkeypatch.setattr(lut_unit, "_TABLE_SIGNS", flipped)
    fresh = unit("lut_array").bench_cls()(dut, 1000, 11)
    assert fresh.check(trace.outputs) != []


def test_fault_hash_grid_model_wrong_prime(monkeypatch):
    from archsim.rtl import hashgrid_model

    dut, bench, trace, _ = small_run("hash_grid")
    monkeypatch.setattr(hashgrid_model, "PRIMES", (1, 2654435761, 805459863))
    assert bench.check(trace.outputs) != []


def test_fault_attention_model_exp_table(monkeypatch):
    from archsim.rtl import attention_model

    dut, bench, trace, _ = small_run("attention")
    table = list(attention_model.EXP_TABLE)
    table[5] += 1
    monkeypatch.setattr(attention_model, "EXP_TABLE", tuple(table))
    assert bench.check(trace.outputs) != []


def test_pim_mac_pipeline_drains_within_the_aim_mac_to_rdmac_spacing():
    """The DRAM model's GDDR6_AiM rules assume the MAC pipeline has retired its last column when RDMAC16 reads
    the registers (rule drain_mac, MAC16 -> MODE_REG, then modch_reg, MODE_REG -> RDMAC16). With the RTL unit
    accepting one column per MAC16 slot (II 1 at one MAC clock per nCCDL command cycles), its latency in command
    cycles, latency x nCCDL, must fit in that spacing."""
    from archsim.cyclesim.dram.standards import get_standard
    from archsim.rtl.timing import PIM_BANK_MAC

    std = get_standard("GDDR6_AiM")
    timings = std.resolve()
    lat = std.latencies(timings)
    spacing = lat["drain_mac"] + lat["modch_reg"]
    per_mac_clock = timings["nCCDL"] // PIM_BANK_MAC.initiation_interval_cycles
    assert PIM_BANK_MAC.latency_cycles * per_mac_clock <= spacing

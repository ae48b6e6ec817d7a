"""The Amaranth LUT dot-product unit: bit-exact against an independent integer dot product, its latency equals
rtl.timing (the number the cycle model uses), and the exported Verilog behaves the same in Icarus."""

import subprocess

import numpy as np
import pytest
from amaranth.back import verilog
from amaranth.sim import Simulator

from archsim.rtl.lut_unit import LutDotUnit
from archsim.rtl.timing import LUT_DOT_UNIT, lmma_cycles
from archsim.workloads.lut_gemm import encode_weights, precompute_tables

from .conftest import need_tool

def vectors(seed: int, n_cols: int, w_bits: int, groups: int):
    """Random INT8 activations and w_bits weights -> per-beat inputs and the expected accumulators."""
    rng = np.random.default_rng(seed)
    a = rng.integers(-128, 128, size=(1, 4 * groups))
    q = rng.integers(0, 2 ** w_bits, size=(4 * groups, n_cols))
    tables, _ = precompute_tables(a)
    sign, index = encode_weights(q, w_bits)
    beats = []
    for g in range(groups):
        for i in range(w_bits):
            beats.append({"clear": int(g == 0 and i == 0), "table": [int(t) for t in tables[0, g]],
                          "sign": [int(s) for s in sign[i, g]], "index": [int(j) for j in index[i, g]],
                          "plane": i})
    # independent reference: sum_k a_k q'_k with q' = 2q - (2^b - 1) (the {-1,+1} reinterpretation)
    expected = (a[0][:, None] * (2 * q - (2 ** w_bits - 1))).sum(axis=0)
    return beats, [int(e) for e in expected]


def pack(values, width):
    word = 0
    for i, v in enumerate(values):
        word |= (v & ((1 << width) - 1)) << (i * width)
    return word


def unpack_signed(word, n, width):
    out = []
    for i in range(n):
        v = (word >> (i * width)) & ((1 << width) - 1)
        out.append(v - (1 << width) if v >> (width - 1) else v)
    return out


def drive(dut, ctx_set, beat):
    ctx_set(dut.valid, 1)
    ctx_set(dut.clear, beat["clear"])
    ctx_set(dut.table, pack(beat["table"], dut.table_bits))
    ctx_set(dut.sign, pack(beat["sign"], 1))
    ctx_set(dut.index, pack(beat["index"], 3))
    ctx_set(dut.plane, beat["plane"])


def simulate(dut, beats):
    result = {}

    async def bench(ctx):
        for beat in beats:
            drive(dut, ctx.set, beat)
            await ctx.tick()
        ctx.set(dut.valid, 0)
        await ctx.tick().repeat(LUT_DOT_UNIT.latency_cycles)
        result["acc"] = unpack_signed(ctx.get(dut.acc), dut.n_cols, dut.acc_bits)

    sim = Simulator(dut)
    sim.add_clock(1e-9)
    sim.add_testbench(bench)
    sim.run()
    return result["acc"]


@pytest.mark.parametrize("seed, w_bits, groups", [(0, 1, 3), (1, 2, 5), (2, 3, 2), (3, 4, 8)])
def test_bit_exact_against_integer_dot_product(seed, w_bits, groups):
    dut = LutDotUnit(n_cols=4, table_bits=11, w_bits=w_bits, acc_bits=32)
    beats, expected = vectors(seed, 4, w_bits, groups)
    assert simulate(dut, beats) == expected
    assert len(beats) == groups * lmma_cycles(w_bits)  # one plane per cycle: W_BIT cycles per table


def test_latency_matches_rtl_timing():
    dut = LutDotUnit(n_cols=2, table_bits=11, w_bits=2)
    seen = {}

    async def bench(ctx):
        drive(dut, ctx.set, {"clear": 1, "table": [5, -3, 7, 1, 0, 2, -8, 4], "sign": [0, 1], "index": [2, 6],
                             "plane": 1})
        await ctx.tick()
        ctx.set(dut.valid, 0)
        for cycle in range(1, 5):
            if unpack_signed(ctx.get(dut.acc), 2, 32) == [14, 16] and "cycle" not in seen:
                seen["cycle"] = cycle
            await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-9)
    sim.add_testbench(bench)
    sim.run()
    assert seen["cycle"] == LUT_DOT_UNIT.latency_cycles


def test_bad_parameters():
    with pytest.raises(ValueError, match="acc_bits >= table_bits \\+ w_bits"):
        LutDotUnit(table_bits=30, w_bits=4, acc_bits=32)


def _need(tool):
    need_tool(tool)  # skip with the install command (fail in CI), listed in the run's summary


def test_verilog_lints_with_verilator(tmp_path):
    _need("verilator")
    src = tmp_path / "lut_dot_unit.v"
    src.write_text(verilog.convert(LutDotUnit(n_cols=4, table_bits=11, w_bits=4), name="lut_dot_unit"))
    run = subprocess.run(["verilator", "--lint-only", "-Wno-fatal", "-Wall", str(src)], capture_output=True,
                         text=True)
    assert run.returncode == 0, run.stderr


def test_verilog_in_icarus_equals_amaranth(tmp_path):
    _need("iverilog")
    dut = LutDotUnit(n_cols=4, table_bits=11, w_bits=3, acc_bits=32)
    beats, expected = vectors(7, 4, 3, 6)
    assert simulate(LutDotUnit(n_cols=4, table_bits=11, w_bits=3, acc_bits=32), beats) == expected
    (tmp_path / "dut.v").write_text(verilog.convert(dut, name="lut_dot_unit"))
    lines = ["`timescale 1ns/1ps", "module tb;", "reg clk = 0; reg rst = 1;", "reg valid = 0; reg clear = 0;",
             "reg [87:0] table_ = 0; reg [3:0] sign = 0; reg [11:0] index = 0; reg [1:0] plane = 0;",
             "wire [127:0] acc;",
             "lut_dot_unit dut(.clk(clk), .rst(rst), .valid(valid), .clear(clear), .\\table (table_), "
             ".sign(sign), .index(index), .plane(plane), .acc(acc));",
             "always #1 clk = ~clk;", "initial begin", "@(negedge clk); @(negedge clk); rst = 0;"]
    for b in beats:
        lines.append(f"valid = 1; clear = {b['clear']}; table_ = 88'h{pack(b['table'], 11):x}; "
                     f"sign = 4'h{pack(b['sign'], 1):x}; index = 12'h{pack(b['index'], 3):x}; "
                     f"plane = {b['plane']}; @(negedge clk);")
    lines += ["valid = 0;", "repeat (4) @(negedge clk);",
              '$display("ACC %0d %0d %0d %0d", $signed(acc[31:0]), $signed(acc[63:32]), '
              "$signed(acc[95:64]), $signed(acc[127:96]));", "$finish;", "end", "endmodule"]
    (tmp_path / "tb.v").write_text("\n".join(lines))
    out = tmp_path / "sim"
    subprocess.run(["iverilog", "-g2012", "-o", str(out), str(tmp_path / "tb.v"), str(tmp_path / "dut.v")],
                   check=True, capture_output=True, text=True)
    run = subprocess.run(["vvp", str(out)], capture_output=True, text=True, check=True)
    got = [int(x) for x in run.stdout.split("ACC")[1].split()[:4]]
    assert got == expected

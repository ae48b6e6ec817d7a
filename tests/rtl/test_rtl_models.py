"""The RTL units' numpy models against the architectures' functional paths and float references: the PIM MAC
model is the PIM-GPT functional model's arithmetic bit for bit, the LUT array model is workloads.lut_gemm's,
the hash-grid engine format is within its quantization error of tiny-cuda-nn's float math, and the attention
core is within a stated tolerance of float softmax attention."""

import numpy as np
import pytest

from archsim.base.numerics import to_bf16
from archsim.rtl.fp import canonical_nan


# ------------------------------------------------------------------------------------------ PIM bank MAC

def test_pim_mac_model_equals_pim_gpt_functional_model():
    """The same weights, global-buffer inputs and biases through PimMemory (MAC_ABK / WR_BIAS / RD_MAC) and
    through bank_mac_model, per bank: identical float32 bit patterns (NaN compared as the canonical NaN)."""
    from archsim.cyclesim.dram import program as P
    from archsim.cyclesim.dram.functional import PimMemory, tree16
    from archsim.rtl.pim_mac import bank_mac_model, bf16_bits, random_bf16, tree_sum

    rng = np.random.default_rng(2)
    banks, cols = 16, 8
    for accum in ("fp32", "bf16"):
        mem = PimMemory(channels=1, banks=banks, rows=4, row_elems=16 * cols, access_elems=16, gb_elems=16 * cols,
                        accum=accum)
        w_bits = random_bf16(rng, (banks, 16 * cols))
        g_bits = random_bf16(rng, 16 * cols, spread=6)
        w = (w_bits.astype(np.uint32) << 16).view(np.float32)
        g = (g_bits.astype(np.uint32) << 16).view(np.float32)
        for b in range(banks):
            mem.store(0, b, 0, 0, w[b])
        bias = to_bf16(rng.standard_normal(banks)).astype(np.float32)
        prog = [P.wr_gb(cols), P.wr_bias(1), P.mac_abk(0, 0, cols // 2), P.rd_mac(1),
                P.mac_abk(0, cols // 2, cols // 2), P.rd_mac(1)]
        with np.errstate(all="ignore"):
            reads = mem.execute([prog], writes=[[g, bias]])[0]
        for b in range(banks):
            half = 16 * (cols // 2)
            cmds = [("bias", bias[b])]
            cmds += [("mac", w_bits[b, 16 * i:16 * i + 16], g_bits[16 * i:16 * i + 16]) for i in range(cols // 2)]
            cmds += [("rd", 1)]
            cmds += [("mac", w_bits[b, half + 16 * i:half + 16 * i + 16], g_bits[16 * i:16 * i + 16])
                     for i in range(cols // 2)]
            cmds += [("rd", 1)]
            want = canonical_nan(np.array([reads[0][b], reads[1][b]], np.float32).view(np.uint32))
            assert list(bank_mac_model(cmds, 16, accum)) == list(want)
    x = random_bf16(rng, (64, 16))
    xf = (x.astype(np.uint32) << 16).view(np.float32)
    with np.errstate(all="ignore"):
        assert np.array_equal(canonical_nan(tree_sum(xf).view(np.uint32)), canonical_nan(tree16(xf).view(np.uint32)))
    assert bf16_bits(np.float32(1.0)) == 0x3F80


def test_fp_units_bit_exact_on_many_pairs():
    """fp32_add and bf16_mul alone, 2,000 operand pairs (edge patterns x edge patterns, then random incl. every
    class), one per cycle, against numpy float32."""
    from amaranth.hdl import Module, Signal
    from amaranth.lib import wiring
    from amaranth.lib.wiring import In, Out

    from archsim.rtl import harness
    from archsim.rtl.fp import bf16_mul, fp32_add
    from archsim.rtl.pim_mac import EDGE_BF16, random_bf16

    class Ops(wiring.Component):
        a: In(32)
        b: In(32)
        wa: In(16)
        wb: In(16)
        total: Out(32)
        prod: Out(32)

        def elaborate(self, platform):
            m = Module()
            m.d.sync += [self.total.eq(fp32_add(m, self.a, self.b, "add")),  # registered: one cycle later
                         self.prod.eq(bf16_mul(m, self.wa, self.wb, "mul"))]
            return m

    rng = np.random.default_rng(9)
    ea, eb = np.meshgrid(EDGE_BF16, EDGE_BF16)
    wa = np.concatenate([ea.ravel(), random_bf16(rng, 1516, spread=70)])
    wb = np.concatenate([eb.ravel(), random_bf16(rng, 1516, spread=70)])
    # fp32 operands: products of the pairs (subnormal, tie and cancellation cases included) and raw patterns
    with np.errstate(all="ignore"):
        pa = (wa.astype(np.uint32) << 16).view(np.float32) * np.float32(1.0 + 2.0 ** -9)
        pb = -(np.roll(pa, 1)) * np.where(rng.random(pa.size) < 0.3, np.float32(1), np.float32(0.75))
    a_bits, b_bits = pa.view(np.uint32), pb.view(np.uint32)
    b_bits[::7] = rng.integers(0, 1 << 32, b_bits[::7].size, dtype=np.uint64).astype(np.uint32)
    b_bits[::11] = a_bits[::11] ^ 0x80000000  # x + (-x)
    stim = [{"a": int(x), "b": int(y), "wa": int(p), "wb": int(q)} for x, y, p, q in zip(a_bits, b_bits, wa, wb)]
    out = harness.simulate(Ops(), stim + [{}]).outputs[1:]
    with np.errstate(all="ignore"):
        want_add = canonical_nan((a_bits.view(np.float32) + b_bits.view(np.float32)).view(np.uint32))
        want_mul = canonical_nan(((wa.astype(np.uint32) << 16).view(np.float32)
                                  * (wb.astype(np.uint32) << 16).view(np.float32)).view(np.uint32))
    assert len(stim) >= 2000
    assert [o["total"] for o in out] == list(want_add)
    assert [o["prod"] for o in out] == list(want_mul)


def test_pim_mac_refuses_bad_parameters():
    from archsim.rtl.pim_mac import PimBankMac
    from archsim.rtl.params import RtlParamError

    with pytest.raises(RtlParamError, match="power of two"):
        PimBankMac(lanes=12)
    with pytest.raises(RtlParamError, match="accum must be one of fp32, bf16"):
        PimBankMac(accum="fp16")


# --------------------------------------------------------------------------------------------- LUT array

def test_lut_array_refuses_a_table_too_narrow_for_the_activations():
    """table_bits=10 with INT8 activations would wrap [-128]*4 (entry 512) to -512: refused at construction;
    11 bits are accepted and the exported entry is 512."""
    from archsim.rtl import harness
    from archsim.rtl.lut_unit import LutArray, LutDotUnit
    from archsim.rtl.params import RtlParamError

    with pytest.raises(RtlParamError, match="table_bits=10 is too narrow for int8 activations"):
        LutArray(table_bits=10)
    with pytest.raises(ValueError, match="too narrow for int8"):
        LutDotUnit(table_bits=10)
    with pytest.raises(RtlParamError, match="too narrow for int16"):
        LutArray(act_bits=16, table_bits=18, acc_bits=40)
    dut = LutArray(m=1, n=1, w_bits=1)
    beat = {"valid": 1, "load": 1, "clear": 1, "act": harness.pack([-128] * 4, 8), "sign": 0, "index": 0,
            "plane": 0}
    out = harness.simulate(dut, [beat, {}, {}, {}]).outputs
    assert harness.to_signed(out[3]["acc"], 32) == 512


def test_lut_array_model_equals_workloads_lut_gemm():
    """Tables, weight encoding and the bit-serial accumulation of the RTL model are those of workloads.lut_gemm;
    summed over K groups they give A (2q - (2^b - 1)), and the epilogue gives lut_mpgemm / dequant_matmul."""
    from archsim.rtl.lut_unit import lut_array_model, lut_encode_plane, lut_tables
    from archsim.workloads.lut_gemm import (dequant_matmul, encode_weights, lut_mpgemm, precompute_tables,
                                            quantize, quantize_tables)

    rng = np.random.default_rng(4)
    M, K, N, b = 2, 16, 12, 3
    A = rng.integers(-128, 128, (M, K))
    A[0, :4] = -128
    codes = rng.integers(0, 2 ** b, (K, N))
    tables, rowsum = precompute_tables(A)
    assert np.array_equal(lut_tables(A.reshape(-1, 4)).reshape(M, K // 4, 8), tables)
    codes_q, _ = quantize_tables(tables, A, 11)
    assert np.array_equal(codes_q, tables)  # 11-bit tables are exact for INT8: the model's quantization is identity
    sign, index = encode_weights(codes, b)
    beats = []
    for g in range(K // 4):
        for i in range(b):
            s, j = lut_encode_plane(codes[4 * g:4 * g + 4], i)
            assert np.array_equal(s, sign[i, g]) and np.array_equal(j, index[i, g])
            beats.append({"table": tables[:, g] if i == 0 else None, "sign": s, "index": j, "plane": i,
                          "clear": int(g == 0 and i == 0)})
    acc = lut_array_model(beats, M, N)[-1]
    assert np.array_equal(acc, A @ (2 * codes - (2 ** b - 1)))
    w = quantize(codes, np.ones(N), np.zeros(N), f"uint{b}")
    out = w.scale_prime * (acc - w.zero_prime * rowsum[:, None])
    assert np.array_equal(out, lut_mpgemm(A, codes, np.ones(N), np.zeros(N), f"uint{b}", "int8"))
    assert np.array_equal(out, dequant_matmul(A, codes, np.ones(N), np.zeros(N), f"uint{b}", "int8"))


def test_lut_array_takes_quantized_tables_as_the_model_builds_them():
    """precompute=False: the INT8-quantized tables of FP16 activations (quantize_tables) go in, the accumulators
    equal the model's integer P sums, and dequantized they give lut_mpgemm(table_bits=8) exactly."""
    from archsim.rtl import harness
    from archsim.rtl.lut_unit import LutArray, lut_encode_plane
    from archsim.workloads.lut_gemm import lut_mpgemm, precompute_tables, quantize, quantize_tables

    rng = np.random.default_rng(6)
    M, N, b = 2, 4, 2
    A = rng.standard_normal((M, 4)).astype(np.float16).astype(np.float64)
    codes = rng.integers(0, 4, (4, N))
    tables, rowsum = precompute_tables(A)
    tq, tscale = quantize_tables(tables, A, 8)
    dut = LutArray(m=M, n=N, w_bits=b, table_bits=8, precompute=False)
    stim = []
    for i in range(b):
        s, j = lut_encode_plane(codes, i)
        stim.append({"valid": 1, "load": int(i == 0), "clear": int(i == 0), "tables": harness.pack(tq[:, 0].ravel(), 8),
                     "sign": harness.pack(s, 1), "index": harness.pack(j, 3), "plane": i})
    out = harness.simulate(dut, stim + [{}] * 3).outputs[-1]
    P = np.array(harness.unpack(out["acc"], M * N, 32, signed=True)).reshape(M, N)
    w = quantize(codes, np.ones(N), np.zeros(N), f"uint{b}")
    ours = w.scale_prime * (tscale[:, 0, None] * P - w.zero_prime * rowsum[:, None])
    assert np.array_equal(ours, lut_mpgemm(A, codes, np.ones(N), np.zeros(N), f"uint{b}", "fp16", table_bits=8))


# ------------------------------------------------------------------------------------------ hash grid

def test_hash_grid_format_weights_sum_and_float_tolerance():
    """The corner weights sum to exactly 2^(D W); the engine format stays within its quantization error of
    tiny-cuda-nn's float32 interpolation: |fixed - float| <= 2^-E (output rounding) + 2^-W x 2 x max|feature|
    (weight truncation) + the fp16 rounding of the features (2^-11 relative)."""
    from archsim.rtl.hashgrid_model import encode_float, encode_level, grid_corners, level_config, \
        quantize_positions

    rng = np.random.default_rng(1)
    for dims, lv in ((3, 0), (3, 3), (2, 2)):
        cfg = level_config(lv, dims=dims, base_resolution=16, per_level_scale=1.5, log2_hashmap_size=12)
        table = rng.integers(-8192, 8192, (cfg.table_size, 2))
        x = rng.random((500, dims))
        X = quantize_positions(x)
        _, w = grid_corners(X, cfg, dims=dims)
        assert np.all(w.sum(axis=1) == 2 ** (dims * 8))
        got = encode_level(X, cfg, table, dims=dims) / 2 ** 12
        ref = encode_float(x, cfg, table, dims=dims)
        bound = 2 ** -12 + 2 * 2 ** -8 * np.abs(table).max() / 2 ** 12 * dims + 2 ** -11 * 2
        assert np.max(np.abs(got - ref)) <= bound
    assert level_config(0, dims=3, base_resolution=16, per_level_scale=2.0).dense
    assert not level_config(6, dims=3, base_resolution=16, per_level_scale=2.0).dense


# ------------------------------------------------------------------------------------------- attention

@pytest.mark.parametrize("in_bits, tol", [(8, 2e-2), (16, 1e-3)])
def test_attention_core_error_against_float_softmax(in_bits, tol):
    """Quantize q, K, V to in_bits, stream through the core, divide: max |error| <= tol x max |V| against
    float64 softmax(q K^T / sqrt(d)) V, over flat and sharp score distributions and 1 to 600 keys.
    (Measured: up to 1.3e-2 for INT8, where the INT8 rounding of q and K dominates on sharp distributions; the
    exp2 unit alone is within 2.5e-4 of 2^-x.)"""
    from archsim.rtl.attention_model import attention_fixed, attention_float, pow2neg

    rng = np.random.default_rng(8)
    worst = 0.0
    for trial in range(30):
        d, n = 128, int(rng.integers(1, 600))
        sharp = [0.3, 1.0, 3.0][trial % 3]
        q, K, V = rng.standard_normal(d) * sharp, rng.standard_normal((n, d)), rng.standard_normal((n, d))
        worst = max(worst, np.max(np.abs(attention_fixed(q, K, V, in_bits) - attention_float(q, K, V)))
                    / np.max(np.abs(V)))
    assert worst <= tol
    u = np.arange(0, 16 * 256)
    assert np.max(np.abs(pow2neg(u) / 2 ** 15 - 2.0 ** (-u / 256))) <= 2.6e-4


def test_attention_pages_continue_one_stream():
    """Feeding the keys page by page (InstInfer's 16-token pages) with the state carried gives the same state
    as one stream."""
    from archsim.rtl.attention_model import attention_core, quantize_symmetric, scale_register

    rng = np.random.default_rng(3)
    q, sq = quantize_symmetric(rng.standard_normal(64))
    K, sk = quantize_symmetric(rng.standard_normal((64, 64)))
    V, _ = quantize_symmetric(rng.standard_normal((64, 64)))
    scale, shift = scale_register(sq, sk, 64)
    whole = attention_core(q, K, V, scale, shift)
    state = None
    for p in range(4):
        state = attention_core(q, K[16 * p:16 * p + 16], V[16 * p:16 * p + 16], scale, shift, state)
    assert (state.mx, state.l) == (whole.mx, whole.l) and np.array_equal(state.o, whole.o)

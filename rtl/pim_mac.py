"""The PIM bank MAC unit of PIM-GPT (AiM-like GDDR6 PIM), in Amaranth, and its numpy model.

One unit sits in every DRAM bank. Per MAC command it takes one 256-bit column of the bank (``lanes`` = 16 bf16
weights) and the matching global-buffer column (16 bf16 inputs), multiplies them lane by lane, sums the 16
products with a balanced adder tree and adds the sum to the bank's accumulator. WR_BIAS loads the accumulator,
RD_MAC reads it out (and clears it after the last read of the command).

Arithmetic (the precision of the PIM-GPT functional model, ``archsim.cyclesim.dram.functional``):

* products: bf16 x bf16 -> binary32, round to nearest even (exact unless the result is subnormal or overflows);
* adder tree: log2(lanes) levels of binary32 additions, each rounded to nearest even, pairing (0,1), (2,3), ...
  at every level;
* accumulator: binary32, ``acc = fp32(acc + tree_sum)``; with ``accum="bf16"`` the new value is additionally
  rounded to bf16 (nearest even) after every column (a double rounding, exactly as the model does it);
* WR_BIAS loads a binary32 value unrounded, also in bf16 mode (as the model does);
* subnormals are kept (no flush to zero); a NaN result is the canonical 0x7FC00000 (:mod:`archsim.rtl.fp`).

Pipeline (II = 1, latency ``2 + log2(lanes)`` cycles, :func:`archsim.rtl.timing.pim_bank_mac_timing`): stage 1
multiplies, stages 2 .. 1 + log2(lanes) are the tree levels, the last stage updates the accumulator. Commands
travel down the pipeline in order with their operands, so a RD_MAC sees every MAC issued before it, and a new
command may enter every cycle.

Ports:

* ``op`` (2 bits): 0 none, 1 MAC, 2 WR_BIAS, 3 RD_MAC; ``clear``: with RD_MAC, clear the accumulator after reading
* ``weights``, ``inputs``: ``lanes`` x 16-bit bf16 patterns, lane ``i`` at bits ``[16 i, 16 i + 16)``
* ``bias``: a binary32 pattern (WR_BIAS)
* ``result`` (binary32 pattern), ``result_valid``: a RD_MAC's answer, ``latency`` cycles after it entered
"""

from __future__ import annotations

import numpy as np
from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

from archsim.base.numerics import to_bf16
from archsim.rtl.fp import bf16_mul, canonical_nan, fp32_add, round_fp32_to_bf16
from archsim.rtl.params import check_ints, refuse
from archsim.rtl.timing import pim_bank_mac_timing

__all__ = ["PimBankMac", "bank_mac_model", "OP_NONE", "OP_MAC", "OP_WR_BIAS", "OP_RD_MAC", "ACCUMS"]

OP_NONE, OP_MAC, OP_WR_BIAS, OP_RD_MAC = range(4)
ACCUMS = ("fp32", "bf16")


class PimBankMac(wiring.Component):
    """A bank's MAC unit: ``lanes`` bf16 multipliers (a power of two, 16 in AiM), an fp32 adder tree and an fp32
    (or bf16-rounded, ``accum="bf16"``) accumulator."""

    def __init__(self, lanes: int = 16, accum: str = "fp32"):
        (lanes,) = check_ints(self, "PimBankMac", lanes=lanes)
        if lanes < 2 or lanes & (lanes - 1):
            refuse(self, f"PimBankMac: lanes must be a power of two >= 2 (AiM has 16), got {lanes}")
        if accum not in ACCUMS:
            refuse(self, f"PimBankMac: accum must be one of {', '.join(ACCUMS)}, got {accum!r}")
        self.lanes, self.accum = lanes, accum
        self.timing = pim_bank_mac_timing(lanes)
        super().__init__({
            "op": In(2), "clear": In(1),
            "weights": In(16 * lanes), "inputs": In(16 * lanes), "bias": In(32),
            "result": Out(32), "result_valid": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        n = self.lanes
        # stage 1: the products
        op1, clr1, bias1 = Signal(2, name="op1"), Signal(name="clr1"), Signal(32, name="bias1")
        m.d.sync += [op1.eq(self.op), clr1.eq(self.clear), bias1.eq(self.bias)]
        level = []
        for i in range(n):
            prod = bf16_mul(m, self.weights[16 * i:16 * i + 16], self.inputs[16 * i:16 * i + 16], f"mul{i}")
            reg = Signal(32, name=f"p{i}")
            m.d.sync += reg.eq(prod)
            level.append(reg)
        op_s, clr_s, bias_s = op1, clr1, bias1
        # stages 2 .. 1 + log2(lanes): the adder tree, one level per stage
        for lv in range(ceil_log2(n)):
            nxt = []
            for j in range(len(level) // 2):
                total = fp32_add(m, level[2 * j], level[2 * j + 1], f"add{lv}_{j}")
                reg = Signal(32, name=f"t{lv}_{j}")
                m.d.sync += reg.eq(total)
                nxt.append(reg)
            op_n, clr_n, bias_n = Signal(2, name=f"op{lv + 2}"), Signal(name=f"clr{lv + 2}"), \
                Signal(32, name=f"bias{lv + 2}")
            m.d.sync += [op_n.eq(op_s), clr_n.eq(clr_s), bias_n.eq(bias_s)]
            level, op_s, clr_s, bias_s = nxt, op_n, clr_n, bias_n
        # last stage: the accumulator
        acc = Signal(32)
        summed = fp32_add(m, acc, level[0], "acc_add")
        if self.accum == "bf16":
            summed = round_fp32_to_bf16(m, summed, "acc_bf16")
        m.d.sync += self.result_valid.eq(op_s == OP_RD_MAC)
        with m.Switch(op_s):
            with m.Case(OP_MAC):
                m.d.sync += acc.eq(summed)
            with m.Case(OP_WR_BIAS):
                m.d.sync += acc.eq(bias_s)
            with m.Case(OP_RD_MAC):
                m.d.sync += self.result.eq(acc)
                with m.If(clr_s):
                    m.d.sync += acc.eq(0)
        return m


# ------------------------------------------------------------------------------------------- numpy model


def tree_sum(products: np.ndarray) -> np.ndarray:
    """Sum the last axis (a power of two) by a balanced tree of float32 additions, pairs (0,1), (2,3), ...;
    the same order and rounding as ``archsim.cyclesim.dram.functional.tree16`` (a test shows they agree)."""
    p = np.asarray(products, np.float32)
    while p.shape[-1] > 1:
        p = (p[..., 0::2] + p[..., 1::2]).astype(np.float32)
    return p[..., 0]


def bank_mac_model(commands, lanes: int = 16, accum: str = "fp32") -> np.ndarray:
    """What one bank's MAC unit computes for a command sequence; returns the RD_MAC results as uint32 bit
    patterns (NaNs canonical), in order.

    ``commands`` items: ``("mac", weights, inputs)`` with ``lanes`` bf16 values each (float32 arrays holding
    bf16-representable values, or uint16 bf16 bit patterns), ``("bias", value)`` (a float32, or a uint32 bit
    pattern), ``("rd", clear)``. The arithmetic is that of the PIM-GPT functional model: float32 products of
    bf16 values, :func:`tree_sum`, a float32 accumulator, rounded to bf16 after every column with
    ``accum="bf16"``.
    """
    if accum not in ACCUMS:
        raise ValueError(f"accum must be one of {ACCUMS}, got {accum!r}")
    acc = np.float32(0.0)
    out = []
    with np.errstate(all="ignore"):
        for cmd in commands:
            kind = cmd[0]
            if kind == "mac":
                w, g = (_bf16_values(x, lanes) for x in cmd[1:3])
                acc = np.float32(acc + tree_sum(w * g))
                if accum == "bf16":
                    acc = to_bf16(acc)[()]
            elif kind == "bias":
                v = cmd[1]
                acc = np.uint32(v).view(np.float32) if isinstance(v, (int, np.unsignedinteger)) else np.float32(v)
            elif kind == "rd":
                out.append(np.float32(acc).view(np.uint32))
                if cmd[1]:
                    acc = np.float32(0.0)
            else:
                raise ValueError(f"unknown bank MAC command {kind!r}; expected mac, bias or rd")
    return canonical_nan(np.array(out, np.uint32))


def _bf16_values(x, lanes: int) -> np.ndarray:
    a = np.asarray(x)
    if a.shape != (lanes,):
        raise ValueError(f"a MAC operand has {lanes} lanes, got shape {a.shape}")
    if a.dtype == np.uint16:
        return (a.astype(np.uint32) << 16).view(np.float32)
    return a.astype(np.float32)


def bf16_bits(values) -> np.ndarray:
    """float32 values (already bf16-representable) -> uint16 bf16 patterns."""
    return (np.asarray(values, np.float32).view(np.uint32) >> 16).astype(np.uint16)


# ------------------------------------------------------------------------------------------- testbench

EDGE_BF16 = np.array([0x0000, 0x8000, 0x0001, 0x8001, 0x007F, 0x0080, 0x0081, 0x3F80, 0xBF80, 0x3F81, 0x4000,
                      0x7F7F, 0xFF7F, 0x7F80, 0xFF80, 0x7FC0, 0x0100, 0x1F80, 0x2000, 0x5F80, 0x6000, 0x3400],
                     np.uint16)
"""bf16 patterns the edge-case vectors combine: signed zeros, the smallest and largest subnormals, the smallest
normals, 1 and its neighbours, the largest finite values, infinities, NaN, and exponents that make products and
sums underflow or overflow."""


def random_bf16(rng, shape, spread: int = 40) -> np.ndarray:
    """bf16 patterns: mostly normal values with exponents spread over +-``spread`` binades (so tree sums cancel,
    round and sometimes under/overflow), one in eight a raw random 16-bit pattern (any class, NaN included)."""
    with np.errstate(all="ignore"):
        vals = to_bf16(rng.standard_normal(shape) * np.exp2(rng.integers(-spread, spread + 1, shape)))
    bits = bf16_bits(vals)
    raw = rng.integers(0, 1 << 16, shape).astype(np.uint16)
    return np.where(rng.random(shape) < 0.125, raw, bits).astype(np.uint16)


class PimMacBench:
    """``n`` MAC commands (edge cases first, then random), a WR_BIAS every so often and a RD_MAC (clearing on
    every second one) after each group of 1 to 8 MACs, as one stimulus; :meth:`check` compares every RD_MAC
    result with :func:`bank_mac_model` bit for bit."""

    def __init__(self, dut: PimBankMac, n: int, seed: int = 0):
        from archsim.rtl.harness import pack

        rng = np.random.default_rng(seed)
        lanes = dut.lanes
        self.dut, self.commands, self.stimulus = dut, [], []
        edge = [(np.resize(np.roll(EDGE_BF16, i), lanes), np.resize(np.roll(EDGE_BF16[::-1], 3 * i), lanes))
                for i in range(len(EDGE_BF16))]
        macs = 0
        while macs < n:
            if rng.random() < 0.25:
                b = np.float32(rng.standard_normal() * 2.0 ** int(rng.integers(-20, 20)))
                self.commands.append(("bias", b))
                self.stimulus.append({"op": OP_WR_BIAS, "bias": int(b.view(np.uint32))})
            for _ in range(min(int(rng.integers(1, 9)), n - macs)):
                if macs < len(edge):
                    w, g = edge[macs]
                else:
                    w, g = random_bf16(rng, lanes), random_bf16(rng, lanes, spread=8)
                self.commands.append(("mac", w, g))
                self.stimulus.append({"op": OP_MAC, "weights": pack(w, 16), "inputs": pack(g, 16)})
                macs += 1
            clear = int(rng.random() < 0.5)
            self.commands.append(("rd", clear))
            self.stimulus.append({"op": OP_RD_MAC, "clear": clear})
        self.stimulus += [{}] * dut.timing.latency_cycles
        self.vectors = macs

    def expected(self) -> np.ndarray:
        return bank_mac_model(self.commands, self.dut.lanes, self.dut.accum)

    def results(self, outputs) -> np.ndarray:
        return canonical_nan(np.array([o["result"] for o in outputs if o["result_valid"]], np.uint32))

    def check(self, outputs) -> list[str]:
        got, want = self.results(outputs), self.expected()
        if len(got) != len(want):
            return [f"{len(got)} RD_MAC results, expected {len(want)}"]
        return [f"RD_MAC {i}: got 0x{a:08x}, model 0x{b:08x}" for i, (a, b) in enumerate(zip(got, want)) if a != b]

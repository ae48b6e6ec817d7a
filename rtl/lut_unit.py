"""The LUT dot-product unit of the LUT Tensor Core, in Amaranth.

One row of the elongated array: ``n_cols`` output cells share one 8-entry symmetric table (built from 4
activations). Each cycle one weight bit plane arrives: per column a sign bit ``c`` and a 3-bit index ``j``
(the offline encoding of ``workloads.lut_gemm.encode_weights``). Stage 1 selects ``T[j]`` with an 8:1 mux,
negates it when ``c`` is set and shifts it left by the plane number; stage 2 adds it into the column's
accumulator. ``clear`` starts a new accumulation. Latency and initiation interval are in
:data:`archsim.rtl.timing.LUT_DOT_UNIT`.

Ports (all synchronous to ``sync``):

* ``valid`` / ``clear``: a plane beat; ``clear`` resets the accumulators before this beat is added
* ``table``: 8 signed ``table_bits`` entries, entry ``e`` at bits ``[e*table_bits, (e+1)*table_bits)``
* ``sign``: ``n_cols`` bits; ``index``: ``n_cols`` x 3 bits; ``plane``: the bit position of this plane
* ``acc``: ``n_cols`` signed ``acc_bits`` accumulators, column ``n`` at bits ``[n*acc_bits, (n+1)*acc_bits)``
"""

from __future__ import annotations

from numbers import Integral

from amaranth.hdl import Array, Cat, Module, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

TABLE_ENTRIES = 8


class LutDotUnit(wiring.Component):
    def __init__(self, n_cols: int = 4, table_bits: int = 11, w_bits: int = 4, acc_bits: int = 32):
        args = {"n_cols": n_cols, "table_bits": table_bits, "w_bits": w_bits, "acc_bits": acc_bits}
        for name, value in args.items():
            if isinstance(value, bool) or not isinstance(value, Integral):
                self._MustUse__silence = True
                raise TypeError(f"LutDotUnit: {name} must be an int, got {type(value).__name__} {value!r}")
        n_cols, table_bits, w_bits, acc_bits = (int(v) for v in args.values())
        if n_cols < 1 or table_bits < 2 or not 1 <= w_bits <= 8 or acc_bits < table_bits + w_bits:
            self._MustUse__silence = True  # a rejected unit is not an unused design: no warning at exit
            raise ValueError("LutDotUnit: need n_cols >= 1, table_bits >= 2, 1 <= w_bits <= 8, "
                             "acc_bits >= table_bits + w_bits")
        self.n_cols, self.table_bits, self.w_bits, self.acc_bits = n_cols, table_bits, w_bits, acc_bits
        super().__init__({
            "valid": In(1),
            "clear": In(1),
            "table": In(unsigned(TABLE_ENTRIES * table_bits)),
            "sign": In(unsigned(n_cols)),
            "index": In(unsigned(3 * n_cols)),
            "plane": In(unsigned(max(1, ceil_log2(w_bits)))),
            "acc": Out(unsigned(n_cols * acc_bits)),
        })

    def elaborate(self, platform):
        m = Module()
        tb, ab = self.table_bits, self.acc_bits
        entries = Array(self.table[e * tb:(e + 1) * tb].as_signed() for e in range(TABLE_ENTRIES))
        # stage 1: mux, conditional negate, shift by the plane number
        s1_valid = Signal()
        s1_clear = Signal()
        s1_terms = [Signal(signed(ab), name=f"term{n}") for n in range(self.n_cols)]
        m.d.sync += [s1_valid.eq(self.valid), s1_clear.eq(self.valid & self.clear)]
        for n in range(self.n_cols):
            picked = entries[self.index[3 * n:3 * n + 3]]
            negated = Signal(signed(tb + 1), name=f"neg{n}")
            m.d.comb += negated.eq(picked)
            with m.If(self.sign[n]):
                m.d.comb += negated.eq(-picked)
            m.d.sync += s1_terms[n].eq(negated << self.plane)
        # stage 2: accumulate
        accs = [Signal(signed(ab), name=f"acc{n}") for n in range(self.n_cols)]
        for n in range(self.n_cols):
            with m.If(s1_valid):
                with m.If(s1_clear):
                    m.d.sync += accs[n].eq(s1_terms[n])
                with m.Else():
                    m.d.sync += accs[n].eq(accs[n] + s1_terms[n])
        m.d.comb += self.acc.eq(Cat(*accs))
        return m

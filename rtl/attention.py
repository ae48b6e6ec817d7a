"""The InstInfer attention engine core, in Amaranth: q.k dot-product lanes, an online (running-max) softmax in
fixed point, and the weighted accumulation of V, one key/value row per cycle.

The arithmetic is :mod:`archsim.rtl.attention_model` (bit for bit): formats, the base-2 exp approximation
(``pow2neg``: a 17-entry table of 2^(-i/16) with linear interpolation, then a right shift) and the update
``l = (l e_old >> PF) + e_new``, ``o_i = (o_i e_old >> PF) + e_new v_i``. The final division ``o / l`` happens
once per query and channel after the stream and is not part of the core.

Pipeline (II 1, latency ``3 + log2(head_dim)``, :func:`archsim.rtl.timing.attention_timing`): the d products
q_i k_i (1), a log2(d)-level adder tree, the scale into the base-2 logit t = (s scale) >> shift (1), the
online-softmax update of the running max, sum and value accumulators (1). V rows travel alongside the score.

Ports: ``q_load`` with ``q`` (d x in_bits, element i at bits [in_bits i, ...)) latches the query (at least one
cycle before its first key); ``valid``, ``first`` (this key starts a new stream), ``last`` (it ends one), ``k``,
``v`` (d x in_bits); the query's ``scale`` (16 bits) and ``shift`` (6 bits) registers, latched with ``q``; out ``mx`` (running max, TF
fractional bits), ``l`` (running sum, PF fractional bits), ``o`` (d accumulators), ``done`` (the state after a
``last`` key is on the outputs).
"""

from __future__ import annotations

import numpy as np
from amaranth.hdl import Array, Cat, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

from archsim.rtl.attention_model import EXP_TABLE, PF, SCALE_BITS, SHIFT_BITS, TF, attention_core, \
    quantize_symmetric, scale_register
from archsim.rtl.params import check_ints, refuse
from archsim.rtl.timing import attention_timing

__all__ = ["AttentionCore", "AttentionBench"]


class AttentionCore(wiring.Component):
    def __init__(self, head_dim: int = 128, in_bits: int = 8, key_bits: int = 16):
        head_dim, in_bits, key_bits = check_ints(self, "AttentionCore", head_dim=head_dim, in_bits=in_bits,
                                                 key_bits=key_bits)
        if head_dim < 2 or head_dim & (head_dim - 1):
            refuse(self, f"AttentionCore: head_dim must be a power of two >= 2 (OPT-13B: 128), got {head_dim}")
        if not 2 <= in_bits <= 16 or not 1 <= key_bits <= 32:
            refuse(self, f"AttentionCore: need 2 <= in_bits <= 16 and 1 <= key_bits <= 32 (up to 2^key_bits keys "
                         f"per stream), got in_bits={in_bits}, key_bits={key_bits}")
        self.head_dim, self.in_bits, self.key_bits = head_dim, in_bits, key_bits
        self.score_bits = 2 * in_bits + ceil_log2(head_dim)
        self.t_bits = self.score_bits + SCALE_BITS + 1
        self.l_bits = PF + 1 + key_bits
        self.o_bits = in_bits + PF + 2 + key_bits
        self.timing = attention_timing(head_dim)
        d = head_dim
        super().__init__({
            "q_load": In(1), "q": In(unsigned(d * in_bits)),
            "valid": In(1), "first": In(1), "last": In(1),
            "k": In(unsigned(d * in_bits)), "v": In(unsigned(d * in_bits)),
            "scale": In(unsigned(SCALE_BITS)), "shift": In(unsigned(SHIFT_BITS)),
            "mx": Out(unsigned(self.t_bits)), "l": Out(unsigned(self.l_bits)),
            "o": Out(unsigned(d * self.o_bits)), "done": Out(1),
        })

    def _pow2neg(self, m, u, name: str) -> Signal:
        """2^(-u / 2^TF) with PF fractional bits, u >= 0 (the table-and-interpolate exp unit)."""
        lo_bits = TF - 4
        table = Array(Const(v, PF + 1) for v in EXP_TABLE)
        n, hi, lo = u[TF:], u[lo_bits:TF], u[:lo_bits]
        a, b = table[hi], table[hi + 1]
        y = Signal(PF + 1, name=f"{name}_y")
        m.d.comb += y.eq(a - (((a - b) * lo) >> lo_bits))
        out = Signal(PF + 1, name=name)
        m.d.comb += out.eq(Mux(n > PF, 0, y >> n[:4]))
        return out

    def elaborate(self, platform):
        m = Module()
        d, ib = self.head_dim, self.in_bits
        q_reg, scale_reg, shift_reg = Signal(d * ib), Signal(SCALE_BITS), Signal(SHIFT_BITS)
        with m.If(self.q_load):
            m.d.sync += [q_reg.eq(self.q), scale_reg.eq(self.scale), shift_reg.eq(self.shift)]

        def delay(sig, name):
            reg = Signal(len(sig), name=name)
            m.d.sync += reg.eq(sig)
            return reg

        # stage 1: the products
        level = []
        for i in range(d):
            p = Signal(signed(2 * ib), name=f"qk{i}")
            m.d.sync += p.eq(q_reg[ib * i:ib * i + ib].as_signed() * self.k[ib * i:ib * i + ib].as_signed())
            level.append(p)
        ctl = delay(Cat(self.valid, self.first, self.last, scale_reg, shift_reg), "ctl1")  # travels along
        v = delay(self.v, "v1")
        # adder tree
        for lv in range(ceil_log2(d)):
            nxt = []
            for j in range(len(level) // 2):
                s = Signal(signed(len(level[0]) + 1), name=f"s{lv}_{j}")
                m.d.sync += s.eq(level[2 * j] + level[2 * j + 1])
                nxt.append(s)
            level = nxt
            ctl, v = delay(ctl, f"ctl{lv + 2}"), delay(v, f"v{lv + 2}")
        score = level[0]
        # scale into the base-2 logit domain
        t = Signal(signed(self.t_bits), name="t")
        m.d.sync += t.eq((score * ctl[3:3 + SCALE_BITS]) >> ctl[3 + SCALE_BITS:])
        ctl, v = delay(ctl, "ctl_t"), delay(v, "v_t")
        valid, first, last = ctl[0], ctl[1], ctl[2]
        # online softmax and V accumulation
        mx = Signal(signed(self.t_bits))
        l = Signal(unsigned(self.l_bits))
        o = [Signal(signed(self.o_bits), name=f"o{i}") for i in range(d)]
        new = Signal(signed(self.t_bits))
        m.d.comb += new.eq(Mux(first | (t > mx), t, mx))
        du_old, du_new = Signal(self.t_bits + 1), Signal(self.t_bits + 1)
        m.d.comb += [du_old.eq(new - mx), du_new.eq(new - t)]
        e_old = self._pow2neg(m, du_old, "e_old")
        e_new = self._pow2neg(m, du_new, "e_new")
        keep = Mux(first, 0, e_old)
        m.d.sync += self.done.eq(valid & last)
        with m.If(valid):
            m.d.sync += [mx.eq(new), l.eq(((l * keep) >> PF) + e_new)]
            for i in range(d):
                m.d.sync += o[i].eq(((o[i] * keep) >> PF) + e_new * v[ib * i:ib * i + ib].as_signed())
        m.d.comb += [self.mx.eq(mx), self.l.eq(l), self.o.eq(Cat(*o))]
        return m


class AttentionBench:
    """Streams of random real-valued q, K, V (quantized to ``in_bits``; some with sharp, some with flat score
    distributions, some with extreme codes), ``n`` keys in total over streams of 1 to 40 keys, the scale and
    shift registers from :func:`~archsim.rtl.attention_model.scale_register`. :meth:`check` compares the state
    (running max, sum, accumulators) at the end of every stream with :func:`attention_core` bit for bit."""

    def __init__(self, dut: AttentionCore, n: int, seed: int = 0):
        from archsim.rtl.harness import pack

        rng = np.random.default_rng(seed)
        d, ib = dut.head_dim, dut.in_bits
        qmax = (1 << (ib - 1)) - 1
        self.dut, self.stimulus, self.streams = dut, [], []
        keys = 0
        while keys < n:
            count = min(int(rng.integers(1, 41)), n - keys)
            sharp = float(rng.choice([0.5, 1.0, 4.0, 16.0]))
            qf, Kf, Vf = rng.standard_normal(d) * sharp, rng.standard_normal((count, d)), \
                rng.standard_normal((count, d))
            q, sq = quantize_symmetric(qf, ib)
            K, sk = quantize_symmetric(Kf, ib)
            V, _ = quantize_symmetric(Vf, ib)
            if len(self.streams) % 5 == 1:   # extreme codes: every product at its largest
                q, K, V = np.full(d, -qmax), np.full((count, d), -qmax), np.full((count, d), qmax)
            scale, shift = scale_register(sq, sk, d)
            self.stimulus.append({"q_load": 1, "q": pack(q, ib), "scale": scale, "shift": shift})
            for j in range(count):
                self.stimulus.append({"valid": 1, "first": int(j == 0), "last": int(j == count - 1),
                                      "k": pack(K[j], ib), "v": pack(V[j], ib)})
            self.stimulus += [{}] * int(rng.integers(0, 3))
            self.streams.append((q, K, V, scale, shift))
            keys += count
        self.stimulus += [{}] * dut.timing.latency_cycles
        self.vectors = keys

    def results(self, outputs):
        from archsim.rtl.harness import to_signed, unpack

        dut = self.dut
        return [(to_signed(o["mx"], dut.t_bits), o["l"], unpack(o["o"], dut.head_dim, dut.o_bits, signed=True))
                for o in outputs if o["done"]]

    def check(self, outputs) -> list[str]:
        got = self.results(outputs)
        if len(got) != len(self.streams):
            return [f"{len(got)} finished streams, expected {len(self.streams)}"]
        errs = []
        for i, ((mx, l, o), (q, K, V, scale, shift)) in enumerate(zip(got, self.streams)):
            st = attention_core(q, K, V, scale, shift)
            if (mx, l) != (st.mx, st.l) or list(st.o) != o:
                errs.append(f"stream {i}: (mx, l, o[0]) = ({mx}, {l}, {o[0]}), model ({st.mx}, {st.l}, {st.o[0]})")
        return errs

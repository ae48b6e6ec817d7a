"""The NGPC hash-grid input-encoding engine, in Amaranth: one level, one query per cycle, fully pipelined.

It implements the engine format of :mod:`archsim.rtl.hashgrid_model` (the NGPC engine format) bit for bit:
``pos_fract`` (scale the fixed-point position by the level-scale register, split cell and fraction),
``grid_index`` (dense row-major index mod T_l, or the XOR-of-primes hash masked to T_l, a power of two),
``interpol_weights`` (the 2^D corner weights, products of W-bit fractions), ``grid_sram`` (the level's feature
table, one word of F int16 features per entry, 2^D read ports so that all corners are read in one cycle; in
silicon a banked SRAM) and the weighted feature sum with round-half-up and int16 saturation.

Pipeline (latency 4, II 1, :func:`archsim.rtl.timing.hash_grid_timing`):
stage 1 ``pos_fract``; stage 2 corner indices and weights; stage 3 the SRAM read; stage 4 the weighted sum.

Ports: ``valid``, ``x`` (D x C-bit coordinates, dim d at bits [C d, C d + C)); configuration registers
``scale`` (S_l, P fractional bits), ``res`` (res_l), ``dense``, ``table_size`` (T_l), held constant while
queries are in flight; table load ``wr_en``, ``wr_addr``, ``wr_data`` (F x 16 bits); out ``out`` (F x int16,
E fractional bits), ``out_valid``.
"""

from __future__ import annotations

import numpy as np
from amaranth.hdl import Cat, Module, Mux, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from archsim.rtl.hashgrid_model import C_BITS, P_BITS, PRIMES, W_BITS, LevelConfig, encode_level, \
    level_config
from archsim.rtl.params import check_ints, refuse
from archsim.rtl.timing import hash_grid_timing

__all__ = ["HashGridEngine", "HashGridBench"]


class HashGridEngine(wiring.Component):
    def __init__(self, dims: int = 3, features: int = 2, log2_table: int = 10, scale_bits: int = 20,
                 res_bits: int = 12, c_bits: int = C_BITS, p_bits: int = P_BITS, w_bits: int = W_BITS):
        dims, features, log2_table, scale_bits, res_bits, c_bits, p_bits, w_bits = check_ints(
            self, "HashGridEngine", dims=dims, features=features, log2_table=log2_table, scale_bits=scale_bits,
            res_bits=res_bits, c_bits=c_bits, p_bits=p_bits, w_bits=w_bits)
        if dims not in (2, 3):
            refuse(self, f"HashGridEngine: dims must be 2 or 3 (GIA is 2-D, the other apps 3-D), got {dims}")
        if not 1 <= features <= 8 or not 3 <= log2_table <= 24:
            refuse(self, f"HashGridEngine: need 1 <= features <= 8 and 3 <= log2_table <= 24, got features="
                         f"{features}, log2_table={log2_table}")
        if not (1 <= p_bits < scale_bits and 1 <= w_bits <= c_bits + p_bits and c_bits >= 1 and res_bits >= 2):
            refuse(self, "HashGridEngine: need 1 <= p_bits < scale_bits, 1 <= w_bits <= c_bits + p_bits, "
                         "res_bits >= 2")
        self.dims, self.features, self.log2_table = dims, features, log2_table
        self.scale_bits, self.res_bits, self.c_bits, self.p_bits, self.w_bits = \
            scale_bits, res_bits, c_bits, p_bits, w_bits
        self.timing = hash_grid_timing(dims)
        self.sram_bits = 16 * features << log2_table   # the grid SRAM (a macro in silicon; synthesis keeps it)
        super().__init__({
            "valid": In(1), "x": In(unsigned(dims * c_bits)),
            "scale": In(unsigned(scale_bits)), "res": In(unsigned(res_bits)), "dense": In(1),
            "table_size": In(unsigned(log2_table + 1)),
            "wr_en": In(1), "wr_addr": In(unsigned(log2_table)), "wr_data": In(unsigned(16 * features)),
            "out": Out(unsigned(16 * features)), "out_valid": Out(1),
        })

    def check_config(self, cfg: LevelConfig) -> None:
        """Refuse a level the engine's registers cannot hold (checked before a bench drives it)."""
        if cfg.scale_fx >= 1 << self.scale_bits or cfg.resolution >= 1 << self.res_bits \
                or cfg.table_size > 1 << self.log2_table or cfg.resolution < 2:
            refuse(self, f"HashGridEngine: level {cfg.level} (S={cfg.scale_fx}, res={cfg.resolution}, "
                         f"T={cfg.table_size}) does not fit scale_bits={self.scale_bits}, res_bits="
                         f"{self.res_bits}, log2_table={self.log2_table} (or res < 2)")

    def elaborate(self, platform):
        m = Module()
        D, F, C, P, W, A = self.dims, self.features, self.c_bits, self.p_bits, self.w_bits, self.log2_table
        corners = 1 << D
        g_bits = self.scale_bits - P + 1
        m.submodules.sram = sram = Memory(shape=unsigned(16 * F), depth=1 << A, init=[])
        wp = sram.write_port()
        m.d.comb += [wp.en.eq(self.wr_en), wp.addr.eq(self.wr_addr), wp.data.eq(self.wr_data)]

        # stage 1: pos_fract
        v1 = Signal()
        g = [Signal(g_bits, name=f"g{d}") for d in range(D)]
        f = [Signal(W, name=f"f{d}") for d in range(D)]
        m.d.sync += v1.eq(self.valid)
        for d in range(D):
            p = Signal(C + self.scale_bits + 1, name=f"p{d}")
            m.d.comb += p.eq(self.x[C * d:C * d + C] * self.scale + (1 << (C + P - 1)))
            m.d.sync += [g[d].eq(p[C + P:]), f[d].eq(p[C + P - W:C + P])]

        # stage 2: grid_index and interpol_weights
        v2 = Signal()
        m.d.sync += v2.eq(v1)
        res = self.res
        res2 = Signal(2 * self.res_bits)
        m.d.comb += res2.eq(res * res)
        strides = [1, res, res2]
        mask = Signal(A)
        m.d.comb += mask.eq(self.table_size - 1)
        addr2, w2 = [], []
        for c in range(corners):
            q = [g[d] + ((c >> d) & 1) for d in range(D)]
            lin = Signal(g_bits + 1 + 2 * self.res_bits + 2, name=f"lin{c}")
            m.d.comb += lin.eq(sum(q[d] * strides[d] for d in range(D)))
            wrapped = Signal(len(lin), name=f"wrap{c}")     # lin < 2 T_l for a dense level (res >= 2)
            m.d.comb += wrapped.eq(Mux(lin >= self.table_size, lin - self.table_size, lin))
            hashed = Signal(A, name=f"hash{c}")              # only the low A bits survive the mask
            hx = q[0][:A] if len(q[0]) >= A else q[0]
            for d in range(1, D):
                hx = hx ^ (q[d] * (PRIMES[d] & ((1 << A) - 1)))[:A]
            m.d.comb += hashed.eq(hx & mask)
            addr = Signal(A, name=f"addr{c}")
            m.d.sync += addr.eq(Mux(self.dense, wrapped[:A], hashed))
            addr2.append(addr)
            factors = [Mux((c >> d) & 1, f[d], (1 << W) - f[d]) for d in range(D)]
            prod = factors[0]
            for fac in factors[1:]:
                prod = prod * fac
            w = Signal(D * (W + 1), name=f"w{c}")
            m.d.sync += w.eq(prod)
            w2.append(w)

        # stage 3: grid_sram read (synchronous read ports), weights delayed alongside
        v3 = Signal()
        m.d.sync += v3.eq(v2)
        feats, w3 = [], []
        for c in range(corners):
            rp = sram.read_port()
            m.d.comb += rp.addr.eq(addr2[c])
            feats.append(rp.data)
            w = Signal(len(w2[c]), name=f"w3_{c}")
            m.d.sync += w.eq(w2[c])
            w3.append(w)

        # stage 4: weighted sum, round half up, saturate to int16
        shift = D * W
        lo, hi = -(1 << 15), (1 << 15) - 1
        outs = []
        for k in range(F):
            acc = Signal(signed(16 + D * (W + 1) + D + 1), name=f"acc{k}")
            m.d.comb += acc.eq(sum(w3[c] * feats[c][16 * k:16 * k + 16].as_signed() for c in range(corners)))
            rounded = Signal(signed(len(acc) - shift + 1), name=f"rnd{k}")
            m.d.comb += rounded.eq((acc + (1 << (shift - 1))) >> shift)
            o = Signal(16, name=f"o{k}")
            m.d.sync += o.eq(Mux(rounded > hi, hi, Mux(rounded < lo, lo, rounded)))
            outs.append(o)
        m.d.sync += self.out_valid.eq(v3)
        m.d.comb += self.out.eq(Cat(*outs))
        return m


class HashGridBench:
    """Load a random int16 feature table (edge values included), then for each of a dense and a hashed level
    (tiny-cuda-nn's level scales) stream queries: edge positions (0, 1, cell boundaries, the half-way
    rounding points) and uniform random ones, ``n`` in total, with a drain gap when the level changes.
    :meth:`check` compares every output with :func:`~archsim.rtl.hashgrid_model.encode_level` bit for bit."""

    def __init__(self, dut: HashGridEngine, n: int, seed: int = 0, base_resolution: int = 4,
                 per_level_scale: float = 1.5):
        from archsim.rtl.harness import pack

        rng = np.random.default_rng(seed)
        self.dut, self.stimulus, self.queries = dut, [], []
        depth, F, D = 1 << dut.log2_table, dut.features, dut.dims
        table = rng.integers(-(1 << 15), 1 << 15, (depth, F))
        table[:8] = [[-(1 << 15)] * F, [(1 << 15) - 1] * F] * 4   # extremes to exercise the saturation
        self.table = table
        for a in range(depth):
            self.stimulus.append({"wr_en": 1, "wr_addr": a, "wr_data": pack(table[a], 16)})
        levels = []
        for lv in range(12):   # the first dense and the first hashed level of this grid
            cfg = level_config(lv, dims=D, base_resolution=base_resolution, per_level_scale=per_level_scale,
                               log2_hashmap_size=dut.log2_table)
            if not any(c.dense == cfg.dense for c in levels):
                levels.append(cfg)
        self.levels = levels
        per = -(-n // len(levels))
        C = dut.c_bits
        for li, cfg in enumerate(levels):
            dut.check_config(cfg)
            config = {"scale": cfg.scale_fx, "res": cfg.resolution, "dense": int(cfg.dense),
                      "table_size": cfg.table_size}
            edge = [0, (1 << C) - 1, 1 << (C - 1), 1, (1 << C) - 2]
            edge += [int(((k + 0.5) / cfg.scale_f32) * (1 << C)) % (1 << C) for k in range(4)]
            X = rng.integers(0, 1 << C, (per, D))
            for i, e in enumerate(edge[:per]):
                X[i] = np.roll([e, edge[(i + 1) % len(edge)], edge[(i + 2) % len(edge)]][:D], i)
            for row in X:
                self.stimulus.append({"valid": 1, "x": pack(row, C), **config})
                self.queries.append((li, row))
            self.stimulus += [dict(config)] * dut.timing.latency_cycles
        self.vectors = len(self.queries)

    def expected(self) -> np.ndarray:
        out = []
        for li, cfg in enumerate(self.levels):
            X = np.array([row for l, row in self.queries if l == li])
            out.append(encode_level(X, cfg, self.table[:cfg.table_size], dims=self.dut.dims,
                                    c_bits=self.dut.c_bits, p_bits=self.dut.p_bits, w_bits=self.dut.w_bits))
        return np.concatenate(out)

    def results(self, outputs) -> np.ndarray:
        from archsim.rtl.harness import unpack

        return np.array([unpack(o["out"], self.dut.features, 16, signed=True) for o in outputs if o["out_valid"]])

    def check(self, outputs) -> list[str]:
        got, want = self.results(outputs), self.expected()
        if got.shape != want.shape:
            return [f"{got.shape[0]} outputs, expected {want.shape[0]}"]
        bad = np.argwhere(got != want)
        return [f"query {q} feature {k}: got {got[q, k]}, model {want[q, k]}" for q, k in bad[:20]]


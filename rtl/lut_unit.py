"""The LUT Tensor Core's lookup datapath in Amaranth: the full array (:class:`LutArray`) and one row of it fed
with precomputed tables (:class:`LutDotUnit`), with the array's integer model and testbench.

:class:`LutArray` is the paper's M x N x K4 tile (default M2 N64): per row a table precompute (8 symmetric
entries from 4 activations), per cell an 8:1 lookup with conditional negate, bit-serial shift-accumulate over the
weight bit planes (the offline encoding of ``workloads.lut_gemm.encode_weights``). A table narrower than the
activation format needs (``act_bits + 3`` signed bits) is refused at construction instead of wrapping. Latency and
initiation interval: :func:`archsim.rtl.timing.lut_array_timing`; the cycle model's ``lmma_cycles`` is W_BIT
initiation intervals of this array.

:class:`LutDotUnit`, one row with the table as an input: stage 1 selects ``T[j]`` with an 8:1 mux, negates it
when ``c`` is set and shifts it left by the plane number; stage 2 adds it into the column's accumulator.
``clear`` starts a new accumulation. Timing: :data:`archsim.rtl.timing.LUT_DOT_UNIT`. Ports (``sync``):

* ``valid`` / ``clear``: a plane beat; ``clear`` resets the accumulators before this beat is added
* ``table``: 8 signed ``table_bits`` entries, entry ``e`` at bits ``[e*table_bits, (e+1)*table_bits)``
* ``sign``: ``n_cols`` bits; ``index``: ``n_cols`` x 3 bits; ``plane``: the bit position of this plane
* ``acc``: ``n_cols`` signed ``acc_bits`` accumulators, column ``n`` at bits ``[n*acc_bits, (n+1)*acc_bits)``
"""

from __future__ import annotations

from amaranth.hdl import Array, Cat, Module, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

from archsim.rtl.params import check_ints, refuse

TABLE_ENTRIES = 8
GROUP_K = 4


def table_bits_needed(act_bits: int) -> int:
    """Signed bits an exact table entry of 4 ``act_bits``-bit activations needs: |T| <= 4 * 2^(act_bits-1) =
    2^(act_bits+1), which needs act_bits + 3 bits in two's complement (11 for INT8: [-128]*4 gives 512)."""
    return act_bits + 3


def check_table_width(component, unit: str, act_bits: int, table_bits: int) -> None:
    if not 2 <= act_bits <= 16:
        refuse(component, f"{unit}: act_bits must be 2..16 (INT8 and INT16 activations), got {act_bits}")
    if table_bits < table_bits_needed(act_bits):
        refuse(component, f"{unit}: table_bits={table_bits} is too narrow for int{act_bits} activations: an "
                          f"exact table entry needs {table_bits_needed(act_bits)} signed bits (entry 0 of "
                          f"[{-(1 << (act_bits - 1))}]*4 is {1 << (act_bits + 1)}); widen the table or quantize the "
                          f"tables first (LutArray(precompute=False) takes quantized tables)")


class LutDotUnit(wiring.Component):
    """One row of the array fed with precomputed tables (``act_bits`` is the activation format the tables were
    built from: an exact table entry of 4 such activations needs ``act_bits + 3`` signed bits, and a narrower
    ``table_bits`` is refused instead of wrapping)."""

    def __init__(self, n_cols: int = 4, table_bits: int = 11, w_bits: int = 4, acc_bits: int = 32,
                 act_bits: int = 8):
        n_cols, table_bits, w_bits, acc_bits, act_bits = check_ints(
            self, "LutDotUnit", n_cols=n_cols, table_bits=table_bits, w_bits=w_bits, acc_bits=acc_bits,
            act_bits=act_bits)
        if n_cols < 1 or table_bits < 2 or not 1 <= w_bits <= 8 or acc_bits < table_bits + w_bits:
            refuse(self, "LutDotUnit: need n_cols >= 1, table_bits >= 2, 1 <= w_bits <= 8, "
                         "acc_bits >= table_bits + w_bits")
        check_table_width(self, "LutDotUnit", act_bits, table_bits)
        self.n_cols, self.table_bits, self.w_bits, self.acc_bits = n_cols, table_bits, w_bits, acc_bits
        self.act_bits = act_bits
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


# ------------------------------------------------------------------------------------------ the LUT array

_TABLE_SIGNS = [[2 * ((j >> k) & 1) - 1 for k in range(GROUP_K - 1)] for j in range(TABLE_ENTRIES)]


class LutArray(wiring.Component):
    """The LUT tensor-core array of the paper: an M x N tile of output cells over K = 4 activations per table.

    Each of the ``m`` rows builds its 8-entry symmetric table from 4 integer activations (``precompute``): entry
    ``j`` = ``-a0 + sum_k (2 bit_{k-1}(j) - 1) a_k`` (reference/lut-tensor-core.md step 3), latched when ``load``
    is set with a beat. With ``precompute=False`` the 8 entries come in precomputed instead (``tables``), e.g.
    the INT8-quantized tables of ``workloads.lut_gemm.quantize_tables`` built on the CUDA cores as in the paper.
    Every cycle one weight bit plane arrives, shared by all rows: per column a sign bit and a 3-bit index (the
    offline encoding of step 4). Cell (r, c) looks its row's table up with an 8:1 mux, negates the entry when the
    sign bit is set, shifts it by the plane number and adds it into its accumulator (bit-serial, W_BIT cycles per
    lmma). ``clear`` restarts the accumulators with this beat; without it, beats keep accumulating across K
    groups (the lmma's ``+ Accum``).

    Ports: ``valid``, ``load``, ``clear``; ``act`` (m x 4 signed ``act_bits``, row r element k at index 4r + k)
    or ``tables`` (m x 8 signed ``table_bits``, row r entry e at index 8r + e); ``sign`` (n bits), ``index``
    (n x 3 bits), ``plane``; out ``acc``: m x n signed ``acc_bits``, cell (r, c) at index r n + c. Timing:
    :func:`archsim.rtl.timing.lut_array_timing`.
    """

    def __init__(self, m: int = 2, n: int = 64, w_bits: int = 4, act_bits: int = 8, table_bits: int | None = None,
                 acc_bits: int = 32, precompute: bool = True):
        if table_bits is None:
            table_bits = table_bits_needed(act_bits) if isinstance(act_bits, int) else act_bits
        m, n, w_bits, act_bits, table_bits, acc_bits = check_ints(
            self, "LutArray", m=m, n=n, w_bits=w_bits, act_bits=act_bits, table_bits=table_bits,
            acc_bits=acc_bits)
        if not isinstance(precompute, bool):
            refuse(self, f"LutArray: precompute must be True or False, got {precompute!r}")
        if m < 1 or n < 1 or not 1 <= w_bits <= 4 or table_bits < 2:
            refuse(self, f"LutArray: need m >= 1, n >= 1, 1 <= w_bits <= 4 (INT1-INT4 weights), table_bits >= 2; "
                         f"got m={m}, n={n}, w_bits={w_bits}, table_bits={table_bits}")
        if acc_bits < table_bits + w_bits:
            refuse(self, f"LutArray: acc_bits={acc_bits} must be >= table_bits + w_bits = {table_bits + w_bits}")
        if precompute:
            check_table_width(self, "LutArray", act_bits, table_bits)
        self.m, self.n, self.w_bits, self.act_bits, self.table_bits, self.acc_bits = \
            m, n, w_bits, act_bits, table_bits, acc_bits
        self.precompute = precompute
        from archsim.rtl.timing import lut_array_timing
        self.timing = lut_array_timing()
        members = {"valid": In(1), "load": In(1), "clear": In(1)}
        if precompute:
            members["act"] = In(unsigned(m * GROUP_K * act_bits))
        else:
            members["tables"] = In(unsigned(m * TABLE_ENTRIES * table_bits))
        members.update({"sign": In(unsigned(n)), "index": In(unsigned(3 * n)),
                        "plane": In(unsigned(max(1, ceil_log2(w_bits)))),
                        "acc": Out(unsigned(m * n * acc_bits))})
        super().__init__(members)

    def elaborate(self, platform):
        mod = Module()
        tb, ab, n = self.table_bits, self.acc_bits, self.n
        # stage 1: precompute (or take) the tables, latch them on `load`; register the plane beat
        tables = []
        for r in range(self.m):
            regs = [Signal(signed(tb), name=f"t{r}_{e}") for e in range(TABLE_ENTRIES)]
            if self.precompute:
                ab_ = self.act_bits
                a = [self.act[(GROUP_K * r + k) * ab_:(GROUP_K * r + k + 1) * ab_].as_signed() for k in range(4)]
                entries = []
                for j in range(TABLE_ENTRIES):
                    total = -a[0]
                    for k in range(1, GROUP_K):
                        total = total + a[k] if _TABLE_SIGNS[j][k - 1] > 0 else total - a[k]
                    entries.append(total)
            else:
                entries = [self.tables[(TABLE_ENTRIES * r + e) * tb:(TABLE_ENTRIES * r + e + 1) * tb].as_signed()
                           for e in range(TABLE_ENTRIES)]
            with mod.If(self.valid & self.load):
                mod.d.sync += [reg.eq(val) for reg, val in zip(regs, entries)]
            tables.append(Array(regs))
        v1, c1 = Signal(), Signal()
        sign1, index1, plane1 = Signal(n), Signal(3 * n), Signal(len(self.plane))
        mod.d.sync += [v1.eq(self.valid), c1.eq(self.valid & self.clear), sign1.eq(self.sign),
                       index1.eq(self.index), plane1.eq(self.plane)]
        # stage 2: per cell 8:1 lookup, conditional negate, shift by the plane number
        v2, c2 = Signal(), Signal()
        mod.d.sync += [v2.eq(v1), c2.eq(c1)]
        terms = []
        for r in range(self.m):
            for c in range(n):
                picked = tables[r][index1[3 * c:3 * c + 3]]
                neg = Signal(signed(tb + 1), name=f"n{r}_{c}")
                mod.d.comb += neg.eq(picked)
                with mod.If(sign1[c]):
                    mod.d.comb += neg.eq(-picked)
                term = Signal(signed(ab), name=f"term{r}_{c}")
                mod.d.sync += term.eq(neg << plane1)
                terms.append(term)
        # stage 3: accumulate
        accs = [Signal(signed(ab), name=f"acc{i}") for i in range(self.m * n)]
        for acc, term in zip(accs, terms):
            with mod.If(v2):
                with mod.If(c2):
                    mod.d.sync += acc.eq(term)
                with mod.Else():
                    mod.d.sync += acc.eq(acc + term)
        mod.d.comb += self.acc.eq(Cat(*accs))
        return mod


# ------------------------------------------------------------------------------------------- numpy model


def lut_tables(act) -> "np.ndarray":
    """[M, 8] int64 tables of M rows of 4 activations: T[r][j] = -a0 + sum_k (2 bit_{k-1}(j) - 1) a_k."""
    import numpy as np

    a = np.asarray(act, np.int64).reshape(-1, GROUP_K)
    signs = np.array(_TABLE_SIGNS, np.int64)  # [8, 3]
    return -a[:, :1] + a[:, 1:] @ signs.T


def lut_encode_plane(q, plane: int):
    """Offline weight encoding of one bit plane of unsigned codes q[4, N]: sign c = bit of element 0 and index
    j = sum_k 2^(k-1) (bit_k XOR c). Returns (sign [N], index [N]) as int arrays."""
    import numpy as np

    bits = (np.asarray(q, np.int64) >> plane) & 1
    sign = bits[0]
    index = sum(((bits[k] ^ sign) << (k - 1)) for k in range(1, GROUP_K))
    return sign, index


def lut_array_model(beats, m: int, n: int, acc_bits: int = 32):
    """The accumulators of an M x N array after each beat. A beat is a dict with ``table`` ([m, 8] ints, the
    latched tables, or None to keep them), ``sign`` [n], ``index`` [n], ``plane`` and ``clear``. Returns a list of
    [m, n] int64 arrays (wrapped to ``acc_bits`` two's complement, as the registers hold them)."""
    import numpy as np

    acc = np.zeros((m, n), np.int64)
    table = np.zeros((m, TABLE_ENTRIES), np.int64)
    out, half = [], 1 << (acc_bits - 1)
    for beat in beats:
        if beat.get("table") is not None:
            table = np.asarray(beat["table"], np.int64).reshape(m, TABLE_ENTRIES)
        looked = table[:, np.asarray(beat["index"], np.int64)]
        term = np.where(np.asarray(beat["sign"], bool)[None, :], -looked, looked) << beat["plane"]
        acc = term if beat["clear"] else acc + term
        acc = (acc + half) % (1 << acc_bits) - half
        out.append(acc.copy())
    return out


class LutArrayBench:
    """``n_beats`` weight-plane beats: lmmas of random (and extreme: all -2^(a-1), all 2^(a-1)-1) activations and
    random weight codes, the accumulators cleared at the start of every output tile of 1 to 4 lmmas (K groups),
    idle cycles between some lmmas. :meth:`check` compares the accumulators of every cycle with
    :func:`lut_array_model`, shifted by the array latency."""

    def __init__(self, dut: LutArray, n_beats: int, seed: int = 0):
        import numpy as np

        from archsim.rtl.harness import pack

        rng = np.random.default_rng(seed)
        self.dut, self.stimulus, self.model_beats = dut, [], []
        lo, hi = -(1 << (dut.act_bits - 1)), (1 << (dut.act_bits - 1)) - 1
        qmax = (1 << (dut.table_bits - 1)) - 1
        beats, lmma = 0, 0
        while beats < n_beats:
            tile = int(rng.integers(1, 5))
            for g in range(tile):
                kind = lmma % 7
                if dut.precompute:
                    act = (np.full((dut.m, 4), lo) if kind == 0 else np.full((dut.m, 4), hi) if kind == 1
                           else rng.integers(lo, hi + 1, (dut.m, 4)))
                    table = lut_tables(act)
                    load = {"act": pack(act.ravel(), dut.act_bits)}
                else:
                    table = rng.integers(-qmax, qmax + 1, (dut.m, TABLE_ENTRIES))
                    load = {"tables": pack(table.ravel(), dut.table_bits)}
                q = rng.integers(0, 1 << dut.w_bits, (4, dut.n))
                for i in range(dut.w_bits):
                    sign, index = lut_encode_plane(q, i)
                    clear = int(g == 0 and i == 0)
                    beat = {"valid": 1, "load": int(i == 0), "clear": clear, "sign": pack(sign, 1),
                            "index": pack(index, 3), "plane": i}
                    if i == 0:
                        beat.update(load)
                    self.stimulus.append(beat)
                    self.model_beats.append({"table": table if i == 0 else None, "sign": sign, "index": index,
                                             "plane": i, "clear": clear})
                    beats += 1
                lmma += 1
                if rng.random() < 0.2:
                    noise = pack(rng.integers(0, 2, dut.n), 1)
                    self.stimulus.append({"sign": noise})  # idle (valid low): the inputs must be ignored
                    self.model_beats.append(None)
        self.stimulus += [{}] * dut.timing.latency_cycles
        self.model_beats += [None] * dut.timing.latency_cycles
        self.vectors = beats

    def expected(self):
        """The accumulators every cycle would show: the model's state after the beat `latency` cycles before."""
        import numpy as np

        dut, lat = self.dut, self.dut.timing.latency_cycles
        states = lut_array_model([b for b in self.model_beats if b is not None], dut.m, dut.n, dut.acc_bits)
        per_cycle, k, cur = [], 0, np.zeros((dut.m, dut.n), np.int64)
        after = []
        for b in self.model_beats:
            if b is not None:
                cur = states[k]
                k += 1
            after.append(cur)
        zero = np.zeros((dut.m, dut.n), np.int64)
        for t in range(len(self.stimulus)):
            per_cycle.append(after[t - lat] if t >= lat else zero)
        return per_cycle

    def check(self, outputs) -> list[str]:
        import numpy as np

        from archsim.rtl.harness import unpack

        dut, errs = self.dut, []
        for t, (o, want) in enumerate(zip(outputs, self.expected())):
            got = np.array(unpack(o["acc"], dut.m * dut.n, dut.acc_bits, signed=True)).reshape(dut.m, dut.n)
            if not np.array_equal(got, want):
                r, c = np.argwhere(got != want)[0]
                errs.append(f"cycle {t}: acc[{r},{c}] = {got[r, c]}, model {want[r, c]}")
        return errs

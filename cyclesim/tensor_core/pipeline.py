"""The tile pipeline of one GEMM kernel on a tensor-core GPU, simulated per SM with the event kernel.

Every SM runs identical thread blocks, so one SM is simulated: the busiest one, with ``ceil(blocks / SMs)``
blocks, at most ``occupancy`` resident at once (bounded by shared memory, registers, warps and the block limit),
and its share of the L2 and HBM bandwidth (the chip's bandwidth divided by the SMs that have work).

Per thread block and K step ``s`` the stages are (each in order within the block; resources are shared by the
resident blocks and served first come, first served):

1. **load** global -> shared memory of the step's A operand (the precomputed tables on the LUT path, the
   activations otherwise) and weight tile, on the SM's memory pipe; the data lands ``dram_latency_cycles``
   later. A load needs a free shared-memory stage: ``stages`` buffers, so with 2 the load of step s+1 overlaps
   the work on step s (double buffering);
2. **CUDA cores** (only if there is work): in-kernel table precompute (``tables='inline'``) or the dequantization
   of low-bit weights for a MAC tensor core;
3. **operand delivery** shared memory -> registers at the SM's shared-memory bandwidth: the table broadcast (each
   warp column reads the tables of its rows) and the weight bits / MMA fragments; two register buffers, so the
   delivery of step s+1 overlaps the tensor cores on step s; the shared-memory stage is freed when it is done;
4. **tensor cores**: every warp issues its ``lmma`` (or ``mma``) instructions; a LUT instruction occupies its
   tensor core for W_BIT cycles (bit-serial), a MAC instruction ``m n k / rate`` cycles; accumulation stays in
   registers. The warps of a block sit on ``min(warps, tensor cores)`` tensor cores.

After the last step the block runs its epilogue (scale / zero-point, on the CUDA cores) and stores its tile.

Time is integer ticks of 1/SUB cycle, so bandwidth-limited transfers are exact to 1/64 cycle; the result is
rounded up to whole cycles. The model is deterministic and stateless; results are memoized by value.
"""

from __future__ import annotations

import math
from fractions import Fraction
from dataclasses import dataclass
from functools import lru_cache

from archsim.base.errors import SimulationError
from archsim.cyclesim.clock import Timebase
from archsim.cyclesim.kernel import Resource, Simulator
from archsim.cyclesim.tensor_core.machine import (ACCUM_BYTES, EXACT_TABLE_BITS, GROUP_K, PRECOMPUTE_ADDS_PER_TABLE, SUB,
                                          TABLE_ENTRIES, TABLE_QUANT_OPS, THREAD_OVERHEAD_BYTES_PER_WARP,
                                          BlockCosts, Datapath, Footprint, Gemm, GemmTiming, Machine, Tiling,
                                          ceil_div, datapath, fmt_bits)

L2_RESIDENT_FRACTION = 0.5
"""[assumed] share of L2 that keeps the smaller GEMM operand resident while the larger one streams once."""
TABLE_SCALE_BYTES = 2  # one FP16 scale per quantized table (workloads.lut_gemm.quantize_tables); the
# default of the spec's table_scale_bytes
EPILOGUE_OPS_SCALED = 3  # z' x rowsum, subtract, x s' (LUT) / scale and zero (dequantized MAC)


# ------------------------------------------------------------------------------------------ per-block costs


def table_bytes_per_group(machine: Machine, a_format: str) -> float:
    """Bytes of one precomputed 8-entry table (plus its scale when the tables are quantized)."""
    entry = ceil_div(machine.table_bits, 8)
    quantized = machine.table_bits < EXACT_TABLE_BITS.get(a_format, 16)
    return TABLE_ENTRIES * entry + (machine.table_scale_bytes if quantized else 0)


def operand_bits(machine: Machine, gemm: Gemm) -> int:
    """Width of the A operand the MAC datapath reads (activations arrive already in the MMA format)."""
    if gemm.path == "mac":
        return fmt_bits(machine.mac_format)
    return 16  # dense path: FP16


def needs_dequant(machine: Machine, gemm: Gemm) -> bool:
    """A MAC datapath needs weights in its operand format: anything stored otherwise is converted in-kernel."""
    if gemm.path == "lut":
        return False
    return gemm.w_format != (machine.mac_format if gemm.path == "mac" else "fp16")


@dataclass(frozen=True)
class BlockPlan:
    """Everything the pipeline needs about one thread block of a tiled GEMM."""

    dp: Datapath
    k_steps: int
    full: BlockCosts
    last: BlockCosts
    store_bytes: float
    epilogue_ops: float
    active_warps: int
    footprint: Footprint
    blocks: int
    a_bytes_total: float  # the A operand (tables or activations) of the whole GEMM, once
    w_bytes_total: float
    out_bytes_total: float


def _step_costs(machine: Machine, gemm: Gemm, t: Tiling, dp: Datapath, rows: int, cols: int, kk: int) -> BlockCosts:
    wrows, wcols = min(t.warp_m, rows), min(t.warp_n, cols)
    w_bytes = kk * cols * gemm.w_bits / 8
    if gemm.path == "lut":
        groups = ceil_div(kk, GROUP_K)
        tables = rows * groups * table_bytes_per_group(machine, gemm.a_format)
        if gemm.tables == "inline":
            acts = rows * kk * fmt_bits(gemm.a_format) / 8
            load = acts + w_bytes
            quant = TABLE_QUANT_OPS if machine.table_bits < EXACT_TABLE_BITS.get(gemm.a_format, 16) else 0
            cuda = rows * groups * (PRECOMPUTE_ADDS_PER_TABLE + quant)
            smem = acts + tables + tables * t.wn + w_bytes * t.wm  # read acts, write tables, broadcast
        else:
            load, cuda = tables + w_bytes, 0.0
            smem = tables * t.wn + w_bytes * t.wm
    else:
        a_bytes = rows * kk * operand_bits(machine, gemm) / 8
        load = a_bytes + w_bytes
        cuda = kk * cols * machine.dequant_ops_per_weight if needs_dequant(machine, gemm) else 0.0
        smem = a_bytes * t.wn + w_bytes * t.wm
    per_warp = ceil_div(wrows, dp.m) * ceil_div(wcols, dp.n) * ceil_div(kk, dp.k)
    block_instr = ceil_div(rows, dp.m) * ceil_div(cols, dp.n) * ceil_div(kk, dp.k)
    return BlockCosts(load, cuda, smem, per_warp * dp.cycles, block_instr)


def footprint(machine: Machine, gemm: Gemm, t: Tiling, full: BlockCosts, dp: Datapath) -> Footprint:
    smem = t.stages * full.load_bytes
    if gemm.path == "lut":
        table_row = table_bytes_per_group(machine, gemm.a_format)
        if gemm.tables == "inline":
            smem += t.bm * ceil_div(t.bk, GROUP_K) * table_row
        frag = t.warp_m * (dp.k // GROUP_K) * table_row + dp.k * t.warp_n * gemm.w_bits / 8
    else:
        frag = (t.warp_m * dp.k + dp.k * t.warp_n) * operand_bits(machine, gemm) / 8
    regs = t.bm * t.bn * ACCUM_BYTES + t.warps * (THREAD_OVERHEAD_BYTES_PER_WARP + 2 * frag)
    smem, regs = math.ceil(smem), math.ceil(regs)
    limits = {"shared memory": machine.smem_bytes // smem if smem else machine.blocks_per_sm,
              "registers": machine.regfile_bytes // regs,
              "warps": machine.warps_per_sm // t.warps,
              "block slots": machine.blocks_per_sm}
    limit = min(limits, key=lambda k: (limits[k], list(limits).index(k)))
    return Footprint(smem, regs, t.warps, limits[limit], limit)


def plan_block(machine: Machine, gemm: Gemm, t: Tiling) -> BlockPlan:
    """Per-step costs, footprint and grid of a tiled GEMM (raises SimulationError for impossible tilings)."""
    dp = datapath(machine, gemm.path, gemm.w_bits)
    if t.warp_m % dp.m or t.warp_n % dp.n or t.bk % dp.k:
        raise SimulationError(f"tiling {t.describe()}: the warp tile must be a multiple of the {dp.path} "
                              f"instruction {dp.m}x{dp.n}x{dp.k} and bk a multiple of {dp.k}")
    if t.bk * gemm.w_bits % 8:
        raise SimulationError(f"tiling {t.describe()}: bk x weight bits must be whole bytes")
    rows, cols = min(t.bm, gemm.M), min(t.bn, gemm.N)
    ks = ceil_div(gemm.K, t.split_k)
    steps = ceil_div(ks, t.bk)
    last_k = ks - (steps - 1) * t.bk
    full = _step_costs(machine, gemm, t, dp, rows, cols, min(t.bk, ks))
    last = full if last_k == t.bk else _step_costs(machine, gemm, t, dp, rows, cols, last_k)
    out_bytes = fmt_bits(gemm.out_format) / 8 if t.split_k == 1 else ACCUM_BYTES
    scaled = gemm.path == "lut" or needs_dequant(machine, gemm)
    active_warps = ceil_div(rows, t.warp_m) * ceil_div(cols, t.warp_n)
    fp = footprint(machine, gemm, t, full, dp)
    blocks = gemm.batch * ceil_div(gemm.M, t.bm) * ceil_div(gemm.N, t.bn) * t.split_k
    if gemm.path == "lut" and gemm.tables == "global":
        a_row = ceil_div(gemm.K, GROUP_K) * table_bytes_per_group(machine, gemm.a_format)
    else:
        a_row = gemm.K * (fmt_bits(gemm.a_format) if gemm.path == "lut" else operand_bits(machine, gemm)) / 8
    return BlockPlan(dp, steps, full, last, rows * cols * out_bytes, rows * cols * (EPILOGUE_OPS_SCALED if scaled
                     else 1), active_warps, fp, blocks, gemm.batch * gemm.M * a_row,
                     gemm.batch * gemm.N * gemm.K * gemm.w_bits / 8,
                     gemm.batch * gemm.M * gemm.N * fmt_bits(gemm.out_format) / 8)


# ------------------------------------------------------------------------------------------ memory system


@dataclass(frozen=True)
class MemoryShare:
    """The SM's view of the memory system for one kernel."""

    active_sms: int
    load_bytes_per_cycle: float  # tile loads (L2, with the DRAM misses' share)
    store_bytes_per_cycle: float
    dram_bytes: float
    l2_bytes: float


def memory_share(machine: Machine, plan: BlockPlan) -> MemoryShare:
    """DRAM traffic: the larger operand streams once and the smaller stays in L2 if it fits in half of it,
    else the larger is re-read once per L2-sized chunk of the smaller [assumed rasterization]; the output is
    written once. Every tile load and store is an L2 access at the SM's share of the L2 bandwidth; the DRAM
    traffic (reads and write-backs) is charged to the loads, whose pipe therefore runs no faster than the SM's
    share of HBM divided by the loads' DRAM bytes per L2 byte."""
    a, w = plan.a_bytes_total, plan.w_bytes_total
    small, large = min(a, w), max(a, w)
    resident = machine.l2_bytes * L2_RESIDENT_FRACTION
    dram_read = small + large * (1 if small <= resident else ceil_div(math.ceil(small), math.ceil(resident)))
    per_block = (plan.k_steps - 1) * plan.full.load_bytes + plan.last.load_bytes
    l2_read = plan.blocks * per_block
    dram_read = min(dram_read, l2_read)
    dram = dram_read + plan.out_bytes_total
    ratio = dram / l2_read if l2_read else 0.0
    active = min(machine.sms, plan.blocks)
    l2_share = machine.l2_bw_bytes_per_cycle / active
    hbm_share = machine.hbm_bytes_per_cycle / active
    load_bw = min(l2_share, hbm_share / ratio) if ratio > 0 else l2_share
    return MemoryShare(active, load_bw, l2_share, dram, l2_read + plan.blocks * plan.store_bytes)


# ------------------------------------------------------------------------------------------ analytic estimate


def estimate_cycles(machine: Machine, gemm: Gemm, t: Tiling) -> float | None:
    """A closed-form steady-state estimate used to rank tilings before the exact simulation (None: does not
    fit). Per step the SM is bound by the busiest shared resource or by a block's own latency chain."""
    plan = plan_block(machine, gemm, t)
    occ = plan.footprint.occupancy
    if occ < 1:
        return None
    mem = memory_share(machine, plan)
    n_blocks = ceil_div(plan.blocks, machine.sms)
    conc = min(occ, n_blocks)
    f = plan.full
    lt = f.load_bytes / mem.load_bytes_per_cycle
    ct = f.cuda_ops / machine.cuda_ops_per_cycle
    rt = f.smem_bytes / machine.smem_bw_bytes_per_cycle
    u = min(plan.active_warps, machine.tensor_cores)
    tt = ceil_div(plan.active_warps, machine.tensor_cores) * f.warp_cycles
    period = max(conc * lt, conc * ct, conc * rt, tt * max(1.0, conc * u / machine.tensor_cores),
                 tt, (lt + machine.dram_latency_cycles + ct + rt) / t.stages)
    fill = machine.dram_latency_cycles + lt + ct + rt + tt
    epi = plan.store_bytes / mem.store_bytes_per_cycle + plan.epilogue_ops / machine.cuda_ops_per_cycle
    return ceil_div(n_blocks, conc) * (plan.k_steps * period + fill + epi)


# ------------------------------------------------------------------------------------------ exact simulation


class _Lanes:
    """The SM's tensor cores: a block's step takes ``u`` of them (the earliest free) for ``d`` ticks."""

    __slots__ = ("free", "busy")

    def __init__(self, n: int):
        self.free = [0] * n
        self.busy = 0

    def reserve(self, now: int, u: int, d: int) -> int:
        free = self.free
        order = sorted(range(len(free)), key=free.__getitem__)[:u]
        start = max(now, max(free[i] for i in order))
        for i in order:
            free[i] = start + d
        self.busy += u * d
        return start


class _SmPipeline:
    """One SM running ``n_blocks`` identical thread blocks, ``conc`` at a time."""

    def __init__(self, machine: Machine, plan: BlockPlan, mem: MemoryShare, t: Tiling, n_blocks: int, conc: int):
        self.sim = Simulator(Timebase({"sm": machine.freq_mhz * SUB}))
        self.t, self.plan = t, plan
        self.k_steps = plan.k_steps
        self.lat = machine.dram_latency_cycles * SUB

        def ticks(amount: float, rate: float) -> int:
            return math.ceil(amount * SUB / rate) if amount else 0

        u = min(plan.active_warps, machine.tensor_cores)
        rounds = ceil_div(plan.active_warps, machine.tensor_cores)
        self.u = u
        self.costs = []
        for c in (plan.full, plan.last):
            self.costs.append((ticks(c.load_bytes, mem.load_bytes_per_cycle),
                               ticks(c.cuda_ops, machine.cuda_ops_per_cycle),
                               ticks(c.smem_bytes, machine.smem_bw_bytes_per_cycle),
                               math.ceil(rounds * c.warp_cycles * SUB / machine.mma_issue_fraction)))
        self.epi_t = ticks(plan.epilogue_ops, machine.cuda_ops_per_cycle)
        self.store_t = ticks(plan.store_bytes, mem.store_bytes_per_cycle)
        self.gmem, self.cuda, self.smem = Resource("gmem"), Resource("cuda"), Resource("smem")
        self.tc = _Lanes(machine.tensor_cores)
        self.left = n_blocks
        self.conc = conc
        self.end = 0
        # per slot state: [staged set, next read, reading, reads done, next compute, computing, computed]
        self.state: list[list] = []

    def cost(self, s: int) -> tuple[int, int, int, int]:
        return self.costs[1] if s == self.k_steps - 1 else self.costs[0]

    def run(self) -> int:
        for slot in range(self.conc):
            self.state.append(None)
            self._start_block(slot)
        self.sim.run()
        return self.end

    # -- block lifecycle ------------------------------------------------------------------------------------
    def _start_block(self, slot: int) -> None:
        self.left -= 1
        self.state[slot] = [set(), 0, False, -1, 0, False, -1]
        for s in range(min(self.t.stages, self.k_steps)):
            self._load(slot, s)

    def _load(self, slot: int, s: int) -> None:
        d = self.cost(s)[0]
        start = self.gmem.reserve(self.sim.now, d)
        self.sim.at(start + d + self.lat, self._loaded, (slot, s))

    def _loaded(self, arg) -> None:
        slot, s = arg
        d = self.cost(s)[1]
        if d:
            start = self.cuda.reserve(self.sim.now, d)
            self.sim.at(start + d, self._staged, arg)
        else:
            self._staged(arg)

    def _staged(self, arg) -> None:
        slot, s = arg
        self.state[slot][0].add(s)
        self._try_read(slot)

    def _try_read(self, slot: int) -> None:
        st = self.state[slot]
        r = st[1]
        if st[2] or r >= self.k_steps or r not in st[0] or st[6] < r - 2:
            return
        st[2] = True
        d = self.cost(r)[2]
        start = self.smem.reserve(self.sim.now, d)
        self.sim.at(start + d, self._read_done, (slot, r))

    def _read_done(self, arg) -> None:
        slot, r = arg
        st = self.state[slot]
        st[0].discard(r)
        st[1], st[2], st[3] = r + 1, False, r
        if r + self.t.stages < self.k_steps:
            self._load(slot, r + self.t.stages)
        self._try_compute(slot)
        self._try_read(slot)

    def _try_compute(self, slot: int) -> None:
        st = self.state[slot]
        c = st[4]
        if st[5] or c >= self.k_steps or st[3] < c:
            return
        st[5] = True
        d = self.cost(c)[3]
        start = self.tc.reserve(self.sim.now, self.u, d)
        self.sim.at(start + d, self._computed, (slot, c))

    def _computed(self, arg) -> None:
        slot, c = arg
        st = self.state[slot]
        st[4], st[5], st[6] = c + 1, False, c
        if c == self.k_steps - 1:
            start = self.cuda.reserve(self.sim.now, self.epi_t) if self.epi_t else self.sim.now
            self.sim.at(start + self.epi_t, self._store, slot)
            return
        self._try_compute(slot)
        self._try_read(slot)

    def _store(self, slot: int) -> None:
        start = self.gmem.reserve(self.sim.now, self.store_t)
        self.sim.at(start + self.store_t, self._block_done, slot)

    def _block_done(self, slot: int) -> None:
        self.end = max(self.end, self.sim.now)
        if self.left > 0:
            self._start_block(slot)


def simulate_gemm(machine: Machine, gemm: Gemm, tiling: Tiling) -> GemmTiming:
    """Cycles (SM clock) and energy of one GEMM kernel with the given tiling; see the module docstring."""
    return _simulate(machine, gemm, tiling)


@lru_cache(maxsize=65536)
def _simulate(machine: Machine, gemm: Gemm, t: Tiling) -> GemmTiming:
    plan = plan_block(machine, gemm, t)
    fp = plan.footprint
    if fp.occupancy < 1:
        raise SimulationError(f"tiling {t.describe()} does not fit one SM of {machine.name}: a block needs "
                              f"{fp.smem_bytes} B shared memory, {fp.reg_bytes} B registers, {fp.warps} warps "
                              f"(limit: {fp.limit})")
    mem = memory_share(machine, plan)
    n_blocks = ceil_div(plan.blocks, machine.sms)
    conc = min(fp.occupancy, n_blocks)
    sm = _SmPipeline(machine, plan, mem, t, n_blocks, conc)
    end = sm.run()
    cycles = max(1, ceil_div(end, SUB))
    dp = plan.dp
    instr = plan.blocks * ((plan.k_steps - 1) * plan.full.instructions + plan.last.instructions)
    array_cycles = instr * dp.cycles * (machine.arrays_per_tc if dp.path == "lut" else 0)
    energy = {}
    if dp.path == "lut":
        pj = machine.array_pj(gemm.a_format)
        if pj is not None:
            energy["tensor_core"] = array_cycles * pj
    elif dp.path == "mac":
        energy["tensor_core"] = instr * dp.macs * machine.mac_pj_per_mac
    else:
        energy["tensor_core"] = instr * dp.macs * machine.fp16_pj_per_mac
    energy["hbm"] = mem.dram_bytes * 8 * machine.hbm_pj_per_bit
    busy = {"tensor": sm.tc.busy / (machine.tensor_cores * end) if end else 0.0,
            "memory": sm.gmem.busy_ticks / end if end else 0.0,
            "smem": sm.smem.busy_ticks / end if end else 0.0,
            "cuda": sm.cuda.busy_ticks / end if end else 0.0}
    bound = max(busy, key=lambda k: (busy[k], -list(busy).index(k)))
    if busy[bound] < 0.6:
        bound = "latency"
    return GemmTiming(cycles=cycles, gemm=gemm, tiling=t, blocks=plan.blocks, blocks_per_sm=n_blocks,
                      occupancy=fp.occupancy, waves=plan.blocks / (machine.sms * fp.occupancy),
                      dram_bytes=mem.dram_bytes, l2_bytes=mem.l2_bytes, tc_busy_fraction=busy["tensor"],
                      array_cycles=array_cycles, macs_issued=instr * dp.macs, energy_pj=energy, bound=bound)


# ------------------------------------------------------------------------------------------ microbenchmarks


def measured_peak_ops_per_s(machine: Machine, path: str, w_bits: int = 16, a_format: str = "int8") -> Fraction:
    """The chip's compute peak as the cycle model delivers it: one block per SM with one instruction tile per
    warp on every tensor core, the memory system made unlimited, and the steady-state cycles per K step measured
    from two runs of different length. Exact (a Fraction of operations per second)."""
    from dataclasses import replace

    free = replace(machine, hbm_bw_gb_per_s=1e18, l2_bw_bytes_per_cycle=1e15, smem_bw_bytes_per_cycle=1e15,
                   cuda_ops_per_cycle=1e15, dram_latency_cycles=0, smem_bytes=1 << 40, regfile_bytes=1 << 40)
    dp = datapath(machine, path, w_bits)
    wm = machine.tensor_cores
    w_fmt = {"lut": f"uint{w_bits}", "mac": machine.mac_format, "dense": "fp16"}[path]
    a_fmt = a_format if path == "lut" else w_fmt
    bk = 32 * dp.k
    t = Tiling(dp.m * wm, dp.n, bk, wm, 1, 2)
    ends = []
    for steps in (8, 16):
        g = Gemm(dp.m * wm, dp.n, bk * steps, path, a_fmt, w_fmt, batch=machine.sms)
        plan = plan_block(free, g, t)
        sm = _SmPipeline(free, plan, memory_share(free, plan), t, 1, 1)
        ends.append(sm.run())
    period_ticks = Fraction(ends[1] - ends[0], 8)
    macs_per_step = t.bm * t.bn * t.bk
    return Fraction(macs_per_step * machine.sms * 2 * SUB) * Fraction(str(machine.freq_mhz)) * 10**6 / period_ticks

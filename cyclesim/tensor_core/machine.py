"""Plain data of the tile-level tensor-core GPU model: the machine, a GEMM, its tiling, the datapath running it.

``Machine`` is read from one ``LutTensorCoreGPU`` or ``MacTensorCoreGPU`` component (arch/kinds/tensor_core.py).
A ``Gemm`` names the work (shape, formats, which datapath); a ``Tiling`` is the mapper's choice (thread-block
tile, warp grid, K step, pipeline stages, split-K). ``datapath(machine, gemm)`` is the instruction the tensor
cores execute and its cost in cycles: a LUT instruction takes W_BIT cycles (one weight bit plane per cycle);
a MAC instruction takes ``tile_m x tile_n x tile_k / macs_per_cycle`` cycles.

All of these are frozen and hashable so results can be memoized by value.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from archsim.base.errors import MappingError, SimulationError
from archsim.base.numerics import DTYPE_BITS
from archsim.rtl.timing import lmma_cycles

LUT_IMPL = "LutTensorCoreGPU"
MAC_IMPL = "MacTensorCoreGPU"
IMPLS = (LUT_IMPL, MAC_IMPL)

PATHS = ("lut", "mac", "dense")
"""Datapaths: the LUT arrays, the MAC tensor core of a MAC GPU, and the FP16 dense path of every GPU."""

TABLE_ENTRIES = 8
GROUP_K = 4
PRECOMPUTE_ADDS_PER_TABLE = 10  # workloads.lut_gemm.LutOpCounts.precompute_adds_per_table
TABLE_QUANT_OPS = 13  # [assumed] per quantized table: |a| sum (4), reciprocal (1), scale-and-round 8 entries (8)
EXACT_TABLE_BITS = {"int8": 11, "int16": 19, "fp16": 16, "fp8_e4m3": 16}
"""Bits a table entry needs to hold a sum of four activations exactly (floats: an FP16 entry)."""
ACCUM_BYTES = 4  # INT32 / FP32 accumulators
THREAD_OVERHEAD_BYTES_PER_WARP = 32 * 32 * 4  # [assumed] 32 registers per thread for addresses and loop state
SUB = 64  # simulation ticks per cycle: bandwidth-limited transfers are timed to 1/64 of a cycle


def fmt_bits(fmt: str) -> int:
    try:
        return DTYPE_BITS[fmt]
    except KeyError:
        raise SimulationError(f"unknown data format {fmt!r}; expected one of: {', '.join(DTYPE_BITS)}") from None


@dataclass(frozen=True)
class Machine:
    """GPU-level and tensor-core parameters of one configuration (per SM unless named otherwise)."""

    impl: str
    name: str
    sms: int
    tensor_cores: int  # per SM
    freq_mhz: float
    memory_bytes: int
    hbm_bw_gb_per_s: float
    hbm_efficiency: float
    dram_latency_cycles: int
    l2_bytes: int
    l2_bw_bytes_per_cycle: float  # whole chip
    smem_bytes: int
    smem_bw_bytes_per_cycle: float
    regfile_bytes: int
    warps_per_sm: int
    blocks_per_sm: int
    cuda_ops_per_cycle: float
    sfu_ops_per_cycle: float
    fp16_macs_per_cycle: int  # per SM, dense path
    fp16_pj_per_mac: float
    kernel_overhead_us: float
    hbm_pj_per_bit: float
    mma_issue_fraction: float = 1.0
    # LUT tensor core
    arrays_per_tc: int = 0
    array_tile: tuple[int, int, int] = (2, 64, 4)
    stacking: str = "m"
    max_weight_bits: int = 4
    act_formats: tuple[str, ...] = ()
    table_bits: int = 8
    table_scale_bytes: float = 2.0
    array_area_um2: tuple[tuple[str, float], ...] = ()
    array_energy_pj: tuple[tuple[str, float], ...] = ()
    # MAC tensor core
    mac_format: str = "fp16"
    macs_per_tc_per_cycle: int = 0
    mac_tile: tuple[int, int, int] = (16, 8, 16)
    tc_area_mm2: float = 0.0
    mac_pj_per_mac: float = 0.0
    dequant_ops_per_weight: float = 1.0

    @classmethod
    def from_params(cls, impl: str, params: dict, name: str = "") -> Machine:
        if impl not in IMPLS:
            raise SimulationError(f"a tensor-core GPU model needs impl {' or '.join(IMPLS)}, got {impl!r}")
        p = params
        common = dict(
            impl=impl, name=name or p["model"], sms=p["sms"], tensor_cores=p["tensor_cores_per_sm"],
            freq_mhz=p["freq_mhz"], memory_bytes=p["memory_bytes"], hbm_bw_gb_per_s=p["hbm_bw_gb_per_s"],
            hbm_efficiency=p["hbm_efficiency_fraction"], dram_latency_cycles=p["dram_latency_cycles"],
            l2_bytes=p["l2_bytes"], l2_bw_bytes_per_cycle=p["l2_bw_bytes_per_cycle"],
            smem_bytes=p["smem_per_sm_bytes"], smem_bw_bytes_per_cycle=p["smem_bw_bytes_per_cycle"],
            regfile_bytes=p["regfile_per_sm_bytes"], warps_per_sm=p["warps_per_sm"],
            blocks_per_sm=p["num_blocks_per_sm"], cuda_ops_per_cycle=p["cuda_core_ops_per_cycle"],
            sfu_ops_per_cycle=p["sfu_ops_per_cycle"], fp16_macs_per_cycle=p["fp16_macs_per_sm_per_cycle"],
            fp16_pj_per_mac=p["fp16_energy_pj_per_mac"], kernel_overhead_us=p["kernel_overhead_us"],
            hbm_pj_per_bit=p["hbm_energy_pj_per_bit"], mma_issue_fraction=p.get("mma_issue_fraction", 1.0))
        if impl == LUT_IMPL:
            fmts = tuple(f.strip() for f in p["act_formats"].split(",") if f.strip())
            return cls(**common, arrays_per_tc=p["lut_arrays_per_tensor_core"],
                       array_tile=(p["tile_m"], p["tile_n"], p["tile_k"]), stacking=p["array_stacking"],
                       max_weight_bits=p["max_weight_bits"], act_formats=fmts, table_bits=p["table_bits"],
                       table_scale_bytes=p.get("table_scale_bytes", 2.0),
                       array_area_um2=tuple(sorted(p["array_area_um2"].items())),
                       array_energy_pj=tuple(sorted(p["array_energy_pj"].items())))
        return cls(**common, mac_format=p["mac_format"], macs_per_tc_per_cycle=p["macs_per_tensor_core_per_cycle"],
                   mac_tile=(p["tile_m"], p["tile_n"], p["tile_k"]), tc_area_mm2=p["tensor_core_area_mm2"],
                   mac_pj_per_mac=p["mac_energy_pj_per_mac"], dequant_ops_per_weight=p["n_dequant_ops_per_weight"])

    @classmethod
    def from_spec(cls, spec) -> Machine:
        """The machine of the first tensor-core GPU component of an architecture spec."""
        for comp in spec.walk():
            if comp.impl in IMPLS:
                return cls.from_params(comp.impl, comp.params, name=comp.params["model"])
        raise MappingError(f"expected a component with impl {' or '.join(IMPLS)} (family tensor_core_gpu)",
                           file=spec.file, key="components")

    # -- derived ------------------------------------------------------------------------------------------
    @property
    def is_lut(self) -> bool:
        return self.impl == LUT_IMPL

    @property
    def hz(self) -> float:
        return self.freq_mhz * 1e6

    @property
    def hbm_bytes_per_cycle(self) -> float:
        """Sustained HBM bandwidth of the chip, bytes per SM-clock cycle."""
        return self.hbm_bw_gb_per_s * 1e9 * self.hbm_efficiency / self.hz

    def area_um2(self, act_format: str) -> float | None:
        return dict(self.array_area_um2).get(act_format)

    def array_pj(self, act_format: str) -> float | None:
        return dict(self.array_energy_pj).get(act_format)

    def tc_area_per_sm_mm2(self, act_format: str | None = None) -> float | None:
        """Area of the tensor cores of one SM (the LUT arrays, or the MAC tensor cores); None if unknown."""
        if self.is_lut:
            a = self.area_um2(act_format or self.act_formats[0])
            return None if a is None else a * 1e-6 * self.arrays_per_tc * self.tensor_cores
        return self.tc_area_mm2 * self.tensor_cores if self.tc_area_mm2 else None

    def peak_macs_per_cycle(self, path: str, w_bits: int = 16) -> float:
        """MACs per SM per cycle of a datapath at full rate (a LUT MAC is one W_BIT-bit weight times one
        activation): N_TC x X x (tile_m tile_n tile_k) / W_BIT for LUT arrays."""
        dp = datapath(self, path, w_bits)
        return self.tensor_cores * dp.macs / dp.cycles

    def peak_ops_per_s(self, path: str, w_bits: int = 16) -> float:
        """Chip peak in operations per second (a MAC is 2 operations)."""
        return self.sms * self.peak_macs_per_cycle(path, w_bits) * 2 * self.hz


@dataclass(frozen=True)
class Datapath:
    """One tensor-core instruction: shape ``m x n x k`` and cycles on one tensor core (pipelined issue)."""

    path: str
    m: int
    n: int
    k: int
    cycles: int

    @property
    def macs(self) -> int:
        return self.m * self.n * self.k


def datapath(machine: Machine, path: str, w_bits: int = 16) -> Datapath:
    if path == "lut":
        if not machine.is_lut:
            raise SimulationError(f"{machine.name} has no LUT arrays; expected path 'mac' or 'dense'")
        tm, tn, tk = machine.array_tile
        x = machine.arrays_per_tc
        m, n = (tm * x, tn) if machine.stacking == "m" else (tm, tn * x)
        return Datapath("lut", m, n, tk, lmma_cycles(w_bits))  # the RTL LUT unit's rate (rtl/timing.py)
    if path == "mac":
        if machine.is_lut:
            raise SimulationError(f"{machine.name} has LUT tensor cores; expected path 'lut' or 'dense'")
        m, n, k = machine.mac_tile
        return Datapath("mac", m, n, k, m * n * k // machine.macs_per_tc_per_cycle)
    if path == "dense":
        per_tc = machine.fp16_macs_per_cycle // machine.tensor_cores
        return Datapath("dense", 16, 8, 16, 16 * 8 * 16 // per_tc)
    raise SimulationError(f"unknown datapath {path!r}; expected one of: {', '.join(PATHS)}")


@dataclass(frozen=True)
class Gemm:
    """``batch`` independent GEMMs ``out[M,N] = A[M,K] W[K,N]`` on one datapath.

    ``a_format`` is the activation format; ``w_format`` the stored weight format (``uint2``, ``int4``,
    ``fp16``, ``fp8_e4m3``...) whose width is ``w_bits``. On the LUT path the A operand is the precomputed
    tables, read from global memory (``tables='global'``, precompute done by another kernel) or built in the
    kernel from the activations (``tables='inline'``, recomputed by every thread block along N).
    """

    M: int
    N: int
    K: int
    path: str
    a_format: str = "fp16"
    w_format: str = "fp16"
    out_format: str = "fp16"
    batch: int = 1
    tables: str = "global"

    def __post_init__(self):
        for f in ("M", "N", "K", "batch"):
            v = getattr(self, f)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise SimulationError(f"gemm {f} = {v!r}; expected a positive integer")
        if self.path not in PATHS:
            raise SimulationError(f"gemm path {self.path!r}; expected one of: {', '.join(PATHS)}")
        if self.tables not in ("global", "inline"):
            raise SimulationError(f"gemm tables {self.tables!r}; expected 'global' or 'inline'")
        for f in ("a_format", "w_format", "out_format"):
            fmt_bits(getattr(self, f))

    @property
    def w_bits(self) -> int:
        return fmt_bits(self.w_format)

    @property
    def macs(self) -> int:
        return self.batch * self.M * self.N * self.K

    @property
    def ops(self) -> int:
        return 2 * self.macs


@dataclass(frozen=True, order=True)
class Tiling:
    """Thread-block tile ``bm x bn`` stepping ``bk`` along K, a ``wm x wn`` grid of warps (warp tile
    ``bm/wm x bn/wn``), ``stages`` shared-memory buffers (2 = double buffering) and ``split_k`` blocks along K."""

    bm: int
    bn: int
    bk: int
    wm: int
    wn: int
    stages: int = 2
    split_k: int = 1

    def __post_init__(self):
        for f in ("bm", "bn", "bk", "wm", "wn", "stages", "split_k"):
            v = getattr(self, f)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise SimulationError(f"tiling {f} = {v!r}; expected a positive integer")
        if self.bm % self.wm or self.bn % self.wn:
            raise SimulationError(f"tiling {self}: bm must be a multiple of wm and bn of wn")

    @property
    def warps(self) -> int:
        return self.wm * self.wn

    @property
    def warp_m(self) -> int:
        return self.bm // self.wm

    @property
    def warp_n(self) -> int:
        return self.bn // self.wn

    def describe(self) -> str:
        s = (f"block {self.bm}x{self.bn}x{self.bk}, warps {self.wm}x{self.wn} "
             f"(warp tile {self.warp_m}x{self.warp_n}), {self.stages} stages")
        return s + (f", split-K {self.split_k}" if self.split_k > 1 else "")


@dataclass(frozen=True)
class BlockCosts:
    """What one thread block moves and computes, per K step (``full``) and for its last, partial step."""

    load_bytes: float  # global -> shared, per step
    cuda_ops: float  # CUDA-core lane operations per step (inline precompute, dequantization)
    smem_bytes: float  # shared -> registers per step (table broadcast / operand fragments)
    warp_cycles: int  # tensor-core cycles of one warp per step
    instructions: int  # tensor-core instructions of the whole block per step


@dataclass(frozen=True)
class Footprint:
    """Resources one thread block holds, and how many fit on an SM at once."""

    smem_bytes: int
    reg_bytes: int
    warps: int
    occupancy: int  # resident blocks per SM (0: does not fit)
    limit: str  # which resource bounds the occupancy


@dataclass
class GemmTiming:
    """Outcome of a tile-pipeline simulation of one GEMM kernel (cycles of the SM clock, no launch overhead)."""

    cycles: int
    gemm: Gemm
    tiling: Tiling
    blocks: int
    blocks_per_sm: int
    occupancy: int
    waves: float
    dram_bytes: float
    l2_bytes: float
    tc_busy_fraction: float  # of the SM's tensor-core lane time over the kernel
    array_cycles: int  # LUT: array-cycles with a bit plane in flight; MAC: 0
    macs_issued: int  # MACs of every issued instruction, padding included
    energy_pj: dict[str, float] = field(default_factory=dict)
    bound: str = ""  # what limited the steady state: 'tensor', 'memory', 'smem', 'cuda', 'latency'

    def seconds(self, machine: Machine) -> float:
        return self.cycles / machine.hz

    def ops_per_s(self, machine: Machine) -> float:
        return self.gemm.ops / self.seconds(machine)


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def round_up(a: int, b: int) -> int:
    return ceil_div(a, b) * b


"""Tiling search for GEMMs on tensor-core GPUs: enumerate, rank by a closed form, simulate the best few.

The space (bounded, deterministic):

* warp tile: a multiple of the tensor-core instruction (the LUT ``lmma`` of ``X`` stacked M2N64K4 arrays, or
  the MMA ``m16n8k16`` / ``m16n8k32``), ``WM`` up to 128 rows and ``WN`` up to 256 columns (or one LUT
  instruction when it is wider);
* a ``wm x wn`` grid of 1, 2, 4 or 8 warps; thread block ``bm = wm WM <= 256``, ``bn = wn WN <= 1024``
  (LUT: the weight operand is only 1-4 bits wide, so wide-N blocks amortize the tables) or ``<= 256`` (MAC);
* ``bk`` in 32..256, ``stages`` 2 (double buffering) to 4, split-K when the grid has too few blocks to fill
  the SMs;
* tiles that leave a whole warp row or column, or more than half of the block, idle are dropped, so small
  M (GEMV) keeps small tiles.

Candidates whose block does not fit an SM (shared memory, registers, warps) are discarded; the rest are ranked
by :func:`archsim.cyclesim.tensor_core.pipeline.estimate_cycles` and the best ``top`` are simulated exactly; the fastest
simulated one wins, ties going to the better estimate and then to the smaller tiling (so the choice never depends
on dictionary or hash order). ``progress(done, total, message)`` is called as the search advances.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

from archsim.base.errors import MappingError, SimulationError
from archsim.cyclesim.tensor_core.machine import Gemm, GemmTiming, Machine, Tiling, ceil_div, datapath, round_up
from archsim.cyclesim.tensor_core.pipeline import estimate_cycles, plan_block, simulate_gemm

WARP_GRIDS = ((1, 1), (2, 1), (1, 2), (2, 2), (4, 1), (1, 4), (4, 2), (2, 4), (8, 1), (1, 8))
BK_CHOICES = (32, 64, 128, 256)
STAGE_CHOICES = (2, 3, 4)
SPLIT_CHOICES = (1, 2, 4, 8, 16, 32)
MAX_BM, MAX_WM, MAX_WN = 256, 128, 256
MAX_BN = {"lut": 1024, "mac": 256, "dense": 256}
DEFAULT_TOP = 4

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class SearchResult:
    gemm: Gemm
    tiling: Tiling
    timing: GemmTiming
    candidates: int  # tilings that fit an SM
    enumerated: int
    simulated: int

    def describe(self) -> str:
        g = self.gemm
        shape = f"{g.batch}x" if g.batch > 1 else ""
        return (f"{shape}{g.M}x{g.N}x{g.K} {g.path}: {self.tiling.describe()}; occupancy {self.timing.occupancy}, "
                f"{self.timing.waves:.2f} waves, {self.timing.bound}-bound "
                f"({self.simulated} of {self.candidates} candidates simulated)")


def _powers(lo: int, hi: int) -> list[int]:
    out, v = [], lo
    while v <= hi:
        out.append(v)
        v *= 2
    return out or [lo]


def enumerate_tilings(machine: Machine, gemm: Gemm) -> list[Tiling]:
    """Every tiling of the bounded space that is legal for the datapath (fit is checked later)."""
    dp = datapath(machine, gemm.path, gemm.w_bits)
    wms = _powers(dp.m, max(dp.m, MAX_WM))
    wns = _powers(dp.n, max(dp.n, MAX_WN))
    max_bn = max(dp.n, MAX_BN[gemm.path])
    out: set[Tiling] = set()
    base_blocks_cache: dict[tuple[int, int], int] = {}
    for WM in wms:
        for WN in wns:
            for wm, wn in WARP_GRIDS:
                bm, bn = wm * WM, wn * WN
                if bm > max(MAX_BM, dp.m) or bn > max_bn:
                    continue
                # drop tiles with a whole idle warp row/column or more than half idle (the smallest always stays)
                if bm > dp.m and (bm - gemm.M >= WM or bm >= 2 * round_up(gemm.M, dp.m)):
                    continue
                if bn > dp.n and (bn - gemm.N >= WN or bn >= 2 * round_up(gemm.N, dp.n)):
                    continue
                key = (bm, bn)
                if key not in base_blocks_cache:
                    base_blocks_cache[key] = gemm.batch * ceil_div(gemm.M, bm) * ceil_div(gemm.N, bn)
                base = base_blocks_cache[key]
                for bk in BK_CHOICES:
                    if bk % dp.k or bk * gemm.w_bits % 8:
                        continue
                    if bk > 32 and bk > 2 * gemm.K:
                        continue
                    for split in SPLIT_CHOICES:
                        if split > 1 and (base * split > 4 * machine.sms or ceil_div(gemm.K, split) < bk):
                            continue
                        for stages in STAGE_CHOICES:
                            out.add(Tiling(bm, bn, bk, wm, wn, stages, split))
    return sorted(out)


def search(machine: Machine, gemm: Gemm, *, top: int = DEFAULT_TOP, progress: Progress | None = None) -> SearchResult:
    """The best tiling of ``gemm`` on ``machine`` (see the module docstring); memoized by value."""
    if progress is None:
        return _search_cached(machine, gemm, top)
    return _search(machine, gemm, top, progress)


@lru_cache(maxsize=4096)
def _search_cached(machine: Machine, gemm: Gemm, top: int) -> SearchResult:
    return _search(machine, gemm, top, None)


def _search(machine: Machine, gemm: Gemm, top: int, progress: Progress | None) -> SearchResult:
    if top < 1:
        raise MappingError(f"tiling search: top = {top!r}; expected a positive integer")
    tilings = enumerate_tilings(machine, gemm)
    ranked: list[tuple[float, Tiling]] = []
    step = max(1, len(tilings) // 10)
    for i, t in enumerate(tilings):
        try:
            est = estimate_cycles(machine, gemm, t)
        except SimulationError:
            est = None
        if est is not None:
            ranked.append((est, t))
        if progress is not None and (i % step == 0 or i == len(tilings) - 1):
            progress(i + 1, len(tilings) + top, f"ranking tilings of {gemm.M}x{gemm.N}x{gemm.K}")
    if not ranked:
        raise MappingError(f"no tiling of the {gemm.path} GEMM {gemm.M}x{gemm.N}x{gemm.K} fits one SM of "
                           f"{machine.name} (shared memory {machine.smem_bytes} B, "
                           f"registers {machine.regfile_bytes} B)")
    ranked.sort(key=lambda r: (r[0], r[1]))
    best = None
    for j, (est, t) in enumerate(ranked[:top]):
        timing = simulate_gemm(machine, gemm, t)
        if best is None or timing.cycles < best.cycles:
            best = timing
        if progress is not None:
            progress(len(tilings) + j + 1, len(tilings) + top,
                     f"simulated {t.describe()}: {timing.cycles:,} cycles (best {best.cycles:,})")
    return SearchResult(gemm, best.tiling, best, len(ranked), len(tilings), min(top, len(ranked)))


def fits(machine: Machine, gemm: Gemm, tiling: Tiling) -> bool:
    """Whether a block of ``tiling`` fits one SM."""
    return plan_block(machine, gemm, tiling).footprint.occupancy >= 1

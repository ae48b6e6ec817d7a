"""Execute a mapped GEMM tiling numerically with the bit-exact LUT reference, tile by tile.

The mapper's tiling is walked exactly as the hardware walks it: every thread block (``bm x bn`` output tile, one
K range per split), every K step of ``bk``, every warp's ``warp_m x warp_n`` sub-tile, and optionally every
``lmma`` instruction inside it. Each piece is computed by :func:`archsim.workloads.lut_gemm.lut_mpgemm` (tables, bit
planes, lookups, shift-accumulate) with unit scale, which for integer activations is an exact integer; pieces
are accumulated in int64 (the accumulator registers; split-K partials add up the same way) and the per-channel
scale is applied once at the end. The result must equal :func:`archsim.workloads.lut_gemm.dequant_matmul` bit for bit,
and a coverage count proves every (m, n, k) product was computed exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from archsim.base.errors import SimulationError
from archsim.cyclesim.tensor_core.machine import Datapath, Tiling, ceil_div
from archsim.workloads.lut_gemm import WeightFormat, lut_mpgemm


@dataclass
class TiledResult:
    out: np.ndarray  # float64 [M, N]
    coverage: np.ndarray  # int [M, N, K]: how often each product was computed
    pieces: int  # lut_mpgemm calls


def _ranges(n: int, step: int, start: int = 0, stop: int | None = None):
    stop = n if stop is None else stop
    for lo in range(start, stop, step):
        yield lo, min(lo + step, stop)


def execute_tiling(A, codes, scale, zero, fmt, act_fmt: str, tiling: Tiling, instr: Datapath | None = None,
                   *, granularity: str = "warp") -> TiledResult:
    """Compute ``A @ W`` (W = scale (codes - zero)) tile by tile as ``tiling`` maps it.

    ``granularity='instruction'`` splits every warp tile into ``instr.m x instr.n x instr.k`` lmma pieces.
    Only integer activations (int8, int16) give an exact integer per piece; float formats are refused.
    """
    if act_fmt not in ("int8", "int16"):
        raise SimulationError(f"act_fmt {act_fmt!r}: tile-wise exact execution needs integer activations (int8, int16)")
    if granularity not in ("warp", "instruction"):
        raise SimulationError(f"granularity {granularity!r}; expected 'warp' or 'instruction'")
    if granularity == "instruction" and instr is None:
        raise SimulationError("granularity 'instruction' needs the datapath instruction (instr)")
    A = np.asarray(A)
    codes = np.asarray(codes)
    M, K = A.shape
    N = codes.shape[1]
    fmt = WeightFormat.parse(fmt)
    zero_n = np.zeros(N) if zero is None else np.broadcast_to(np.asarray(zero, dtype=np.float64), (N,))
    acc = np.zeros((M, N), dtype=np.int64)
    coverage = np.zeros((M, N, K), dtype=np.int32)
    pieces = 0
    t = tiling
    ks = ceil_div(K, t.split_k)
    im, in_, ik = (instr.m, instr.n, instr.k) if granularity == "instruction" else (t.warp_m, t.warp_n, t.bk)
    for m0, m1 in _ranges(M, t.bm):
        for n0, n1 in _ranges(N, t.bn):
            for s in range(t.split_k):
                for k0, k1 in _ranges(K, t.bk, s * ks, min(K, (s + 1) * ks)):
                    for wm0, wm1 in _ranges(m1, t.warp_m, m0):
                        for wn0, wn1 in _ranges(n1, t.warp_n, n0):
                            for r0, r1 in _ranges(wm1, im, wm0):
                                for c0, c1 in _ranges(wn1, in_, wn0):
                                    for q0, q1 in _ranges(k1, ik, k0):
                                        z = None if fmt.kind in ("binary", "ternary") else zero_n[c0:c1]
                                        part = lut_mpgemm(A[r0:r1, q0:q1], codes[q0:q1, c0:c1], 1.0, z, fmt,
                                                          act_fmt)
                                        ipart = np.rint(part).astype(np.int64)
                                        if not np.array_equal(ipart, part):
                                            raise SimulationError("a unit-scale LUT piece was not an integer")
                                        acc[r0:r1, c0:c1] += ipart
                                        coverage[r0:r1, c0:c1, q0:q1] += 1
                                        pieces += 1
    s = np.broadcast_to(np.asarray(scale, dtype=np.float64), (N,))
    return TiledResult(s * acc.astype(np.float64), coverage, pieces)

"""Multiresolution grid encodings (instant-ngp / tiny-cuda-nn) and their two numeric references.

The grid math follows tiny-cuda-nn's ``GridEncoding`` (``grid_scale``, ``grid_resolution``, ``pos_fract``,
``grid_index``, ``params_in_level``): level ``l`` has scale ``s_l = 2^(l log2 b) N_min - 1`` (float32) and
``res_l = ceil(s_l) + 1`` vertices per side; a query at ``x`` in [0, 1]^D sits at ``pos = s_l x + 0.5``, cell
``floor(pos)``, fraction ``pos - cell``; a corner's table index is the dense row-major index while
``res_l^D <= T_l`` (tiny-cuda-nn's "stride <= hashmap size") and otherwise the XOR of ``q_d * pi_d`` (uint32
wraparound, the "coherent prime" hash), both taken modulo the level's table size ``T_l``.

Three grid types (tiny-cuda-nn's ``GridType``): ``hash`` (``T_l = min(next_multiple(res^D, 8), 2^log2_T)``),
``dense`` (``T_l = next_multiple(res^D, 8)``, never hashed) and ``tiled`` (``T_l = min(next_multiple(res^D, 8),
N_min^D)``, never hashed: the dense index wraps modulo ``T_l``).

Two references live here, and this module is the one place for them:

* :func:`float_encode` - tiny-cuda-nn's arithmetic in float32 with fp16 features (the accuracy reference);
* :func:`engine_encode` - the NGPC encoding engine's fixed-point format ("engine format",
  ``helpers/NGPC_ENGINE_FORMAT.md`` of the project; parameters in :class:`EngineFormat`). The mapped program
  (``archsim.mapper.ngpc_cosim``) and the RTL encoder must equal it bit for bit.

:func:`level_corners` gives the corner table indices and engine-format weights of one level, which is also what
the cycle model's address streams are made of.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from archsim.base.errors import WorkloadError
from archsim.workloads.op_base import Op, register_op

#: tiny-cuda-nn's coherent-prime hash factors (dimension 0 first)
PRIMES = (1, 2654435761, 805459861, 3674653429, 2097192037, 1434869437, 2165219737)
GRID_TYPES = ("hash", "dense", "tiled")
MASK32 = np.uint64(0xFFFFFFFF)


def next_multiple(v: int, m: int) -> int:
    return -(-v // m) * m


@dataclass(frozen=True)
class GridConfig:
    """One multiresolution grid encoding (tiny-cuda-nn ``HashGrid`` / ``DenseGrid`` / ``TiledGrid``)."""

    dims: int = 3
    levels: int = 16
    features: int = 2
    log2_hashmap_size: int = 19
    base_resolution: int = 16
    per_level_scale: float = 2.0
    grid_type: str = "hash"

    def __post_init__(self):
        if self.grid_type not in GRID_TYPES:
            raise WorkloadError(f"grid_type = {self.grid_type!r}; expected one of: {', '.join(GRID_TYPES)}")
        if self.dims not in (2, 3):
            raise WorkloadError(f"dims = {self.dims!r}; expected 2 or 3")
        for k in ("levels", "features", "log2_hashmap_size", "base_resolution"):
            v = getattr(self, k)
            if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                raise WorkloadError(f"{k} = {v!r}; expected a positive integer")
        if not self.per_level_scale >= 1.0:
            raise WorkloadError(f"per_level_scale = {self.per_level_scale!r}; expected >= 1")

    @classmethod
    def from_max_resolution(cls, n_max: int, **kw) -> "GridConfig":
        """instant-ngp's growth factor ``b = exp((ln N_max - ln N_min) / (L - 1))``."""
        levels, n_min = kw.get("levels", 16), kw.get("base_resolution", 16)
        return cls(per_level_scale=float(math.exp((math.log(n_max) - math.log(n_min)) / (levels - 1))), **kw)

    # -- per-level constants ------------------------------------------------------------------------------
    def scale(self, level: int) -> np.float32:
        """``grid_scale``: exp2f(l * log2f(b)) * N_min - 1, every step in float32."""
        f32 = np.float32
        e = f32(level) * np.log2(f32(self.per_level_scale))
        return f32(np.exp2(f32(e)) * f32(self.base_resolution) - f32(1.0))

    def resolution(self, level: int) -> int:
        return int(math.ceil(float(self.scale(level)))) + 1

    def table_size(self, level: int) -> int:
        """``params_in_level``: entries of the level's table."""
        res = self.resolution(level)
        dense = res ** self.dims
        t = next_multiple(min(dense, 2**31 - 1), 8)
        if self.grid_type == "hash":
            t = min(t, 1 << self.log2_hashmap_size)
        elif self.grid_type == "tiled":
            t = min(t, self.base_resolution ** self.dims)
        return t

    def hashed(self, level: int) -> bool:
        """A hash-grid level whose dense index would not fit its table (``hashmap_size < stride``)."""
        return self.grid_type == "hash" and self.resolution(level) ** self.dims > self.table_size(level)

    def offsets(self) -> list[int]:
        """Entry offset of each level's table in the concatenated parameter array (and the total last)."""
        out = [0]
        for lv in range(self.levels):
            out.append(out[-1] + self.table_size(lv))
        return out

    @property
    def n_params(self) -> int:
        return self.offsets()[-1] * self.features

    @property
    def out_features(self) -> int:
        return self.levels * self.features

    @property
    def corners(self) -> int:
        return 1 << self.dims


@dataclass(frozen=True)
class EngineFormat:
    """The encoding engine's fixed-point format (all defaults as fixed for issues 13 and 15).

    C: fractional bits of a coordinate; P: of the level-scale register; W: of a per-dimension weight fraction;
    E: of a feature (signed 16-bit)."""

    coord_bits: int = 16
    scale_bits: int = 8
    weight_bits: int = 8
    feature_frac_bits: int = 12
    feature_bits: int = 16

    def quantize_coords(self, x: np.ndarray) -> np.ndarray:
        """X_d = min(floor(x_d 2^C + 0.5), 2^C - 1), as int64."""
        one = 1 << self.coord_bits
        q = np.floor(np.asarray(x, dtype=np.float64) * one + 0.5)
        return np.minimum(q, one - 1).astype(np.int64)

    def scale_register(self, cfg: GridConfig, level: int) -> int:
        """S_l = round-half-to-even(s_l 2^P)."""
        return int(np.rint(np.float64(cfg.scale(level)) * (1 << self.scale_bits)))

    def quantize_features(self, v: np.ndarray) -> np.ndarray:
        """Float features to the table's signed integers (round half to even, saturated)."""
        lo, hi = -(1 << (self.feature_bits - 1)), (1 << (self.feature_bits - 1)) - 1
        return np.clip(np.rint(np.asarray(v, np.float64) * (1 << self.feature_frac_bits)), lo, hi).astype(np.int16)


DEFAULT_FORMAT = EngineFormat()


def level_corners(cfg: GridConfig, X: np.ndarray, level: int, fmt: EngineFormat = DEFAULT_FORMAT):
    """Engine format, one level: ``(idx, w)`` of shape ``(n, 2^D)``: each corner's table index (int64, within
    the level's table) and weight (int64, D*W fractional bits). ``X`` are the quantized coordinates (n, D)."""
    C, P, W = fmt.coord_bits, fmt.scale_bits, fmt.weight_bits
    S = fmt.scale_register(cfg, level)
    res, T, D = cfg.resolution(level), cfg.table_size(level), cfg.dims
    p = X.astype(np.int64) * S + (1 << (C + P - 1))
    g = p >> (C + P)
    f = (p >> (C + P - W)) & ((1 << W) - 1)
    n = X.shape[0]
    idx = np.empty((n, 1 << D), dtype=np.int64)
    w = np.ones((n, 1 << D), dtype=np.int64)
    hashed = cfg.hashed(level)
    for c in range(1 << D):
        acc = np.zeros(n, dtype=np.uint64) if hashed else np.zeros(n, dtype=np.int64)
        stride = 1
        for d in range(D):
            bit = (c >> d) & 1
            q = g[:, d] + bit
            w[:, c] *= f[:, d] if bit else (1 << W) - f[:, d]
            if hashed:
                acc ^= (q.astype(np.uint64) * np.uint64(PRIMES[d])) & MASK32
            else:
                acc += q * stride
                stride *= res
        idx[:, c] = (acc % np.uint64(T)).astype(np.int64) if hashed else acc % T
    return idx, w


def engine_encode(cfg: GridConfig, x: np.ndarray, tables: list[np.ndarray], fmt: EngineFormat = DEFAULT_FORMAT):
    """The engine-format encoding of points ``x`` (n, D) in [0, 1]: int16 array (n, L*F), E fractional bits.

    ``tables[l]`` is the level's int16 table of shape (T_l, F)."""
    x = np.asarray(x)
    _check_points(cfg, x)
    X = fmt.quantize_coords(x)
    DW = cfg.dims * fmt.weight_bits
    lo, hi = -(1 << (fmt.feature_bits - 1)), (1 << (fmt.feature_bits - 1)) - 1
    out = np.empty((x.shape[0], cfg.out_features), dtype=np.int16)
    for lv in range(cfg.levels):
        idx, w = level_corners(cfg, X, lv, fmt)
        feats = tables[lv].astype(np.int64)[idx]          # (n, corners, F)
        acc = (w[:, :, None] * feats).sum(axis=1)
        y = (acc + (1 << (DW - 1))) >> DW
        out[:, lv * cfg.features:(lv + 1) * cfg.features] = np.clip(y, lo, hi)
    return out


def float_encode(cfg: GridConfig, x: np.ndarray, tables: list[np.ndarray]) -> np.ndarray:
    """tiny-cuda-nn's forward pass in float32 (fp16 tables): float32 array (n, L*F)."""
    x = np.asarray(x, dtype=np.float32)
    _check_points(cfg, x)
    f32 = np.float32
    n, D = x.shape
    out = np.empty((n, cfg.out_features), dtype=np.float32)
    for lv in range(cfg.levels):
        s = cfg.scale(lv)
        pos = (np.float64(s) * x.astype(np.float64) + 0.5).astype(f32)   # fmaf(scale, x, 0.5): one rounding
        cell = np.floor(pos)
        frac = (pos - cell).astype(f32)
        g = cell.astype(np.int64)
        res, T = cfg.resolution(lv), cfg.table_size(lv)
        acc = np.zeros((n, cfg.features), dtype=f32)
        for c in range(1 << D):
            wgt = np.ones(n, dtype=f32)
            q = np.empty((n, D), dtype=np.int64)
            for d in range(D):
                bit = (c >> d) & 1
                wgt = (wgt * (frac[:, d] if bit else f32(1) - frac[:, d])).astype(f32)
                q[:, d] = g[:, d] + bit
            idx = _index_f(cfg, lv, q, res, T)
            acc = (acc + wgt[:, None] * tables[lv][idx].astype(f32)).astype(f32)
        out[:, lv * cfg.features:(lv + 1) * cfg.features] = acc
    return out


def _index_f(cfg, lv, q, res, T):
    if cfg.hashed(lv):
        h = np.zeros(q.shape[0], dtype=np.uint64)
        for d in range(q.shape[1]):
            h ^= (q[:, d].astype(np.uint64) * np.uint64(PRIMES[d])) & MASK32
        return (h % np.uint64(T)).astype(np.int64)
    idx = np.zeros(q.shape[0], dtype=np.int64)
    stride = 1
    for d in range(q.shape[1]):
        idx += q[:, d] * stride
        stride *= res
    return idx % T


def _check_points(cfg: GridConfig, x: np.ndarray) -> None:
    if x.ndim != 2 or x.shape[1] != cfg.dims:
        raise WorkloadError(f"points have shape {x.shape}; expected (n, {cfg.dims})")
    if x.size and (np.nanmin(x) < 0 or np.nanmax(x) > 1 or np.isnan(x).any()):
        raise WorkloadError("points must lie in [0, 1]^D (the scene's bounding volume, normalized)")


def random_tables(cfg: GridConfig, seed: int = 0, fmt: EngineFormat = DEFAULT_FORMAT, amplitude: float = 1.0):
    """Seeded tables: ``(int16 engine tables, float16 tables holding the same values)`` per level."""
    rng = np.random.default_rng(seed)
    lim = min(int(amplitude * (1 << fmt.feature_frac_bits)), (1 << (fmt.feature_bits - 1)) - 1)
    ints, halves = [], []
    for lv in range(cfg.levels):
        q = rng.integers(-lim, lim, size=(cfg.table_size(lv), cfg.features), dtype=np.int16, endpoint=True)
        ints.append(q)
        halves.append((q.astype(np.float64) / (1 << fmt.feature_frac_bits)).astype(np.float16))
    return ints, halves


@register_op
@dataclass(frozen=True, slots=True, kw_only=True)
class GridEncode(Op):
    """Multiresolution grid encoding of ``points`` queries (one op per frame batch or per frame).

    Work: per query and level, 2^D corner reads of F fp16 features and 2^D x F multiply-adds. Inputs of the
    reference: the points (n, D) float32 and the concatenated fp16 table; output (n, L*F) fp16."""

    kind: ClassVar[str] = "grid_encode"
    points: int
    grid: GridConfig

    def __post_init__(self):
        self._require_positive("points")

    def inputs(self):
        return (((self.points, self.grid.dims), "fp32"), ((self.grid.offsets()[-1], self.grid.features), "fp16"))

    def output(self):
        return (self.points, self.grid.out_features), "fp16"

    def flops(self) -> int:
        g = self.grid
        return self.points * g.levels * g.corners * (2 * g.features + g.dims)

    def bytes_read(self):
        g = self.grid
        return self.points * (g.dims * 4 + g.levels * g.corners * g.features * 2)

    def reference(self, points, table):
        g = self.grid
        offs = g.offsets()
        tables = [np.asarray(table)[offs[i]:offs[i + 1]] for i in range(g.levels)]
        return float_encode(g, points, tables).astype(np.float16)

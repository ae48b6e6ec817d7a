"""The NGPC hash-grid encoding engine's number format ("engine format"), as numpy functions over plain arrays.

This is the numerical reference of :class:`archsim.rtl.hashgrid.HashGridEngine` (bit for bit) and the format
the NGPC model's functional path implements too. Every step, with its defaults as parameters:

1. coordinates x_d in [0, 1] -> unsigned fixed point with C = 16 fractional bits:
   X_d = min(floor(x_d 2^C + 0.5), 2^C - 1)                                         (:func:`quantize_positions`)
2. level scale, in float32 as tiny-cuda-nn computes it:
   s_l = float32(exp2f(float32(l) * log2f(per_level_scale)) * float32(base_resolution) - 1), quantized to
   P = 8 fractional bits, S_l = round-half-even(s_l 2^P); res_l = ceil(s_l) + 1; the level's table has
   T_l = min(next_multiple_of_8(res_l^D), 2^log2_hashmap_size) entries; dense iff res_l^D <= T_l
                                                                                   (:func:`level_config`)
3. p_d = X_d S_l + 2^(C+P-1); cell g_d = p_d >> (C+P); weight fraction f_d = (p_d >> (C+P-W)) & (2^W - 1), W = 8
4. corner c (bit d of c selects g_d + 1): q_d = g_d + bit_d(c);
   dense: idx = sum_d q_d res_l^d mod T_l; hashed: idx = XOR_d (q_d pi_d mod 2^32) mod T_l,
   pi = (1, 2654435761, 805459861)
5. w_c = prod_d (f_d if bit_d(c) else 2^W - f_d)   (sums to 2^(DW) over the corners)
6. features: int16 with E = 12 fractional bits; acc = sum_c w_c feat_c (exact);
   out = (acc + 2^(DW-1)) >> DW (arithmetic), saturated to int16                   (:func:`encode_level`)

:func:`encode_float` is tiny-cuda-nn's float32 arithmetic on the same tables, for quantization-error tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["PRIMES", "LevelConfig", "level_config", "quantize_positions", "grid_corners", "corner_index", "encode_level",
           "encode", "encode_float"]

PRIMES = (1, 2654435761, 805459861)
C_BITS, P_BITS, W_BITS, E_BITS = 16, 8, 8, 12


@dataclass(frozen=True)
class LevelConfig:
    """One level's constants: the engine's configuration registers."""

    level: int
    scale_f32: float     # s_l
    scale_fx: int        # S_l = rne(s_l 2^P)
    resolution: int      # res_l
    table_size: int      # T_l
    dense: bool


def level_config(level: int, *, dims: int = 3, base_resolution: int = 16, per_level_scale: float = 2.0,
                 log2_hashmap_size: int = 19, p_bits: int = P_BITS) -> LevelConfig:
    """Step 2 for level ``level`` (tiny-cuda-nn's grid_scale, grid_resolution and params_in_level)."""
    f32 = np.float32
    s = f32(f32(np.exp2(f32(level) * np.log2(f32(per_level_scale)))) * f32(base_resolution) - f32(1.0))
    scale_fx = int(np.rint(np.float64(s) * 2.0 ** p_bits))  # np.rint: round half to even
    res = int(np.ceil(s)) + 1
    volume = res ** dims
    cap = 1 << log2_hashmap_size
    table = min(-(-volume // 8) * 8, cap)
    return LevelConfig(level, float(s), scale_fx, res, table, volume <= table)


def quantize_positions(x, c_bits: int = C_BITS) -> np.ndarray:
    """Step 1: X = min(floor(x 2^C + 0.5), 2^C - 1) as int64 (x in [0, 1])."""
    x = np.asarray(x, np.float64)
    return np.minimum(np.floor(x * 2.0 ** c_bits + 0.5), 2 ** c_bits - 1).astype(np.int64)


def grid_corners(X, cfg: LevelConfig, *, dims: int = 3, c_bits: int = C_BITS, p_bits: int = P_BITS,
                 w_bits: int = W_BITS):
    """Steps 3-5 for quantized positions X [Q, D]: (table indices [Q, 2^D], corner weights [Q, 2^D]) as int64."""
    X = np.asarray(X, np.int64).reshape(-1, dims)
    p = X * cfg.scale_fx + (1 << (c_bits + p_bits - 1))
    g = p >> (c_bits + p_bits)
    f = (p >> (c_bits + p_bits - w_bits)) & ((1 << w_bits) - 1)
    n_corners = 1 << dims
    idx = corner_index(g, cfg, dims)
    w = np.ones((X.shape[0], n_corners), np.int64)
    for c in range(n_corners):
        for d in range(dims):
            w[:, c] *= np.where((c >> d) & 1, f[:, d], (1 << w_bits) - f[:, d])
    return idx, w


def corner_index(g, cfg: LevelConfig, dims: int) -> np.ndarray:
    """Step 4: the table index of every corner of cells g [Q, D] (int64 [Q, 2^D]); bit d of corner c selects
    g_d + 1. Dense: sum_d q_d res^d mod T; hashed: XOR_d (q_d pi_d mod 2^32) mod T."""
    g = np.asarray(g, np.int64)
    idx = np.zeros((g.shape[0], 1 << dims), np.int64)
    for c in range(1 << dims):
        h = np.zeros(g.shape[0], np.int64)
        stride = 1
        for d in range(dims):
            q = g[:, d] + ((c >> d) & 1)
            if cfg.dense:
                h = h + q * stride
                stride *= cfg.resolution
            else:
                h = h ^ ((q * PRIMES[d]) & 0xFFFFFFFF)
        idx[:, c] = h % cfg.table_size
    return idx


def encode_level(X, cfg: LevelConfig, table, *, dims: int = 3, c_bits: int = C_BITS, p_bits: int = P_BITS,
                 w_bits: int = W_BITS) -> np.ndarray:
    """The engine's output for one level: int64 [Q, F], int16-range values with E fractional bits.
    ``table`` is [>= T_l, F] int16 features (E fractional bits)."""
    table = np.asarray(table, np.int64)
    idx, w = grid_corners(X, cfg, dims=dims, c_bits=c_bits, p_bits=p_bits, w_bits=w_bits)
    acc = np.einsum("qc,qcf->qf", w, table[idx])
    shift = dims * w_bits
    out = (acc + (1 << (shift - 1))) >> shift
    return np.clip(out, -(1 << 15), (1 << 15) - 1)


def encode(x, tables, *, dims: int = 3, base_resolution: int = 16, per_level_scale: float = 2.0,
           log2_hashmap_size: int = 19) -> np.ndarray:
    """All levels: positions x [Q, D] in [0, 1], ``tables[l]`` the level-l int16 table -> int64 [Q, L * F]
    (level-major, as the encodings are concatenated before the MLP)."""
    X = quantize_positions(x)
    outs = [encode_level(X, level_config(l, dims=dims, base_resolution=base_resolution,
                                         per_level_scale=per_level_scale, log2_hashmap_size=log2_hashmap_size),
                         t, dims=dims) for l, t in enumerate(tables)]
    return np.concatenate(outs, axis=1)


def encode_float(x, cfg: LevelConfig, table, *, dims: int = 3, e_bits: int = E_BITS) -> np.ndarray:
    """tiny-cuda-nn's float32 interpolation of the same level (pos = x s + 0.5, floor, fraction, multilinear
    weights), features read as fp16 values of the int16 table / 2^E. Returns float32 [Q, F]."""
    f32 = np.float32
    x = np.asarray(x, f32).reshape(-1, dims)
    pos = x * f32(cfg.scale_f32) + f32(0.5)
    cell = np.floor(pos)
    frac = (pos - cell).astype(f32)
    g = cell.astype(np.int64)
    feats = (np.asarray(table, np.float64) / 2.0 ** e_bits).astype(np.float16).astype(f32)
    out = np.zeros((x.shape[0], feats.shape[1]), f32)
    idx = corner_index(g, cfg, dims)
    for c in range(1 << dims):
        w = np.ones(x.shape[0], f32)
        for d in range(dims):
            w = w * (frac[:, d] if (c >> d) & 1 else f32(1) - frac[:, d])
        out += w[:, None] * feats[idx[:, c]]
    return out

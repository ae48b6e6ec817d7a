"""Grid encodings against an independent implementation written here from the equations (tiny-cuda-nn's grid
math; the engine format of helpers/NGPC_ENGINE_FORMAT.md), point by point with Python integers."""

import math

import numpy as np
import pytest

from archsim.workloads.hashgrid import GridConfig, engine_encode, float_encode, level_corners, random_tables
from archsim.workloads.ngp import FusedMlp, mlp_reference

PI = [1, 2654435761, 805459861]


def scale32(cfg, lv):
    f = np.float32
    return f(np.exp2(f(f(lv) * np.log2(f(cfg.per_level_scale)))) * f(cfg.base_resolution) - f(1.0))


def level_consts(cfg, lv):
    s = scale32(cfg, lv)
    res = math.ceil(float(s)) + 1
    dense = res ** cfg.dims
    T = -(-dense // 8) * 8
    if cfg.grid_type == "hash":
        T = min(T, 2 ** cfg.log2_hashmap_size)
    elif cfg.grid_type == "tiled":
        T = min(T, cfg.base_resolution ** cfg.dims)
    hashed = cfg.grid_type == "hash" and dense > T
    return s, res, T, hashed


def index_of(q, res, T, hashed):
    if hashed:
        h = 0
        for d, v in enumerate(q):
            h ^= (v * PI[d]) % 2**32
        return h % T
    return sum(v * res ** d for d, v in enumerate(q)) % T


def engine_point(cfg, x, tables):
    """One point, the engine format with Python integers."""
    X = [min(math.floor(v * 65536 + 0.5), 65535) for v in x]
    out = []
    for lv in range(cfg.levels):
        s, res, T, hashed = level_consts(cfg, lv)
        S = round(float(s) * 256)          # Python's round is half to even
        p = [Xd * S + 2**23 for Xd in X]
        g = [v >> 24 for v in p]
        f = [(v >> 16) & 255 for v in p]
        acc = [0] * cfg.features
        for c in range(2 ** cfg.dims):
            w = 1
            q = []
            for d in range(cfg.dims):
                bit = (c >> d) & 1
                w *= f[d] if bit else 256 - f[d]
                q.append(g[d] + bit)
            e = tables[lv][index_of(q, res, T, hashed)]
            for j in range(cfg.features):
                acc[j] += w * int(e[j])
        sh = 8 * cfg.dims
        out += [max(-32768, min(32767, (a + (1 << (sh - 1))) >> sh)) for a in acc]
    return out


def float_point(cfg, x, tables):
    f32 = np.float32
    out = []
    for lv in range(cfg.levels):
        s, res, T, hashed = level_consts(cfg, lv)
        pos = [f32(float(s) * float(v) + 0.5) for v in np.asarray(x, np.float32)]
        g = [int(math.floor(p)) for p in pos]
        fr = [f32(p - f32(math.floor(p))) for p in pos]
        acc = np.zeros(cfg.features, np.float32)
        for c in range(2 ** cfg.dims):
            w = f32(1)
            q = []
            for d in range(cfg.dims):
                bit = (c >> d) & 1
                w = f32(w * (fr[d] if bit else f32(1) - fr[d]))
                q.append(g[d] + bit)
            acc = (acc + w * tables[lv][index_of(q, res, T, hashed)].astype(np.float32)).astype(np.float32)
        out += list(acc)
    return np.array(out, np.float32)


CONFIGS = {
    # levels 0-4 dense, 5+ hashed (the NeRF grid; straddles the boundary at level 5)
    "hash3d_nerf": GridConfig(levels=8, log2_hashmap_size=19, per_level_scale=math.exp(math.log(128) / 15)),
    "hash3d_small_T": GridConfig(levels=6, log2_hashmap_size=12, per_level_scale=1.5),
    "hash2d": GridConfig(dims=2, levels=6, log2_hashmap_size=14, per_level_scale=2.0),
    "dense3d": GridConfig(levels=4, base_resolution=16, per_level_scale=1.405, grid_type="dense"),
    "tiled3d": GridConfig(levels=2, features=8, base_resolution=16, per_level_scale=2.0, grid_type="tiled"),
    "dense2d": GridConfig(dims=2, levels=3, per_level_scale=1.5, grid_type="dense"),
}


def points(cfg, n=40, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, cfg.dims))
    edges = [0.0, 1.0, 0.5, 1 / 16, 15 / 16, (7 + 0.5) / 15]  # cube faces and cell edges of level 0 (res 16)
    e = np.array([[edges[(i + d) % len(edges)] for d in range(cfg.dims)] for i in range(len(edges))])
    return np.concatenate([x, e])


def test_configs_cover_every_level_type():
    c = CONFIGS["hash3d_nerf"]
    assert [c.hashed(lv) for lv in range(8)] == [False] * 5 + [True] * 3
    assert [c.resolution(lv) for lv in range(6)] == [16, 23, 31, 43, 59, 81]
    assert any(CONFIGS["hash2d"].hashed(lv) for lv in range(6)) and not CONFIGS["hash2d"].hashed(0)
    t = CONFIGS["tiled3d"]
    assert t.table_size(1) == 16 ** 3 < t.resolution(1) ** 3 and not t.hashed(1)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_engine_format_matches_independent_implementation_bit_for_bit(name):
    cfg = CONFIGS[name]
    ints, _ = random_tables(cfg, seed=3)
    x = points(cfg)
    got = engine_encode(cfg, x, ints)
    want = np.array([engine_point(cfg, p, ints) for p in x], dtype=np.int64)
    assert got.dtype == np.int16
    np.testing.assert_array_equal(got.astype(np.int64), want)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_float_reference_matches_independent_implementation(name):
    cfg = CONFIGS[name]
    _, halves = random_tables(cfg, seed=4)
    x = points(cfg, n=20, seed=1).astype(np.float32)
    got = float_encode(cfg, x, halves)
    want = np.stack([float_point(cfg, p, halves) for p in x])
    np.testing.assert_allclose(got, want, rtol=0, atol=2e-6)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_engine_format_within_quantization_of_float_reference(name):
    cfg = CONFIGS[name]
    ints, halves = random_tables(cfg, seed=5)
    x = points(cfg, n=200, seed=2)
    eng = engine_encode(cfg, x, ints).astype(np.float64) / 4096
    flt = float_encode(cfg, x.astype(np.float32), [h.astype(np.float32) for h in halves])
    # coordinate (2^-16 x scale), weight truncation (2^-8 per dim) and output rounding (2^-13): features |v| <= 1
    tol = cfg.dims * 2.0 ** -8 * 2 ** cfg.dims + 2.0 ** -12
    assert np.abs(eng - flt).max() <= tol


def test_corner_weights_sum_to_one_and_indices_in_table():
    cfg = CONFIGS["hash3d_nerf"]
    X = np.array([[0, 0, 0], [65535, 65535, 65535], [1234, 40000, 65535]])
    for lv in range(cfg.levels):
        idx, w = level_corners(cfg, X, lv)
        assert (w.sum(axis=1) == 2 ** 24).all()
        assert ((0 <= idx) & (idx < cfg.table_size(lv))).all()


def test_mlp_reference_matches_float64_numpy():
    rng = np.random.default_rng(0)
    op = FusedMlp(name="m", rows=50, n_in=32, hidden=2, n_out=16)
    x = rng.standard_normal((50, 32)).astype(np.float16)
    ws = [(rng.standard_normal(s) / np.sqrt(s[0])).astype(np.float16) for s in op.layer_shapes()]
    got = op.reference(x, *ws).astype(np.float64)
    h = x.astype(np.float64)
    for i, w in enumerate(ws):
        h = h @ w.astype(np.float64)
        if i < len(ws) - 1:
            h = np.maximum(h, 0)
        h = h.astype(np.float16).astype(np.float64)
    np.testing.assert_allclose(got, h, rtol=2e-3, atol=2e-3)
    assert op.macs_per_row() == 32 * 64 + 64 * 64 + 64 * 16 == 7168
    assert mlp_reference(x, ws, "relu").min() >= 0

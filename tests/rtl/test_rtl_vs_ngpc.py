"""The RTL hash-grid engine's numpy model (rtl/hashgrid_model.py, which the Amaranth design is tested against bit
for bit) and the NGPC functional path's engine format (workloads/hashgrid.py, which the mapped NGPC program
reproduces bit for bit) are two implementations of one format: they must agree bit for bit, level constants
included, on 2-D and 3-D grids whose levels straddle the dense/hashed boundary, at cell edges and on random points.
"""

import numpy as np
import pytest

from archsim.rtl import hashgrid_model as rtl
from archsim.workloads.hashgrid import DEFAULT_FORMAT, GridConfig, engine_encode, random_tables


def _points(dims: int, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.random((n, dims))
    edges = np.array([0.0, 1.0, 0.5, 1 / 16, 15 / 16, 1 - 2.0 ** -16, 2.0 ** -17])
    grid = np.stack(np.meshgrid(*[edges] * dims, indexing="ij"), -1).reshape(-1, dims)
    return np.concatenate([grid, x])


@pytest.mark.parametrize("dims,log2_size,levels,scale", [(3, 12, 8, 1.5), (2, 10, 10, 1.6), (3, 19, 16, 1.38)])
def test_rtl_model_equals_the_ngpc_engine_format(dims, log2_size, levels, scale):
    cfg = GridConfig(dims=dims, levels=levels, features=2, log2_hashmap_size=log2_size, base_resolution=16,
                     per_level_scale=scale)
    assert any(cfg.hashed(lv) for lv in range(levels)) and not all(cfg.hashed(lv) for lv in range(levels))
    for lv in range(levels):
        lc = rtl.level_config(lv, dims=dims, base_resolution=16, per_level_scale=scale, log2_hashmap_size=log2_size)
        assert (lc.scale_fx, lc.resolution, lc.table_size, lc.dense) == (
            DEFAULT_FORMAT.scale_register(cfg, lv), cfg.resolution(lv), cfg.table_size(lv), not cfg.hashed(lv))
    tables, _ = random_tables(cfg, seed=3)
    x = _points(dims, 1500, seed=dims)
    ngpc = engine_encode(cfg, x, tables)
    ours = rtl.encode(x, tables, dims=dims, base_resolution=16, per_level_scale=scale, log2_hashmap_size=log2_size)
    assert ngpc.shape == ours.shape
    np.testing.assert_array_equal(ngpc.astype(np.int64), ours)


def test_a_different_prime_is_caught(monkeypatch):
    """Negative control: with one hash prime changed in the RTL model the two disagree."""
    monkeypatch.setattr(rtl, "PRIMES", (1, 2654435761, 805459863))
    cfg = GridConfig(dims=3, levels=8, features=2, log2_hashmap_size=12, per_level_scale=1.5)
    tables, _ = random_tables(cfg, seed=3)
    x = _points(3, 500, seed=1)
    ours = rtl.encode(x, tables, dims=3, base_resolution=16, per_level_scale=1.5, log2_hashmap_size=12)
    assert not np.array_equal(engine_encode(cfg, x, tables).astype(np.int64), ours)

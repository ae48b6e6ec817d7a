"""Pareto fronts against a brute-force definition on random data; the seeded Optuna search."""

import numpy as np
import pandas as pd
import pytest

import archsim
from archsim.dse.pareto import pareto_front, pareto_mask


def brute_force(v, maximize):
    v = np.where(maximize, -v, v)
    return np.array([not any(np.all(v[j] <= v[i]) and np.any(v[j] < v[i]) for j in range(len(v)))
                     for i in range(len(v))])


@pytest.mark.parametrize("seed", range(20))
def test_pareto_mask_equals_brute_force(seed):
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(1, 60)), int(rng.integers(1, 4))
    v = rng.integers(0, 6, size=(n, k)).astype(float)  # small integers: many ties and duplicates
    maximize = rng.random(k) < 0.5
    assert (pareto_mask(v, list(maximize)) == brute_force(v, maximize)).all()


def test_pareto_front_on_a_table_skips_errors():
    df = pd.DataFrame({"latency_s": [1.0, 2.0, 3.0, 0.5, 2.5], "energy_j": [3.0, 2.0, 1.0, 9.0, 2.5],
                       "status": ["ok", "ok", "ok", "error", "ok"]})
    front = pareto_front(df, ["latency_s", "energy_j"])
    assert list(front.index) == [0, 1, 2]  # row 3 would dominate on latency but is an error; row 4 is dominated
    with pytest.raises(archsim.ArchsimError, match="objectives: no column"):
        pareto_front(df, ["area_mm2"])


def test_search_is_seeded_and_marks_its_front(tmp_path):
    from archsim.dse.search import search

    space = {"gpu.memory_bw_gb_per_s": [80, 160, 320, 640], "gpu.kernel_overhead_us": [1, 5, 10]}
    wl = {"model": "gpt2-small", "prompt": 8, "tokens": 2}
    a = search("t4", space, wl, objectives=["latency_s", "energy_j"], trials=8, seed=1)
    b = search("t4", space, wl, objectives=["latency_s", "energy_j"], trials=8, seed=1,
               store=tmp_path / "s.sqlite", out=tmp_path / "s.csv")
    pd.testing.assert_frame_equal(a, b)
    assert len(a) == 8 and a["pareto"].any()
    front = a[a["pareto"]]
    assert (brute_force(a[["latency_s", "energy_j"]].to_numpy(), np.array([False, False])) == a["pareto"]).all()
    assert front["latency_s"].min() == a["latency_s"].min()

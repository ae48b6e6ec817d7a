"""Properties of the per-SM tile pipeline."""

from __future__ import annotations

from dataclasses import replace

import pytest

from archsim import arch
from archsim.base.errors import SimulationError
from archsim.cyclesim.engines import model_for
from archsim.cyclesim.tensor_core import Gemm, Machine, Tiling, estimate_cycles, simulate_gemm
from archsim.cyclesim.tensor_core.pipeline import _simulate

M4 = Machine.from_spec(arch.load("lut_tensor_core"))
G = Gemm(1024, 4096, 4096, "lut", "int8", "int2")


def test_deterministic_and_memoized():
    t = Tiling(64, 256, 64, 2, 2, 2)
    a = simulate_gemm(M4, G, t)
    _simulate.cache_clear()
    b = simulate_gemm(M4, G, t)
    assert a.cycles == b.cycles and a.energy_pj == b.energy_pj


def test_double_buffering_hides_load_latency():
    # a 64x512 block's accumulators fill the register file: one block per SM, so only its own stages overlap
    single = simulate_gemm(M4, G, Tiling(64, 512, 64, 2, 2, 1))
    double = simulate_gemm(M4, G, Tiling(64, 512, 64, 2, 2, 2))
    assert single.occupancy == double.occupancy == 1
    assert double.cycles < 0.8 * single.cycles


@pytest.mark.parametrize("field, factor", [("l2_bw_bytes_per_cycle", 2.0), ("hbm_bw_gb_per_s", 2.0),
                                           ("smem_bw_bytes_per_cycle", 2.0)])
def test_more_bandwidth_is_never_slower(field, factor):
    t = Tiling(32, 512, 32, 2, 2, 4)
    fast = replace(M4, **{field: getattr(M4, field) * factor})
    assert simulate_gemm(fast, G, t).cycles <= simulate_gemm(M4, G, t).cycles


def test_oversized_tile_does_not_fit():
    with pytest.raises(SimulationError, match="does not fit one SM"):
        simulate_gemm(M4, G, Tiling(256, 1024, 256, 4, 2, 4))


def test_warp_tile_must_match_the_instruction():
    with pytest.raises(SimulationError, match="multiple of the lut instruction 8x64x4"):
        simulate_gemm(M4, G, Tiling(8, 96, 32, 1, 1))


def test_estimate_tracks_the_simulation():
    for t in (Tiling(64, 512, 32, 2, 2, 4), Tiling(32, 256, 64, 1, 4, 3), Tiling(128, 128, 32, 2, 2, 2)):
        assert estimate_cycles(M4, G, t) == pytest.approx(simulate_gemm(M4, G, t).cycles, rel=0.3)


def test_lut_energy_counts_array_cycles():
    t = simulate_gemm(M4, G, Tiling(64, 256, 64, 2, 2, 2))
    lmmas = 1024 // 8 * 4096 // 64 * 4096 // 4  # M8 N64 K4 instructions (4 arrays stacked along M)
    assert t.array_cycles == lmmas * 2 * 4  # W_BIT cycles on each of the 4 arrays
    assert t.energy_pj["tensor_core"] == pytest.approx(t.array_cycles * 16.22)


def test_engine_rejects_a_mismatched_command():
    comp = arch.load("lut_tensor_core").component("gpu")
    engine = model_for("gpu", comp.impl, comp.params)
    work = {"M": 8, "N": 64, "K": 32, "path": "lut", "a_format": "int8", "w_format": "int2",
            "bm": 8, "bn": 64, "bk": 32, "wm": 1, "wn": 1}
    assert engine.cost("lut_gemm", work)[0] > 0
    with pytest.raises(SimulationError, match="path 'lut'"):
        engine.cost("mac_gemm", work)
    with pytest.raises(SimulationError, match="needs 'bm'"):
        engine.cost("lut_gemm", {k: v for k, v in work.items() if k != "bm"})

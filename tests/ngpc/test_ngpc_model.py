"""NGPC mapping, functional co-simulation (bit for bit, with planted faults) and engine microbenchmarks with
analytic answers."""

import dataclasses
import math

import numpy as np
import pytest

from archsim import arch, ngpc
from archsim.base.errors import ArchsimError, SimulationError
from archsim.cyclesim.engines.ngpc import NgpcModel, direct_mapped_misses
from archsim.cyclesim.program import Program
from archsim.cyclesim.run import run
from archsim.mapper import LOWERINGS, ngpc_engine
from archsim.mapper.ngpc import engine_parts
from archsim.mapper.ngpc_cosim import encode_job, mlp_engine
from archsim.workloads.hashgrid import engine_encode, random_tables
from archsim.workloads.ngp import NgpFrame, frame, get_app, mlp_reference


def small_frame(app="nerf", encoding="hashgrid", res=(24, 16), **kw):
    return frame(app, encoding, res, **kw)


def lower(fr, spec="ngpc", **kw):
    return LOWERINGS.get("ngpc")(fr, arch.load(spec), **kw)


def encode_jobs(prog):
    return [c.work["job"] for b in prog.blocks for c in b.commands if c.op == "encode"]


def test_nerf_grid_is_tiny_cuda_nn_s():
    g = get_app("nerf").hash_grid
    assert [g.resolution(lv) for lv in range(6)] == [16, 23, 31, 43, 59, 81]
    assert [g.hashed(lv) for lv in range(16)] == [False] * 5 + [True] * 11
    assert g.resolution(15) == 2048 and g.table_size(15) == 2 ** 19


@pytest.mark.parametrize("app,encoding", [("nerf", "hashgrid"), ("gia", "hashgrid"), ("nsdf", "densegrid"),
                                          ("nvr", "lowres")])
def test_mapped_encoding_equals_engine_format_reference_bit_for_bit(app, encoding):
    fr = small_frame(app, encoding, samples_per_ray=None)
    if app == "gia":   # GIA's 2^24-entry tables as 2^16 (same hashed/dense structure, small test tables)
        a = dataclasses.replace(fr.app, hash_grid=dataclasses.replace(fr.app.hash_grid, log2_hashmap_size=16))
        fr = NgpFrame(a, encoding, fr.width, fr.height, 1)
        assert any(fr.grid.hashed(lv) for lv in range(16)) and not fr.grid.hashed(0)
    prog = lower(fr, batch_samples=700)
    ints, _ = random_tables(fr.grid, seed=1)
    jobs = encode_jobs(prog)
    got = np.concatenate([encode_job(j, ints) for j in jobs])
    assert sum(j.queries for j in jobs) == fr.samples
    want = engine_encode(fr.grid, fr.points(0, fr.samples), ints)
    np.testing.assert_array_equal(got, want)


def test_planted_fault_wrong_scale_register_is_caught(monkeypatch):
    fr = small_frame()
    real = ngpc_engine.program_levels

    def off_by_one(cfg, fmt):
        regs = real(cfg, fmt)
        r = regs[7]
        regs[7] = type(r)(**{**r.__dict__, "scale_reg": r.scale_reg + 1})
        return regs

    monkeypatch.setattr("archsim.mapper.ngpc.program_levels", off_by_one)
    prog = lower(fr, batch_samples=1000)
    ints, _ = random_tables(fr.grid, seed=1)
    got = np.concatenate([encode_job(j, ints) for j in encode_jobs(prog)])
    want = engine_encode(fr.grid, fr.points(0, fr.samples), ints)
    bad = np.any(got != want, axis=0)
    assert bad[14] or bad[15]                     # level 7's features differ ...
    assert not bad[:14].any() and not bad[16:].any()  # ... and only those


def test_planted_fault_dropped_engine_slice_is_caught(monkeypatch):
    def drop_last(levels, engines, n):
        parts = engine_parts(levels, engines, n)
        parts[-1] = []
        return parts

    monkeypatch.setattr("archsim.mapper.ngpc.engine_parts", drop_last)
    fr = small_frame()
    prog = lower(fr, batch_samples=1000)
    ints, _ = random_tables(fr.grid, seed=1)
    with pytest.raises(SimulationError, match="never encoded"):
        encode_job(encode_jobs(prog)[0], ints)


def test_fewer_levels_than_engines_split_queries():
    parts = engine_parts(2, 16, 100)
    assert [p[0][0] for p in parts] == [0] * 8 + [1] * 8
    assert sum(b - a for p in parts[:8] for _, a, b in p) == 100


def test_mlp_engine_matches_numpy():
    rng = np.random.default_rng(2)
    fr = small_frame()
    x = rng.standard_normal((300, 32)).astype(np.float16)
    for m in fr.mlps(300):
        ws = [(rng.standard_normal(s) / np.sqrt(s[0])).astype(np.float16) for s in m.layer_shapes()]
        got = mlp_engine(x, ws, m.output_activation).astype(np.float32)
        want = mlp_reference(x, ws, m.output_activation).astype(np.float32)
        np.testing.assert_allclose(got, want, rtol=2e-3, atol=2e-3)
    # a fan-in wider than the array goes in tiles whose partial sums accumulate
    w = [rng.standard_normal((150, 70)).astype(np.float16) / 10]
    x2 = rng.standard_normal((20, 150)).astype(np.float16)
    np.testing.assert_allclose(mlp_engine(x2, w).astype(np.float32), mlp_reference(x2, w).astype(np.float32),
                               rtol=3e-3, atol=3e-3)


def test_planted_fault_mlp_engine_dropped_tile_is_caught():
    rng = np.random.default_rng(3)
    w = [rng.standard_normal((150, 70)).astype(np.float16) / 10]
    x = rng.standard_normal((20, 150)).astype(np.float16)
    w_bad = [w[0].copy()]
    w_bad[0][128:] = 0                                  # what skipping the last fan-in tile computes
    assert not np.allclose(mlp_engine(x, w_bad).astype(np.float32), mlp_reference(x, w).astype(np.float32),
                           rtol=3e-3, atol=3e-3)


# -- microbenchmarks -------------------------------------------------------------------------------------------
def loop_cache(lines, n_sets, warm=()):
    tags = {}
    for ln in warm:
        tags[ln % n_sets] = ln
    miss = 0
    for ln in lines:
        if tags.get(ln % n_sets) != ln:
            miss += 1
            tags[ln % n_sets] = ln
    return miss


def test_direct_mapped_cache_matches_a_loop():
    rng = np.random.default_rng(0)
    for n_sets in (1, 7, 64):
        warm = rng.integers(0, 300, 200)
        lines = rng.integers(0, 300, 1000)
        assert direct_mapped_misses(lines, n_sets, warm) == loop_cache(lines.tolist(), n_sets, warm.tolist())


class Stream:
    """An encode job made of given corner addresses (one engine, one level of ``table_bytes``)."""

    def __init__(self, addr, warm=None, entry_bytes=4, table_bytes=2**21):
        self.addr, self.warm, self.eb, self.tb = addr, warm, entry_bytes, table_bytes
        self.representative, self.memo, self.queries = self, {}, addr.shape[0]

    def table_bytes(self):
        return [self.tb]

    def engine_streams(self):
        return [{"addr": self.addr, "warm": self.warm, "entry_bytes": self.eb,
                 "levels": np.zeros(self.addr.shape[0], np.int64)}]


def ngpc_params(**over):
    return {**arch.load("ngpc").component("ngpc").params, **over}


def test_all_hit_stream_runs_one_query_per_cycle():
    p = ngpc_params()
    m = NgpcModel("e", "NGPC", p)
    n = 5000
    # 8 corners of one resident 64-byte line... every query reads lines already in the SRAM
    addr = (np.arange(n)[:, None] % 32 * 64 + np.arange(8)[None, :] * 4).astype(np.int64)
    job = Stream(addr, warm=addr[:32])
    cycles, _ = m.cost("encode", {"job": job})
    depth = p["pos_fract_cycles"] + p["grid_index_cycles"] + p["interp_cycles"]
    assert m.job_stats(job)["misses"] == 0
    assert cycles == n + depth                     # one query per cycle after the pipeline fills


def test_index_banking_conflicts_cost_cycles():
    p = ngpc_params(bank_mapping="index")
    m = NgpcModel("e", "NGPC", p)
    n = 100
    addr = np.tile(np.arange(8) * 8 * 4, (n, 1)).astype(np.int64)   # 8 entries 8 apart: all in bank 0
    job = Stream(addr, warm=addr[:1])
    assert m.job_stats(job)["issue_cycles"] == 8 * n
    two = NgpcModel("e", "NGPC", ngpc_params(bank_mapping="index", num_grid_sram_ports=2))
    assert two.job_stats(Stream(addr, warm=addr[:1]))["issue_cycles"] == 4 * n
    # parity banking with 4 banks: two corners per bank, one port: 2 cycles per query
    four = NgpcModel("e", "NGPC", ngpc_params(num_grid_sram_banks=4))
    assert four.job_stats(Stream(addr, warm=addr[:1]))["issue_cycles"] == 2 * n


@pytest.mark.parametrize("path,table_bytes", [("l2", 2**20), ("dram", 2**24)])
def test_all_miss_stream_is_bound_by_the_fill_bandwidth(path, table_bytes):
    """8 NFPs each streaming distinct lines of an L2-resident (1 MiB) or a DRAM (16 MiB) table: the frame takes
    the shared path's bytes / its bandwidth."""
    spec = arch.load("ngpc").with_overrides({"ngpc.num_mshrs": 4096, "ngpc.l2_latency_cycles": 10,
                                             "ngpc.dram_latency_cycles": 10})
    p = spec.component("ngpc").params
    n_nfp, n = p["num_nfps"], 4000
    prog = Program({**{f"enc{k}": "ngpc" for k in range(n_nfp)}, "l2": "ngpc", "dram": "ngpc"})
    blk = prog.block()
    for k in range(n_nfp):
        addr = ((k * n * 8 + np.arange(n * 8)) * 64).reshape(n, 8).astype(np.int64)  # a new line per read
        job = Stream(addr, table_bytes=table_bytes)
        blk.add(f"enc{k}", "encode", {"job": job})
        blk.add("l2", "fill_l2", {"job": job})
        blk.add("dram", "fill_dram", {"job": job})
    r = run(prog, spec)
    nbytes = n_nfp * n * 8 * 64
    bound_s = nbytes / (p[f"{path}_bw_gb_per_s"] * 1e9)
    assert r.seconds == pytest.approx(bound_s, rel=1e-3)
    assert r.seconds > 2 * n / (p["freq_mhz"] * 1e6)   # far slower than one query per cycle
    other = "dram" if path == "l2" else "l2"
    assert r.components[other]["busy_cycles"] <= n_nfp  # the other path moved nothing (1 cycle per command)


def test_l2_residency_is_smallest_tables_first():
    from archsim.cyclesim.engines.ngpc import l2_resident
    assert l2_resident([100, 10, 50, 2000], 160).tolist() == [True, True, True, False]
    assert l2_resident([100, 10, 50, 2000], 59).tolist() == [False, True, False, False]


def test_latency_bound_engine():
    """Every read misses to DRAM with few MSHRs: the engine waits misses x latency / MSHRs."""
    p = ngpc_params(num_mshrs=4)
    m = NgpcModel("e", "NGPC", p)
    n = 500
    addr = (np.arange(n * 8) * 64).reshape(n, 8).astype(np.int64)
    st = m.job_stats(Stream(addr, table_bytes=2**24))
    depth = p["pos_fract_cycles"] + p["grid_index_cycles"] + p["interp_cycles"]
    lat = p["dram_latency_cycles"]
    assert st["misses"] == n * 8 and st["misses_l2"] == 0
    assert st["cycles"] == math.ceil(n * 8 * lat / 4) + depth + lat


def test_mlp_layer_batch_takes_the_analytic_cycles():
    spec = arch.load("ngpc")
    p = spec.component("ngpc").params
    m = NgpcModel("m", "NGPC", p)
    R, C, load = p["num_mlp_rows"], p["num_mlp_cols"], p["mlp_weight_load_cycles"]
    rows = 4096
    # one 64x64 layer: load the tile, stream 4096 rows, drain the R + C - 2 cycle wavefront
    assert m.cost("mlp", {"rows": rows, "layers": ((64, 64),)})[0] == load + rows + R + C - 2
    # 150 -> 70 needs 3 x 2 tiles
    assert m.cost("mlp", {"rows": rows, "layers": ((150, 70),)})[0] == 6 * (load + rows + R + C - 2)


def test_frame_speedup_comes_from_the_engines_and_saturates_at_the_rest():
    fr = small_frame(res=(96, 54))
    r8 = ngpc.simulate_frame("ngpc", fr, batch_samples=4096, sample_queries=None)
    r64 = ngpc.simulate_frame("ngpc_64", fr, batch_samples=4096, sample_queries=None)
    assert r64.encoding_seconds < r8.encoding_seconds and r64.mlp_seconds < r8.mlp_seconds
    assert r8.speedup < r64.speedup
    # the frame is never shorter than the GPU's fused rest of kernels or the NGPC's own work
    assert r64.seconds >= r64.rest_seconds and r64.seconds >= max(r64.encoding_seconds, r64.mlp_seconds)
    assert 0 < r64.hit_rate < 1 and r64.miss_bytes > 0


def test_sampled_simulation_is_close_to_the_full_one():
    fr = small_frame(res=(160, 90))
    full = ngpc.simulate_frame("ngpc_16", fr, batch_samples=8192, sample_queries=None)
    samp = ngpc.simulate_frame("ngpc_16", fr, batch_samples=8192, sample_queries=12 * 512)
    assert samp.measured_jobs == 12 < full.measured_jobs == full.jobs
    assert samp.seconds == pytest.approx(full.seconds, rel=0.1)


def test_deterministic():
    fr = small_frame()
    a = ngpc.simulate_frame("ngpc", fr, batch_samples=512).row()
    b = ngpc.simulate_frame("ngpc", small_frame(), batch_samples=512).row()
    assert a == b


def test_bad_inputs_are_one_line_errors():
    with pytest.raises(ArchsimError, match="expected an NGPC spec"):
        ngpc.simulate_frame("rtx3090", "nerf")
    with pytest.raises(ArchsimError, match="unknown app"):
        ngpc.simulate_frame("ngpc", "doom")
    with pytest.raises(ArchsimError, match="resolution"):
        ngpc.simulate_frame("ngpc", "nerf", res="16k")
    with pytest.raises(ArchsimError, match="occupancy"):
        frame("nerf", occupancy=0)
    with pytest.raises(ArchsimError, match="batch_samples"):
        ngpc.simulate_frame("ngpc", small_frame(), batch_samples=0)


def test_specs_scale_the_cluster_and_keep_the_baseline():
    specs = {n: arch.load(n) for n in ("ngpc", "ngpc_8", "ngpc_16", "ngpc_32", "ngpc_64")}
    assert [s["ngpc.num_nfps"] for s in specs.values()] == [8, 8, 16, 32, 64]
    assert all(s["ngp_baseline.rest_fused_speedup_ratio"] == 9.94 for s in specs.values())
    assert all(s["gpu.memory_bw_gb_per_s"] == 936.0 for s in specs.values())   # extends rtx3090.yaml
    a8, a64 = ngpc.area_mm2(specs["ngpc"]), ngpc.area_mm2(specs["ngpc_64"])
    assert a64["total_mm2"] == pytest.approx(8 * a8["total_mm2"])
    assert a8["grid_sram_mm2"] == pytest.approx(8 * 16 * 1.0 * 0.4)


def test_sampled_jobs_are_measured_exactly():
    """A measured job of a sampled program has the stats the full program gives the same NFP batch."""
    fr = small_frame(res=(64, 36))
    spec = arch.load("ngpc_16")
    model = NgpcModel("x", "NGPC", spec.component("ngpc").params)
    full = {(j.batch, j.nfp): j for j in encode_jobs(lower(fr, "ngpc_16", batch_samples=2048))}
    samp = encode_jobs(lower(fr, "ngpc_16", batch_samples=2048, sample_jobs=5))
    reps = {id(j.representative): j.representative for j in samp}
    assert len(reps) == 5
    for rep in reps.values():
        assert model.job_stats(rep) == model.job_stats(full[(rep.batch, rep.nfp)])


def test_ngpc_batches_overlap_the_gpu_rest():
    fr = small_frame(res=(96, 54))
    r = ngpc.simulate_frame("ngpc", fr, batch_samples=2048, sample_queries=None)
    serial = r.rest_seconds + r.encoding_seconds + r.mlp_seconds   # nothing overlapped
    assert max(r.rest_seconds, r.encoding_seconds, r.mlp_seconds) <= r.seconds < serial

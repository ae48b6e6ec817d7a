"""The LUT Tensor Core what-if variants (issue 12): each loads and runs; the new parameters follow their rules
(expected values from the definitions, not from the model); Welder-style element-wise fusion saves exactly the
launches and the intermediate traffic it should."""

from __future__ import annotations

from dataclasses import replace

import pytest

from archsim import arch, mapper, workloads
from archsim.cyclesim.tensor_core import Gemm, Machine, simulate_gemm
from archsim.cyclesim.tensor_core.machine import TABLE_ENTRIES
from archsim.cyclesim.tensor_core.pipeline import measured_peak_ops_per_s, table_bytes_per_group
from archsim.mapper.tensor_core_search import search
from archsim.reproduce.ladder import changes

VARIANTS = {"a100_fp16_tc_accelsim": "a100_fp16_tc", "a100_fp16_tc_mamf": "a100_fp16_tc",
            "a100_lut_8x_mamf": "a100_lut_8x", "a100_lut_8x_drm": "a100_lut_8x",
            "a100_lut_8x_row_scales": "a100_lut_8x"}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_each_variant_loads_and_runs_a_gemm(name):
    m = Machine.from_spec(arch.load(name))
    g = Gemm(1024, 4096, 4096, "lut", "int8", "uint2") if m.is_lut else Gemm(1024, 4096, 4096, "mac", "fp16", "fp16")
    t = simulate_gemm(m, g, search(m, g).tiling)
    assert t.cycles > 0 and changes(name, VARIANTS[name])


def test_accelsim_config_is_what_the_authors_state():
    """4 units x HMMA 16x8x16 every 8 cycles = 1,024 MACs per SM per cycle; 65,536 x 4-byte registers."""
    m = Machine.from_spec(arch.load("a100_fp16_tc_accelsim"))
    assert m.tensor_cores == 4 and m.macs_per_tc_per_cycle == 16 * 8 * 16 // 8
    assert m.regfile_bytes == 65536 * 4 and m.smem_bytes == 256 * 1024
    assert m.peak_ops_per_s("mac") == pytest.approx(108 * 4 * 256 * 2 * 1.41e9)  # the 312 TFLOPs peak


def test_mma_issue_fraction_stretches_tensor_time_exactly():
    """The cycle model's measured peak (memory unlimited) scales with the fraction: 1/2 gives half, exactly."""
    m = Machine.from_spec(arch.load("a100_fp16_tc"))
    full = measured_peak_ops_per_s(m, "mac")
    assert measured_peak_ops_per_s(replace(m, mma_issue_fraction=0.5), "mac") == full / 2
    lut = Machine.from_spec(arch.load("a100_lut_8x"))
    assert measured_peak_ops_per_s(replace(lut, mma_issue_fraction=0.5), "lut", 2) == \
        measured_peak_ops_per_s(lut, "lut", 2) / 2


def test_table_scale_bytes_rule():
    """An 8-entry INT8 table plus its scale: 8 + 2 bytes as shipped (2.5 B per activation), 8 with row scales;
    exact tables (16-bit) carry no scale."""
    ship = Machine.from_spec(arch.load("a100_lut_8x"))
    rows = Machine.from_spec(arch.load("a100_lut_8x_row_scales"))
    assert table_bytes_per_group(ship, "int8") == TABLE_ENTRIES * 1 + 2
    assert table_bytes_per_group(rows, "int8") == TABLE_ENTRIES * 1
    assert table_bytes_per_group(replace(ship, table_bits=16), "int8") == TABLE_ENTRIES * 2


def test_double_register_file_lets_larger_tiles_fit():
    ship, drm = (Machine.from_spec(arch.load(n)) for n in ("a100_lut_8x", "a100_lut_8x_drm"))
    assert drm.regfile_bytes == 2 * ship.regfile_bytes
    g = Gemm(1024, 8192, 8192, "lut", "int8", "uint2")
    a, b = simulate_gemm(ship, g, search(ship, g).tiling), simulate_gemm(drm, g, search(drm, g).tiling)
    assert b.cycles <= a.cycles


def _kernels(elementwise: str):
    cfg = workloads.get_model("bitnet-b1.58-3b").replace(n_layers=1)
    wl = workloads.model(cfg).prefill(prompt=256)
    prog = mapper.compile(wl, arch.load("a100_lut_8x"), elementwise=elementwise)
    return wl.step(0).graph, [c for b in prog.blocks for c in b.commands]


def test_welder_fusion_merges_elementwise_chains_and_saves_their_traffic():
    """Every merged kernel 'a~b~...' is one launch; its bytes are the parts' bytes minus, per link, the
    intermediate read (and its write too when the consumer is the only reader), from the graph's op sizes."""
    graph, sep = _kernels("separate")
    _, fused = _kernels("fused")
    by_label = {c.label: c for c in sep}
    merged = [c for c in fused if "~" in c.label]
    assert merged, "BitNet's SwiGLU (silu -> mul) is an element-wise chain"
    consumers: dict[str, list[str]] = {}
    for name in graph.topo():
        for src in graph.inputs(name):
            consumers.setdefault(src, []).append(name)
    for c in merged:
        parts = c.label.split("~")
        expect = sum(by_label[p].work["bytes"] for p in parts)
        for a, b in zip(parts, parts[1:]):
            a_op = a.split("+")[0]
            expect -= (2 if consumers[a_op] == [b.split("+")[0]] else 1) * graph.op(a_op).bytes_written()
        assert c.work["bytes"] == expect, c.label
    assert len(sep) - len(fused) == sum(c.label.count("~") for c in merged)
    # nothing else changed: the GEMMs are the same commands
    assert [c.work for c in sep if c.op.endswith("_gemm")] == [c.work for c in fused if c.op.endswith("_gemm")]


def test_unknown_elementwise_mode_is_refused():
    from archsim.base.errors import MappingError

    wl = workloads.model(workloads.get_model("bitnet-b1.58-3b").replace(n_layers=1)).prefill(prompt=16)
    with pytest.raises(MappingError, match="elementwise"):
        mapper.compile(wl, arch.load("a100_lut_8x"), elementwise="welded")

"""The LUT Tensor Core specs and their kinds: load, sources, Table 1 peaks, cross checks."""

from __future__ import annotations

import re

import pytest

from archsim import arch
from archsim.base.errors import ArchSpecError
from archsim.cyclesim.tensor_core import Machine

SPECS = {  # spec -> (Table 1 peak, LUT arrays per tensor core or 0)
    "a100_fp16_tc": (312, 0), "a100_int8_tc": (624, 0), "lut_tensor_core": (1248, 4), "a100_lut_8x": (2496, 8),
    "h100_fp8_tc": (1525, 0), "h100_lut_4x": (1525, 4), "h100_lut_8x": (3049, 8),
}
TAG = re.compile(r"\[(paper|secondary|derived|assumed)")
GPU_LEVEL = ("sms", "tensor_cores_per_sm", "freq_mhz", "memory_bytes", "hbm_bw_gb_per_s", "hbm_efficiency_fraction",
             "dram_latency_cycles", "l2_bytes", "l2_bw_bytes_per_cycle", "smem_per_sm_bytes",
             "smem_bw_bytes_per_cycle", "regfile_per_sm_bytes", "warps_per_sm", "num_blocks_per_sm",
             "cuda_core_ops_per_cycle", "sfu_ops_per_cycle", "fp16_macs_per_sm_per_cycle", "kernel_overhead_us")


@pytest.mark.parametrize("name", sorted(SPECS))
def test_spec_loads_with_a_tagged_source_for_every_written_value(name):
    spec = arch.load(name)
    assert spec.family == "tensor_core_gpu"
    comp = spec.component("gpu")
    for key in spec.raw_params("gpu"):
        src = comp.source_of(key)
        assert src and TAG.search(src), f"{name}: gpu.{key} source {src!r} has no [paper]/[derived]/... tag"


@pytest.mark.parametrize("name", sorted(SPECS))
def test_analytic_peak_reproduces_table1(name):
    m = Machine.from_spec(arch.load(name))
    peak, x = SPECS[name]
    if m.is_lut:
        assert m.arrays_per_tc == x
        formula = m.sms * 4 * (x * 512 / 2) * 2 * 1.41e9  # BitNet: W_BIT = 2
        assert m.peak_ops_per_s("lut", 2) == pytest.approx(formula, rel=1e-12)
        got = m.peak_ops_per_s("lut", 2)
    else:
        got = m.peak_ops_per_s("mac")
    assert got / 1e12 == pytest.approx(peak, rel=2e-3)


@pytest.mark.parametrize("lut, mac", [("lut_tensor_core", "a100_fp16_tc"), ("h100_lut_4x", "h100_fp8_tc")])
def test_lut_and_mac_specs_share_the_gpu(lut, mac):
    a, b = arch.load(lut).component("gpu"), arch.load(mac).component("gpu")
    for key in GPU_LEVEL:
        assert a[key] == b[key], key


def test_tc_area_per_sm_matches_the_arrays():
    m = Machine.from_spec(arch.load("a100_lut_8x"))
    assert m.tc_area_per_sm_mm2("int8") == pytest.approx(32 * 11991e-6)
    assert m.tc_area_per_sm_mm2("int16") is None  # not given: unknown, never invented
    assert Machine.from_spec(arch.load("a100_fp16_tc")).tc_area_per_sm_mm2() == pytest.approx(0.975)


BAD = [
    ("gpu.tile_k", 8, "expected 4"),
    ("gpu.act_formats", "int8,bf16", "subset of int8, int16, fp16, fp8_e4m3"),
    ("gpu.table_bits", 40, "expected 2..32"),
    ("gpu.max_weight_bits", 8, "INT1-INT4"),
    ("gpu.fp16_macs_per_sm_per_cycle", 1000, "multiple of tensor_cores_per_sm"),
]


@pytest.mark.parametrize("key, value, message", BAD)
def test_lut_cross_checks(key, value, message):
    with pytest.raises(ArchSpecError, match=re.escape(message)):
        arch.load("lut_tensor_core", set={key: value})


def test_area_keys_must_be_accepted_formats():
    with pytest.raises(ArchSpecError, match="expected keys among the act_formats"):
        arch.load("lut_tensor_core", set={"gpu.act_formats": "int8"})


def test_mac_instruction_must_take_whole_cycles():
    with pytest.raises(ArchSpecError, match="macs_per_tensor_core_per_cycle"):
        arch.load("a100_fp16_tc", set={"gpu.macs_per_tensor_core_per_cycle": 300})


def test_unknown_lut_parameter_names_the_expected_ones():
    with pytest.raises(ArchSpecError, match="unknown parameter 'mac_format' for impl LutTensorCoreGPU"):
        arch.load("lut_tensor_core", set={"gpu.mac_format": "fp16"})

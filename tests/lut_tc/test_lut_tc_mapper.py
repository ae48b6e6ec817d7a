"""The tensor_core_gpu lowering and the tiling search."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest

from archsim import arch
from archsim import mapper
from archsim import workloads
from archsim.base.errors import MappingError
from archsim.cyclesim.run import run
from archsim.cyclesim.tensor_core import Gemm, Machine, estimate_cycles, simulate_gemm
from archsim.mapper.tensor_core_search import enumerate_tilings, search

SMALL = workloads.get_model("bitnet-b1.58-3b").scaled(n_layers=2, d_model=256, n_heads=4, d_ff=512, vocab=1000,
                                                        name="bitnet-small")


def compile_(spec="lut_tensor_core", model=SMALL, prompt=64, batch=1, **opts):
    return mapper.compile(workloads.model(model).prefill(prompt=prompt, batch=batch), arch.load(spec), **opts)


def ops(program):
    return Counter(c.op for c in program.commands())


def labels(program):
    return [c.label for c in program.commands()]


def test_fused_precompute_rides_on_the_elementwise_producers():
    p = compile_()
    c = ops(p)
    assert c["lut_gemm"] == 2 * 5  # qkv, out, gate, up, down per layer
    assert c["precompute"] == 2  # attn.out: its producer (attention) is not element-wise
    assert {"L0.attn.norm+tables", "L0.mlp.norm+tables", "L0.mlp.mul+tables"} <= set(labels(p))
    assert all(c.work["tables"] == "global" for c in p.commands() if c.op == "lut_gemm")


def test_gate_and_up_share_one_table_set_and_fusion_replaces_the_activation_write():
    fused, none = compile_(precompute="fused"), compile_(precompute="none")
    f = {c.label: c.work["bytes"] for c in fused.commands() if c.op == "rmsnorm"}
    n = {c.label: c.work["bytes"] for c in none.commands() if c.op == "rmsnorm"}
    m = SMALL
    rows, groups = 64, m.d_model // 4
    tables = rows * groups * 10  # 8 INT8 entries + an FP16 scale
    act_write = rows * m.d_model * 2
    assert f["L0.mlp.norm+tables"] - n["L0.mlp.norm"] == tables - act_write  # once, for gate and up


@pytest.mark.parametrize("mode, precompute_kernels, inline", [("kernel", 8, False), ("inline", 0, True),
                                                              ("none", 0, False)])
def test_precompute_modes(mode, precompute_kernels, inline):
    p = compile_(precompute=mode)
    assert ops(p)["precompute"] == precompute_kernels
    assert all((c.work["tables"] == "inline") == inline for c in p.commands() if c.op == "lut_gemm")
    assert not any(lab.endswith("+tables") for lab in labels(p))


def test_precompute_costs_time_and_fusion_costs_less():
    spec = arch.load("lut_tensor_core")
    wl = workloads.model(SMALL).prefill(prompt=256)
    t = {mode: run(mapper.compile(wl, spec, precompute=mode), spec).cycles for mode in ("none", "fused", "kernel")}
    assert t["none"] < t["fused"] < t["kernel"]


@pytest.mark.parametrize("name, fmt, bits, act", [("llama2-7b", "uint", 2, "fp16"), ("llama2-13b", "int", 4, "int8"),
                                                  ("llama2-70b", "uint", 1, "fp16"), ("opt-175b", "binary", 1, "fp16")])
def test_one_layer_of_each_paper_model_lowers_onto_lut_arrays(name, fmt, bits, act):
    cfg = workloads.get_model(name).replace(n_layers=1, weight_format=fmt, weight_bits=bits, act_format=act)
    spec = arch.load("a100_lut_8x")
    for wl in (workloads.model(cfg).prefill(prompt=128), workloads.model(cfg).decode(prompt=128, tokens=1)):
        p = mapper.compile(wl, spec)
        lut = [c for c in p.commands() if c.op == "lut_gemm"]
        assert len(lut) == (5 if cfg.gated else 4) and ops(p)["precompute"] == 1  # only attn.out's producer
        assert run(p, spec).seconds > 0


def test_mac_baselines_dequantize_and_dense_ops_use_the_fp16_path():
    p = compile_("a100_int8_tc")
    gemms = [c for c in p.commands() if c.op == "mac_gemm"]
    assert gemms and all(c.work["w_format"] == "int2" for c in gemms)
    assert any(c.op == "dense_gemm" and c.label == "head.lm" for c in p.commands())
    assert ops(p)["precompute"] == 0


def test_linear_format_fp8_needs_an_fp8_tensor_core():
    dense = SMALL.replace(weight_format=None, weight_bits=None, act_format=None)
    p = compile_("h100_fp8_tc", model=dense, linear_format="fp8_e4m3")
    assert {c.work["w_format"] for c in p.commands() if c.op == "mac_gemm"} == {"fp8_e4m3"}
    with pytest.raises(MappingError, match="no fp8_e4m3 tensor-core path"):
        compile_("a100_fp16_tc", model=dense, linear_format="fp8_e4m3")


def test_fused_attention_is_one_kernel():
    p = compile_(attention="fused")
    assert ops(p)["attention"] == 2 and ops(p)["softmax"] == 0


@pytest.mark.parametrize("override, message", [
    ({"weight_format": "uint", "weight_bits": 8}, "take at most 4 bits"),
    ({"act_format": "bf16"}, "accept int8, int16, fp16, fp8_e4m3"),
])
def test_unsupported_formats_are_mapping_errors(override, message):
    with pytest.raises(MappingError, match=message):
        compile_(model=SMALL.replace(**override))


@pytest.mark.parametrize("opts, message", [({"precompute": "later"}, "precompute = 'later'"),
                                           ({"attention": "flash"}, "attention = 'flash'"),
                                           ({"linear_format": "fp7"}, "linear_format = 'fp7'")])
def test_bad_options(opts, message):
    with pytest.raises(MappingError, match=message):
        compile_(**opts)


def test_model_that_does_not_fit_memory():
    with pytest.raises(MappingError, match="GB of weights and KV cache"):
        mapper.compile(workloads.model("llama2-70b").decode(prompt=8, tokens=1), arch.load("lut_tensor_core"))


def test_burst_and_command_modes_agree_and_layers_are_reused():
    spec = arch.load("a100_lut_8x")
    p = compile_("a100_lut_8x", model=SMALL.replace(n_layers=4))
    burst, command = run(p, spec, mode="burst"), run(p, spec, mode="command")
    assert burst.ticks == command.ticks and burst.blocks_reused == 3
    assert burst.energy_pj == command.energy_pj


def test_search_reports_progress_and_is_deterministic():
    m = Machine.from_spec(arch.load("lut_tensor_core"))
    g = Gemm(512, 4096, 4096, "lut", "int8", "int2")
    seen = []
    r1 = search(m, g, progress=lambda done, total, msg: seen.append((done, total, msg)))
    r2 = search(m, g)
    assert r1.tiling == r2.tiling and r1.timing.cycles == r2.timing.cycles
    assert seen[-1][0] == seen[-1][1] and "simulated" in seen[-1][2]
    best_estimate = min(enumerate_tilings(m, g), key=lambda t: (estimate_cycles(m, g, t) or float("inf"), t))
    assert r1.timing.cycles <= simulate_gemm(m, g, best_estimate).cycles  # exact simulation refines the ranking
    assert "block" in r1.describe() and f"{r1.candidates} candidates" in r1.describe()


def test_chosen_tiling_is_reported():
    p = compile_()
    assert p.meta["report"]["tiling"] and "lut: block" in p.meta["report"]["tiling"]
    assert "attn.qkv" in p.meta["tilings"]


def test_search_space_respects_the_instruction_shape():
    m = Machine.from_spec(arch.load("a100_lut_8x"))  # lmma M16 N64 K4 (8 arrays stacked along M)
    ts = enumerate_tilings(m, Gemm(1024, 4096, 4096, "lut", "int8", "int2"))
    assert ts and all(t.warp_m % 16 == 0 and t.warp_n % 64 == 0 and t.bk % 4 == 0 for t in ts)
    gemv = enumerate_tilings(m, Gemm(1, 4096, 4096, "lut", "int8", "int2"))
    assert {t.bm for t in gemv} == {16}


def test_nothing_fits_is_a_mapping_error():
    m = replace(Machine.from_spec(arch.load("lut_tensor_core")), smem_bytes=64)
    with pytest.raises(MappingError, match="no tiling"):
        search(m, Gemm(64, 64, 64, "lut", "int8", "int2"))

"""Parameters that tell the truth: show's sources, no parameter a model ignores, validate runs run's checks,
workload figures with their own units, Result.to_json names the workload as data."""

import json
import math

import pytest

import archsim
from archsim import arch
from archsim.base.errors import ArchSpecError, ArchsimError, WorkloadError
from archsim.cli import main
from archsim.cyclesim.engines import model_for


def cli(capsys, *argv):
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


GPU_YAML = """\
name: bare_gpu
family: gpu
components:
  gpu:
    impl: GPU
    model: test GPU
    freq_mhz: 1000
    fp16_tensor_tflops: {value: 100.0, source: "a cited figure"}
    fp32_tflops: 10.0
    memory_bytes: 17179869184
    memory_bw_gb_per_s: 500.0
    board_power_w: 100.0
"""


# -- show ----------------------------------------------------------------------------------------------------

def test_show_sources_defaults_and_unsourced_values(tmp_path, capsys):
    f = tmp_path / "bare_gpu.yaml"
    f.write_text(GPU_YAML)
    rc, out, _ = cli(capsys, "show", str(f), "--json")
    assert rc == 0
    rows = {r["path"]: r for r in json.loads(out)["parameters"]}
    assert rows["gpu.fp16_tensor_tflops"]["source"] == "a cited figure"
    assert rows["gpu.fp32_tflops"]["source"] == "written in the YAML without a source"
    assert not rows["gpu.fp32_tflops"]["default"]
    assert rows["gpu.kernel_overhead_us"]["source"] == "default of the component kind"   # not written: default
    assert rows["gpu.kernel_overhead_us"]["default"]


def test_show_default_is_not_given_the_block_source(capsys):
    # t4's gpu block has a source; fp8_tensor_tflops is not written in t4.yaml, so it is the kind's default
    rc, out, _ = cli(capsys, "show", "t4", "--json")
    rows = {r["path"]: r for r in json.loads(out)["parameters"]}
    assert rows["gpu.fp8_tensor_tflops"]["source"] == "default of the component kind"
    assert rows["gpu.memory_bw_gb_per_s"]["source"] == "[paper reference] 320 GB/s"
    rc, out, _ = cli(capsys, "show", "t4")
    line = next(x for x in out.splitlines() if "gpu.fp8_tensor_tflops" in x)
    assert line.rstrip().endswith("default of the component kind")


# -- every GPU parameter is read by the model or refused ---------------------------------------------------

WORKS = [  # one kernel of each kind the roofline distinguishes
    {"flops": 1e9, "bytes": 1e3, "math": "fp16", "tensor": True, "kernels": 1},     # tensor-bound FP16
    {"flops": 1e9, "bytes": 1e3, "math": "int8", "tensor": True, "kernels": 1},     # tensor-bound INT8
    {"flops": 1e9, "bytes": 1e3, "math": "fp8_e4m3", "tensor": True, "kernels": 1},  # tensor-bound FP8
    {"flops": 1e9, "bytes": 1e3, "math": "fp16", "tensor": False, "kernels": 1},    # CUDA-core bound
    {"flops": 1e3, "bytes": 1e9, "math": "fp16", "tensor": True, "kernels": 1},     # memory bound
    {"flops": 0, "bytes": 0, "kernels": 3},                                         # launch overhead only
]


def _observed(params):
    m = model_for("gpu", "GPU", params)
    return (m.clock_mhz, m.static_mw, tuple(m.cost("k", w) for w in WORKS))


def test_every_numeric_gpu_parameter_changes_the_model_or_is_checked():
    spec = arch.load("t4", set={"gpu.fp8_tensor_tflops": 100.0})
    base = dict(spec.component("gpu").params)
    kind = arch.get_kind("GPU")
    numeric = [k for k, p in kind.params.items() if p.type in ("int", "float")]
    assert set(numeric) >= {"freq_mhz", "fp16_tensor_tflops", "memory_bw_gb_per_s", "memory_bytes"}
    for key in numeric:
        if key == "memory_bytes":  # capacity: checked against the weights + KV cache instead
            with pytest.raises(ArchsimError, match="capacity of 1,000 bytes"):
                archsim.simulate(spec, "gpt2-small", set={"gpu.memory_bytes": 1000})
            continue
        changed = dict(base)
        v = base[key]
        changed[key] = v / 2 if kind.params[key].max is not None else (v * 2 if v else 1.0)
        assert _observed(changed) != _observed(base), f"gpu.{key} changes nothing in the GPU model"


@pytest.mark.parametrize("key", ["sms", "tensor_cores_per_sm", "l2_bytes", "smem_per_sm_bytes",
                                 "regfile_per_sm_bytes"])
def test_parameters_no_model_reads_are_refused(key):
    with pytest.raises(ArchSpecError, match=f"unknown parameter '{key}'"):
        arch.load("t4", set={f"gpu.{key}": 8})


def test_roofline_equation():
    """One FP16 tensor kernel on the T4: 10 us overhead + max(1e12 FLOP / 65 TFLOP/s, 1e6 B / (320 GB/s x 0.8))."""
    p = dict(arch.load("t4").component("gpu").params)
    cycles, pj = model_for("gpu", "GPU", p).cost("gemm", {"flops": 1e12, "bytes": 1e6, "math": "fp16",
                                                          "tensor": True, "kernels": 1})
    s = 10e-6 + max(1e12 / 65e12, 1e6 / (320e9 * 0.8))
    assert cycles == math.ceil(s * 1590e6)
    assert pj == pytest.approx((70 - 10) * s * 1e12)


# -- validate runs every check run makes ----------------------------------------------------------------------

def test_validate_refuses_an_unknown_family(tmp_path, capsys):
    f = tmp_path / "fam.yaml"
    f.write_text("name: x\nfamily: nope\nextends: pim_gpt\n")
    rc, _, err = cli(capsys, "validate", str(f))
    assert rc == 2
    assert err.startswith(f"archsim: error: {f}: family: unknown family 'nope'; expected one of: ")
    assert "pim_gpt" in err and len(err.strip().splitlines()) == 1
    with pytest.raises(ArchSpecError, match="unknown family"):
        archsim.api.check(str(f))


def test_validate_refuses_an_unknown_dram_timing(tmp_path, capsys):
    f = tmp_path / "tim.yaml"
    f.write_text("name: y\nfamily: pim_gpt\nextends: pim_gpt\ncomponents:\n  dram:\n"
                 "    timing_cycles: {tBOGUS: 3}\n")
    rc, _, err = cli(capsys, "validate", str(f))
    assert rc == 2 and err.startswith(f"archsim: error: {f}: ") and "tBOGUS" in err
    rc, _, err2 = cli(capsys, "run", "--arch", str(f), "--workload", "gpt2-small", "--quiet")
    assert rc == 2 and err2 == err  # run refuses it with the same message, before simulating


def test_validate_passes_every_shipped_spec(capsys):
    names = arch.spec_names()
    rc, out, _ = cli(capsys, "validate", *names)
    assert rc == 0 and out.count(": ok (") == len(names)


# -- workload -----------------------------------------------------------------------------------------------

def test_workload_units_and_parameter_count(capsys):
    rc, out, _ = cli(capsys, "workload", "gpt2-small", "--tokens", "1024")
    assert rc == 0
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ") and "note" not in line}
    assert lines["steps"].split()[-2:] == ["1,024", "steps"]
    assert lines["ops"].endswith(" ops") and lines["flops"].endswith(" FLOP")
    assert lines["bytes_read"].endswith(" bytes") and lines["bytes_written"].endswith(" bytes")
    # GPT-2 small: 124,439,808 parameters whatever the number of generated tokens
    for tokens in ("1", "1024", "4000"):
        rc, out, _ = cli(capsys, "workload", "gpt2-small", "--tokens", tokens, "--json")
        assert json.loads(out)["parameters"] == 124_439_808


def test_prefill_refuses_tokens(capsys):
    rc, _, err = cli(capsys, "workload", "gpt2-small", "--phase", "prefill", "--tokens", "8")
    assert rc == 2 and "tokens" in err and "prefill" in err
    rc, _, err = cli(capsys, "run", "--arch", "t4", "--workload", "gpt2-small", "--phase", "prefill",
                     "--tokens", "8", "--quiet")
    assert rc == 2 and "prefill" in err
    with pytest.raises(WorkloadError, match="prefill"):
        archsim.workload("gpt2-small", phase="prefill", tokens=8)
    assert archsim.workload("gpt2-small", phase="prefill", prompt=16).prompt == 16
    rc, out, _ = cli(capsys, "workload", "gpt2-small", "--phase", "prefill", "--prompt", "16")
    assert rc == 0 and "generated" not in out


# -- Result names the workload as data ------------------------------------------------------------------------

def test_result_json_names_the_workload_as_data():
    r = archsim.simulate("t4", "gpt2-small", prompt=8, tokens=3)
    doc = json.loads(r.to_json())
    assert doc["workload"] == {"model": "gpt2-small", "phase": "decode", "prompt": 8, "tokens": 3, "batch": 1}
    assert r.summary().splitlines()[0] == "t4 running gpt2-small decode (prompt 8, 3 tokens, batch 1) (burst mode)"

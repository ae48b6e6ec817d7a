"""The CLI: user mistakes print one line on stderr and exit 2; outputs carry units."""

import json

import pytest

from archsim.cli import main


def run(capsys, *argv):
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def test_list_show_validate(capsys):
    rc, out, _ = run(capsys, "list")
    assert rc == 0 and "pim_gpt" in out and "GDDR6_AiM" in out and "gpt2-xl" in out
    rc, out, _ = run(capsys, "show", "pim_gpt", "--set", "dram.channels=16")
    assert rc == 0 and "dram.channels" in out and "override" in out and "[public-sim]" in out
    rc, out, _ = run(capsys, "show", "t4", "--json")
    doc = json.loads(out)
    assert {"path": "gpu.memory_bw_gb_per_s", "impl": "GPU", "value": 320.0,
            "source": "[paper reference] 320 GB/s", "default": False} in doc["parameters"]
    rc, out, _ = run(capsys, "validate", "arch/specs/pim_gpt.yaml", "arch/specs/t4.yaml")
    assert rc == 0 and out.count(": ok (") == 2


@pytest.mark.parametrize("argv, fragment", [
    (("validate", "nope.yaml"), "no architecture file or shipped architecture named 'nope.yaml'"),
    (("show", "pim_gpt", "--set", "dram.channels=-2"), "components.dram.channels: expected a positive integer"),
    (("show", "pim_gpt", "--set", "dram.channels"), "expected KEY=VALUE"),
    (("workload", "gpt9"), "unknown model 'gpt9'"),
    (("run", "--arch", "t4", "--workload", "gpt2-small", "--tokens", "0"), "tokens"),
    (("run", "--arch", "t4"), "the following arguments are required: --workload"),
    (("frobnicate",), "invalid choice"),
])
def test_user_errors_exit_2_with_one_line(capsys, argv, fragment):
    rc, out, err = run(capsys, *argv)
    assert rc == 2
    assert fragment in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_bad_yaml_file_is_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nfamily: y\ncomponents:\n  l: {impl: Link, bandwidth_gb_per_s: []}\n")
    rc, _, err = run(capsys, "validate", str(bad))
    assert rc == 2 and err.strip() == (f"archsim: error: {bad.resolve()}: components.l.bandwidth_gb_per_s: "
                                       "expected a number, got a list")


def test_workload_summary_and_json(capsys):
    rc, out, _ = run(capsys, "workload", "gpt2-xl", "--tokens", "2", "--json")
    doc = json.loads(out)
    assert rc == 0 and doc["model"] == "gpt2-xl" and doc["flops"] > 2 * 2 * 1.4e9
    rc, out, _ = run(capsys, "workload", "gpt2-xl")
    assert "1.558 B parameters" in out and "FLOP" in out
    rc, out, _ = run(capsys, "workload", "gpt2-xl", "--prompt", "64", "--tokens", "1024")
    assert rc == 0 and "exceeds the 1024-token context of gpt2-xl" in out


@pytest.mark.slow
def test_demo_runs_everything(tmp_path, capsys):
    rc, out, _ = run(capsys, "demo", "--out", str(tmp_path))
    assert rc == 0 and "== reproduce all ==" in out
    assert (tmp_path / "pim-gpt" / "claims.csv").exists() and (tmp_path / "lut-tensor-core" / "claims.csv").exists()


def test_run_json_has_units_and_trace(tmp_path, capsys):
    trace = tmp_path / "t.json"
    rc, out, _ = run(capsys, "run", "--arch", "t4", "--workload", "gpt2-small", "--tokens", "2", "--json",
                     "--trace-out", str(trace))
    doc = json.loads(out)
    assert rc == 0 and {"cycles", "seconds", "energy_joules", "clock_mhz"} <= set(doc)
    assert doc["seconds"] == pytest.approx(doc["cycles"] / (doc["clock_mhz"] * 1e6), rel=1e-6)
    events = json.loads(trace.read_text())["traceEvents"]
    assert sum(e["ph"] == "X" for e in events) == doc["commands"]

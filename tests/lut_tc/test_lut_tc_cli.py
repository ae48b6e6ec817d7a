"""Command-line acceptance: `archsim run` on a LUT spec, `archsim reproduce lut-tensor-core`."""

from __future__ import annotations

import pandas as pd

from archsim.cli import main
from archsim.reproduce.ladder import SAME_WITHIN
from archsim.reproduce.targets.lut_tensor_core import LADDER


def test_run_bitnet_prefill_2048_on_the_lut_tensor_core(capsys):
    rc = main(["run", "--arch", "lut_tensor_core", "--workload", "bitnet-b1.58-3b", "--phase", "prefill",
               "--prompt", "2048"])
    out = capsys.readouterr().out
    assert rc == 0 and "lut_tensor_core running" in out and "tiling" in out and " ms" in out


def test_run_error_is_one_line(capsys):
    rc = main(["run", "--arch", "lut_tensor_core", "--workload", "bitnet-b1.58-3b", "--set",
               "gpu.max_weight_bits=1"])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "take at most 1 bits" in err


def test_reproduce_lut_tensor_core_quick(tmp_path, capsys):
    """The quick reproduction (default suite): the headline rows, the claims compared by kind, and the BS1024
    ladder with every rung moving the speedup the way its variant says."""
    rc = main(["reproduce", "lut-tensor-core", "--quick", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert rc == 0 and "A100-LUT-8X latency BS1024 SEQ1" in out
    assert "ladder: speedup BS1024 SEQ1, A100-LUT-8X over A100 FP16 TC" in out
    d = tmp_path / "lut-tensor-core"
    files = {p.name for p in d.iterdir()}
    assert {"claims.csv", "table1_latency.csv", "table1_hardware.csv", "precision_sweep.png",
            "ladder_speedup_bs1024.csv"} <= files
    claims = pd.read_csv(d / "claims.csv").set_index("claim")
    assert claims.loc["table precompute overhead, fused into the producer", "comparison"] in ("range", "value")
    lad = pd.read_csv(d / "ladder_speedup_bs1024.csv")
    assert list(lad["variant"]) == [v.name for v in LADDER] and lad["model"].dtype == float
    for v, step in zip(LADDER[1:], lad["step_factor"].iloc[1:]):
        want = v.expected("speedup_bs1024")
        assert {"up": step > 1, "down": step < 1, "same": abs(step - 1) <= SAME_WITHIN}[want], (v.name, step)
    assert list(lad["sourced"]) == [int(v.sourced) for v in LADDER]

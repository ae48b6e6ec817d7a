"""Command-line acceptance: `archsim run` on a LUT spec, `archsim reproduce lut-tensor-core`."""

from __future__ import annotations

import pytest

from archsim.cli import main


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


@pytest.mark.slow
def test_reproduce_lut_tensor_core(tmp_path, capsys):
    rc = main(["reproduce", "lut-tensor-core", "--quick", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert rc == 0 and "A100-LUT-8X latency BS1024 SEQ1" in out
    files = {p.name for p in (tmp_path / "lut-tensor-core").iterdir()}
    assert {"claims.csv", "table1_latency.csv", "table1_hardware.csv", "precision_sweep.png"} <= files

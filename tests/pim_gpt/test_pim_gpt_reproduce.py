"""`archsim reproduce pim-gpt --quick`: every paper claim appears with the model's value, the files are written,
and the output is deterministic."""

import pandas as pd

from archsim.cli import main
from archsim.reproduce import build


def test_reproduce_quick_writes_tables_figures_and_claims(tmp_path, capsys):
    rc = main(["reproduce", "pim-gpt", "--quick", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert rc == 0
    for claim in ("speedup over T4 GPU", "speedup over Xeon Gold 6154", "energy efficiency over T4",
                  "DRAM row-hit rate", "slowdown at ASIC 100 MHz", "channel scaling efficiency"):
        assert claim in out
    d = tmp_path / "pim-gpt"
    for f in ("claims.csv", "models.csv", "asic_clock.csv", "channels.csv", "speedup.png", "asic_clock.png",
              "channels.png", "report.txt"):
        assert (d / f).stat().st_size > 0, f
    models = pd.read_csv(d / "models.csv")
    assert (models["speedup_vs_gpu"] > 1).all() and (models["row_hit_rate"] > 0.9).all()
    # a slower ASIC clock never makes PIM-GPT faster; more channels never slower
    asic = pd.read_csv(d / "asic_clock.csv")
    assert asic["ms_per_token"].is_monotonic_increasing
    ch = pd.read_csv(d / "channels.csv")
    assert ch["ms_per_token"].is_monotonic_decreasing
    claims = pd.read_csv(d / "claims.csv")
    assert set(claims.columns) >= {"claim", "paper_low", "paper_high", "model_low", "model_high",
                                   "ratio_model_over_paper_low", "ratio_model_over_paper_high", "note"}
    assert claims["paper_low"].dtype == float and claims["model_high"].dtype == float
    # deterministic: a second run renders the same report, bit for bit
    assert build("pim-gpt", quick=True).render() + "\n" == (d / "report.txt").read_text()


def test_unknown_target_is_a_one_line_error(capsys):
    assert main(["reproduce", "nonesuch"]) == 2
    assert "unknown reproduce target 'nonesuch'" in capsys.readouterr().err

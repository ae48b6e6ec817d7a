"""`archsim reproduce pim-gpt --quick`: every paper claim appears with the model's value, the files are written,
and the output is deterministic."""

import re

import pandas as pd
import pytest

from archsim import arch
from archsim.cli import main
from archsim.reproduce import build
from archsim.reproduce.ladder import wrong_directions
from archsim.reproduce.targets.pim_gpt import LADDER, tag_of


def test_reproduce_quick_writes_tables_figures_and_claims(tmp_path, capsys):
    rc = main(["reproduce", "pim-gpt", "--quick", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert rc == 0
    for claim in ("speedup over T4 GPU", "speedup over Xeon Gold 6154", "energy efficiency over T4",
                  "DRAM row-hit rate", "slowdown at ASIC 100 MHz", "channel scaling: near-linear",
                  "ladder: speedup over T4 GPU"):
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
    # the claims are compared by kind: the ASIC-clock claim is a bound, channel scaling a stated threshold
    kinds = claims.set_index("claim")["comparison"]
    assert kinds["slowdown at ASIC 100 MHz (vs 1 GHz)"] == "at_most"
    assert kinds["channel scaling: near-linear"] == "at_least" and kinds["speedup over T4 GPU"] == "range"
    assert claims["passes"].dtype == bool
    # deterministic: a second run renders the same report, bit for bit
    rep = build("pim-gpt", quick=True)
    assert rep.render() + "\n" == (d / "report.txt").read_text()
    # the ladders: one CSV each, numeric, every rung moving its figure the way its variant says
    assert [lad.key for lad in rep.ladders] == ["speedup_vs_t4", "energy_eff_vs_t4", "asic_100mhz_slowdown"]
    assert [b for lad in rep.ladders for b in wrong_directions(lad)] == []
    for lad in rep.ladders:
        csv = pd.read_csv(d / f"ladder_{lad.key}.csv")
        assert csv["model"].dtype == float and list(csv["variant"]) == [v.name for v in LADDER]
        assert csv["model"].tolist() == pytest.approx([r.model for r in lad.rungs])
    assert [r.variant.sourced for r in rep.ladders[0].rungs] == [True] * 4 + [False] * 4
    # every baseline parameter a claim note quotes carries the tag of its own YAML source
    notes = " ".join(claims["note"].fillna(""))
    quoted = re.findall(r"(\w+) = [\d.]+ [^\[\]]*?\[([^\]]+)\]", notes)
    assert {k for k, _ in quoted} >= {"kernel_overhead_us", "achieved_bw_fraction", "op_overhead_us"}
    specs = [arch.load("t4"), arch.load("xeon_gold_6154")]
    for key, tag in quoted:
        owners = [c for s in specs for c in s.walk() if key in c.params]
        assert owners and any(tag_of(c.source_of(key)) == tag for c in owners), (key, tag)
    assert "cited" not in re.findall(r"kernel_overhead_us = [\d.]+ [^\[]*\[([^\]]+)\]", notes)


def test_unknown_target_is_a_one_line_error(capsys):
    assert main(["reproduce", "nonesuch"]) == 2
    assert "unknown reproduce target 'nonesuch'" in capsys.readouterr().err

"""What-if ladders: a variant's changes are read from its YAML, sourced/assumed from the tags of what it changes,
rungs are cumulative, and the CSV carries numbers."""

import pandas as pd
import pytest

from archsim.base.errors import ArchsimError
from archsim.reproduce.ladder import Ladder, Rung, Variant, changes, cumulative, wrong_directions
from archsim.reproduce.report import Report


def test_changes_lists_only_what_the_variant_yaml_changes_with_its_source():
    ch = changes("pim_gpt_rdmac_bank", "pim_gpt")
    assert list(ch) == ["dram.rdmac_mode"]
    value, source = ch["dram.rdmac_mode"]
    assert value == "bank" and source.startswith("[assumed")
    with pytest.raises(ArchsimError, match="changes nothing"):
        changes("pim_gpt", "pim_gpt")


def test_sourced_or_assumed_is_read_from_the_tags():
    assumed = Variant("a", "a", "pim", (("pim_gpt_rdmac_bank", "pim_gpt"),))
    sourced = Variant("b", "b", "gpu", (("t4_hf_overhead", "t4"),))
    assert not assumed.sourced and sourced.sourced
    # an option-only variant takes its option's source
    assert Variant("c", "c", "both", options={"x": 1}, source="[paper] sec. 4").sourced
    assert not Variant("d", "d", "both", options={"x": 1}, source="[assumed: why]").sourced
    # a rung touching two systems is assumed if either change is
    both = Variant("e", "e", "both", (("t4_hf_overhead", "t4"), ("pim_gpt_rdmac_bank", "pim_gpt")))
    assert not both.sourced


def test_cumulative_applies_every_change_above_and_only_to_its_base():
    vs = [Variant("a", "a", "pim", (("pim_gpt_rdmac_bank", "pim_gpt"),)),
          Variant("b", "b", "pim", (("pim_gpt_dual_row_buffer", "pim_gpt"),)),
          Variant("c", "c", "gpu", (("t4_fp32", "t4"),), options={"o": 1})]
    pim, opts = cumulative("pim_gpt", vs)
    assert pim["dram.rdmac_mode"] == "bank" and pim["dram.num_row_buffers"] == 2
    assert opts == {"o": 1}
    gpu, _ = cumulative("t4", vs)
    assert gpu["gpu.framework_dtype"] == "fp32" and gpu["gpu.kernel_overhead_us"] == 10.0
    pim1, _ = cumulative("pim_gpt", vs[:1])
    assert pim1["dram.num_row_buffers"] == 1


def _ladder():
    v0 = Variant("base", "as shipped", "both", source="shipped", expect="same")
    v1 = Variant("x", "faster", "pim", (("pim_gpt_rdmac_bank", "pim_gpt"),), expect="up")
    v2 = Variant("y", "slower", "pim", (("pim_gpt_no_refresh", "pim_gpt"),), expect="down")
    return Ladder("k", "a claim", "x", (41.0, 137.0),
                  [Rung(v0, 10.0, {"a_ms": 1.0}), Rung(v1, 20.0, {"a_ms": 0.5}), Rung(v2, 15.0, {"a_ms": 0.6})])


def test_ladder_frame_is_numeric_and_step_factors_are_computed():
    df = _ladder().frame()
    assert list(df["rung"]) == [0, 1, 2] and list(df["sourced"]) == [1, 0, 0]
    assert df["step_factor"].iloc[1] == pytest.approx(2.0) and df["step_factor"].iloc[2] == pytest.approx(0.75)
    assert df["ratio_model_over_paper_low"].iloc[1] == pytest.approx(20 / 41)
    assert df["ratio_model_over_paper_high"].iloc[1] == pytest.approx(20 / 137)
    for col in ("model", "paper_low", "paper_high", "step_factor", "a_ms", "sourced"):
        assert pd.api.types.is_numeric_dtype(df[col]), col


def test_ladder_is_rendered_and_written(tmp_path):
    rep = Report("t", "t", ladders=[_ladder()])
    text = rep.render()
    assert "ladder: a claim" in text and "assumed" in text and "x2.000" in text
    assert "[assumed: PIM-GPT does not describe" in text  # the rung's source, from its YAML
    rep.write(tmp_path)
    back = pd.read_csv(tmp_path / "t" / "ladder_k.csv")
    assert back["model"].tolist() == [10.0, 20.0, 15.0] and back["sourced"].dtype.kind == "i"


def test_wrong_directions_catches_a_rung_that_moves_the_wrong_way():
    lad = _ladder()
    assert wrong_directions(lad) == []
    lad.rungs[2] = Rung(lad.rungs[2].variant, 25.0)  # planted: an expected-down rung that went up
    assert wrong_directions(lad) == ["k: y moved x1.2500, expected down"]
    same = Variant("s", "s", "both", source="x", expect="same")
    assert wrong_directions(Ladder("k", "c", "x", 1.0, [Rung(same, 1.0), Rung(same, 1.005)])) == []
    assert wrong_directions(Ladder("k", "c", "x", 1.0, [Rung(same, 1.0), Rung(same, 1.02)])) != []


def test_ladders_are_in_the_html_report(tmp_path):
    from archsim.reproduce.html import write_html

    page = write_html([Report("t", "t", ladders=[_ladder()])], tmp_path).read_text()
    assert "ladder: a claim" in page and "step_factor" in page

"""How a paper's claim is compared with the model: bounds as bounds, ranges as ranges (both ends, inside or not),
qualitative claims through a stated test, and point values within the tolerance."""

import math

import pandas as pd
import pytest

from archsim.reproduce.report import Claim, Report


# -- bounds ------------------------------------------------------------------------------------------------------
def test_at_most_bound_fails_above_it_with_no_tolerance():
    # "at most ~20% slower" against a model slowdown of 1.36: a point comparison within 25% would call it agreeing
    c = Claim("slowdown", 1.20, 1.36, "x", kind="at_most")
    assert c.passes() is False and c.verdict() == "DISAGREES"
    assert Claim("slowdown", 1.20, 1.36, "x").passes() is True  # the old point-value comparison: hides it
    assert Claim("slowdown", 1.20, 1.20, "x", kind="at_most").passes() is True
    assert Claim("slowdown", 1.20, 1.05, "x", kind="at_most").passes() is True
    assert Claim("slowdown", 1.20, 1.2001, "x", kind="at_most").passes() is False


def test_at_least_bound_and_a_model_range_uses_its_worst_end():
    assert Claim("eff", 0.9, 0.95, "fraction", kind="at_least").passes() is True
    assert Claim("eff", 0.9, 0.89, "fraction", kind="at_least").passes() is False
    # a range of model values against a bound: the end that decides (lowest for at_least, highest for at_most)
    assert Claim("eff", 0.9, (0.85, 1.0), "fraction", kind="at_least").passes() is False
    assert Claim("slow", 1.2, (1.0, 1.3), "x", kind="at_most").passes() is False
    assert Claim("slow", 1.2, (1.0, 1.1), "x", kind="at_most").passes() is True


def test_bound_paper_text_shows_the_bound():
    assert Claim("a", 1.2, 1.0, "x", kind="at_most").paper_text() == "<= 1.2"
    assert Claim("a", 0.9, 1.0, "x", kind="at_least").paper_text() == ">= 0.9"


# -- qualitative ---------------------------------------------------------------------------------------------------
def test_qualitative_claim_is_a_stated_threshold_and_the_test_is_printed():
    c = Claim("channel scaling: near-linear", 0.9, 0.48, "fraction", kind="at_least",
              test="near-linear = scaling efficiency >= 0.9 at every channel count")
    assert c.passes() is False
    r = Report("t", "t", claims=[c]).render()
    assert "near-linear = scaling efficiency >= 0.9" in r and "DISAGREES" in r
    df = Report("t", "t", claims=[c]).claims_frame()
    assert df.loc[0, "test"].startswith("near-linear") and df.loc[0, "comparison"] == "at_least"


# -- ranges ----------------------------------------------------------------------------------------------------------
def test_range_compares_both_ends_and_says_whether_the_model_lies_inside():
    c = Claim("speedup", (41.0, 137.0), (7.0, 11.0), "x")
    assert c.kind == "range"
    assert c.ratios() == pytest.approx((7 / 41, 11 / 137))
    assert c.inside() is False and c.passes() is False
    assert "outside the range" in c.verdict()
    inside = Claim("speedup", (41.0, 137.0), (50.0, 120.0), "x")
    assert inside.inside() is True and inside.passes() is True and "inside the range" in inside.verdict()
    # the model's range sticks out at the top by less than the tolerance: agrees, but not inside
    edge = Claim("speedup", (41.0, 137.0), (50.0, 160.0), "x")
    assert edge.passes() is True and edge.inside() is False
    # ... and by more than the tolerance at either end: disagrees
    assert Claim("speedup", (41.0, 137.0), (50.0, 180.0), "x").passes() is False
    assert Claim("speedup", (41.0, 137.0), (29.0, 100.0), "x").passes() is False


def test_range_against_a_single_model_value():
    c = Claim("x", (1.0, 2.0), 1.5, "x")
    assert c.inside() is True and c.passes() is True
    assert c.ratios() == pytest.approx((1.5, 0.75))
    assert Claim("x", (1.0, 2.0), 3.0, "x").inside() is False


def test_range_min_to_min_is_not_the_only_check():
    # a model range wider than the paper's on both sides matches neither end's ratio badly at one end only;
    # the range comparison still says it is not inside
    c = Claim("x", (10.0, 20.0), (9.0, 24.0), "x")
    assert c.passes() is True and c.inside() is False


def test_value_claims_keep_the_25_percent_tolerance():
    assert Claim("hit", 0.98, 0.97, "fraction").passes() is True
    assert Claim("hit", 0.98, 0.70, "fraction").passes() is False
    assert Claim("zero", 0.0, 1.0, "x").passes() is False  # no ratio to a zero paper value
    assert Claim("absent", 5.0, None, "x").passes() is None and Claim("absent", 5.0, None, "x").agrees()


def test_a_claim_kind_must_fit_its_paper_value():
    with pytest.raises(ValueError, match="range"):
        Claim("x", 1.0, 1.0, "x", kind="range")
    with pytest.raises(ValueError, match="one paper value"):
        Claim("x", (1.0, 2.0), 1.0, "x", kind="at_most")
    with pytest.raises(ValueError, match="kind"):
        Claim("x", 1.0, 1.0, "x", kind="roughly")


def test_claims_csv_is_numeric_with_passes_and_inside_columns(tmp_path):
    rep = Report("t", "t", claims=[Claim("r", (41.0, 137.0), (7.0, 11.0), "x"),
                                   Claim("b", 1.2, 1.36, "x", kind="at_most"),
                                   Claim("v", 0.98, 0.97, "fraction")])
    rep.write(tmp_path)
    df = pd.read_csv(tmp_path / "t" / "claims.csv").set_index("claim")
    assert df["passes"].dtype == bool and list(df["passes"]) == [False, False, True]
    assert pd.api.types.is_float_dtype(df["model_inside_paper_range"])
    assert df.loc["r", "model_inside_paper_range"] == 0.0
    assert math.isnan(df.loc["b", "model_inside_paper_range"]) and math.isnan(df.loc["v", "model_inside_paper_range"])
    assert list(df["comparison"]) == ["range", "at_most", "value"]

"""The report a reproduce target produces: claims with ratios, tables, figures; rendered and written out."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from archsim.base.io import check_output_dir, write_figure, write_text_atomic


#: how a claim is compared with the model (``Claim.kind``)
KINDS = ("value", "range", "at_most", "at_least")
TOLERANCE = 0.25  # relative, for point values and for the ends of a range


@dataclass
class Claim:
    """One published number beside the model's, compared according to ``kind``:

    * ``value``: a point value; passes when the model is within ``TOLERANCE`` (relative) of it;
    * ``range``: ``paper = (lo, hi)``; the model's figure (one value, or its own ``(lo, hi)`` across models) is
      compared at both ends (ratio per end) and passes when it lies inside the paper's range widened by
      ``TOLERANCE`` at each end; :meth:`inside` says whether it lies inside the range itself;
    * ``at_most`` / ``at_least``: a bound; passes when the model is on the right side of it, with no tolerance
      ("at most 1.2x" fails at 1.36).

    A qualitative claim ("near-linear scaling") is stated as a bound with ``test`` saying what the number is and
    which threshold stands for the words (e.g. "near-linear = scaling efficiency >= 0.9 at every point"). ``kind``
    ``"auto"`` means ``range`` for a tuple and ``value`` otherwise."""

    name: str
    paper: float | tuple[float, float] | None
    model: float | tuple[float, float] | None
    unit: str
    note: str = ""
    source: str = ""
    kind: str = "auto"
    test: str = ""

    def __post_init__(self):
        if self.kind == "auto":
            self.kind = "range" if isinstance(self.paper, tuple) else "value"
        if self.kind not in KINDS:
            raise ValueError(f"claim {self.name!r}: kind {self.kind!r}; expected one of: {', '.join(KINDS)}")
        if (self.kind == "range") != isinstance(self.paper, tuple) and self.paper is not None:
            raise ValueError(f"claim {self.name!r}: a {self.kind!r} claim needs "
                             f"{'a (low, high) paper range' if self.kind == 'range' else 'one paper value'}")

    def _ends(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        p = self.paper if isinstance(self.paper, tuple) else (self.paper,)
        m = self.model if isinstance(self.model, tuple) else (self.model,)
        if len(p) == 2:
            m = (min(m), max(m))
        elif len(m) == 2:  # a range of model figures against one value or bound: the end that decides
            m = (max(m),) if self.kind == "at_most" else (min(m),) if self.kind == "at_least" else m
        return p, m

    def ratios(self) -> tuple[float | None, ...]:
        """model / paper per end (one value, or low and high for a range); None where it is undefined."""
        if self.paper is None or self.model is None:
            return ()
        p, m = self._ends()
        if len(p) == 1 and len(m) == 2:
            p = (p[0], p[0])
        return tuple(mv / pv if pv else None for pv, mv in zip(p, m))

    def ratio(self) -> str:
        """model / paper (ranges: per end), or a dash."""
        return " / ".join("-" if r is None else f"{r:.2f}" for r in self.ratios()) or "-"

    def inside(self) -> bool | None:
        """For a range claim: does the model's figure (or range) lie inside the paper's range? None otherwise."""
        if self.kind != "range" or self.paper is None or self.model is None:
            return None
        (lo, hi), (mlo, mhi) = self._ends()
        return lo <= mlo and mhi <= hi

    def passes(self, tolerance: float = TOLERANCE) -> bool | None:
        """The comparison ``kind`` prescribes; None when either side is absent (not compared)."""
        if self.paper is None or self.model is None:
            return None
        p, m = self._ends()
        if self.kind == "at_most":
            return max(m) <= p[0]
        if self.kind == "at_least":
            return min(m) >= p[0]
        if self.kind == "range":
            lo, hi = p
            return lo * (1 - tolerance) <= m[0] and m[-1] <= hi * (1 + tolerance)
        if len(m) == 2:
            m = (min(m), max(m))
        return all(p[0] and abs(mv / p[0] - 1) <= tolerance for mv in m)

    def agrees(self, tolerance: float = TOLERANCE) -> bool:
        """True unless the comparison fails (an absent side counts as not disagreeing); used to flag a
        disagreement, never to tune."""
        return self.passes(tolerance) is not False

    def verdict(self) -> str:
        """``agrees`` / ``DISAGREES`` / ``not compared``, with ``inside``/``outside`` for a range."""
        ok = self.passes()
        if ok is None:
            return "not compared"
        word = "agrees" if ok else "DISAGREES"
        inside = self.inside()
        if inside is not None:
            word += " (inside the range)" if inside else " (outside the range)"
        return word

    def paper_text(self) -> str:
        prefix = {"at_most": "<= ", "at_least": ">= "}.get(self.kind, "")
        return prefix + _fmt(self.paper)


def tag_of(source: str | None) -> str:
    """The tag a parameter's source starts with: ``[assumed: ...]`` -> ``assumed``, ``[paper reference] x`` ->
    ``paper reference``; an untagged citation (a datasheet) -> ``cited``."""
    src = (source or "").strip()
    if not src.startswith("["):
        return "cited"
    return src[1:].split("]")[0].split(":")[0].split(";")[0].strip()


def cite(spec, path: str, unit: str) -> str:
    """``param = value unit [tag]``, the tag read from the parameter's own source in ``spec``, so a claim note
    quoting a baseline parameter can never call an assumption cited."""
    comp, _, key = path.rpartition(".")
    return f"{key} = {spec[path]:g} {unit} [{tag_of(spec.component(comp).source_of(key))}]"


def _low_high(v) -> tuple[float, float]:
    """A value or a range ``(lo, hi)`` as two numbers (equal for a single value; NaN if absent)."""
    if v is None:
        return math.nan, math.nan
    if isinstance(v, tuple):
        return float(min(v)), float(max(v))
    return float(v), float(v)


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, tuple):
        return " to ".join(_fmt(x) for x in v)
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return str(v)
    a = abs(v)
    if a and (a >= 1e5 or a < 1e-2):
        return f"{v:.3g}"
    return f"{v:,.3g}" if a < 100 else f"{v:,.0f}"


CLAIM_COLUMNS = ["claim", "unit", "comparison", "paper_low", "paper_high", "model_low", "model_high",
                 "ratio_model_over_paper_low", "ratio_model_over_paper_high", "passes", "model_inside_paper_range",
                 "test", "note", "source"]


def _check_columns(name: str, df: pd.DataFrame) -> None:
    """A table's column names must be unique as written and read back (no ``ratio`` beside ``ratio ``)."""
    names = [str(c).strip() for c in df.columns]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup or names != [str(c) for c in df.columns]:
        raise ValueError(f"table {name!r}: column names must be unique and without surrounding spaces; "
                         f"{'duplicates: ' + ', '.join(map(repr, dup)) if dup else 'names have surrounding spaces'}")


@dataclass
class Report:
    target: str
    title: str
    claims: list[Claim] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: dict[str, object] = field(default_factory=dict)  # name -> matplotlib Figure
    notes: list[str] = field(default_factory=list)
    ladders: list = field(default_factory=list)  # archsim.reproduce.ladder.Ladder, one per headline claim

    def claims_frame(self) -> pd.DataFrame:
        """One row per claim; the numbers as numbers: a range's low and high ends in separate columns (equal for
        a single value, empty when absent), and model/paper per end."""
        rows = []
        for c in self.claims:
            (p_lo, p_hi), (m_lo, m_hi) = _low_high(c.paper), _low_high(c.model)
            r = [math.nan if x is None else x for x in c.ratios()] or [math.nan]
            inside = c.inside()
            rows.append({"claim": c.name, "unit": c.unit, "comparison": c.kind, "paper_low": p_lo,
                         "paper_high": p_hi, "model_low": m_lo, "model_high": m_hi,
                         "ratio_model_over_paper_low": r[0], "ratio_model_over_paper_high": r[-1],
                         "passes": c.agrees(), "model_inside_paper_range": math.nan if inside is None
                         else float(inside), "test": c.test, "note": c.note, "source": c.source})
        return pd.DataFrame(rows, columns=CLAIM_COLUMNS)

    def render(self) -> str:
        out = [f"== {self.title} =="]
        if self.claims:
            rows = [("claim", "paper", "model", "unit", "model/paper", "comparison", "verdict")]
            for c in self.claims:
                rows.append((c.name, c.paper_text(), _fmt(c.model), c.unit, c.ratio(), c.kind, c.verdict()))
            widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
            for i, r in enumerate(rows):
                out.append("  ".join(s.ljust(w) for s, w in zip(r, widths)).rstrip())
                if i == 0:
                    out.append("  ".join("-" * w for w in widths))
            notes = [(c.name, (f"test: {c.test}. " if c.test else "") + c.note) for c in self.claims
                     if c.note or c.test]
            if notes:
                out.append("")
                out.extend(f"* {name}: {note}" for name, note in notes)
        for ladder in self.ladders:
            out.append("\n" + ladder.render(sources=False))
        if self.ladders:
            from archsim.reproduce.ladder import sources_block

            out.append("\n" + sources_block([r.variant for lad in self.ladders for r in lad.rungs]))
        for name, df in self.tables.items():
            out.append(f"\n-- {name} --")
            with pd.option_context("display.width", 160, "display.max_columns", 30, "display.max_rows", 200):
                out.append(df.to_string(index=False))
        if self.notes:
            out.append("")
            out.extend(f"note: {n}" for n in self.notes)
        return "\n".join(out)

    def write(self, out_dir: str | Path) -> list[Path]:
        """CSV per table (and the claims, and per ladder), PNG per figure, the rendered text; each atomically."""
        for name, df in self.tables.items():
            _check_columns(name, df)
        out = check_output_dir(Path(out_dir) / self.target)
        paths = [write_text_atomic(out / "claims.csv", self.claims_frame().to_csv(index=False))]
        for name, df in self.tables.items():
            paths.append(write_text_atomic(out / f"{name}.csv", df.to_csv(index=False)))
        for ladder in self.ladders:
            paths.append(write_text_atomic(out / f"ladder_{ladder.key}.csv", ladder.frame().to_csv(index=False)))
        for name, fig in self.figures.items():
            paths.append(write_figure(out / f"{name}.png", fig))
        paths.append(write_text_atomic(out / "report.txt", self.render() + "\n"))
        return paths

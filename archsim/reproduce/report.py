"""The report a reproduce target produces: claims with ratios, tables, figures; rendered and written out."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from archsim.base.io import check_output_dir, write_figure, write_text_atomic


@dataclass
class Claim:
    """One published number beside the model's. ``paper`` may be a range ``(lo, hi)``."""

    name: str
    paper: float | tuple[float, float] | None
    model: float | tuple[float, float] | None
    unit: str
    note: str = ""
    source: str = ""

    def ratios(self) -> tuple[float | None, ...]:
        """model / paper per end (one value, or low and high for a range); None where it is undefined."""
        if self.paper is None or self.model is None:
            return ()
        p = self.paper if isinstance(self.paper, tuple) else (self.paper,)
        m = self.model if isinstance(self.model, tuple) else (self.model,)
        if len(p) != len(m):
            m = (min(m), max(m)) if len(p) == 2 else m
        return tuple(mv / pv if pv else None for pv, mv in zip(p, m))

    def ratio(self) -> str:
        """model / paper (ranges: per end), or a dash."""
        return " / ".join("-" if r is None else f"{r:.2f}" for r in self.ratios()) or "-"

    def agrees(self, tolerance: float = 0.25) -> bool:
        """Within ``tolerance`` (relative) at every end; used to flag disagreement, never to tune."""
        if self.paper is None or self.model is None:
            return True
        p = self.paper if isinstance(self.paper, tuple) else (self.paper,)
        m = self.model if isinstance(self.model, tuple) else (self.model,)
        if len(p) != len(m):
            m = (min(m), max(m)) if len(p) == 2 else m
        return all(pv and abs(mv / pv - 1) <= tolerance for pv, mv in zip(p, m))


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


CLAIM_COLUMNS = ["claim", "unit", "paper_low", "paper_high", "model_low", "model_high", "ratio_model_over_paper_low",
                 "ratio_model_over_paper_high", "agrees_within_25pct", "note", "source"]


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

    def claims_frame(self) -> pd.DataFrame:
        """One row per claim; the numbers as numbers: a range's low and high ends in separate columns (equal for
        a single value, empty when absent), and model/paper per end."""
        rows = []
        for c in self.claims:
            (p_lo, p_hi), (m_lo, m_hi) = _low_high(c.paper), _low_high(c.model)
            r = [math.nan if x is None else x for x in c.ratios()] or [math.nan]
            rows.append({"claim": c.name, "unit": c.unit, "paper_low": p_lo, "paper_high": p_hi, "model_low": m_lo,
                         "model_high": m_hi, "ratio_model_over_paper_low": r[0],
                         "ratio_model_over_paper_high": r[-1], "agrees_within_25pct": c.agrees(),
                         "note": c.note, "source": c.source})
        return pd.DataFrame(rows, columns=CLAIM_COLUMNS)

    def render(self) -> str:
        out = [f"== {self.title} =="]
        if self.claims:
            rows = [("claim", "paper", "model", "unit", "model/paper", "")]
            for c in self.claims:
                rows.append((c.name, _fmt(c.paper), _fmt(c.model), c.unit, c.ratio(),
                             "" if c.agrees() else "DISAGREES"))
            widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
            for i, r in enumerate(rows):
                out.append("  ".join(s.ljust(w) for s, w in zip(r, widths)).rstrip())
                if i == 0:
                    out.append("  ".join("-" * w for w in widths))
            notes = [(c.name, c.note) for c in self.claims if c.note]
            if notes:
                out.append("")
                out.extend(f"* {name}: {note}" for name, note in notes)
        for name, df in self.tables.items():
            out.append(f"\n-- {name} --")
            with pd.option_context("display.width", 160, "display.max_columns", 30, "display.max_rows", 200):
                out.append(df.to_string(index=False))
        if self.notes:
            out.append("")
            out.extend(f"note: {n}" for n in self.notes)
        return "\n".join(out)

    def write(self, out_dir: str | Path) -> list[Path]:
        """CSV per table (and the claims), PNG per figure, the rendered text; each written atomically."""
        for name, df in self.tables.items():
            _check_columns(name, df)
        out = check_output_dir(Path(out_dir) / self.target)
        paths = [write_text_atomic(out / "claims.csv", self.claims_frame().to_csv(index=False))]
        for name, df in self.tables.items():
            paths.append(write_text_atomic(out / f"{name}.csv", df.to_csv(index=False)))
        for name, fig in self.figures.items():
            paths.append(write_figure(out / f"{name}.png", fig))
        paths.append(write_text_atomic(out / "report.txt", self.render() + "\n"))
        return paths

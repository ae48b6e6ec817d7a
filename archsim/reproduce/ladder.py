"""What-if ladders: how much of a gap between the model and a paper each alternative assumption explains.

A :class:`Variant` is one alternative assumption, shipped as data: a YAML under ``arch/specs/`` that ``extends``
the base spec and changes only that assumption (each changed parameter with its own ``source:``), and/or a
mapper option. :func:`changes` reads what a variant YAML changes against its base; :func:`cumulative` applies
the changes of several variants at once (a rung of the ladder keeps every change above it).

A :class:`Ladder` is one headline claim with one :class:`Rung` per variant, cumulative from the shipped model
at the top: the model's figure, the paper's, the ratio, and the factor this rung moved the figure by. Whether
a rung is *sourced* or *assumed* is read from the tags of the parameters it changes (``[assumed: ...]``), never
typed in; the figures are computed by the target, never copied from a paper, and no variant is tuned to land
on the paper's number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from archsim.base.errors import ArchsimError


@dataclass(frozen=True)
class Variant:
    """One alternative assumption: shipped YAMLs ``specs`` (pairs ``(variant spec, the base it extends)``; one
    assumption may touch both systems of a comparison) and/or mapper ``options``.

    ``side`` names the system(s) the variant changes. ``expect`` is the direction the rung should move the
    ladder's figure: ``up``, ``down`` or ``same`` (within 1%), per ladder if it differs (a test checks it).
    ``source`` is the source of the mapper options; a YAML variant's sources are read from its YAML."""

    name: str
    label: str
    side: str
    specs: tuple[tuple[str, str], ...] = ()
    options: dict = field(default_factory=dict)
    source: str = ""
    expect: str | tuple = "up"  # one direction for every ladder, or ((ladder key, direction), ...) + default

    def expected(self, ladder_key: str) -> str:
        """The direction this rung should move the figure of ladder ``ladder_key``."""
        if isinstance(self.expect, str):
            return self.expect
        table = dict(self.expect)
        return table.get(ladder_key, table.get("*", "up"))

    def changes(self, base: str | None = None) -> dict[str, tuple[Any, str]]:
        """``{component.param: (value, source)}`` the variant's YAMLs change against their bases (only the YAML
        extending ``base`` if given)."""
        out: dict[str, tuple[Any, str]] = {}
        for spec, b in self.specs:
            if base is None or b == base:
                out.update({(k if base else f"{b}: {k}"): v for k, v in changes(spec, b).items()})
        return out

    def sources(self) -> str:
        parts = [f"{k} = {v!r}: {s}" for k, (v, s) in self.changes().items()]
        if self.options:
            parts.append(f"mapper option {self.options}: {self.source}")
        return "; ".join(parts) or self.source

    @property
    def sourced(self) -> bool:
        """True when no change it makes is tagged ``[assumed`` (read from the YAMLs and the option source)."""
        tags = [s for _, s in self.changes().values()] + ([self.source] if self.options or not self.specs else [])
        return not any("assumed" in (t or "").lower().split(":")[0] for t in tags)


def changes(spec_name: str, base_name: str) -> dict[str, tuple[Any, str]]:
    """Parameters of ``spec_name`` whose value differs from ``base_name``'s, with the variant's source."""
    from archsim import arch

    spec, base = arch.load(spec_name), arch.load(base_name)
    out: dict[str, tuple[Any, str]] = {}
    for comp in spec.walk():
        for key, value in comp.params.items():
            path = f"{comp.path}.{key}"
            if base.get(path, None) != value:
                out[path] = (value, comp.source_of(key) or "")
    if not out:
        raise ArchsimError(f"variant {spec_name!r} changes nothing against {base_name!r}")
    return out


def cumulative(base_name: str, variants: list[Variant]):
    """The base spec with every change of ``variants`` applied (dict-valued parameters merged), plus the
    variants' mapper options merged in order."""
    from archsim import arch

    overrides: dict[str, Any] = {}
    options: dict[str, Any] = {}
    for v in variants:
        for key, (value, _src) in v.changes(base_name).items():
            if isinstance(value, dict) and isinstance(overrides.get(key), dict):
                value = {**overrides[key], **value}
            overrides[key] = value
        options.update(v.options)
    spec = arch.load(base_name)
    return (spec.with_overrides(overrides) if overrides else spec), options


@dataclass
class Rung:
    variant: Variant
    model: float
    detail: dict[str, float] = field(default_factory=dict)  # e.g. the two latencies behind a speedup


@dataclass
class Ladder:
    """One claim, one rung per variant (cumulative). ``paper`` is a value or a ``(low, high)`` range."""

    key: str
    claim: str
    unit: str
    paper: float | tuple[float, float]
    rungs: list[Rung] = field(default_factory=list)
    note: str = ""

    def _paper_ends(self) -> tuple[float, float]:
        return (float(min(self.paper)), float(max(self.paper))) if isinstance(self.paper, tuple) else \
            (float(self.paper), float(self.paper))

    def frame(self) -> pd.DataFrame:
        """Numbers as numbers: ``sourced`` is 1 or 0, ``step_factor`` is this rung's figure over the previous."""
        lo, hi = self._paper_ends()
        rows, prev = [], None
        for i, r in enumerate(self.rungs):
            row = {"rung": i, "variant": r.variant.name, "change": r.variant.label, "side": r.variant.side,
                   "sourced": int(r.variant.sourced), "model": r.model, "paper_low": lo, "paper_high": hi,
                   "ratio_model_over_paper_low": r.model / lo if lo else math.nan,
                   "ratio_model_over_paper_high": r.model / hi if hi else math.nan,
                   "step_factor": r.model / prev if prev else math.nan}
            row.update(r.detail)
            row["source"] = r.variant.sources()
            rows.append(row)
            prev = r.model
        return pd.DataFrame(rows)

    def render(self, sources: bool = True) -> str:
        lo, hi = self._paper_ends()
        paper = f"{lo:.3g}" if lo == hi else f"{lo:.3g} to {hi:.3g}"
        out = [f"-- ladder: {self.claim} (paper {paper} {self.unit}; cumulative, each rung adds one assumption) --"]
        head = ("#", "variant", "kind", "model", "model/paper", "step", *self.rungs[0].detail.keys()) \
            if self.rungs else ()
        rows = [head]
        prev = None
        for i, r in enumerate(self.rungs):
            ratio = f"{r.model / lo:.2f}" if lo == hi else f"{r.model / lo:.2f} / {r.model / hi:.2f}"
            rows.append((str(i), r.variant.label, "sourced" if r.variant.sourced else "assumed",
                         f"{r.model:.3g} {self.unit}", ratio, "-" if prev is None else f"x{r.model / prev:.3f}",
                         *(f"{v:.4g}" for v in r.detail.values())))
            prev = r.model
        widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
        for j, row in enumerate(rows):
            out.append("  ".join(s.ljust(w) for s, w in zip(row, widths)).rstrip())
            if j == 0:
                out.append("  ".join("-" * w for w in widths))
        if sources:
            out.append(sources_block([r.variant for r in self.rungs]))
        if self.note:
            out.append(f"note: {self.note}")
        return "\n".join(out)


def sources_block(variants) -> str:
    """Each distinct variant once: sourced or assumed, and what it changes with the source of each change."""
    out, seen = ["ladder rungs (what each changes, and its source):"], set()
    for v in variants:
        if v.name in seen:
            continue
        seen.add(v.name)
        out.append(f"  {v.name} [{'sourced' if v.sourced else 'assumed'}]: {v.sources()}")
    return "\n".join(out)


SAME_WITHIN = 0.01  # a rung expected to leave the figure unchanged may move it by at most 1%


def wrong_directions(ladder: Ladder) -> list[str]:
    """Rungs that move the ladder's figure against their stated direction (empty when all agree)."""
    bad = []
    for prev, r in zip(ladder.rungs, ladder.rungs[1:]):
        want, step = r.variant.expected(ladder.key), r.model / prev.model
        ok = {"up": step > 1, "down": step < 1, "same": abs(step - 1) <= SAME_WITHIN}[want]
        if not ok:
            bad.append(f"{ladder.key}: {r.variant.name} moved x{step:.4f}, expected {want}")
    return bad

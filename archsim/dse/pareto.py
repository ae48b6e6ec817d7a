"""Pareto fronts: the points no other point dominates over the chosen objectives."""

from __future__ import annotations

import numpy as np
import pandas as pd

from archsim.base.errors import ArchsimError


def pareto_mask(values: np.ndarray, maximize: list[bool] | None = None) -> np.ndarray:
    """True for rows of ``values`` (n x k) that no other row dominates (<= in all, < in one; minimizing unless
    ``maximize`` says so per column). Duplicates of a front point are all on the front."""
    v = np.asarray(values, dtype=float)
    if v.ndim != 2:
        raise ValueError("expected an n x k array")
    if maximize is not None:
        v = v * np.where(np.asarray(maximize, dtype=bool), -1.0, 1.0)
    n = len(v)
    mask = np.ones(n, dtype=bool)
    order = np.lexsort(v.T[::-1])
    for i in order:
        if not mask[i]:
            continue
        dominated = np.all(v[i] <= v, axis=1) & np.any(v[i] < v, axis=1)
        mask &= ~dominated
    return mask


def pareto_front(df: pd.DataFrame, objectives: list[str], maximize: list[str] | None = None) -> pd.DataFrame:
    """The rows of ``df`` on the Pareto front of ``objectives`` (minimized unless named in ``maximize``);
    error rows are ignored. Sorted by the first objective."""
    missing = [o for o in objectives if o not in df.columns]
    if missing:
        raise ArchsimError(f"no column(s) {missing}; expected some of {list(df.columns)}", key="objectives")
    ok = df[df["status"] == "ok"] if "status" in df else df
    ok = ok.dropna(subset=objectives)
    if ok.empty:
        return ok
    mask = pareto_mask(ok[objectives].to_numpy(), [o in (maximize or []) for o in objectives])
    return ok[mask].sort_values(objectives[0], kind="stable")

"""Adaptive search: Optuna (NSGA-II, seeded) proposes points toward the Pareto front of chosen objectives.

    from archsim.dse.search import search
    df = search("pim_gpt", {"dram.channels": [2, 4, 8, 16], "asic.freq_mhz": [100, 250, 1000]},
                {"model": "gpt2-small", "prompt": 8, "tokens": 2}, objectives=["latency_s", "energy_j"],
                trials=12, seed=0)

Each proposed point goes through the same store as a sweep (a point already computed is reused), so a search
and a sweep of one user share results. Trials run one after another, so the same seed gives the same points.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from archsim.base.errors import ArchsimError


def search(arch: str, space: dict[str, list[Any]], workload: dict[str, Any], *, objectives: list[str],
           trials: int = 20, seed: int = 0, mode: str = "burst", store: str | Path | None = None,
           out: str | Path | None = None) -> pd.DataFrame:
    """One row per trial (in trial order), with a boolean ``pareto`` column over ``objectives`` (minimized)."""
    try:
        import optuna
    except ImportError:
        raise ArchsimError("adaptive search needs `pip install archsim[optuna]`", key="search") from None
    from archsim.dse.pareto import pareto_mask
    from archsim.dse.runner import run_sweep
    from archsim.dse.spec import METRICS, make_spec

    if not objectives or any(o.split(".")[0] not in METRICS for o in objectives):
        raise ArchsimError(f"expected objectives among {list(METRICS)}, got {objectives}", key="objectives")
    if not isinstance(trials, int) or trials < 1:
        raise ArchsimError(f"expected trials >= 1, got {trials!r}", key="trials")
    make_spec(arch, space, [workload], mode=mode)  # validates the space and the workload before any trial
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(directions=["minimize"] * len(objectives),
                                sampler=optuna.samplers.NSGAIISampler(seed=seed, population_size=max(4, trials // 3)))
    rows = []
    for _ in range(trials):
        trial = study.ask()
        point = {k: trial.suggest_categorical(k, list(v)) for k, v in space.items()}
        spec = make_spec(arch, {k: [v] for k, v in point.items()}, [workload], mode=mode)
        row = run_sweep(spec, store=store if store is not None else ":memory:", progress=False).table.iloc[0]
        rows.append(row)
        if row["status"] != "ok":
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
        else:
            study.tell(trial, [float(row[o]) for o in objectives])
    df = pd.DataFrame(rows).reset_index(drop=True)
    df.insert(0, "trial", range(len(df)))
    ok = (df["status"] == "ok").to_numpy()
    df["pareto"] = False
    if ok.any():
        df.loc[ok, "pareto"] = pareto_mask(df.loc[ok, objectives].to_numpy())
    if out is not None:
        from archsim.dse.runner import check_out
        from archsim.dse.table import write_table

        write_table(df, check_out(out))
    return df

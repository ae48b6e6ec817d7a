"""The results table: one row per point, parameters then workload then metrics (units in the names)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from archsim.base.errors import ArchsimError
from archsim.base.io import write_bytes_atomic, write_text_atomic

WORKLOAD_COLUMNS = {"model": "model", "phase": "phase", "prompt": "prompt_tokens", "tokens": "generated_tokens",
                    "batch": "batch", "weight_format": "weight_format", "weight_bits": "weight_bits"}


def _keep(metric: str, metrics: list[str] | None) -> bool:
    if metrics is None:
        return True
    head = metric.split(".", 1)[0]
    if head == "energy_j" and "." in metric:
        return "energy_breakdown" in metrics
    return head in metrics


def build_table(spec, tasks: list[dict[str, Any]], stored: dict[str, dict]) -> pd.DataFrame:
    rows = []
    for t in tasks:
        rec = stored.get(t["key"], {"status": "missing", "result": None, "error": None})
        row: dict[str, Any] = dict(t["overrides"])
        row["arch"] = Path(spec.arch).stem if spec.arch.endswith((".yaml", ".yml")) else spec.arch
        row.update({WORKLOAD_COLUMNS[k]: v for k, v in t["workload"].items()})
        row["mode"] = spec.mode
        row["status"] = rec["status"]
        row["error"] = rec["error"] or ""
        for k, v in (rec["result"] or {}).items():
            if _keep(k, spec.metrics):
                row[k] = v
        row["point_key"] = t["key"][:16]
        rows.append(row)
    df = pd.DataFrame(rows)
    if "status" in df and (df["status"] == "missing").any():
        raise AssertionError("a point has no stored result")  # the runner stores every point before this
    return df


def write_table(df: pd.DataFrame, out: str | Path) -> Path:
    out = Path(out)
    if out.suffix == ".csv":
        return write_text_atomic(out, df.to_csv(index=False))
    if out.suffix == ".parquet":
        import io

        buf = io.BytesIO()
        df.to_parquet(buf, index=False)
        return write_bytes_atomic(out, buf.getvalue())
    raise ArchsimError("expected a .csv or .parquet file", file=str(out))


def read_table(path: str | Path) -> pd.DataFrame:
    path = Path(path)
    if not path.exists():
        raise ArchsimError("no such results file", file=str(path))
    if path.suffix == ".csv":
        return pd.read_csv(path, keep_default_na=False, na_values=[""])
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    raise ArchsimError("expected a .csv or .parquet results file", file=str(path))

"""``archsim report RESULTS --out DIR``: one self-contained HTML page for a sweep's results table.

The page embeds its figures as base64 PNG (also written under ``DIR/figures/``) and needs no network: a Pareto
plot over two objectives, one sensitivity plot per swept parameter, an energy breakdown per component, and the
full table, sortable by clicking a column header (a few lines of inline JavaScript). Axes carry units.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

import pandas as pd

from archsim.base.errors import ArchsimError
from archsim.base.io import write_bytes_atomic, write_text_atomic

NON_PARAMS = {"arch", "model", "phase", "prompt_tokens", "generated_tokens", "batch", "mode", "status", "error",
              "point_key", "cycles", "clock_mhz", "latency_s", "throughput_tokens_per_s", "energy_j",
              "energy_per_token_j", "edp_j_s", "trial", "pareto"}
LABELS = {"latency_s": "latency (s)", "energy_j": "energy (J)", "edp_j_s": "energy-delay product (J s)",
          "throughput_tokens_per_s": "throughput (tokens/s)", "energy_per_token_j": "energy per token (J)",
          "cycles": "cycles (reference clock)"}

SORT_JS = """
document.querySelectorAll('table.sortable th').forEach(function (th, col) {
  th.addEventListener('click', function () {
    var body = th.closest('table').tBodies[0], rows = Array.from(body.rows);
    var asc = th.dataset.dir !== 'asc'; th.dataset.dir = asc ? 'asc' : 'desc';
    rows.sort(function (a, b) {
      var x = a.cells[col].textContent, y = b.cells[col].textContent, nx = parseFloat(x), ny = parseFloat(y);
      var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
      return asc ? c : -c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  });
});
"""


def label(col: str) -> str:
    if col in LABELS:
        return LABELS[col]
    if col.startswith("energy_j."):
        return f"energy of {col.split('.', 1)[1]} (J)"
    if col.startswith("utilization."):
        return f"utilization of {col.split('.', 1)[1]} (fraction)"
    return col  # parameter names carry their units (freq_mhz, capacity_bytes, ...)


def parameters(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if c not in NON_PARAMS and not c.startswith(("energy_j.", "utilization."))]


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight", metadata={"Software": None})
    import matplotlib.pyplot as plt

    plt.close(fig)
    return buf.getvalue()


def figures(df: pd.DataFrame, objectives: list[str]) -> dict[str, tuple[str, bytes]]:
    """name -> (caption, PNG bytes)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from archsim.dse.pareto import pareto_front

    ok = df[df["status"] == "ok"] if "status" in df else df
    out: dict[str, tuple[str, bytes]] = {}
    if ok.empty:
        return out
    x, y = objectives[:2]
    front = pareto_front(ok, [x, y])
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.scatter(ok[x], ok[y], s=18, color="0.6", label="design points")
    ax.plot(front[x], front[y], "o-", color="C3", label=f"Pareto front ({len(front)} points)")
    ax.set_xlabel(label(x))
    ax.set_ylabel(label(y))
    ax.set_title(f"Pareto front: {label(x)} vs {label(y)}")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    out["pareto"] = (f"{len(ok)} valid points; the front minimizes {x} and {y}", _png(fig))
    for p in parameters(ok):
        if ok[p].nunique() < 2:
            continue
        fig, axes = plt.subplots(1, len(objectives[:2]), figsize=(9, 3.4))
        for ax, obj in zip(axes, objectives[:2]):
            g = ok.groupby(p)[obj]
            ax.plot(g.median().index, g.median().values, "o-", label="median over the other parameters")
            ax.fill_between(g.min().index, g.min().values, g.max().values, alpha=0.2, label="min..max")
            ax.set_xlabel(label(p))
            ax.set_ylabel(label(obj))
            ax.grid(alpha=0.3)
            ax.legend(loc="best", fontsize=7)
        fig.suptitle(f"sensitivity to {p}", fontsize=10)
        out[f"sensitivity_{p}"] = (f"how {', '.join(objectives[:2])} change with {p}", _png(fig))
    parts = [c for c in ok.columns if c.startswith("energy_j.")]
    if parts:
        show = front if len(front) else ok.head(20)
        show = show.head(30)
        fig, ax = plt.subplots(figsize=(max(5, 0.35 * len(show) + 2), 4))
        bottom = pd.Series(0.0, index=show.index)
        for i, c in enumerate(parts):
            ax.bar(range(len(show)), show[c], bottom=bottom, label=c.split(".", 1)[1], color=f"C{i}")
            bottom = bottom + show[c]
        params = parameters(show)
        ax.set_xticks(range(len(show)),
                      ["\n".join(f"{show.at[i, p]}" for p in params) for i in show.index], fontsize=7)
        ax.set_xlabel("Pareto points: " + ", ".join(params) if params else "points")
        ax.set_ylabel("energy (J)")
        ax.set_title("energy breakdown per component")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
        out["energy_breakdown"] = ("energy per component of the Pareto points", _png(fig))
    return out


def _table(df: pd.DataFrame) -> str:
    head = "".join(f"<th title='click to sort'>{html.escape(str(c))}</th>" for c in df.columns)
    body = []
    for row in df.itertuples(index=False):
        cells = []
        for v in row:
            text = f"{v:.6g}" if isinstance(v, float) else ("" if v is None else str(v))
            cells.append(f"<td>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table class='sortable'><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def write_report(results: str | Path, out_dir: str | Path, objectives: list[str] | None = None) -> Path:
    from archsim.dse.pareto import pareto_front
    from archsim.dse.table import read_table

    from archsim.base.io import check_output_dir

    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ArchsimError("exists and is not a directory", file=str(out_dir), key="--out")
    df = read_table(results)
    objectives = objectives or ["latency_s", "energy_j"]
    missing = [o for o in objectives if o not in df.columns]
    if len(objectives) < 2 or missing:
        raise ArchsimError(f"expected two or more objective columns, missing {missing}; the table has "
                           f"{[c for c in df.columns if c not in ('status', 'error')]}", file=str(results),
                           key="--objectives")
    check_output_dir(out_dir / "figures", "--out")  # inputs are valid: make the folder before the plots
    figs = figures(df, objectives)
    ok = df[df["status"] == "ok"] if "status" in df else df
    front = pareto_front(ok, objectives) if len(ok) else ok
    parts = [f"<h1>archsim sweep report</h1><p>{html.escape(str(results))}: {len(df)} points, "
             f"{len(ok)} valid, {len(df) - len(ok)} invalid. Swept: "
             f"{html.escape(', '.join(parameters(df)) or 'nothing')}.</p>"]
    for name, (caption, png) in figs.items():
        write_bytes_atomic(out_dir / "figures" / f"{name}.png", png)
        b64 = base64.b64encode(png).decode()
        parts.append(f"<figure id='{name}'><img alt='{html.escape(name)}' src='data:image/png;base64,{b64}'>"
                     f"<figcaption>{html.escape(caption)}</figcaption></figure>")
    parts.append(f"<h2>Pareto front over {html.escape(', '.join(objectives))} ({len(front)} points)</h2>")
    parts.append(_table(front))
    parts.append(f"<h2>All points ({len(df)})</h2>")
    parts.append(_table(df))
    page = ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>archsim sweep report</title>"
            "<style>body{font-family:sans-serif;margin:2em;max-width:1400px}table{border-collapse:collapse;"
            "font-size:12px;margin-bottom:2em}th,td{border:1px solid #ccc;padding:2px 6px;text-align:right}"
            "th{cursor:pointer;background:#eee}figure{display:inline-block;margin:1em}img{max-width:100%}"
            "</style></head><body>" + "".join(parts) + f"<script>{SORT_JS}</script></body></html>")
    return write_text_atomic(out_dir / "report.html", page)

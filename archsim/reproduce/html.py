"""One self-contained HTML page for several reproduce reports: per system the paper-versus-model claims (a
DISAGREES row highlighted, with its note), every table (sortable) and every figure (base64 PNG)."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

from archsim.base.io import write_text_atomic
from archsim.dse.report import SORT_JS, _table


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight", metadata={"Software": None})
    return base64.b64encode(buf.getvalue()).decode()


def write_html(reports: list, out_dir: str | Path) -> Path:
    parts = ["<h1>archsim reproduce: paper versus model</h1><ul>"]
    parts += [f"<li><a href='#{html.escape(r.target)}'>{html.escape(r.title)}</a></li>" for r in reports]
    parts.append("</ul>")
    for r in reports:
        parts.append(f"<section id='{html.escape(r.target)}'><h2>{html.escape(r.title)}</h2>")
        claims = r.claims_frame()
        if len(claims):
            table = _table(claims)
            for c in r.claims:
                if not c.agrees():
                    table = table.replace(f"<tr><td>{html.escape(c.name)}</td>",
                                          f"<tr class='disagrees'><td>{html.escape(c.name)}</td>", 1)
            parts.append("<h3>claims</h3>" + table)
        for ladder in getattr(r, "ladders", []):
            parts.append(f"<h3>ladder: {html.escape(ladder.claim)}</h3>" + _table(ladder.frame()))
        for name, df in r.tables.items():
            parts.append(f"<h3>{html.escape(name)}</h3>" + _table(df))
        for name, fig in r.figures.items():
            parts.append(f"<figure id='{html.escape(r.target)}-{html.escape(name)}'><img alt='{html.escape(name)}' "
                         f"src='data:image/png;base64,{_png(fig)}'><figcaption>{html.escape(name)}</figcaption>"
                         "</figure>")
        if r.notes:
            parts.append("<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in r.notes) + "</ul>")
        parts.append("</section>")
    page = ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>archsim reproduce</title><style>"
            "body{font-family:sans-serif;margin:2em;max-width:1400px}table{border-collapse:collapse;font-size:12px;"
            "margin-bottom:1.5em}th,td{border:1px solid #ccc;padding:2px 6px;text-align:left}th{cursor:pointer;"
            "background:#eee}tr.disagrees{background:#fdd}img{max-width:100%}</style></head><body>"
            + "".join(parts) + f"<script>{SORT_JS}</script></body></html>")
    return write_text_atomic(Path(out_dir) / "report.html", page)

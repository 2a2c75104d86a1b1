"""The progress page: one self-contained .html with its charts inline (SVG
made by matplotlib), to mail around or to publish.

The public variant leaves out internal notes (narratives, next steps,
evidence) and the names of individuals, so a State can publish it as its
tracker; institutions are public bodies and stay.
"""

from __future__ import annotations

import html
import io
import threading
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import cast
from zoneinfo import ZoneInfo

import matplotlib

matplotlib.use("Agg")  # no screen on a server
import matplotlib.pyplot as plt  # noqa: E402

from messages import local_date, local_number, t  # noqa: E402
from storage.enums import ImplementationStatus  # noqa: E402
from storage.report_progress import Progress  # noqa: E402
from storage.status import InstitutionInput  # noqa: E402

STATUS_COLOURS = {
    "not_started": "#c9ced6",
    "in_progress": "#f2b134",
    "partially_implemented": "#4f9ad8",
    "fully_implemented": "#2e9e5b",
    "not_applicable": "#8a8f98",
}
STATUSES = [s.value for s in ImplementationStatus]
_PYPLOT = threading.Lock()
# A chart lists this many clusters or institutions, the largest.
MAX_BARS = 25
STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:2rem auto;max-width:1100px;color:#1f2933;padding:0 1rem}
h1{margin-bottom:.2rem} .note{color:#52606d} .charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(480px,1fr));gap:1.5rem}
figure{margin:0} figcaption{font-weight:600;margin-bottom:.4rem} svg{width:100%;height:auto}
table{border-collapse:collapse;width:100%;margin-top:1rem;font-size:.9rem} th,td{border-bottom:1px solid #e4e7eb;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f5f7fa;position:sticky;top:0} .status{white-space:nowrap}
"""


def _svg(figure: plt.Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def _stacked(groups: dict[str, Counter[str]], language: str) -> str:
    largest = sorted(groups.items(), key=lambda kv: -sum(kv[1].values()))[:MAX_BARS][::-1]
    figure, axes = plt.subplots(figsize=(7, 0.35 * len(largest) + 1.2))
    left = [0] * len(largest)
    labels = [name[:40] for name, _ in largest]
    for status in STATUSES:
        values = [counts.get(status, 0) for _, counts in largest]
        axes.barh(labels, values, left=left, color=STATUS_COLOURS[status], label=t(f"status.{status}", language))
        left = [a + b for a, b in zip(left, values, strict=True)]
    axes.legend(loc="lower right", fontsize=8, frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure)


def _response(response: dict[str, tuple[int, int]]) -> str:
    largest = sorted(response.items(), key=lambda kv: -kv[1][0])[:MAX_BARS][::-1]
    figure, axes = plt.subplots(figsize=(7, 0.35 * len(largest) + 1.2))
    rates = [100 * answered / assigned if assigned else 0 for _, (assigned, answered) in largest]
    axes.barh([code for code, _ in largest], rates, color="#4f9ad8")
    axes.set_xlim(0, 100)
    axes.set_xlabel("%")
    axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure)


def _over_time(by_month: Counter[str]) -> str:
    months = sorted(by_month)
    figure, axes = plt.subplots(figsize=(7, 3))
    total, cumulative = 0, []
    for month in months:
        total += by_month[month]
        cumulative.append(total)
    axes.plot(months or ["-"], cumulative or [0], marker="o", color="#2e9e5b")
    axes.tick_params(axis="x", rotation=45, labelsize=8)
    axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure)


def _inputs(inputs: Sequence[InstitutionInput], language: str, timezone: str) -> str:
    """Each institution's own status beside the overall one: "MOE: partially implemented (2026-03-02); MIDES: no answer"."""
    zone = ZoneInfo(timezone)
    return "; ".join(
        t("report.input_line", language, institution=i.code, status=t(f"status.{i.status}", language), date=f"{i.at.astimezone(zone):%Y-%m-%d}")
        if i.status is not None and i.at is not None else t("report.input_none", language, institution=i.code)
        for i in inputs
    )


def write_progress_page(
    figures: Progress, rows: list[dict[str, object]], path: Path, *, as_of: datetime, language: str, timezone: str, public: bool,
    validated_only: bool = False,
) -> None:
    path.write_text(
        render_progress_page(figures, rows, as_of=as_of, language=language, timezone=timezone, public=public, validated_only=validated_only),
        encoding="utf-8",
    )


def render_progress_page(
    figures: Progress, rows: list[dict[str, object]], *, as_of: datetime, language: str, timezone: str, public: bool,
    validated_only: bool = False, built_at: datetime | None = None, languages: Sequence[tuple[str, str]] = (),
) -> str:
    """The page. The live tracker (bot.public_tracker) adds the moment it
    was built (``built_at``) and links to its other ``languages``: (code, href)."""
    def say(key: str, **values: object) -> str:
        return html.escape(t(key, language, **values))

    zone = ZoneInfo(timezone)
    day = local_date(as_of.astimezone(zone).date(), language)
    updated = figures.answered
    share = f"{local_number(round(100 * updated / figures.total, 1) if figures.total else 0, language)} %"
    # Names are text, not TeX: "Budget ($) and aid ($)" would otherwise be set
    # as a formula, and a stray backslash in one would stop the whole page.
    # pyplot's state is global: one page's charts at a time, whichever thread
    # draws them (the live tracker draws in a worker thread).
    with _PYPLOT, plt.rc_context({"text.parse_math": False}):
        charts = [
            (say("progress.by_cluster"), _stacked(figures.by_cluster, language)),
            (say("progress.by_institution"), _stacked(figures.by_institution, language)),
            (say("progress.response"), _response(figures.response)),
            (say("progress.over_time"), _over_time(figures.updates_by_month)),
        ]
    head = [say("progress.col_recommendation"), say("progress.col_status"), say("progress.col_institution")]
    if not public:
        head += [say("progress.col_narrative"), say("progress.col_updated")]
    body = []
    for row in rows:
        label = " ".join(str(p) for p in (row.get("mechanism"), row.get("document"), row.get("paragraph")) if p)
        cells = [
            f"<b>{html.escape(label)}</b><br>{html.escape(str(row['text']))}",
            f'<span class="status">{say("status." + str(row["status"]))}</span>',
            html.escape(_inputs(cast(Sequence[InstitutionInput], row.get("inputs") or []), language, timezone) or str(row.get("institutions") or "")),
        ]
        if not public:
            updated_at = row.get("last_update_at")
            by = f"{row.get('last_update_by')}, {updated_at:%Y-%m-%d}" if isinstance(updated_at, datetime) else ""
            cells += [html.escape(str(row.get("narrative") or "")), html.escape(by)]
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    notes = []
    if built_at is not None:
        notes.append(say("public.as_of_time", time=f"{built_at.astimezone(zone):%Y-%m-%d %H:%M}", timezone=timezone))
    if public:
        notes.append(say("progress.public_note"))
    if public and validated_only:
        notes.append(say("progress.validated_note"))
    links = [
        f'<a href="{html.escape(href)}" hreflang="{html.escape(code)}" lang="{html.escape(code)}">{html.escape(t("public.language_name", code))}</a>'
        for code, href in languages if code != language
    ]
    nav = f'<nav class="note">{say("public.languages")} {" · ".join(links)}</nav>' if links else ""
    return f"""<!DOCTYPE html>
<html lang="{html.escape(language)}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{say("progress.title")}</title><style>{STYLE}</style></head><body>
{nav}
<h1>{say("progress.title")}</h1>
<p class="note">{say("progress.as_of", date=day, updated=local_number(updated, language), count=figures.total, share=share)}</p>
{"".join(f'<p class="note">{note}</p>' for note in notes)}
<div class="charts">{"".join(f'<figure class="chart"><figcaption>{title}</figcaption>{svg}</figure>' for title, svg in charts)}</div>
<h2>{say("progress.table")}</h2>
<table><thead><tr>{"".join(f"<th>{h}</th>" for h in head)}</tr></thead><tbody>
{chr(10).join(body)}
</tbody></table>
</body></html>
"""

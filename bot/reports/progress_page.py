"""The progress page: one self-contained .html with its charts inline (SVG
made by matplotlib), to mail around or to publish.

The public variant leaves out internal notes (narratives, next steps,
evidence) and the names of individuals, so a State can publish it as its
tracker; institutions are public bodies and stay, as do the SDGs.

The SDG chart gives each goal's status shares (each bar 100 %, its count
beside the goal's number and short name): goals differ in size by tens, and
shares are what compares them. A recommendation under several goals is in
each goal's bar; the chart is there only when some recommendation on the
page has an SDG, else a line says none has.

The implementation plan (issue 16): a chart of the actions by status (each
action once, however many recommendations it serves), one chart per
indicator (its values over time against its baseline and its target, each
drawn at its date), and the table of actions. The public variant shows an
action's budget unless the secretariat marked it internal. With no action
(no indicator), a line says so instead of an empty chart.
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
from matplotlib.axis import Axis  # noqa: E402
from matplotlib.category import StrCategoryConverter  # noqa: E402
from matplotlib.ticker import FuncFormatter, ScalarFormatter  # noqa: E402

from bot.reports.chart_fonts import families  # noqa: E402
from messages import local_date, local_number, native_digits, t  # noqa: E402
from bot.reports.rtl import html_lang, is_rtl, text_direction  # noqa: E402
from messages.bidi import strip_controls  # noqa: E402
from messages.numbers import local_amount, local_decimal, local_percent  # noqa: E402
from storage.actions import ActionView  # noqa: E402
from storage.enums import ImplementationStatus  # noqa: E402
from storage.report_plan import PlanIndicator  # noqa: E402
from storage.report_progress import Progress  # noqa: E402
from storage.sdgs import Sdg, goal_name, goals_of, ordered, sort_key  # noqa: E402
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
RTL_ATTRIBUTE = ' dir="rtl"'
# A chart lists this many clusters or institutions, the largest.
MAX_BARS = 25
STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:2rem auto;max-width:1100px;color:#1f2933;padding:0 1rem}
h1{margin-bottom:.2rem} .note{color:#52606d} .charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(480px,1fr));gap:1.5rem}
figure{margin:0} figcaption{font-weight:600;margin-bottom:.4rem} svg{width:100%;height:auto}
table{border-collapse:collapse;width:100%;margin-top:1rem;font-size:.9rem} th,td{border-bottom:1px solid #e4e7eb;padding-block:.35rem;padding-inline:.5rem;text-align:start;vertical-align:top}
th{background:#f5f7fa;position:sticky;top:0} .status{white-space:nowrap} tr.group th{background:#e4e7eb;position:static}
"""


def drawn(text: str) -> str:
    """A number as a chart draws it: matplotlib lays out the line itself, so
    without the directional marks Babel gives Arabic's signs."""
    return strip_controls(text)


def _numbers_in_locale(axis: Axis, language: str, *, percent: bool) -> None:
    """The axis's tick labels written as the reader writes numbers, through
    Babel (messages): ١٢٫٥ and ٢٠٪ in Arabic, 12,5 and 20 % in French. Names
    (a category axis) are left as they are; dates keep matplotlib's choice
    of what to show, in the locale's digits."""
    if isinstance(axis.get_converter(), StrCategoryConverter):
        return
    shown = axis.get_major_formatter()
    if not isinstance(shown, ScalarFormatter):  # dates
        axis.set_major_formatter(FuncFormatter(lambda value, pos: drawn(native_digits(shown(value, pos), language))))
    elif percent:
        axis.set_major_formatter(FuncFormatter(lambda value, _pos: drawn(local_percent(value / 100, language))))
    else:
        axis.set_major_formatter(FuncFormatter(lambda value, _pos: drawn(local_number(value, language))))


def _svg(figure: plt.Figure, language: str, *, percent: bool = False) -> str:
    """The figure as SVG, its numbers in the reader's locale (``percent``: its value axis is a share of 100)."""
    for axes in figure.axes:
        for axis in (axes.xaxis, axes.yaxis):
            _numbers_in_locale(axis, language, percent=percent)
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(figure)
    text = buffer.getvalue()
    text = text[text.index("<svg"):]
    # A chart is drawn left to right whatever the page's direction (its text is
    # paths, shaped by matplotlib): a right-to-left page must not mirror it.
    return text.replace("<svg ", '<svg dir="ltr" ', 1)


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
    return _svg(figure, language)


def goal_bar_labels(by_goal: dict[int, Counter[str]], language: str) -> list[str]:
    """From the bottom bar up (goal 1 on top): "5 Gender equality (12)"."""
    def short(name: str) -> str:
        return name if len(name) <= 34 else name[:33].rstrip() + "…"

    return [f"{local_number(goal, language)} {short(goal_name(goal, language))} ({local_number(sum(by_goal[goal].values()), language)})" for goal in sorted(by_goal, reverse=True)]


def _goal_shares(by_goal: dict[int, Counter[str]], language: str) -> str:
    goals = sorted(by_goal, reverse=True)  # goal 1 on top
    figure, axes = plt.subplots(figsize=(7, 0.35 * len(goals) + 1.2))
    labels = goal_bar_labels(by_goal, language)
    left = [0.0] * len(goals)
    for status in STATUSES:
        values = [100 * by_goal[goal].get(status, 0) / (sum(by_goal[goal].values()) or 1) for goal in goals]
        axes.barh(labels, values, left=left, color=STATUS_COLOURS[status], label=t(f"status.{status}", language))
        left = [a + b for a, b in zip(left, values, strict=True)]
    axes.set_xlim(0, 100)
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12 - 0.6 / (len(goals) + 3)), ncol=3, fontsize=8, frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure, language, percent=True)


def _response(response: dict[str, tuple[int, int]], language: str) -> str:
    largest = sorted(response.items(), key=lambda kv: -kv[1][0])[:MAX_BARS][::-1]
    figure, axes = plt.subplots(figsize=(7, 0.35 * len(largest) + 1.2))
    rates = [100 * answered / assigned if assigned else 0 for _, (assigned, answered) in largest]
    axes.barh([code for code, _ in largest], rates, color="#4f9ad8")
    axes.set_xlim(0, 100)
    axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure, language, percent=True)


def _over_time(by_month: Counter[str], language: str) -> str:
    months = sorted(by_month)
    figure, axes = plt.subplots(figsize=(7, 3))
    total, cumulative = 0, []
    for month in months:
        total += by_month[month]
        cumulative.append(total)
    # The months are names on their axis ("2026-09"), written in the reader's digits.
    axes.plot([native_digits(m, language) for m in months] or ["-"], cumulative or [0], marker="o", color="#2e9e5b")
    axes.tick_params(axis="x", rotation=45, labelsize=8)
    axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure, language)


def _actions_by_status(counts: Counter[str], language: str) -> str:
    """One bar a status, in the statuses' order, each with its count."""
    statuses = STATUSES[::-1]  # not started on top
    figure, axes = plt.subplots(figsize=(7, 2.6))
    labels = [t(f"status.{status}", language) for status in statuses]
    values = [counts.get(status, 0) for status in statuses]
    bars = axes.barh(labels, values, color=[STATUS_COLOURS[status] for status in statuses])
    axes.bar_label(bars, labels=[drawn(local_number(v, language)) for v in values], padding=3, fontsize=8)
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure, language)


def _indicator(plan: PlanIndicator, language: str) -> str:
    """The values counted, by the end of the period each covers, against the
    baseline and the target: each a line across, marked at its own date."""
    indicator = plan.indicator
    figure, axes = plt.subplots(figsize=(7, 3))
    points = plan.series.points
    days = [p.value.period_end for p in points]
    if points:
        axes.plot(days, [float(p.value.value) for p in points], marker="o", color="#4f9ad8", label=t("progress.indicator_values", language))
    for value, day, colour, style, key in (
        (indicator.baseline_value, indicator.baseline_date, "#8a8f98", "--", "progress.indicator_baseline"),
        (indicator.target_value, indicator.target_date, "#2e9e5b", ":", "progress.indicator_target"),
    ):
        if value is None:
            continue
        label = t(key, language, value=local_decimal(value, language))
        axes.axhline(float(value), color=colour, linestyle=style, linewidth=1.2, label=label)
        if day is not None:
            axes.plot([day], [float(value)], marker="D", color=colour, linestyle="none")
    axes.set_ylabel(indicator.unit[:30])
    axes.tick_params(axis="x", rotation=30, labelsize=8)
    axes.legend(loc="best", fontsize=8, frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure, language)


def _indicator_caption(plan: PlanIndicator, language: str) -> str:
    """ "I-3: Share of women among judges (%), latest 35 (1 Jan – 31 Mar 2026)"."""
    indicator, latest = plan.indicator, plan.series.latest
    if latest is None:
        return t("progress.indicator_caption_none", language, code=indicator.code, definition=indicator.definition, unit=indicator.unit)
    return t(
        "progress.indicator_caption", language, code=indicator.code, definition=indicator.definition, unit=indicator.unit,
        value=local_decimal(latest.value.value, language), date=local_date(latest.value.period_end, language),
    )


def ltr(text: str, language: str) -> str:
    """Escaped ``text`` that reads left to right (a code, a symbol such as
    A/HRC/26/7, an amount, "#12"), isolated on a right-to-left page so it
    keeps its order and does not reorder the words around it."""
    escaped = html.escape(text)
    return f'<bdi dir="ltr">{escaped}</bdi>' if text and is_rtl(language) else escaped


def own(text: str, language: str) -> str:
    """Escaped ``text`` in its own direction (a title, a name, in any script), isolated on a right-to-left page."""
    escaped = html.escape(text)
    return f"<bdi>{escaped}</bdi>" if text and is_rtl(language) else escaped


def _action_rows(actions: Sequence[ActionView], language: str, public: bool) -> list[str]:
    """The table of actions: an internal budget is left out of the public page."""
    out = []
    for action in actions:
        budget = action.budget if action.budget is not None and not (public and action.budget.internal) else None
        who = action.responsible_code + (f" ({', '.join(code for code, _ in action.contributing)})" if action.contributing else "")
        cells = [
            f"<b>{ltr(action.code, language)}</b> {own(action.title, language)}",
            ltr(who, language),
            html.escape(local_date(action.target_date, language) if action.target_date else "—"),
            f'<span class="status">{html.escape(t("status." + action.status.value, language))}</span>',
            ltr(f"{local_amount(budget.amount, language)} {budget.currency}", language) if budget else "—",
            ltr(", ".join(f"#{r}" for r in action.served), language),
        ]
        out.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return out


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
    validated_only: bool = False, by: str | None = None, scope_note: str | None = None,
) -> None:
    path.write_text(
        render_progress_page(
            figures, rows, as_of=as_of, language=language, timezone=timezone, public=public, validated_only=validated_only, by=by,
            scope_note=scope_note,
        ),
        encoding="utf-8",
    )


def _grouped(rows: list[dict[str, object]], by: str | None, language: str) -> list[tuple[str | None, list[dict[str, object]]]]:
    """The table's sections: one, unnamed, or one a cluster, SDG goal or SDG
    target (a recommendation under several in each), in order, "none" last."""
    if by is None:
        return [(None, rows)]
    sections: dict[object, tuple[str, list[dict[str, object]]]] = {}
    for row in rows:
        if by == "cluster":
            name = str(row.get("cluster") or t("draft.not_clustered", language))
            keys: list[tuple[object, str]] = [((row.get("cluster") is None, name), name)]
        elif by == "sdg-target":
            sdgs = cast(list[Sdg], row.get("sdgs") or [])
            keys = [((False, sort_key(sdg)), _target_section(sdg, language)) for sdg in ordered(sdgs)]
            keys = keys or [((True, (0, 0, 0, "")), t("sdg.none", language))]
        else:
            goals = goals_of(cast(list[Sdg], row.get("sdgs") or []))
            keys = [((False, goal), t("sdg.goal_label", language, goal=goal, name=goal_name(goal, language))) for goal in goals]
            keys = keys or [((True, 0), t("sdg.none", language))]
        for key, name in keys:
            sections.setdefault(key, (name, []))[1].append(row)
    return [sections[key] for key in sorted(sections, key=lambda k: (k[0], k[1]))]  # type: ignore[index]


def _target_section(sdg: Sdg, language: str) -> str:
    """ "Target 5.2 (SDG 5: Gender equality)", or the goal tagged as a whole."""
    goal = t("sdg.goal_label", language, goal=sdg.goal, name=goal_name(sdg.goal, language))
    return t("progress.target_section", language, target=sdg.target, goal=goal) if sdg.target else t("progress.goal_whole_section", language, goal=goal)


def render_progress_page(
    figures: Progress, rows: list[dict[str, object]], *, as_of: datetime, language: str, timezone: str, public: bool,
    validated_only: bool = False, built_at: datetime | None = None, languages: Sequence[tuple[str, str]] = (),
    by: str | None = None, scope_note: str | None = None,
) -> str:
    """The page. The live tracker (bot.public_tracker) adds the moment it
    was built (``built_at``) and links to its other ``languages``: (code, href).
    ``by``: the table in sections, "cluster", "sdg-goal" or "sdg-target"; ``scope_note``:
    the line saying what the page was limited to (bot.reports.report_filters)."""
    def say(key: str, **values: object) -> str:
        return html.escape(t(key, language, **values))

    zone = ZoneInfo(timezone)
    day = local_date(as_of.astimezone(zone).date(), language)
    updated = figures.answered
    share = local_percent(updated / figures.total if figures.total else 0, language)
    # Names are text, not TeX: "Budget ($) and aid ($)" would otherwise be set
    # as a formula, and a stray backslash in one would stop the whole page.
    # pyplot's state is global: one page's charts at a time, whichever thread
    # draws them (the live tracker draws in a worker thread).
    # Each script in its own font (bot.reports.chart_fonts), shaped by matplotlib: real glyphs, not boxes.
    with _PYPLOT, plt.rc_context({"text.parse_math": False, "font.family": families(language), "svg.fonttype": "path"}):
        charts = [
            (say("progress.by_cluster"), _stacked(figures.by_cluster, language)),
            *([(say("progress.by_sdg_goal"), _goal_shares(figures.by_goal, language))] if figures.by_goal else []),
            (say("progress.by_institution"), _stacked(figures.by_institution, language)),
            (say("progress.response"), _response(figures.response, language)),
            (say("progress.over_time"), _over_time(figures.updates_by_month, language)),
        ]
        plan = figures.plan
        if plan.actions:
            charts.append((say("progress.actions_by_status", count=len(plan.actions)), _actions_by_status(plan.by_status, language)))
        charts += [(html.escape(_indicator_caption(p, language)), _indicator(p, language)) for p in plan.indicators]
    head = [say("progress.col_recommendation"), say("progress.col_status"), say("progress.col_institution"), say("progress.col_sdg")]
    if not public:
        head += [say("progress.col_narrative"), say("progress.col_updated")]
    body = []
    for section, members in _grouped(rows, by, language):
        if section is not None:
            body.append(f'<tr class="group"><th colspan="{len(head)}">{html.escape(section)} ({local_number(len(members), language)})</th></tr>')
        for row in members:
            label = " ".join(str(p) for p in (row.get("mechanism"), row.get("document"), row.get("paragraph")) if p)
            cells = [
                f"<b>{ltr(label, language)}</b><br>{own(str(row['text']), language)}",
                f'<span class="status">{say("status." + str(row["status"]))}</span>',
                html.escape(_inputs(cast(Sequence[InstitutionInput], row.get("inputs") or []), language, timezone) or str(row.get("institutions") or "")),
                ltr(str(row.get("sdg_targets") or ""), language),
            ]
            if not public:
                updated_at = row.get("last_update_at")
                given_by = f"{own(str(row.get('last_update_by')), language)}, {ltr(f'{updated_at:%Y-%m-%d}', language)}" if isinstance(updated_at, datetime) else ""
                cells += [own(str(row.get("narrative") or ""), language), given_by]
            body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    notes = []
    if scope_note:
        notes.append(html.escape(scope_note))
    if not figures.by_goal:
        notes.append(say("progress.no_sdg"))
    if not figures.plan.actions:
        notes.append(say("progress.no_actions"))
    if not figures.plan.indicators:
        notes.append(say("progress.no_indicators"))
    if built_at is not None:
        notes.append(say("public.as_of_time", time=f"{built_at.astimezone(zone):%Y-%m-%d %H:%M}", timezone=timezone))
    if public:
        notes.append(say("progress.public_note"))
    if public and validated_only:
        notes.append(say("progress.validated_note"))
    links = [
        f'<a href="{html.escape(href)}" hreflang="{html.escape(html_lang(code))}" lang="{html.escape(html_lang(code))}"'
        f'{RTL_ATTRIBUTE if is_rtl(code) else ""}>{html.escape(t("public.language_name", code))}</a>'
        for code, href in languages if code != language
    ]
    actions = ""
    if figures.plan.actions:
        action_head = "".join(f"<th>{say('progress.col_' + c)}</th>" for c in ("action", "responsible", "target_date", "status", "budget", "serves"))
        actions = (
            f'<h2>{say("progress.actions")}</h2>\n<table><thead><tr>{action_head}</tr></thead><tbody>\n'
            + "\n".join(_action_rows(figures.plan.actions, language, public)) + "\n</tbody></table>"
        )
    nav = f'<nav class="note">{say("public.languages")} {" · ".join(links)}</nav>' if links else ""
    return f"""<!DOCTYPE html>
<html lang="{html.escape(html_lang(language))}" dir="{text_direction(language)}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{say("progress.title")}</title><style>{STYLE}</style></head><body>
{nav}
<h1>{say("progress.title")}</h1>
<p class="note">{say("progress.as_of", date=day, updated=local_number(updated, language), count=figures.total, share=share)}</p>
{"".join(f'<p class="note">{note}</p>' for note in notes)}
<div class="charts">{"".join(f'<figure class="chart"><figcaption>{title}</figcaption>{svg}</figure>' for title, svg in charts)}</div>
{actions}
<h2>{say("progress.table")}</h2>
<table><thead><tr>{"".join(f"<th>{h}</th>" for h in head)}</tr></thead><tbody>
{chr(10).join(body)}
</tbody></table>
</body></html>
"""

"""What a report's filters and priorities say in the report itself: the
priority reasons of a row, and the line naming the SDG or priority a report
was limited to, so a filtered file is never read as the whole registry."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from handlers.report_orders import ReportOrder
from messages import t
from handlers.priority_reasons import level_name, reason_lines
from storage.priorities import PriorityView
from storage.sdgs import goal_label


# Most recommendations share their reasons word for word (the same criteria
# met for the same reasons): the matrix words each combination once, not
# once a row, which was a fifth of its time. Bounded, for a registry of
# overrides each with its own reason.
_WORDED: dict[tuple[object, ...], list[str]] = {}
_WORDED_MAX = 50_000


def priority_reasons(row: dict[str, Any], language: str, *, met_only: bool = False) -> Sequence[str]:
    """The level (with an override's reason), then each criterion met or not
    and why, one a line, as /priority says them (handlers.priority_reasons);
    ``met_only``: the criteria met only, the reasons for the level (the
    matrix's cell, read in a row of Excel; the draft shows all five)."""
    view: PriorityView | None = row.get("priority_view")
    if view is None:
        return []
    if met_only:
        # The criteria not met say nothing but their number (in the level's
        # line): the key leaves their details out, most of its cost a row.
        key: tuple[object, ...] = (
            language, met_only, view.level, view.overridden, view.override_reason, view.computed, len(view.criteria),
            tuple((c.code, c.source, repr(c.detail)) for c in view.criteria if c.met),
        )
    else:
        key = (
            language, met_only, view.level, view.overridden, view.override_reason, view.computed,
            tuple((c.code, c.met, c.source, repr(c.detail)) for c in view.criteria),
        )
    worded = _WORDED.get(key)
    if worded is None:
        if len(_WORDED) >= _WORDED_MAX:
            _WORDED.clear()
        level, *criteria = reason_lines(view, language)
        worded = _WORDED[key] = [level, *(line for line, c in zip(criteria, view.criteria, strict=True) if c.met or not met_only)]
    return worded


def matrix_reasons(row: dict[str, Any], language: str) -> Sequence[str]:
    return priority_reasons(row, language, met_only=True)


def scope_note(order: ReportOrder) -> str | None:
    """ "Only the recommendations under SDG 5: Gender equality, priority high." or None."""
    parts = []
    if order.sdg is not None:
        parts.append(
            goal_label(order.sdg.goal, order.language) if order.sdg.target is None
            else t("report.scope_target", order.language, target=order.sdg.target, goal=goal_label(order.sdg.goal, order.language))
        )
    if order.priority is not None:
        parts.append(t("report.scope_priority", order.language, priority=level_name(order.priority, order.language)))
    return t("report.scope_note", order.language, scope=", ".join(parts)) if parts else None

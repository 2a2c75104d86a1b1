"""A priority and its reasons in words, in the reader's language: one line
per criterion of the Guide, for /priority, `nmrf-bot priorities show`, the
matrix and the draft (bot/reports), so all of them say it the same way.

Catalog keys, all under ``priority.``: ``priority.criterion.<code>`` (the
criterion's name), ``priority.level.<high|medium|low|none>``,
``priority.met.<yes|no|unknown>``, ``priority.reason.<...>`` (why, with the
detail's params) and ``priority.line`` / ``priority.line_set`` (one line)."""

from __future__ import annotations

from storage.enums import Priority
from storage.priorities import CRITERIA, SECRETARIAT, Code, Criterion, PriorityView

from messages import t

# The criteria the data answers unless the secretariat says otherwise.
_FROM_DATA = (Code.URGENCY, Code.RECURRENCE, Code.MARGINALISED)


def criterion_name(code: Code | str, language: str) -> str:
    return t(f"priority.criterion.{Code(code).value}", language)


def level_name(level: Priority | str | None, language: str) -> str:
    return t(f"priority.level.{Priority(level).value if level else 'none'}", language)


def met_name(met: bool | None, language: str) -> str:
    return t(f"priority.met.{'unknown' if met is None else 'yes' if met else 'no'}", language)


def why(criterion: Criterion, language: str) -> str:
    """What the answer rests on (the data's, for a data criterion the secretariat changed)."""
    d = criterion.detail
    code = criterion.code
    if code == Code.URGENCY:
        return t("priority.reason.urgency.selected" if d.get("follow_up") else "priority.reason.urgency.not_selected", language)
    if code == Code.RECURRENCE:
        parts: list[str] = []
        if d.get("group") is not None:
            mechanisms = ", ".join(d.get("mechanisms") or [])
            # Named as every list names it (storage.linked_items.group_names); a
            # view kept from before names were given says the number.
            if d.get("group_name"):
                parts.append(t("priority.reason.recurrence.group_named", language, name=d["group_name"], mechanisms=mechanisms))
            else:
                parts.append(t("priority.reason.recurrence.group", language, group=d["group"], mechanisms=mechanisms))
        if d.get("states"):
            parts.append(t("priority.reason.recurrence.states", language, count=int(d["states"])))
        return "; ".join(parts) or t("priority.reason.recurrence.none", language)
    if code == Code.QUICK_WIN:
        return t(f"priority.reason.quick_win.{d.get('budget') or 'unknown'}", language)
    if code == Code.NATIONAL_PRIORITY:
        said = criterion.met
        return t(f"priority.reason.national.{'unknown' if said is None else 'yes' if said else 'no'}", language)
    groups = d.get("groups") or []
    if groups:
        return t("priority.reason.marginalised.groups", language, groups=", ".join(groups))
    return t("priority.reason.marginalised.none", language)


def criterion_line(criterion: Criterion, language: str) -> str:
    values = {
        "criterion": criterion_name(criterion.code, language),
        "state": met_name(criterion.met, language),
        "why": why(criterion, language),
    }
    if criterion.code in _FROM_DATA and criterion.source == SECRETARIAT:
        return t("priority.line_set", language, **values)
    return t("priority.line", language, **values)


def level_line(view: PriorityView, language: str) -> str:
    if view.overridden:
        return t(
            "priority.level_overridden", language, level=level_name(view.level, language),
            computed=level_name(view.computed, language), reason=view.override_reason or "",
        )
    if not view.criteria:
        # Kept when history began (storage.priority_history): the level, without the reasons it then had.
        return t("priority.level_only", language, level=level_name(view.level, language))
    return t("priority.level_counted", language, level=level_name(view.level, language), count=view.met, total=len(CRITERIA))


def change_line(at: str, actor: str, cause: str, language: str) -> str:
    """Who changed the priority, when and why (a kept change, storage.priority_history)."""
    return t("priority.changed", language, date=at, actor=actor, cause=t(f"priority.cause.{cause}", language))


def reason_lines(view: PriorityView, language: str) -> list[str]:
    """The level (with the override and its reason, if any), then one line per criterion."""
    return [level_line(view, language), *(criterion_line(c, language) for c in view.criteria)]

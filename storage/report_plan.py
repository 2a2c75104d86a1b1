"""The national implementation plan as the reports read it (issue 16): each
recommendation in scope with its actions and indicators, as of a moment,
in sections by cluster, linked group or framework chapter.

One read for every output that shows the plan: ``report plan`` (.xlsx and
.docx), the matrix's Actions and Indicators sheets, the export's columns and
the progress page's charts. The recommendation's part is the usual report
row (storage.report_rows: its overall status by the one rule, as of the
moment); the actions are storage.actions.actions_by_recommendation's (those
accepted by then, their status then, without internal budgets when the
output is public); the indicators are those measuring the recommendation or
one of its actions, defined by then, each with its series as it stood
(storage.indicators.series).

By chapter, an action sits under each chapter of a national plan it serves,
and a recommendation under each chapter one of its actions serves, holding
only that chapter's actions there: a chapter of a national plan is a list of
measures, and an action listed under a chapter it does not serve would be
counted twice in the chapter's budget. What serves no chapter (and the
recommendations with no action yet, the plan's gaps) comes last.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.actions import ActionView, ChapterView, actions_by_recommendation
from storage.indicator_models import Indicator, IndicatorAction, IndicatorRecommendation
from storage.indicators import Series, series
from storage.models import AuditEntry, Institution, LinkGroup, LinkGroupMember
from storage.report_rows import ReportScope, stream_report_rows

PLAN_GROUPS = ("cluster", "group", "chapter")
_CHUNK = 2000
_DIGITS = re.compile(r"(\d+)")


@dataclass
class PlanIndicator:
    """An indicator as the plan shows it: its definition, who reports it, and
    its series as of the plan's moment (its latest value, its trend)."""

    series: Series
    institution: str
    # The codes of the actions it measures, and the recommendations it measures directly.
    actions: tuple[str, ...] = ()
    recommendations: tuple[int, ...] = ()

    @property
    def indicator(self) -> Indicator:
        return self.series.indicator


@dataclass
class PlanItem:
    """One recommendation of the plan: its report row (storage.report_rows),
    its actions (under a chapter, those of the chapter) and its indicators."""

    row: dict[str, Any]
    actions: list[ActionView]
    indicators: list[PlanIndicator]

    @property
    def id(self) -> int:
        return int(self.row["id"])


@dataclass
class PlanSection:
    """A cluster, a linked group or a framework's chapter, or (``none``) the
    recommendations in no cluster, no group, under no chapter."""

    none: bool
    # The cluster's name, the group's title (None: the secretariat gave none), the chapter's title.
    title: str | None
    # The group's number; the chapter as FRAMEWORK:CHAPTER with its framework's title.
    group_id: int | None = None
    chapter: ChapterView | None = None
    items: list[PlanItem] = field(default_factory=list)

    def actions(self) -> list[ActionView]:
        """The section's actions, each once however many of its recommendations it serves."""
        return list({a.id: a for item in self.items for a in item.actions}.values())


@dataclass
class Plan:
    by: str
    sections: list[PlanSection]
    # Each once, however many sections they are under.
    recommendations: int = 0
    actions: list[ActionView] = field(default_factory=list)
    indicators: list[PlanIndicator] = field(default_factory=list)


def budget_totals(actions: Sequence[ActionView]) -> dict[str, Decimal]:
    """The budgets shown, summed by currency (never across currencies), each action once."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for action in {a.id: a for a in actions}.values():
        if action.budget is not None:
            totals[action.budget.currency] += action.budget.amount
    return dict(sorted(totals.items()))


def status_counts(actions: Sequence[ActionView]) -> Counter[str]:
    """Actions by status, each once."""
    return Counter(a.status.value for a in {a.id: a for a in actions}.values())


async def plan_indicators(
    session: AsyncSession, recommendation_ids: Collection[int] | None, actions: Sequence[ActionView], as_of: datetime | None,
) -> dict[int, PlanIndicator]:
    """The indicators measuring these recommendations (every one when None)
    or these actions, defined by ``as_of``, by id, in code order."""
    by_action = {a.id: a.code for a in actions}
    action_links: dict[int, list[str]] = defaultdict(list)
    rec_links: dict[int, list[int]] = defaultdict(list)
    # The link tables are the plan's size (tens or hundreds of rows): read whole, filtered here.
    to_actions = {(i, a) for i, a in await session.execute(select(IndicatorAction.indicator_id, IndicatorAction.action_id))}
    to_recs = {(i, r) for i, r in await session.execute(select(IndicatorRecommendation.indicator_id, IndicatorRecommendation.recommendation_id))}
    if as_of is not None:
        await _links_then(session, as_of, to_actions, to_recs)
    for indicator_id, action_id in sorted(to_actions):
        if action_id in by_action:
            action_links[indicator_id].append(by_action[action_id])
    wanted = None if recommendation_ids is None else set(recommendation_ids)
    for indicator_id, rec in sorted(to_recs):
        if wanted is None or rec in wanted:
            rec_links[indicator_id].append(rec)
    statement = select(Indicator.id)
    if as_of is not None:
        statement = statement.where(Indicator.created_at <= as_of)
    defined = set((await session.scalars(statement)).all())
    ids = defined if wanted is None else defined & (set(action_links) | set(rec_links))
    if not ids:
        return {}
    found = await series(session, ids, as_of=as_of)
    codes = {i: code for i, code in await session.execute(select(Institution.id, Institution.code))}
    return {
        indicator_id: PlanIndicator(
            s, codes.get(s.indicator.institution_id, ""), tuple(sorted(action_links.get(indicator_id, ()), key=natural)),
            tuple(sorted(rec_links.get(indicator_id, ()))),
        )
        for indicator_id, s in found.items()
    }


async def _links_then(session: AsyncSession, as_of: datetime, to_actions: set[tuple[int, int]], to_recs: set[tuple[int, int]]) -> None:
    """What each indicator measured at ``as_of``: the links made since taken
    away and those removed since put back, from the audit log, newest first."""
    tables = {IndicatorAction.__tablename__: (to_actions, "action_id"), IndicatorRecommendation.__tablename__: (to_recs, "recommendation_id")}
    for entry in await session.scalars(
        select(AuditEntry).where(AuditEntry.at > as_of, AuditEntry.entity.in_(list(tables))).order_by(AuditEntry.id.desc())
    ):
        pairs, column = tables[entry.entity]
        changes = entry.changes or {}
        pair = (changes.get("indicator_id"), changes.get(column))
        if None in pair:
            continue
        if entry.action == "insert":
            pairs.discard(pair)  # type: ignore[arg-type]
        elif entry.action == "delete":
            pairs.add(pair)  # type: ignore[arg-type]


def natural(text: str) -> tuple[object, ...]:
    """ "2.10" after "2.3", "A-10" after "A-9": codes as people number them."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in _DIGITS.split(text) if part)


def _indicators_of(rec: int, actions: Sequence[ActionView], indicators: dict[int, PlanIndicator]) -> list[PlanIndicator]:
    codes = {a.code for a in actions}
    return [p for p in indicators.values() if rec in p.recommendations or codes & set(p.actions)]


async def _groups(session: AsyncSession, ids: Sequence[int], as_of: datetime | None) -> tuple[dict[int, int], dict[int, str | None]]:
    """recommendation -> its linked group (one it had joined by ``as_of``), and the groups' titles."""
    group_of: dict[int, int] = {}
    unique = sorted(set(ids))
    for start in range(0, len(unique), _CHUNK):
        statement = select(LinkGroupMember.recommendation_id, LinkGroupMember.group_id).where(
            LinkGroupMember.recommendation_id.in_(unique[start:start + _CHUNK])
        )
        if as_of is not None:
            statement = statement.where(LinkGroupMember.added_at <= as_of)
        group_of.update({rec: group for rec, group in await session.execute(statement)})
    groups = sorted(set(group_of.values()))
    titles: dict[int, str | None] = {}
    for start in range(0, len(groups), _CHUNK):
        titles.update({g: title for g, title in await session.execute(
            select(LinkGroup.id, LinkGroup.title).where(LinkGroup.id.in_(groups[start:start + _CHUNK]))
        )})
    return group_of, titles


async def load_plan(
    session: AsyncSession, scope: ReportScope, as_of: datetime | None, *, by: str = "cluster", public: bool = False,
    validated_only: bool = False,
) -> Plan:
    """The plan for the recommendations in ``scope`` as of ``as_of`` (None:
    now), in sections ``by`` "cluster", "group" or "chapter"; ``public``:
    without the budgets the secretariat marked internal; ``validated_only``:
    the recommendations' statuses from validated input (the public variant)."""
    if by not in PLAN_GROUPS:
        raise ValueError(f"the plan groups by {', '.join(PLAN_GROUPS)}, not {by!r}")
    rows = [row async for row in stream_report_rows(session, scope, as_of, validated_only)]
    ids = [int(r["id"]) for r in rows]
    actions = await actions_by_recommendation(session, ids, as_of=as_of, public=public)
    shown = list({a.id: a for found in actions.values() for a in found}.values())
    indicators = await plan_indicators(session, ids, shown, as_of)
    items = [PlanItem(row, actions.get(int(row["id"]), []), _indicators_of(int(row["id"]), actions.get(int(row["id"]), []), indicators)) for row in rows]
    if by == "cluster":
        sections = _by_cluster(items)
    elif by == "group":
        sections = _by_group(items, *await _groups(session, ids, as_of))
    else:
        sections = _by_chapter(items, indicators)
    return Plan(by, sections, len(rows), sorted(shown, key=lambda a: natural(a.code)), list(indicators.values()))


def _by_cluster(items: list[PlanItem]) -> list[PlanSection]:
    sections: dict[str | None, PlanSection] = {}
    for item in items:
        name = item.row.get("cluster")
        sections.setdefault(name, PlanSection(name is None, name)).items.append(item)
    return sorted(sections.values(), key=lambda s: (s.none, (s.title or "").casefold()))


def _by_group(items: list[PlanItem], group_of: dict[int, int], titles: dict[int, str | None]) -> list[PlanSection]:
    sections: dict[int | None, PlanSection] = {}
    for item in items:
        group = group_of.get(item.id)
        section = sections.get(group)
        if section is None:
            section = sections[group] = PlanSection(group is None, titles.get(group) if group is not None else None, group_id=group)
        section.items.append(item)
    return sorted(sections.values(), key=lambda s: (s.none, s.group_id or 0))


def _by_chapter(items: list[PlanItem], indicators: dict[int, PlanIndicator]) -> list[PlanSection]:
    sections: dict[tuple[str, str] | None, PlanSection] = {}
    for item in items:
        under: dict[tuple[str, str] | None, list[ActionView]] = {}
        for action in item.actions:
            for chapter in action.chapters or (None,):
                key = None if chapter is None else (chapter.framework, chapter.code)
                under.setdefault(key, []).append(action)
                if key not in sections:
                    sections[key] = PlanSection(chapter is None, chapter.title if chapter else None, chapter=chapter)
        if not under:
            under[None] = []
            sections.setdefault(None, PlanSection(True, None))
        for key, actions in under.items():
            sections[key].items.append(PlanItem(item.row, actions, _indicators_of(item.id, actions, indicators)))
    return sorted(sections.values(), key=lambda s: (s.none, natural(s.chapter.framework) if s.chapter else (), natural(s.chapter.code) if s.chapter else ()))


@dataclass
class PlanFigures:
    """What the progress page draws of the plan: the actions serving the
    page's recommendations, each once, and their indicators' series."""

    actions: list[ActionView] = field(default_factory=list)
    indicators: list[PlanIndicator] = field(default_factory=list)

    @property
    def by_status(self) -> Counter[str]:
        return status_counts(self.actions)


async def plan_figures(session: AsyncSession, recommendation_ids: Collection[int], as_of: datetime | None) -> PlanFigures:
    """The actions (internal budgets kept: a public output drops them where
    it shows them) and indicators of these recommendations, as of ``as_of``."""
    actions = await actions_by_recommendation(session, recommendation_ids, as_of=as_of)
    shown = sorted({a.id: a for found in actions.values() for a in found}.values(), key=lambda a: natural(a.code))
    indicators = await plan_indicators(session, recommendation_ids, shown, as_of)
    return PlanFigures(shown, list(indicators.values()))


async def with_plan(
    session: AsyncSession, rows: AsyncIterator[dict[str, Any]], as_of: datetime | None, *, public: bool = False,
) -> AsyncIterator[dict[str, Any]]:
    """The report rows, each with its ``actions`` (storage.actions.ActionView,
    without internal budgets when ``public``) and its ``indicators``
    (PlanIndicator), for the export. The plan is read once, before the
    first row: it is the plan's size, not the registry's."""
    actions = await actions_by_recommendation(session, None, as_of=as_of, public=public)
    shown = list({a.id: a for found in actions.values() for a in found}.values())
    indicators = await plan_indicators(session, None, shown, as_of)
    async for row in rows:
        own = actions.get(int(row["id"]), [])
        yield {**row, "actions": own, "indicators": _indicators_of(int(row["id"]), own, indicators)}


async def matrix_plan(session: AsyncSession, scope_recommendations: Collection[int] | None, as_of: datetime | None) -> PlanFigures | None:
    """The matrix's Actions and Indicators sheets: the actions serving the
    recommendations in scope (every one when None) and the indicators
    measuring them, as of ``as_of``; None while the registry has neither,
    so a matrix of a registry without a plan is as before."""
    actions = await actions_by_recommendation(session, scope_recommendations, as_of=as_of)
    shown = sorted({a.id: a for found in actions.values() for a in found}.values(), key=lambda a: natural(a.code))
    indicators = await plan_indicators(session, scope_recommendations, shown, as_of)
    if not shown and not indicators and not await _any_plan(session, as_of):
        return None
    return PlanFigures(shown, list(indicators.values()))


async def _any_plan(session: AsyncSession, as_of: datetime | None) -> bool:
    everything = await actions_by_recommendation(session, None, as_of=as_of)
    if everything:
        return True
    statement = select(Indicator.id).limit(1)
    if as_of is not None:
        statement = statement.where(Indicator.created_at <= as_of)
    return await session.scalar(statement) is not None

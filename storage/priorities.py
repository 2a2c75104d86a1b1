"""A recommendation's priority by the OHCHR Practical Guide's five criteria.

1. urgency: a treaty body selected it for its follow-up procedure
   (follow_up_selections);
2. recurrence: other mechanisms stress the issue: its confirmed linked group
   spans several mechanisms, or it (or its group) has several recommending
   States;
3. quick win: it has no budget implications (the secretariat says so);
4. national priority: for the public, the media or civil society (the
   secretariat says so);
5. marginalised: an affected-persons tag names a marginalised group.

The criteria read from the data (1, 2, 5) can each be set by the
secretariat instead; the level counts the criteria met, and the
secretariat's override, with its reason, wins over the count.
recommendations.priority holds the result, materialised by ``refresh`` so
every list sorts and filters on one column.
"""

from __future__ import annotations

import contextlib
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.audit import acting_as, current_actor, jsonable
from storage.enums import BudgetImplications, Priority, TagKind
from storage.clock import utcnow
from storage.errors import InvalidValue, NotFound, ids_value
from storage.linked_items import group_names
from storage.models import (
    AuditEntry,
    FollowUpSelection,
    LinkGroupMember,
    Mechanism,
    PriorityInput,
    Recommendation,
    Tag,
    recommendation_tags,
)
from storage.priority_models import PriorityChange

# UHRI's own "Affected Persons" vocabulary spells groups as "Women & girls",
# "Persons deprived of their liberty", "Refugees & asylum-seekers"...; a term
# matches a tag when its words appear in the tag's, in order (see _words).
DEFAULT_MARGINALISED: Final[tuple[str, ...]] = (
    "women",
    "girls",
    "children",
    "persons with disabilities",
    "indigenous peoples",
    "minorities",
    "migrants",
    "refugees",
    "asylum-seekers",
    "internally displaced persons",
    "stateless persons",
    "LGBTI",
    "lesbian, gay, bisexual, transgender and intersex persons",
    "persons deprived of liberty",
    "persons deprived of their liberty",
    "older persons",
    "persons living in poverty",
    "persons living in rural areas",
    "rural women",
    "Roma",
    "Afro-descendants",
    "persons of African descent",
    "people of African descent",
    "persons living with HIV/AIDS",
)


class Code(StrEnum):
    URGENCY = "urgency"
    RECURRENCE = "recurrence"
    QUICK_WIN = "quick_win"
    NATIONAL_PRIORITY = "national_priority"
    MARGINALISED = "marginalised"


CRITERIA: Final[tuple[Code, ...]] = tuple(Code)


@dataclass(frozen=True)
class PriorityRules:
    """The configurable part ([priorities] in the configuration file)."""

    # Criteria met for each level: this many or more is high, then medium;
    # fewer than medium_at is low.
    high_at: int = 3
    medium_at: int = 1
    # Recurrence: a confirmed group spanning this many mechanisms, or this
    # many recommending States on the recommendation or across its group.
    recurrence_mechanisms: int = 2
    recurrence_states: int = 3
    marginalised: tuple[str, ...] = DEFAULT_MARGINALISED

    def __post_init__(self) -> None:
        if not 1 <= self.medium_at <= self.high_at <= len(CRITERIA):
            raise InvalidValue(
                f"priorities: expected 1 <= medium_at <= high_at <= {len(CRITERIA)}, "
                f"got medium_at={self.medium_at}, high_at={self.high_at}",
                key="refusal.priorities.thresholds", values={"criteria": len(CRITERIA), "medium": self.medium_at, "high": self.high_at},
            )
        if self.recurrence_mechanisms < 2:
            raise InvalidValue(
                "priorities: recurrence_mechanisms is 2 or more (one mechanism is no recurrence)", key="refusal.priorities.recurrence_mechanisms"
            )
        if self.recurrence_states < 2:
            raise InvalidValue("priorities: recurrence_states is 2 or more", key="refusal.priorities.recurrence_states")

    def level(self, met: int) -> Priority:
        if met >= self.high_at:
            return Priority.HIGH
        if met >= self.medium_at:
            return Priority.MEDIUM
        return Priority.LOW


_DEFAULT_RULES: Final = PriorityRules()
_rules: ContextVar[PriorityRules | None] = ContextVar("nmrf_priority_rules", default=None)


def rules_in_force() -> PriorityRules:
    return _rules.get() or _DEFAULT_RULES


@contextlib.contextmanager
def ruling_with(rules: PriorityRules) -> Iterator[None]:
    """The rules for everything below, said once by the application (as the
    clock and the actor are), so every caller of ``refresh`` (imports, links,
    follow-up selections) counts the same way without passing them."""
    token = _rules.set(rules)
    try:
        yield
    finally:
        _rules.reset(token)


# Where a criterion's answer came from.
DATA: Final = "data"
SECRETARIAT: Final = "secretariat"

# Why a priority changed (priority_changes.cause).
CAUSE_DATA: Final = "data"
CAUSE_INPUTS: Final = "inputs"
CAUSE_OVERRIDE: Final = "override"


@dataclass(frozen=True)
class Criterion:
    code: Code
    # None: unknown (nobody said, and the data cannot tell).
    met: bool | None
    source: str
    # What the answer rests on, for the reason shown to the reader, e.g.
    # {"states": 7, "mechanisms": ["CEDAW", "UPR"], "group": 3}.
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PriorityView:
    recommendation_id: int
    level: Priority | None
    criteria: list[Criterion]
    overridden: bool
    override_reason: str | None
    # The level by the criteria alone, shown beside an override.
    computed: Priority | None = None

    def criterion(self, code: Code | str) -> Criterion:
        return next(c for c in self.criteria if c.code == code)

    @property
    def met(self) -> int:
        return sum(1 for c in self.criteria if c.met)


_CHUNK = 2000


def _words(text: str) -> str:
    """Lower case, '&' as 'and', everything else not a letter or digit a space."""
    text = text.lower().replace("&", " and ")
    return " " + " ".join(re.split(r"[^\w]+", text)).strip() + " "


def marginalised_terms(value: str, terms: Sequence[str]) -> list[str]:
    """The configured terms an affected-persons tag matches, word for word."""
    words = _words(value)
    return [t for t in terms if _words(t).strip() and _words(t) in words]


@dataclass(frozen=True)
class _Tags:
    """The tags the criteria read, by id: the affected-persons tags that name
    a marginalised group (with their text) and the recommending States. Both
    vocabularies are small (UHRI's affected persons are a few dozen, States
    under 200), so they are matched here rather than in SQL, and each
    recommendation's tags are read by its own key: a join on the tags' kind
    makes SQLite walk every recommendation of each State instead."""

    marginal: dict[int, str]
    states: frozenset[int]


async def _tags(session: AsyncSession, rules: PriorityRules) -> _Tags:
    rows = await session.execute(
        select(Tag.id, Tag.kind, Tag.value).where(Tag.kind.in_([TagKind.AFFECTED_PERSONS, TagKind.RECOMMENDING_STATE]))
    )
    marginal: dict[int, str] = {}
    states: set[int] = set()
    for tag_id, kind, value in rows:
        if kind == TagKind.RECOMMENDING_STATE:
            states.add(tag_id)
        elif marginalised_terms(value, rules.marginalised):
            marginal[tag_id] = value
    return _Tags(marginal, frozenset(states))


async def _tags_of(session: AsyncSession, ids: Sequence[int]) -> dict[int, list[int]]:
    found: dict[int, list[int]] = defaultdict(list)
    for start in range(0, len(ids), _CHUNK):
        rows = await session.execute(
            select(recommendation_tags.c.recommendation_id, recommendation_tags.c.tag_id).where(
                recommendation_tags.c.recommendation_id.in_(ids[start : start + _CHUNK])
            )
        )
        for rid, tag_id in rows:
            found[rid].append(tag_id)
    return found


async def _assess_chunk(session: AsyncSession, ids: list[int], rules: PriorityRules, vocabulary: _Tags) -> dict[int, PriorityView]:
    urgent = set(
        await session.scalars(select(FollowUpSelection.recommendation_id).where(FollowUpSelection.recommendation_id.in_(ids)))
    )
    inputs = {
        p.recommendation_id: p
        for p in await session.scalars(select(PriorityInput).where(PriorityInput.recommendation_id.in_(ids)))
    }
    group_of = dict(
        (await session.execute(
            select(LinkGroupMember.recommendation_id, LinkGroupMember.group_id).where(LinkGroupMember.recommendation_id.in_(ids))
        )).all()
    )
    groups = sorted(set(group_of.values()))
    group_mechanisms: dict[int, set[str]] = defaultdict(set)
    members: dict[int, list[int]] = defaultdict(list)
    for start in range(0, len(groups), _CHUNK):
        rows = await session.execute(
            select(LinkGroupMember.group_id, LinkGroupMember.recommendation_id, Mechanism.code)
            .join(Recommendation, Recommendation.id == LinkGroupMember.recommendation_id)
            .join(Mechanism, Mechanism.id == Recommendation.mechanism_id)
            .where(LinkGroupMember.group_id.in_(groups[start : start + _CHUNK]))
        )
        for gid, rid, code in rows:
            group_mechanisms[gid].add(code)
            members[gid].append(rid)
    tags = await _tags_of(session, sorted(set(ids) | {rid for m in members.values() for rid in m}))
    states_of = {rid: {t for t in found if t in vocabulary.states} for rid, found in tags.items()}
    own_states = {rid: len(states) for rid, states in states_of.items()}
    group_states = {gid: len(set().union(*(states_of.get(rid, set()) for rid in m))) for gid, m in members.items()}
    groups_named = {rid: [vocabulary.marginal[t] for t in tags.get(rid, []) if t in vocabulary.marginal] for rid in ids}
    group_mechanisms_listed = {gid: sorted(codes) for gid, codes in group_mechanisms.items()}
    # The group as every list names it (its title, or its lowest-numbered member), not by its number.
    names = await group_names(session, groups) if groups else {}

    views: dict[int, PriorityView] = {}
    for rid in ids:
        given = inputs.get(rid)
        criteria = [
            _urgency(rid in urgent, given),
            _recurrence(rid, group_of.get(rid), group_mechanisms_listed, group_states, own_states, rules, given, names),
            _quick_win(given),
            _national(given),
            _marginalised(sorted(groups_named.get(rid, [])), given),
        ]
        computed = rules.level(sum(1 for c in criteria if c.met))
        override = given.override if given is not None else None
        views[rid] = PriorityView(
            recommendation_id=rid,
            level=override or computed,
            criteria=criteria,
            overridden=override is not None,
            override_reason=given.override_reason if override is not None and given is not None else None,
            computed=computed,
        )
    return views


def _said(given: PriorityInput | None, attribute: str) -> bool | None:
    return getattr(given, attribute) if given is not None else None


def _urgency(selected: bool, given: PriorityInput | None) -> Criterion:
    said = _said(given, "urgency")
    if said is not None:
        return Criterion(Code.URGENCY, said, SECRETARIAT, {"follow_up": selected})
    return Criterion(Code.URGENCY, selected, DATA, {"follow_up": selected})


def _recurrence(
    rid: int,
    group: int | None,
    group_mechanisms: dict[int, list[str]],
    group_states: dict[int, int],
    own_states: dict[int, int],
    rules: PriorityRules,
    given: PriorityInput | None,
    names: dict[int, str],
) -> Criterion:
    mechanisms = sorted(group_mechanisms.get(group, [])) if group is not None else []
    # A group's States include the recommendation's own (it is a member).
    states = group_states.get(group, 0) if group is not None else own_states.get(rid, 0)
    detail: dict[str, Any] = {"states": states, "mechanisms": mechanisms, "group": group}
    if group is not None:
        detail["group_name"] = names.get(group) or None
    said = _said(given, "recurrence")
    if said is not None:
        return Criterion(Code.RECURRENCE, said, SECRETARIAT, detail)
    met = len(mechanisms) >= rules.recurrence_mechanisms or states >= rules.recurrence_states
    return Criterion(Code.RECURRENCE, met, DATA, detail)


def _quick_win(given: PriorityInput | None) -> Criterion:
    budget = given.budget_implications if given is not None else None
    met = None if budget is None else budget == BudgetImplications.NONE
    return Criterion(Code.QUICK_WIN, met, SECRETARIAT, {"budget": budget.value if budget else None})


def _national(given: PriorityInput | None) -> Criterion:
    return Criterion(Code.NATIONAL_PRIORITY, _said(given, "national_priority"), SECRETARIAT, {})


def _marginalised(groups: list[str], given: PriorityInput | None) -> Criterion:
    said = _said(given, "marginalised")
    if said is not None:
        return Criterion(Code.MARGINALISED, said, SECRETARIAT, {"groups": groups})
    return Criterion(Code.MARGINALISED, bool(groups), DATA, {"groups": groups})


async def explain_many(
    session: AsyncSession, recommendation_ids: Iterable[int], *, rules: PriorityRules | None = None, existing: bool = False,
) -> dict[int, PriorityView]:
    """Each recommendation's criteria and level, worked out now from the data
    (not read from recommendations.priority); ids that do not exist are left
    out, unless ``existing``: the caller has just read them (a report's rows),
    and a query a chunk to find them again is spared."""
    rules = rules or rules_in_force()
    wanted = sorted(set(recommendation_ids))
    vocabulary = await _tags(session, rules)
    views: dict[int, PriorityView] = {}
    for start in range(0, len(wanted), _CHUNK):
        part = wanted[start : start + _CHUNK]
        found = part if existing else list(await session.scalars(select(Recommendation.id).where(Recommendation.id.in_(part))))
        if found:
            views.update(await _assess_chunk(session, found, rules, vocabulary))
    return views


async def explain(session: AsyncSession, recommendation_id: int, *, rules: PriorityRules | None = None) -> PriorityView:
    views = await explain_many(session, [recommendation_id], rules=rules)
    if recommendation_id not in views:
        raise NotFound(f"no recommendation #{recommendation_id}", key="refusal.priorities.unknown_recommendations", values={"ids": f"#{recommendation_id}"})
    return views[recommendation_id]


async def refresh(
    session: AsyncSession, recommendation_ids: Iterable[int] | None = None, *, rules: PriorityRules | None = None,
    cause: str = CAUSE_DATA,
) -> int:
    """Write each recommendation's effective priority into
    recommendations.priority; None: every recommendation. Returns how many
    changed. Worked in chunks of ids, a handful of queries each, so a whole
    registry (hundreds of thousands) is minutes at worst, not a query per row.

    A derived value, not an edit: no audit entry per row (the inputs and
    overrides it rests on are audited where they are set). Its history is
    kept instead: a priority_changes row for each recommendation whose level
    or reasons changed, by the actor in force, now, for ``cause``."""
    if recommendation_ids is not None:
        recommendation_ids = sorted(set(recommendation_ids))
        if not recommendation_ids:
            # Nothing changed: not even the tag vocabulary is read.
            return 0
    rules = rules or rules_in_force()
    vocabulary = await _tags(session, rules)
    changed = 0
    if recommendation_ids is None:
        after = 0
        while True:
            part = list(
                await session.scalars(
                    select(Recommendation.id).where(Recommendation.id > after).order_by(Recommendation.id).limit(_CHUNK)
                )
            )
            if not part:
                break
            changed += await _write_chunk(session, part, rules, vocabulary, cause)
            after = part[-1]
        return changed
    wanted = recommendation_ids
    for start in range(0, len(wanted), _CHUNK):
        part = list(
            await session.scalars(select(Recommendation.id).where(Recommendation.id.in_(wanted[start : start + _CHUNK])))
        )
        if part:
            changed += await _write_chunk(session, part, rules, vocabulary, cause)
    return changed


async def _write_chunk(session: AsyncSession, ids: list[int], rules: PriorityRules, vocabulary: _Tags, cause: str) -> int:
    views = await _assess_chunk(session, ids, rules, vocabulary)
    current = dict((await session.execute(select(Recommendation.id, Recommendation.priority).where(Recommendation.id.in_(ids)))).all())
    by_level: dict[Priority | None, list[int]] = defaultdict(list)
    for rid, view in views.items():
        if current.get(rid) != view.level:
            by_level[view.level].append(rid)
    await _keep_history(session, views, cause)
    for level, rids in by_level.items():
        # Core UPDATE, not ORM objects: a derived column on many rows. The
        # session's loaded Recommendation objects are told with
        # synchronize_session so a caller holding one reads the new value.
        await session.execute(
            update(Recommendation).where(Recommendation.id.in_(rids)).values(priority=level),
            execution_options={"synchronize_session": "fetch"},
        )
    return sum(len(r) for r in by_level.values())


# --- history --------------------------------------------------------------

def criteria_record(view: PriorityView) -> list[dict[str, Any]]:
    """The view's criteria as priority_changes keeps them (JSON)."""
    return [{"code": c.code.value, "met": c.met, "source": c.source, "detail": jsonable_detail(c.detail)} for c in view.criteria]


def jsonable_detail(detail: dict[str, Any]) -> dict[str, Any]:
    return {k: (list(v) if isinstance(v, (tuple, set, frozenset)) else jsonable(v)) for k, v in detail.items()}


async def latest_changes(session: AsyncSession, ids: Sequence[int], as_of: datetime | None = None) -> dict[int, PriorityChange]:
    """Each recommendation's latest priority_changes row (up to ``as_of``)."""
    newest = select(func.max(PriorityChange.id)).where(PriorityChange.recommendation_id.in_(ids))
    if as_of is not None:
        newest = newest.where(PriorityChange.at <= as_of)
    newest = newest.group_by(PriorityChange.recommendation_id)
    return {row.recommendation_id: row for row in await session.scalars(select(PriorityChange).where(PriorityChange.id.in_(newest)))}


async def _keep_history(session: AsyncSession, views: dict[int, PriorityView], cause: str) -> None:
    """A row for each view whose level or reasons differ from the last kept:
    a refresh that changes nothing keeps nothing."""
    if not views:
        return
    last = await latest_changes(session, list(views))
    actor, at = current_actor(), utcnow()
    rows = []
    for rid, view in views.items():
        record = {
            "priority": view.level, "computed": view.computed, "overridden": view.overridden,
            "override_reason": view.override_reason, "criteria": criteria_record(view),
        }
        kept = last.get(rid)
        if kept is not None and all(getattr(kept, k) == v for k, v in record.items()):
            continue
        rows.append({"recommendation_id": rid, "at": at, "actor": actor, "cause": cause, **record})
    if rows:
        await session.execute(insert(PriorityChange), rows)


# --- the secretariat's side ----------------------------------------------


class _Unchanged:
    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED: Final = _Unchanged()


async def _inputs_for(session: AsyncSession, ids: list[int], actor: str, now: datetime) -> dict[int, PriorityInput]:
    found = set(await session.scalars(select(Recommendation.id).where(Recommendation.id.in_(ids))))
    missing = [i for i in ids if i not in found]
    if missing:
        shown = ", ".join(f"#{i}" for i in missing[:10]) + (" ..." if len(missing) > 10 else "")
        raise NotFound(f"no recommendation {shown}", key="refusal.priorities.unknown_recommendations", values={"ids": ids_value(missing)})
    have = {
        p.recommendation_id: p
        for p in await session.scalars(select(PriorityInput).where(PriorityInput.recommendation_id.in_(ids)))
    }
    for rid in ids:
        if rid not in have:
            have[rid] = PriorityInput(recommendation_id=rid, updated_at=now, updated_by=actor)
            session.add(have[rid])
    return have


def _ids(recommendation_ids: Iterable[int]) -> list[int]:
    ids = sorted(set(recommendation_ids))
    if not ids:
        raise InvalidValue("no recommendations selected", key="refusal.priorities.none_selected")
    return ids


async def set_inputs(
    session: AsyncSession,
    recommendation_ids: Iterable[int],
    *,
    budget: BudgetImplications | None | _Unchanged = UNCHANGED,
    national: bool | None | _Unchanged = UNCHANGED,
    urgency: bool | None | _Unchanged = UNCHANGED,
    recurrence: bool | None | _Unchanged = UNCHANGED,
    marginalised: bool | None | _Unchanged = UNCHANGED,
    actor: str,
    now: datetime,
) -> int:
    """Set what the secretariat says of the criteria, then the levels.

    budget/national None: unknown; urgency/recurrence/marginalised None: back
    to what the data says. UNCHANGED (the default) leaves one as it is.
    Returns how many recommendations' inputs changed. Each change is in the
    audit log (priority_inputs rows, under ``actor``)."""
    ids = _ids(recommendation_ids)
    given = {
        "budget_implications": budget,
        "national_priority": national,
        "urgency": urgency,
        "recurrence": recurrence,
        "marginalised": marginalised,
    }
    given = {k: v for k, v in given.items() if not isinstance(v, _Unchanged)}
    if not given:
        raise InvalidValue("nothing to set: give at least one criterion", key="refusal.priorities.nothing_to_set")
    changed = 0
    with acting_as(actor):
        rows = await _inputs_for(session, ids, actor, now)
        for row in rows.values():
            if any(getattr(row, k) != v for k, v in given.items()):
                for k, v in given.items():
                    setattr(row, k, v)
                row.updated_at, row.updated_by = now, actor
                changed += 1
        await session.flush()
        await refresh(session, ids, cause=CAUSE_INPUTS)
    return changed


async def override(
    session: AsyncSession,
    recommendation_ids: Iterable[int],
    level: Priority | None,
    reason: str | None,
    *,
    actor: str,
    now: datetime,
) -> int:
    """Set (or, with None, clear) the secretariat's level over the criteria.

    A reason is required to set one; it is kept on the row and in one audit
    entry per recommendation with the effective level before and after.
    Returns how many recommendations' override changed."""
    ids = _ids(recommendation_ids)
    reason = " ".join((reason or "").split()) or None
    if level is not None and reason is None:
        raise InvalidValue("an override needs a reason (kept in the audit log)", key="refusal.priorities.reason_needed")
    if reason is not None and len(reason) > 1000:
        raise InvalidValue("a reason is at most 1000 characters", key="refusal.priorities.long_reason", values={"count": 1000})
    with acting_as(actor):
        before = dict(
            (await session.execute(select(Recommendation.id, Recommendation.priority).where(Recommendation.id.in_(ids)))).all()
        )
        rows = await _inputs_for(session, ids, actor, now)
        touched: list[int] = []
        old_override: dict[int, Priority | None] = {}
        for rid, row in rows.items():
            new_reason = reason if level is not None else None
            if row.override == level and row.override_reason == new_reason:
                continue
            old_override[rid] = row.override
            row.override, row.override_reason = level, new_reason
            row.updated_at, row.updated_by = now, actor
            touched.append(rid)
        await session.flush()
        await refresh(session, ids, cause=CAUSE_OVERRIDE)
        after = dict(
            (await session.execute(select(Recommendation.id, Recommendation.priority).where(Recommendation.id.in_(touched)))).all()
        ) if touched else {}
        entries = [
            {
                "at": now,
                "actor": actor,
                "action": "priority_override" if level is not None else "priority_override_cleared",
                "entity": Recommendation.__tablename__,
                "entity_id": str(rid),
                "changes": {
                    "override": [jsonable(old_override[rid]), jsonable(level)],
                    "priority": [jsonable(before.get(rid)), jsonable(after.get(rid))],
                    "reason": reason,
                },
            }
            for rid in touched
        ]
        if entries:
            await session.execute(insert(AuditEntry), entries)
    return len(touched)


async def level_counts(session: AsyncSession, recommendation_ids: Iterable[int]) -> dict[Priority | None, int]:
    """How many of these recommendations are at each effective level, high first."""
    ids = sorted(set(recommendation_ids))
    counts: dict[Priority | None, int] = defaultdict(int)
    for start in range(0, len(ids), _CHUNK):
        rows = await session.execute(
            select(Recommendation.priority, func.count())
            .where(Recommendation.id.in_(ids[start : start + _CHUNK]))
            .group_by(Recommendation.priority)
        )
        for level, n in rows:
            counts[level] += n
    order: list[Priority | None] = [Priority.HIGH, Priority.MEDIUM, Priority.LOW, None]
    return {level: counts[level] for level in order if counts.get(level)}

"""Actions of the implementation plan (issue 16): the measures a State takes
on its recommendations, each with a responsible institution (and
contributing ones), dates, a status, an optional budget, and what it serves
besides: SDG targets and the chapters of national plans (frameworks).

The secretariat creates actions (accepted at once), or accepts or rejects
one a focal point proposed. Every change here is an ORM write, so the audit
log names who made it (storage.audit). Progress is reported as append-only
action_updates, as status_updates are for recommendations; the action's
status is its latest update from its responsible institution or from the
secretariat. A contributing institution's updates are kept in the history
without moving it: the responsible institution answers for the action.

One module for the CLI, the template sheet ``actions``, both chats and the
reports: the rules (and the refusals, each naming its field) are the same
wherever an action comes from.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.action_models import (
    Action,
    ActionChapter,
    ActionInstitution,
    ActionLinkGroup,
    ActionRecommendation,
    ActionSdgTarget,
    ActionState,
    ActionUpdate,
    Framework,
    FrameworkChapter,
    FrameworkKind,
)
from storage.choices import ACTION_CLEARABLE as CLEARABLE
from storage.enums import Channel, ImplementationStatus
from storage.errors import Conflict, InvalidValue, NotFound, RegistryError, ids_value
from storage.idempotent import add_once
from storage.models import AuditEntry, FocalPoint, Institution, LinkGroupMember, Recommendation
from storage.network import get_institution
from storage.sdgs import is_target, target_ranges, targets_of
from storage.types import utcnow

CODE_PREFIX = "A-"
TITLE_MAX = 500
SOURCE_MAX = 300
# Statuses after which nothing is left to remind of.
FINISHED = frozenset({ImplementationStatus.FULLY_IMPLEMENTED, ImplementationStatus.NOT_APPLICABLE})
# What a budget may hold: Money keeps cents and 18 digits in all.
BUDGET_MAX = Decimal("9999999999999999.99")
NEEDS_CURRENCY = "a budget amount needs its currency (budget_currency: UYU, EUR, USD...)"

_CODE = re.compile(r"^[A-Z0-9][A-Z0-9._/-]{0,31}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_SDG_TARGET = re.compile(r"^(?P<goal>\d{1,2})\.(?P<target>\d{1,2}|[a-z])$")
_FRAMEWORK_CODE = re.compile(r"^[A-Z0-9][A-Z0-9._-]{0,63}$")
_CHAPTER_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


# --- what an action is made of ------------------------------------------------------


@dataclass(frozen=True)
class ChapterRef:
    """A framework's chapter, as people write it: ``PNDH:2.3``."""

    framework: str
    chapter: str

    def __str__(self) -> str:
        return f"{self.framework}:{self.chapter}"


@dataclass(frozen=True)
class ActionData:
    """An action as given, before it is checked: institutions by code,
    recommendations and linked groups by their registry numbers."""

    title: str
    responsible: str
    recommendations: tuple[int, ...] = ()
    link_groups: tuple[int, ...] = ()
    description: str | None = None
    contributing: tuple[str, ...] = ()
    start_date: date | None = None
    target_date: date | None = None
    budget_amount: Decimal | None = None
    budget_currency: str | None = None
    budget_source: str | None = None
    budget_internal: bool = False
    sdg_targets: tuple[str, ...] = ()
    chapters: tuple[ChapterRef, ...] = ()
    # None: the next free "A-N".
    code: str | None = None


@dataclass(frozen=True)
class ActionEdit:
    """What to change of an action; None leaves a field as it is, and a
    field named in ``clear`` is emptied (a date, the budget, the links)."""

    title: str | None = None
    description: str | None = None
    responsible: str | None = None
    start_date: date | None = None
    target_date: date | None = None
    budget_amount: Decimal | None = None
    budget_currency: str | None = None
    budget_source: str | None = None
    budget_internal: bool | None = None
    recommendations: tuple[int, ...] | None = None
    link_groups: tuple[int, ...] | None = None
    contributing: tuple[str, ...] | None = None
    sdg_targets: tuple[str, ...] | None = None
    chapters: tuple[ChapterRef, ...] | None = None
    clear: frozenset[str] = frozenset()




def action_code(text: str) -> str:
    """An action's code as typed ("a-12", " A-12 "), or InvalidValue."""
    code = text.strip().upper()
    if not _CODE.fullmatch(code):
        raise InvalidValue(
            f"expected an action code such as A-12 (letters, digits, '.', '_', '/' or '-', at most 32), got {text!r}", field="code",
            key="refusal.actions.bad_code", values={"text": text.strip()},
        )
    return code


# 150000, 150000.5, 150000.50, or with commas grouping thousands: 150,000.50. Nothing
# else: "150.000" is 150 thousand to a Spanish or French reader and 150 to Python,
# "1 500,00" and "1,5" lose their decimal comma if the separators are merely dropped.
_AMOUNT = re.compile(r"-?(\d+|\d{1,3}(,\d{3})+)(\.\d{1,2})?")


def parse_budget(text: str) -> Decimal:
    """ "150000", "150000.50", "150,000.50" (commas only between groups of three), or InvalidValue."""
    cleaned = text.strip()
    if not _AMOUNT.fullmatch(cleaned):
        raise InvalidValue(
            f"expected an amount such as 150000 or 150000.50 (a dot before the cents; a comma, if any, only between thousands), got {text!r}",
            field="budget_amount", key="refusal.actions.bad_amount", values={"text": cleaned},
        )
    try:
        amount = Decimal(cleaned.replace(",", ""))
    except InvalidOperation:
        raise InvalidValue(
            f"expected an amount such as 150000 or 150000.50, got {text!r}", field="budget_amount",
            key="refusal.actions.bad_amount", values={"text": cleaned},
        ) from None
    return _check_amount(amount)


def _check_amount(amount: Decimal) -> Decimal:
    # The amount as given (str): a refusal shows it exactly, not rounded to a locale's pattern.
    if not amount.is_finite() or amount < 0:
        raise InvalidValue(f"a budget is zero or more, got {amount}", field="budget_amount", key="refusal.actions.negative_budget", values={"amount": str(amount)})
    if amount != amount.quantize(Decimal("0.01")):
        raise InvalidValue(
            f"a budget has at most two decimals (cents), got {amount}", field="budget_amount",
            key="refusal.actions.budget_cents", values={"amount": str(amount)},
        )
    if amount > BUDGET_MAX:
        raise InvalidValue(
            f"a budget is at most {BUDGET_MAX:,}, got {amount:,}", field="budget_amount",
            key="refusal.actions.budget_too_large", values={"max": BUDGET_MAX, "amount": amount},
        )
    return amount


def check_currency(text: str) -> str:
    code = text.strip().upper()
    if not _CURRENCY.fullmatch(code):
        raise InvalidValue(
            f"expected a currency as its three-letter ISO 4217 code (UYU, EUR, USD), got {text!r}", field="budget_currency",
            key="refusal.actions.bad_currency", values={"text": text.strip()},
        )
    return code


def sdg_target(text: str) -> str:
    """One of the 169 targets, as "5.2" or "16.a"; a whole goal is refused
    here: an action serves targets, and a goal is read from them."""
    value = text.strip().lower().removeprefix("sdg").strip()
    found = _SDG_TARGET.fullmatch(value)
    typed = text.strip()
    if found is None:
        raise InvalidValue(
            f"{typed!r} is not an SDG target: write goal.target, e.g. 5.2 or 16.a", field="sdg_targets",
            key="refusal.actions.sdg_unreadable", values={"text": typed},
        )
    goal, tail = int(found["goal"]), found["target"]
    if goal not in range(1, 18):
        raise InvalidValue(
            f"{typed!r} is not an SDG target: the goals are 1 to 17", field="sdg_targets", key="refusal.actions.sdg_no_goal", values={"text": typed},
        )
    if not is_target(goal, tail):
        first, last, first_letter, last_letter = target_ranges(goal)
        message = f"{typed!r} is not one of the 169 SDG targets: goal {goal} has {targets_of(goal)}"
        if first_letter is None:
            raise InvalidValue(
                message, field="sdg_targets", key="refusal.actions.sdg_unknown", values={"text": typed, "goal": goal, "first": first, "last": last},
            )
        raise InvalidValue(
            message, field="sdg_targets", key="refusal.actions.sdg_unknown_lettered",
            values={"text": typed, "goal": goal, "first": first, "last": last, "first_letter": first_letter, "last_letter": last_letter},
        )
    return f"{goal}.{tail}"


def chapter_ref(text: str) -> ChapterRef:
    """ "PNDH:2.3" -> ChapterRef("PNDH", "2.3")."""
    framework, colon, chapter = text.strip().partition(":")
    if not colon or not framework.strip() or not chapter.strip():
        raise InvalidValue(
            f"expected a chapter as FRAMEWORK:CHAPTER, e.g. PNDH:2.3, got {text.strip()!r}", field="chapters",
            key="refusal.actions.bad_chapter", values={"text": text.strip()},
        )
    return ChapterRef(framework.strip().upper(), chapter.strip())


def _title(value: str | None, limit: int) -> str:
    """An action's, a framework's or a chapter's title: required, at most ``limit`` characters."""
    cleaned = " ".join((value or "").split())
    if not cleaned:
        raise InvalidValue("title is empty", field="title", key="refusal.actions.title_empty")
    if len(cleaned) > limit:
        raise InvalidValue(
            f"title is {len(cleaned)} characters long; at most {limit}", field="title",
            key="refusal.actions.title_too_long", values={"count": limit, "length": len(cleaned)},
        )
    return cleaned


def _source(value: str | None) -> str | None:
    """A budget's source, optional."""
    cleaned = " ".join((value or "").split())
    if len(cleaned) > SOURCE_MAX:
        raise InvalidValue(
            f"budget_source is {len(cleaned)} characters long; at most {SOURCE_MAX}", field="budget_source",
            key="refusal.actions.source_too_long", values={"count": SOURCE_MAX, "length": len(cleaned)},
        )
    return cleaned or None


def _dates(start: date | None, target: date | None) -> None:
    if start is not None and target is not None and target < start:
        raise InvalidValue(
            f"the target date {target.isoformat()} is before the start date {start.isoformat()}", field="target_date",
            key="refusal.actions.target_before_start", values={"target": target, "start": start},
        )


# --- frameworks -----------------------------------------------------------------------


async def add_framework(session: AsyncSession, code: str, title: str, kind: FrameworkKind) -> Framework:
    wanted = code.strip().upper()
    if not _FRAMEWORK_CODE.fullmatch(wanted):
        raise InvalidValue(
            f"expected a framework code of letters, digits, '.', '_' or '-' (at most 64), got {code!r}", field="code",
            key="refusal.actions.bad_framework_code", values={"text": code.strip()},
        )
    if await session.scalar(select(Framework.id).where(Framework.code == wanted)) is not None:
        raise Conflict(f"a framework with code {wanted!r} exists already", field="code", key="refusal.actions.framework_exists", values={"code": wanted})
    framework = Framework(code=wanted, title=_title(title, 300), kind=kind)
    session.add(framework)
    await session.flush()
    return framework


async def get_framework(session: AsyncSession, code: str) -> Framework:
    found = await session.scalar(select(Framework).where(Framework.code == code.strip().upper()))
    if found is None:
        raise NotFound(
            f"no framework with code {code.strip().upper()!r} (see: nmrf-bot frameworks list)", field="framework",
            key="refusal.actions.unknown_framework", values={"code": code.strip().upper()},
        )
    return found


async def add_chapter(session: AsyncSession, framework_code: str, code: str, title: str) -> FrameworkChapter:
    framework = await get_framework(session, framework_code)
    wanted = code.strip()
    if not _CHAPTER_CODE.fullmatch(wanted):
        raise InvalidValue(
            f"expected a chapter code of letters, digits, '.', '_' or '-' (at most 64), got {code!r}", field="chapter",
            key="refusal.actions.bad_chapter_code", values={"text": wanted},
        )
    existing = await session.scalar(select(FrameworkChapter.id).where(FrameworkChapter.framework_id == framework.id, FrameworkChapter.code == wanted))
    if existing is not None:
        raise Conflict(
            f"{framework.code} has a chapter {wanted!r} already", field="chapter",
            key="refusal.actions.chapter_exists", values={"framework": framework.code, "chapter": wanted},
        )
    chapter = FrameworkChapter(framework_id=framework.id, code=wanted, title=_title(title, 500))
    session.add(chapter)
    await session.flush()
    return chapter


async def list_frameworks(session: AsyncSession) -> list[tuple[Framework, list[FrameworkChapter]]]:
    frameworks = (await session.scalars(select(Framework).order_by(Framework.code))).all()
    chapters = (await session.scalars(select(FrameworkChapter).order_by(FrameworkChapter.framework_id, FrameworkChapter.code))).all()
    by_framework: dict[int, list[FrameworkChapter]] = {}
    for chapter in chapters:
        by_framework.setdefault(chapter.framework_id, []).append(chapter)
    return [(f, by_framework.get(f.id, [])) for f in frameworks]


async def _chapter_ids(session: AsyncSession, refs: Sequence[ChapterRef]) -> list[int]:
    ids: list[int] = []
    for ref in refs:
        found = await session.scalar(
            select(FrameworkChapter.id).join(Framework, Framework.id == FrameworkChapter.framework_id)
            .where(Framework.code == ref.framework.upper(), FrameworkChapter.code == ref.chapter)
        )
        if found is None:
            if await session.scalar(select(Framework.id).where(Framework.code == ref.framework.upper())) is None:
                raise NotFound(
                    f"no framework with code {ref.framework!r} (in {ref}; see: nmrf-bot frameworks list)", field="chapters",
                    key="refusal.actions.unknown_framework", values={"code": ref.framework.upper()},
                )
            raise NotFound(
                f"framework {ref.framework} has no chapter {ref.chapter!r} (see: nmrf-bot frameworks list)", field="chapters",
                key="refusal.actions.unknown_chapter", values={"framework": ref.framework.upper(), "chapter": ref.chapter},
            )
        ids.append(found)
    return list(dict.fromkeys(ids))


# --- checking and writing actions ---------------------------------------------------------


async def next_code(session: AsyncSession) -> str:
    """The next "A-N": one past the highest such code in use, so a code is never given twice."""
    codes = (await session.scalars(select(Action.code).where(Action.code.like(f"{CODE_PREFIX}%")))).all()
    numbers = [int(c[len(CODE_PREFIX):]) for c in codes if c[len(CODE_PREFIX):].isdigit()]
    return f"{CODE_PREFIX}{max(numbers, default=0) + 1}"


async def _recommendation_ids(session: AsyncSession, ids: Sequence[int]) -> list[int]:
    wanted = list(dict.fromkeys(ids))
    found = set((await session.scalars(select(Recommendation.id).where(Recommendation.id.in_(wanted)))).all()) if wanted else set()
    missing = [i for i in wanted if i not in found]
    if missing:
        raise NotFound(
            f"no recommendation {', '.join(f'#{i}' for i in missing)} in the registry", field="recommendations",
            key="refusal.actions.unknown_recommendations", values={"ids": ids_value(missing)},
        )
    return wanted


async def _group_ids(session: AsyncSession, ids: Sequence[int]) -> list[int]:
    wanted = list(dict.fromkeys(ids))
    live = set((await session.scalars(select(LinkGroupMember.group_id).where(LinkGroupMember.group_id.in_(wanted)))).all()) if wanted else set()
    missing = [i for i in wanted if i not in live]
    if missing:
        raise NotFound(
            f"no linked group {', '.join(map(str, missing))} with members (see: nmrf-bot links list)", field="link_groups",
            key="refusal.actions.unknown_groups", values={"groups": ", ".join(map(str, missing))},
        )
    return wanted


async def _contributing_ids(session: AsyncSession, codes: Sequence[str], responsible: Institution) -> list[int]:
    ids: list[int] = []
    for code in dict.fromkeys(codes):
        try:
            institution = await get_institution(session, code)
        except NotFound as exc:
            # The network's own refusal (and its catalog key), naming this field.
            exc.field = "contributing"
            raise
        if institution.id == responsible.id:
            raise InvalidValue(
                f"{institution.code} is the responsible institution; it cannot contribute too", field="contributing",
                key="refusal.actions.responsible_contributes", values={"code": institution.code},
            )
        ids.append(institution.id)
    return list(dict.fromkeys(ids))


async def _responsible(session: AsyncSession, code: str) -> Institution:
    try:
        return await get_institution(session, code)
    except (NotFound, InvalidValue) as exc:
        # The network's own refusal (and its catalog key), naming this field.
        exc.field = "responsible"
        raise


async def refusals_of(session: AsyncSession, data: ActionData) -> list[RegistryError]:
    """Every refusal ``create_action`` would meet looking ``data``'s names up
    (the responsible and contributing institutions, recommendations, linked
    groups, currency, chapters), not only the first: a template row is told
    each bad cell at once, not one a try."""
    found: list[RegistryError] = []

    async def check(work: Awaitable[object]) -> object | None:
        try:
            return await work
        except RegistryError as exc:
            found.append(exc)
            return None

    responsible = await check(_responsible(session, data.responsible)) if data.responsible else None
    await check(_recommendation_ids(session, data.recommendations))
    await check(_group_ids(session, data.link_groups))
    if isinstance(responsible, Institution):
        await check(_contributing_ids(session, data.contributing, responsible))
    else:
        # Without the responsible one, each contributing institution is still looked up.
        for code in dict.fromkeys(data.contributing):
            try:
                await get_institution(session, code)
            except RegistryError as exc:
                exc.field = "contributing"
                found.append(exc)
    if data.budget_currency:
        try:
            check_currency(data.budget_currency)
        except InvalidValue as exc:
            found.append(exc)
    await check(_chapter_ids(session, data.chapters))
    return found


async def create_action(
    session: AsyncSession, data: ActionData, *, actor: str, now: datetime, proposed_by: FocalPoint | None = None,
) -> Action:
    """Check ``data`` and store the action: accepted, or proposed when a
    focal point gives it (``proposed_by``). Every refusal names its field."""
    title = _title(data.title, TITLE_MAX)
    responsible = await _responsible(session, data.responsible)
    if not data.recommendations and not data.link_groups:
        raise InvalidValue("an action serves at least one recommendation or linked group", field="recommendations", key="refusal.actions.serves_nothing")
    recs = await _recommendation_ids(session, data.recommendations)
    groups = await _group_ids(session, data.link_groups)
    contributing = await _contributing_ids(session, data.contributing, responsible)
    _dates(data.start_date, data.target_date)
    amount = _check_amount(data.budget_amount) if data.budget_amount is not None else None
    currency = check_currency(data.budget_currency) if data.budget_currency else None
    if amount is not None and currency is None:
        raise InvalidValue(NEEDS_CURRENCY, field="budget_currency", key="refusal.actions.budget_needs_currency")
    targets = list(dict.fromkeys(sdg_target(t) for t in data.sdg_targets))
    chapters = await _chapter_ids(session, data.chapters)
    code = action_code(data.code) if data.code else await next_code(session)
    if await session.scalar(select(Action.id).where(Action.code == code)) is not None:
        raise Conflict(f"an action with code {code} exists already", field="code", key="refusal.actions.code_exists", values={"code": code})
    action = Action(
        code=code, title=title, description=(data.description or "").strip() or None, responsible_institution_id=responsible.id,
        status=ImplementationStatus.NOT_STARTED, start_date=data.start_date, target_date=data.target_date,
        budget_amount=amount, budget_currency=currency, budget_source=_source(data.budget_source),
        budget_internal=data.budget_internal, proposed_by=proposed_by.id if proposed_by else None,
        state=ActionState.PROPOSED if proposed_by else ActionState.ACCEPTED, created_by=actor, created_at=now, updated_at=now,
        decided_at=None if proposed_by else now, decided_by=None if proposed_by else actor,
    )
    session.add(action)
    await session.flush()
    _link(session, action.id, recs, groups, contributing, targets, chapters)
    await session.flush()
    return action


def _link(
    session: AsyncSession, action_id: int, recs: Iterable[int], groups: Iterable[int], contributing: Iterable[int],
    targets: Iterable[str], chapters: Iterable[int],
) -> None:
    session.add_all([ActionRecommendation(action_id=action_id, recommendation_id=r) for r in recs])
    session.add_all([ActionLinkGroup(action_id=action_id, link_group_id=g) for g in groups])
    session.add_all([ActionInstitution(action_id=action_id, institution_id=i) for i in contributing])
    session.add_all([ActionSdgTarget(action_id=action_id, target=t) for t in targets])
    session.add_all([ActionChapter(action_id=action_id, chapter_id=c) for c in chapters])


async def get_action(session: AsyncSession, ref: str | int) -> Action:
    """By code ("A-12", any case) or, for a bare number, by its code "A-N"."""
    if isinstance(ref, int):
        found = await session.get(Action, ref)
        if found is None:
            raise NotFound(f"no action number {ref}", field="code", key="refusal.actions.unknown_number", values={"id": ref})
        return found
    text = ref.strip()
    code = f"{CODE_PREFIX}{text}" if text.isdigit() else action_code(text)
    found = await session.scalar(select(Action).where(Action.code == code))
    if found is None:
        raise NotFound(f"no action {code} (see: nmrf-bot actions list)", field="code", key="refusal.actions.unknown", values={"code": code})
    return found


async def _replace_links(session: AsyncSession, model: type, action_id: int, column: str, values: Collection[object]) -> bool:
    """Make the action's rows of ``model`` exactly ``values``; True when that changed them.
    Row by row, through the ORM, so each addition and removal is audited."""
    rows = (await session.scalars(select(model).where(model.action_id == action_id))).all()  # type: ignore[attr-defined]
    have = {getattr(r, column): r for r in rows}
    changed = False
    for value, row in have.items():
        if value not in values:
            await session.delete(row)
            changed = True
    for value in values:
        if value not in have:
            session.add(model(action_id=action_id, **{column: value}))
            changed = True
    return changed


async def edit_action(session: AsyncSession, ref: str, edit: ActionEdit, *, now: datetime) -> tuple[Action, bool]:
    """Change an action (proposed or accepted); (the action, whether anything changed)."""
    unknown = edit.clear - CLEARABLE
    if unknown:
        raise InvalidValue(
            f"cannot clear {', '.join(sorted(unknown))}; clearable: {', '.join(sorted(CLEARABLE))}", field="clear",
            key="refusal.actions.not_clearable", values={"fields": ", ".join(sorted(unknown)), "clearable": ", ".join(sorted(CLEARABLE))},
        )
    action = await get_action(session, ref)
    if action.state is ActionState.REJECTED:
        raise Conflict(
            f"{action.code} was rejected; propose or add a new action instead", field="code", key="refusal.actions.edit_rejected", values={"code": action.code},
        )
    wanted: dict[str, object] = {}
    if edit.title is not None:
        wanted["title"] = _title(edit.title, TITLE_MAX)
    if edit.description is not None:
        wanted["description"] = edit.description.strip() or None
    responsible = await session.get(Institution, action.responsible_institution_id)
    assert responsible is not None
    if edit.responsible is not None:
        responsible = await _responsible(session, edit.responsible)
        wanted["responsible_institution_id"] = responsible.id
    for name in ("start_date", "target_date"):
        if getattr(edit, name) is not None:
            wanted[name] = getattr(edit, name)
    if edit.budget_amount is not None:
        wanted["budget_amount"] = _check_amount(edit.budget_amount)
    if edit.budget_currency is not None:
        wanted["budget_currency"] = check_currency(edit.budget_currency)
    if edit.budget_source is not None:
        wanted["budget_source"] = _source(edit.budget_source)
    if edit.budget_internal is not None:
        wanted["budget_internal"] = edit.budget_internal
    for name in edit.clear & {"description", "start_date", "target_date"}:
        wanted[name] = None
    if "budget" in edit.clear:
        wanted.update(budget_amount=None, budget_currency=None, budget_source=None)
    start = wanted.get("start_date", action.start_date)
    target = wanted.get("target_date", action.target_date)
    _dates(start, target)  # type: ignore[arg-type]
    amount = wanted.get("budget_amount", action.budget_amount)
    if amount is not None and not wanted.get("budget_currency", action.budget_currency):
        raise InvalidValue(NEEDS_CURRENCY, field="budget_currency", key="refusal.actions.budget_needs_currency")
    changed = False
    for name, value in wanted.items():
        if getattr(action, name) != value:
            setattr(action, name, value)
            changed = True
    links: list[tuple[type, str, Collection[object]]] = []
    if edit.recommendations is not None or edit.link_groups is not None:
        recs = await _recommendation_ids(session, edit.recommendations) if edit.recommendations is not None else None
        groups = await _group_ids(session, edit.link_groups) if edit.link_groups is not None else None
        now_recs = recs if recs is not None else await _links_of(session, ActionRecommendation, "recommendation_id", action.id)
        now_groups = groups if groups is not None else await _links_of(session, ActionLinkGroup, "link_group_id", action.id)
        if not now_recs and not now_groups:
            raise InvalidValue("an action serves at least one recommendation or linked group", field="recommendations", key="refusal.actions.serves_nothing")
        if recs is not None:
            links.append((ActionRecommendation, "recommendation_id", recs))
        if groups is not None:
            links.append((ActionLinkGroup, "link_group_id", groups))
    if edit.contributing is not None or "contributing" in edit.clear:
        links.append((ActionInstitution, "institution_id", await _contributing_ids(session, edit.contributing or (), responsible)))
    elif edit.responsible is not None:
        # The new responsible institution no longer contributes as well.
        current = await _links_of(session, ActionInstitution, "institution_id", action.id)
        links.append((ActionInstitution, "institution_id", [i for i in current if i != responsible.id]))
    if edit.sdg_targets is not None or "sdg_targets" in edit.clear:
        links.append((ActionSdgTarget, "target", list(dict.fromkeys(sdg_target(t) for t in edit.sdg_targets or ()))))
    if edit.chapters is not None or "chapters" in edit.clear:
        links.append((ActionChapter, "chapter_id", await _chapter_ids(session, edit.chapters or ())))
    for model, column, values in links:
        changed = await _replace_links(session, model, action.id, column, values) or changed
    if changed:
        action.updated_at = now
    await session.flush()
    return action, changed


async def _links_of(session: AsyncSession, model: type, column: str, action_id: int) -> list[object]:
    return list((await session.scalars(select(getattr(model, column)).where(model.action_id == action_id))).all())  # type: ignore[attr-defined]


async def decide(session: AsyncSession, ref: str, accept: bool, *, actor: str, now: datetime, note: str | None = None) -> Action:
    """The secretariat's word on a proposed action: taken into the plan, or
    rejected (with why). On PostgreSQL the action's row is locked and read
    again first: two decisions at once (chat and the command line) each read
    'proposed', and the second overwrote the first, whose notice the
    proposer had; SQLite's writers hold its write lock already."""
    action = await get_action(session, ref)
    if session.get_bind().dialect.name == "postgresql":
        await session.refresh(action, with_for_update=True)
    if action.state is not ActionState.PROPOSED:
        message = f"{action.code} is {action.state.value}, not proposed: there is nothing to decide"
        if action.state is ActionState.ACCEPTED:
            raise Conflict(message, field="code", key="refusal.actions.already_accepted", values={"code": action.code})
        raise Conflict(message, field="code", key="refusal.actions.already_rejected", values={"code": action.code})
    action.state = ActionState.ACCEPTED if accept else ActionState.REJECTED
    action.decided_at, action.decided_by = now, actor
    action.decision_note = (note or "").strip() or None
    action.updated_at = now
    await session.flush()
    return action


# --- progress (append-only) --------------------------------------------------------------


@dataclass(frozen=True)
class ActionUpdateData:
    action_id: int
    status: ImplementationStatus
    author_label: str
    channel: Channel
    institution_id: int | None = None
    narrative: str | None = None
    next_step: str | None = None
    next_step_due_on: date | None = None
    author_focal_point_id: int | None = None
    author_secretariat_user_id: int | None = None
    corrects_id: int | None = None
    idempotency_key: str | None = None


async def record_action_update(session: AsyncSession, data: ActionUpdateData, at: datetime | None = None) -> ActionUpdate:
    """Append one update; a redelivered one (same key) returns the first.
    Only an accepted action takes updates: a proposal is not in the plan yet."""
    if data.idempotency_key:
        earlier = await session.scalar(select(ActionUpdate).where(ActionUpdate.idempotency_key == data.idempotency_key))
        if earlier is not None:
            return earlier
    action = await session.get(Action, data.action_id)
    if action is None:
        raise NotFound(f"no action number {data.action_id}", field="code", key="refusal.actions.unknown_number", values={"id": data.action_id})
    if action.state is not ActionState.ACCEPTED:
        raise Conflict(
            f"{action.code} is {action.state.value}: only an accepted action takes updates", field="code",
            key="refusal.actions.not_in_plan", values={"code": action.code},
        )
    if data.corrects_id is not None:
        corrected = await session.get(ActionUpdate, data.corrects_id)
        if corrected is None or corrected.action_id != data.action_id:
            raise InvalidValue(
                f"update {data.corrects_id} is not an update of {action.code}", key="refusal.actions.not_its_update",
                values={"id": data.corrects_id, "code": action.code},
            )
    institution_id = data.institution_id
    if institution_id is None and data.author_focal_point_id is not None:
        author = await session.get(FocalPoint, data.author_focal_point_id)
        if author is None:
            raise NotFound(f"no focal point with id {data.author_focal_point_id}", key="refusal.people.gone", values={"id": data.author_focal_point_id})
        institution_id = author.institution_id
    when = at or utcnow()
    update = ActionUpdate(
        action_id=action.id, institution_id=institution_id, status=data.status, narrative=data.narrative,
        next_step=data.next_step, next_step_due_on=data.next_step_due_on, author_focal_point_id=data.author_focal_point_id,
        author_secretariat_user_id=data.author_secretariat_user_id, author_label=data.author_label, channel=data.channel,
        corrects_id=data.corrects_id, idempotency_key=data.idempotency_key, created_at=when,
    )
    stored = await add_once(session, update, data.idempotency_key)
    if stored is update and institution_id in (None, action.responsible_institution_id) and action.status is not data.status:
        action.status = data.status
        action.updated_at = when
        await session.flush()
    return stored


async def history(session: AsyncSession, action_id: int) -> list[ActionUpdate]:
    """Every update of the action, oldest first."""
    return list((await session.scalars(select(ActionUpdate).where(ActionUpdate.action_id == action_id).order_by(ActionUpdate.id))).all())


async def last_update(session: AsyncSession, action_id: int, institution_id: int | None = None) -> ActionUpdate | None:
    """The latest update of the action (by ``institution_id``, when given)."""
    statement = select(ActionUpdate).where(ActionUpdate.action_id == action_id)
    if institution_id is not None:
        statement = statement.where(ActionUpdate.institution_id == institution_id)
    return await session.scalar(statement.order_by(ActionUpdate.id.desc()).limit(1))


# --- reading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChapterView:
    framework: str
    framework_title: str
    kind: FrameworkKind
    code: str
    title: str


@dataclass(frozen=True)
class Budget:
    amount: Decimal
    currency: str
    source: str | None
    internal: bool


@dataclass(frozen=True)
class ActionView:
    """An action as every reader sees it: the CLI, the chats, the plan report."""

    id: int
    code: str
    title: str
    description: str | None
    responsible_id: int
    responsible_code: str
    responsible_name: str
    state: ActionState
    status: ImplementationStatus
    start_date: date | None
    target_date: date | None
    # None without a budget, and in a public output when the secretariat marked it internal.
    budget: Budget | None
    contributing: tuple[tuple[str, str], ...] = ()
    recommendations: tuple[int, ...] = ()
    link_groups: tuple[int, ...] = ()
    sdg_targets: tuple[str, ...] = ()
    chapters: tuple[ChapterView, ...] = ()
    proposed_by: int | None = None
    decision_note: str | None = None
    last_update_at: datetime | None = None
    last_narrative: str | None = None
    last_next_step: str | None = None
    # Every recommendation it serves, its linked groups' members included.
    served: tuple[int, ...] = field(default=())


@dataclass(frozen=True)
class ActionFilter:
    state: ActionState | None = ActionState.ACCEPTED
    institution: str | None = None
    status: ImplementationStatus | None = None
    recommendation: int | None = None
    # Target date passed by this day and not finished.
    overdue_on: date | None = None


async def list_actions(session: AsyncSession, wanted: ActionFilter = ActionFilter(), *, as_of: datetime | None = None) -> list[ActionView]:
    """The actions that match, by code number then code."""
    statement = select(Action.id)
    if wanted.state is not None:
        statement = statement.where(Action.state == wanted.state)
    if wanted.institution:
        institution = await get_institution(session, wanted.institution)
        statement = statement.where(or_(
            Action.responsible_institution_id == institution.id,
            Action.id.in_(select(ActionInstitution.action_id).where(ActionInstitution.institution_id == institution.id)),
        ))
    if wanted.recommendation is not None:
        groups = select(LinkGroupMember.group_id).where(LinkGroupMember.recommendation_id == wanted.recommendation)
        statement = statement.where(or_(
            Action.id.in_(select(ActionRecommendation.action_id).where(ActionRecommendation.recommendation_id == wanted.recommendation)),
            Action.id.in_(select(ActionLinkGroup.action_id).where(ActionLinkGroup.link_group_id.in_(groups))),
        ))
    if as_of is not None:
        statement = statement.where(Action.created_at <= as_of)
    ids = list((await session.scalars(statement)).all())
    found = list((await views(session, ids, as_of=as_of)).values())
    if wanted.status is not None:
        found = [v for v in found if v.status is wanted.status]
    if wanted.overdue_on is not None:
        found = [v for v in found if is_overdue(v, wanted.overdue_on)]
    return sorted(found, key=_order)


def _order(view: ActionView) -> tuple[int, str]:
    tail = view.code[len(CODE_PREFIX):]
    return (int(tail) if view.code.startswith(CODE_PREFIX) and tail.isdigit() else 10**9, view.code)


def is_overdue(view: ActionView, day: date) -> bool:
    return view.target_date is not None and view.target_date < day and view.status not in FINISHED


async def status_as_of(session: AsyncSession, action_ids: Sequence[int], as_of: datetime) -> dict[int, ImplementationStatus]:
    """Each action's status as history stood at ``as_of``: its latest update
    by then from its responsible institution or the secretariat."""
    if not action_ids:
        return {}
    latest = (
        select(ActionUpdate.action_id, func.max(ActionUpdate.id).label("id"))
        .join(Action, Action.id == ActionUpdate.action_id)
        .where(
            ActionUpdate.action_id.in_(action_ids), ActionUpdate.created_at <= as_of,
            or_(ActionUpdate.institution_id.is_(None), ActionUpdate.institution_id == Action.responsible_institution_id),
        )
        .group_by(ActionUpdate.action_id)
        .subquery()
    )
    rows = await session.execute(select(ActionUpdate.action_id, ActionUpdate.status).join(latest, latest.c.id == ActionUpdate.id))
    return {action_id: status for action_id, status in rows}


# What an action's audit entries can give back as it stood: its own fields...
_REWOUND: dict[str, object] = {
    "title": str, "description": str, "responsible_institution_id": int, "start_date": date.fromisoformat,
    "target_date": date.fromisoformat, "budget_amount": Decimal, "budget_currency": str, "budget_source": str, "budget_internal": bool,
}
# ...and its links: the table, and the column that is not the action.
_LINK_TABLES: dict[str, str] = {
    ActionRecommendation.__tablename__: "recommendation_id", ActionLinkGroup.__tablename__: "link_group_id",
    ActionInstitution.__tablename__: "institution_id", ActionSdgTarget.__tablename__: "target", ActionChapter.__tablename__: "chapter_id",
}


@dataclass
class _Then:
    """The actions as they stood at a moment: their fields and links then."""

    fields: dict[int, dict[str, object]] = field(default_factory=dict)
    links: dict[str, dict[int, list[object]]] = field(default_factory=dict)


async def _as_they_stood(session: AsyncSession, ids: Sequence[int], as_of: datetime, links: dict[str, dict[int, list[object]]]) -> _Then:
    """Every change made after ``as_of`` undone, newest first, from the audit
    log's old values: the plan "as of" a date shows the title, dates, budget,
    institutions and what each action served then, not what they are now."""
    wanted = set(ids)
    then = _Then(links={table: {a: list(v) for a, v in pairs.items()} for table, pairs in links.items()})
    entries = await session.scalars(
        select(AuditEntry).where(AuditEntry.at > as_of, AuditEntry.entity.in_([Action.__tablename__, *_LINK_TABLES])).order_by(AuditEntry.id.desc())
    )
    for entry in entries:
        changes = entry.changes or {}
        if entry.entity == Action.__tablename__:
            if entry.action != "update" or not entry.entity_id or not entry.entity_id.isdigit() or int(entry.entity_id) not in wanted:
                continue
            for name, read in _REWOUND.items():
                if name in changes:
                    old = changes[name][0]
                    then.fields.setdefault(int(entry.entity_id), {})[name] = None if old is None else read(old)  # type: ignore[operator]
            continue
        column = _LINK_TABLES[entry.entity]
        action_id, value = changes.get("action_id"), changes.get(column)
        if action_id not in wanted or value is None:
            continue
        have = then.links.setdefault(entry.entity, {}).setdefault(action_id, [])
        if entry.action == "insert" and value in have:
            have.remove(value)
        elif entry.action == "delete" and value not in have:
            have.append(value)
    return then


async def views(session: AsyncSession, action_ids: Sequence[int], *, as_of: datetime | None = None, public: bool = False) -> dict[int, ActionView]:
    """The actions ``action_ids`` read whole, in a few queries; ``as_of``
    gives them as they stood then (their fields, links, status and last
    update); ``public`` leaves out budgets the secretariat marked internal."""
    ids = list(dict.fromkeys(action_ids))
    if not ids:
        return {}
    actions = (await session.scalars(select(Action).where(Action.id.in_(ids)))).all()
    institutions = {i.id: i for i in (await session.scalars(select(Institution))).all()}
    recs = await _pairs(session, ActionRecommendation.action_id, ActionRecommendation.recommendation_id, ids)
    groups = await _pairs(session, ActionLinkGroup.action_id, ActionLinkGroup.link_group_id, ids)
    contributing = await _pairs(session, ActionInstitution.action_id, ActionInstitution.institution_id, ids)
    targets = await _pairs(session, ActionSdgTarget.action_id, ActionSdgTarget.target, ids)
    chapter_ids = await _pairs(session, ActionChapter.action_id, ActionChapter.chapter_id, ids)
    fields: dict[int, dict[str, object]] = {}
    if as_of is not None:
        then = await _as_they_stood(session, ids, as_of, {
            ActionRecommendation.__tablename__: recs, ActionLinkGroup.__tablename__: groups, ActionInstitution.__tablename__: contributing,
            ActionSdgTarget.__tablename__: targets, ActionChapter.__tablename__: chapter_ids,
        })
        fields = then.fields
        recs, groups = then.links[ActionRecommendation.__tablename__], then.links[ActionLinkGroup.__tablename__]
        contributing, targets = then.links[ActionInstitution.__tablename__], then.links[ActionSdgTarget.__tablename__]
        chapter_ids = then.links[ActionChapter.__tablename__]
    every_chapter = {c for cs in chapter_ids.values() for c in cs}
    known: dict[int, ChapterView] = {}
    if every_chapter:
        for chapter_id, fcode, ftitle, fkind, ccode, ctitle in await session.execute(
            select(FrameworkChapter.id, Framework.code, Framework.title, Framework.kind, FrameworkChapter.code, FrameworkChapter.title)
            .join(Framework, Framework.id == FrameworkChapter.framework_id)
            .where(FrameworkChapter.id.in_(every_chapter))
        ):
            known[chapter_id] = ChapterView(fcode, ftitle, fkind, ccode, ctitle)
    chapters: dict[int, list[ChapterView]] = {
        action_id: sorted((known[c] for c in cs if c in known), key=lambda v: (v.framework, v.code)) for action_id, cs in chapter_ids.items()
    }
    all_groups = {g for gs in groups.values() for g in gs}
    members: dict[int, list[int]] = {}
    if all_groups:
        for group_id, rec_id in await session.execute(
            select(LinkGroupMember.group_id, LinkGroupMember.recommendation_id).where(LinkGroupMember.group_id.in_(all_groups))
        ):
            members.setdefault(group_id, []).append(rec_id)
    last_statement = select(ActionUpdate).where(
        ActionUpdate.id.in_(
            select(func.max(ActionUpdate.id)).where(ActionUpdate.action_id.in_(ids), *([ActionUpdate.created_at <= as_of] if as_of else []))
            .group_by(ActionUpdate.action_id)
        )
    )
    last = {u.action_id: u for u in (await session.scalars(last_statement)).all()}
    statuses = await status_as_of(session, ids, as_of) if as_of is not None else {}
    out: dict[int, ActionView] = {}
    for action in actions:
        # As it stood at as_of: the old value of each field changed since (the action itself stays untouched).
        stood = fields.get(action.id, {})

        def then(name: str, action: Action = action, stood: dict[str, object] = stood) -> object:
            return stood[name] if name in stood else getattr(action, name)

        responsible = institutions[then("responsible_institution_id")]  # type: ignore[index]
        budget = None
        amount, internal = then("budget_amount"), bool(then("budget_internal"))
        if amount is not None and not (public and internal):
            budget = Budget(amount, then("budget_currency") or "", then("budget_source"), internal)  # type: ignore[arg-type]
        own_recs = tuple(sorted(recs.get(action.id, ())))
        own_groups = tuple(sorted(groups.get(action.id, ())))
        served = sorted({*own_recs, *(m for g in own_groups for m in members.get(g, ()))})
        update = last.get(action.id)
        out[action.id] = ActionView(
            id=action.id, code=action.code, title=then("title"), description=then("description"),  # type: ignore[arg-type]
            responsible_id=responsible.id, responsible_code=responsible.code, responsible_name=responsible.name,
            state=action.state,
            status=statuses.get(action.id, ImplementationStatus.NOT_STARTED) if as_of is not None else action.status,
            start_date=then("start_date"), target_date=then("target_date"), budget=budget,  # type: ignore[arg-type]
            contributing=tuple(sorted((institutions[i].code, institutions[i].name) for i in contributing.get(action.id, ()))),
            recommendations=own_recs, link_groups=own_groups, sdg_targets=tuple(sorted(targets.get(action.id, ()), key=_target_key)),
            chapters=tuple(chapters.get(action.id, ())), proposed_by=action.proposed_by, decision_note=action.decision_note,
            last_update_at=update.created_at if update else None, last_narrative=update.narrative if update else None,
            last_next_step=update.next_step if update else None, served=tuple(served),
        )
    return out


def _target_key(target: str) -> tuple[int, int, str]:
    goal, _, tail = target.partition(".")
    return (int(goal), int(tail) if tail.isdigit() else 100, tail)


async def _pairs(session: AsyncSession, key: object, value: object, ids: Sequence[int]) -> dict[int, list[object]]:
    out: dict[int, list[object]] = {}
    for k, v in await session.execute(select(key, value).where(key.in_(ids))):  # type: ignore[attr-defined, call-overload]
        out.setdefault(k, []).append(v)
    return out


async def actions_by_recommendation(
    session: AsyncSession, recommendation_ids: Collection[int] | None = None, *, as_of: datetime | None = None, public: bool = False,
) -> dict[int, list[ActionView]]:
    """For the plan report: each recommendation's accepted actions (named
    directly or through its linked group), by code. ``as_of`` leaves out
    actions created later and reads their status then; ``public`` leaves out
    internal budgets. A recommendation with no action is absent."""
    statement = select(Action.id).where(Action.state == ActionState.ACCEPTED)
    if as_of is not None:
        # Accepted by then: a proposal accepted later was not in the plan yet.
        statement = statement.where(Action.created_at <= as_of, or_(Action.decided_at.is_(None), Action.decided_at <= as_of))
    found = await views(session, list((await session.scalars(statement)).all()), as_of=as_of, public=public)
    wanted = set(recommendation_ids) if recommendation_ids is not None else None
    out: dict[int, list[ActionView]] = {}
    for view in sorted(found.values(), key=_order):
        for rec in view.served:
            if wanted is None or rec in wanted:
                out.setdefault(rec, []).append(view)
    return out


def _of_institution(institution_id: int) -> ColumnElement[bool]:
    """The accepted actions an institution answers for or contributes to."""
    return and_(
        Action.state == ActionState.ACCEPTED,
        or_(
            Action.responsible_institution_id == institution_id,
            Action.id.in_(select(ActionInstitution.action_id).where(ActionInstitution.institution_id == institution_id)),
        ),
    )


async def actions_of_institution(session: AsyncSession, institution_id: int) -> list[ActionView]:
    """What a focal point's institution answers for or contributes to: the
    accepted actions, unfinished first, then by code."""
    statement = select(Action.id).where(_of_institution(institution_id))
    found = (await views(session, list((await session.scalars(statement)).all()))).values()
    return sorted(found, key=lambda v: (v.status in FINISHED, _order(v)))


async def count_of_institution(session: AsyncSession, institution_id: int) -> int:
    """How many actions ``actions_of_institution`` lists, counted by the database."""
    return int(await session.scalar(select(func.count()).select_from(Action).where(_of_institution(institution_id))) or 0)


async def answers_for(session: AsyncSession, action_id: int, institution_id: int) -> bool:
    """Whether the institution is the action's responsible or a contributing one."""
    action = await session.get(Action, action_id)
    if action is None or action.state is not ActionState.ACCEPTED:
        return False
    if action.responsible_institution_id == institution_id:
        return True
    found = await session.scalar(
        select(ActionInstitution.action_id).where(ActionInstitution.action_id == action_id, ActionInstitution.institution_id == institution_id)
    )
    return found is not None


async def proposals_of(session: AsyncSession, focal_point_id: int) -> list[Action]:
    """What a focal point proposed, newest first, whatever became of it."""
    return list((await session.scalars(select(Action).where(Action.proposed_by == focal_point_id).order_by(Action.id.desc()))).all())


"""Yearly pledges and the year-end report-back (issue 16).

The secretariat opens a round for a year (``open_round``): the institutions
it asks (every active one, or those named) are asked from that day for
their pledges, until ``ask_by`` and after it, reminded and escalated
(handlers.reminders.pledge_dates). A focal point writes each pledge in the
institution's own words, naming what it serves as ``#12`` (a
recommendation) or by an action's code (``A-3``); it is a draft until the
institution confirms it, and can be withdrawn (never deleted). An
institution may instead say it pledges nothing this year.

From ``report_back_on`` each confirmed pledge is asked back: done, partly or
not, with a short account (``record_outcome``, append-only: told again, the
latest counts). Closing the round stops all asking and taking.

Every refusal a focal point can meet in chat carries its catalog key
(storage.errors); the command line prints the English line.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.action_models import Action, ActionState
from storage.enums import Channel, PledgeOutcomeKind, PledgeState
from storage.errors import Conflict, InvalidValue, NotFound, ids_value
from storage.idempotent import add_once
from storage.models import Institution, Recommendation
from storage.network import get_institution
from storage.pledge_models import (
    Pledge,
    PledgeAction,
    PledgeOutcome,
    PledgeRecommendation,
    PledgeRound,
    PledgeRoundInstitution,
)

CODE_PREFIX = "P-"
TEXT_MAX = 2000
ACCOUNT_MAX = 1000
# A pledge names at most this many recommendations and actions: it is one undertaking, not a plan.
MAX_LINKS = 30
YEARS = range(2000, 2101)
LABEL_MAX = 200

# "#12": a recommendation; "A-3" (any action code, any case): an action.
_RECOMMENDATION = re.compile(r"#(\d{1,9})\b")
_CODE_LIKE = re.compile(r"(?<![\w#/-])([A-Za-z][A-Za-z0-9_.]*-\d+)(?![\w/-])")
# The default action code's shape: a word of this shape that is no action is a typo, said so.
_DEFAULT_ACTION = re.compile(r"A-\d+", re.IGNORECASE)


class Phase:
    """Where a round stands on a day."""

    PLEDGING = "pledging"
    REPORTING = "reporting"
    CLOSED = "closed"


def phase(round_: PledgeRound, today: date) -> str:
    if round_.closed_at is not None:
        return Phase.CLOSED
    return Phase.PLEDGING if today < round_.report_back_on else Phase.REPORTING


@dataclass(frozen=True)
class Author:
    """Who writes: a focal point in chat, a secretariat user, or the command line."""

    label: str
    channel: Channel
    focal_point_id: int | None = None
    secretariat_user_id: int | None = None


# --- rounds -------------------------------------------------------------------------------


def _check_year(year: int) -> int:
    if year not in YEARS:
        raise InvalidValue(f"a round's year is between {YEARS.start} and {YEARS.stop - 1}, got {year}", field="year")
    return year


def _check_dates(ask_by: date, report_back_on: date) -> None:
    if report_back_on <= ask_by:
        raise InvalidValue(
            f"the report-back ({report_back_on}) must come after the day pledges are asked by ({ask_by})", field="report_back_on",
        )


def _check_in_year(year: int, ask_by: date, report_back_on: date) -> None:
    """A round's dates belong to its year: pledges asked by its end at the
    latest, the report-back at its end (from 1 July) or early the next year
    (to 31 March). Without it a 2020 round could ask in 2026 and report back in 2031."""
    if ask_by > date(year, 12, 31):
        raise InvalidValue(f"pledges for {year} are asked by the end of {year} at the latest, not {ask_by}", field="ask_by")
    earliest, latest = date(year, 7, 1), date(year + 1, 3, 31)
    if not earliest <= report_back_on <= latest:
        raise InvalidValue(
            f"the {year} report-back is at the year's end: between {earliest} and {latest}, not {report_back_on}", field="report_back_on",
        )


async def open_round(
    session: AsyncSession, year: int, ask_by: date, report_back_on: date, *, today: date, actor: str, now: datetime,
    institutions: Sequence[str] = (),
) -> PledgeRound:
    """Open the year's round, asking ``institutions`` (codes), or every active one."""
    _check_year(year)
    _check_dates(ask_by, report_back_on)
    if ask_by < today:
        raise InvalidValue(f"the day pledges are asked by ({ask_by}) has passed already (today is {today})", field="ask_by")
    if year < today.year:
        raise InvalidValue(f"{year} is over (today is {today}): a round asks for the pledges of this year or a later one", field="year")
    _check_in_year(year, ask_by, report_back_on)
    if await session.scalar(select(PledgeRound.id).where(PledgeRound.year == year)) is not None:
        raise Conflict(f"the {year} round is open already (see: nmrf-bot pledges show {year})", field="year")
    if institutions:
        asked = [await get_institution(session, code) for code in dict.fromkeys(institutions)]
    else:
        asked = list((await session.scalars(select(Institution).where(Institution.active.is_(True)).order_by(Institution.code))).all())
    if not asked:
        raise InvalidValue("there is no active institution to ask (see: nmrf-bot institutions list)", field="institutions")
    round_ = PledgeRound(
        year=year, ask_by=ask_by, report_back_on=report_back_on, opened_at=now, opened_by=actor[:LABEL_MAX], created_at=now, updated_at=now,
    )
    session.add(round_)
    await session.flush()
    session.add_all([PledgeRoundInstitution(round_id=round_.id, institution_id=i.id) for i in asked])
    await session.flush()
    return round_


async def get_round(session: AsyncSession, year: int) -> PledgeRound:
    found = await session.scalar(select(PledgeRound).where(PledgeRound.year == year))
    if found is None:
        raise NotFound(
            f"no pledge round for {year} (see: nmrf-bot pledges rounds)", field="year",
            key="refusal.pledges.no_round", values={"year": year},
        )
    return found


async def latest_round(session: AsyncSession) -> PledgeRound:
    """The round of the latest year: what `pledges list` and /pledges show by default."""
    found = await session.scalar(select(PledgeRound).order_by(PledgeRound.year.desc()).limit(1))
    if found is None:
        raise NotFound("no pledge round has been opened (open one with: nmrf-bot pledges open YEAR --ask-by ... --report-back ...)", field="year")
    return found


async def list_rounds(session: AsyncSession) -> list[PledgeRound]:
    return list((await session.scalars(select(PledgeRound).order_by(PledgeRound.year.desc()))).all())


async def edit_round(
    session: AsyncSession, year: int, *, ask_by: date | None = None, report_back_on: date | None = None,
) -> tuple[PledgeRound, bool]:
    """Move the round's dates; whether anything changed."""
    round_ = await get_round(session, year)
    check_open(round_)
    wanted = (ask_by or round_.ask_by, report_back_on or round_.report_back_on)
    _check_dates(*wanted)
    _check_in_year(round_.year, *wanted)
    changed = wanted != (round_.ask_by, round_.report_back_on)
    round_.ask_by, round_.report_back_on = wanted
    await session.flush()
    return round_, changed


async def close_round(session: AsyncSession, year: int, *, actor: str, now: datetime) -> PledgeRound:
    """No more asking, no more pledges or outcomes taken; what was given stays."""
    round_ = await get_round(session, year)
    check_open(round_)
    round_.closed_at, round_.closed_by = now, actor[:LABEL_MAX]
    await session.flush()
    return round_


def check_open(round_: PledgeRound) -> None:
    if round_.closed_at is not None:
        raise InvalidValue(
            f"the {round_.year} round is closed: nothing more is taken in it", field="year",
            key="refusal.pledges.round_closed", values={"year": round_.year},
        )


async def asked_institutions(session: AsyncSession, round_id: int) -> list[PledgeRoundInstitution]:
    return list((await session.scalars(select(PledgeRoundInstitution).where(PledgeRoundInstitution.round_id == round_id))).all())


async def asked_in(session: AsyncSession, round_: PledgeRound, institution_id: int) -> PledgeRoundInstitution:
    found = await session.get(PledgeRoundInstitution, (round_.id, institution_id))
    if found is None:
        institution = await session.get(Institution, institution_id)
        code = institution.code if institution else str(institution_id)
        raise InvalidValue(
            f"the {round_.year} round does not ask {code} for pledges", field="institution",
            key="refusal.pledges.not_asked", values={"institution": code, "year": round_.year},
        )
    return found


async def round_for(session: AsyncSession, institution_id: int) -> PledgeRound | None:
    """The latest round not closed that asks the institution, if any."""
    return await session.scalar(
        select(PledgeRound).join(PledgeRoundInstitution, PledgeRoundInstitution.round_id == PledgeRound.id)
        .where(PledgeRoundInstitution.institution_id == institution_id, PledgeRound.closed_at.is_(None))
        .order_by(PledgeRound.year.desc()).limit(1)
    )


# --- pledges ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Links:
    """What a pledge serves: recommendation ids and action codes, in the order named."""

    recommendations: tuple[int, ...] = ()
    actions: tuple[str, ...] = ()


def check_text(text: str) -> str:
    cleaned = text.strip()
    if not cleaned:
        raise InvalidValue("a pledge's text is empty", field="text", key="refusal.pledges.text_empty")
    if len(cleaned) > TEXT_MAX:
        raise InvalidValue(
            f"a pledge is at most {TEXT_MAX} characters, got {len(cleaned)}", field="text",
            key="refusal.pledges.text_too_long", values={"count": TEXT_MAX, "length": len(cleaned)},
        )
    return cleaned


async def read_links(session: AsyncSession, text: str, recommendations: Sequence[int] = (), actions: Sequence[str] = ()) -> Links:
    """The recommendations (``#12``) and actions (``A-3``) named in ``text``,
    with those given besides, each checked: a recommendation in the
    registry, an action in the plan. A word shaped like an action's code
    ("COVID-19") that is no action stays text, unless it is the default
    shape (A-N), which can only be a typo."""
    rec_ids = list(dict.fromkeys([*recommendations, *(int(n) for n in _RECOMMENDATION.findall(text))]))
    named = list(dict.fromkeys([*(a.strip().upper() for a in actions if a.strip()), *(w.upper() for w in _CODE_LIKE.findall(text))]))
    if len(rec_ids) + len(named) > MAX_LINKS:
        raise InvalidValue(
            f"a pledge serves at most {MAX_LINKS} recommendations and actions", field="links",
            key="refusal.pledges.too_many_links", values={"limit": MAX_LINKS},
        )
    known = set((await session.scalars(select(Recommendation.id).where(Recommendation.id.in_(rec_ids)))).all()) if rec_ids else set()
    if missing := [i for i in rec_ids if i not in known]:
        raise NotFound(
            f"no recommendation {', '.join(f'#{i}' for i in missing)} in the registry", field="recommendations",
            key="refusal.pledges.unknown_recommendations", values={"ids": ids_value(missing)},
        )
    found = {a.code: a for a in (await session.scalars(select(Action).where(Action.code.in_(named)))).all()} if named else {}
    given = {a.strip().upper() for a in actions}
    unknown = [c for c in named if c not in found and (c in given or _DEFAULT_ACTION.fullmatch(c))]
    if unknown:
        raise NotFound(
            f"no action {', '.join(unknown)} in the plan (see: nmrf-bot actions list)", field="actions",
            key="refusal.pledges.unknown_actions", values={"codes": ", ".join(unknown)},
        )
    for code in named:
        if code in found and found[code].state is not ActionState.ACCEPTED:
            raise InvalidValue(
                f"action {code} is not in the plan ({found[code].state.value}): a pledge serves the plan's actions", field="actions",
                key="refusal.pledges.action_not_in_plan", values={"code": code},
            )
    return Links(tuple(rec_ids), tuple(c for c in named if c in found))


async def next_code(session: AsyncSession) -> str:
    """One past the highest "P-N" in use, so a code is never given twice."""
    codes = (await session.scalars(select(Pledge.code).where(Pledge.code.like(f"{CODE_PREFIX}%")))).all()
    numbers = [int(c[len(CODE_PREFIX):]) for c in codes if c[len(CODE_PREFIX):].isdigit()]
    return f"{CODE_PREFIX}{max(numbers, default=0) + 1}"


def check_pledging(round_: PledgeRound, today: date) -> None:
    check_open(round_)
    if today >= round_.report_back_on:
        raise InvalidValue(
            f"the {round_.year} round takes no new pledge: its report-back began on {round_.report_back_on}", field="year",
            key="refusal.pledges.pledging_over", values={"year": round_.year, "date": round_.report_back_on},
        )


async def add_pledge(
    session: AsyncSession, round_: PledgeRound, institution_id: int, text: str, author: Author, *, today: date, now: datetime,
    recommendations: Sequence[int] = (), actions: Sequence[str] = (), confirmed: bool = False, idempotency_key: str | None = None,
) -> Pledge:
    """A draft (or, ``confirmed``, a pledge the institution confirmed
    elsewhere, as the secretariat records one sent to it). A redelivered
    message (its ``idempotency_key`` seen before) returns the pledge stored then."""
    check_pledging(round_, today)
    asked = await asked_in(session, round_, institution_id)
    cleaned = check_text(text)
    links = await read_links(session, cleaned, recommendations, actions)
    pledge = Pledge(
        code=await next_code(session), round_id=round_.id, institution_id=institution_id, text=cleaned,
        state=PledgeState.CONFIRMED if confirmed else PledgeState.DRAFT, author_focal_point_id=author.focal_point_id,
        author_label=author.label[:LABEL_MAX], channel=author.channel, idempotency_key=idempotency_key,
        confirmed_at=now if confirmed else None, confirmed_by=author.label[:LABEL_MAX] if confirmed else None, created_at=now, updated_at=now,
    )
    stored = await add_once(session, pledge, idempotency_key)
    if stored is not pledge:
        return stored
    action_ids = (await session.scalars(select(Action.id).where(Action.code.in_(links.actions)))).all() if links.actions else []
    session.add_all([PledgeRecommendation(pledge_id=pledge.id, recommendation_id=r) for r in links.recommendations])
    session.add_all([PledgeAction(pledge_id=pledge.id, action_id=a) for a in action_ids])
    if confirmed:
        asked.no_pledge_at = asked.no_pledge_by = None
    await session.flush()
    return pledge


async def get_pledge(session: AsyncSession, ref: str | int) -> Pledge:
    """By code ("P-3", any case), by its number ("3"), or by id (an int)."""
    if isinstance(ref, int):
        found = await session.get(Pledge, ref)
        shown = str(ref)
    else:
        shown = ref.strip().upper()
        code = f"{CODE_PREFIX}{shown}" if shown.isdigit() else shown
        found = await session.scalar(select(Pledge).where(Pledge.code == code))
    if found is None:
        raise NotFound(
            f"no pledge {shown} (see: nmrf-bot pledges list)", field="pledge", key="refusal.pledges.unknown_pledge", values={"code": shown},
        )
    return found


async def drafts_of(session: AsyncSession, round_id: int, institution_id: int) -> list[Pledge]:
    return list((await session.scalars(
        select(Pledge).where(Pledge.round_id == round_id, Pledge.institution_id == institution_id, Pledge.state == PledgeState.DRAFT).order_by(Pledge.id)
    )).all())


async def confirm_drafts(session: AsyncSession, round_: PledgeRound, institution_id: int, *, by: str, today: date, now: datetime) -> list[Pledge]:
    """Every draft of the institution confirmed at once, as its focal point reviewed them."""
    check_pledging(round_, today)
    drafts = await drafts_of(session, round_.id, institution_id)
    if not drafts:
        raise InvalidValue("there is no draft pledge to confirm", field="pledge", key="refusal.pledges.nothing_to_confirm")
    for pledge in drafts:
        _confirm(pledge, by, now)
    asked = await asked_in(session, round_, institution_id)
    # Pledging after all takes back an earlier "no pledge this year".
    asked.no_pledge_at = asked.no_pledge_by = None
    await session.flush()
    return drafts


def _confirm(pledge: Pledge, by: str, now: datetime) -> None:
    pledge.state, pledge.confirmed_at, pledge.confirmed_by, pledge.updated_at = PledgeState.CONFIRMED, now, by[:LABEL_MAX], now


async def confirm_pledge(session: AsyncSession, ref: str, *, by: str, today: date, now: datetime) -> Pledge:
    """One draft confirmed (the secretariat recording the institution's word)."""
    pledge = await get_pledge(session, ref)
    round_ = await session.get(PledgeRound, pledge.round_id)
    assert round_ is not None
    check_pledging(round_, today)
    if pledge.state is not PledgeState.DRAFT:
        raise InvalidValue(f"{pledge.code} is {pledge.state.value}, not a draft: there is nothing to confirm", field="pledge")
    _confirm(pledge, by, now)
    asked = await asked_in(session, round_, pledge.institution_id)
    asked.no_pledge_at = asked.no_pledge_by = None
    await session.flush()
    return pledge


async def withdraw_pledge(session: AsyncSession, ref: str | int, *, by: str, today: date, now: datetime) -> Pledge:
    """Withdrawn while pledges are taken; once the report-back began, its outcome is what is asked."""
    pledge = await get_pledge(session, ref)
    round_ = await session.get(PledgeRound, pledge.round_id)
    assert round_ is not None
    check_open(round_)
    if pledge.state is PledgeState.WITHDRAWN:
        raise InvalidValue(f"{pledge.code} is withdrawn already", field="pledge", key="refusal.pledges.already_withdrawn", values={"code": pledge.code})
    if today >= round_.report_back_on:
        raise InvalidValue(
            f"{pledge.code} can no longer be withdrawn: the report-back began on {round_.report_back_on}; report it as not done instead",
            field="pledge", key="refusal.pledges.withdraw_too_late", values={"code": pledge.code, "date": round_.report_back_on},
        )
    pledge.state, pledge.withdrawn_at, pledge.withdrawn_by, pledge.updated_at = PledgeState.WITHDRAWN, now, by[:LABEL_MAX], now
    await session.flush()
    return pledge


async def declare_no_pledge(session: AsyncSession, round_: PledgeRound, institution_id: int, *, by: str, today: date, now: datetime) -> None:
    """The institution's word that it pledges nothing this year: it is asked no more."""
    check_pledging(round_, today)
    asked = await asked_in(session, round_, institution_id)
    confirmed = await session.scalar(select(func.count(Pledge.id)).where(
        Pledge.round_id == round_.id, Pledge.institution_id == institution_id, Pledge.state == PledgeState.CONFIRMED,
    ))
    if confirmed:
        raise InvalidValue(
            f"the institution has {confirmed} confirmed pledge(s) for {round_.year}: withdraw them first", field="institution",
            key="refusal.pledges.has_confirmed", values={"count": int(confirmed), "year": round_.year},
        )
    asked.no_pledge_at, asked.no_pledge_by = now, by[:LABEL_MAX]
    await session.flush()


# --- the report-back ---------------------------------------------------------------------


def check_account(text: str) -> str:
    cleaned = " ".join(text.split())
    if not cleaned:
        raise InvalidValue("the account is empty: say in a few words what became of the pledge", field="account", key="refusal.pledges.account_empty")
    if len(cleaned) > ACCOUNT_MAX:
        raise InvalidValue(
            f"an account is at most {ACCOUNT_MAX} characters, got {len(cleaned)}", field="account",
            key="refusal.pledges.account_too_long", values={"count": ACCOUNT_MAX, "length": len(cleaned)},
        )
    return cleaned


async def reportable(session: AsyncSession, pledge: Pledge, today: date) -> PledgeRound:
    """The pledge's round, when the pledge can be reported back on today."""
    round_ = await session.get(PledgeRound, pledge.round_id)
    assert round_ is not None
    check_open(round_)
    if pledge.state is PledgeState.DRAFT:
        raise InvalidValue(
            f"{pledge.code} is a draft, never confirmed: only a confirmed pledge is reported back on", field="pledge",
            key="refusal.pledges.report_draft", values={"code": pledge.code},
        )
    if pledge.state is PledgeState.WITHDRAWN:
        raise InvalidValue(
            f"{pledge.code} was withdrawn: only a confirmed pledge is reported back on", field="pledge",
            key="refusal.pledges.report_withdrawn", values={"code": pledge.code},
        )
    if today < round_.report_back_on:
        raise InvalidValue(
            f"the {round_.year} report-back begins on {round_.report_back_on}", field="pledge",
            key="refusal.pledges.report_not_open", values={"year": round_.year, "date": round_.report_back_on},
        )
    return round_


async def record_outcome(
    session: AsyncSession, pledge: Pledge, outcome: PledgeOutcomeKind, account: str, author: Author, *, today: date, now: datetime,
    idempotency_key: str | None = None,
) -> PledgeOutcome:
    """Append what became of the pledge; the latest given counts."""
    await reportable(session, pledge, today)
    row = PledgeOutcome(
        pledge_id=pledge.id, outcome=outcome, account=check_account(account), author_focal_point_id=author.focal_point_id,
        author_secretariat_user_id=author.secretariat_user_id, author_label=author.label[:LABEL_MAX], channel=author.channel,
        idempotency_key=idempotency_key, created_at=now,
    )
    return await add_once(session, row, idempotency_key)


async def outcomes_of(session: AsyncSession, pledge_id: int) -> list[PledgeOutcome]:
    """Every outcome told, oldest first."""
    return list((await session.scalars(select(PledgeOutcome).where(PledgeOutcome.pledge_id == pledge_id).order_by(PledgeOutcome.id))).all())


# --- reading ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PledgeView:
    pledge: Pledge
    institution_code: str
    institution_name: str
    recommendations: tuple[int, ...]
    actions: tuple[str, ...]
    # The latest outcome told (the one that counts), and how many were told.
    outcome: PledgeOutcome | None
    told: int

    @property
    def serves(self) -> str:
        return ", ".join([*(f"#{r}" for r in self.recommendations), *self.actions])


async def pledge_views(
    session: AsyncSession, round_id: int, *, institution_id: int | None = None, states: Collection[PledgeState] | None = None,
    ids: Collection[int] | None = None,
) -> list[PledgeView]:
    """The round's pledges, by institution code then code number."""
    statement = (
        select(Pledge, Institution.code, Institution.name).join(Institution, Institution.id == Pledge.institution_id)
        .where(Pledge.round_id == round_id)
    )
    if institution_id is not None:
        statement = statement.where(Pledge.institution_id == institution_id)
    if states is not None:
        statement = statement.where(Pledge.state.in_(list(states)))
    if ids is not None:
        statement = statement.where(Pledge.id.in_(list(ids)))
    rows = (await session.execute(statement)).all()
    wanted = [p.id for p, _, _ in rows]
    recs: dict[int, list[int]] = defaultdict(list)
    acts: dict[int, list[str]] = defaultdict(list)
    latest: dict[int, PledgeOutcome] = {}
    told: dict[int, int] = defaultdict(int)
    if wanted:
        for pledge_id, rec in await session.execute(
            select(PledgeRecommendation.pledge_id, PledgeRecommendation.recommendation_id)
            .where(PledgeRecommendation.pledge_id.in_(wanted)).order_by(PledgeRecommendation.recommendation_id)
        ):
            recs[pledge_id].append(rec)
        for pledge_id, code in await session.execute(
            select(PledgeAction.pledge_id, Action.code).join(Action, Action.id == PledgeAction.action_id)
            .where(PledgeAction.pledge_id.in_(wanted)).order_by(Action.id)
        ):
            acts[pledge_id].append(code)
        for outcome in await session.scalars(select(PledgeOutcome).where(PledgeOutcome.pledge_id.in_(wanted)).order_by(PledgeOutcome.id)):
            latest[outcome.pledge_id] = outcome
            told[outcome.pledge_id] += 1
    views = [
        PledgeView(p, code, name, tuple(recs[p.id]), tuple(acts[p.id]), latest.get(p.id), told[p.id])
        for p, code, name in rows
    ]
    return sorted(views, key=lambda v: (v.institution_code, _number(v.pledge.code)))


def _number(code: str) -> tuple[int, str]:
    tail = code[len(CODE_PREFIX):]
    return (int(tail), "") if code.startswith(CODE_PREFIX) and tail.isdigit() else (0, code)


@dataclass
class InstitutionLine:
    """One institution asked in a round: what it pledged and how it reported back."""

    code: str
    name: str
    drafts: int = 0
    confirmed: int = 0
    withdrawn: int = 0
    no_pledge: bool = False
    outcomes: dict[PledgeOutcomeKind, int] = field(default_factory=lambda: dict.fromkeys(PledgeOutcomeKind, 0))

    @property
    def awaited(self) -> int:
        """Confirmed pledges not yet reported back on."""
        return self.confirmed - sum(self.outcomes.values())

    @property
    def standing(self) -> str:
        """confirmed, drafts (none confirmed yet), no_pledge, or nothing."""
        if self.confirmed:
            return "confirmed"
        if self.drafts:
            return "drafts"
        return "no_pledge" if self.no_pledge else "nothing"


@dataclass
class RoundSummary:
    round: PledgeRound
    lines: list[InstitutionLine]
    pledges: list[PledgeView]

    def count(self, standing: str) -> int:
        return sum(1 for line in self.lines if line.standing == standing)

    def total(self, name: str) -> int:
        return sum(getattr(line, name) for line in self.lines)

    def outcome_total(self, kind: PledgeOutcomeKind) -> int:
        return sum(line.outcomes[kind] for line in self.lines)


async def summary(session: AsyncSession, round_: PledgeRound) -> RoundSummary:
    """Per institution asked (by code): its pledges by state, whether it said
    it pledges nothing, and its confirmed pledges' outcomes; with every pledge."""
    asked = (await session.execute(
        select(Institution.id, Institution.code, Institution.name, PledgeRoundInstitution.no_pledge_at)
        .join(PledgeRoundInstitution, PledgeRoundInstitution.institution_id == Institution.id)
        .where(PledgeRoundInstitution.round_id == round_.id).order_by(Institution.code)
    )).all()
    lines = {i: InstitutionLine(code, name, no_pledge=no_pledge_at is not None) for i, code, name, no_pledge_at in asked}
    views = await pledge_views(session, round_.id)
    for view in views:
        line = lines.get(view.pledge.institution_id)
        if line is None:
            # Asked no longer (cannot happen today: the asked are fixed at opening), yet pledged.
            line = lines[view.pledge.institution_id] = InstitutionLine(view.institution_code, view.institution_name)
        state = view.pledge.state
        if state is PledgeState.DRAFT:
            line.drafts += 1
        elif state is PledgeState.WITHDRAWN:
            line.withdrawn += 1
        else:
            line.confirmed += 1
            if view.outcome is not None:
                line.outcomes[view.outcome.outcome] += 1
    return RoundSummary(round_, sorted(lines.values(), key=lambda line: line.code), views)


# --- what is asked, for the reminders -------------------------------------------------------


@dataclass(frozen=True)
class Asked:
    """An institution a round is asking something today: its pledges (phase
    "pledge", from the day the round opened, due ``ask_by``), or what became
    of its confirmed pledges (phase "report", from ``report_back_on``)."""

    round_id: int
    year: int
    institution_id: int
    phase: str
    # The first day it is asked, and the day it is due.
    starts: date
    due: date
    drafts: int = 0
    # The confirmed pledges not yet reported back on: (id, code, text).
    awaited: tuple[tuple[int, str, str], ...] = ()


async def asking(session: AsyncSession, today: date) -> list[Asked]:
    """Every institution an open round is asking something on ``today``: in
    the pledging phase those with a draft, or with no confirmed pledge and
    no word that they pledge nothing; in the report-back, those with a
    confirmed pledge not yet reported back on."""
    rounds = (await session.scalars(select(PledgeRound).where(PledgeRound.closed_at.is_(None)).order_by(PledgeRound.year))).all()
    out: list[Asked] = []
    for round_ in rounds:
        opened = round_.opened_at.date()
        if today < opened:
            continue
        asked = await asked_institutions(session, round_.id)
        states: dict[int, dict[PledgeState, int]] = defaultdict(lambda: defaultdict(int))
        for institution_id, state, count in await session.execute(
            select(Pledge.institution_id, Pledge.state, func.count(Pledge.id)).where(Pledge.round_id == round_.id).group_by(Pledge.institution_id, Pledge.state)
        ):
            states[institution_id][state] = count
        if today < round_.report_back_on:
            for a in asked:
                counts = states[a.institution_id]
                drafts, confirmed = counts[PledgeState.DRAFT], counts[PledgeState.CONFIRMED]
                if drafts or (not confirmed and a.no_pledge_at is None):
                    out.append(Asked(round_.id, round_.year, a.institution_id, "pledge", opened, round_.ask_by, drafts=drafts))
            continue
        awaited: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
        for view in await pledge_views(session, round_.id, states=[PledgeState.CONFIRMED]):
            if view.outcome is None:
                awaited[view.pledge.institution_id].append((view.pledge.id, view.pledge.code, view.pledge.text))
        for institution_id, pledges in sorted(awaited.items()):
            out.append(Asked(round_.id, round_.year, institution_id, "report", round_.report_back_on, round_.report_back_on, awaited=tuple(pledges)))
    return out

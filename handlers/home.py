"""What a person's Home shows (Slack's Home tab), platform-neutral.

A focal point: their institution's open items (what /mine lists, those still
waiting for the institution's answer), the deadlines coming, and the
information requests not yet answered, with the buttons the DM gives (the
same payloads, so a press from the Home goes the engine's usual way). A
secretariat user: the requests outstanding, what is overdue by institution
(handlers.summaries, the reminders' own notion) and buttons for the reports
and summaries (the verbs of ``ROUTES`` below).

The description here holds every line; the platform's renderer fits what its
surface takes and ends a section with its ``more_key`` ("and N more: type
mine") for the rest. Nothing here knows Block Kit.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.chat_port import Button, ChatAddress, command_words
from handlers.deadline_names import deadline_name
from handlers.group_labels import group_ids, group_title, mechanisms, own_summary, update_button
from handlers.reminders.plan import Policy
from handlers.reminders.snapshot import OVERDUE_HORIZON
from handlers.secretariat_routes import Action, Routes
from handlers.summaries import summarise
from handlers.turn import SecretariatTurn
from messages import local_date, shorten, t
from storage.conversations import focal_point_for, secretariat_user_for
from storage.deadlines import deadline_names
from storage.linked_items import by_priority, institution_items, own_statuses
from storage.enums import SecretariatRole
from storage.models import (
    Assignment, Deadline, FocalPoint, InformationRequest, RequestAnswer, RequestRecipient, SecretariatUser, StatusUpdate, deadline_recommendations,
)
from storage.recommendations import RecommendationFilter, list_statement
from storage.requests import recent_requests

# Read at most this many of each list: a Home is a glance, the rest is counted.
MAX_READ = 200
# Deadlines shown: the soonest.
DEADLINES_SHOWN = 10
# A recommendation's text on its Home line.
ITEM_TEXT = 240
# The reports a Home offers (what /report makes with no further words).
REPORT_KINDS = ("matrix", "progress", "export")
SUMMARY_KINDS = ("progress", "overdue", "missing")
HOME_REPORT, HOME_SUMMARY = "hrep", "hsum"


@dataclass(frozen=True)
class HomeLine:
    text: str
    buttons: tuple[Button, ...] = ()


@dataclass(frozen=True)
class HomeSection:
    title: str
    lines: tuple[HomeLine, ...] = ()
    # Said when the section is empty.
    empty: str = ""
    # A plural catalog key with {count} (and the command words): said for
    # the lines that do not fit the platform's surface.
    more_key: str = "home.more_mine"
    # Buttons under the section (the reports), not tied to one line.
    buttons: tuple[Button, ...] = ()
    # Lines beyond those read here, counted by the query.
    unread: int = 0


@dataclass(frozen=True)
class HomeView:
    language: str
    title: str
    sections: tuple[HomeSection, ...]
    # As of when: the reader's local time, said at the foot.
    as_of: str = ""


async def home_for(session: AsyncSession, address: ChatAddress, now: datetime, policy: Policy) -> HomeView:
    """The Home of whoever has this chat account; a stranger's tells them how to join."""
    person = await focal_point_for(session, address.platform, address.workspace_id, address.user_id, now.date())
    if person is not None:
        return await focal_point_home(session, person, address, now, policy)
    user = await secretariat_user_for(session, address.platform, address.workspace_id, address.user_id)
    if user is not None:
        return await secretariat_home(session, user, now, policy)
    return HomeView("en", t("home.title_stranger", "en"), (HomeSection(t("home.stranger_heading", "en"), empty=t("home.stranger", "en")),))


def _as_of(now: datetime, zone: str, language: str) -> str:
    local = now.astimezone(ZoneInfo(zone))
    return t("home.as_of", language, date=local_date(local.date(), language), time=local.strftime("%H:%M"))


async def focal_point_home(session: AsyncSession, person: FocalPoint, address: ChatAddress, now: datetime, policy: Policy) -> HomeView:
    lang = person.language
    words = command_words(address.platform)
    institution = person.institution
    items, unread_items = await _open_items(session, person, now, policy)
    deadlines = await _deadlines(session, person, now.date(), lang)
    requests = await _pending_requests(session, person, lang)
    return HomeView(
        lang,
        t("home.title_focal_point", lang, name=person.name, institution=institution.name),
        (
            HomeSection(t("home.items", lang), tuple(items), t("home.items_none", lang), "home.more_mine", unread=unread_items),
            HomeSection(t("home.deadlines", lang), tuple(deadlines), t("home.deadlines_none", lang), "home.more_mine"),
            HomeSection(t("home.requests", lang), tuple(requests), t("home.requests_none", lang), "home.more_mine"),
        ),
        _as_of(now, person.timezone, lang) + " " + t("home.help_focal_point", lang, **words),
    )


@functools.lru_cache(maxsize=256)
def _listed_for(institution: str, answering: int) -> Select[Any]:
    """/mine's statement for an institution, built once: a Home is rebuilt
    after every turn that answered, and building this statement (its
    subqueries and joins) took two fifths of a Home's processor time. A
    statement holds no data, only its parameters: the rows read are current."""
    return list_statement(RecommendationFilter(institution=institution, answering=answering))


async def _open_items(session: AsyncSession, person: FocalPoint, now: datetime, policy: Policy) -> tuple[list[HomeLine], int]:
    """The institution's recommendations waiting for its answer: never
    answered, or under a deadline whose reminders began after its last
    answer (the reminders' rule, handlers.reminders.snapshot). Each with the
    Open and Update buttons of /mine; a linked group once, whole, with its
    own (its form titled with the group), in /mine's order (by priority)."""
    lang = person.language
    institution_id = person.institution_id
    rows = (await session.execute(_listed_for(person.institution.code, institution_id))).mappings().all()
    # A subquery, not the ids: an institution may answer for thousands.
    assigned = select(Assignment.recommendation_id).where(Assignment.institution_id == institution_id)
    latest: dict[int, datetime] = {}
    for rec, at in await session.execute(
        select(StatusUpdate.recommendation_id, func.max(StatusUpdate.created_at))
        .where(StatusUpdate.institution_id == institution_id, StatusUpdate.recommendation_id.in_(assigned))
        .group_by(StatusUpdate.recommendation_id)
    ):
        latest[rec] = _utc(at)
    # When the reminders of each one's latest deadline began, for those whose have.
    starts: dict[int, datetime] = {}
    # As the reminder plan reads them: a withdrawn deadline, a submitted
    # report and its inputs ask nothing (handlers.reminders.snapshot).
    parents = select(Deadline.parent_id).where(Deadline.parent_id.is_not(None), Deadline.withdrawn_at.is_(None))
    submitted = select(Deadline.id).where(Deadline.submitted_on.is_not(None))
    for deadline, rec in await session.execute(
        select(Deadline, deadline_recommendations.c.recommendation_id)
        .join(deadline_recommendations, deadline_recommendations.c.deadline_id == Deadline.id)
        .where(
            deadline_recommendations.c.recommendation_id.in_(assigned), Deadline.due_on >= now.date() - OVERDUE_HORIZON,
            Deadline.id.not_in(parents), Deadline.withdrawn_at.is_(None), Deadline.submitted_on.is_(None),
            or_(Deadline.parent_id.is_(None), Deadline.parent_id.not_in(submitted)),
        )
    ):
        since = datetime.combine(deadline.due_on - timedelta(days=max(policy.steps(deadline.kind), default=0)), datetime.min.time(), tzinfo=timezone.utc)
        # A deadline whose reminders have not begun asks nothing yet.
        if since <= now:
            starts[rec] = max(starts.get(rec, since), since)
    by_id = {int(row["id"]): row for row in rows}
    waiting = [
        rec for rec in by_id
        if (answered := latest.get(rec)) is None or (rec in starts and answered < starts[rec])
    ]
    # A linked group is one item, whole, as in /mine: one answer is for all of it.
    items = by_priority(await institution_items(session, institution_id, matching=waiting)) if waiting else []
    shown = items[:MAX_READ]
    own = await own_statuses(session, [r for i in shown if i.group_id is not None for r in i.ids], institution_id)
    lines: list[HomeLine] = []
    for item in shown:
        if item.group_id is not None:
            lines.append(HomeLine(
                t("home.group_item", lang, title=group_title(item), count=len(item.members), mechanisms=mechanisms(item),
                  ids=group_ids(item), status=own_summary(item, own, lang)),
                (Button(t("button.open", lang), f"grp:{item.group_id}"), update_button(item, t("button.update", lang), lang)),
            ))
            continue
        rec = item.first
        row = by_id[rec]
        said = t(f"status.{row['own_status']}", lang) if row["own_status"] else t("recommendation.own_none", lang)
        lines.append(HomeLine(
            t("home.item", lang, id=rec, mechanism=row["mechanism"], paragraph=f" {row['paragraph']}" if row["paragraph"] else "",
              status=said, text=shorten(str(row["text"]), ITEM_TEXT)),
            (Button(t("button.open", lang), f"rec:{rec}"), Button(t("button.update", lang), f"upd:{rec}", form="update")),
        ))
    return lines, len(items) - len(lines)


def _utc(moment: datetime) -> datetime:
    # SQLite gives naive datetimes back; they are stored in UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


async def _deadlines(session: AsyncSession, person: FocalPoint, today: date, lang: str) -> list[HomeLine]:
    assigned = select(Assignment.recommendation_id).where(Assignment.institution_id == person.institution_id)
    mine = select(deadline_recommendations.c.deadline_id).where(deadline_recommendations.c.recommendation_id.in_(assigned))
    deadlines = (await session.scalars(
        select(Deadline).where(Deadline.due_on >= today, Deadline.id.in_(mine), Deadline.withdrawn_at.is_(None), Deadline.submitted_on.is_(None)).order_by(Deadline.due_on, Deadline.id).limit(DEADLINES_SHOWN)
    )).all()
    names = await deadline_names(session, [d.id for d in deadlines])
    return [
        HomeLine(
            t("home.deadline", lang, name=deadline_name(names[d.id], lang), date=local_date(d.due_on, lang)),
            (Button(t("button.show_items", lang), f"f:d:{d.id}"),),
        )
        for d in deadlines
    ]


async def _pending_requests(session: AsyncSession, person: FocalPoint, lang: str) -> list[HomeLine]:
    """The requests put to the institution that it has not answered, with the request message's Answer button."""
    answered = select(RequestAnswer.request_id).where(RequestAnswer.institution_id == person.institution_id)
    requests = (await session.scalars(
        select(InformationRequest)
        .where(
            InformationRequest.id.in_(select(RequestRecipient.request_id).where(RequestRecipient.institution_id == person.institution_id)),
            InformationRequest.id.not_in(answered),
        )
        .order_by(InformationRequest.due_on, InformationRequest.id)
        .limit(MAX_READ)
    )).all()
    return [
        HomeLine(
            t("home.request", lang, id=r.id, date=local_date(r.due_on, lang), text=shorten(r.text, ITEM_TEXT)),
            (Button(t("button.answer", lang), f"req:{r.id}"),),
        )
        for r in requests
    ]


async def secretariat_home(session: AsyncSession, user: SecretariatUser, now: datetime, policy: Policy) -> HomeView:
    lang = user.language
    role = SecretariatRole(user.role)
    # Who answered (track:) is a coordinator's button, as in /requests.
    may_track = role.allows(SecretariatRole.COORDINATOR)
    outstanding = [r for r in await recent_requests(session, MAX_READ) if r.answered < r.asked]
    request_lines = tuple(
        HomeLine(
            t("home.request_outstanding", lang, id=r.id, date=local_date(r.due_on, lang), count=r.answered, asked=r.asked, text=shorten(r.text, 80)),
            (Button(t("button.who_answered", lang, id=r.id), f"track:{r.id}"),) if may_track else (),
        )
        for r in outstanding
    )
    lines = await summarise(session, "institution", policy, as_of=now)
    overdue = tuple(HomeLine(t("secretariat.overdue_line", lang, group=line.group, count=line.overdue)) for line in lines if line.overdue)
    reports = tuple(Button(t(f"home.report_{kind}", lang), f"{HOME_REPORT}:{kind}") for kind in REPORT_KINDS) + tuple(
        Button(t(f"home.summary_{kind}", lang), f"{HOME_SUMMARY}:{kind}") for kind in SUMMARY_KINDS
    )
    return HomeView(
        lang,
        t("home.title_secretariat", lang, name=user.name, role=t(f"role.{role.value}", lang)),
        (
            HomeSection(t("home.requests_outstanding", lang), request_lines, t("home.requests_outstanding_none", lang), "home.more_requests"),
            HomeSection(t("home.overdue", lang), overdue, t("home.overdue_none", lang), "home.more_overdue"),
            HomeSection(t("home.reports", lang), (), "", "home.more_mine", buttons=reports),
        ),
        _as_of(now, user.timezone, lang),
    )


# --- the Home's own buttons, routed as every secretariat capability is -------------


async def _report(turn: SecretariatTurn, argument: str) -> bool:
    if argument not in REPORT_KINDS:
        return False
    # Imported here: handlers.secretariat lists this module among its capabilities.
    from handlers.secretariat import _order_report as order_report

    await order_report(turn, [argument])
    return True


async def _summary(turn: SecretariatTurn, argument: str) -> bool:
    if argument not in SUMMARY_KINDS:
        return False
    from handlers.secretariat import _summary as summary

    turn.reset()
    await summary(turn, f"/{argument}", "")
    return True


ROUTES = Routes(actions={HOME_REPORT: Action(SecretariatRole.VIEWER, _report), HOME_SUMMARY: Action(SecretariatRole.VIEWER, _summary)})

"""Told at once, and handed over: a focal point hears of the recommendations
assigned to their institution in one message a working day, and a successor
is welcomed with what their predecessor left open.

The rule for notices: what is assigned to an institution is collected per
focal point and working day, and told in the last hour of that day's working
window (at ``cut``, one hour before their hours end), in their own time zone.
An assignment made after the cut, at night or on a day off belongs to the next
working day's notice. So an import of 300 rows, or five ``assign`` commands
over a morning, make one message, sent the same afternoon; a whole day is
never more than one message, whoever assigned what and from which time zone.
A quiet period would have been sooner for a single command, but it splits a
morning of commands into as many notices as there were pauses between them;
waiting for the next morning would have been simpler, but a day late.

Each assignment told is recorded per person (storage.assignment_notices), so
nothing is told twice when a person snoozes or changes their hours (which
move their windows), and one committed late, after its day's notice went,
is told the next working day rather than lost. What was assigned before the
bot could first write to a person is not news to them: it is in their list
(and, for a successor, in their hand-over). Notices look back ``HORIZON``:
after a longer outage, the reminders take over.

Everything goes through the outbox, keyed by person and day
(``assigned:FP:DAY``) and, for a hand-over, by person (``handover:FP``):
planned once whichever process plans it, sent once, in the reader's window.
The planner runs with the reminders' tick (bot.app), on the injected clock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from handlers.chat_port import Button, OutgoingMessage, command_words
from handlers.deadline_names import deadline_name
from handlers.group_labels import group_title
from handlers.reminders.plan import Policy
from handlers.reminders.snapshot import CALENDAR_FACTS, CalendarFacts, Identity, address_of, reachable_identities
from handlers.reminders.working_time import Window, WorkingTime
from messages import local_date, shorten, t
from storage import outbox
from storage.calendars import Closures, load_closures
from storage.assignment_notices import (
    Assigned,
    ItemDeadline,
    OpenItem,
    item_deadlines,
    labels,
    open_items,
    notice_days,
    record_told,
    successors,
    untold_since,
)
from storage.audit import acts_as
from storage.database import writing
from storage.enums import OutboxKind, Platform
from storage.linked_items import group_names, groups_of, items_of
from storage.models import FocalPoint, OutboxMessage
from storage.network import active_on

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

# A day's notice goes out this long before the reader's working hours end.
LAST_HOUR = timedelta(hours=1)
# How far back an assignment not yet told is still news.
HORIZON = timedelta(days=14)
# A successor who started longer ago than this is no longer welcomed.
NEWCOMER_DAYS = 60
# Items listed, each with its open button; the rest are "and N more" and My list.
MAX_LISTED = 12
BUTTONS_A_ROW = 4
NARRATIVE_CHARS = 80
NOTICE = "notice.assigned"
HANDOVER = "handover.welcome"


def cut(window: Window) -> datetime:
    """When the day's notice goes out: the start of its last working hour."""
    return max(window.start, window.end - LAST_HOUR)


def notice_window(calendar: WorkingTime, assigned_at: datetime, taken: set[date]) -> Window:
    """The working day whose notice tells of an assignment made at
    ``assigned_at``: the first whose cut is after it and whose notice has not
    gone yet."""
    window = calendar.next_window(assigned_at)
    while cut(window) <= assigned_at or window.day in taken:
        window = calendar.next_window(window.end)
    return window


@dataclass(frozen=True)
class _Notice:
    person: FocalPoint
    identity: Identity
    window: Window
    items: list[Assigned]


class NoticeService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], policy: Policy, clock: Clock) -> None:
        self.sessions = sessions
        self.policy = policy
        self.clock = clock

    def calendar(self, person: CalendarFacts, closures: Closures) -> WorkingTime:
        return self.policy.working_time(
            person.timezone, person.snoozed_until, person.working_hours, person.country, person.subdivision, closures,
        )

    @acts_as("system:notices")
    async def tick(self) -> int:
        """Plan the notices whose time has come and the hand-overs owed; how many were added."""
        now = self.clock()
        return await self._plan_notices(now) + await self._plan_handovers(now)

    async def _plan_notices(self, now: datetime) -> int:
        since = now - HORIZON
        async with self.sessions() as session:
            identities, _ = await reachable_identities(session)
            if not identities:
                return 0
            # Everyone's calendar is read each minute, most of the time to find
            # no notice due yet: as rows, and the people themselves only for
            # the notices that are due.
            people = (await session.execute(
                # The person's id, then what their calendar is made of.
                select(FocalPoint.id, *CALENDAR_FACTS).where(active_on(now.date()), FocalPoint.id.in_(list(identities))).order_by(FocalPoint.id)
            )).all()
            if not people:
                return 0
            untold = await untold_since(session, [p.id for p in people], since)
            if not untold:
                return 0
            days = await notice_days(session, [p.id for p in people], since.date() - timedelta(days=1))
            closures = await load_closures(session)
            due: list[tuple[int, Window, list[Assigned]]] = []
            # One calendar for everyone who shares its place, hours and
            # snooze, so each working day's window is worked out once.
            calendars: dict[tuple[object, ...], WorkingTime] = {}
            for person in people:
                mine = untold.get(person.id, [])
                if not mine:
                    continue
                shared = tuple(person[1:])
                calendar = calendars.get(shared)
                if calendar is None:
                    calendar = calendars[shared] = self.calendar(person, closures)
                by_day: dict[date, tuple[Window, list[Assigned]]] = {}
                for a in mine:
                    window = notice_window(calendar, a.assigned_at, days.get(person.id, set()))
                    by_day.setdefault(window.day, (window, []))[1].append(a)
                due += [(person.id, window, items) for window, items in by_day.values() if cut(window) <= now]
            if not due:
                return 0
            told = {
                p.id: p for p in (await session.scalars(
                    select(FocalPoint).where(FocalPoint.id.in_(list({person for person, _, _ in due})))
                    .options(selectinload(FocalPoint.institution))
                )).all()
            }
            # One who left meanwhile is not told.
            notices = [_Notice(told[person], identities[person], window, items) for person, window, items in due if person in told]
            recs = {a.recommendation_id for n in notices for a in n.items}
            names, deadlines = await labels(session, recs), await item_deadlines(session, recs, now.date())
            # A linked group is told once (storage.linked_items).
            group_of = await groups_of(session, recs)
            titles = await group_names(session, group_of.values())
        added = 0
        async with writing(self.sessions) as session:
            for notice in notices:
                person, window = notice.person, notice.window
                address = address_of(notice.identity)
                assert address is not None
                message = notice_message(
                    notice.items, person.institution.name, person.language, address.platform, names, deadlines, group_of, titles,
                )
                outbox_id = await outbox.enqueue(session, outbox.NewMessage(
                    key=f"assigned:{person.id}:{window.day.isoformat()}", kind=OutboxKind.ASSIGNMENT_NOTICE,
                    platform=address.platform, workspace_id=address.workspace_id, platform_user_id=address.user_id,
                    chat_id=address.chat_id, timezone=person.timezone, message=message.to_dict(),
                    due_at=max(now, cut(window)), not_after=window.end, identity_id=notice.identity.id,
                    focal_point_id=person.id, working_hours=person.working_hours,
                ))
                if outbox_id is None:
                    continue  # another process planned this day's notice
                await record_told(session, person.id, [a.id for a in notice.items], window.day, outbox_id, now)
                added += 1
        if added:
            log.info("assignment notices: %s planned", added)
        return added

    async def _plan_handovers(self, now: datetime) -> int:
        async with self.sessions() as session:
            found = await successors(session, now.date(), NEWCOMER_DAYS)
            if not found:
                return 0
            identities, _ = await reachable_identities(session)
            owed = {f"handover:{p.id}": (p, before) for p, before in found if p.id in identities}
            if not owed:
                return 0
            planned = set((await session.scalars(select(OutboxMessage.key).where(OutboxMessage.key.in_(list(owed))))).all())
            closures = await load_closures(session)
            welcomes = []
            for key, (person, before) in owed.items():
                if key in planned:
                    continue
                items = await open_items(session, person.institution_id)
                # A linked group is one entry (storage.linked_items), named by its title.
                group_of = await groups_of(session, [i.recommendation_id for i in items])
                recs = [i.recommendation_id for entry in _entries(items, group_of)[:MAX_LISTED] for i in entry]
                titles = {
                    item.group_id: group_title(item)
                    for item in await items_of(session, [r for r in recs if r in group_of]) if item.group_id is not None
                }
                welcomes.append((
                    key, person, identities[person.id], person.institution.name, before, items, await labels(session, recs), group_of, titles,
                ))
        added = 0
        async with writing(self.sessions) as session:
            for key, person, identity, institution, before, items, names, group_of, titles in welcomes:
                address = address_of(identity)
                assert address is not None
                window = self.calendar(person, closures).next_window(now)
                message = handover_message(
                    person.name, institution, [p.name for p in before], items, names, person.language, address.platform, person.timezone,
                    group_of, titles,
                )
                outbox_id = await outbox.enqueue(session, outbox.NewMessage(
                    key=key, kind=OutboxKind.HANDOVER, platform=address.platform, workspace_id=address.workspace_id,
                    platform_user_id=address.user_id, chat_id=address.chat_id, timezone=person.timezone,
                    message=message.to_dict(), due_at=max(now, window.start), not_after=window.end,
                    identity_id=identity.id, focal_point_id=person.id, working_hours=person.working_hours,
                ))
                added += outbox_id is not None
        if added:
            log.info("hand-overs: %s planned", added)
        return added


def _buttons(recs: Sequence[int], hidden: int, language: str, group_of: Mapping[int, int] | None = None) -> tuple[tuple[Button, ...], ...]:
    group_of = group_of or {}
    opens = [
        Button(t("button.open_group", language, id=r), f"grp:{group_of[r]}") if r in group_of else Button(f"#{r}", f"rec:{r}")
        for r in recs
    ]
    rows = [tuple(opens[i:i + BUTTONS_A_ROW]) for i in range(0, len(opens), BUTTONS_A_ROW)]
    if hidden > 0:
        rows.append((Button(t("button.my_list", language), "mine:1"),))
    return tuple(rows)


def notice_message(
    items: Sequence[Assigned], institution: str, language: str, platform: Platform,
    names: dict[int, str], deadlines: dict[int, ItemDeadline],
    group_of: Mapping[int, int] | None = None, titles: Mapping[int, str] | None = None,
) -> OutgoingMessage:
    """One message for a day's assignments: each item, its role and
    deadline; the members of a linked group in one line, opened as the group."""
    words = command_words(platform)
    group_of = group_of or {}
    listed = sorted({a.recommendation_id: a for a in items}.values(), key=lambda a: a.recommendation_id)
    entries: list[list[Assigned]] = []
    by_group: dict[int, list[Assigned]] = {}
    for a in listed:
        group = group_of.get(a.recommendation_id)
        if group is None:
            entries.append([a])
        elif group in by_group:
            by_group[group].append(a)
        else:
            by_group[group] = [a]
            entries.append(by_group[group])
    shown, hidden = entries[:MAX_LISTED], len(entries) - MAX_LISTED
    lines = [t("notice.header", language, institution=institution), ""]
    for entry in shown:
        first = entry[0]
        role = ", ".join(dict.fromkeys(t(f"notice.role.{a.role.value}", language) for a in entry))
        due = [deadlines[a.recommendation_id] for a in entry if a.recommendation_id in deadlines]
        deadline = min(due, key=lambda d: d.due_on) if due else None
        if first.recommendation_id in group_of:
            values = {
                "title": (titles or {}).get(group_of[first.recommendation_id]) or names.get(first.recommendation_id, ""),
                "items": ", ".join(f"#{a.recommendation_id} {names.get(a.recommendation_id, '')}".rstrip() for a in entry), "role": role,
            }
            if deadline is None:
                lines.append(t("notice.group_item_no_deadline", language, **values))
            else:
                lines.append(t("notice.group_item", language, deadline=deadline_name(deadline.name, language), date=local_date(deadline.due_on, language), **values))
            continue
        label = f"#{first.recommendation_id} {names.get(first.recommendation_id, '')}".rstrip()
        if deadline is None:
            lines.append(t("notice.item_no_deadline", language, item=label, role=role))
        else:
            lines.append(t("notice.item", language, item=label, role=role, title=deadline_name(deadline.name, language), date=local_date(deadline.due_on, language)))
    if hidden > 0:
        lines.append(t("notice.more", language, count=hidden, button=t("button.my_list", language)))
    lines += ["", t("notice.footer", language, **words)]
    return OutgoingMessage(NOTICE, "\n".join(lines), _buttons([e[0].recommendation_id for e in shown], hidden, language, group_of), language=language)


def _entries(items: Sequence[OpenItem], group_of: Mapping[int, int]) -> list[list[OpenItem]]:
    """The open items in id order, a linked group's members together as one
    entry where its first member stands."""
    entries: list[list[OpenItem]] = []
    by_group: dict[int, list[OpenItem]] = {}
    for item in sorted(items, key=lambda i: i.recommendation_id):
        group = group_of.get(item.recommendation_id)
        if group is None:
            entries.append([item])
        elif group in by_group:
            by_group[group].append(item)
        else:
            by_group[group] = [item]
            entries.append(by_group[group])
    return entries


def handover_message(
    name: str, institution: str, predecessors: Sequence[str], items: Sequence[OpenItem], names: dict[int, str], language: str,
    platform: Platform, zone: str, group_of: Mapping[int, int] | None = None, titles: Mapping[int, str] | None = None,
) -> OutgoingMessage:
    """The welcome of a successor: whom they follow, and each open item with
    its last update; a linked group's members in one line, with the last
    update given on any of them, opened as the group."""
    words = command_words(platform)
    group_of = group_of or {}
    before = ", ".join(dict.fromkeys(predecessors))
    if not items:
        text = t("handover.nothing_open", language, name=name, names=before, institution=institution, **words)
        return OutgoingMessage(HANDOVER, text, language=language)
    entries = _entries(items, group_of)
    shown, hidden = entries[:MAX_LISTED], len(entries) - MAX_LISTED
    lines = [t("handover.header", language, name=name, names=before, institution=institution), ""]
    for entry in shown:
        first = entry[0].recommendation_id
        grouped = first in group_of
        said = [item.last for item in entry if item.last is not None]
        last = max(said, key=lambda u: u.at) if said else None
        if grouped:
            key = "handover.group_item"
            values: dict[str, str] = {
                "title": (titles or {}).get(group_of[first]) or names.get(first, ""),
                "items": ", ".join(f"#{i.recommendation_id} {names.get(i.recommendation_id, '')}".rstrip() for i in entry),
            }
        else:
            key = "handover.item"
            values = {"item": f"#{first} {names.get(first, '')}".rstrip()}
        if last is None:
            lines.append(t(f"{key}_never", language, **values))
            continue
        values |= {"status": t(f"status.{last.status.value}", language), "date": local_date(last.at.astimezone(ZoneInfo(zone)).date(), language), "author": last.author}
        if last.narrative and last.narrative.strip():
            lines.append(t(key, language, narrative=shorten(" ".join(last.narrative.split()), NARRATIVE_CHARS), **values))
        else:
            lines.append(t(f"{key}_no_narrative", language, **values))
    if hidden > 0:
        lines.append(t("notice.more", language, count=hidden, button=t("button.my_list", language)))
    lines += ["", t("handover.footer", language, **words)]
    return OutgoingMessage(HANDOVER, "\n".join(lines), _buttons([e[0].recommendation_id for e in shown], hidden, language, group_of), language=language)

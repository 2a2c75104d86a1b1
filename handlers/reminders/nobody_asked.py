"""The secretariat told when an action's target date, an indicator's value
or a pledge round's ask has nobody to go to (issue 16 review, F7).

A recommendation's deadline with nobody answering still reaches the
secretariat (its overdue digest); an action's, an indicator's or a pledge
round's steps went to nobody and nobody knew. Now, the day the first step
would have gone (in each secretariat user's own working window), every
secretariat user is told once what could not be asked and of whom, so they
can name a focal point or give the work to another institution.

"Once" is the outbox's unique key: one per secretariat user, thing and
occasion (an action and its target date, an indicator and its due date, a
round, its phase and the institution), so neither another tick, another
process nor a restart tells it again; a new target date or due date is a
new occasion. A notice withdrawn before it went (a closure day declared
that day: handlers.reminders.calendars withdraws escalations) was not told:
its row is deleted when the next working day plans it again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.chat_port import OutgoingMessage
from handlers.reminders.plan import Policy, Recipient
from handlers.reminders.snapshot import load_secretariat
from messages import local_date, shorten, t
from storage import outbox
from storage.calendars import Closures, load_closures
from storage.database import writing
from storage.enums import OutboxKind, OutboxStatus
from storage.models import OutboxMessage

KEY_PREFIX = "nobody"
TITLE_SHOWN = 90


@dataclass(frozen=True)
class Unasked:
    """Something due that no focal point can be asked about."""

    # "action", "indicator", "pledge" or "pledge_report": the message's key.
    what: str
    # Unique for the thing and its occasion, e.g. "action:12:2027-04-01".
    ref: str
    institution: str
    # The first day a step would have gone.
    starts: date
    # The day it is due.
    due: date
    code: str = ""
    title: str = ""
    year: int = 0


def nobody_reachable(people: Sequence[Recipient]) -> bool:
    """Nobody in office, or nobody in office with a chat account that reaches them."""
    return all(p.address is None for p in people)


def compose(item: Unasked, reader: Recipient) -> OutgoingMessage:
    lang = reader.language
    text = t(
        f"{item.what}.nobody_in_office", lang, institution=item.institution, code=item.code,
        title=shorten(item.title, TITLE_SHOWN), year=item.year, date=local_date(item.due, lang),
    )
    return OutgoingMessage(f"{item.what}.nobody_in_office", text, language=lang)


def plan(
    items: Sequence[Unasked], secretariat: Sequence[Recipient], policy: Policy, closures: Closures, now: datetime,
    include: Callable[[Recipient, date], bool],
) -> list[outbox.NewMessage]:
    """The notices due now: each item to each secretariat user whose local
    day has reached its first step and whose working window ``include`` lets through."""
    news = []
    for user in secretariat:
        if user.address is None:
            continue
        calendar = policy.calendar_of(user, closures)
        day = calendar.local_day(now)
        window = calendar.window(day)
        if window is None or not include(user, day):
            continue
        for item in items:
            if item.starts > day:
                continue
            news.append(outbox.NewMessage(
                key=f"{KEY_PREFIX}:{item.ref}:secretariat:{user.id}", kind=OutboxKind.ESCALATION, platform=user.address.platform,
                workspace_id=user.address.workspace_id, platform_user_id=user.address.user_id, chat_id=user.address.chat_id,
                timezone=user.timezone, message=compose(item, user).to_dict(), due_at=window.start, not_after=window.end,
                identity_id=user.identity_id, secretariat_user_id=user.id, working_hours=user.hours,
            ))
    return news


async def tell(sessions: async_sessionmaker[AsyncSession], policy: Policy, now: datetime, lead: timedelta, items: Sequence[Unasked]) -> int:
    """Enqueue the notices of ``items`` not told before; how many were added."""
    if not items:
        return 0
    async with sessions() as session:
        secretariat = await load_secretariat(session)
        closures = await load_closures(session)

    def include(user: Recipient, day: date) -> bool:
        window = policy.calendar_of(user, closures).window(day)
        return window is not None and window.start - lead <= now < window.end

    news = plan(items, secretariat, policy, closures, now, include)
    if not news:
        return 0
    async with writing(sessions) as session:
        return await enqueue(session, news)


async def enqueue(session: AsyncSession, news: Sequence[outbox.NewMessage]) -> int:
    # A withdrawn notice holds its key but told nobody: it makes way.
    keys = [n.key for n in news]
    for start in range(0, len(keys), 500):
        await session.execute(
            delete(OutboxMessage).where(OutboxMessage.key.in_(keys[start:start + 500]), OutboxMessage.status == OutboxStatus.CANCELLED)
        )
    return len(await outbox.enqueue_many(session, list(news)))

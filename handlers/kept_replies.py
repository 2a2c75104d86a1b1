"""Replies kept for later: what a turn answered, when the platform would not
take it even after the transport's retries (an outage longer than about 15
seconds). The turn has committed by then, so the answer must still reach the
person: it goes to the outbox, which sends it once when the platform takes
messages again. A recipient the platform refuses for good is not kept: the
outbox would only mark it unreachable."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.chat_port import ChatAddress, DeliveryFailed, DeliveryRefused, OutgoingMessage
from storage import outbox
from storage.database import writing
from storage.enums import OutboxKind

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Send = Callable[[ChatAddress, OutgoingMessage], Awaitable[object]]

# Apart in time, so the outbox (oldest due first) sends a turn's replies in order.
SPACING = timedelta(seconds=1)


def reply_key(address: ChatAddress, origin: str, number: int) -> str:
    """One key per reply: the same turn kept twice (a retry) is kept once."""
    return f"reply:{address.platform.value}:{address.workspace_id}:{address.user_id}:{origin}:{number}"


async def keep(
    sessions: async_sessionmaker[AsyncSession],
    now: datetime,
    address: ChatAddress,
    origin: str,
    replies: Sequence[OutgoingMessage],
    first: int,
) -> int:
    """Keep ``replies[first:]`` (``origin`` names what they answer: a
    delivery, a report, a timed-out dialogue) to be sent in order; how many
    were kept. A reply carrying a file is not kept (the outbox holds text
    and buttons only) and is said so in the log."""
    news: list[outbox.NewMessage] = []
    for number, reply in enumerate(replies[first:], start=first):
        if reply.document is not None:
            log.warning("reply %s (%s) to %s:%s carries a file and is not kept for later", number + 1, reply.key,
                        address.platform.value, address.user_id)
            continue
        news.append(outbox.NewMessage(
            key=reply_key(address, origin, number),
            kind=OutboxKind.CHAT_REPLY,
            platform=address.platform,
            workspace_id=address.workspace_id,
            platform_user_id=address.user_id,
            chat_id=address.chat_id,
            # Sent whenever the platform is back: they wrote, they wait for it.
            timezone="UTC",
            message=reply.to_dict(),
            due_at=now + SPACING * len(news),
        ))
    if news:
        async with writing(sessions) as session:
            await outbox.enqueue_many(session, news)
    return len(news)


async def send_or_keep(
    send: Send,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    address: ChatAddress,
    origin: str,
    replies: Sequence[OutgoingMessage],
) -> None:
    """Send the replies in order; from the first the platform would not take
    (DeliveryFailed), keep the rest for the outbox. One the platform refuses
    for what it is (DeliveryRefused) is logged as an error and not kept.
    RecipientUnreachable and anything else is the caller's to handle."""
    for number, reply in enumerate(replies):
        try:
            await send(address, reply)
        except DeliveryRefused as exc:
            # The message itself is refused: kept, it would be refused every
            # hour for ever. A bug to fix, said as one; the next replies still go.
            log.error("reply %s/%s (%s) to %s:%s refused by %s: %s", number + 1, len(replies), reply.key,
                      address.platform.value, address.user_id, address.platform.value, exc)
        except DeliveryFailed as exc:
            try:
                kept = await keep(sessions, clock(), address, origin, replies, number)
            except Exception as keep_exc:  # noqa: BLE001 - the database is out too: nothing more can be done
                log.error("reply %s/%s (%s) to %s:%s lost: the platform refused it (%s) and the database could not keep it (%s)",
                          number + 1, len(replies), reply.key, address.platform.value, address.user_id, exc, keep_exc.__class__.__name__)
                return
            log.warning("reply %s/%s (%s) to %s:%s not taken (%s): %s kept to send when %s takes messages again",
                        number + 1, len(replies), reply.key, address.platform.value, address.user_id, exc, kept, address.platform.value)
            return

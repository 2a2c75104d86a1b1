"""A returned input reaches its author: the recommendation, who returned it
and the comment, with a button that opens that recommendation's update.

Through the outbox, like every message the bot starts: planned once (keyed
by the validation), sent once, in the author's language and working window.
The author's next update of the recommendation answers the return
(storage.validations.answer_return).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from handlers.chat_port import Button, OutgoingMessage
from handlers.reminders.calendars import focal_point_calendar
from handlers.reminders.plan import Policy
from handlers.reminders.snapshot import address_of, reachable_identity_of
from messages import shorten, t
from storage import outbox
from storage.enums import OutboxKind
from storage.models import FocalPoint, Recommendation, StatusUpdate, Validation

NOTICE = "validate.returned_notice"
# The comment is quoted whole up to this; the validator typed at most 2,000.
COMMENT_CHARS = 1500


def notice_message(validation: Validation, update: StatusUpdate, rec: Recommendation, language: str) -> OutgoingMessage:
    text = t(
        NOTICE, language, id=rec.id, mechanism=rec.mechanism.code, paragraph=f" {rec.paragraph}" if rec.paragraph else "",
        validator=validation.validator_label, comment=shorten(validation.comment or "", COMMENT_CHARS),
        status=t(f"status.{update.status.value}", language),
    )
    # The same action as a list's item: on Slack it opens the update form.
    button = Button(t("button.answer_return", language, id=rec.id), f"upd:{rec.id}", form="update")
    return OutgoingMessage(NOTICE, text, ((button,),), language=language)


async def tell_author(session: AsyncSession, validation: Validation, policy: Policy, now: datetime) -> bool:
    """Queue the notice for the update's author; False when there is nobody
    the bot can write to (an update from the command line or an import, an
    author who never joined or whom the platform refuses)."""
    update = await session.get(StatusUpdate, validation.status_update_id)
    if update is None or update.author_focal_point_id is None:
        return False
    author = await session.get(FocalPoint, update.author_focal_point_id)
    identity = await reachable_identity_of(session, update.author_focal_point_id)
    address = address_of(identity)
    if author is None or identity is None or address is None:
        return False
    rec = await session.scalar(
        select(Recommendation).where(Recommendation.id == update.recommendation_id).options(selectinload(Recommendation.mechanism))
    )
    if rec is None:
        return False
    window = (await focal_point_calendar(session, policy, author)).next_window(now)
    await outbox.enqueue(session, outbox.NewMessage(
        key=f"returned:{validation.id}", kind=OutboxKind.VALIDATION_RETURNED, platform=address.platform,
        workspace_id=address.workspace_id, platform_user_id=address.user_id, chat_id=address.chat_id, timezone=author.timezone,
        message=notice_message(validation, update, rec, author.language).to_dict(),
        due_at=max(now, window.start), not_after=window.end, identity_id=identity.id, focal_point_id=author.id,
        working_hours=author.working_hours,
    ))
    return True

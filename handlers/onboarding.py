"""When a new invite moves a focal point's access to another chat account,
the account left behind is told, so a person who did not ask for it knows.

Through the outbox, like every message the bot starts: sent once whichever
process sends it, and in the person's working window, never at night.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.chat_port import Button, OutgoingMessage, command_words
from handlers.reminders.calendars import focal_point_calendar
from handlers.reminders.plan import Policy
from messages import LANGUAGE_NAMES, SUPPORTED_LANGUAGES, language_of_locale, t
from storage import outbox
from storage.conversations import FormerAccount
from storage.enums import OutboxKind, Platform
from storage.models import FocalPoint, SecretariatUser

MOVED = "onboarding.moved"


async def tell_former_accounts(
    session: AsyncSession, focal_point: FocalPoint, former: list[FormerAccount], policy: Policy, now: datetime,
) -> int:
    """Queue the notice for each account replaced; how many were queued.
    ``focal_point.institution`` must be loaded."""
    if not former:
        return 0
    language = focal_point.language
    text = t(MOVED, language, name=focal_point.name, institution=focal_point.institution.name)
    window = (await focal_point_calendar(session, policy, focal_point, snoozes=False)).next_window(now)
    queued = 0
    for account in former:
        added = await outbox.enqueue(session, outbox.NewMessage(
            key=f"moved:{focal_point.id}:{account.platform.value}:{account.workspace_id}/{account.user_id}:{now.isoformat()}",
            kind=OutboxKind.ACCESS_MOVED, platform=account.platform, workspace_id=account.workspace_id,
            platform_user_id=account.user_id, chat_id=account.chat_id, timezone=focal_point.timezone,
            message=OutgoingMessage(MOVED, text, language=language).to_dict(),
            due_at=max(now, window.start), not_after=window.end, working_hours=focal_point.working_hours,
            # Tied to neither the identity nor the focal point: the account
            # is no longer theirs, so the platform refusing it says nothing
            # about reaching them (no unreachable mark, no secretariat notice).
        ))
        queued += added is not None
    return queued


def language_buttons() -> tuple[tuple[Button, ...], ...]:
    """/language's buttons, focal points' and secretariat users' alike: each
    language by its own name, answered as ``lang:CODE``."""
    return tuple((Button(LANGUAGE_NAMES[lang], f"lang:{lang}"),) for lang in SUPPORTED_LANGUAGES)


def propose_language(person: FocalPoint | SecretariatUser, platform: Platform, locale: str | None) -> list[OutgoingMessage]:
    """When the person's app is set to a language the bot speaks and they
    were not invited in it: an offer to switch, written in that language and
    answered by a tap on either language's own name (``lang:``, as /language).
    A focal point's first message and a secretariat user's alike
    (handlers.secretariat_users.secretariat_joined)."""
    proposed = language_of_locale(locale)
    current = person.language
    if proposed is None or proposed == current:
        return []
    key = "language.propose"
    buttons = ((Button(LANGUAGE_NAMES[proposed], f"lang:{proposed}"),), (Button(LANGUAGE_NAMES[current], f"lang:{current}"),))
    text = t(key, proposed, name=LANGUAGE_NAMES[proposed], **command_words(platform))
    return [OutgoingMessage(key, text, buttons, language=proposed)]

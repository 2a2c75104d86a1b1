"""A focal point's proposed action, decided: the proposer is told (issue 16
review). Accepted, with the action's Update button, since their institution
now answers for it; rejected, with the secretariat's reason.

Through the outbox, like every message the bot starts: planned once (keyed
by the action), sent once, in the proposer's language and working window,
whether the decision came from chat or the command line. The kinds are the
outbox's existing ones for such notices (a new kind would need a migration
of the outbox's check): an assignment notice for an accepted action, which
is new work for their institution, a returned-input notice for a rejected
one, which comes back with a reason.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.action_updates import update_button
from handlers.chat_port import OutgoingMessage, command_words
from handlers.reminders.calendars import focal_point_calendar
from handlers.reminders.plan import Policy
from handlers.reminders.snapshot import address_of, reachable_identity_of
from messages import shorten, t
from storage import outbox
from storage.action_models import Action, ActionState
from storage.enums import OutboxKind, Platform
from storage.models import FocalPoint

ACCEPTED = "action.proposal_accepted_notice"
REJECTED = "action.proposal_rejected_notice"
TITLE_SHOWN = 120


def in_office(person: FocalPoint, day: date) -> bool:
    """As storage.network.active_on reads a term: their chat account may
    outlive it, and an Update button for an institution they left is not theirs."""
    return person.active_from <= day and (person.active_to is None or person.active_to >= day)


def notice_message(action: Action, language: str, platform: Platform) -> OutgoingMessage:
    words = command_words(platform)
    title = shorten(action.title, TITLE_SHOWN)
    if action.state is ActionState.ACCEPTED:
        text = t(ACCEPTED, language, code=action.code, title=title, **words)
        button = update_button(t("action.button_update", language, code=action.code), action.id, action.code, action.title, language)
        return OutgoingMessage(ACCEPTED, text, ((button,),), language=language)
    text = t(REJECTED, language, code=action.code, title=title, reason=action.decision_note or "—", **words)
    return OutgoingMessage(REJECTED, text, language=language)


async def tell_proposer(session: AsyncSession, action: Action, policy: Policy, now: datetime) -> bool:
    """Queue the decision's notice for the focal point who proposed the
    action; False when there is nobody to tell (the secretariat's own action,
    a proposer who left, or whom no platform reaches)."""
    if action.proposed_by is None or action.state is ActionState.PROPOSED:
        return False
    person = await session.get(FocalPoint, action.proposed_by)
    identity = await reachable_identity_of(session, action.proposed_by)
    address = address_of(identity)
    if person is None or identity is None or address is None or not in_office(person, now.date()):
        return False
    window = (await focal_point_calendar(session, policy, person)).next_window(now)
    kind = OutboxKind.ASSIGNMENT_NOTICE if action.state is ActionState.ACCEPTED else OutboxKind.VALIDATION_RETURNED
    await outbox.enqueue(session, outbox.NewMessage(
        key=f"action-decided:{action.id}", kind=kind, platform=address.platform, workspace_id=address.workspace_id,
        platform_user_id=address.user_id, chat_id=address.chat_id, timezone=person.timezone,
        message=notice_message(action, person.language, address.platform).to_dict(),
        due_at=max(now, window.start), not_after=window.end, identity_id=identity.id, focal_point_id=person.id,
        working_hours=person.working_hours,
    ))
    return True

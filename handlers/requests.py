"""Information requests in chat: sending them to each person in their
language, and the answer, typed or given as status updates."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.chat_port import MAX_ACTION_BYTES, Button, OutgoingMessage, command_words
from handlers.group_labels import update_button
from handlers.item_lists import NO_CHANGE_OF_MESSAGE, encode, fitting
from handlers.reminders.calendars import focal_point_calendar
from handlers.reminders.plan import Policy
from handlers.reminders.snapshot import address_of, reachable_identities
from handlers.turn import Turn
from messages import local_date, t
from storage import outbox
from storage.calendars import load_closures
from storage.enums import OutboxKind, Platform
from storage.linked_items import Item, items_of
from storage.models import Assignment, FocalPoint, InformationRequest, Institution, RequestRecipient, request_recommendations
from storage.requests import record_answer

# Buttons a request message carries for the recommendations it names.
MAX_LISTED = 20
# Items of a request's message with their own buttons, and the payload of its
# "no change on all of these": ncr:REQUEST:ids.
MAX_ITEM_ROWS = MAX_LISTED
NO_CHANGE_ALL_OF_REQUEST = "ncr:"


def item_rows(items: Sequence[Item], request_id: int, language: str) -> list[tuple[Button, ...]]:
    """Each item's update (a form on Slack) and its one-tap "no change", both
    answering the request: a linked group once, as the group, whose one
    answer is saved on each of its members."""
    rows: list[tuple[Button, ...]] = []
    for item in items:
        first = item.first
        if item.group_id is not None:
            rows.append((
                update_button(item, t("button.open_group", language, id=first), language, request=request_id),
                Button(t("button.no_change_group", language, id=first), f"gsame:{item.group_id}:{request_id}"),
            ))
        else:
            rows.append((Button(f"#{first}", f"upd:{first}:{request_id}", form="update"), Button(t("button.no_change_item", language, id=first), f"same:{first}:{request_id}")))
    return rows


def request_message(
    request: InformationRequest, institution: Institution, items: Sequence[Item], language: str, platform: Platform, outbox_key: str | None = None,
) -> OutgoingMessage:
    """``items``: the recommendations it names that the institution answers
    for, folded by linked group (storage.linked_items.items_of)."""
    words = command_words(platform)
    recs = sorted(r for item in items for r in item.ids)
    text = t("request.frame", language, institution=institution.name, text=request.text, date=local_date(request.due_on, language), **words)
    if recs:
        text += "\n\n" + t("request.frame_recommendations", language, ids=", ".join(f"#{r}" for r in recs[:MAX_LISTED]))
    rows: list[tuple[Button, ...]] = [(Button(t("button.answer", language), f"req:{request.id}"),)]
    shown = list(items)[:MAX_ITEM_ROWS]
    rows += item_rows(shown, request.id, language)
    listed = [r for item in shown for r in item.ids]
    prefix = f"{NO_CHANGE_ALL_OF_REQUEST}{request.id}:"
    if len(shown) > 1 and fitting(prefix, listed, MAX_ACTION_BYTES) == listed:
        rows.append((Button(t("button.no_change_all", language), prefix + encode(listed)),))
    elif len(shown) > 1 and outbox_key is not None:
        # The ids do not fit a payload: the button names this message, which lists them.
        rows.append((Button(t("button.no_change_all", language), NO_CHANGE_OF_MESSAGE + outbox_key),))
    return OutgoingMessage("request.frame", text, tuple(rows), language=language)


async def send(
    session: AsyncSession, request: InformationRequest, recipients: list[tuple[FocalPoint, Institution]], policy: Policy, now: datetime,
) -> tuple[int, list[str]]:
    """Queue the request for each recipient in their next working window;
    (queued, the names of those the bot cannot reach)."""
    identities, _ = await reachable_identities(session)
    named = list((await session.scalars(select(request_recommendations.c.recommendation_id).where(request_recommendations.c.request_id == request.id))).all())
    queued, unreachable = 0, []
    closures = await load_closures(session)
    for person, institution in recipients:
        identity = identities.get(person.id)
        address = address_of(identity)
        if identity is None or address is None:
            unreachable.append(person.name)
            continue
        assigned = await _assigned(session, institution.id, named)
        mine = [r for r in named if r in assigned]
        window = (await focal_point_calendar(session, policy, person, closures=closures)).next_window(now)
        key = f"request:{request.id}:{person.id}"
        outbox_id = await outbox.enqueue(session, outbox.NewMessage(
            key=key, kind=OutboxKind.INFORMATION_REQUEST, platform=address.platform,
            workspace_id=address.workspace_id, platform_user_id=address.user_id, chat_id=address.chat_id, timezone=person.timezone,
            message=request_message(request, institution, await items_of(session, mine), person.language, address.platform, key).to_dict(),
            due_at=max(now, window.start), not_after=window.end, identity_id=identity.id, focal_point_id=person.id,
            working_hours=person.working_hours,
        ))
        if outbox_id is not None:
            recipient = await session.scalar(select(RequestRecipient).where(RequestRecipient.request_id == request.id, RequestRecipient.focal_point_id == person.id))
            if recipient is not None:
                recipient.outbox_id = outbox_id
            queued += 1
    return queued, unreachable


async def _assigned(session: AsyncSession, institution_id: int, recs: list[int]) -> set[int]:
    if not recs:
        return set()
    return set((await session.scalars(
        select(Assignment.recommendation_id).where(Assignment.institution_id == institution_id, Assignment.recommendation_id.in_(recs))
    )).all())


async def open_request(turn: Turn, request_id: int) -> None:
    """The Answer button: the request's recommendations of one's institution,
    each to update; or, when it names none, a typed answer."""
    me = turn.focal_point
    asked = await turn.session.scalar(
        select(RequestRecipient.id).where(RequestRecipient.request_id == request_id, RequestRecipient.institution_id == me.institution_id)
    )
    request = await turn.session.get(InformationRequest, request_id)
    if asked is None or request is None:
        turn.say("request.not_for_you")
        return
    named = list((await turn.session.scalars(select(request_recommendations.c.recommendation_id).where(request_recommendations.c.request_id == request_id))).all())
    mine = sorted(await _assigned(turn.session, me.institution_id, named))
    if not mine:
        turn.begin("request.answer", request=request_id)
        turn.ask("request.ask_text", ((turn.bound("button.cancel", "cancel"),),), id=request_id)
        return
    turn.reset()
    # Each button names the request, so the update it opens answers this
    # request and no other (see status_update.start); a linked group once.
    rows = item_rows((await items_of(turn.session, mine))[:MAX_LISTED], request_id, turn.language)
    turn.say("request.pick", tuple(rows), id=request_id, institution=me.institution.name)


async def asks_about(turn: Turn, request_id: int, recommendation_id: int) -> bool:
    """Whether the request was sent to one's institution and names this recommendation."""
    asked = await turn.session.scalar(
        select(RequestRecipient.id).where(RequestRecipient.request_id == request_id, RequestRecipient.institution_id == turn.focal_point.institution_id)
    )
    named = await turn.session.scalar(
        select(request_recommendations.c.recommendation_id).where(
            request_recommendations.c.request_id == request_id, request_recommendations.c.recommendation_id == recommendation_id
        )
    )
    return asked is not None and named is not None


async def on_text(turn: Turn, text: str) -> bool:
    if turn.state.name != "request.answer":
        return False
    request_id = turn.state.data["request"]
    key = f"{turn.message.address.platform.value}:{turn.message.delivery_id}"
    await record_answer(turn.session, request_id, turn.focal_point, turn.now, text=text[:10_000], idempotency_key=key)
    turn.say("request.thanks", id=request_id)
    turn.reset()
    return True

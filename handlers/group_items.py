"""A linked group, as the focal point sees it: one item, opened once,
answered once (storage.linked_items).

Its buttons name the group, never one member, so an answer is for all of
its members the institution is assigned to:

    grp:G           open it: each member briefly, Update / No change
    gupd:G          its update (on Slack, the form)
    gsame:G         no change on it (one tap)
    gnew:G          the status of its members never answered, asked once
    ...:G:REQUEST   the same, answering an information request too

The dialogue's own buttons are bound to the group (handlers.buttons, kind g)
as a recommendation's are bound to it.
"""

from __future__ import annotations

from sqlalchemy import func, select

from handlers import requests, status_update
from handlers.browse import correctable_update
from handlers.group_labels import group_ids, group_title, update_button
from handlers.turn import Turn
from messages import local_date, shorten
from storage.linked_items import group_item, own_statuses
from storage.models import StatusUpdate

VERBS = frozenset({"grp", "gupd", "gsame", "gnew"})
# A member's text in the opened group: its first words; the group is for doing, not reading.
MEMBER_TEXT = 120


async def on_action(turn: Turn, verb: str, argument: str) -> bool:
    """A group's button; False when the payload is none of them."""
    parts = argument.split(":")
    if verb not in VERBS or not 1 <= len(parts) <= 2 or not all(p.isdigit() for p in parts):
        return False
    group, request = int(parts[0]), int(parts[1]) if len(parts) == 2 else None
    if request is not None and not await asks_about_group(turn, group, request):
        turn.say("request.not_for_you")
        return True
    if verb == "grp":
        await open_group(turn, group)
    elif verb == "gupd":
        await status_update.start_group(turn, group, request=request)
    elif verb == "gsame":
        turn.reset()
        await status_update.no_change_group(turn, group, request=request)
    else:
        turn.reset()
        await status_update.first_status_of_group(turn, group, request=request)
    return True


async def asks_about_group(turn: Turn, group_id: int, request_id: int) -> bool:
    """Whether the request was sent to one's institution and names one of the group's members it answers for."""
    item = await group_item(turn.session, group_id, turn.focal_point.institution_id)
    return item is not None and any([await requests.asks_about(turn, request_id, rec) for rec in item.ids])


async def open_group(turn: Turn, group_id: int) -> None:
    """Each member briefly (mechanism, symbol and paragraph, first words,
    the institution's own answer), and the buttons that answer them all."""
    item = await group_item(turn.session, group_id, turn.focal_point.institution_id)
    if item is None:
        turn.say("group.not_yours")
        return
    own = await own_statuses(turn.session, item.ids, turn.focal_point.institution_id)
    lines = []
    for member in item.members:
        source = " ".join(part for part in (member.symbol, member.paragraph) if part)
        lines.append(turn.text(
            "group.member", id=member.id, mechanism=member.mechanism, source=source or "—",
            text=shorten(" ".join(member.text.split()), MEMBER_TEXT),
            own=turn.text(f"status.{own[member.id].value}") if member.id in own else turn.text("recommendation.own_none"),
        ))
    last = await turn.session.scalar(select(func.max(StatusUpdate.created_at)).where(StatusUpdate.recommendation_id.in_(item.ids)))
    buttons = [
        update_button(item, turn.text("button.update"), turn.language),
        turn.button("button.no_change", f"gsame:{group_id}"),
    ]
    # The last answer given for the group by this person, still correctable.
    correctable = await correctable_update(turn, item.first)
    if correctable is not None and correctable.link_group_id == group_id:
        buttons.append(turn.button("button.correct_last", f"fix:{correctable.id}"))
    turn.say(
        "group.detail", (tuple(buttons),),
        title=group_title(item), count=len(item.members), ids=group_ids(item), members="\n".join(lines),
        last_update=local_date(turn.local_day(last), turn.language) if last else turn.text("recommendation.never_updated"),
    )

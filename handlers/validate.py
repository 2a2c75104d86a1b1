"""/validate: the institution's senior or validating focal point approves
its inputs, or returns one with a comment for the focal point to correct."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from handlers.turn import Turn
from messages import local_date
from storage.enums import ValidationDecision
from storage.models import Recommendation, StatusUpdate
from storage.validations import can_validate, is_pending, pending, validate

# Shown at a time; the next /validate shows the rest.
PAGE = 10


async def show_pending(turn: Turn) -> None:
    me = turn.focal_point
    if not can_validate(me):
        turn.say("validate.not_validator")
        return
    waiting = await pending(turn.session, me.institution_id, limit=PAGE)
    if not waiting:
        turn.say("validate.none")
        return
    turn.say("validate.header", institution=me.institution.name, count=len(waiting))
    recs = {
        r.id: r for r in await turn.session.scalars(
            select(Recommendation).where(Recommendation.id.in_([u.recommendation_id for u in waiting])).options(selectinload(Recommendation.mechanism))
        )
    }
    for update in waiting:
        rec = recs[update.recommendation_id]
        turn.say(
            "validate.item",
            ((turn.button("button.approve", f"val:ok:{update.id}"), turn.button("button.return", f"val:ret:{update.id}")),),
            id=rec.id, mechanism=rec.mechanism.code, paragraph=f" {rec.paragraph}" if rec.paragraph else "", status=turn.text(f"status.{update.status.value}"),
            narrative=update.narrative or turn.text("update.nothing"), author=update.author_label,
            date=local_date(turn.local_day(update.created_at), turn.language),
        )


async def on_action(turn: Turn, argument: str) -> None:
    verb, _, raw_id = argument.partition(":")
    if not raw_id.isdigit() or not can_validate(turn.focal_point):
        turn.say("validate.not_validator")
        return
    update = await turn.session.get(StatusUpdate, int(raw_id))
    if update is None or not await is_pending(turn.session, turn.focal_point.institution_id, update.id):
        turn.say("validate.stale")
        return
    if verb == "ok":
        await validate(turn.session, update.id, ValidationDecision.APPROVED, turn.focal_point, turn.now, idempotency_key=_key(turn))
        turn.say("validate.approved", id=update.recommendation_id)
    elif verb == "ret":
        turn.begin("validate.comment", update=update.id, rec=update.recommendation_id)
        turn.ask("validate.ask_comment", ((turn.bound("button.cancel", "cancel"),),), id=update.recommendation_id)


async def on_text(turn: Turn, text: str) -> bool:
    if turn.state.name != "validate.comment":
        return False
    data = turn.state.data
    await validate(turn.session, data["update"], ValidationDecision.RETURNED, turn.focal_point, turn.now, comment=text[:2000], idempotency_key=_key(turn))
    turn.say("validate.returned", id=data["rec"])
    turn.reset()
    return True


def _key(turn: Turn) -> str:
    return f"{turn.message.address.platform.value}:{turn.message.delivery_id}"

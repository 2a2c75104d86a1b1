"""/validate: the institution's senior or validating focal point approves
its inputs, or returns one with a comment for the focal point to correct.

A validator never sees their own input here (it goes to another validator,
or to the secretariat: storage.validations); a return is delivered to the
input's author through the outbox (handlers.validation_returns), and an
input that answers a return shows the comment it answers."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from handlers.reminders.plan import Policy
from handlers.turn import Turn
from handlers.validation_returns import tell_author
from messages import local_date
from storage.enums import ValidationDecision
from storage.models import Recommendation, StatusUpdate
from storage.validations import SelfValidation, can_validate, is_pending, pending, returns_answered, validate

# Shown at a time; the next /validate shows the rest.
PAGE = 10


async def show_pending(turn: Turn) -> None:
    me = turn.focal_point
    if not can_validate(me):
        turn.say("validate.not_validator")
        return
    waiting = await pending(turn.session, me.institution_id, limit=PAGE, validator=me)
    if not waiting:
        turn.say("validate.none")
        return
    turn.say("validate.header", institution=me.institution.name, count=len(waiting))
    recs = {
        r.id: r for r in await turn.session.scalars(
            select(Recommendation).where(Recommendation.id.in_([u.recommendation_id for u in waiting])).options(selectinload(Recommendation.mechanism))
        )
    }
    answering = await returns_answered(turn.session, [u.id for u in waiting])
    for update in waiting:
        rec = recs[update.recommendation_id]
        returned = answering.get(update.id)
        turn.say(
            "validate.item_answering" if returned else "validate.item",
            ((turn.button("button.approve", f"val:ok:{update.id}"), turn.button("button.return", f"val:ret:{update.id}")),),
            id=rec.id, mechanism=rec.mechanism.code, paragraph=f" {rec.paragraph}" if rec.paragraph else "", status=turn.text(f"status.{update.status.value}"),
            narrative=update.narrative or turn.text("update.nothing"), author=update.author_label,
            date=local_date(turn.local_day(update.created_at), turn.language),
            validator=returned.validator_label if returned else "", comment=(returned.comment or "") if returned else "",
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
    if update.author_focal_point_id == turn.focal_point.id:
        # A button from before the rule, or typed by hand: refused before anything is asked.
        turn.say("validate.own", id=update.recommendation_id)
        return
    if verb == "ok":
        await validate(turn.session, update.id, ValidationDecision.APPROVED, turn.focal_point, turn.now, idempotency_key=_key(turn))
        turn.say("validate.approved", id=update.recommendation_id)
    elif verb == "ret":
        turn.begin("validate.comment", update=update.id, rec=update.recommendation_id)
        turn.ask("validate.ask_comment", ((turn.bound("button.cancel", "cancel"),),), id=update.recommendation_id)


async def on_text(turn: Turn, text: str, policy: Policy | None = None) -> bool:
    if turn.state.name != "validate.comment":
        return False
    data = turn.state.data
    try:
        validation = await validate(
            turn.session, data["update"], ValidationDecision.RETURNED, turn.focal_point, turn.now, comment=text[:2000], idempotency_key=_key(turn),
        )
    except SelfValidation:
        turn.say("validate.own", id=data["rec"])
        turn.reset()
        return True
    told = await tell_author(turn.session, validation, policy or Policy(), turn.now)
    turn.say("validate.returned" if told else "validate.returned_unreachable", id=data["rec"])
    turn.reset()
    return True


def _key(turn: Turn) -> str:
    return f"{turn.message.address.platform.value}:{turn.message.delivery_id}"

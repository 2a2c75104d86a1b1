"""/validations: the secretariat validates the inputs nobody in their
institution may: a validator's own input when the institution has no other
validator in office, or any input of an institution without one
(storage.validations). A coordinator approves one, or returns it with a
comment that reaches its author as a focal point's return does
(handlers.validation_returns)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from handlers import buttons
from handlers.secretariat_routes import Action, Command, Dialogue, Routes
from handlers.turn import SecretariatTurn
from handlers.validation_returns import tell_author
from messages import local_date
from storage.enums import SecretariatRole, ValidationDecision
from storage.errors import RegistryError
from storage.models import Institution, Recommendation, StatusUpdate
from storage.validations import awaits_secretariat, pending_for_secretariat, returns_answered, validate

COMMENT = "validations.comment"
buttons.register_dialogue("validations", "r", {COMMENT: "m"}, item_key="rec")
COORDINATOR = SecretariatRole.COORDINATOR
VERB = "svl"
# Shown at a time; the next /validations shows the rest.
PAGE = 10


async def command(turn: SecretariatTurn, args: str) -> None:
    # The day in UTC, as validate() reads it, so the list and the press agree on who is in office.
    waiting = await pending_for_secretariat(turn.session, turn.now.date(), limit=PAGE)
    if not waiting:
        turn.say("validations.none")
        return
    turn.say("validations.header", count=len(waiting))
    recs = {
        r.id: r for r in await turn.session.scalars(
            select(Recommendation).where(Recommendation.id.in_([u.recommendation_id for u in waiting])).options(selectinload(Recommendation.mechanism))
        )
    }
    names: dict[int | None, str] = {
        i: n for i, n in await turn.session.execute(
            select(Institution.id, Institution.name).where(Institution.id.in_([u.institution_id for u in waiting]))
        )
    }
    answering = await returns_answered(turn.session, [u.id for u in waiting])
    for update in waiting:
        rec = recs[update.recommendation_id]
        returned = answering.get(update.id)
        item = turn.text(
            "validations.item", id=rec.id, mechanism=rec.mechanism.code, paragraph=f" {rec.paragraph}" if rec.paragraph else "",
            institution=names.get(update.institution_id, "?"), status=turn.text(f"status.{update.status.value}"),
            narrative=update.narrative or turn.text("update.nothing"), author=update.author_label,
            date=local_date(turn.local_day(update.created_at), turn.language),
        )
        lines = [item]
        if returned is not None:
            lines.append(turn.text("validations.answering", validator=returned.validator_label, comment=returned.comment or ""))
        turn.say_lines("validations.item", lines, (
            (turn.button("button.approve", f"{VERB}:ok:{update.id}"), turn.button("button.return", f"{VERB}:ret:{update.id}")),
        ))


async def on_action(turn: SecretariatTurn, argument: str) -> bool:
    verb, _, raw_id = argument.partition(":")
    if verb not in ("ok", "ret") or not raw_id.isdigit():
        return False
    update = await turn.session.get(StatusUpdate, int(raw_id))
    if update is None or not await awaits_secretariat(turn.session, update.id, turn.now.date()):
        turn.say("validations.stale")
        return True
    if verb == "ok":
        await validate(turn.session, update.id, ValidationDecision.APPROVED, turn.user, turn.now, idempotency_key=_key(turn))
        turn.say("validate.approved", id=update.recommendation_id)
        return True
    turn.begin(COMMENT, update=update.id, rec=update.recommendation_id)
    turn.ask("validate.ask_comment", ((turn.bound("button.cancel", "cancel"),),), id=update.recommendation_id)
    return True


async def on_text(turn: SecretariatTurn, text: str) -> bool:
    if turn.state.name != COMMENT:
        return False
    data = dict(turn.state.data)
    turn.reset()
    try:
        validation = await validate(
            turn.session, data["update"], ValidationDecision.RETURNED, turn.user, turn.now, comment=text[:2000], idempotency_key=_key(turn),
        )
    except RegistryError:
        # Judged or replaced while the comment was typed.
        turn.say("validations.stale")
        return True
    told = await tell_author(turn.session, validation, turn.policy, turn.now)
    turn.say("validate.returned" if told else "validate.returned_unreachable", id=data["rec"])
    return True


def _key(turn: SecretariatTurn) -> str:
    return f"{turn.message.address.platform.value}:{turn.message.delivery_id}"


ROUTES = Routes(
    commands={"/validations": Command(COORDINATOR, command, "secretariat.help_validations")},
    actions={VERB: Action(COORDINATOR, on_action)},
    dialogues={"validations.": Dialogue(COORDINATOR, on_text)},
)

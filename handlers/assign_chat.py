"""/assign in chat: a coordinator gives recommendations to an institution, or
takes them back, with the same storage functions as `nmrf-bot assign`
(storage.assignments.assign / unassign), so the audit log and the assignment
notices follow as they do from the command line.

    /assign 12,15-20 MOJ [lead|contributing]     (lead when not said)
    /assign remove 12,15 MOJ

Nothing changes before Confirm. The summary before it is the change itself,
worked out in a savepoint that is rolled back: which ids, which institution,
how many are new, change role or are already so (or, to remove, how many are
removed and how many were not assigned to it). An unknown id or institution
code is named and nothing is proposed."""

from __future__ import annotations

from handlers import buttons, confirm_step, refusals
from handlers.secretariat_routes import Action, Command, Dialogue, Routes
from handlers.turn import SecretariatTurn
from messages import shorten
from sqlalchemy import select

from storage.assignments import AssignResult, UnassignResult, assign, unassign
from storage.enums import AssignmentRole, Platform, SecretariatRole
from storage.errors import Conflict, InvalidValue, NotFound, RegistryError
from storage.network import get_institution
from storage.models import Recommendation
from storage.selection import Selector, parse_ids

CONFIRM = "assign.confirm"
# A result of /find was picked: which institution gets it is asked.
PICK = "assign.pick"
PICK_VERB = "fa"
buttons.register_dialogue("assign", "a", {CONFIRM: "k", PICK: "p"})
COORDINATOR = SecretariatRole.COORDINATOR
VERB = "assign"
_SHOWN = 12


def _word(turn: SecretariatTurn) -> str:
    return ("/" if turn.message.address.platform is Platform.TELEGRAM else "") + "assign"


def _ids_text(ids: list[int]) -> str:
    shown = ", ".join(f"#{i}" for i in ids[:_SHOWN])
    return shown + (f" (+{len(ids) - _SHOWN})" if len(ids) > _SHOWN else "")


async def _change(turn: SecretariatTurn, op: str, ids: list[int], code: str, role: AssignmentRole) -> AssignResult | UnassignResult:
    if op == "remove":
        return await unassign(turn.session, code, Selector(ids=tuple(ids)))
    return await assign(turn.session, code, Selector(ids=tuple(ids)), role)


async def command(turn: SecretariatTurn, args: str) -> None:
    words = args.split()
    op = "add"
    if words and words[0].lower() == "remove":
        op, words = "remove", words[1:]
    role = AssignmentRole.LEAD
    if op == "add" and len(words) == 3 and words[2].lower() in {r.value for r in AssignmentRole}:
        role, words = AssignmentRole(words[2].lower()), words[:2]
    if len(words) != 2:
        turn.say("assign.usage", assign=_word(turn))
        return
    try:
        ids = list(parse_ids(words[0]))
    except (InvalidValue, ValueError):
        ids = []
    if not ids:
        turn.say("assign.usage", assign=_word(turn))
        return
    try:
        institution = await get_institution(turn.session, words[1])
    except (NotFound, InvalidValue):
        turn.say("assign.unknown_institution", code=shorten(words[1], 20))
        return
    known = set((await turn.session.scalars(select(Recommendation.id).where(Recommendation.id.in_(ids)))).all())
    if missing := [i for i in ids if i not in known]:
        turn.say("assign.unknown_ids", ids=_ids_text(missing))
        return
    # The summary is the change itself, rolled back.
    savepoint = await turn.session.begin_nested()
    try:
        result = await _change(turn, op, ids, institution.code, role)
    except Conflict as exc:
        await savepoint.rollback()
        turn.say("assign.lead_conflict", reason=refusals.reason(turn, exc), assign=_word(turn))
        return
    await savepoint.rollback()
    turn.begin(CONFIRM, op=op, ids=ids, code=institution.code, role=role.value)
    name = f"{institution.code} ({institution.name})"
    if isinstance(result, UnassignResult):
        summary = turn.text("assign.confirm_remove", ids=_ids_text(ids), institution=name, removed=result.removed, absent=result.not_assigned)
    else:
        summary = turn.text(
            "assign.confirm_add", ids=_ids_text(ids), institution=name, role=turn.text(f"notice.role.{role.value}"),
            new=result.created, changed=result.role_changed, same=result.unchanged,
        )
    confirm_step.ask(turn, "assign.confirm", f"{VERB}:apply", summary)


async def on_action(turn: SecretariatTurn, argument: str) -> bool:
    if (data := confirm_step.confirmed(turn, argument, CONFIRM)) is None:
        return False
    ids = [int(i) for i in data["ids"]]  # type: ignore[union-attr]
    try:
        result = await _change(turn, str(data["op"]), ids, str(data["code"]), AssignmentRole(str(data["role"])))
    except RegistryError as exc:
        turn.say("assign.failed", reason=refusals.reason(turn, exc))
        return True
    if isinstance(result, UnassignResult):
        turn.say("assign.removed", removed=result.removed, code=data["code"])
    else:
        turn.say("assign.assigned", new=result.created, changed=result.role_changed, code=data["code"])
    return True


async def on_pick(turn: SecretariatTurn, argument: str) -> bool:
    """``fa:12`` or ``fa:12,15,19`` from /find's results: ask for the institution."""
    try:
        ids = list(parse_ids(argument))
    except (InvalidValue, ValueError):
        return False
    if not ids or len(argument) > 200:
        return False
    turn.begin(PICK, ids=ids)
    turn.ask("assign.ask_institution", ((turn.bound("button.cancel", "cancel"),),), ids=_ids_text(ids))
    return True


async def _picked(turn: SecretariatTurn, text: str) -> bool:
    """``MOJ``, ``MOJ contributing`` or ``remove MOJ``: the same summary and
    Confirm as /assign gives."""
    ids = ",".join(str(i) for i in turn.state.data["ids"])  # type: ignore[union-attr]
    words = text.split()
    if words and words[0].lower() == "remove":
        await command(turn, " ".join(["remove", ids, *words[1:]]))
    else:
        await command(turn, " ".join([ids, *words]))
    return True


ROUTES = Routes(
    commands={"/assign": Command(COORDINATOR, command, "secretariat.help_assign")},
    actions={VERB: Action(COORDINATOR, on_action), PICK_VERB: Action(COORDINATOR, on_pick)},
    dialogues={"assign.pick": Dialogue(COORDINATOR, _picked), "assign.": Dialogue(COORDINATOR, confirm_step.press_reminder("assign.press"))},
)

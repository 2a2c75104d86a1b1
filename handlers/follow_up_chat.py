"""/followup in chat: the paragraphs of a treaty body's concluding
observations it selected for its follow-up procedure (storage.follow_up,
the same functions as `nmrf-bot followup`).

    /followup CEDAW/C/URY/CO/10               the selection (viewers too)
    /followup CEDAW/C/URY/CO/10 12 14(a) 27   select them (coordinators), after Confirm
    /followup CEDAW/C/URY/CO/10 12-14 y 20    ranges and "and", "et", "y" too
    /followup remove CEDAW/C/URY/CO/10 27     take one out (coordinators), after Confirm

The summary says truthfully what the committee's follow-up information
deadline will cover (storage.follow_up.follow_up_deadlines, the lookup of
`nmrf-bot followup apply-deadline`): exactly the selection, other
recommendations (warned, with "Confirm and re-point", which also does what
apply-deadline does), or no deadline yet. Nothing changes before Confirm. An unknown document, a document that is not
a treaty body's (a UPR report), a paragraph the document does not have,
words that are no paragraph or a range that cannot be read are each answered in the reader's language and
nothing is proposed."""

from __future__ import annotations

from handlers import buttons, confirm_step, refusals, roles
from handlers.deadline_replan import cancel_pending_reminders
from handlers.secretariat_routes import Action, Command, Dialogue, Routes
from handlers.turn import SecretariatTurn
from messages import shorten
from storage.enums import FollowUpSource, SecretariatRole
from storage.errors import InvalidValue, NotFound, RegistryError
from storage.paragraph_order import paragraph_key
from storage.follow_up import (
    Paragraph,
    covered_recommendations,
    deadline_to_repoint,
    document_paragraphs,
    follow_up_deadlines,
    get_document,
    held_paragraphs,
    list_selection,
    match_paragraphs,
    MAX_RANGE,
    UnreadableParagraphs,
    parse_paragraphs,
    repoint_deadline,
    select_paragraphs,
    unselect_paragraphs,
)
from storage.models import Document, Mechanism

CONFIRM = "followup.confirm"
buttons.register_dialogue("followup", "o", {CONFIRM: "k"})
VIEWER, COORDINATOR = SecretariatRole.VIEWER, SecretariatRole.COORDINATOR
VERB = "followup"


def _paragraphs(items: list[Paragraph]) -> str:
    """'12, 14(a), 27' (a recommendation with no paragraph number by its #id)."""
    named = sorted({p.paragraph for p in items if p.paragraph}, key=paragraph_key)
    return ", ".join(named + [f"#{p.recommendation_id}" for p in items if not p.paragraph])


def _refuse(turn: SecretariatTurn, exc: UnreadableParagraphs, text: str) -> None:
    """The piece that cannot be read, named, and how to write it; nothing is proposed."""
    piece = shorten(exc.piece, 60)
    if exc.problem == "range_long":
        turn.say("followup.range_too_long", piece=piece, count=MAX_RANGE)
    elif exc.problem == "range_roman":
        turn.say("followup.range_roman", piece=piece)
    elif exc.problem.startswith("range_"):
        turn.say("followup.bad_range", piece=piece)
    elif exc.problem in ("word", "sub_alone"):
        turn.say("followup.unreadable", piece=piece)
    else:
        turn.say("followup.bad_paragraphs", text=shorten(text, 60))


async def _document(turn: SecretariatTurn, symbol: str) -> tuple[Document, Mechanism] | None:
    try:
        return await get_document(turn.session, symbol)
    except NotFound:
        turn.say("followup.unknown_document", symbol=shorten(symbol, 60))
        return None
    except InvalidValue:
        turn.say("followup.not_treaty_body", symbol=shorten(symbol, 60))
        return None


async def _deadline_lines(
    turn: SecretariatTurn, document: Document, mechanism: Mechanism, selection: set[int],
) -> tuple[list[str], int | None]:
    """What the follow-up information deadline will cover once ``selection``
    is the document's selection, said as it is; and the deadline to offer
    re-pointing, when it covers other recommendations and there is a selection."""
    found = await follow_up_deadlines(turn.session, document, mechanism)
    if not found:
        return [turn.text("followup.deadline_none", symbol=document.symbol)], None
    if len(found) > 1:
        deadlines = ", ".join(str(d.id) for d in found)
        return [turn.text("followup.deadline_several", symbol=document.symbol, deadlines=deadlines)], None
    deadline = found[0].id
    covered = await covered_recommendations(turn.session, deadline)
    if covered == selection:
        return [turn.text("followup.deadline_exact", deadline=deadline)], None
    lines = [turn.text("followup.deadline_other", deadline=deadline, covered=len(covered), selected=len(selection))]
    # An empty selection is nothing to re-point to (apply-deadline refuses it too).
    if not selection:
        return lines, None
    return [*lines, turn.text("followup.deadline_offer")], deadline


async def command(turn: SecretariatTurn, args: str) -> None:
    words = args.split()
    remove = bool(words) and words[0].lower() == "remove"
    if remove:
        words = words[1:]
    if not words:
        turn.say("followup.usage")
        return
    symbol, rest = words[0], " ".join(words[1:])
    if not rest:
        if remove:
            turn.say("followup.usage")
            return
        await _show(turn, symbol)
        return
    # Changing the selection is a coordinator's; reading it is anyone's.
    if not roles.require(turn, COORDINATOR):
        return
    try:
        wanted = parse_paragraphs(rest)
    except UnreadableParagraphs as exc:
        _refuse(turn, exc, rest)
        return
    found = await _document(turn, symbol)
    if found is None:
        return
    document, mechanism = found
    held = await document_paragraphs(turn.session, document.id)
    chosen, unknown = match_paragraphs(held, wanted)
    if unknown:
        has = held_paragraphs(held)
        turn.say(
            "followup.unknown_paragraphs" if has else "followup.no_paragraphs",
            symbol=document.symbol, paragraphs=", ".join(unknown), held=has,
        )
        return
    now = {p.recommendation_id for p in held if p.selected}
    ids = {p.recommendation_id for p in chosen}
    lines, repoint = await _deadline_lines(turn, document, mechanism, now - ids if remove else now | ids)
    turn.begin(
        CONFIRM, op="remove" if remove else "add", symbol=document.symbol, ids=[p.recommendation_id for p in chosen], deadline=repoint,
    )
    if remove:
        summary = turn.text(
            "followup.confirm_remove", symbol=document.symbol, paragraphs=_paragraphs(chosen),
            removed=sum(p.selected for p in chosen), absent=sum(not p.selected for p in chosen),
        )
    else:
        summary = turn.text(
            "followup.confirm_add", symbol=document.symbol, paragraphs=_paragraphs(chosen),
            new=sum(not p.selected for p in chosen), same=sum(p.selected for p in chosen),
        )
    choices = [turn.bound("button.confirm", f"{VERB}:apply")]
    if repoint is not None:
        choices.append(turn.bound("button.confirm_repoint", f"{VERB}:repoint"))
    turn.say_lines("followup.confirm", [summary, *lines], (tuple(choices), (turn.bound("button.cancel", "cancel"),)))


async def _show(turn: SecretariatTurn, symbol: str) -> None:
    found = await _document(turn, symbol)
    if found is None:
        return
    document, _ = found
    rows = await list_selection(turn.session, document.symbol)
    if not rows:
        turn.say("followup.none", symbol=document.symbol)
        return
    named = sorted({r.paragraph for r in rows if r.paragraph}, key=paragraph_key)
    shown = ", ".join(named + [f"#{r.recommendation_id}" for r in rows if not r.paragraph])
    turn.say("followup.list", symbol=document.symbol, paragraphs=shown)


async def on_action(turn: SecretariatTurn, argument: str) -> bool:
    # "Confirm and re-point" is the summary's Confirm, and then the CLI's apply-deadline.
    repoint = argument == "repoint"
    if (data := confirm_step.confirmed(turn, "apply" if repoint else argument, CONFIRM)) is None:
        return False
    symbol = str(data["symbol"])
    ids = {int(i) for i in data["ids"]}  # type: ignore[union-attr]
    # Gone or changed since the summary: told as the summary would have told it.
    found = await _document(turn, symbol)
    if found is None:
        return True
    document, _ = found
    try:
        # Read again: the selection may have changed since the summary.
        targets = [p for p in await document_paragraphs(turn.session, document.id) if p.recommendation_id in ids]
        if data["op"] == "remove":
            change = await unselect_paragraphs(turn.session, targets)
            turn.say("followup.removed", symbol=symbol, paragraphs=_paragraphs(list(change.changed)) or "-")
        else:
            change = await select_paragraphs(turn.session, targets, FollowUpSource.SECRETARIAT)
            turn.say("followup.selected", symbol=symbol, paragraphs=_paragraphs(list(change.changed + change.unchanged)))
        if repoint and data.get("deadline") is not None:
            await _repoint(turn, document.symbol, int(data["deadline"]))  # type: ignore[arg-type]
        elif (stale := await deadline_to_repoint(turn.session, document.symbol)) is not None:
            turn.say("followup.deadline_stale", deadline=stale, symbol=document.symbol)
    except RegistryError as exc:
        turn.say("followup.failed", reason=refusals.reason(turn, exc))
    return True


async def _repoint(turn: SecretariatTurn, symbol: str, deadline_id: int) -> None:
    """What `nmrf-bot followup apply-deadline SYMBOL --deadline N` does, told in chat."""
    done = await repoint_deadline(turn.session, symbol, deadline_id)
    if done.before == done.after:
        turn.say("followup.deadline_exact", deadline=done.deadline_id)
        return
    # Reminders planned and not yet sent carry the old coverage: withdrawn, the plan makes them again.
    withdrawn = await cancel_pending_reminders(turn.session, [done.deadline_id, *done.input_ids])
    turn.say(
        "followup.repointed", deadline=done.deadline_id, after=len(done.after), before=len(done.before),
        inputs=", ".join(map(str, done.input_ids)) or "–", withdrawn=withdrawn,
    )


ROUTES = Routes(
    # Viewers may list; the command itself asks for the coordinator role before a change.
    commands={"/followup": Command(VIEWER, command, "secretariat.help_followup")},
    actions={VERB: Action(COORDINATOR, on_action)},
    dialogues={"followup.": Dialogue(COORDINATOR, confirm_step.press_reminder("followup.press"))},
)

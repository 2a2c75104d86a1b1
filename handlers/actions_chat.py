"""/actions in chat for the secretariat: the implementation plan's actions
read, added, and the focal points' proposals accepted or rejected, with the
functions `nmrf-bot actions` uses (storage.actions), so the rules and the
audit log are the same.

    /actions                        the plan's actions, and how many proposals wait
    /actions proposed               the proposals, each with Accept and Reject…
    /actions A-3                    one action whole, with its last updates
    /actions add MOJ #12 #15 2027-06-30 Train 300 judges
                                    a new action: the responsible institution,
                                    the recommendations it serves, an optional
                                    target date, then its title
    /actions accept A-3
    /actions reject A-3 Covered by A-1

Every change shows what it will do (worked out in a savepoint that is rolled
back, so a refusal comes before Confirm) and applies on Confirm
(handlers.confirm_step). A rejection needs its reason: asked for when not
typed, since the focal point who proposed it reads it."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from handlers import confirm_step, refusals, roles
from handlers.action_decisions import tell_proposer
from handlers.action_updates import PREFIX
from handlers.secretariat_routes import Action, Command, Dialogue, Routes
from handlers.turn import SecretariatTurn
from messages import local_date, shorten
from messages.numbers import local_amount
from storage import actions as store
from storage.action_models import ActionState
from storage.actions import ActionData, ActionFilter, ActionView
from storage.audit import current_actor
from storage.enums import Platform, SecretariatRole
from storage.errors import RegistryError

CONFIRM = "action.sec_confirm"
REASON = "action.sec_reason"
VIEWER, COORDINATOR = SecretariatRole.VIEWER, SecretariatRole.COORDINATOR
APPLY, ACCEPT, REJECT = "xok", "xacc", "xrej"
# Lines of the plan shown in chat; the CLI lists the rest.
LISTED = 20
_HISTORY = 5
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _word(turn: SecretariatTurn) -> str:
    return ("/" if turn.message.address.platform is Platform.TELEGRAM else "") + "actions"


def _date(turn: SecretariatTurn, day: date | None) -> str:
    return local_date(day, turn.language) if day else turn.text("action.no_date")



# --- reading --------------------------------------------------------------------------------


async def command(turn: SecretariatTurn, args: str) -> None:
    words = args.split()
    op = words[0].lower() if words else ""
    if not words:
        await _show_plan(turn)
    elif op == "proposed" and len(words) == 1:
        await _show_proposals(turn)
    elif op == "add" and len(words) >= 3:
        if roles.require(turn, COORDINATOR):
            await _propose_add(turn, words[1:])
    elif op in ("accept", "reject") and len(words) >= 2:
        if roles.require(turn, COORDINATOR):
            await _propose_decision(turn, words[1], op == "accept", " ".join(words[2:]))
    elif op == "show" and len(words) == 2:
        await _show_action(turn, words[1])
    elif len(words) == 1 and op not in ("add", "accept", "reject", "show"):
        await _show_action(turn, words[0])
    else:
        turn.say("actions.usage", actions=_word(turn))


def _line(turn: SecretariatTurn, view: ActionView) -> str:
    late = turn.text("actions.overdue_mark") if store.is_overdue(view, turn.local_day(turn.now)) else ""
    return turn.text(
        "actions.line", code=view.code, title=shorten(view.title, 70), institution=view.responsible_code,
        status=turn.text(f"status.{view.status.value}"), date=_date(turn, view.target_date), late=late,
    )


async def _show_plan(turn: SecretariatTurn) -> None:
    found = await store.list_actions(turn.session, ActionFilter())
    waiting = await store.list_actions(turn.session, ActionFilter(state=ActionState.PROPOSED))
    lines = [turn.text("actions.header", count=len(found))] if found else [turn.text("actions.none")]
    lines += [_line(turn, v) for v in found[:LISTED]]
    if len(found) > LISTED:
        lines.append(turn.text("actions.more", count=len(found) - LISTED))
    if waiting:
        lines.append(turn.text("actions.waiting", count=len(waiting), actions=_word(turn)))
    turn.say_lines("actions.list", lines)


async def _show_proposals(turn: SecretariatTurn) -> None:
    waiting = await store.list_actions(turn.session, ActionFilter(state=ActionState.PROPOSED))
    if not waiting:
        turn.say("actions.no_proposals")
        return
    lines = [turn.text("actions.proposals_header", count=len(waiting))]
    rows = []
    may_decide = roles.permits(turn, COORDINATOR)
    for view in waiting:
        lines.append(turn.text(
            "actions.proposal_line", code=view.code, title=shorten(view.title, 120), institution=view.responsible_code,
            ids=", ".join(f"#{r}" for r in view.served), date=_date(turn, view.target_date),
        ))
        if may_decide:
            rows.append((turn.button("actions.button_accept", f"{ACCEPT}:{view.id}", code=view.code),
                         turn.button("actions.button_reject", f"{REJECT}:{view.id}", code=view.code)))
    turn.say_lines("actions.proposals", lines, tuple(rows))


async def _show_action(turn: SecretariatTurn, ref: str) -> None:
    try:
        action = await store.get_action(turn.session, ref)
    except RegistryError:
        turn.say("actions.unknown", code=ref, actions=_word(turn))
        return
    [view] = (await store.views(turn.session, [action.id])).values()
    lines = [turn.text(
        "actions.detail", code=view.code, title=view.title, state=turn.text(f"actions.state_{view.state.value}"),
        status=turn.text(f"status.{view.status.value}"), institution=view.responsible_name,
        start=_date(turn, view.start_date), target=_date(turn, view.target_date),
        ids=", ".join([f"#{r}" for r in view.recommendations] + [turn.text("actions.group", id=g) for g in view.link_groups]),
    )]
    if view.contributing:
        lines.append(turn.text("actions.detail_contributing", institutions=", ".join(name for _, name in view.contributing)))
    if view.budget:
        lines.append(turn.text("actions.detail_budget", amount=local_amount(view.budget.amount, turn.language), currency=view.budget.currency, source=view.budget.source or "—"))
    if view.sdg_targets:
        lines.append(turn.text("actions.detail_sdgs", targets=", ".join(view.sdg_targets)))
    for chapter in view.chapters:
        lines.append(turn.text("actions.detail_chapter", framework=chapter.framework, code=chapter.code, title=chapter.title))
    if view.decision_note:
        lines.append(turn.text("actions.detail_decision", reason=view.decision_note))
    updates = await store.history(turn.session, action.id)
    for update in updates[-_HISTORY:]:
        lines.append(turn.text(
            "actions.detail_update", date=local_date(turn.local_day(update.created_at), turn.language), author=update.author_label,
            status=turn.text(f"status.{update.status.value}"), text=shorten(update.narrative or "—", 200),
        ))
    if not updates:
        lines.append(turn.text("actions.detail_no_update"))
    turn.say_lines("actions.detail", lines)


# --- changing -----------------------------------------------------------------------------------


def _read_add(words: list[str]) -> tuple[str, list[int], date | None, str] | None:
    """ "MOJ #12 #15 2027-06-30 Train 300 judges" -> (MOJ, [12, 15], the date, the title); None if not that shape."""
    institution, rest = words[0], words[1:]
    ids: list[int] = []
    while rest and re.fullmatch(r"#?\d{1,9},?", rest[0]):
        ids.append(int(rest.pop(0).strip("#,")))
    target = None
    if rest and _ISO.fullmatch(rest[0]):
        try:
            target = date.fromisoformat(rest.pop(0))
        except ValueError:
            return None
    title = " ".join(rest)
    if not ids or not title:
        return None
    return institution, list(dict.fromkeys(ids)), target, title


async def _add(turn: SecretariatTurn, data: dict[str, Any]) -> str:
    action = await store.create_action(turn.session, ActionData(
        title=data["title"], responsible=data["institution"], recommendations=tuple(data["ids"]),
        target_date=date.fromisoformat(data["target"]) if data.get("target") else None,
    ), actor=current_actor(), now=turn.now)
    return turn.text(
        "actions.would_add", code=action.code, title=action.title, institution=data["institution"].upper(),
        ids=", ".join(f"#{i}" for i in data["ids"]), date=_date(turn, action.target_date),
    )


async def _decide(turn: SecretariatTurn, data: dict[str, Any]) -> str:
    action = await store.decide(turn.session, data["code"], bool(data["accept"]), actor=current_actor(), now=turn.now, note=data.get("reason"))
    # In the same savepoint: the summary's dry run takes the notice back with the decision.
    await tell_proposer(turn.session, action, turn.policy, turn.now)
    if data["accept"]:
        return turn.text("actions.would_accept", code=action.code, title=action.title)
    return turn.text("actions.would_reject", code=action.code, title=action.title, reason=data["reason"])


_CHANGES: dict[str, Callable[[SecretariatTurn, dict[str, Any]], Awaitable[str]]] = {"add": _add, "decide": _decide}


async def _summarise(turn: SecretariatTurn, op: str, data: dict[str, Any]) -> None:
    try:
        outcome = await confirm_step.in_savepoint(turn, lambda: _CHANGES[op](turn, data), keep=False)
    except RegistryError as exc:
        turn.reset()
        turn.say("actions.failed", reason=refusals.reason(turn, exc))
        return
    turn.begin(CONFIRM, op=op, **data)
    confirm_step.ask(turn, "actions.confirm", f"{APPLY}:apply", turn.text("actions.would", outcome=outcome))


async def _propose_add(turn: SecretariatTurn, words: list[str]) -> None:
    read = _read_add(words)
    if read is None:
        turn.say("actions.usage", actions=_word(turn))
        return
    institution, ids, target, title = read
    await _summarise(turn, "add", {"institution": institution, "ids": ids, "target": target.isoformat() if target else None, "title": title})


async def _propose_decision(turn: SecretariatTurn, ref: str, accept: bool, reason: str) -> None:
    try:
        action = await store.get_action(turn.session, ref)
    except RegistryError:
        turn.say("actions.unknown", code=ref, actions=_word(turn))
        return
    if not accept and not reason.strip():
        turn.begin(REASON, code=action.code)
        turn.ask("actions.ask_reason", ((turn.bound("button.cancel", "cancel"),),), code=action.code, title=shorten(action.title, 120))
        return
    await _summarise(turn, "decide", {"code": action.code, "accept": accept, "reason": reason.strip() or None})


async def on_apply(turn: SecretariatTurn, argument: str) -> bool:
    if (data := confirm_step.confirmed(turn, argument, CONFIRM)) is None:
        return False
    op = str(data.pop("op"))
    data.pop("conversation", None)
    try:
        outcome = await confirm_step.in_savepoint(turn, lambda: _CHANGES[op](turn, data), keep=True)
    except RegistryError as exc:
        turn.say("actions.failed", reason=refusals.reason(turn, exc))
        return True
    turn.say("actions.done", outcome=outcome)
    return True


def _decision_button(accept: bool) -> Callable[[SecretariatTurn, str], Awaitable[bool]]:
    async def run(turn: SecretariatTurn, argument: str) -> bool:
        if not argument.isdigit():
            return False
        try:
            action = await store.get_action(turn.session, int(argument))
        except RegistryError:
            turn.say("actions.unknown", code=argument, actions=_word(turn))
            return True
        await _propose_decision(turn, action.code, accept, "")
        return True

    return run


async def _typed(turn: SecretariatTurn, text: str) -> bool:
    if turn.state.name == REASON:
        reason = " ".join(text.split())
        if not reason:
            return True
        await _summarise(turn, "decide", {"code": turn.state.data["code"], "accept": False, "reason": reason[:2000]})
        return True
    if turn.state.name == CONFIRM:
        turn.say("actions.press")
        return True
    return False


ROUTES = Routes(
    commands={"/actions": Command(VIEWER, command, "secretariat.help_actions")},
    actions={APPLY: Action(COORDINATOR, on_apply), ACCEPT: Action(COORDINATOR, _decision_button(True)), REJECT: Action(COORDINATOR, _decision_button(False))},
    dialogues={f"{PREFIX}.sec_": Dialogue(COORDINATOR, _typed)},
)

"""The secretariat in chat: the dispatcher of every secretariat capability
(each declares its handlers.secretariat_routes.Routes, listed in
CAPABILITIES), and the core one: summaries (the same as `report summary`),
information requests composed and followed up (handlers.broadcast), and
compiled reports sent back as files.

Each command, button and dialogue names the role it needs and is refused,
with that role named, to a user whose role is below it; the help lists only
what the reader's role may do. Focal points who try these commands are
refused."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from handlers import actions_chat, assign_chat, broadcast, buttons, chat_imports, closures, deadlines_chat, evidence, find_chat, follow_up_chat, home, links_chat, people, priorities_chat, refusals, roles, secretariat_users, secretariat_validations
from handlers import pledges_secretariat
from handlers.buttons import Verdict
from handlers.report_orders import BadReportFilter, parse_order
from handlers.secretariat_routes import Action, Command, Dialogue, Routes
from handlers.summaries import summarise
from handlers.timeliness import on_time_line
from handlers.turn import SecretariatTurn
from messages import local_date, local_number
from messages.words import read_word
from storage.audit import acting_as
from storage.enums import SecretariatRole
from storage.errors import InvalidValue
from storage.models import Mechanism

VIEWER, COORDINATOR, ADMIN = SecretariatRole.VIEWER, SecretariatRole.COORDINATOR, SecretariatRole.ADMIN


async def _progress(turn: SecretariatTurn, args: str) -> None:
    await _summary(turn, "/progress", args)


async def _overdue(turn: SecretariatTurn, args: str) -> None:
    await _summary(turn, "/overdue", args)


async def _missing(turn: SecretariatTurn, args: str) -> None:
    await _summary(turn, "/missing", args)


async def _report(turn: SecretariatTurn, args: str) -> None:
    await _order_report(turn, args.split())


async def _evidence(turn: SecretariatTurn, args: str) -> None:
    await evidence.send_files(turn, args.split())


async def _request(turn: SecretariatTurn, args: str) -> None:
    await broadcast.start(turn)


async def _requests(turn: SecretariatTurn, args: str) -> None:
    await broadcast.show_requests(turn)


def _broadcast(verb: str) -> Action:
    async def run(turn: SecretariatTurn, argument: str) -> bool:
        return await broadcast.on_action(turn, verb, argument, turn.policy)

    return Action(COORDINATOR, run)


async def _compose_text(turn: SecretariatTurn, text: str) -> bool:
    return await broadcast.on_text(turn, text)


# Summaries, compiled reports, evidence files and information requests.
CORE = Routes(
    commands={
        "/progress": Command(VIEWER, _progress, "secretariat.help_progress"),
        "/overdue": Command(VIEWER, _overdue, "secretariat.help_overdue"),
        "/missing": Command(VIEWER, _missing, "secretariat.help_missing"),
        "/request": Command(COORDINATOR, _request, "secretariat.help_request", resets=False),
        "/requests": Command(COORDINATOR, _requests, "secretariat.help_requests"),
        "/report": Command(VIEWER, _report, "secretariat.help_report"),
        "/evidence": Command(VIEWER, _evidence, "secretariat.help_evidence"),
    },
    actions={verb: _broadcast(verb) for verb in ("due", "to", "bc", "track", "answers")},
    dialogues={"compose.": Dialogue(COORDINATOR, _compose_text)},
)

# Every capability the secretariat has in chat, in the order its help lists them.
CAPABILITIES: tuple[Routes, ...] = (CORE, secretariat_users.ROUTES, home.ROUTES, chat_imports.ROUTES, closures.ROUTES, secretariat_validations.ROUTES, people.ROUTES, deadlines_chat.ROUTES, find_chat.ROUTES, assign_chat.ROUTES, links_chat.ROUTES, priorities_chat.ROUTES, follow_up_chat.ROUTES, actions_chat.ROUTES, pledges_secretariat.ROUTES)

_COMMANDS: dict[str, Command] = {name: c for routes in CAPABILITIES for name, c in routes.commands.items()}
_ACTIONS: dict[str, Action] = {verb: a for routes in CAPABILITIES for verb, a in routes.actions.items()}
# Longest prefix first, so a dialogue's own sub-dialogue wins.
_DIALOGUES: list[tuple[str, Dialogue]] = sorted(
    ((prefix, d) for routes in CAPABILITIES for prefix, d in routes.dialogues.items()), key=lambda item: -len(item[0])
)
# Commands focal points give too, answered in their own chat as theirs.
FOCAL_POINTS_TOO = frozenset({"/language"})
# The commands focal points are refused ("that is for the secretariat").
COMMANDS: frozenset[str] = frozenset(_COMMANDS) - FOCAL_POINTS_TOO


def commands_for(role: SecretariatRole) -> frozenset[str]:
    """The command names (without the slash) a role may give, for the platforms' menus."""
    return frozenset(name.lstrip("/") for name, c in _COMMANDS.items() if SecretariatRole(role).allows(c.role))


def _command_of(turn: SecretariatTurn, text: str) -> tuple[str, str]:
    """The command and the words after it. A bare word names a command too
    (Slack takes typed /words for its own), unless a dialogue is waiting for
    a typed answer, which may well begin with such a word."""
    first, _, rest = text.partition(" ")
    word = first.lower()
    if word.startswith("/"):
        return word, rest.strip()
    if f"/{word}" in _COMMANDS and _dialogue(turn) is None:
        return f"/{word}", rest.strip()
    return "", text


def _dialogue(turn: SecretariatTurn) -> Dialogue | None:
    name = turn.state.name or ""
    for prefix, dialogue in _DIALOGUES:
        if name.startswith(prefix):
            return dialogue
    return None


async def handle(turn: SecretariatTurn) -> None:
    text = (turn.message.text or "").strip()
    command, args = _command_of(turn, text) if text else ("", "")
    action = turn.message.action
    with acting_as(f"secretariat:{turn.user.id}"):
        if command == "/cancel":
            _cancel(turn)
            turn.say("update.cancelled")
        elif command in _COMMANDS:
            entry = _COMMANDS[command]
            if not roles.require(turn, entry.role):
                return
            if entry.resets:
                turn.reset()
            await entry.run(turn, args)
        elif action:
            await _on_action(turn, action)
        elif turn.message.files and await _on_files(turn):
            pass
        elif text and not command and await _on_text(turn, text):
            pass
        else:
            _help(turn)


def _cancel(turn: SecretariatTurn) -> None:
    dialogue = _dialogue(turn)
    if dialogue is not None and dialogue.on_cancel is not None:
        dialogue.on_cancel(turn)
    turn.reset()


def _help(turn: SecretariatTurn) -> None:
    lines = [turn.text("secretariat.help", role=turn.text(f"role.{SecretariatRole(turn.user.role).value}"))]
    lines += [turn.text(c.help) for c in _COMMANDS.values() if roles.permits(turn, c.role)]
    lines.append(turn.text("secretariat.help_cancel"))
    turn.say_lines("secretariat.help", lines)


async def _on_text(turn: SecretariatTurn, text: str) -> bool:
    dialogue = _dialogue(turn)
    if dialogue is None:
        return False
    if not roles.require(turn, dialogue.role):
        return True
    return await dialogue.on_text(turn, text)


async def _on_files(turn: SecretariatTurn) -> bool:
    refused: SecretariatRole | None = None
    for routes in CAPABILITIES:
        if routes.files is not None:
            if not roles.permits(turn, routes.files.role):
                refused = refused or routes.files.role
                continue
            if await routes.files.run(turn):
                return True
    if refused is not None:
        # A file someone's role may not send is refused naming the role, not met with the help.
        roles.refuse(turn, refused)
        return True
    return False


async def _on_action(turn: SecretariatTurn, action: str) -> None:
    pressed = buttons.read(action)
    if pressed.unbound:
        refusals.refuse_unbound(turn)
        return
    if pressed.place is not None:
        verdict = buttons.verdict(turn.state, pressed.place)
        if verdict is Verdict.CLOSED and pressed.place.kind == "c":
            turn.say("compose.stale")
            return
        if verdict is not Verdict.MATCH:
            refusals.refuse(turn, pressed.place, verdict)
            return
        if pressed.action == "cancel":
            _cancel(turn)
            turn.say("update.cancelled")
            return
    verb, _, argument = pressed.action.partition(":")
    entry = _ACTIONS.get(verb)
    if entry is None:
        _help(turn)
        return
    if not roles.require(turn, entry.role):
        return
    if not await entry.run(turn, argument):
        _help(turn)


async def _order_report(turn: SecretariatTurn, words: list[str]) -> None:
    try:
        order = parse_order(words, turn.language, turn.timezone)
    except BadReportFilter as exc:
        turn.say(exc.key, **exc.values)
        return
    except InvalidValue:
        turn.say_lines("report.usage", [turn.text("report.usage"), turn.text("report.usage_plan")])
        return
    if order.mechanism is not None:
        # A typo should be told, not answered with an empty file.
        codes = list((await turn.session.scalars(select(Mechanism.code).order_by(Mechanism.code))).all())
        known = {code.upper(): code for code in codes}
        if order.mechanism.upper() not in known:
            turn.say("report.unknown_mechanism", mechanism=order.mechanism, known=", ".join(codes))
            return
        order = replace(order, mechanism=known[order.mechanism.upper()])
    turn.orders.append(order)
    turn.say("report.preparing", kind=turn.text(f"report.kind_{order.kind}"))


async def _summary(turn: SecretariatTurn, command: str, text: str) -> None:
    lang = turn.language
    # "/progress cluster", in the reader's words too (regroupement, agrupación: messages.words).
    by = "cluster" if any(read_word(w.rpartition(":")[2], {"cluster": "words.by.cluster"}, lang) for w in text.split()) else "institution"
    lines = await summarise(turn.session, by, turn.policy, as_of=turn.now)
    by_word = turn.text(f"secretariat.by_{by}")
    if command == "/progress":
        body = [turn.text("secretariat.progress_header", by=by_word, date=local_date(turn.local_day(turn.now), lang))] + [
            turn.text(
                "secretariat.progress_line", group=line.group, rate=f"{local_number(round(100 * line.response_rate), lang)} %",
                done=line.counts.get("fully_implemented", 0), partial=line.counts.get("partially_implemented", 0),
                progress=line.counts.get("in_progress", 0), waiting=line.counts.get("not_started", 0),
            )
            for line in lines
        ]
        reports = await on_time_line(turn.session, turn.local_day(turn.now), lang)
        if reports is not None:
            body.append(reports)
        turn.say_lines("secretariat.progress", body)
        return
    field = "overdue" if command == "/overdue" else "missing"
    flagged = [line for line in lines if getattr(line, field)]
    if not flagged:
        turn.say_lines(f"secretariat.{field}", [turn.text("secretariat.nothing")])
        return
    body = [turn.text(f"secretariat.{field}_header", by=by_word)] + [
        turn.text("secretariat.overdue_line", group=line.group, count=getattr(line, field)) for line in flagged
    ]
    turn.say_lines(f"secretariat.{field}", body)

"""The secretariat in chat: summaries (the same as `report summary`),
information requests composed and followed up (handlers.broadcast), and
compiled reports sent back as files. Focal points who try these commands
are refused."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from handlers import broadcast, buttons, evidence, refusals
from handlers.buttons import Verdict
from handlers.reminders.plan import Policy
from handlers.report_orders import parse_order
from handlers.summaries import summarise
from handlers.turn import SecretariatTurn
from messages import local_date, local_number
from storage.audit import acting_as
from storage.errors import InvalidValue
from storage.models import Mechanism

COMMANDS = ("/progress", "/overdue", "/missing", "/request", "/requests", "/report", "/evidence")


async def handle(turn: SecretariatTurn, policy: Policy) -> None:
    text = (turn.message.text or "").strip()
    command = text.split()[0].lower() if text.startswith("/") else ""
    action = turn.message.action
    with acting_as(f"secretariat:{turn.user.id}"):
        if command == "/cancel":
            turn.reset()
            turn.say("update.cancelled")
        elif command in ("/progress", "/overdue", "/missing"):
            turn.reset()
            await _summary(turn, command, text, policy)
        elif command == "/request":
            await broadcast.start(turn)
        elif command == "/requests":
            turn.reset()
            await broadcast.show_requests(turn)
        elif command == "/report":
            turn.reset()
            await _order_report(turn, text.split()[1:])
        elif command == "/evidence":
            turn.reset()
            await evidence.send_files(turn, text.split()[1:])
        elif action:
            await _on_action(turn, action, policy)
        elif text and not command and await broadcast.on_text(turn, text):
            pass
        else:
            turn.say("secretariat.help")


async def _on_action(turn: SecretariatTurn, action: str, policy: Policy) -> None:
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
            turn.reset()
            turn.say("update.cancelled")
            return
    verb, _, argument = pressed.action.partition(":")
    if not await broadcast.on_action(turn, verb, argument, policy):
        turn.say("secretariat.help")


async def _order_report(turn: SecretariatTurn, words: list[str]) -> None:
    try:
        order = parse_order(words, turn.language, turn.timezone)
    except InvalidValue:
        turn.say("report.usage")
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


async def _summary(turn: SecretariatTurn, command: str, text: str, policy: Policy) -> None:
    lang = turn.language
    by = "cluster" if "cluster" in text.lower() else "institution"
    lines = await summarise(turn.session, by, policy, as_of=turn.now)
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

"""The secretariat's information requests in chat: composed step by step
(the text, the answer date, who gets it), shown before it is sent, and
followed up: which institutions answered, which not, who was escalated.

Sending goes through the same path as ``nmrf-bot requests send``: each
person gets the request in their language and working hours, and
non-responders are reminded by the reminder machinery."""

from __future__ import annotations

from datetime import date, timedelta

from handlers import refusals
from handlers.chat_port import Button
from handlers.reminders.plan import Policy
from handlers.requests import send
from handlers.turn import SecretariatTurn
from handlers.update_text import read_date
from messages import DATE_EXAMPLE, local_date, local_number, shorten
from storage.errors import InvalidValue, NotFound
from storage.requests import MAX_TEXT, TARGET_KINDS, Target, answers_to, audience, create_request, recent_requests, track
from storage.selection import parse_ids

# Answer-date shortcuts, in days from today.
DUE_CHOICES = (7, 14, 28)
# Requests listed by /requests, newest first.
LISTED = 10


def _cancel_row(turn: SecretariatTurn) -> tuple[Button, ...]:
    return (turn.bound("button.cancel", "cancel"),)


async def start(turn: SecretariatTurn) -> None:
    turn.begin("compose.text")
    turn.ask("compose.ask_text", (_cancel_row(turn),), count=MAX_TEXT)


async def on_text(turn: SecretariatTurn, text: str) -> bool:
    """A typed answer to the step the dialogue is at; False when none is."""
    name = turn.state.name
    if name == "compose.text":
        if len(text) > MAX_TEXT:
            turn.ask("compose.too_long", (_cancel_row(turn),), count=len(text), limit=local_number(MAX_TEXT, turn.language))
            return True
        turn.go("compose.due", text=text)
        _ask_due(turn)
    elif name == "compose.due":
        # An ISO date in any script's digits (handlers.update_text.read_date).
        due = read_date(text)
        if due is None or due < turn.local_day(turn.now):
            turn.ask("compose.bad_date", (_cancel_row(turn),), text=text[:40], example=DATE_EXAMPLE)
            return True
        _ask_target(turn, due)
    elif name == "compose.values":
        kind = turn.state.data["kind"]
        try:
            values = _values(kind, text)
        except InvalidValue as exc:
            turn.ask("compose.bad_target", (_cancel_row(turn),), reason=refusals.reason(turn, exc))
            return True
        await _preview(turn, Target(kind, values))
    else:
        return False
    return True


async def on_action(turn: SecretariatTurn, verb: str, argument: str, policy: Policy) -> bool:
    name = turn.state.name
    if verb == "due" and argument.isdigit() and name == "compose.due":
        _ask_target(turn, turn.local_day(turn.now) + timedelta(days=int(argument)))
    elif verb == "to" and argument in TARGET_KINDS and name == "compose.target":
        if argument == "all":
            await _preview(turn, Target("all"))
        else:
            turn.go("compose.values", kind=argument)
            turn.ask(f"compose.ask_{argument}", (_cancel_row(turn),))
    elif verb == "bc" and argument == "send" and name == "compose.confirm":
        await _send(turn, policy)
    elif verb == "track" and argument.isdigit():
        await show_tracking(turn, int(argument))
    elif verb == "answers" and argument.isdigit():
        await show_answers(turn, int(argument))
    elif verb in ("due", "to", "bc"):
        # A button from a request already sent or cancelled.
        turn.say("compose.stale")
    else:
        return False
    return True


def _ask_due(turn: SecretariatTurn) -> None:
    row = tuple(turn.bound("button.in_days", f"due:{days}", count=days) for days in DUE_CHOICES)
    turn.ask("compose.ask_due", (row, _cancel_row(turn)), example=DATE_EXAMPLE)


def _ask_target(turn: SecretariatTurn, due: date) -> None:
    turn.go("compose.target", due=due.isoformat())
    kinds = [turn.bound(f"button.to_{kind}", f"to:{kind}") for kind in TARGET_KINDS]
    turn.say("compose.ask_target", (tuple(kinds[:3]), tuple(kinds[3:]), _cancel_row(turn)))


def _values(kind: str, text: str) -> tuple[str, ...]:
    if kind == "recommendations":
        return tuple(str(i) for i in parse_ids(text))
    values = tuple(v.strip() for v in text.split(",") if v.strip())
    if not values:
        raise InvalidValue("nothing given", key="refusal.requests.nothing_given")
    if kind == "cluster" and len(values) > 1:
        raise InvalidValue("one cluster at a time", key="refusal.requests.one_cluster")
    if kind == "theme" and len(values) > 1:
        raise InvalidValue("one theme at a time", key="refusal.requests.one_theme")
    return values


async def _preview(turn: SecretariatTurn, target: Target) -> None:
    """Who the request would reach, before anything is written."""
    try:
        asked = await audience(turn.session, target, turn.local_day(turn.now))
    except (InvalidValue, NotFound) as exc:
        turn.ask("compose.bad_target", (_cancel_row(turn),), reason=refusals.reason(turn, exc))
        return
    people = len(asked.recipients)
    if not people:
        turn.say("compose.nobody")
        _ask_target(turn, date.fromisoformat(turn.state.data["due"]))
        return
    turn.go("compose.confirm", kind=target.kind, values=list(target.values))
    data = turn.state.data
    reached = [i for i in asked.institutions if asked.people.get(i.id)]
    nobody = [i.code for i in asked.institutions if not asked.people.get(i.id)]
    if nobody:
        turn.say("compose.nobody_for", codes=", ".join(nobody))
    turn.say(
        "compose.confirm",
        ((turn.bound("button.send", "bc:send"), turn.bound("button.cancel", "cancel")),),
        count=people, institutions=turn.text("count.institutions", count=len(reached)),
        date=local_date(date.fromisoformat(data["due"]), turn.language), text=data["text"],
    )


async def _send(turn: SecretariatTurn, policy: Policy) -> None:
    data = turn.state.data
    user = turn.user
    request, recipients = await create_request(
        turn.session, data["text"], date.fromisoformat(data["due"]), Target(data["kind"], tuple(data["values"])),
        created_by=f"secretariat:{user.id}", today=turn.local_day(turn.now), secretariat_user_id=user.id,
    )
    queued, unreachable = await send(turn.session, request, recipients, policy, turn.now)
    turn.reset()
    turn.say("compose.sent", id=request.id, count=queued)
    if unreachable:
        turn.say("compose.unreachable", names=", ".join(unreachable))


async def show_requests(turn: SecretariatTurn) -> None:
    """The latest requests, each with how many institutions answered."""
    rows = await recent_requests(turn.session, LISTED)
    if not rows:
        turn.say("requests.none")
        return
    lines = [turn.text("requests.header")] + [
        turn.text("requests.line", id=r.id, date=local_date(r.due_on, turn.language), count=r.answered, asked=local_number(r.asked, turn.language), text=_short(r.text))
        for r in rows
    ]
    buttons = tuple(tuple(turn.button("button.who_answered", f"track:{r.id}", id=r.id) for r in rows[i:i + 3]) for i in range(0, len(rows), 3))
    turn.say_lines("requests.list", lines, buttons)


async def show_tracking(turn: SecretariatTurn, request_id: int) -> None:
    try:
        request, lines = await track(turn.session, request_id)
    except NotFound:
        turn.say("requests.unknown", id=request_id)
        return
    body = [turn.text("tracking.header", id=request.id, date=local_date(request.due_on, turn.language), text=_short(request.text))]
    for line in lines:
        if line.answered_at is not None:
            body.append(turn.text("tracking.answered", institution=line.code, date=local_date(turn.local_day(line.answered_at), turn.language), answers=line.answers))
        else:
            key = "tracking.escalated" if line.escalated else "tracking.waiting"
            body.append(turn.text(key, institution=line.code, people=", ".join(line.asked), told=", ".join(line.escalated_to)))
    read = ((turn.button("button.read_answers", f"answers:{request.id}"),),) if any(line.answers for line in lines) else ()
    turn.say_lines("tracking.list", body, read)


async def show_answers(turn: SecretariatTurn, request_id: int) -> None:
    """What each institution answered, in one message (the platform splits a long one)."""
    try:
        request, answers = await answers_to(turn.session, request_id)
    except NotFound:
        turn.say("requests.unknown", id=request_id)
        return
    if not answers:
        turn.say("answers.none", id=request_id)
        return
    body = [turn.text("answers.header", id=request.id, text=_short(request.text)), ""]
    for given in answers:
        common = {"institution": given.institution, "person": given.person or "—", "date": local_date(turn.local_day(given.at), turn.language)}
        if given.recommendation_id is not None and given.status is not None:
            body.append(turn.text(
                "answers.line_update", **common, recommendation=given.recommendation_id,
                status=turn.text(f"status.{given.status.value}"), narrative=f": {given.narrative}" if given.narrative else "",
            ))
        else:
            body.append(turn.text("answers.line", **common, answer=given.text or ""))
    turn.say_lines("answers.list", body)


def _short(text: str) -> str:
    return shorten(text, 80)

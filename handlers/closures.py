"""/closures: a coordinator declares the secretariat's own closure days in
chat, as `nmrf-bot calendar closures` does on the command line (the same
storage functions): list the coming ones, add one (a day or a range, for
everyone, a country or a subdivision), remove one. Each change is shown
first and applies on Confirm; the reminder plan reads the closures at its
next pass, so nothing already planned for another day moves."""

from __future__ import annotations

import re
from datetime import date

from handlers import buttons, confirm_step, refusals
from handlers.reminders.calendars import keep_off_closed_days
from handlers.secretariat_routes import Action, Command, Dialogue, Routes
from handlers.turn import SecretariatTurn
from messages import local_date
from storage.calendars import (
    MAX_CLOSURE_DAYS,
    NAME_CHARS,
    Closure,
    ClosureData,
    add_closure,
    check_place,
    get_closure,
    list_closures,
    remove_closure,
    subdivisions_of,
)
from storage.enums import Platform, SecretariatRole
from storage.errors import InvalidValue, NotFound, RegistryError

CONFIRM = "closures.confirm"
buttons.register_dialogue("closures", "h", {CONFIRM: "k"})
COORDINATOR = SecretariatRole.COORDINATOR
VERB = "closure"
# "UY" or "DE-BY": upper-case as typed, so a short first word of a name
# ("El", "Le") is not taken for a country.
_SCOPE = re.compile(r"[A-Z]{2}(?:-[A-Za-z0-9]{1,32})?")


def _word(turn: SecretariatTurn) -> str:
    # How the reader types the command: /closures on Telegram, closures on Slack.
    return ("/" if turn.message.address.platform is Platform.TELEGRAM else "") + "closures"


async def command(turn: SecretariatTurn, args: str) -> None:
    words = args.split()
    verb = words[0].lower() if words else "list"
    if verb == "list" and len(words) <= 1:
        await _list(turn)
    elif verb == "add" and len(words) >= 2:
        await _propose_add(turn, words[1:])
    elif verb == "remove" and len(words) == 2:
        await _propose_remove(turn, words[1])
    else:
        turn.say("closures.usage", closures=_word(turn))


def _span(turn: SecretariatTurn, first: date, last: date) -> str:
    if first == last:
        return local_date(first, turn.language)
    return turn.text("closures.span", first=local_date(first, turn.language), last=local_date(last, turn.language))


def _scope(turn: SecretariatTurn, country: str | None, subdivision: str | None) -> str:
    if country is None:
        return turn.text("closures.scope_everyone")
    return f"{country}-{subdivision}" if subdivision else country


def _line(turn: SecretariatTurn, c: Closure) -> str:
    return turn.text("closures.line", id=c.id, name=c.name, span=_span(turn, c.starts_on, c.ends_on), scope=_scope(turn, c.country, c.subdivision))


async def _list(turn: SecretariatTurn) -> None:
    coming = await list_closures(turn.session, since=turn.local_day(turn.now))
    if not coming:
        turn.say("closures.none", closures=_word(turn))
        return
    lines = [turn.text("closures.header", count=len(coming))] + [_line(turn, c) for c in coming]
    turn.say_lines("closures.list", lines)


def _dates(text: str) -> tuple[date, date] | None:
    first, sep, last = text.partition("..")
    try:
        start = date.fromisoformat(first)
        return start, date.fromisoformat(last) if sep else start
    except ValueError:
        return None


async def _propose_add(turn: SecretariatTurn, words: list[str]) -> None:
    """``add FROM[..TO] [UY|DE-BY] NAME...``."""
    span = _dates(words[0])
    if span is None:
        turn.say("closures.bad_date", date=words[0][:40])
        return
    first, last = span
    if last < first:
        turn.say("closures.bad_range", first=local_date(first, turn.language), last=local_date(last, turn.language))
        return
    if (last - first).days + 1 > MAX_CLOSURE_DAYS:
        turn.say("closures.too_long", count=MAX_CLOSURE_DAYS)
        return
    rest = words[1:]
    country = subdivision = None
    if rest and _SCOPE.fullmatch(rest[0]):
        code, _, region = rest[0].partition("-")
        try:
            country, subdivision = check_place(code, region or None)
        except InvalidValue as exc:
            if exc.field == "country":
                turn.say("closures.bad_country", country=code)
            else:
                turn.say("closures.bad_subdivision", subdivision=region, country=code,
                         known=", ".join(subdivisions_of(code)) or turn.text("closures.no_subdivisions"))
            return
        rest = rest[1:]
    name = " ".join(rest)
    if not name:
        turn.say("closures.no_name", closures=_word(turn))
        return
    if len(name) > NAME_CHARS:
        turn.say("closures.long_name", count=NAME_CHARS)
        return
    turn.begin(CONFIRM, op="add", title=name, first=first.isoformat(), last=last.isoformat(), country=country, subdivision=subdivision)
    _ask_confirm(turn, turn.text("closures.confirm_add", name=name, span=_span(turn, first, last), scope=_scope(turn, country, subdivision)))


async def _propose_remove(turn: SecretariatTurn, ref: str) -> None:
    number = ref.lstrip("#")
    if not number.isdigit():
        turn.say("closures.usage", closures=_word(turn))
        return
    try:
        closure = await get_closure(turn.session, int(number))
    except NotFound:
        turn.say("closures.unknown", id=number[:12])
        return
    turn.begin(CONFIRM, op="remove", id=closure.id)
    _ask_confirm(turn, turn.text("closures.confirm_remove", id=closure.id, name=closure.name,
                                 span=_span(turn, closure.starts_on, closure.ends_on), scope=_scope(turn, closure.country, closure.subdivision)))


def _ask_confirm(turn: SecretariatTurn, summary: str) -> None:
    confirm_step.ask(turn, "closures.confirm", f"{VERB}:apply", summary)


async def on_action(turn: SecretariatTurn, argument: str) -> bool:
    if (data := confirm_step.confirmed(turn, argument, CONFIRM)) is None:
        return False
    try:
        if data["op"] == "add":
            added = await add_closure(turn.session, ClosureData(
                data["title"], date.fromisoformat(data["first"]), date.fromisoformat(data["last"]), data["country"], data["subdivision"],
            ))
            turn.say("closures.added", line=_line(turn, added))
            moved = await keep_off_closed_days(turn.session, turn.policy, turn.now)
            if moved:
                turn.say("closures.moved", count=moved)
        else:
            removed = await remove_closure(turn.session, int(data["id"]))
            turn.say("closures.removed", line=_line(turn, removed))
    except NotFound:
        turn.say("closures.unknown", id=str(data.get("id", "?")))
    except RegistryError as exc:
        turn.say("closures.failed", reason=refusals.reason(turn, exc))
    return True



ROUTES = Routes(
    commands={"/closures": Command(COORDINATOR, command, "secretariat.help_closures")},
    actions={VERB: Action(COORDINATOR, on_action)},
    dialogues={"closures.": Dialogue(COORDINATOR, confirm_step.press_reminder("closures.press"))},
)

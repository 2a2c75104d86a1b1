"""/people and /institutions: an admin runs the focal-point network in chat,
with the same storage functions as `nmrf-bot focal-points` and `nmrf-bot
institutions`. Lists are paged; each change (add an institution or a focal
point, change a role, language, time zone or working hours, end a term, end
it with a successor) is shown before it applies and needs Confirm. A focal
point added, or a successor, gets their one-time invite at once (the
Telegram deep link and the Slack code); `/people invite` makes a fresh one.

Typed forms, one line each (a name may be "quoted", or is the words before
the e-mail address):

    /people add MOJ Ana Pérez ana@x.gov technical es America/Montevideo
    /people role|language|timezone|hours ID|EMAIL VALUE
    /people end ID|EMAIL [YYYY-MM-DD]
    /people replace ID|EMAIL Luis Gómez luis@x.gov [ROLE] [LANGUAGE] [TIMEZONE]
    /institutions add MIDES "Ministry of Social Development" [KIND] [PARENT]
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from handlers import buttons, confirm_step, refusals
from handlers.chat_port import Button
from handlers.hours import set_working_hours
from handlers.secretariat_routes import Action, Command, Dialogue, Routes
from handlers.turn import SecretariatTurn
from messages import LANGUAGE_NAMES, SUPPORTED_LANGUAGES, local_date
from storage.conversations import INVITE_LIFETIME, create_invite
from storage.enums import FocalPointRole, InstitutionKind, SecretariatRole
from storage.errors import InvalidValue, NotFound, RegistryError
from storage.models import FocalPoint, Institution
from storage.network import (
    FocalPointData,
    FocalPointEdit,
    InstitutionData,
    add_focal_point,
    add_institution,
    edit_focal_point,
    end_focal_point,
    find_focal_point,
    get_institution,
    list_focal_points,
    list_institutions,
    succeed_focal_point,
)
from storage.validation import check_email, check_timezone, check_working_hours, institution_code

CONFIRM = "people.confirm"
buttons.register_dialogue("people", "p", {CONFIRM: "k"})
ADMIN = SecretariatRole.ADMIN
PAGE = 10
# A person's details as typed are shown back, cut to these lengths.
SHOWN = 80

# A word wrapped in straight or typographic double quotes is one word.
_WORDS = re.compile(r"[\"“”«»]\s*([^\"“”«»]*?)\s*[\"“”«»]|(\S+)")


def words_of(text: str) -> list[str]:
    return [quoted or bare for quoted, bare in _WORDS.findall(text)]


# --- /people -----------------------------------------------------------------


async def people(turn: SecretariatTurn, args: str) -> None:
    words = words_of(args)
    verb = words[0].lower() if words else "list"
    rest = words[1:]
    if verb == "list" and len(rest) <= 1:
        await _list_people(turn, rest[0] if rest else None, 1)
    elif verb == "add" and rest:
        await _propose_add(turn, rest[0], rest[1:])
    elif verb == "invite" and len(rest) == 1:
        await _invite_command(turn, rest[0])
    elif verb in _FIELDS and len(rest) == 2:
        await _propose_change(turn, verb, rest[0], rest[1])
    elif verb == "end" and len(rest) in (1, 2):
        await _propose_end(turn, rest[0], rest[1] if len(rest) == 2 else None)
    elif verb == "replace" and len(rest) >= 3:
        await _propose_replace(turn, rest[0], rest[1:])
    elif len(words) == 1 and not verb.isdigit() and verb not in _VERBS:
        # /people MOJ: that institution's people.
        await _list_people(turn, words[0], 1)
    else:
        turn.say("people.usage")


_FIELDS = ("role", "language", "timezone", "hours")
_VERBS = frozenset({"list", "add", "invite", "end", "replace", *_FIELDS})


async def _list_people(turn: SecretariatTurn, code: str | None, page: int) -> None:
    if code is not None and await _institution(turn, code) is None:
        return
    found = await list_focal_points(turn.session, institution=code, today=turn.local_day(turn.now))
    shown, more = _page(found, page)
    lines = [turn.text("people.header", count=len(found))]
    for person in shown:
        platforms = ", ".join(sorted({i.platform.value.capitalize() for i in person.identities})) or turn.text("people.not_joined")
        lines.append(turn.text(
            "people.line", id=person.id, name=person.name, email=person.email or "-", institution=person.institution.code,
            role=_role_name(turn, person.role), language=person.language, timezone=person.timezone,
            hours=person.working_hours or turn.text("people.default_hours"), platforms=platforms,
        ))
    turn.say_lines("people.list", lines, _pager(turn, "pp:people", page, more, code or "-"))


# --- /institutions -------------------------------------------------------------


async def institutions(turn: SecretariatTurn, args: str) -> None:
    words = words_of(args)
    verb = words[0].lower() if words else "list"
    if verb == "list" and len(words) <= 1:
        await _list_institutions(turn, 1)
    elif verb == "add" and len(words) >= 3:
        await _propose_institution(turn, words[1], words[2:])
    else:
        turn.say("institutions.usage")


async def _list_institutions(turn: SecretariatTurn, page: int) -> None:
    found = await list_institutions(turn.session)
    shown, more = _page(found, page)
    lines = [turn.text("institutions.header", count=len(found))]
    for institution, active in shown:
        lines.append(turn.text(
            "institutions.line", code=institution.code, name=institution.name, kind=turn.text(f"institutions.kind_{institution.kind.value}"),
            parent=institution.parent.code if institution.parent else "-", count=active,
        ))
    turn.say_lines("institutions.list", lines, _pager(turn, "pp:institutions", page, more, "-"))


async def _propose_institution(turn: SecretariatTurn, code: str, words: list[str]) -> None:
    """``CODE NAME... [KIND] [PARENT]``: a kind's word among the last two
    ends the name (so "Ministry of Justice" is a name, not a kind)."""
    try:
        code = institution_code(code)
    except InvalidValue:
        turn.say("institutions.bad_code", code=code[:SHOWN])
        return
    at = next((i for i in range(len(words) - 1, max(len(words) - 3, 0), -1) if _kind(words[i]) is not None), None)
    name = " ".join(words if at is None else words[:at])
    kind = InstitutionKind.MINISTRY if at is None else _kind(words[at])
    after = [] if at is None else words[at + 1:]
    if not name or len(after) > 1 or kind is None:
        turn.say("institutions.usage")
        return
    if await turn.session.scalar(select(Institution.id).where(Institution.code == code)) is not None:
        turn.say("institutions.exists", code=code)
        return
    parent = None
    if after:
        found = await _institution(turn, after[0])
        if found is None:
            return
        parent = found.code
    turn.begin(CONFIRM, op="institution", code=code, institution_name=name, kind=kind.value, parent=parent)
    _ask_confirm(turn, turn.text(
        "institutions.confirm_add", code=code, name=name, kind=turn.text(f"institutions.kind_{kind.value}"), parent=parent or "-",
    ))


def _kind(word: str) -> InstitutionKind | None:
    try:
        return InstitutionKind(word.lower())
    except ValueError:
        return None


# --- proposals ---------------------------------------------------------------


async def _propose_add(turn: SecretariatTurn, code: str, words: list[str]) -> None:
    institution = await _institution(turn, code)
    if institution is None:
        return
    person = await _person_details(turn, words, default_role=None, default_language=turn.user.language, default_timezone=turn.user.timezone)
    if person is None:
        return
    name, email, role, language, timezone = person
    turn.begin(CONFIRM, op="add", institution=institution.code, person=name, email=email, role=role.value, language=language, timezone=timezone)
    _ask_confirm(turn, turn.text(
        "people.confirm_add", name=name, email=email, institution=f"{institution.code} ({institution.name})",
        role=_role_name(turn, role), language=LANGUAGE_NAMES[language], timezone=timezone,
    ))


async def _person_details(
    turn: SecretariatTurn, words: list[str], *, default_role: FocalPointRole | None, default_language: str, default_timezone: str,
) -> tuple[str, str, FocalPointRole, str, str] | None:
    """``NAME... EMAIL ROLE [LANGUAGE] [TIMEZONE]`` (the role may be left out
    when there is a default): each bad part told, or None."""
    at = next((i for i, w in enumerate(words) if "@" in w), None)
    if at is None or at == 0:
        turn.say("people.usage")
        return None
    name, rest = " ".join(words[:at]).strip(), words[at + 1:]
    if not name:
        # '"" ana@x' quoted nothing: a person needs a name before any summary.
        turn.say("people.usage")
        return None
    try:
        email = check_email(words[at])
    except InvalidValue:
        turn.say("people.bad_email", email=words[at][:SHOWN])
        return None
    if len(rest) > 3 or (not rest and default_role is None):
        turn.say("people.usage")
        return None
    role = _role(turn, rest[0]) if rest else default_role
    if role is None:
        turn.say("people.bad_role", role=rest[0][:SHOWN], known=_roles_known(turn))
        return None
    language = rest[1].lower() if len(rest) > 1 else default_language
    if language not in SUPPORTED_LANGUAGES:
        turn.say("people.bad_language", language=language[:16], known=", ".join(SUPPORTED_LANGUAGES))
        return None
    timezone = rest[2] if len(rest) > 2 else default_timezone
    try:
        check_timezone(timezone)
    except InvalidValue:
        turn.say("people.bad_timezone", timezone=timezone[:SHOWN])
        return None
    if await turn.session.scalar(select(FocalPoint.id).where(FocalPoint.email == email)) is not None:
        turn.say("people.exists", email=email)
        return None
    return name, email, role, language, timezone


async def _propose_change(turn: SecretariatTurn, field: str, who: str, value: str) -> None:
    person = await _person(turn, who)
    if person is None:
        return
    if field == "role":
        role = _role(turn, value)
        if role is None:
            turn.say("people.bad_role", role=value[:SHOWN], known=_roles_known(turn))
            return
        stored, was, shown = role.value, _role_name(turn, person.role), _role_name(turn, role)
    elif field == "language":
        if value.lower() not in SUPPORTED_LANGUAGES:
            turn.say("people.bad_language", language=value[:16], known=", ".join(SUPPORTED_LANGUAGES))
            return
        stored, was, shown = value.lower(), LANGUAGE_NAMES.get(person.language, person.language), LANGUAGE_NAMES[value.lower()]
    elif field == "timezone":
        try:
            stored = check_timezone(value)
        except InvalidValue:
            turn.say("people.bad_timezone", timezone=value[:SHOWN])
            return
        was, shown = person.timezone, stored
    else:
        default = turn.text("people.default_hours")
        if value.lower() == "default":
            stored, shown = "", default
        else:
            try:
                stored = check_working_hours(value)
            except InvalidValue:
                turn.say("people.bad_hours", hours=value[:SHOWN])
                return
            shown = stored
        was = person.working_hours or default
    turn.begin(CONFIRM, op="change", who=person.id, field=field, value=stored)
    _ask_confirm(turn, turn.text("people.confirm_change", name=person.name, what=turn.text(f"people.field_{field}"), was=was, value=shown))


async def _propose_end(turn: SecretariatTurn, who: str, day: str | None) -> None:
    person = await _person(turn, who)
    if person is None:
        return
    last_day = turn.local_day(turn.now)
    if day is not None:
        try:
            last_day = date.fromisoformat(day)
        except ValueError:
            turn.say("people.bad_date", date=day[:SHOWN])
            return
    if last_day < person.active_from:
        turn.say("people.end_before_start", name=person.name, date=local_date(person.active_from, turn.language))
        return
    if person.active_to is not None and last_day > person.active_to:
        # A later end would bring them back in office (storage refuses it too).
        turn.say("people.already_ended", name=person.name, date=local_date(person.active_to, turn.language))
        return
    turn.begin(CONFIRM, op="end", who=person.id, day=last_day.isoformat())
    _ask_confirm(turn, turn.text("people.confirm_end", name=person.name, institution=person.institution.code,
                                 date=local_date(last_day, turn.language)))


async def _propose_replace(turn: SecretariatTurn, who: str, words: list[str]) -> None:
    predecessor = await _person(turn, who)
    if predecessor is None:
        return
    today = turn.local_day(turn.now)
    if predecessor.active_to is not None and predecessor.active_to < today:
        turn.say("people.already_ended", name=predecessor.name, date=local_date(predecessor.active_to, turn.language))
        return
    if predecessor.active_from >= today:
        turn.say("people.replace_too_soon", name=predecessor.name, date=local_date(predecessor.active_from, turn.language))
        return
    details = await _person_details(turn, words, default_role=predecessor.role, default_language=predecessor.language,
                                    default_timezone=predecessor.timezone)
    if details is None:
        return
    name, email, role, language, timezone = details
    turn.begin(CONFIRM, op="replace", who=predecessor.id, person=name, email=email, role=role.value, language=language, timezone=timezone,
               day=today.isoformat())
    _ask_confirm(turn, turn.text(
        "people.confirm_replace", name=predecessor.name, institution=predecessor.institution.code,
        last=local_date(date.fromordinal(today.toordinal() - 1), turn.language), successor=name, email=email,
        role=_role_name(turn, role), date=local_date(today, turn.language),
    ))


def _ask_confirm(turn: SecretariatTurn, summary: str) -> None:
    confirm_step.ask(turn, "people.confirm", "pp:apply", summary)


# --- buttons -------------------------------------------------------------------


async def on_action(turn: SecretariatTurn, argument: str) -> bool:
    verb, _, rest = argument.partition(":")
    if verb == "people" and (found := re.fullmatch(r"(\d+):(.+)", rest)):
        await _list_people(turn, None if found[2] == "-" else found[2], int(found[1]))
        return True
    if verb == "institutions" and (found := re.fullmatch(r"(\d+):-", rest)):
        await _list_institutions(turn, int(found[1]))
        return True
    if verb == "invite" and rest.isdigit():
        await _invite_command(turn, rest)
        return True
    if (data := confirm_step.confirmed(turn, verb, CONFIRM)) is None:
        return False
    try:
        await _apply(turn, data)
    except RegistryError as exc:
        # What changed since the summary (someone else's edit): told, nothing kept.
        turn.say("people.failed", reason=refusals.reason(turn, exc))
    return True


async def _apply(turn: SecretariatTurn, data: dict[str, Any]) -> None:
    op = data["op"]
    today = turn.local_day(turn.now)
    if op == "institution":
        made = await add_institution(turn.session, InstitutionData(data["code"], data["institution_name"], InstitutionKind(data["kind"]),
                                                                   data.get("parent")))
        turn.say("institutions.added", code=made.code, name=made.name)
    elif op == "add":
        person = await add_focal_point(turn.session, FocalPointData(
            name=data["person"], institution_code=data["institution"], role=FocalPointRole(data["role"]), language=data["language"],
            timezone=data["timezone"], active_from=today, email=data["email"],
        ))
        turn.say("people.added", id=person.id, name=person.name, institution=data["institution"])
        await invite(turn, person)
    elif op == "change":
        person = await find_focal_point(turn.session, str(data["who"]))
        field, value = data["field"], data["value"]
        if field == "hours":
            await set_working_hours(turn.session, person, value or None, turn.policy, turn.now)
        else:
            edit = FocalPointEdit(**{field: FocalPointRole(value) if field == "role" else value})
            person, _ = await edit_focal_point(turn.session, str(person.id), edit)
        turn.say("people.changed", name=person.name, what=turn.text(f"people.field_{field}"))
    elif op == "end":
        last_day = date.fromisoformat(data["day"])
        person = await end_focal_point(turn.session, str(data["who"]), last_day)
        turn.say("people.ended", name=person.name, date=local_date(last_day, turn.language))
    else:
        predecessor, successor = await succeed_focal_point(turn.session, str(data["who"]), FocalPointData(
            name=data["person"], institution_code=(await _institution_of(turn, int(data["who"]))), role=FocalPointRole(data["role"]),
            language=data["language"], timezone=data["timezone"], active_from=date.fromisoformat(data["day"]), email=data["email"],
        ))
        turn.say("people.replaced", name=predecessor.name, successor=successor.name, id=successor.id)
        await invite(turn, successor)


async def _institution_of(turn: SecretariatTurn, focal_point_id: int) -> str:
    found = await turn.session.scalar(
        select(Institution.code).join(FocalPoint, FocalPoint.institution_id == Institution.id).where(FocalPoint.id == focal_point_id)
    )
    if found is None:
        raise NotFound(f"focal point {focal_point_id} is no longer there", key="refusal.people.gone", values={"id": focal_point_id})
    return found


async def _invite_command(turn: SecretariatTurn, who: str) -> None:
    person = await _person(turn, who)
    if person is None:
        return
    if person.active_to is not None and person.active_to < turn.local_day(turn.now):
        turn.say("people.invite_ended", name=person.name)
        return
    await invite(turn, person)


async def invite(turn: SecretariatTurn, person: FocalPoint) -> None:
    """The same one-time invite as `nmrf-bot focal-points invite`: the
    Telegram deep link (or the code, without Telegram) and the Slack code."""
    code = await create_invite(turn.session, person.id, turn.now)
    link = turn.invite_links.telegram_link(code)
    telegram = turn.text("people.invite_link", link=link) if link else turn.text("people.invite_no_link", code=code)
    until = local_date(turn.local_day(turn.now + INVITE_LIFETIME), turn.language)
    turn.say("people.invite", name=person.name, telegram=telegram, code=code, until=until)


# --- lookups ---------------------------------------------------------------------


async def _person(turn: SecretariatTurn, who: str) -> FocalPoint | None:
    try:
        found = await find_focal_point(turn.session, who)
    except NotFound:
        turn.say("people.unknown", who=who[:SHOWN])
        return None
    # With its institution, for the summaries.
    return await turn.session.scalar(select(FocalPoint).where(FocalPoint.id == found.id).options(selectinload(FocalPoint.institution)))


async def _institution(turn: SecretariatTurn, code: str) -> Institution | None:
    try:
        return await get_institution(turn.session, code)
    except (NotFound, InvalidValue):
        turn.say("people.unknown_institution", code=code[:SHOWN])
        return None


def _role(turn: SecretariatTurn, word: str) -> FocalPointRole | None:
    """A role by its English value or its name in the reader's language."""
    word = word.strip().lower()
    for role in FocalPointRole:
        if word in (role.value, _role_name(turn, role).lower()):
            return role
    return None


def _role_name(turn: SecretariatTurn, role: FocalPointRole | str) -> str:
    return turn.text(f"role.{FocalPointRole(role).value}")


def _roles_known(turn: SecretariatTurn) -> str:
    return ", ".join(role.value for role in FocalPointRole)


def _page(rows: list[Any], page: int) -> tuple[list[Any], bool]:
    start = (max(page, 1) - 1) * PAGE
    return rows[start:start + PAGE], len(rows) > start + PAGE


def _pager(turn: SecretariatTurn, verb: str, page: int, more: bool, key: str) -> tuple[tuple[Button, ...], ...]:
    row = []
    if page > 1:
        row.append(turn.button("button.previous_page", f"{verb}:{page - 1}:{key}"))
    if more:
        row.append(turn.button("button.next_page", f"{verb}:{page + 1}:{key}"))
    return (tuple(row),) if row else ()



ROUTES = Routes(
    commands={
        "/people": Command(ADMIN, people, "people.help_people"),
        "/institutions": Command(ADMIN, institutions, "people.help_institutions"),
    },
    actions={"pp": Action(ADMIN, on_action)},
    dialogues={"people.": Dialogue(ADMIN, confirm_step.press_reminder("people.press"))},
)

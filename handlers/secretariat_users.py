"""/secretariat: an admin manages the secretariat's users in chat, as
`nmrf-bot secretariat` does on the command line (the same storage
functions): list them, add one with a role, change a role, remove one,
invite one. Each change is shown before it applies and needs Confirm; a
user added gets a one-time invite code for their chat account at once.

Every user, whatever their role, picks the language the bot writes to them
in (/language, or the proposal their app's locale brings when they link)."""

from __future__ import annotations

from handlers import buttons, confirm_step, refusals
from handlers.chat_port import OutgoingMessage, command_words
from handlers.onboarding import language_buttons, propose_language
from handlers.secretariat_routes import Action, Command, Dialogue, Routes
from handlers.turn import SecretariatTurn
from messages import SUPPORTED_LANGUAGES, local_date, t
from storage.enums import Platform, SecretariatRole
from storage.errors import InvalidValue, NotFound, RegistryError
from storage.secretariat import (
    SecretariatUserData,
    add_secretariat_user,
    edit_secretariat_user,
    find_secretariat_user,
    list_secretariat_users,
)
from storage.models import SecretariatUser
from storage.secretariat_invites import INVITE_LIFETIME, create_secretariat_invite
from storage.validation import check_email, check_timezone

CONFIRM = "secretariat_users.confirm"
buttons.register_dialogue("secretariat_users", "s", {CONFIRM: "k"})
ADMIN, VIEWER = SecretariatRole.ADMIN, SecretariatRole.VIEWER


async def command(turn: SecretariatTurn, args: str) -> None:
    words = args.split()
    verb = words[0].lower() if words else "list"
    if verb == "list":
        await _list(turn)
    elif verb == "add":
        await _propose_add(turn, words[1:])
    elif verb == "role" and len(words) == 3:
        await _propose_edit(turn, words[1], role=words[2])
    elif verb == "remove" and len(words) == 2:
        await _propose_edit(turn, words[1], active=False)
    elif verb == "invite" and len(words) == 2:
        await _invite(turn, words[1])
    elif verb == "restore" and len(words) == 2:
        await _propose_edit(turn, words[1], active=True)
    else:
        turn.say("secretariat_users.usage")


def secretariat_welcome(user: SecretariatUser, platform: Platform) -> OutgoingMessage:
    """The first thing a secretariat user reads once their invite linked the account."""
    lang = user.language
    role = t(f"role.{SecretariatRole(user.role).value}", lang)
    return OutgoingMessage("secretariat_users.welcome", t("secretariat_users.welcome", lang, name=user.name, role=role, **command_words(platform)),
                           language=lang)


def secretariat_joined(user: SecretariatUser, platform: Platform, locale: str | None) -> list[OutgoingMessage]:
    """What a secretariat user reads once their invite linked the account:
    the welcome, then, when their app (Telegram's ``language_code``, Slack's
    user locale) speaks another language the bot speaks, the offer to switch,
    as a focal point gets (handlers.onboarding.propose_language)."""
    return [secretariat_welcome(user, platform), *propose_language(user, platform, locale)]


async def choose_language(turn: SecretariatTurn, args: str) -> None:
    turn.say("language.choose", language_buttons())


async def set_language(turn: SecretariatTurn, argument: str) -> bool:
    """``lang:CODE``, from /language or the proposal: from now on in that language."""
    if argument not in SUPPORTED_LANGUAGES:
        return False
    turn.user.language = argument
    turn.say("language.set")
    return True


async def invite(turn: SecretariatTurn, user: SecretariatUser) -> None:
    """A fresh one-time code for ``user``, with how to use it on each platform."""
    code = await create_secretariat_invite(turn.session, user, turn.now)
    turn.say("secretariat_users.invite", name=user.name, code=code,
             until=local_date(turn.local_day(turn.now + INVITE_LIFETIME), turn.language))


async def _list(turn: SecretariatTurn) -> None:
    users = await list_secretariat_users(turn.session)
    lines = [turn.text("secretariat_users.header", count=len(users))]
    for user in users:
        platforms = ", ".join(sorted({i.platform.value.capitalize() for i in user.identities})) or turn.text("secretariat_users.no_account")
        lines.append(turn.text(
            "secretariat_users.line" if user.active else "secretariat_users.line_inactive",
            id=user.id, name=user.name, email=user.email, role=turn.text(f"role.{SecretariatRole(user.role).value}"), platforms=platforms,
        ))
    turn.say_lines("secretariat_users.list", lines)


def _role(turn: SecretariatTurn, word: str) -> SecretariatRole | None:
    """A role by its English value or its name in the reader's language."""
    word = word.strip().lower()
    for role in SecretariatRole:
        if word in (role.value, turn.text(f"role.{role.value}").lower()):
            return role
    return None


async def _propose_add(turn: SecretariatTurn, words: list[str]) -> None:
    """``add NAME... EMAIL ROLE [LANGUAGE] [TIMEZONE]``: the e-mail ends the name."""
    at = next((i for i, w in enumerate(words) if "@" in w), None)
    if at is None or at == 0 or at + 1 >= len(words):
        turn.say("secretariat_users.usage")
        return
    name, rest = " ".join(words[:at]), words[at + 1:]
    try:
        email = check_email(words[at])
    except InvalidValue:
        turn.say("secretariat_users.bad_email", email=words[at][:80])
        return
    role = _role(turn, rest[0])
    if role is None:
        turn.say("secretariat_users.bad_role", role=rest[0][:40])
        return
    language = rest[1].lower() if len(rest) > 1 else turn.user.language
    if language not in SUPPORTED_LANGUAGES:
        turn.say("secretariat_users.bad_language", language=language[:16], known=", ".join(SUPPORTED_LANGUAGES))
        return
    timezone = rest[2] if len(rest) > 2 else turn.user.timezone
    try:
        check_timezone(timezone)
    except InvalidValue:
        turn.say("secretariat_users.bad_timezone", timezone=timezone[:64])
        return
    if len(rest) > 3:
        turn.say("secretariat_users.usage")
        return
    try:
        await find_secretariat_user(turn.session, email)
    except NotFound:
        pass
    else:
        turn.say("secretariat_users.exists", email=email)
        return
    turn.begin(CONFIRM, op="add", person=name, email=email, role=role.value, language=language, timezone=timezone)
    _ask_confirm(turn, turn.text("secretariat_users.confirm_add", name=name, email=email,
                                 role=turn.text(f"role.{role.value}"), language=language, timezone=timezone))


async def _propose_edit(turn: SecretariatTurn, who: str, *, role: str | None = None, active: bool | None = None) -> None:
    try:
        user = await find_secretariat_user(turn.session, who)
    except NotFound:
        turn.say("secretariat_users.unknown", who=who[:80])
        return
    if role is not None:
        wanted = _role(turn, role)
        if wanted is None:
            turn.say("secretariat_users.bad_role", role=role[:40])
            return
        summary = turn.text("secretariat_users.confirm_role", name=user.name, email=user.email,
                            was=turn.text(f"role.{SecretariatRole(user.role).value}"), role=turn.text(f"role.{wanted.value}"))
        turn.begin(CONFIRM, op="edit", who=str(user.id), role=wanted.value)
    else:
        key = "secretariat_users.confirm_remove" if active is False else "secretariat_users.confirm_restore"
        summary = turn.text(key, name=user.name, email=user.email)
        turn.begin(CONFIRM, op="edit", who=str(user.id), active=active)
    _ask_confirm(turn, summary)


async def _invite(turn: SecretariatTurn, who: str) -> None:
    try:
        user = await find_secretariat_user(turn.session, who)
    except NotFound:
        turn.say("secretariat_users.unknown", who=who[:80])
        return
    if not user.active:
        turn.say("secretariat_users.invite_removed", name=user.name)
        return
    await invite(turn, user)


def _ask_confirm(turn: SecretariatTurn, summary: str) -> None:
    confirm_step.ask(turn, "secretariat_users.confirm", "su:apply", summary)


async def on_action(turn: SecretariatTurn, argument: str) -> bool:
    if (data := confirm_step.confirmed(turn, argument, CONFIRM)) is None:
        return False
    try:
        if data["op"] == "add":
            user = await add_secretariat_user(turn.session, SecretariatUserData(
                name=data["person"], email=data["email"], language=data["language"], timezone=data["timezone"],
                role=SecretariatRole(data["role"]),
            ))
            turn.say("secretariat_users.added", id=user.id, name=user.name, role=turn.text(f"role.{SecretariatRole(user.role).value}"))
            await invite(turn, user)
        else:
            role = SecretariatRole(data["role"]) if data.get("role") else None
            user = await edit_secretariat_user(turn.session, data["who"], role=role, active=data.get("active"), now=turn.now)
            turn.say("secretariat_users.changed", id=user.id, name=user.name, role=turn.text(f"role.{SecretariatRole(user.role).value}"),
                     state=turn.text("secretariat_users.active" if user.active else "secretariat_users.inactive"))
    except RegistryError as exc:
        if exc.key == "refusal.secretariat.last_admin":
            turn.say("secretariat_users.last_admin")
            return True
        turn.say("secretariat_users.failed", reason=refusals.reason(turn, exc))
    return True



ROUTES = Routes(
    commands={
        "/secretariat": Command(ADMIN, command, "secretariat.help_secretariat"),
        "/language": Command(VIEWER, choose_language, "secretariat.help_language", resets=False),
    },
    actions={"su": Action(ADMIN, on_action), "lang": Action(VIEWER, set_language)},
    dialogues={"secretariat_users.": Dialogue(ADMIN, confirm_step.press_reminder("secretariat_users.press"))},
)

"""/priority in chat: a recommendation's priority by the Guide's five
criteria, with the reason for each, for any secretariat user; a coordinator
changes what the secretariat says of them, or overrides the level with a
reason, through the same storage functions as `nmrf-bot priorities`.

    /priority 12
    /priority 12,15-20 budget none|some|unknown
    /priority 12 national yes|no|unknown
    /priority 12 urgency|recurrence|marginalised yes|no|auto
    /priority 12 override high|medium|low REASON      (override none clears it)

Each word may be typed in the reader's language too (``/priority 12
override alta ...``, ``national sí``): the catalogs' ``words.*`` lists
(messages.words), English always understood.

Nothing changes before Confirm; the summary names the change and the levels
it leads to, worked out in a savepoint that is rolled back."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from handlers import buttons, confirm_step, refusals, roles
from handlers.priority_reasons import criterion_name, level_name, reason_lines
from handlers.secretariat_routes import Action, Command, Dialogue, Routes
from handlers.turn import SecretariatTurn
from messages import local_number, shorten
from messages.words import first_word, read_word, shown
from storage.audit import current_actor
from storage.enums import BudgetImplications, Priority, SecretariatRole
from storage.errors import InvalidValue, RegistryError
from storage.models import Recommendation
from storage.priorities import Code, explain, level_counts, override, set_inputs
from storage.selection import parse_ids

CONFIRM = "priority.confirm"
buttons.register_dialogue("priority", "y", {CONFIRM: "k"})
VIEWER, COORDINATOR = SecretariatRole.VIEWER, SecretariatRole.COORDINATOR
VERB = "priority"
_SHOWN = 12

# The word typed -> (the set_inputs argument, the values it takes -> stored value).
_INPUTS: dict[str, tuple[str, dict[str, Any]]] = {
    "budget": ("budget", {"none": BudgetImplications.NONE.value, "some": BudgetImplications.SOME.value, "unknown": None}),
    "national": ("national", {"yes": True, "no": False, "unknown": None}),
    "urgency": ("urgency", {"yes": True, "no": False, "auto": None}),
    "recurrence": ("recurrence", {"yes": True, "no": False, "auto": None}),
    "marginalised": ("marginalised", {"yes": True, "no": False, "auto": None}),
}
_CRITERION_OF = {"national": Code.NATIONAL_PRIORITY, "urgency": Code.URGENCY, "recurrence": Code.RECURRENCE, "marginalised": Code.MARGINALISED}
_LEVELS = {**{p.value: p.value for p in Priority}, "none": None}
# What may be typed for each word above, in any language (messages.words).
_NAME_WORDS = {
    "budget": "words.criterion.budget", "national": "words.criterion.national", "urgency": "words.criterion.urgency",
    "recurrence": "words.criterion.recurrence", "marginalised": "words.criterion.marginalised", "override": "words.override",
}
_VALUE_WORDS = {
    "yes": "words.yes", "no": "words.no", "unknown": "words.unknown", "auto": "words.auto", "none": "words.none", "some": "words.some",
    **{p.value: f"words.priority.{p.value}" for p in Priority},
}


def _choices(values: Any) -> dict[str, str]:
    return {v: _VALUE_WORDS[v] for v in values}


def _ids_text(ids: list[int]) -> str:
    shown = ", ".join(f"#{i}" for i in ids[:_SHOWN])
    return shown + (f" (+{len(ids) - _SHOWN})" if len(ids) > _SHOWN else "")


def _levels_text(turn: SecretariatTurn, counts: dict[Priority | None, int]) -> str:
    return ", ".join(f"{level_name(level, turn.language)} {local_number(n, turn.language)}" for level, n in counts.items())


async def command(turn: SecretariatTurn, args: str) -> None:
    words = args.split(maxsplit=3)
    try:
        ids = list(parse_ids(words[0])) if words else []
    except (InvalidValue, ValueError):
        ids = []
    if not ids:
        turn.say("priority.usage")
        return
    known = set((await turn.session.scalars(select(Recommendation.id).where(Recommendation.id.in_(ids)))).all())
    if missing := [i for i in ids if i not in known]:
        turn.say("priority.unknown_ids", ids=_ids_text(missing))
        return
    if len(words) == 1:
        await _show(turn, ids)
        return
    change = _parse_change(turn, words[1:], ",".join(str(i) for i in ids))
    if change is None:
        return
    if not roles.require(turn, COORDINATOR):
        return
    savepoint = await turn.session.begin_nested()
    try:
        await _apply(turn, ids, change)
        after = await level_counts(turn.session, ids)
    except RegistryError as exc:
        await savepoint.rollback()
        turn.say("priority.failed", reason=refusals.reason(turn, exc))
        return
    await savepoint.rollback()
    turn.begin(CONFIRM, ids=ids, **change)
    summary = turn.text("priority.confirm", ids=_ids_text(ids), change=_change_text(turn, change), after=_levels_text(turn, after))
    confirm_step.ask(turn, "priority.confirm", f"{VERB}:apply", summary)


async def _show(turn: SecretariatTurn, ids: list[int]) -> None:
    if len(ids) != 1:
        turn.say("priority.one_to_show")
        return
    view = await explain(turn.session, ids[0])
    text = await turn.session.scalar(select(Recommendation.text).where(Recommendation.id == ids[0]))
    lines = [turn.text("priority.header", id=ids[0], text=shorten(" ".join((text or "").split()), 200))]
    turn.say_lines("priority.header", lines + reason_lines(view, turn.language))


def _parse_change(turn: SecretariatTurn, words: list[str], ids: str) -> dict[str, Any] | None:
    """The change typed after the ids, or None once the person was told what is wrong."""
    language = turn.language
    what = read_word(words[0], _NAME_WORDS, language)
    typed = words[1] if len(words) > 1 else ""
    if what == "override":
        levels = _choices(_LEVELS)
        value = read_word(typed, levels, language)
        if value is None:
            turn.say("priority.bad_value", what=first_word(_NAME_WORDS[what], language), choices=shown(levels, language), value=shorten(typed, 20))
            return None
        reason = " ".join(words[2].split()) if len(words) > 2 else ""
        if _LEVELS[value] is not None and not reason:
            turn.say("priority.reason_needed", ids=ids, level=first_word(levels[value], language))
            return None
        return {"field": "override", "value": _LEVELS[value], "reason": reason or None}
    if what is None or what not in _INPUTS:
        turn.say("priority.usage")
        return None
    stored = _INPUTS[what][1]
    value = read_word(typed, _choices(stored), language)
    if value is None or len(words) > 2:
        turn.say(
            "priority.bad_value", what=first_word(_NAME_WORDS[what], language), choices=shown(_choices(stored), language),
            value=shorten(" ".join(words[1:]), 20),
        )
        return None
    return {"field": what, "value": stored[value], "reason": None}


async def _apply(turn: SecretariatTurn, ids: list[int], change: dict[str, Any]) -> None:
    actor = current_actor()
    if change["field"] == "override":
        level = Priority(change["value"]) if change["value"] else None
        await override(turn.session, ids, level, change["reason"], actor=actor, now=turn.now)
        return
    argument, _ = _INPUTS[change["field"]]
    value = change["value"]
    if argument == "budget" and value is not None:
        value = BudgetImplications(value)
    await set_inputs(turn.session, ids, **{argument: value}, actor=actor, now=turn.now)


def _change_text(turn: SecretariatTurn, change: dict[str, Any]) -> str:
    field, value = change["field"], change["value"]
    if field == "override":
        if value is None:
            return turn.text("priority.change.clear")
        return turn.text("priority.change.override", level=level_name(value, turn.language), reason=change["reason"])
    if field == "budget":
        return turn.text("priority.change.budget", value=turn.text(f"priority.value.{value or 'unknown'}"))
    if value is None:
        word = "unknown" if field == "national" else "auto"
    else:
        word = "yes" if value else "no"
    return turn.text("priority.change.criterion", criterion=criterion_name(_CRITERION_OF[field], turn.language), value=turn.text(f"priority.value.{word}"))


async def on_action(turn: SecretariatTurn, argument: str) -> bool:
    if (data := confirm_step.confirmed(turn, argument, CONFIRM)) is None:
        return False
    ids = [int(i) for i in data["ids"]]  # type: ignore[union-attr]
    change = {"field": data["field"], "value": data.get("value"), "reason": data.get("reason")}
    try:
        await _apply(turn, ids, change)
    except RegistryError as exc:
        turn.say("priority.failed", reason=refusals.reason(turn, exc))
        return True
    turn.say("priority.done", ids=_ids_text(ids), after=_levels_text(turn, await level_counts(turn.session, ids)))
    return True


ROUTES = Routes(
    commands={"/priority": Command(VIEWER, command, "secretariat.help_priority")},
    actions={VERB: Action(COORDINATOR, on_action)},
    dialogues={"priority.": Dialogue(COORDINATOR, confirm_step.press_reminder("priority.press"))},
)

"""What a person is told when something is refused: a button that no
longer fits the conversation (which item it was for, and what is open
instead), and a change the registry refuses, in the reader's language."""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal

from handlers.buttons import KINDS, Place, Verdict, place_of
from handlers.turn import Exchange
from messages import local_date
from messages.numbers import local_decimal
from storage.errors import RegistryError

log = logging.getLogger(__name__)

# The catalog key naming each kind's item, as the button's ("was") and as
# what is open now ("now").
_WAS = {"u": "stale.was_update", "q": "stale.was_request", "v": "stale.was_comment", "c": "stale.was_compose"}
_NOW = {"u": "stale.now_update", "q": "stale.now_request", "v": "stale.now_comment", "c": "stale.now_compose"}


def _key(table: dict[str, str], kind: str, which: str) -> str:
    # A dialogue registered by a capability (buttons.register_dialogue) names its own.
    if kind in table:
        return table[kind]
    prefix = next(p for p, k in KINDS.items() if k == kind)
    return f"stale.{which}_{prefix}"


def was(turn: Exchange, sent: Place | None) -> str:
    """The item a button was for; a list's buttons have none."""
    if sent is None:
        return turn.text("stale.was_list")
    return turn.text(_key(_WAS, sent.kind, "was"), id=sent.item)


def now(turn: Exchange, place: Place) -> str:
    return turn.text(_key(_NOW, place.kind, "now"), id=place.item)


def refuse(turn: Exchange, sent: Place | None, verdict: Verdict) -> None:
    """Say why a press was not taken; the state is left as it was."""
    open_now = place_of(turn.state)
    if verdict is Verdict.OTHER and open_now is not None:
        said, open_said = was(turn, sent), now(turn, open_now)
        # A dialogue whose open state reads as its subject (an older list of
        # /links while a newer one is open): "for X; X" would repeat it.
        if said == open_said:
            turn.say("stale.same", was=said)
        else:
            turn.say("stale.other", was=said, now=open_said)
    elif verdict is Verdict.OTHER_STEP:
        turn.say("stale.step", was=was(turn, sent))
    else:
        turn.say("stale.closed", was=was(turn, sent))


def refuse_unbound(turn: Exchange) -> None:
    """A dialogue button from before buttons named their step: it cannot be
    told which question it answered, so it answers none."""
    open_now = place_of(turn.state)
    if open_now is None:
        turn.say("stale.old")
    else:
        turn.say("stale.old_busy", now=now(turn, open_now))


def reason(turn: Exchange, error: RegistryError) -> str:
    """Why the registry refused, as the reader reads it: the error's catalog
    message (storage.errors: ``key`` and ``values``), its dates and decimal
    figures in the reader's locale. An error raised without a key is told as it was
    raised, in English, and logged, so the gap is seen and filled."""
    if error.key is None:
        log.warning("a refusal without a catalog key reached chat: %s", error)
        return str(error)
    values = {name: _local(v, turn.language) for name, v in error.values.items()}
    return turn.text(error.key, **values)


def _local(value: object, language: str) -> object:
    """A date or a decimal figure (a budget, an indicator's value) as the reader writes it."""
    if isinstance(value, date):
        return local_date(value, language)
    if isinstance(value, Decimal):
        return local_decimal(value, language)
    return value

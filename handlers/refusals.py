"""What a person is told when a button no longer fits the conversation:
which item it was for, and what is open instead."""

from __future__ import annotations

from handlers.buttons import KINDS, Place, Verdict, place_of
from handlers.turn import Exchange

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
        turn.say("stale.other", was=was(turn, sent), now=now(turn, open_now))
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

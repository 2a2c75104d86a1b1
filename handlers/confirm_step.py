"""The confirmation step every secretariat change in chat ends with: the
summary of what would change, with Confirm and Cancel bound to that very
question, and a reminder for words typed while it waits."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from handlers.secretariat_routes import TextRun
from handlers.turn import SecretariatTurn


async def in_savepoint(turn: SecretariatTurn, change: Callable[[], Awaitable[Any]], *, keep: bool) -> Any:
    """Run a change in a savepoint: kept, or rolled back (the summary is the
    change itself, worked out and undone). A refusal rolls it back whatever
    was written before it."""
    savepoint = await turn.session.begin_nested()
    try:
        result = await change()
    except BaseException:
        await savepoint.rollback()
        raise
    if keep:
        await savepoint.commit()
    else:
        await savepoint.rollback()
    return result


def ask(turn: SecretariatTurn, key: str, apply: str, summary: str) -> None:
    """Say ``summary`` as ``key`` with Confirm (the action ``apply``) and Cancel;
    the state must already be the confirmation's (the buttons bind to it)."""
    turn.say_lines(key, [summary], ((turn.bound("button.confirm", apply), turn.bound("button.cancel", "cancel")),))


def confirmed(turn: SecretariatTurn, argument: str, state: str) -> dict[str, Any] | None:
    """What the summary proposed, when ``argument`` is the Confirm press
    ("apply") of the ``state`` question; the dialogue then ends, so the same
    press cannot apply twice. None for any other press."""
    if argument != "apply" or turn.state.name != state:
        return None
    data = dict(turn.state.data)
    turn.reset()
    return data


def press_reminder(key: str) -> TextRun:
    """A dialogue's typed-text handler while it waits for a button: answered with ``key``."""

    async def remind(turn: SecretariatTurn, text: str) -> bool:
        turn.say(key)
        return True

    return remind

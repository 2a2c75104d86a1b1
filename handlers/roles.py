"""Secretariat roles in chat: whether a user may do something, and the
refusal that says which role it needs."""

from __future__ import annotations

from handlers.turn import SecretariatTurn
from storage.enums import SecretariatRole


def permits(turn: SecretariatTurn, needed: SecretariatRole) -> bool:
    return SecretariatRole(turn.user.role).allows(needed)


def refuse(turn: SecretariatTurn, needed: SecretariatRole) -> None:
    """Nothing is changed; the person hears the role it takes and their own."""
    turn.say("role.needed", needed=turn.text(f"role.{needed.value}"), yours=turn.text(f"role.{SecretariatRole(turn.user.role).value}"))


def require(turn: SecretariatTurn, needed: SecretariatRole) -> bool:
    """True when the user may; otherwise refused, and False."""
    if permits(turn, needed):
        return True
    refuse(turn, needed)
    return False

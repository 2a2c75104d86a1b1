"""Buttons bound to the one question they were sent with.

A button asked inside a dialogue (a status, Skip, Done, Save, Cancel, a
request's due date...) stays pressable in the chat long after the dialogue
moved on. So its payload says where it was sent: the kind of conversation,
its item, its step, and a token of that very conversation, which tells an
old update of #1 from a new one. A press is taken only where all of them
match the open conversation; anything else is refused, naming the item.

    st:in_progress|u12.s.3fa9c1      status of #12, status step
    save|u12.c.3fa9c1                Save on #12's confirmation
    cancel|q5.a.77e0b2               Cancel an answer to request #5
    bc:send|c.f.0c4d11               Send on the secretariat's draft

Buttons that open something (an item, a list, a request) carry their ids
instead and are refused while another dialogue is open.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from enum import Enum

from storage.conversations import State

SEPARATOR = "|"
# The token's length: short enough for Telegram's 64 bytes, and collisions
# only matter between two dialogues of one person.
_TOKEN_BYTES = 3
_PLACE = re.compile(r"^(?P<kind>[a-z])(?P<item>\d*)\.(?P<step>[a-z])\.(?P<token>[0-9a-f]{6})$")

# Each dialogue step's letter, and the kind its state name belongs to.
STEPS = {
    "update.status": "s", "update.done": "d", "update.evidence": "e", "update.next_step": "n",
    "update.next_date": "t", "update.confirm": "c",
    "request.answer": "a",
    "validate.comment": "m",
    "compose.text": "x", "compose.due": "w", "compose.target": "g", "compose.values": "v", "compose.confirm": "f",
}
KINDS = {"update": "u", "request": "q", "validate": "v", "compose": "c"}
# Letters kept for issue 14's capabilities (register_dialogue): i imports,
# a assignments, d deadlines, p people, h closure days, r validation returns,
# s secretariat users.
# Where the item's id is kept in each kind's state data.
_ITEM_KEYS = {"u": "rec", "q": "request", "v": "rec", "c": None}


def register_dialogue(prefix: str, kind: str, steps: dict[str, str], item_key: str | None = None) -> None:
    """Make a new capability's dialogue bindable: ``prefix`` is its state
    names' first part ("deadline" for "deadline.confirm"), ``kind`` one
    letter no other dialogue uses, ``steps`` each state name's letter, and
    ``item_key`` where its item's id is kept in the state data (or None).
    A stale button of it is then refused like any other (handlers.refusals
    names the item with the catalog keys ``stale.was_<prefix>`` and
    ``stale.now_<prefix>``, given ``{id}``)."""
    if KINDS.get(prefix, kind) != kind or (kind in KINDS.values() and KINDS.get(prefix) != kind):
        raise ValueError(f"dialogue kind {kind!r} or prefix {prefix!r} is taken")
    if len(kind) != 1 or not kind.isascii() or not kind.islower():
        raise ValueError(f"a dialogue kind is one lowercase letter, not {kind!r}")
    for name, step in steps.items():
        if not name.startswith(prefix + "."):
            raise ValueError(f"state {name!r} is not under {prefix!r}")
        STEPS[name] = step
    KINDS[prefix] = kind
    _ITEM_KEYS[kind] = item_key


# What the buttons of the previous version sent inside a dialogue, unbound.
_UNBOUND = re.compile(r"^(st:\w+|skip|done|save|cancel|due:\d+|to:\w+|bc:send)$")


@dataclass(frozen=True)
class Place:
    """Where in which conversation a button was sent, or where one is now."""

    kind: str
    item: int | None
    step: str
    token: str


class Verdict(Enum):
    MATCH = "match"
    # The same conversation, another of its questions.
    OTHER_STEP = "other_step"
    # Another conversation is open.
    OTHER = "other"
    # Nothing is open: the button's conversation ended or timed out.
    CLOSED = "closed"


def conversation_token(delivery_id: str) -> str:
    """A token for a dialogue started by this delivery; deterministic, so a
    redelivered start gives the same one."""
    return hashlib.blake2s(delivery_id.encode("utf-8"), digest_size=_TOKEN_BYTES).hexdigest()


def place_of(state: State) -> Place | None:
    """Where the open dialogue is; None when none is (idle, a list)."""
    step = STEPS.get(state.name)
    if step is None:
        return None
    kind = KINDS[state.name.partition(".")[0]]
    key = _ITEM_KEYS[kind]
    item = state.data.get(key) if key else None
    return Place(kind, int(item) if item is not None else None, step, str(state.data.get("conversation", "")))


def bind(action: str, state: State) -> str:
    """``action`` for the question the dialogue in ``state`` is asking."""
    place = place_of(state)
    if place is None or not place.token:
        raise ValueError(f"no dialogue to bind {action!r} to in state {state.name!r}")
    item = "" if place.item is None else str(place.item)
    return f"{action}{SEPARATOR}{place.kind}{item}.{place.step}.{place.token}"


@dataclass(frozen=True)
class Pressed:
    """A press taken apart: the action, and where its button was sent."""

    action: str
    place: Place | None
    # A dialogue button without a place: sent by the previous version, or garbled.
    unbound: bool = False


def read(payload: str) -> Pressed:
    action, separator, rest = payload.partition(SEPARATOR)
    if not separator:
        return Pressed(action, None, unbound=bool(_UNBOUND.match(action)))
    found = _PLACE.match(rest)
    if found is None:
        return Pressed(action, None, unbound=True)
    item = found["item"]
    return Pressed(action, Place(found["kind"], int(item) if item else None, found["step"], found["token"]))


def verdict(state: State, sent: Place) -> Verdict:
    now = place_of(state)
    if now is None:
        return Verdict.CLOSED
    if (now.kind, now.item, now.token) != (sent.kind, sent.item, sent.token):
        return Verdict.OTHER
    return Verdict.MATCH if now.step == sent.step else Verdict.OTHER_STEP


def in_progress(state: State) -> Place | None:
    """The dialogue a press would interrupt, if one is open."""
    return place_of(state)


def settles(state: State, action: str | None) -> bool:
    """Whether pressing ``action`` settles the message it sits on (shows the
    choice, drops the buttons): a step's button (status, Skip, Done, Save,
    Cancel, a request's due date...) taken by the very question it was sent
    with. A button that opens something (an item, a list, a request, "no
    change") is unbound and keeps its message's buttons usable; so does a
    press refused as out of turn, which chose nothing."""
    if not action:
        return False
    pressed = read(action)
    return pressed.place is not None and verdict(state, pressed.place) is Verdict.MATCH

"""Several recommendation ids in one button payload.

"No change on all of these" must name its items in Telegram's 64 bytes of
callback data. Sorted ids are written as base-36 gaps: #1204, #1205, #1311
become "xg.1.2y" (nca:...); a linked group's members fold back into the group
when pressed. When they do not fit, the button names the
outbox message it is sent in instead (nco:KEY), whose "#N: no change"
buttons are the list: the message itself keeps it.
"""

from __future__ import annotations

import string

from handlers.chat_port import MAX_ACTION_BYTES

NO_CHANGE_ALL = "nca:"
NO_CHANGE_OF_MESSAGE = "nco:"

_DIGITS = string.digits + string.ascii_lowercase


def _b36(number: int) -> str:
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = _DIGITS[rest] + out
        if not number:
            return out


def encode(ids: list[int]) -> str:
    ordered = sorted(set(ids))
    gaps = [ordered[0]] + [b - a for a, b in zip(ordered, ordered[1:], strict=False)] if ordered else []
    return ".".join(_b36(g) for g in gaps)


def decode(text: str) -> list[int] | None:
    """The ids, or None when the text is not an encoded list."""
    if not text:
        return None
    ids: list[int] = []
    for part in text.split("."):
        try:
            gap = int(part, 36)
        except ValueError:
            return None
        if ids and gap <= 0:
            return None
        ids.append(gap + (ids[-1] if ids else 0))
    return ids


def fitting(prefix: str, ids: list[int], limit: int) -> list[int]:
    """The longest head of ``ids`` whose payload ``prefix + encode(...)`` fits in ``limit`` bytes."""
    head = list(ids)
    while head and len((prefix + encode(head)).encode("utf-8")) > limit:
        head.pop()
    return head


def no_change_all_action(ids: list[int], outbox_key: str | None, by_message: bool = False) -> str | None:
    """The payload of "No change on all of these" for ``ids``: the ids when
    they fit (and ``by_message`` is not asked), else the message's outbox
    key; None when neither fits."""
    if not by_message and fitting(NO_CHANGE_ALL, ids, MAX_ACTION_BYTES) == ids:
        return NO_CHANGE_ALL + encode(ids)
    if outbox_key is not None and len((NO_CHANGE_OF_MESSAGE + outbox_key).encode("utf-8")) <= MAX_ACTION_BYTES:
        return NO_CHANGE_OF_MESSAGE + outbox_key
    return None


def no_change_items(buttons: list[list[dict[str, str]]]) -> list[tuple[int, int | None]]:
    """(recommendation, request or None) of each "no change" button of a
    message as the outbox keeps it (OutgoingMessage.to_dict)."""
    found: list[tuple[int, int | None]] = []
    for row in buttons:
        for button in row:
            verb, _, rest = str(button.get("action", "")).partition(":")
            parts = rest.split(":")
            if verb == "same" and 1 <= len(parts) <= 2 and all(p.isdigit() for p in parts):
                found.append((int(parts[0]), int(parts[1]) if len(parts) == 2 else None))
    return found


def no_change_groups(buttons: list[list[dict[str, str]]]) -> list[tuple[int, int | None]]:
    """(linked group, request or None) of each group's "no change" button
    (``gsame:G`` or ``gsame:G:REQUEST``) of a message as the outbox keeps it."""
    found: list[tuple[int, int | None]] = []
    for row in buttons:
        for button in row:
            verb, _, rest = str(button.get("action", "")).partition(":")
            parts = rest.split(":")
            if verb == "gsame" and 1 <= len(parts) <= 2 and all(p.isdigit() for p in parts):
                found.append((int(parts[0]), int(parts[1]) if len(parts) == 2 else None))
    return found

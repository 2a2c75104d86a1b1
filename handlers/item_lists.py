"""Several recommendation ids in one button payload.

"No change on all of these" must name its items in Telegram's 64 bytes of
callback data. Sorted ids are written as base-36 gaps: #1204, #1205, #1311
become "xg.1.2y". A national registry's ids are small; a digest lists a few.
"""

from __future__ import annotations

import string

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

"""Telegram's HTML parse mode, as the Bot API applies it to a message text.

The stand-in uses this to refuse what Telegram refuses (an unsupported or
unclosed tag, a stray ``<``) and to measure a message the way Telegram does:
"1-4096 characters after entities parsing", counted in UTF-16 code units.
"""

from __future__ import annotations

import html
import re

SUPPORTED_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
    "tg-spoiler", "span", "blockquote", "tg-emoji",
}
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z-]+\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>]+))*)\s*>")
_ENTITY = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|lt|gt|amp|quot);")


class EntityError(ValueError):
    """What Telegram says after "Bad Request: can't parse entities: "."""


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def parse_html(text: str) -> tuple[str, list[dict[str, object]]]:
    """(plain text, entities) of an HTML-formatted message, or EntityError."""
    out: list[str] = []
    entities: list[dict[str, object]] = []
    open_tags: list[tuple[str, int]] = []
    position = 0
    while position < len(text):
        char = text[position]
        if char == "<":
            match = _TAG.match(text, position)
            if match is None:
                raise EntityError(
                    f"Unsupported start tag \"{text[position + 1:position + 8]}\" at byte offset "
                    f"{len(text[:position].encode('utf-8'))}"
                )
            closing, name = match.group(1) == "/", match.group(2).lower()
            if name not in SUPPORTED_TAGS:
                raise EntityError(f"Unsupported start tag \"{name}\" at byte offset {len(text[:position].encode('utf-8'))}")
            offset = utf16_length("".join(out))
            if closing:
                if not open_tags or open_tags[-1][0] != name:
                    raise EntityError(f"Unmatched end tag at byte offset {len(text[:position].encode('utf-8'))}, expected \"</{open_tags[-1][0] if open_tags else ''}>\", found \"</{name}>\"")
                _, start = open_tags.pop()
                if offset > start:
                    entities.append({"type": _entity_type(name), "offset": start, "length": offset - start})
            else:
                open_tags.append((name, offset))
            position = match.end()
        elif char == "&":
            match = _ENTITY.match(text, position)
            if match:
                out.append(html.unescape(match.group(0)))
                position = match.end()
            else:
                # Telegram keeps a '&' that starts no known entity as it is.
                out.append(char)
                position += 1
        else:
            out.append(char)
            position += 1
    if open_tags:
        raise EntityError(f"Can't find end tag corresponding to start tag \"{open_tags[-1][0]}\"")
    return "".join(out), sorted(entities, key=lambda e: (e["offset"], e["length"]))


def _entity_type(tag: str) -> str:
    return {
        "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline", "ins": "underline",
        "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough", "a": "text_link",
        "code": "code", "pre": "pre", "tg-spoiler": "spoiler", "span": "spoiler", "blockquote": "blockquote",
        "tg-emoji": "custom_emoji",
    }[tag]

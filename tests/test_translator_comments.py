"""Every message a translator cannot read alone carries a translator's comment (issue 17).

A plural entry or a message with {placeholders} gets a gettext extracted
comment (``#.`` lines) saying where it appears, who reads it and what each
placeholder holds, so a new message added without one fails here.
"""

from __future__ import annotations

import io
import re
from importlib import resources

from babel.messages.pofile import read_po

PLACEHOLDER = re.compile(r"\{[A-Za-z_]\w*[^{}]*\}")


def uncommented(po: bytes) -> list[str]:
    """The keys of the entries that need a comment and have none."""
    missing = []
    for message in read_po(io.BytesIO(po)):
        if not message.id:
            continue
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        needs = message.pluralizable or any(PLACEHOLDER.search(form or "") for form in forms)
        if needs and not any(line.strip() for line in message.auto_comments):
            missing.append(message.id[0] if isinstance(message.id, tuple) else message.id)
    return missing


def test_every_plural_or_placeholder_entry_in_english_has_a_translators_comment() -> None:
    po = resources.files("messages").joinpath("locale", "en.po").read_bytes()
    assert uncommented(po) == []


def test_an_entry_without_a_comment_is_found() -> None:
    po = (
        b'msgid ""\nmsgstr ""\n"Plural-Forms: nplurals=2; plural=(n != 1);\\n"\n\n'
        b'#. {id}: a recommendation\'s number.\nmsgid "a.commented"\nmsgstr "#{id}"\n\n'
        b'msgid "a.placeholder"\nmsgstr "Hello {name}"\n\n'
        b'msgid "a.plural"\nmsgid_plural "a.plural"\nmsgstr[0] "one"\nmsgstr[1] "many"\n\n'
        b'msgid "a.plain"\nmsgstr "Cancel"\n'
    )
    assert uncommented(po) == ["a.placeholder", "a.plural"]

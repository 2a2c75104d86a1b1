"""What a deadline is called, in its reader's language.

Names made from a deadline's kind, mechanism and State are not stored in any
language (storage.deadlines.DeadlineName); the secretariat's own titles and a
request's own words are shown as given, in the reader's frame.
"""

from __future__ import annotations

from messages import t
from storage.deadlines import DeadlineName


def deadline_name(name: DeadlineName, language: str) -> str:
    if name.request_id is not None:
        return t("deadline.request", language, id=name.request_id, text=name.title or "")
    if name.title:
        return name.title
    if name.serves is not None:
        return t("deadline.inputs_for", language, title=deadline_name(name.serves, language))
    if name.mechanism:
        text = t(f"deadline.kind_of.{name.kind.value}", language, mechanism=name.mechanism)
    else:
        text = t(f"deadline.kind.{name.kind.value}", language)
    return f"{text} ({name.country})" if name.country else text

"""A linked group (storage.linked_items.Item) in the words the focal point
knows it by, wherever it is listed or answered: its title (the secretariat's,
or its first member's first words), its recommendations' numbers, the
institution's own answers on them, and its Update button, whose form on
Slack is titled with the group, never with the group's internal number."""

from __future__ import annotations

from collections.abc import Mapping

from handlers.chat_port import Button
from messages import shorten, t
from storage.enums import ImplementationStatus
from storage.linked_items import GROUP_TITLE, Item


def group_title(item: Item) -> str:
    """The group's one name (storage.linked_items.group_names gives every
    item its title); an item built without it falls back to its first member."""
    return item.title or shorten(" ".join(item.members[0].text.split()), GROUP_TITLE)


def group_ids(item: Item) -> str:
    return ", ".join(f"#{i}" for i in item.ids)


def mechanisms(item: Item) -> str:
    """"UPR ×2, CEDAW ×1"."""
    return ", ".join(f"{code} ×{n}" for code, n in item.mechanism_counts())


def own_summary(item: Item, own: Mapping[int, ImplementationStatus], language: str) -> str:
    """The institution's own answers on the members: "in progress ×2, no answer yet ×1"."""
    counts: dict[str, int] = {}
    for rec in item.ids:
        said = t(f"status.{own[rec].value}", language) if rec in own else t("recommendation.own_none", language)
        counts[said] = counts.get(said, 0) + 1
    return ", ".join(f"{said} ×{n}" if len(counts) > 1 or n > 1 else said for said, n in counts.items())


def form_title(item: Item, language: str) -> str:
    """The update form's title: the group's, then the numbers its one answer is saved on."""
    return t("group.form_title", language, title=group_title(item), ids=group_ids(item), count=len(item.members))


def update_button(item: Item, label: str, language: str, request: int | None = None) -> Button:
    """The group's Update: its form on Slack, titled with the group; the dialogue elsewhere."""
    assert item.group_id is not None
    action = f"gupd:{item.group_id}" + (f":{request}" if request is not None else "")
    return Button(label, action, form="update", form_title=form_title(item, language))

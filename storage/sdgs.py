"""The Sustainable Development Goals a recommendation is tagged with, read
from its SDG tags (TagKind.SDG) in whatever form the source wrote them.

UHRI writes a target with its title ("16.3 - Promote the rule of law") or a
whole goal in capitals ("16 - PEACE, JUSTICE AND STRONG INSTITUTIONS"); the
template takes bare targets ("5.2; 16.3"); people type "Goal 5", "SDG 5",
"ODS 5", "Objectif 5", "Target 5.2" or "Meta 5.2". ``parse_sdg`` is the one
place those become a goal (1-17) and, when there is one, a target ("5.2",
"16.a"); every report groups and filters by what it returns. A tag that is no
SDG at all is left out of the SDG columns and groups, not guessed at.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from messages import t
from storage.enums import TagKind
from storage.errors import InvalidValue
from storage.models import Recommendation, Tag, recommendation_tags

GOALS = range(1, 18)
# The 169 targets of the 2030 Agenda (A/RES/70/1): per goal, how many numbered
# targets (5.1 ... 5.6) and which lettered means of implementation (5.a ...).
# A "5.99" or "17.z" names no target, and is refused, not kept as one.
_TARGETS: dict[int, tuple[int, str]] = {
    1: (5, "ab"), 2: (5, "abc"), 3: (9, "abcd"), 4: (7, "abc"), 5: (6, "abc"), 6: (6, "ab"),
    7: (3, "ab"), 8: (10, "ab"), 9: (5, "abc"), 10: (7, "abc"), 11: (7, "abc"), 12: (8, "abc"),
    13: (3, "ab"), 14: (7, "abc"), 15: (9, "abc"), 16: (10, "ab"), 17: (19, ""),
}


def targets_of(goal: int) -> str:
    """ "5.1 to 5.6 and 5.a to 5.c", for a message naming what a goal has."""
    numbered, lettered = _TARGETS[goal]
    letters = f" and {goal}.{lettered[0]} to {goal}.{lettered[-1]}" if lettered else ""
    return f"{goal}.1 to {goal}.{numbered}{letters}"


def target_ranges(goal: int) -> tuple[str, str, str | None, str | None]:
    """("5.1", "5.6", "5.a", "5.c"): a goal's first and last numbered targets
    and lettered ones (None for goal 17, which has none), for a message in
    any language naming what a goal has."""
    numbered, lettered = _TARGETS[goal]
    if not lettered:
        return f"{goal}.1", f"{goal}.{numbered}", None, None
    return f"{goal}.1", f"{goal}.{numbered}", f"{goal}.{lettered[0]}", f"{goal}.{lettered[-1]}"


def is_target(goal: int, tail: str) -> bool:
    """Whether goal.tail ("5" and "2", "16" and "a") is one of the 169 targets."""
    if goal not in _TARGETS:
        return False
    numbered, lettered = _TARGETS[goal]
    tail = tail.lower()
    if tail.isdigit():
        return not tail.startswith("0") and 1 <= int(tail) <= numbered
    return len(tail) == 1 and tail in lettered
# Enough ids for one IN (...) on either backend.
_CHUNK = 2000
# A word naming a goal or a target before its number, in the UN's three languages here.
_WORDS = r"(?:sdgs?|goal|target|objective|odd|ods|objectif|objetivo|cible|meta)"
_SDG = re.compile(
    rf"^\s*(?:{_WORDS}\s*(?:n[°o.]?\s*)?)*(?P<goal>\d{{1,2}})(?:\.(?P<target>\d{{1,2}}|[a-z]))?(?=$|[\s:.,;)\-–—])",
    re.IGNORECASE,
)


class Sdg(NamedTuple):
    goal: int
    # "5.2", "16.a"; None: the goal as a whole.
    target: str | None = None


def parse_sdg(tag_value: str) -> Sdg | None:
    """(goal, target) of one tag value, or None when it names no SDG."""
    # A bullet left on by a source ("- 5.2 - ...") is no part of the value.
    found = _SDG.match(tag_value.replace("\u00a0", " ").lstrip("-•*– \t"))
    if found is None:
        return None
    goal = int(found["goal"])
    if goal not in GOALS:
        return None
    target = found["target"]
    if target and not is_target(goal, target):
        return None
    return Sdg(goal, f"{goal}.{target.lower()}" if target else None)


def sort_key(sdg: Sdg) -> tuple[int, int, int, str]:
    """Goal by goal, the goal itself first, then 5.1 < 5.2 < 5.10 < 5.a, as the UN lists them."""
    if sdg.target is None:
        return (sdg.goal, 0, 0, "")
    tail = sdg.target.split(".", 1)[1]
    return (sdg.goal, 1, int(tail), "") if tail.isdigit() else (sdg.goal, 2, 0, tail)


def ordered(sdgs: Iterable[Sdg]) -> list[Sdg]:
    """Each once, in the UN's order; a goal tagged both alone and through a
    target is kept once, by its targets."""
    unique = set(sdgs)
    with_targets = {s.goal for s in unique if s.target is not None}
    return sorted((s for s in unique if s.target is not None or s.goal not in with_targets), key=sort_key)


def goals_of(sdgs: Iterable[Sdg]) -> list[int]:
    return sorted({s.goal for s in sdgs})


def targets_text(sdgs: Sequence[Sdg]) -> str:
    """ "5.2; 16.3; 16.a"; a goal tagged without a target shows as its number: "5; 16.3"."""
    return "; ".join(s.target or str(s.goal) for s in sdgs)


def goal_name(goal: int, language: str) -> str:
    """The goal's short title as the UN gives it in the language: "Gender equality"."""
    return t(f"sdg.goal.{goal}", language)


def goal_label(goal: int, language: str) -> str:
    """ "SDG 5: Gender equality", "ODD 5 : Égalité entre les sexes"."""
    return t("sdg.goal_label", language, goal=goal, name=goal_name(goal, language))


@dataclass(frozen=True)
class SdgFilter:
    """What ``--sdg`` asks for: a goal ("5") or one target ("5.2")."""

    goal: int
    target: str | None = None

    def matches(self, sdg: Sdg) -> bool:
        return sdg.goal == self.goal and (self.target is None or sdg.target == self.target)

    def __str__(self) -> str:
        return self.target or str(self.goal)


def parse_filter(text: str) -> SdgFilter:
    """ "5" or "5.2" (or "SDG 5", "Goal 5"), else InvalidValue naming it."""
    sdg = parse_sdg(text) if text.strip() else None
    # The whole of what was typed must be the goal or target: "5.2 and 7" is not one.
    if sdg is None or not re.fullmatch(rf"\s*(?:{_WORDS}\s*)?\d{{1,2}}(?:\.(?:\d{{1,2}}|[a-z]))?\s*", text, re.IGNORECASE):
        raise InvalidValue(f"not an SDG goal or target: {text!r} (a goal is 1 to 17, e.g. 5; a target e.g. 5.2 or 16.a)")
    return SdgFilter(sdg.goal, sdg.target)


async def matching_tag_ids(session: AsyncSession, wanted: SdgFilter) -> list[int]:
    """The SDG tags that name the goal or target asked for, whatever their
    spelling. The registry holds a few hundred SDG tags at most: they are read
    and parsed here, once, rather than each recommendation's."""
    rows = await session.execute(select(Tag.id, Tag.value).where(Tag.kind == TagKind.SDG))
    return [tag_id for tag_id, value in rows if (sdg := parse_sdg(value)) is not None and wanted.matches(sdg)]


def tagged_with(tag_ids: Sequence[int]) -> ColumnElement[bool]:
    """A condition on recommendations: tagged with any of these tags."""
    return Recommendation.id.in_(select(recommendation_tags.c.recommendation_id).where(recommendation_tags.c.tag_id.in_(tag_ids)))


async def sdg_tags(session: AsyncSession) -> dict[int, Sdg]:
    """Every SDG tag's id and what it names (a few hundred at most)."""
    rows = await session.execute(select(Tag.id, Tag.value).where(Tag.kind == TagKind.SDG))
    return {tag_id: sdg for tag_id, value in rows if (sdg := parse_sdg(value)) is not None}


async def sdgs_of(session: AsyncSession, recommendation_ids: Sequence[int], tags: dict[int, Sdg] | None = None) -> dict[int, list[Sdg]]:
    """Each recommendation's SDGs, ordered, in one query a chunk of ids
    (never one a recommendation: the matrix reads a quarter of a million);
    ``tags``: sdg_tags(), read once by a caller asking chunk after chunk.

    The query asks for every tag of the chunk and keeps the SDGs here: asked
    to join the tags by kind, SQLite probes each SDG tag for each id, twelve
    times slower than reading the chunk's few tags a recommendation."""
    known = await sdg_tags(session) if tags is None else tags
    found: dict[int, list[Sdg]] = {}
    if not known:
        return found
    for start in range(0, len(recommendation_ids), _CHUNK):
        chunk = recommendation_ids[start:start + _CHUNK]
        rows = await session.execute(
            select(recommendation_tags.c.recommendation_id, recommendation_tags.c.tag_id).where(recommendation_tags.c.recommendation_id.in_(chunk))
        )
        for rec, tag_id in rows:
            sdg = known.get(tag_id)
            if sdg is not None:
                found.setdefault(rec, []).append(sdg)
    # Most recommendations have one SDG, already in order.
    return {rec: sdgs if len(sdgs) == 1 else ordered(sdgs) for rec, sdgs in found.items()}


async def goals_in(session: AsyncSession, recommendations: Select[tuple[int]] | None) -> list[int]:
    """The goals any of ``recommendations`` (a SELECT of ids; None: the whole
    registry) is tagged with: the matrix's goal columns, known before its rows stream."""
    tags = await sdg_tags(session)
    used: set[int] = set()
    for goal in sorted({sdg.goal for sdg in tags.values()}):
        # One EXISTS a goal, on the tag index: at most 17 short queries.
        ids = [tag_id for tag_id, sdg in tags.items() if sdg.goal == goal]
        tagged = select(recommendation_tags.c.recommendation_id).where(recommendation_tags.c.tag_id.in_(ids))
        if recommendations is not None:
            tagged = tagged.where(recommendation_tags.c.recommendation_id.in_(recommendations))
        if (await session.execute(select(tagged.exists()))).scalar():
            used.add(goal)
    return sorted(used)

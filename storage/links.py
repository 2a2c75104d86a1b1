"""Linked groups of recommendations, as the secretariat manages them: the
suggestions `links suggest` keeps, their confirmation or dismissal, and the
groups made, split, merged, renamed and dissolved by hand.

Rules every change keeps:
- a recommendation is in at most one group (the primary key of
  link_group_members says so; a clear InvalidValue names the group first);
- a group's members are recommendations to one State;
- a group has two members or more: what would leave one alone takes it out
  too, and an emptied group is dissolved;
- groups are never deleted, only emptied, since updates given for a group
  (status_updates.link_group_id) and confirmed suggestions point at them;
- every change is an ORM insert, update or delete, so the audit log keeps
  it with the actor (moves between groups are updates of group_id: a split
  or a merge leaves the whole history there).

Suggestions only ever ADD: among recommendations in no group, a new group;
or ungrouped recommendations the suggester put beside members of exactly one
existing group, to be added to that group (the suggestion's group_id names
it while it is pending). Recommendations of two groups are never suggested
together: merging is the secretariat's call (`links merge`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage import priorities
from storage.audit import acting_as
from storage.enums import LinkDecision, TagKind
from storage.errors import Conflict, InvalidValue, NotFound, ids_value
from storage.matching import same_name
from storage.models import Assignment, Institution, LinkGroup, LinkGroupMember, LinkSuggestion, Mechanism, Recommendation, Tag, recommendation_tags

if TYPE_CHECKING:
    from storage.link_similarity import LinkItem, SuggestedGroup

TITLE_MAX = 300
# How many ids an error message names before "and N more".
_NAMED = 8


@dataclass(frozen=True)
class Brief:
    """A recommendation as a list of linked items shows it."""

    id: int
    mechanism: str
    country: str
    text: str


@dataclass(frozen=True)
class GroupSummary:
    id: int
    title: str | None
    members: int
    mechanisms: tuple[str, ...]
    countries: tuple[str, ...]
    created_at: datetime
    created_by: str


@dataclass(frozen=True)
class StoredSuggestions:
    """What one `links suggest` run left: the suggestions it added, those it
    found again still pending (listed too, by their old numbers), how many
    it left out because the secretariat had dismissed them, and how many
    pending ones it replaced by a larger one (a new recommendation joined)."""

    new: list[LinkSuggestion]
    pending: list[LinkSuggestion]
    dismissed_again: int
    superseded: int = 0

    @property
    def shown(self) -> list[LinkSuggestion]:
        return sorted(self.new + self.pending, key=lambda s: (-s.score, s.id))


def _state(country: str) -> str:
    return " ".join(country.split()).casefold()


def _ids_text(ids: Sequence[int]) -> str:
    shown = ", ".join(f"#{i}" for i in ids[:_NAMED])
    return shown + (f" and {len(ids) - _NAMED} more" if len(ids) > _NAMED else "")


# --- reading -----------------------------------------------------------------


async def briefs(session: AsyncSession, rec_ids: Iterable[int]) -> dict[int, Brief]:
    ids = sorted(set(rec_ids))
    found: dict[int, Brief] = {}
    for start in range(0, len(ids), 500):
        rows = await session.execute(
            select(Recommendation.id, Mechanism.code, Recommendation.country, Recommendation.text)
            .join(Mechanism, Mechanism.id == Recommendation.mechanism_id)
            .where(Recommendation.id.in_(ids[start : start + 500]))
        )
        for rec_id, code, country, body in rows:
            found[rec_id] = Brief(rec_id, code, country, body)
    return found


async def _existing(session: AsyncSession, rec_ids: Sequence[int]) -> dict[int, Brief]:
    """The recommendations named, every one of which must exist."""
    if not rec_ids:
        raise InvalidValue("no recommendation ids given", key="refusal.links.no_ids")
    found = await briefs(session, rec_ids)
    missing = [i for i in rec_ids if i not in found]
    if missing:
        raise NotFound(f"no recommendation {_ids_text(missing)}", key="refusal.links.unknown_recommendations", values={"ids": ids_value(missing)})
    return found


def _one_state(found: dict[int, Brief]) -> None:
    states: dict[str, list[int]] = defaultdict(list)
    for brief in found.values():
        states[_state(brief.country)].append(brief.id)
    if len(states) > 1:
        by_state = sorted(states.values(), key=lambda ids: min(ids))
        parts = "; ".join(f"{found[ids[0]].country}: {_ids_text(sorted(ids))}" for ids in by_state)
        raise InvalidValue(
            f"a group links recommendations to one State only, not several ({parts})",
            key="refusal.links.several_states",
            values={"states": "; ".join(f"{ids_value(sorted(ids))} ({found[ids[0]].country})" for ids in by_state)},
        )


async def group_of(session: AsyncSession, rec_id: int) -> LinkGroup | None:
    return await session.scalar(
        select(LinkGroup).join(LinkGroupMember, LinkGroupMember.group_id == LinkGroup.id).where(LinkGroupMember.recommendation_id == rec_id)
    )


async def groups_of(session: AsyncSession, rec_ids: Iterable[int]) -> dict[int, int]:
    """recommendation id -> group id, for those of ``rec_ids`` in a group."""
    ids = sorted(set(rec_ids))
    found: dict[int, int] = {}
    for start in range(0, len(ids), 500):
        rows = await session.execute(
            select(LinkGroupMember.recommendation_id, LinkGroupMember.group_id).where(
                LinkGroupMember.recommendation_id.in_(ids[start : start + 500])
            )
        )
        found.update({r: g for r, g in rows})
    return found


async def member_ids(session: AsyncSession, group_id: int) -> list[int]:
    return list(
        (
            await session.scalars(
                select(LinkGroupMember.recommendation_id).where(LinkGroupMember.group_id == group_id).order_by(LinkGroupMember.recommendation_id)
            )
        ).all()
    )


async def members(session: AsyncSession, group_id: int) -> list[Brief]:
    """A group's members, by id; none for a group dissolved or merged away."""
    found = await briefs(session, await member_ids(session, group_id))
    return [found[i] for i in sorted(found)]


async def get_group(session: AsyncSession, group_id: int) -> LinkGroup:
    group = await session.get(LinkGroup, group_id)
    if group is None:
        raise NotFound(f"no linked group {group_id} (see: nmrf-bot links list)", key="refusal.links.unknown_group", values={"group": group_id})
    return group


async def _live_group(session: AsyncSession, group_id: int) -> tuple[LinkGroup, list[int]]:
    group = await get_group(session, group_id)
    ids = await member_ids(session, group_id)
    if not ids:
        raise InvalidValue(
            f"group {group_id} has no members any more: it was dissolved or merged into another (see: nmrf-bot audit list)",
            key="refusal.links.group_emptied", values={"group": group_id},
        )
    return group, ids


async def list_groups(
    session: AsyncSession, *, country: str | None = None, mechanism: str | None = None
) -> list[GroupSummary]:
    """The groups that have members, newest first, with how many, from which
    mechanisms and to which State; ``country``/``mechanism`` keep the groups
    with a member to that State / from that mechanism."""
    rows = await session.execute(
        select(LinkGroup, Mechanism.code, Recommendation.country)
        .join(LinkGroupMember, LinkGroupMember.group_id == LinkGroup.id)
        .join(Recommendation, Recommendation.id == LinkGroupMember.recommendation_id)
        .join(Mechanism, Mechanism.id == Recommendation.mechanism_id)
    )
    groups: dict[int, LinkGroup] = {}
    counts: dict[int, int] = defaultdict(int)
    codes: dict[int, set[str]] = defaultdict(set)
    states: dict[int, set[str]] = defaultdict(set)
    for group, code, state in rows:
        groups[group.id] = group
        counts[group.id] += 1
        codes[group.id].add(code)
        states[group.id].add(state)
    out = []
    for gid in sorted(groups, reverse=True):
        if country and not any(_state(s) == _state(country) for s in states[gid]):
            continue
        if mechanism and not any(c.casefold() == mechanism.strip().casefold() for c in codes[gid]):
            continue
        g = groups[gid]
        out.append(GroupSummary(gid, g.title, counts[gid], tuple(sorted(codes[gid])), tuple(sorted(states[gid])), g.created_at, g.created_by))
    return out


async def get_suggestion(session: AsyncSession, suggestion_id: int) -> LinkSuggestion:
    suggestion = await session.get(LinkSuggestion, suggestion_id)
    if suggestion is None:
        raise NotFound(
            f"no link suggestion {suggestion_id} (see: nmrf-bot links list --suggestions)",
            key="refusal.links.unknown_suggestion", values={"id": suggestion_id},
        )
    return suggestion


def _covered(suggestion: LinkSuggestion, grouped: dict[int, int]) -> bool:
    """Every member is already in one group (the one it named, if it named one):
    grouped by hand since, so there is nothing left to confirm."""
    where = {grouped.get(i) for i in suggestion.member_ids}
    return len(where) == 1 and None not in where and (suggestion.group_id is None or where == {suggestion.group_id})


async def pending_suggestions(session: AsyncSession, *, country: str | None = None) -> list[LinkSuggestion]:
    """Suggestions nobody has decided yet, best first; not those whose members
    are all in one group already (made by hand since: see _settle_covered)."""
    undecided = list(
        (
            await session.scalars(
                select(LinkSuggestion).where(LinkSuggestion.decision.is_(None)).order_by(LinkSuggestion.score.desc(), LinkSuggestion.id)
            )
        ).all()
    )
    grouped = await groups_of(session, {i for s in undecided for i in s.member_ids})
    found = [s for s in undecided if not _covered(s, grouped)]
    if not country:
        return found
    known = await briefs(session, {i for s in found for i in s.member_ids})
    return [s for s in found if any(i in known and _state(known[i].country) == _state(country) for i in s.member_ids)]


async def link_items(
    session: AsyncSession, *, country: str | None = None, mechanisms: Sequence[str] = ()
) -> list[LinkItem]:
    """The recommendations as the suggester reads them: text, mechanism, State
    and their themes, affected persons and SDG targets. Grouped ones too, so
    a new recommendation can be suggested for the group it belongs with."""
    from storage.link_similarity import LinkItem

    statement = select(Recommendation.id, Recommendation.text, Mechanism.code, Recommendation.country).join(
        Mechanism, Mechanism.id == Recommendation.mechanism_id
    )
    if country:
        statement = statement.where(same_name(Recommendation.country, country.strip()))
        # A misspelt State would otherwise give an empty, silent run.
        if await session.scalar(select(Recommendation.id).where(same_name(Recommendation.country, country.strip())).limit(1)) is None:
            raise NotFound(
                f"no recommendation to {country.strip()!r} in the registry (see: nmrf-bot recommendations list)",
                key="refusal.links.unknown_country", values={"country": country.strip()},
            )
    if mechanisms:
        wanted = {m.strip().casefold() for m in mechanisms}
        codes = [c for c in (await session.scalars(select(Mechanism.code))).all() if c.casefold() in wanted]
        unknown = sorted(wanted - {c.casefold() for c in codes})
        if unknown:
            raise NotFound(f"no mechanism {', '.join(unknown)}", key="refusal.links.unknown_mechanisms", values={"mechanisms": ", ".join(unknown)})
        statement = statement.where(Mechanism.code.in_(codes))
    recs = (await session.execute(statement.order_by(Recommendation.id))).all()
    tags: dict[int, dict[TagKind, set[str]]] = defaultdict(lambda: defaultdict(set))
    kinds = (TagKind.THEME, TagKind.AFFECTED_PERSONS, TagKind.SDG)
    ids = [r[0] for r in recs]
    for start in range(0, len(ids), 500):
        rows = await session.execute(
            select(recommendation_tags.c.recommendation_id, Tag.kind, Tag.value)
            .join(Tag, Tag.id == recommendation_tags.c.tag_id)
            .where(Tag.kind.in_(kinds), recommendation_tags.c.recommendation_id.in_(ids[start : start + 500]))
        )
        for rec_id, kind, value in rows:
            tags[rec_id][kind].add(value)
    return [
        LinkItem(
            id=rec_id, text=body, mechanism=code, country=state,
            themes=frozenset(tags[rec_id][TagKind.THEME]), affected=frozenset(tags[rec_id][TagKind.AFFECTED_PERSONS]),
            sdgs=frozenset(tags[rec_id][TagKind.SDG]),
        )
        for rec_id, body, code, state in recs
    ]


# --- suggestions ---------------------------------------------------------------


async def store_suggestions(
    session: AsyncSession, groups: Sequence[SuggestedGroup], now: datetime, *, actor: str = "system"
) -> StoredSuggestions:
    """Keep what the suggester proposed, as additions only (see the module's
    docstring): members already in a group are left out, or, all from one
    group, make the suggestion one of adding the others to it. A suggestion
    the same as one pending is not kept twice, nor one the secretariat
    dismissed; one pending that the new run made larger is replaced."""
    every = {i for g in groups for i in g.member_ids}
    grouped = await groups_of(session, every)
    earlier = (
        await session.scalars(
            select(LinkSuggestion).where(or_(LinkSuggestion.decision.is_(None), LinkSuggestion.decision == LinkDecision.DISMISSED))
        )
    ).all()
    known: dict[tuple[tuple[int, ...], int | None], LinkSuggestion] = {}
    for s in earlier:
        known[(tuple(sorted(s.member_ids)), s.group_id)] = s
    new: list[LinkSuggestion] = []
    pending: list[LinkSuggestion] = []
    dismissed = 0
    seen: set[tuple[tuple[int, ...], int | None]] = set()
    for g in groups:
        free = tuple(sorted(i for i in g.member_ids if i not in grouped))
        targets = {grouped[i] for i in g.member_ids if i in grouped}
        target = next(iter(targets)) if len(targets) == 1 else None
        if not free or (target is None and len(free) < 2):
            continue
        key = (free, target)
        if key in seen:
            continue
        seen.add(key)
        before = known.get(key)
        if before is not None:
            if before.decision is None:
                pending.append(before)
            else:
                dismissed += 1
            continue
        suggestion = LinkSuggestion(member_ids=list(free), score=float(g.score), created_at=now, group_id=target)
        session.add(suggestion)
        new.append(suggestion)
    # A pending suggestion the new run made larger (its members and more, for
    # the same group) is replaced, not listed beside it: confirming either
    # would make the other fail. Nobody decided it, nothing points at it.
    found_again = {s.id for s in pending}
    superseded = [
        s for s in earlier
        if s.decision is None and s.id not in found_again
        and any(n.group_id == s.group_id and set(s.member_ids) < set(n.member_ids) for n in new)
    ]
    with acting_as(actor):
        for s in superseded:
            await session.delete(s)
        await session.flush()
    return StoredSuggestions(new, pending, dismissed, len(superseded))


async def grouped_since(session: AsyncSession, suggestions: Sequence[LinkSuggestion]) -> dict[int, dict[int, int]]:
    """suggestion id -> {member: group} for the members of a pending
    suggestion put in a group since it was made (other than the group it
    would add them to): the list says so, as confirming needs --without them."""
    grouped = await groups_of(session, {i for s in suggestions for i in s.member_ids})
    out: dict[int, dict[int, int]] = {}
    for s in suggestions:
        taken = {i: grouped[i] for i in sorted(s.member_ids) if i in grouped and grouped[i] != s.group_id}
        if taken:
            out[s.id] = taken
    return out


async def _settle_covered(session: AsyncSession, rec_ids: Iterable[int], actor: str, now: datetime) -> None:
    """Pending suggestions that a change by hand has fulfilled (all their
    members now in one group) are recorded as confirmed for that group, so
    nobody is asked to confirm what is done, and the audit log says who did it."""
    touched = set(rec_ids)
    undecided = (await session.scalars(select(LinkSuggestion).where(LinkSuggestion.decision.is_(None)))).all()
    mine = [s for s in undecided if touched & set(s.member_ids)]
    grouped = await groups_of(session, {i for s in mine for i in s.member_ids})
    for s in mine:
        if _covered(s, grouped):
            s.decision = LinkDecision.CONFIRMED
            s.decided_at = now
            s.decided_by = actor
            s.group_id = grouped[s.member_ids[0]]
    await session.flush()


def _pending(suggestion: LinkSuggestion) -> None:
    if suggestion.decision is None:
        return
    when = suggestion.decided_at.date().isoformat() if suggestion.decided_at else "earlier"
    made = f" (group {suggestion.group_id})" if suggestion.decision is LinkDecision.CONFIRMED and suggestion.group_id else ""
    message = f"suggestion {suggestion.id} was already {suggestion.decision.value} on {when} by {suggestion.decided_by}{made}"
    if suggestion.decided_at is None or (suggestion.decision is LinkDecision.CONFIRMED and suggestion.group_id is None):
        # Decided without the date or the group kept (not by this module, which keeps both).
        raise InvalidValue(message, key="refusal.links.suggestion_decided", values={"id": suggestion.id})
    on, by = suggestion.decided_at.date(), suggestion.decided_by
    if suggestion.decision is LinkDecision.DISMISSED:
        raise InvalidValue(message, key="refusal.links.suggestion_dismissed", values={"id": suggestion.id, "date": on, "by": by})
    raise InvalidValue(
        message, key="refusal.links.suggestion_confirmed", values={"id": suggestion.id, "date": on, "by": by, "group": suggestion.group_id}
    )


async def confirm(
    session: AsyncSession, suggestion_id: int, actor: str, now: datetime, title: str | None = None, without: Iterable[int] = ()
) -> LinkGroup:
    """The suggestion becomes a group (or its members join the group it
    names), less the recommendations in ``without``."""
    suggestion = await get_suggestion(session, suggestion_id)
    _pending(suggestion)
    left_out = list(dict.fromkeys(without))
    strangers = [i for i in left_out if i not in suggestion.member_ids]
    if strangers:
        raise InvalidValue(
            f"{_ids_text(strangers)} not in suggestion {suggestion_id} ({_ids_text(sorted(suggestion.member_ids))})",
            key="refusal.links.not_in_suggestion",
            values={"ids": ids_value(strangers), "id": suggestion_id, "members": ids_value(sorted(suggestion.member_ids))},
        )
    ids = [i for i in sorted(suggestion.member_ids) if i not in left_out]
    # Grouped since it was suggested (by hand, or by another suggestion).
    taken = await groups_of(session, ids)
    if taken:
        rec, gid = min(taken.items())
        raise InvalidValue(
            f"recommendation #{rec} is already in linked group {gid} since suggestion {suggestion_id} was made: "
            f"confirm it without them (--without {','.join(map(str, sorted(taken)))}) or dismiss it",
            key="refusal.links.grouped_since_suggestion", values={"rec": rec, "group": gid, "id": suggestion_id},
        )
    with acting_as(actor):
        if suggestion.group_id is not None:
            if not ids:
                raise InvalidValue(
                    f"nothing left of suggestion {suggestion_id} to add to group {suggestion.group_id}",
                    key="refusal.links.nothing_left", values={"id": suggestion_id, "group": suggestion.group_id},
                )
            group = await _add(session, suggestion.group_id, ids, actor, now, title)
        else:
            if len(ids) < 2:
                message = f"a group needs two recommendations or more; suggestion {suggestion_id} would leave {_ids_text(ids) or 'none'}"
                if not ids:
                    raise InvalidValue(message, key="refusal.links.suggestion_leaves_none", values={"id": suggestion_id})
                raise InvalidValue(message, key="refusal.links.suggestion_leaves_one", values={"id": suggestion_id, "ids": ids_value(ids)})
            group = await create_group(session, ids, actor, now, title)
        suggestion.decision = LinkDecision.CONFIRMED
        suggestion.decided_at = now
        suggestion.decided_by = actor
        suggestion.group_id = group.id
        await session.flush()
    return group


async def dismiss(session: AsyncSession, suggestion_id: int, actor: str, now: datetime) -> LinkSuggestion:
    """Not the same thing after all: it is not suggested again."""
    suggestion = await get_suggestion(session, suggestion_id)
    _pending(suggestion)
    with acting_as(actor):
        suggestion.decision = LinkDecision.DISMISSED
        suggestion.decided_at = now
        suggestion.decided_by = actor
        await session.flush()
    return suggestion


# --- groups --------------------------------------------------------------------


def _title(title: str | None) -> str | None:
    if title is None:
        return None
    cleaned = " ".join(title.split())
    if not cleaned or len(cleaned) > TITLE_MAX:
        raise InvalidValue(f"a group's title is 1 to {TITLE_MAX} characters", key="refusal.links.title_length", values={"count": TITLE_MAX})
    return cleaned


async def _refuse_grouped(session: AsyncSession, ids: Sequence[int], *, but: int | None = None) -> None:
    taken = {r: g for r, g in (await groups_of(session, ids)).items() if g != but}
    if taken:
        rec, gid = min(taken.items())
        others = sorted(set(taken) - {rec})
        more = f" (and {_ids_text(others)} are in groups too)" if others else ""
        message = (
            f"recommendation #{rec} is already in linked group {gid}{more}: a recommendation is in one group only; "
            f"take it out first (nmrf-bot links remove --ids {rec}) or merge the groups"
        )
        if others:
            raise InvalidValue(message, key="refusal.links.already_grouped_more", values={"rec": rec, "group": gid, "others": ids_value(others)})
        raise InvalidValue(message, key="refusal.links.already_grouped", values={"rec": rec, "group": gid})


async def _flush_members(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError:
        # Another writer grouped one of them between the check and the write.
        raise Conflict(
            "a recommendation was put in a group by someone else meanwhile: nothing was changed; try again", key="refusal.links.grouped_meanwhile"
        ) from None


async def create_group(session: AsyncSession, rec_ids: Sequence[int], actor: str, now: datetime, title: str | None = None) -> LinkGroup:
    """A group of ``rec_ids`` made by hand: two or more, to one State, none
    of them in a group yet."""
    ids = list(dict.fromkeys(rec_ids))
    if len(ids) < 2:
        raise InvalidValue("a group needs two recommendations or more", key="refusal.links.too_few")
    found = await _existing(session, ids)
    _one_state(found)
    await _refuse_grouped(session, ids)
    with acting_as(actor):
        group = LinkGroup(title=_title(title), created_at=now, created_by=actor)
        session.add(group)
        await session.flush()
        session.add_all(LinkGroupMember(recommendation_id=i, group_id=group.id, added_at=now, added_by=actor) for i in ids)
        await _flush_members(session)
        await priorities.refresh(session, ids)
        await _settle_covered(session, ids, actor, now)
    return group


async def _add(session: AsyncSession, group_id: int, rec_ids: Sequence[int], actor: str, now: datetime, title: str | None) -> LinkGroup:
    group, ids_now = await _live_group(session, group_id)
    ids = [i for i in dict.fromkeys(rec_ids) if i not in ids_now]
    found = await _existing(session, ids_now + ids)
    _one_state(found)
    await _refuse_grouped(session, ids)
    session.add_all(LinkGroupMember(recommendation_id=i, group_id=group_id, added_at=now, added_by=actor) for i in ids)
    if title is not None:
        group.title = _title(title)
    await _flush_members(session)
    await priorities.refresh(session, ids_now + ids)
    await _settle_covered(session, ids_now + ids, actor, now)
    return group


async def add_members(session: AsyncSession, group_id: int, rec_ids: Sequence[int], actor: str, now: datetime) -> LinkGroup:
    """Ungrouped recommendations join an existing group."""
    with acting_as(actor):
        return await _add(session, group_id, rec_ids, actor, now, None)


async def _take_out(session: AsyncSession, rec_ids: Iterable[int]) -> None:
    for rec_id in rec_ids:
        member = await session.get(LinkGroupMember, rec_id)
        if member is not None:
            await session.delete(member)


@dataclass(frozen=True)
class SplitResult:
    group: LinkGroup
    # The group the named members left for; None when one left alone.
    new_group: LinkGroup | None
    # Members of the old group that remain (none when one would be left alone).
    kept: list[int]
    moved: list[int]
    # The members named were all but one: they stayed, with the group's
    # number and title, and the one left behind left instead (so ``moved``
    # is that one, ``kept`` the members named).
    larger_stays: bool = False


async def split(session: AsyncSession, group_id: int, rec_ids: Sequence[int], actor: str, now: datetime) -> SplitResult:
    """The named members leave the group for a new one of their own (or, a
    single one, for no group). When all but one are named, the larger part
    is the group: they stay in it, with its number and title (which updates
    and reminders know it by), and the one left behind leaves for no group."""
    group, ids_now = await _live_group(session, group_id)
    moved = list(dict.fromkeys(rec_ids))
    if not moved:
        raise InvalidValue("say which members leave the group", key="refusal.links.split_none")
    strangers = [i for i in moved if i not in ids_now]
    if strangers:
        raise InvalidValue(
            f"{_ids_text(strangers)} not in group {group_id} ({_ids_text(ids_now)})",
            key="refusal.links.not_in_group", values={"ids": ids_value(strangers), "group": group_id, "members": ids_value(ids_now)},
        )
    kept = [i for i in ids_now if i not in moved]
    if not kept:
        raise InvalidValue(
            f"that is every member of group {group_id}: to end the group, dissolve it (nmrf-bot links dissolve {group_id})",
            key="refusal.links.split_all", values={"group": group_id},
        )
    new_group: LinkGroup | None = None
    with acting_as(actor):
        if len(kept) == 1 and len(moved) >= 2:
            await _take_out(session, kept)
            await session.flush()
            await priorities.refresh(session, ids_now)
            return SplitResult(group, None, [i for i in ids_now if i in moved], kept, larger_stays=True)
        if len(moved) >= 2:
            new_group = LinkGroup(title=None, created_at=now, created_by=actor)
            session.add(new_group)
            await session.flush()
            for rec_id in moved:
                member = await session.get(LinkGroupMember, rec_id)
                assert member is not None
                # Moved, not deleted and added: the audit log shows where from.
                member.group_id = new_group.id
                member.added_at = now
                member.added_by = actor
        else:
            await _take_out(session, moved)
        if len(kept) < 2:
            await _take_out(session, kept)
            kept = []
        await session.flush()
        await priorities.refresh(session, ids_now)
    return SplitResult(group, new_group, kept, moved)


async def merge(session: AsyncSession, group_ids: Sequence[int], actor: str, now: datetime) -> LinkGroup:
    """The groups become one: the oldest (lowest number) takes the others'
    members, and its title, or the first title among them."""
    wanted = sorted(dict.fromkeys(group_ids))
    if len(wanted) < 2:
        raise InvalidValue("name two groups or more to merge", key="refusal.links.merge_too_few")
    groups = [await _live_group(session, gid) for gid in wanted]
    every = [i for _, ids in groups for i in ids]
    _one_state(await _existing(session, every))
    target = groups[0][0]
    with acting_as(actor):
        if target.title is None:
            target.title = next((g.title for g, _ in groups if g.title), None)
        for _, ids in groups[1:]:
            for rec_id in ids:
                member = await session.get(LinkGroupMember, rec_id)
                assert member is not None
                member.group_id = target.id
                member.added_at = now
                member.added_by = actor
        await session.flush()
        await priorities.refresh(session, every)
        await _settle_covered(session, every, actor, now)
    return target


async def institutions_of_groups(session: AsyncSession, group_ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
    """group id -> the names of the institutions assigned any of its members,
    sorted: a merge's confirmation says when they differ, since one answer
    will then be asked of every one of them for every member."""
    wanted = sorted(set(group_ids))
    out: dict[int, set[str]] = {gid: set() for gid in wanted}
    rows = await session.execute(
        select(LinkGroupMember.group_id, Institution.name)
        .join(Assignment, Assignment.recommendation_id == LinkGroupMember.recommendation_id)
        .join(Institution, Institution.id == Assignment.institution_id)
        .where(LinkGroupMember.group_id.in_(wanted))
    )
    for gid, name in rows:
        out[gid].add(name)
    return {gid: tuple(sorted(names)) for gid, names in out.items()}


@dataclass(frozen=True)
class RemoveResult:
    removed: list[int]
    # Members taken out with them because they would have been left alone.
    also_removed: list[int]
    # Groups emptied by it.
    dissolved: list[int]


async def remove_members(session: AsyncSession, rec_ids: Sequence[int], actor: str, now: datetime) -> RemoveResult:
    """The recommendations leave their groups (each must be in one)."""
    ids = list(dict.fromkeys(rec_ids))
    await _existing(session, ids)
    where = await groups_of(session, ids)
    loose = [i for i in ids if i not in where]
    if loose:
        raise InvalidValue(f"{_ids_text(loose)} in no linked group", key="refusal.links.in_no_group", values={"ids": ids_value(loose)})
    also: list[int] = []
    dissolved: list[int] = []
    touched: list[int] = list(ids)
    with acting_as(actor):
        await _take_out(session, ids)
        await session.flush()
        for gid in sorted(set(where.values())):
            left = await member_ids(session, gid)
            if len(left) < 2:
                await _take_out(session, left)
                also += left
                touched += left
                dissolved.append(gid)
        await session.flush()
        await priorities.refresh(session, touched)
    return RemoveResult(ids, also, dissolved)


async def rename(session: AsyncSession, group_id: int, title: str, actor: str, now: datetime) -> LinkGroup:
    group, _ = await _live_group(session, group_id)
    with acting_as(actor):
        group.title = _title(title)
        await session.flush()
    return group


async def dissolve(session: AsyncSession, group_id: int, actor: str, now: datetime) -> list[int]:
    """Every member leaves; the group stays, empty, for the updates that name it."""
    _, ids = await _live_group(session, group_id)
    with acting_as(actor):
        await _take_out(session, ids)
        await session.flush()
        await priorities.refresh(session, ids)
    return ids

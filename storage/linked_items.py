"""A focal point's recommendations as items to answer: a confirmed linked
group is one item, answered once.

An institution sees, of a group, the members it is assigned to; a member
assigned only to another institution stays out of its item (and is that
institution's to answer). Every other recommendation is an item of its own.

One answer to a group is stored on each of its members the institution
answers for (``record_group_update``): one status update a member, the
institution's own, with the same status, narrative, next step and evidence,
each naming the group, in one transaction. So every list, report and status
rule keeps reading one recommendation at a time, and the history of each
member says it was answered with the group. The idempotency key of each row
is the delivery's key and the member: a redelivered answer stores nothing.

"No change" on a group repeats each member's own last answer of the
institution (``repeat_group``); the members it never answered are returned,
to be asked their status first, as for a single recommendation.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from messages import shorten
from storage.enums import ImplementationStatus, Priority
from storage.errors import NotFound
from storage.models import (
    Assignment,
    Document,
    LinkGroup,
    LinkGroupMember,
    Mechanism,
    Recommendation,
    StatusUpdate,
)
from storage.priority_order import rank_of
from storage.status import EvidenceData, UpdateData, record_update

_CHUNK = 2000


@dataclass(frozen=True)
class Member:
    """One recommendation of an item, as a list shows it briefly."""

    id: int
    mechanism: str
    symbol: str | None
    paragraph: str | None
    text: str
    priority: Priority | None


@dataclass(frozen=True)
class Item:
    """One thing to answer: a recommendation alone, or the members of a
    linked group the institution is assigned to (ascending ids)."""

    members: tuple[Member, ...]
    group_id: int | None = None
    title: str | None = None

    @property
    def ids(self) -> tuple[int, ...]:
        return tuple(m.id for m in self.members)

    @property
    def first(self) -> int:
        return self.members[0].id

    @property
    def priority(self) -> Priority | None:
        """A group's is its highest member's."""
        return min((m.priority for m in self.members), key=rank_of)

    def mechanism_counts(self) -> list[tuple[str, int]]:
        """(mechanism, how many members), most first, then by name: "UPR ×3, CEDAW ×1"."""
        counts: dict[str, int] = defaultdict(int)
        for m in self.members:
            counts[m.mechanism] += 1
        return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def by_priority(items: Iterable[Item]) -> list[Item]:
    """High first (a group by its highest member), then as lists always
    went: by (first) id."""
    return sorted(items, key=lambda i: (rank_of(i.priority), i.first))


def _chunks(values: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start:start + _CHUNK]


async def groups_of(session: AsyncSession, recommendation_ids: Iterable[int]) -> dict[int, int]:
    """recommendation -> its group, for those in one."""
    found: dict[int, int] = {}
    for chunk in _chunks(sorted(set(recommendation_ids))):
        rows = await session.execute(
            select(LinkGroupMember.recommendation_id, LinkGroupMember.group_id).where(LinkGroupMember.recommendation_id.in_(chunk))
        )
        found.update({rec: group for rec, group in rows})
    return found


async def group_titles(session: AsyncSession, group_ids: Iterable[int]) -> dict[int, str | None]:
    ids = sorted(set(group_ids))
    if not ids:
        return {}
    return {g: title for g, title in await session.execute(select(LinkGroup.id, LinkGroup.title).where(LinkGroup.id.in_(ids)))}


# An untitled group's name: the first words of its first member.
GROUP_TITLE = 60


async def group_names(session: AsyncSession, group_ids: Iterable[int]) -> dict[int, str]:
    """Each group's one name, wherever it is shown (lists, /mine, Home,
    reminders, notices): the secretariat's title, or else the first words of
    the group's lowest-numbered member, the same for every institution (not
    the first of those one institution is assigned to)."""
    titles = await group_titles(session, group_ids)
    untitled = sorted(g for g, title in titles.items() if not title)
    firsts: dict[int, str] = {}
    if untitled:
        rows = await session.execute(
            select(LinkGroupMember.group_id, Recommendation.text)
            .join(Recommendation, Recommendation.id == LinkGroupMember.recommendation_id)
            .where(LinkGroupMember.group_id.in_(untitled))
            .order_by(LinkGroupMember.group_id, LinkGroupMember.recommendation_id)
        )
        for group, body in rows:
            firsts.setdefault(group, shorten(" ".join(body.split()), GROUP_TITLE))
    return {g: title or firsts.get(g, "") for g, title in titles.items()}


async def assigned_ids(session: AsyncSession, institution_id: int) -> list[int]:
    return list((await session.scalars(
        select(Assignment.recommendation_id).where(Assignment.institution_id == institution_id).order_by(Assignment.recommendation_id)
    )).all())


async def group_members(session: AsyncSession, group_id: int, institution_id: int) -> list[int]:
    """The members of the group the institution is assigned to, ascending."""
    return list((await session.scalars(
        select(LinkGroupMember.recommendation_id)
        .join(Assignment, Assignment.recommendation_id == LinkGroupMember.recommendation_id)
        .where(LinkGroupMember.group_id == group_id, Assignment.institution_id == institution_id)
        .order_by(LinkGroupMember.recommendation_id)
    )).all())


async def _members(session: AsyncSession, ids: Sequence[int]) -> dict[int, Member]:
    found: dict[int, Member] = {}
    for chunk in _chunks(sorted(set(ids))):
        rows = await session.execute(
            select(Recommendation.id, Mechanism.code, Document.symbol, Recommendation.paragraph, Recommendation.text, Recommendation.priority)
            .join(Mechanism, Mechanism.id == Recommendation.mechanism_id)
            .outerjoin(Document, Document.id == Recommendation.document_id)
            .where(Recommendation.id.in_(chunk))
        )
        found.update({rec: Member(rec, code, symbol, paragraph, text, priority) for rec, code, symbol, paragraph, text, priority in rows})
    return found


async def institution_items(session: AsyncSession, institution_id: int, matching: Iterable[int] | None = None) -> list[Item]:
    """The institution's assigned recommendations folded into items, in id
    order of their first member. With ``matching`` (a filtered list), only
    the items holding one of those; a group then comes whole (every member
    the institution is assigned to), since one answer is for all of them."""
    assigned = await assigned_ids(session, institution_id)
    group_of = await groups_of(session, assigned)
    wanted = set(assigned) if matching is None else set(matching) & set(assigned)
    chosen_groups = {group_of[r] for r in wanted if r in group_of}
    ids = [r for r in assigned if r in wanted or group_of.get(r) in chosen_groups]
    members = await _members(session, ids)
    return fold(ids, group_of, members, await group_names(session, chosen_groups))


async def items_of(session: AsyncSession, recommendation_ids: Iterable[int]) -> list[Item]:
    """These recommendations (already one institution's) folded by group, no more."""
    ids = sorted(set(recommendation_ids))
    group_of = await groups_of(session, ids)
    return fold(ids, group_of, await _members(session, ids), await group_names(session, group_of.values()))


def fold(ids: Sequence[int], group_of: Mapping[int, int], members: Mapping[int, Member], titles: Mapping[int, str | None]) -> list[Item]:
    """Members of one group together (one item), the rest alone; by first id.
    A group of which only one member is here is still named as the group:
    its answer is stored with the group noted."""
    grouped: dict[int, list[Member]] = defaultdict(list)
    items: list[Item] = []
    for rec in sorted(set(ids)):
        if rec not in members:
            continue
        if rec in group_of:
            grouped[group_of[rec]].append(members[rec])
        else:
            items.append(Item((members[rec],)))
    items += [Item(tuple(found), group, titles.get(group)) for group, found in grouped.items()]
    return sorted(items, key=lambda i: i.first)


async def group_item(session: AsyncSession, group_id: int, institution_id: int) -> Item | None:
    """The group as the institution sees it; None when it is assigned none of it."""
    ids = await group_members(session, group_id, institution_id)
    if not ids:
        return None
    members = await _members(session, ids)
    title = await session.scalar(select(LinkGroup.title).where(LinkGroup.id == group_id))
    return Item(tuple(members[r] for r in ids), group_id, title)


def member_key(key: str | None, recommendation_id: int) -> str | None:
    """Each member's idempotency key, from the delivery's."""
    return None if key is None else f"{key}:m{recommendation_id}"


async def record_group_update(
    session: AsyncSession, group_id: int, institution_id: int, answer: UpdateData, at: datetime,
    members: Sequence[int] | None = None, corrects: Mapping[int, int] | None = None,
    evidence: Mapping[int, Sequence[EvidenceData]] | None = None,
) -> list[StatusUpdate]:
    """``answer`` (its recommendation_id aside) stored on each member the
    institution is assigned to (or those of ``members`` it is), naming the
    group, all or none. ``corrects``: member -> the update of it this one
    corrects; ``evidence``: member -> evidence kept from what it corrects,
    before ``answer``'s own."""
    assigned = await group_members(session, group_id, institution_id)
    targets = [r for r in assigned if members is None or r in set(members)]
    if not targets:
        raise NotFound(f"institution {institution_id} is assigned no recommendation of linked group {group_id}")
    stored: list[StatusUpdate] = []
    async with session.begin_nested():
        for rec in targets:
            kept = list((evidence or {}).get(rec, ()))
            stored.append(await record_update(session, replace(
                answer, recommendation_id=rec, institution_id=institution_id, link_group_id=group_id,
                idempotency_key=member_key(answer.idempotency_key, rec),
                corrects_id=(corrects or {}).get(rec),
                evidence=kept + list(answer.evidence),
            ), at=at))
    return stored


def copy_evidence(update: StatusUpdate) -> list[EvidenceData]:
    return [
        EvidenceData(e.kind, e.url, e.file_name, e.mime_type, e.size_bytes, e.platform_file_id) for e in update.evidence
    ]


async def own_latest(session: AsyncSession, recommendation_ids: Iterable[int], institution_id: int) -> dict[int, StatusUpdate]:
    """Each recommendation's latest update of the institution, with its evidence."""
    ids = sorted(set(recommendation_ids))
    if not ids:
        return {}
    found: dict[int, StatusUpdate] = {}
    rows = await session.scalars(
        select(StatusUpdate)
        .where(StatusUpdate.recommendation_id.in_(ids), StatusUpdate.institution_id == institution_id)
        .options(selectinload(StatusUpdate.evidence))
        .order_by(StatusUpdate.id)
    )
    for update in rows:
        found[update.recommendation_id] = update
    return found


async def own_statuses(session: AsyncSession, recommendation_ids: Iterable[int], institution_id: int) -> dict[int, ImplementationStatus]:
    return {rec: u.status for rec, u in (await own_latest(session, recommendation_ids, institution_id)).items()}


async def repeat_group(
    session: AsyncSession, group_id: int, institution_id: int, answer: UpdateData, at: datetime,
) -> tuple[list[StatusUpdate], list[int]]:
    """"No change" on the group: each member's own last answer of the
    institution stored again as of ``at`` (what was done and its evidence
    still stand), naming the group; and the members it never answered,
    for which there is nothing to repeat. ``answer`` gives the author,
    channel and delivery key."""
    assigned = await group_members(session, group_id, institution_id)
    if not assigned:
        raise NotFound(f"institution {institution_id} is assigned no recommendation of linked group {group_id}")
    last = await own_latest(session, assigned, institution_id)
    repeated: list[StatusUpdate] = []
    async with session.begin_nested():
        for rec in assigned:
            own = last.get(rec)
            if own is None:
                continue
            repeated.append(await record_update(session, replace(
                answer, recommendation_id=rec, institution_id=institution_id, link_group_id=group_id, status=own.status,
                narrative=own.narrative, next_step=own.next_step, next_step_due_on=own.next_step_due_on,
                evidence=copy_evidence(own), corrects_id=None, idempotency_key=member_key(answer.idempotency_key, rec),
            ), at=at))
    return repeated, [r for r in assigned if r not in last]


async def group_answer(session: AsyncSession, update: StatusUpdate) -> list[StatusUpdate]:
    """The rows stored by the one group answer ``update`` is part of (itself
    included), by member: those whose keys come from the same delivery; just
    ``update`` when it names no group."""
    key = update.idempotency_key
    if update.link_group_id is None or key is None or ":m" not in key:
        return [update]
    base = key.rsplit(":m", 1)[0]
    members = (await session.scalars(
        select(LinkGroupMember.recommendation_id).where(LinkGroupMember.group_id == update.link_group_id)
    )).all()
    keys = [member_key(base, r) for r in sorted(set(members) | {update.recommendation_id})]
    rows = await session.scalars(
        select(StatusUpdate)
        .where(StatusUpdate.idempotency_key.in_(keys), StatusUpdate.link_group_id == update.link_group_id)
        .options(selectinload(StatusUpdate.evidence))
        .order_by(StatusUpdate.recommendation_id)
    )
    return list(rows.all()) or [update]

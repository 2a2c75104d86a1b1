"""What a review of the linked groups found (issue 15): a split that would
leave one member behind keeps the group's title on the larger part; a merge
says when the groups' assigned institutions differ; suggestions fulfilled by
hand are no longer listed, those partly fulfilled say so; an unknown State
is refused; an untitled group has one name for every institution."""

from __future__ import annotations

import json

import pytest

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.engine import ConversationEngine
from handlers.group_labels import group_title
from messages import shorten
from storage import links
from storage.assignments import assign
from storage.enums import InstitutionKind, LinkDecision
from storage.link_similarity import SuggestedGroup
from storage.linked_items import GROUP_TITLE, group_names, institution_items
from storage.models import Institution, LinkSuggestion, Recommendation
from storage.network import InstitutionData, add_institution
from storage.selection import Selector
from tests.cli_harness import Cli
from tests.dialogue_harness import bot, clock, gateway
from tests.fakes import FakeGateway
from tests.test_linked_items import Linked, linked
from tests.test_links import ACTOR, NOW, _groups, cli, coordinator, recs, secretariat

__all__ = ["bot", "clock", "gateway", "cli", "recs", "secretariat", "linked"]


def _group_of(out: str) -> int:
    return int(out.split()[1])


def test_a_split_leaving_one_behind_keeps_the_title_on_the_larger_part(cli: Cli, recs: dict[str, int]) -> None:
    five = [recs[k] for k in ("rape_upr", "rape_cedaw", "rape_upr2", "opcat", "opcat_upr")]
    out, _ = cli("links", "group", "--ids", ",".join(map(str, five)), "--title", "Marital rape")
    group = _group_of(out)
    out, _ = cli("links", "split", str(group), "--ids", ",".join(map(str, five[1:])))
    assert out.strip() == (
        f"#{five[0]} in no group now; group {group} keeps {', '.join(f'#{i}' for i in five[1:])} "
        "(the larger part keeps the group, its number and title)"
    )
    out, _ = cli("links", "list", "--format", "json")
    assert [(g["group"], g["title"], g["members"]) for g in json.loads(out)] == [(group, "Marital rape", 4)]
    # Two named out of five still leave for a group of their own, untitled.
    out, _ = cli("links", "split", str(group), "--ids", f"{five[3]},{five[4]}")
    assert "now in group" in out and f"group {group} keeps #{five[1]}, #{five[2]}" in out and "larger part" not in out


@pytest.fixture
async def assigned(sessions: async_sessionmaker[AsyncSession], recs: dict[str, int]) -> dict[str, int]:
    """The marital-rape recommendations are the Ministry of Justice's, the OPCAT one the Ministry of Women's."""
    async with sessions() as session, session.begin():
        await add_institution(session, InstitutionData("MOJ", "Ministry of Justice", InstitutionKind.MINISTRY))
        await add_institution(session, InstitutionData("MOW", "Ministry of Women", InstitutionKind.MINISTRY))
        await assign(session, "MOJ", Selector(ids=(recs["rape_upr"], recs["rape_cedaw"], recs["rape_upr2"])))
        await assign(session, "MOW", Selector(ids=(recs["opcat"],)))
    return recs


def test_a_merge_says_when_the_groups_assigned_institutions_differ(cli: Cli, assigned: dict[str, int]) -> None:
    r = assigned
    first = _group_of(cli("links", "group", "--ids", f"{r['rape_upr']},{r['rape_cedaw']}")[0])
    alike = _group_of(cli("links", "group", "--ids", f"{r['rape_upr2']},{r['water']}")[0])
    other = _group_of(cli("links", "group", "--ids", f"{r['opcat']},{r['opcat_upr']}")[0])
    # Both the Ministry of Justice's: no note.
    out, _ = cli("links", "merge", str(first), str(alike))
    assert out.strip() == f"group {first} now links " + ", ".join(f"#{i}" for i in sorted((r["rape_upr"], r["rape_cedaw"], r["rape_upr2"], r["water"])))
    out, _ = cli("links", "merge", str(first), str(other))
    assert out.splitlines()[1] == (
        f"note: the groups had different assigned institutions (group {first}: Ministry of Justice; "
        f"group {other}: Ministry of Women); each is now asked about every member"
    )


async def test_in_chat_the_merge_summary_names_the_differing_institutions(
    bot: ConversationEngine, gateway: FakeGateway, secretariat: dict[str, int], assigned: dict[str, int],
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    r = assigned
    async with sessions() as session, session.begin():
        first = (await links.create_group(session, [r["rape_upr"], r["rape_cedaw"]], ACTOR, NOW)).id
        other = (await links.create_group(session, [r["opcat"], r["opcat_upr"]], ACTOR, NOW)).id
    await bot.handle(coordinator.says(f"/links merge {first} {other}"))
    [summary] = gateway.take()
    assert summary.key == "links.confirm"
    assert (
        f"Note: the groups have different assigned institutions (group {first}: Ministry of Justice; group {other}: Ministry of Women)"
        in summary.text
    ), summary.text
    assert await _groups(sessions) == {first: {r["rape_upr"], r["rape_cedaw"]}, other: {r["opcat"], r["opcat_upr"]}}


async def _suggest(sessions: async_sessionmaker[AsyncSession], *groups: list[int]) -> list[int]:
    async with sessions() as session, session.begin():
        stored = await links.store_suggestions(session, [SuggestedGroup(tuple(g), 0.9) for g in groups], NOW)
    return [s.id for s in stored.new]


async def test_a_suggestion_grouped_by_hand_is_done_and_one_partly_grouped_says_so(
    bot: ConversationEngine, gateway: FakeGateway, secretariat: dict[str, int], recs: dict[str, int],
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    rape = [recs["rape_upr"], recs["rape_cedaw"], recs["rape_upr2"]]
    opcat = [recs["opcat"], recs["opcat_upr"], recs["water"]]
    whole, part = await _suggest(sessions, rape, opcat)
    async with sessions() as session, session.begin():
        group = await links.create_group(session, rape, ACTOR, NOW)
        pair = await links.create_group(session, opcat[:2], ACTOR, NOW)
    async with sessions() as session:
        done = await session.get(LinkSuggestion, whole)
        assert done is not None and (done.decision, done.group_id, done.decided_by) == (LinkDecision.CONFIRMED, group.id, ACTOR)
        assert [s.id for s in await links.pending_suggestions(session)] == [part]
        assert await links.grouped_since(session, await links.pending_suggestions(session)) == {part: {opcat[0]: pair.id, opcat[1]: pair.id}}
    await bot.handle(coordinator.says("/links"))
    [listed] = gateway.take()
    assert f"Confirm {whole}" not in [b.label for row in listed.buttons for b in row]
    assert f"Grouped since it was suggested: #{opcat[0]} in group {pair.id}, #{opcat[1]} in group {pair.id}." in listed.text, listed.text


def test_the_cli_lists_no_suggestion_grouped_by_hand(cli: Cli, recs: dict[str, int]) -> None:
    a, b, c = recs["rape_upr"], recs["rape_cedaw"], recs["rape_upr2"]
    out, _ = cli("links", "suggest", "--country", "Uruguay", "--format", "json")
    [number] = {row["suggestion"] for row in json.loads(out) if row["id"] == a}
    group = _group_of(cli("links", "group", "--ids", f"{a},{b}")[0])
    out, _ = cli("links", "list", "--suggestions")
    assert f"Suggestion {number} " in out
    assert f"  grouped since: #{a} in group {group}, #{b} in group {group}; confirm it --without {a},{b} or dismiss it" in out
    cli("links", "dissolve", str(group))
    cli("links", "group", "--ids", f"{a},{b},{c}")
    out, _ = cli("links", "list", "--suggestions")
    assert f"Suggestion {number} " not in out
    _, err = cli("links", "confirm", str(number), expect=1)
    assert f"suggestion {number} was already confirmed" in err


def test_an_unknown_country_is_refused(cli: Cli, recs: dict[str, int]) -> None:
    out, err = cli("links", "suggest", "--country", "Narnia", expect=1)
    assert out == "" and err.strip() == "error: no recommendation to 'Narnia' in the registry (see: nmrf-bot recommendations list)"
    out, err = cli("links", "suggest", "--country", "uruguay")
    assert "new suggestion(s)" in err


async def test_an_untitled_group_has_one_name_for_every_institution(
    sessions: async_sessionmaker[AsyncSession], linked: Linked
) -> None:
    async with sessions() as session:
        mow = await session.scalar(select(Institution.id).where(Institution.code == "MOW"))
        assert mow is not None
        [item] = [i for i in await institution_items(session, mow) if i.group_id == linked.group]
        first = await session.get(Recommendation, linked.members[0])
        assert first is not None
        # The Ministry of Women is assigned neither of the group's first two members.
        assert linked.members[0] not in item.ids
        expected = shorten(" ".join(first.text.split()), GROUP_TITLE)
        # What its first own member would have named it: another name than the reminders'.
        assert shorten(" ".join(item.members[0].text.split()), GROUP_TITLE) != expected
        assert group_title(item) == expected == (await group_names(session, [linked.group]))[linked.group]

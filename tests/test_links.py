"""Linked groups of recommendations managed by the secretariat (storage.links,
`nmrf-bot links`, /links in chat): one group per recommendation, one State
per group, every change in the audit log with its actor, suggestions kept
once and decided once."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.engine import ConversationEngine
from storage import links, priorities
from storage.enums import ImportSource, LinkDecision, RecommendationKind, SecretariatRole, TagKind
from storage.errors import InvalidValue, NotFound
from storage.link_similarity import SuggestedGroup
from storage.models import AuditEntry, LinkGroup, LinkGroupMember, LinkSuggestion, Mechanism, Recommendation, Tag
from storage.secretariat import SecretariatUserData, add_secretariat_user, seed_secretariat_users
from tests.cli_harness import Cli
from tests.dialogue_harness import ANA, bot, chat, clock, gateway, tap
from tests.fakes import FakeGateway, Person

__all__ = ["bot", "clock", "gateway"]

NOW = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
ACTOR = "cli:maria"

# key: (mechanism, State, text)
TEXTS = {
    "rape_upr": ("UPR", "Uruguay", "Criminalize marital rape explicitly in the Criminal Code"),
    "rape_cedaw": ("CEDAW", "Uruguay", "Explicitly criminalize marital rape in the Criminal Code"),
    "rape_upr2": ("UPR", "Uruguay", "Amend the Criminal Code to criminalize marital rape"),
    "opcat": ("CAT", "Uruguay", "Ratify the Optional Protocol to the Convention against Torture"),
    "opcat_upr": ("UPR", "Uruguay", "Ratify the Optional Protocol to the Convention against Torture without delay"),
    "water": ("CRC", "Uruguay", "Ensure access to safe drinking water in rural schools"),
    "rape_fiji": ("UPR", "Fiji", "Criminalize marital rape explicitly in the Criminal Code"),
}


async def _add(session: AsyncSession, key: str, code: str, country: str, body: str) -> int:
    mechanism_id = (await session.execute(select(Mechanism.id).where(Mechanism.code == code))).scalar_one()
    rec = Recommendation(
        source=ImportSource.TEMPLATE, external_id=key, text=body, country=country,
        kind=RecommendationKind.RECOMMENDATION, mechanism_id=mechanism_id, content_hash=key,
    )
    if key.startswith("rape"):
        tag = await session.scalar(select(Tag).where(Tag.kind == TagKind.THEME, Tag.value == "Women"))
        rec.tags = [tag or Tag(kind=TagKind.THEME, value="Women")]
    session.add(rec)
    await session.flush()
    return rec.id


@pytest.fixture
async def recs(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    async with sessions() as session, session.begin():
        return {key: await _add(session, key, *values) for key, values in TEXTS.items()}


async def _audit(sessions: async_sessionmaker[AsyncSession], entity: str, action: str | None = None) -> list[AuditEntry]:
    async with sessions() as session:
        statement = select(AuditEntry).where(AuditEntry.entity == entity).order_by(AuditEntry.id)
        if action:
            statement = statement.where(AuditEntry.action == action)
        return list((await session.scalars(statement)).all())


async def _groups(sessions: async_sessionmaker[AsyncSession]) -> dict[int, set[int]]:
    async with sessions() as session:
        rows = (await session.execute(select(LinkGroupMember.group_id, LinkGroupMember.recommendation_id))).all()
    found: dict[int, set[int]] = {}
    for gid, rid in rows:
        found.setdefault(gid, set()).add(rid)
    return found


# --- storage --------------------------------------------------------------------


async def test_a_group_made_by_hand_is_listed_with_its_mechanisms_and_audited(
    sessions: async_sessionmaker[AsyncSession], recs: dict[str, int]
) -> None:
    async with sessions() as session, session.begin():
        group = await links.create_group(session, [recs["rape_upr"], recs["rape_cedaw"]], ACTOR, NOW, "  Marital   rape ")
    async with sessions() as session:
        assert group.title == "Marital rape"
        assert (await links.group_of(session, recs["rape_cedaw"])).id == group.id  # type: ignore[union-attr]
        assert await links.group_of(session, recs["water"]) is None
        assert [b.id for b in await links.members(session, group.id)] == sorted([recs["rape_upr"], recs["rape_cedaw"]])
        [summary] = await links.list_groups(session)
        assert await links.list_groups(session, mechanism="crc") == []
        assert await links.list_groups(session, country="fiji") == []
    assert (summary.members, summary.mechanisms, summary.countries) == (2, ("CEDAW", "UPR"), ("Uruguay",))
    inserted = await _audit(sessions, "link_group_members", "insert")
    assert {e.actor for e in inserted} == {ACTOR} and len(inserted) == 2
    assert [e.actor for e in await _audit(sessions, "link_groups", "insert")] == [ACTOR]


async def test_a_recommendation_in_a_group_is_refused_naming_its_group(
    sessions: async_sessionmaker[AsyncSession], recs: dict[str, int]
) -> None:
    async with sessions() as session, session.begin():
        first = await links.create_group(session, [recs["rape_upr"], recs["rape_cedaw"]], ACTOR, NOW)
    before = await _groups(sessions)
    with pytest.raises(InvalidValue, match=rf"#{recs['rape_cedaw']} is already in linked group {first.id}"):
        async with sessions() as session, session.begin():
            await links.create_group(session, [recs["rape_cedaw"], recs["rape_upr2"]], ACTOR, NOW)
    assert await _groups(sessions) == before


async def test_a_group_is_one_states_and_needs_two_known_members(
    sessions: async_sessionmaker[AsyncSession], recs: dict[str, int]
) -> None:
    async with sessions() as session, session.begin():
        with pytest.raises(InvalidValue, match="one State only.*Fiji.*Uruguay|one State only.*Uruguay.*Fiji"):
            await links.create_group(session, [recs["rape_upr"], recs["rape_fiji"]], ACTOR, NOW)
        with pytest.raises(InvalidValue, match="two recommendations or more"):
            await links.create_group(session, [recs["rape_upr"], recs["rape_upr"]], ACTOR, NOW)
        with pytest.raises(NotFound, match="#99999"):
            await links.create_group(session, [recs["rape_upr"], 99999], ACTOR, NOW)
        with pytest.raises(InvalidValue, match="1 to 300"):
            await links.create_group(session, [recs["rape_upr"], recs["rape_cedaw"]], ACTOR, NOW, " ")
    assert await _groups(sessions) == {}


async def test_split_and_merge_move_members_and_keep_the_history(
    sessions: async_sessionmaker[AsyncSession], recs: dict[str, int]
) -> None:
    a, b, c, o1, o2 = recs["rape_upr"], recs["rape_cedaw"], recs["rape_upr2"], recs["opcat"], recs["opcat_upr"]
    async with sessions() as session, session.begin():
        g = await links.create_group(session, [a, b, c, o1, o2], ACTOR, NOW, "Everything")
    async with sessions() as session, session.begin():
        result = await links.split(session, g.id, [o1, o2], "cli:other", NOW)
    assert result.new_group is not None and result.kept == [a, b, c]
    assert await _groups(sessions) == {g.id: {a, b, c}, result.new_group.id: {o1, o2}}
    moves = [e for e in await _audit(sessions, "link_group_members", "update")]
    assert {(e.entity_id, tuple(e.changes["group_id"]), e.actor) for e in moves} == {
        (str(o1), (g.id, result.new_group.id), "cli:other"), (str(o2), (g.id, result.new_group.id), "cli:other")}

    async with sessions() as session, session.begin():
        merged = await links.merge(session, [result.new_group.id, g.id], ACTOR, NOW)
    assert merged.id == g.id and await _groups(sessions) == {g.id: {a, b, c, o1, o2}}
    back = [e for e in await _audit(sessions, "link_group_members", "update")][2:]
    assert {tuple(e.changes["group_id"]) for e in back} == {(result.new_group.id, g.id)}

    # One member named leaves for no group; the whole group cannot be "split".
    async with sessions() as session, session.begin():
        alone = await links.split(session, g.id, [c], ACTOR, NOW)
        assert alone.new_group is None and alone.kept == [a, b, o1, o2]
        with pytest.raises(InvalidValue, match="dissolve it"):
            await links.split(session, g.id, [a, b, o1, o2], ACTOR, NOW)
        with pytest.raises(InvalidValue, match=rf"#{c} not in group {g.id}"):
            await links.split(session, g.id, [c], ACTOR, NOW)
    deleted = await _audit(sessions, "link_group_members", "delete")
    assert [e.entity_id for e in deleted] == [str(c)]


async def test_a_member_left_alone_leaves_too_and_an_empty_group_stays_dissolved(
    sessions: async_sessionmaker[AsyncSession], recs: dict[str, int]
) -> None:
    a, b, c = recs["rape_upr"], recs["rape_cedaw"], recs["rape_upr2"]
    async with sessions() as session, session.begin():
        g = await links.create_group(session, [a, b, c], ACTOR, NOW)
        removed = await links.remove_members(session, [a, b], ACTOR, NOW)
    assert removed.also_removed == [c] and removed.dissolved == [g.id]
    assert await _groups(sessions) == {}
    async with sessions() as session, session.begin():
        assert await session.get(LinkGroup, g.id) is not None  # kept: updates may name it
        with pytest.raises(InvalidValue, match="no members any more"):
            await links.rename(session, g.id, "x", ACTOR, NOW)
        with pytest.raises(InvalidValue, match="in no linked group"):
            await links.remove_members(session, [a], ACTOR, NOW)
        g2 = await links.create_group(session, [a, b], ACTOR, NOW)
        await links.rename(session, g2.id, "Marital rape", ACTOR, NOW)
        assert await links.dissolve(session, g2.id, ACTOR, NOW) == [a, b]
        with pytest.raises(NotFound, match="no linked group 9999"):
            await links.dissolve(session, 9999, ACTOR, NOW)
    renamed = [e for e in await _audit(sessions, "link_groups", "update")]
    assert renamed[-1].changes["title"] == [None, "Marital rape"] and renamed[-1].actor == ACTOR


async def test_merging_groups_of_two_states_is_refused(sessions: async_sessionmaker[AsyncSession], recs: dict[str, int]) -> None:
    async with sessions() as session, session.begin():
        g1 = await links.create_group(session, [recs["rape_upr"], recs["rape_cedaw"]], ACTOR, NOW)
        fiji = await _add(session, "rape_fiji2", "CEDAW", "Fiji", "Criminalise marital rape")
        g2 = await links.create_group(session, [recs["rape_fiji"], fiji], ACTOR, NOW)
    before = await _groups(sessions)
    async with sessions() as session, session.begin():
        with pytest.raises(InvalidValue, match="one State only"):
            await links.merge(session, [g1.id, g2.id], ACTOR, NOW)
        with pytest.raises(InvalidValue, match="two groups or more"):
            await links.merge(session, [g1.id, g1.id], ACTOR, NOW)
    assert await _groups(sessions) == before


async def test_suggestions_are_kept_once_decided_once_and_only_add(
    sessions: async_sessionmaker[AsyncSession], recs: dict[str, int]
) -> None:
    a, b, c, o1, o2 = recs["rape_upr"], recs["rape_cedaw"], recs["rape_upr2"], recs["opcat"], recs["opcat_upr"]
    async with sessions() as session, session.begin():
        first = await links.store_suggestions(session, [SuggestedGroup((a, b), 0.9), SuggestedGroup((o1, o2), 0.6)], NOW)
    assert [len(first.new), len(first.pending)] == [2, 0]
    rape, opcat = first.new
    async with sessions() as session, session.begin():
        group = await links.confirm(session, rape.id, ACTOR, NOW, title="Marital rape")
        await links.dismiss(session, opcat.id, ACTOR, NOW)
        with pytest.raises(InvalidValue, match=rf"suggestion {rape.id} was already confirmed on 2026-11-23 by {ACTOR} \(group {group.id}\)"):
            await links.confirm(session, rape.id, ACTOR, NOW)
        with pytest.raises(InvalidValue, match="already dismissed"):
            await links.dismiss(session, opcat.id, ACTOR, NOW)
    # Run again: the dismissed one is left out; c beside the group is an addition to it.
    async with sessions() as session, session.begin():
        again = await links.store_suggestions(session, [SuggestedGroup((a, b, c), 0.8), SuggestedGroup((o1, o2), 0.6)], NOW)
        assert again.dismissed_again == 1 and [s.member_ids for s in again.new] == [[c]]
        [add] = again.new
        assert add.group_id == group.id and add.decision is None
        third = await links.store_suggestions(session, [SuggestedGroup((a, b, c), 0.8)], NOW)
        assert third.new == [] and [s.id for s in third.pending] == [add.id]
        assert [s.id for s in await links.pending_suggestions(session)] == [add.id]
        assert await links.pending_suggestions(session, country="Fiji") == []
        await links.confirm(session, add.id, ACTOR, NOW)
    assert await _groups(sessions) == {group.id: {a, b, c}}
    decided = [e for e in await _audit(sessions, "link_suggestions", "update")]
    assert {e.changes["decision"][1] for e in decided} == {"confirmed", "dismissed"} and {e.actor for e in decided} == {ACTOR}


async def test_a_pending_suggestion_made_larger_is_replaced(sessions: async_sessionmaker[AsyncSession], recs: dict[str, int]) -> None:
    a, b, c, o1, o2 = recs["rape_upr"], recs["rape_cedaw"], recs["rape_upr2"], recs["opcat"], recs["opcat_upr"]
    async with sessions() as session, session.begin():
        first = await links.store_suggestions(session, [SuggestedGroup((a, b), 0.9), SuggestedGroup((o1, o2), 0.7)], NOW)
        small, opcat = first.new
        # The opcat pair is not suggested this time: it is kept, not a subset of anything new.
        second = await links.store_suggestions(session, [SuggestedGroup((a, b, c), 0.8), SuggestedGroup((c, recs["water"]), 0.5)], NOW)
        assert second.superseded == 1 and [s.member_ids for s in second.new] == [[a, b, c], [c, recs["water"]]]
        assert await session.get(LinkSuggestion, small.id) is None
        assert {s.id for s in await links.pending_suggestions(session)} == {opcat.id} | {s.id for s in second.new}
    [gone] = await _audit(sessions, "link_suggestions", "delete")
    assert gone.entity_id == str(small.id)


async def test_confirm_without_some_members_and_a_stale_suggestion(
    sessions: async_sessionmaker[AsyncSession], recs: dict[str, int]
) -> None:
    a, b, c = recs["rape_upr"], recs["rape_cedaw"], recs["rape_upr2"]
    async with sessions() as session, session.begin():
        stored = await links.store_suggestions(session, [SuggestedGroup((a, b, c), 0.8)], NOW)
        [s] = stored.new
        with pytest.raises(InvalidValue, match=rf"#{recs['water']} not in suggestion {s.id}"):
            await links.confirm(session, s.id, ACTOR, NOW, without=[recs["water"]])
        with pytest.raises(InvalidValue, match="would leave"):
            await links.confirm(session, s.id, ACTOR, NOW, without=[a, b])
        with pytest.raises(NotFound, match="no link suggestion 9999"):
            await links.confirm(session, 9999, ACTOR, NOW)
        # Someone groups b by hand meanwhile: the confirmation names it.
        await links.create_group(session, [b, recs["rape_upr2"]], ACTOR, NOW)
        with pytest.raises(InvalidValue, match=rf"#{b} is already in linked group \d+ since suggestion {s.id} was made: confirm it without them \(--without {b},{c}\)"):
            await links.confirm(session, s.id, ACTOR, NOW)
        await links.dissolve(session, (await links.group_of(session, b)).id, ACTOR, NOW)  # type: ignore[union-attr]
        group = await links.confirm(session, s.id, ACTOR, NOW, without=[c])
        assert await links.member_ids(session, group.id) == [a, b]
        assert (await session.get(LinkSuggestion, s.id)).decision is LinkDecision.CONFIRMED  # type: ignore[union-attr]


async def test_every_change_of_membership_refreshes_the_priorities(
    sessions: async_sessionmaker[AsyncSession], recs: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[list[int]] = []

    async def refresh(session: AsyncSession, ids: Any = None, **_: Any) -> int:
        seen.append(sorted(ids))
        return 0

    monkeypatch.setattr(priorities, "refresh", refresh)
    a, b, c = recs["rape_upr"], recs["rape_cedaw"], recs["rape_upr2"]
    async with sessions() as session, session.begin():
        g = await links.create_group(session, [a, b, c], ACTOR, NOW)
        await links.split(session, g.id, [c], ACTOR, NOW)
        await links.dissolve(session, g.id, ACTOR, NOW)
    assert seen == [[a, b, c], [a, b, c], [a, b]]


async def test_a_group_across_mechanisms_makes_its_members_recurrent(sessions: async_sessionmaker[AsyncSession], recs: dict[str, int]) -> None:
    a, b, c = recs["rape_upr"], recs["rape_cedaw"], recs["rape_upr2"]

    async def levels() -> tuple[list[bool | None], list[Any], list[Any]]:
        async with sessions() as session:
            views = [await priorities.explain(session, i) for i in (a, b)]
            stored = [(await session.get(Recommendation, i)).priority for i in (a, b)]  # type: ignore[union-attr]
        return [v.criterion("recurrence").met for v in views], [v.level for v in views], stored

    async with sessions() as session, session.begin():
        await links.create_group(session, [a, c], ACTOR, NOW)  # one mechanism: no recurrence yet
    met, _, _ = await levels()
    assert met == [False, False]
    async with sessions() as session, session.begin():
        await links.add_members(session, (await links.group_of(session, a)).id, [b], ACTOR, NOW)  # type: ignore[union-attr]
    met, level, stored = await levels()
    assert met == [True, True] and stored == level
    async with sessions() as session, session.begin():
        await links.dissolve(session, (await links.group_of(session, a)).id, ACTOR, NOW)  # type: ignore[union-attr]
    met, level, stored = await levels()
    assert met == [False, False] and stored == level


async def test_the_suggester_reads_texts_and_tags_of_one_state(sessions: async_sessionmaker[AsyncSession], recs: dict[str, int]) -> None:
    async with sessions() as session:
        items = await links.link_items(session, country="uruguay", mechanisms=["upr", "CEDAW"])
        assert {i.id for i in items} == {recs[k] for k in ("rape_upr", "rape_cedaw", "rape_upr2", "opcat_upr")}
        assert next(i for i in items if i.id == recs["rape_cedaw"]).themes == frozenset({"Women"})
        with pytest.raises(NotFound, match="no mechanism nope"):
            await links.link_items(session, mechanisms=["NOPE"])


# --- the command line -------------------------------------------------------------


@pytest.fixture
def cli(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NMRF_DATABASE_URL", db_url)
    return Cli(capsys)


def test_the_cli_suggests_confirms_splits_merges_and_dissolves(cli: Cli, recs: dict[str, int]) -> None:
    a, b, c = recs["rape_upr"], recs["rape_cedaw"], recs["rape_upr2"]
    out, err = cli("links", "suggest", "--country", "Uruguay", "--format", "json")
    rows = json.loads(out)
    [number] = {r["suggestion"] for r in rows if r["id"] == a}
    assert {r["id"] for r in rows if r["suggestion"] == number} == {a, b, c}
    assert recs["rape_fiji"] not in {r["id"] for r in rows} and "new suggestion(s)" in err
    out, err = cli("links", "suggest", "--country", "Uruguay")
    assert f"Suggestion {number} (score " in out and f"#{a}" in out and "Criminalize marital rape explicitly" in out
    assert "0 new suggestion(s)" in err and "still pending" in err

    out, _ = cli("links", "confirm", str(number), "--title", "Marital rape", "--without", str(c))
    assert out.strip().startswith(f"suggestion {number} confirmed: group ")
    group = int(out.split("group ")[1].split()[0])
    out, _ = cli("links", "list", "--format", "json")
    assert [(g["group"], g["title"], g["members"], g["mechanisms"]) for g in json.loads(out)] == [(group, "Marital rape", 2, "CEDAW; UPR")]
    out, _ = cli("links", "show", str(group))
    assert f"Group {group} 'Marital rape': 2 recommendations to Uruguay" in out and f"#{b}" in out
    # Left out, c is suggested again, now as an addition to the group its neighbours are in.
    out, _ = cli("links", "suggest", "--country", "Uruguay")
    assert f": add to group {group} 'Marital rape', 2 members\n  #{c} " in out

    _, err = cli("links", "group", "--ids", f"{b},{c}", expect=1)
    assert err.startswith(f"error: recommendation #{b} is already in linked group {group}") and len(err.splitlines()) == 1
    _, err = cli("links", "group", "--ids", f"{c},{recs['rape_fiji']}", expect=1)
    assert "one State only" in err and len(err.splitlines()) == 1
    out, _ = cli("links", "group", "--ids", f"{c},{recs['water']}")
    other = int(out.split()[1])
    out, _ = cli("links", "merge", str(group), str(other))
    assert out.strip() == f"group {group} now links #{a}, #{b}, #{c}, #{recs['water']}"
    out, _ = cli("links", "split", str(group), "--ids", str(recs["water"]))
    assert f"#{recs['water']} in no group now; group {group} keeps #{a}, #{b}, #{c}" in out
    out, _ = cli("links", "remove", "--ids", f"{a},{b}")
    assert f"group(s) {group} dissolved (#{c} would have been left alone)" in out
    out, _ = cli("links", "show", str(group))
    assert "no members" in out
    _, err = cli("links", "rename", str(group), "New", expect=1)
    assert "no members any more" in err
    _, err = cli("links", "confirm", str(number), expect=1)
    assert f"suggestion {number} was already confirmed" in err
    _, err = cli("links", "dismiss", "999", expect=1)
    assert "no link suggestion 999" in err


def test_the_cli_dismisses_and_lists_pending(cli: Cli, recs: dict[str, int]) -> None:
    out, _ = cli("links", "suggest", "--format", "csv", "--mechanism", "UPR", "--mechanism", "CEDAW")
    lines = out.splitlines()
    assert lines[0] == "suggestion,score,add_to_group,id,mechanism,country,text" and len(lines) > 2
    number = lines[1].split(",")[0]
    out, _ = cli("links", "list", "--suggestions")
    assert f"Suggestion {number} " in out
    out, _ = cli("links", "dismiss", number)
    assert out.strip() == f"suggestion {number} dismissed"
    out, err = cli("links", "list", "--suggestions")
    assert f"Suggestion {number} " not in out
    out, err = cli("links", "suggest", "--mechanism", "UPR", "--mechanism", "CEDAW")
    assert "dismissed before and left out" in err
    _, err = cli("links", "suggest", "--mechanism", "NOPE", expect=1)
    assert err.strip() == "error: no mechanism nope"
    _, err = cli("links", "suggest", "--threshold", "2", expect=2)
    assert "--threshold" in err


# --- in chat --------------------------------------------------------------------

coordinator, viewer = Person("901"), Person("902")


@pytest.fixture
async def secretariat(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    async with sessions() as session, session.begin():
        await seed_secretariat_users(session, [SecretariatUserData("Mary Grant", "mary@mfa.example", "en", "UTC", telegram_user_id=900)])
        colin = await add_secretariat_user(session, SecretariatUserData(
            "Colin Reyes", "colin@mfa.example", "en", "UTC", telegram_user_id=901, role=SecretariatRole.COORDINATOR))
        await add_secretariat_user(session, SecretariatUserData(
            "Vera Lind", "vera@mfa.example", "fr", "UTC", telegram_user_id=902, role=SecretariatRole.VIEWER))
    return {"colin": colin.id}


@pytest.fixture
async def suggested(sessions: async_sessionmaker[AsyncSession], recs: dict[str, int]) -> list[int]:
    async with sessions() as session, session.begin():
        stored = await links.store_suggestions(session, [
            SuggestedGroup((recs["rape_upr"], recs["rape_cedaw"], recs["rape_upr2"]), 0.82),
            SuggestedGroup((recs["opcat"], recs["opcat_upr"]), 0.61),
        ], NOW)
    return [s.id for s in stored.new]


def _labels(message: Any) -> list[str]:
    return [b.label for row in message.buttons for b in row]


async def test_a_coordinator_confirms_by_button_and_dismisses_after_a_summary(
    bot: ConversationEngine, gateway: FakeGateway, secretariat: dict[str, int], suggested: list[int], recs: dict[str, int],
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    rape, opcat = suggested
    await bot.handle(coordinator.says("/links"))
    [listing] = gateway.take()
    assert listing.key == "links.list"
    assert "2 suggested groups are waiting for a decision (1-2):" in listing.text
    assert f"Suggestion {rape} (alike: 82 %), a new group:" in listing.text
    assert f"  #{recs['rape_cedaw']} CEDAW: Explicitly criminalize marital rape" in listing.text
    assert "No linked group yet." in listing.text
    assert _labels(listing) == [f"Confirm {rape}", f"Dismiss {rape}…", f"Confirm {opcat}", f"Dismiss {opcat}…"]

    assert await chat(bot, gateway, tap(f"Confirm {rape}", coordinator)) == ["links.confirmed", "links.list"]
    groups = await _groups(sessions)
    assert list(groups.values()) == [{recs["rape_upr"], recs["rape_cedaw"], recs["rape_upr2"]}]
    [gid] = groups
    actors = {e.actor for e in await _audit(sessions, "link_group_members", "insert")}
    assert actors == {f"secretariat:{secretariat['colin']}"}

    # Dismiss asks first; nothing before Confirm.
    assert await chat(bot, gateway, tap(f"Dismiss {opcat}…", coordinator)) == ["links.confirm"]
    async with sessions() as session:
        assert (await session.get(LinkSuggestion, opcat)).decision is None  # type: ignore[union-attr]
    assert await chat(bot, gateway, coordinator.says("ok"), tap("Confirm", coordinator)) == ["links.press", "links.done"]
    async with sessions() as session:
        assert (await session.get(LinkSuggestion, opcat)).decision is LinkDecision.DISMISSED  # type: ignore[union-attr]
    await bot.handle(coordinator.says("/links"))
    [listing] = gateway.take()
    assert "No suggested group is waiting" in listing.text and f"Group {gid}: 3 recommendations (CEDAW, UPR)" in listing.text
    await bot.handle(viewer.says(f"/links show {gid}"))
    [shown] = gateway.take()
    assert shown.text.startswith(f"Groupe {gid} : 3 recommandations adressées à Uruguay")


async def test_an_old_lists_button_is_stale_and_a_decided_suggestion_is_told(
    bot: ConversationEngine, gateway: FakeGateway, secretariat: dict[str, int], suggested: list[int],
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    rape, _ = suggested
    await bot.handle(coordinator.says("/links"))
    old = gateway.action(f"Confirm {rape}", coordinator.user_id)
    gateway.take()
    await bot.handle(coordinator.says("/links"))
    gateway.take()
    await bot.handle(coordinator.presses(old))
    [refused] = gateway.take()
    # The old list and the open one have one subject: it is named once, not "for X; X".
    assert refused.key == "stale.same" and refused.text.count("the linked recommendations") == 1, refused.text
    assert "earlier message" in refused.text
    assert await _groups(sessions) == {}
    # Confirmed from the command line meanwhile: the press says so and changes nothing.
    async with sessions() as session, session.begin():
        await links.confirm(session, rape, ACTOR, NOW)
    assert await chat(bot, gateway, tap(f"Confirm {rape}", coordinator)) == ["links.failed", "links.list"]


async def test_typed_group_split_and_merge_show_a_summary_then_apply(
    bot: ConversationEngine, gateway: FakeGateway, secretariat: dict[str, int], recs: dict[str, int],
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    a, b, c, w = recs["rape_upr"], recs["rape_cedaw"], recs["rape_upr2"], recs["water"]
    await bot.handle(coordinator.says(f"/links group {a} {b} {c}"))
    [summary] = gateway.take()
    assert summary.key == "links.confirm" and summary.text == f"#{a}, #{b}, #{c} become one group: one update will answer them all.\nConfirm?"
    assert await _groups(sessions) == {}
    assert await chat(bot, gateway, tap("Confirm", coordinator)) == ["links.done"]
    [gid] = await _groups(sessions)
    await bot.handle(coordinator.says(f"/links split {gid} {c}"))
    [summary] = gateway.take()
    assert summary.text.startswith(f"#{c} leaves group {gid} and is in no group. Group {gid} keeps #{a}, #{b}.")
    assert await chat(bot, gateway, tap("Cancel", coordinator)) == ["update.cancelled"]
    assert await _groups(sessions) == {gid: {a, b, c}}
    # All but one named: the larger part stays the group (its number, its title); the one left behind leaves.
    await bot.handle(coordinator.says(f"/links split {gid} {a} {b}"))
    [summary] = gateway.take()
    assert summary.text.startswith(f"#{c} leaves group {gid} and is in no group. Group {gid} keeps #{a}, #{b}. The larger part stays group {gid}")
    assert await chat(bot, gateway, tap("Confirm", coordinator)) == ["links.done"]
    groups = await _groups(sessions)
    assert groups == {gid: {a, b}}
    [new] = groups
    await bot.handle(coordinator.says(f"/links group {c} {w}"))
    gateway.take()
    assert await chat(bot, gateway, tap("Confirm", coordinator)) == ["links.done"]
    other = next(g for g in await _groups(sessions) if g != new)
    assert await chat(bot, gateway, coordinator.says(f"/links merge {new} {other}"), tap("Confirm", coordinator)) == ["links.confirm", "links.done"]
    assert await _groups(sessions) == {new: {a, b, c, w}}
    # Refusals come before any Confirm, naming the reason.
    await bot.handle(coordinator.says(f"/links group {a} {recs['opcat']}"))
    [refused] = gateway.take()
    assert refused.key == "links.failed" and f"#{a} is already in linked group {new}" in refused.text
    await bot.handle(coordinator.says(f"/links group {recs['opcat']} {recs['rape_fiji']}"))
    assert "one State only" in gateway.take()[0].text
    assert await chat(bot, gateway, coordinator.says("/links split x"), coordinator.says("/links show 999"), coordinator.says("/links frobnicate 3")) == [
        "links.usage", "links.unknown_group", "links.usage"]
    moves = await _audit(sessions, "link_group_members", "update")
    assert moves and {e.actor for e in moves} == {f"secretariat:{secretariat['colin']}"}


async def test_a_viewer_reads_but_may_not_change_and_a_focal_point_is_refused(
    bot: ConversationEngine, gateway: FakeGateway, secretariat: dict[str, int], suggested: list[int], recs: dict[str, int],
    world: dict[str, int], sessions: async_sessionmaker[AsyncSession],
) -> None:
    await bot.handle(viewer.says("/links"))
    [listing] = gateway.take()
    assert listing.key == "links.list" and "2 groupes suggérés attendent une décision" in listing.text
    assert not [b for row in listing.buttons for b in row if b.action.startswith("links:")]
    await bot.handle(viewer.says(f"/links group {recs['rape_upr']} {recs['rape_cedaw']}"))
    [refused] = gateway.take()
    assert refused.key == "role.needed"
    await bot.handle(viewer.presses(f"links:ok:{suggested[0]}"))
    assert gateway.take()[0].key == "role.needed"
    await bot.handle(ANA.says("/links"))
    [told] = gateway.take()
    assert told.key == "secretariat.only"
    assert await _groups(sessions) == {}


async def test_the_list_pages_five_suggestions_at_a_time(
    bot: ConversationEngine, gateway: FakeGateway, secretariat: dict[str, int], sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        ids = [await _add(session, f"k{i}", "UPR", "Uruguay", f"Text number {i}") for i in range(14)]
        stored = await links.store_suggestions(session, [SuggestedGroup((ids[2 * i], ids[2 * i + 1]), 0.9 - i / 100) for i in range(7)], NOW)
    numbers = [s.id for s in stored.new]
    await bot.handle(viewer.says("/links"))
    [first] = gateway.take()
    assert "7 groupes suggérés attendent une décision (1-5) :" in first.text and _labels(first) == ["Suivant ›"]
    await bot.handle(viewer.presses(gateway.action(_labels(first)[-1], viewer.user_id)))
    [second] = gateway.take()
    assert "(6-7)" in second.text and f"Suggestion {numbers[5]} " in second.text and f"Suggestion {numbers[4]} " not in second.text
    assert len(_labels(second)) == 1  # Previous only
    await bot.handle(coordinator.says("/links"))
    [mine] = gateway.take()
    assert _labels(mine)[:2] == [f"Confirm {numbers[0]}", f"Dismiss {numbers[0]}…"] and len(_labels(mine)) == 11


async def test_typed_remove_and_rename_apply_on_confirm(
    bot: ConversationEngine, gateway: FakeGateway, secretariat: dict[str, int], recs: dict[str, int],
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    a, b, c = recs["rape_upr"], recs["rape_cedaw"], recs["rape_upr2"]
    async with sessions() as session, session.begin():
        g = await links.create_group(session, [a, b, c], ACTOR, NOW)
    await bot.handle(coordinator.says(f"/links rename {g.id}   Marital  rape "))
    [summary] = gateway.take()
    assert summary.text == f"Group {g.id} is called “Marital rape”.\nConfirm?"
    assert await chat(bot, gateway, tap("Confirm", coordinator)) == ["links.done"]
    async with sessions() as session:
        assert (await session.get(LinkGroup, g.id)).title == "Marital rape"  # type: ignore[union-attr]
    await bot.handle(coordinator.says(f"/links remove {a},{b}"))
    [summary] = gateway.take()
    assert summary.text.startswith(f"#{a}, #{b} leave their groups. Groups {g.id} are left with one member each (#{c})")
    assert await _groups(sessions) == {g.id: {a, b, c}}
    assert await chat(bot, gateway, tap("Confirm", coordinator)) == ["links.done"]
    assert await _groups(sessions) == {}
    await bot.handle(coordinator.says(f"/links remove {a}"))
    [refused] = gateway.take()
    assert refused.key == "links.failed" and "in no linked group" in refused.text
    assert await chat(bot, gateway, coordinator.says(f"/links rename {g.id}"), viewer.says(f"/links rename {g.id} X")) == ["links.usage", "role.needed"]

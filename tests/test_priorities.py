"""Priorities by the Guide's five criteria (storage.priorities), the
`nmrf-bot priorities` commands, `recommendations list --priority/--sort`
and /priority in chat. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import itertools
import json
from pathlib import Path
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from handlers.engine import ConversationEngine
from storage.database import create_engine, session_factory
from storage.enums import BudgetImplications, FollowUpSource, ImportSource, Priority, RecommendationKind, SecretariatRole, TagKind
from storage.importers.run import import_file
from storage.errors import InvalidValue, NotFound
from storage.migrate import downgrade, upgrade
from storage.models import (
    AuditEntry,
    FollowUpSelection,
    LinkGroup,
    LinkGroupMember,
    Mechanism,
    PriorityInput,
    Recommendation,
    Tag,
)
from storage.priorities import (
    PriorityRules,
    explain,
    explain_many,
    override,
    refresh,
    ruling_with,
    set_inputs,
)
from storage.secretariat import SecretariatUserData, add_secretariat_user, seed_secretariat_users
from tests.cli_harness import Cli
from tests.dialogue_harness import ANA, bot, chat, clock, gateway, tap
from tests.factories import cedaw_row, uhri_row, write_uhri_xlsx
from tests.fakes import FakeClock, FakeGateway, Person

__all__ = ["bot", "clock", "gateway"]

NOW = FakeClock()()
ACTOR = "cli:tester"
_serial = itertools.count(1)


async def _tag(session: AsyncSession, kind: TagKind, value: str) -> Tag:
    tag = await session.scalar(select(Tag).where(Tag.kind == kind, Tag.value == value))
    if tag is None:
        tag = Tag(kind=kind, value=value)
        session.add(tag)
        await session.flush()
    return tag


async def add_rec(
    session: AsyncSession,
    mechanism: str = "UPR",
    *,
    states: tuple[str, ...] = (),
    affected: tuple[str, ...] = (),
    text: str = "Criminalise marital rape",
) -> int:
    mech = await session.scalar(select(Mechanism).where(Mechanism.code == mechanism))
    assert mech is not None, mechanism
    n = next(_serial)
    rec = Recommendation(
        source="uhri", external_id=f"p-{n}", text=f"{text} ({n})", country="Uruguay",
        kind=RecommendationKind.RECOMMENDATION, mechanism_id=mech.id, content_hash=f"h{n}",
    )
    rec.tags = [await _tag(session, TagKind.RECOMMENDING_STATE, s) for s in states] + [
        await _tag(session, TagKind.AFFECTED_PERSONS, a) for a in affected
    ]
    session.add(rec)
    await session.flush()
    return rec.id


async def group(session: AsyncSession, *ids: int) -> int:
    g = LinkGroup(created_by=ACTOR, created_at=NOW)
    session.add(g)
    await session.flush()
    for rid in ids:
        session.add(LinkGroupMember(recommendation_id=rid, group_id=g.id, added_by=ACTOR, added_at=NOW))
    await session.flush()
    return g.id


async def level_of(session: AsyncSession, rid: int) -> Priority | None:
    return await session.scalar(select(Recommendation.priority).where(Recommendation.id == rid))


async def test_nothing_known_is_low_and_every_criterion_is_shown(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        rid = await add_rec(session)
        await refresh(session, [rid])
        view = await explain(session, rid)
        assert await level_of(session, rid) == Priority.LOW
    assert view.level == Priority.LOW and not view.overridden
    assert [c.code for c in view.criteria] == ["urgency", "recurrence", "quick_win", "national_priority", "marginalised"]
    met = {c.code: c.met for c in view.criteria}
    assert met == {"urgency": False, "recurrence": False, "quick_win": None, "national_priority": None, "marginalised": False}
    sources = {c.code: c.source for c in view.criteria}
    assert sources["urgency"] == "data" and sources["quick_win"] == "secretariat"


async def test_urgency_from_the_follow_up_selection(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        selected, other = await add_rec(session, "CEDAW"), await add_rec(session, "CEDAW")
        session.add(FollowUpSelection(recommendation_id=selected, source=FollowUpSource.IMPORT, selected_by=ACTOR, selected_at=NOW))
        await session.flush()
        views = await explain_many(session, [selected, other])
        await refresh(session)
        assert await level_of(session, selected) == Priority.MEDIUM
        assert await level_of(session, other) == Priority.LOW
    assert views[selected].criterion("urgency").met is True
    assert views[other].criterion("urgency").met is False


async def test_recurrence_from_a_group_across_two_mechanisms(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        upr, cedaw, alone = await add_rec(session, "UPR"), await add_rec(session, "CEDAW"), await add_rec(session, "UPR")
        upr2 = await add_rec(session, "UPR")
        gid = await group(session, upr, cedaw)
        await group(session, alone, upr2)  # one mechanism: no recurrence by itself
        views = await explain_many(session, [upr, cedaw, alone])
    r = views[cedaw].criterion("recurrence")
    assert r.met is True and r.source == "data"
    assert r.detail["mechanisms"] == ["CEDAW", "UPR"] and r.detail["group"] == gid
    assert views[alone].criterion("recurrence").met is False


async def test_recurrence_from_three_recommending_states_alone_or_in_its_group(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        three = await add_rec(session, states=("Chile", "Denmark", "France"))
        two = await add_rec(session, states=("Chile", "Denmark"))
        a, b = await add_rec(session, states=("Chile", "Denmark")), await add_rec(session, states=("Denmark", "Spain"))
        await group(session, a, b)
        views = await explain_many(session, [three, two, a])
        with ruling_with(PriorityRules(recurrence_states=4)):
            stricter = await explain(session, three)
    assert views[three].criterion("recurrence").met is True
    assert views[three].criterion("recurrence").detail["states"] == 3
    assert views[two].criterion("recurrence").met is False
    # Chile, Denmark and Spain across the group: three States.
    assert views[a].criterion("recurrence").met is True and views[a].criterion("recurrence").detail["states"] == 3
    assert stricter.criterion("recurrence").met is False


async def test_marginalised_from_the_affected_persons_tags(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        women = await add_rec(session, affected=("Women & girls",))
        general = await add_rec(session, affected=("General",))
        views = await explain_many(session, [women, general])
        with ruling_with(PriorityRules(marginalised=("children",))):
            narrower = await explain(session, women)
    assert views[women].criterion("marginalised").met is True
    assert views[women].criterion("marginalised").detail["groups"] == ["Women & girls"]
    assert views[general].criterion("marginalised").met is False
    assert narrower.criterion("marginalised").met is False


async def test_budget_and_national_priority_set_by_the_secretariat_make_it_high(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        rid = await add_rec(session, affected=("Women & girls",))
        await refresh(session, [rid])
        assert await level_of(session, rid) == Priority.MEDIUM
        await set_inputs(session, [rid], budget=BudgetImplications.NONE, actor=ACTOR, now=NOW)
        assert await level_of(session, rid) == Priority.MEDIUM  # two met
        await set_inputs(session, [rid], national=True, actor=ACTOR, now=NOW)
        assert await level_of(session, rid) == Priority.HIGH
        view = await explain(session, rid)
        assert view.criterion("quick_win").met is True and view.criterion("national_priority").met is True
        await set_inputs(session, [rid], budget=BudgetImplications.SOME, actor=ACTOR, now=NOW)
        assert (await explain(session, rid)).criterion("quick_win").met is False
        assert await level_of(session, rid) == Priority.MEDIUM
        await set_inputs(session, [rid], budget=None, actor=ACTOR, now=NOW)
        assert (await explain(session, rid)).criterion("quick_win").met is None
        entries = list(await session.scalars(select(AuditEntry).where(AuditEntry.entity == "priority_inputs")))
    assert entries and all(e.actor == ACTOR for e in entries)


async def test_the_secretariat_changes_a_data_criterion_and_gives_it_back_to_the_data(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        rid = await add_rec(session, affected=("Women & girls",))
        await set_inputs(session, [rid], marginalised=False, urgency=True, recurrence=True, actor=ACTOR, now=NOW)
        view = await explain(session, rid)
        assert view.criterion("marginalised").met is False and view.criterion("marginalised").source == "secretariat"
        assert view.criterion("urgency").met is True and view.criterion("recurrence").met is True
        assert await level_of(session, rid) == Priority.MEDIUM
        await set_inputs(session, [rid], marginalised=None, actor=ACTOR, now=NOW)
        view = await explain(session, rid)
        assert view.criterion("marginalised").met is True and view.criterion("marginalised").source == "data"
        assert await level_of(session, rid) == Priority.HIGH


async def test_levels_follow_the_configured_thresholds(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        rid = await add_rec(session, affected=("Children",))
        with ruling_with(PriorityRules(high_at=1, medium_at=1)):
            await refresh(session, [rid])
        assert await level_of(session, rid) == Priority.HIGH
        await refresh(session, [rid])
        assert await level_of(session, rid) == Priority.MEDIUM
    with pytest.raises(InvalidValue):
        PriorityRules(high_at=1, medium_at=2)


async def test_an_override_wins_is_audited_with_its_reason_and_can_be_cleared(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        rid = await add_rec(session)
        await refresh(session, [rid])
        with pytest.raises(InvalidValue, match="reason"):
            await override(session, [rid], Priority.HIGH, "  ", actor=ACTOR, now=NOW)
        assert await override(session, [rid], Priority.HIGH, "Minister's pledge", actor=ACTOR, now=NOW) == 1
        assert await level_of(session, rid) == Priority.HIGH
        view = await explain(session, rid)
        assert view.overridden and view.override_reason == "Minister's pledge" and view.computed == Priority.LOW
        await refresh(session)  # a refresh keeps the override
        assert await level_of(session, rid) == Priority.HIGH
        assert await override(session, [rid], None, None, actor=ACTOR, now=NOW) == 1
        assert await level_of(session, rid) == Priority.LOW
        assert not (await explain(session, rid)).overridden
        entries = list(
            await session.scalars(
                select(AuditEntry).where(AuditEntry.entity == "recommendations", AuditEntry.action.like("priority_override%")).order_by(AuditEntry.id)
            )
        )
    assert [e.action for e in entries] == ["priority_override", "priority_override_cleared"]
    assert entries[0].actor == ACTOR and entries[0].changes["reason"] == "Minister's pledge"
    assert entries[0].changes["priority"] == ["low", "high"] and entries[0].changes["override"] == [None, "high"]
    assert entries[1].changes["priority"] == ["high", "low"]
    assert entries[0].at == NOW


async def test_unknown_ids_are_named_and_nothing_is_written(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        rid = await add_rec(session)
        with pytest.raises(NotFound, match="#999"):
            await set_inputs(session, [rid, 999], national=True, actor=ACTOR, now=NOW)
        with pytest.raises(InvalidValue):
            await set_inputs(session, [rid], actor=ACTOR, now=NOW)
        assert await session.scalar(select(PriorityInput).where(PriorityInput.recommendation_id == rid)) is None


async def test_refresh_of_some_leaves_the_others(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        a = await add_rec(session, affected=("Migrants",))
        b = await add_rec(session, affected=("Migrants",))
        assert await refresh(session, [a]) == 1
        assert await level_of(session, a) == Priority.MEDIUM and await level_of(session, b) is None
        assert await refresh(session) == 1  # b only: a was right already
        assert await level_of(session, b) == Priority.MEDIUM
        assert await refresh(session) == 0


# --- the command line ---------------------------------------------------------


@pytest.fixture
def cli(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NMRF_DATABASE_URL", db_url)
    return Cli(capsys)


async def _three(sessions: async_sessionmaker[AsyncSession]) -> list[int]:
    """One of nothing known, one concerning women, one with three States and women."""
    async with sessions() as session, session.begin():
        return [
            await add_rec(session),
            await add_rec(session, affected=("Women & girls",)),
            await add_rec(session, states=("Chile", "Denmark", "France"), affected=("Women & girls",)),
        ]


def _seeded(db_url: str) -> list[int]:
    """_three, for a command-line test: its own engine on its own loop."""

    async def go() -> list[int]:
        engine = create_engine(db_url)
        try:
            return await _three(session_factory(engine))
        finally:
            await engine.dispose()

    return asyncio.run(go())


def _levels_in(db_url: str, ids: list[int]) -> list[Priority | None]:
    async def go() -> list[Priority | None]:
        engine = create_engine(db_url)
        try:
            async with session_factory(engine)() as session:
                return [await level_of(session, rid) for rid in ids]
        finally:
            await engine.dispose()

    return asyncio.run(go())


def _audit(db_url: str, rid: int) -> tuple[list[str], set[str]]:
    async def go() -> tuple[list[str], set[str]]:
        engine = create_engine(db_url)
        try:
            async with session_factory(engine)() as session:
                actions = list(await session.scalars(
                    select(AuditEntry.action).where(AuditEntry.entity_id == str(rid), AuditEntry.action.like("priority%")).order_by(AuditEntry.id)
                ))
                actors = set(await session.scalars(select(AuditEntry.actor).where(AuditEntry.action.like("priority%"))))
                return actions, actors
        finally:
            await engine.dispose()

    return asyncio.run(go())


def test_cli_show_set_override_refresh_and_list_by_priority(cli: Cli, db_url: str) -> None:
    plain, women, recurring = _seeded(db_url)
    out, _ = cli("priorities", "refresh")
    assert out == "3 recommendations changed\n"
    out, _ = cli("priorities", "show", str(recurring))
    lines = out.splitlines()
    assert lines[0] == f"#{recurring} Priority: medium (2 of 5 criteria met)"
    assert "  [data] Raised by other mechanisms: met (3 recommending States)" in lines
    assert "  [data] Marginalised groups: met (concerns Women & girls)" in lines
    assert "  [secretariat] Quick win (no budget implications): unknown (budget implications not yet stated)" in lines
    out, _ = cli("priorities", "show", str(recurring), "--language", "fr")
    assert "Sans incidence budgétaire : inconnu" in out

    out, _ = cli("priorities", "set", "--ids", str(recurring), "--budget", "none")
    assert out == "1 recommendation changed; priority now: high 1\n"
    out, _ = cli("priorities", "set", "--ids", f"{plain},{women}", "--national", "yes", "--marginalised", "no")
    assert out == "2 recommendations changed; priority now: medium 2\n"
    _, err = cli("priorities", "set", "--ids", str(plain), expect=2)
    assert "give at least one of --budget" in err
    _, err = cli("priorities", "set", "--ids", "999", "--budget", "none", expect=1)
    assert "999" in err

    _, err = cli("priorities", "override", "--ids", str(plain), "--level", "high", expect=2)
    assert "--reason is required" in err
    out, _ = cli("priorities", "override", "--ids", str(plain), "--level", "high", "--reason", "Parliament's pledge")
    assert out == "1 recommendation changed; priority now: high 1\n"
    out, _ = cli("priorities", "show", str(plain))
    assert out.splitlines()[0] == f"#{plain} Priority: high, set by the secretariat over the criteria (medium): Parliament's pledge"

    out, _ = cli("recommendations", "list", "--format", "json", "--sort", "priority")
    assert [(r["id"], r["priority"]) for r in json.loads(out)] == [(plain, "high"), (recurring, "high"), (women, "medium")]
    out, _ = cli("recommendations", "list", "--format", "json", "--priority", "medium")
    assert [r["id"] for r in json.loads(out)] == [women]
    out, _ = cli("recommendations", "list", "--format", "json")
    assert [r["id"] for r in json.loads(out)] == [plain, women, recurring]

    out, _ = cli("priorities", "override", "--ids", str(plain), "--level", "none")
    assert out == "1 recommendation changed; priority now: medium 1\n"
    actions, actors = _audit(db_url, plain)
    assert actions == ["priority_override", "priority_override_cleared"]
    assert len(actors) == 1 and next(iter(actors)).startswith("cli")


def test_cli_refresh_follows_the_configured_rules(cli: Cli, db_url: str, tmp_path: Path) -> None:
    plain, women, recurring = _seeded(db_url)
    (tmp_path / "config.toml").write_text("[priorities]\nhigh_at = 2\nmarginalised = [\"children\"]\n", encoding="utf-8")
    cli("priorities", "refresh")
    levels = _levels_in(db_url, [plain, women, recurring])
    # Women are not in this list: the third meets recurrence alone.
    assert levels == [Priority.LOW, Priority.LOW, Priority.MEDIUM]
    (tmp_path / "config.toml").write_text("[priorities]\nhigh_at = 2\nmedium_at = 3\n", encoding="utf-8")
    _, err = cli("priorities", "refresh", expect=1)
    assert "medium_at" in err


# --- chat -----------------------------------------------------------------------

coordinator, viewer, focal_point = Person("901"), Person("902"), ANA


@pytest.fixture
async def secretariat(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        await seed_secretariat_users(session, [SecretariatUserData("Mary Grant", "mary@mfa.example", "en", "UTC", telegram_user_id=900)])
        await add_secretariat_user(session, SecretariatUserData(
            "Colin Reyes", "colin@mfa.example", "en", "UTC", telegram_user_id=901, role=SecretariatRole.COORDINATOR))
        await add_secretariat_user(session, SecretariatUserData(
            "Vera Lind", "vera@mfa.example", "fr", "UTC", telegram_user_id=902, role=SecretariatRole.VIEWER))


async def test_chat_shows_the_criteria_and_a_coordinator_changes_them_after_confirm(
    bot: ConversationEngine, gateway: FakeGateway, secretariat: None, sessions: async_sessionmaker[AsyncSession]
) -> None:
    plain, women, _ = await _three(sessions)
    await bot.handle(viewer.says(f"/priority {women}"))
    [shown] = gateway.take()
    lines = shown.text.splitlines()
    assert lines[0].startswith(f"N° {women} : Criminalise marital rape")
    assert lines[1] == "Priorité : moyenne (1 critère rempli sur 5)"
    assert "Groupes marginalisés : rempli (concerne : Women & girls)" in lines

    await bot.handle(coordinator.says(f"/priority {women} budget none"))
    [summary] = gateway.take()
    assert summary.key == "priority.confirm"
    assert summary.text == f"#{women}: budget implications: none (a quick win). Priority afterwards: medium 1."
    async with sessions() as session:
        assert await session.scalar(select(PriorityInput).where(PriorityInput.recommendation_id == women)) is None
    assert await chat(bot, gateway, coordinator.says("yes"), tap("Confirm", coordinator)) == ["priority.press", "priority.done"]
    async with sessions() as session:
        assert (await explain(session, women)).criterion("quick_win").met is True

    await bot.handle(coordinator.says(f"/priority {women},{plain} national yes"))
    [summary] = gateway.take()
    assert summary.text.endswith("Priority afterwards: high 1, medium 1.")
    assert await chat(bot, gateway, tap("Confirm", coordinator)) == ["priority.done"]

    assert await chat(bot, gateway, coordinator.says(f"/priority {plain} override high")) == ["priority.reason_needed"]
    await bot.handle(coordinator.says(f"/priority {plain} override high  Minister's   pledge "))
    [summary] = gateway.take()
    assert "because: Minister's pledge" in summary.text and summary.text.endswith("high 1.")
    assert await chat(bot, gateway, tap("Confirm", coordinator)) == ["priority.done"]
    async with sessions() as session:
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "priority_override"))
        assert await level_of(session, plain) == Priority.HIGH
    assert entry is not None and entry.changes["reason"] == "Minister's pledge" and "secretariat:" in entry.actor

    await bot.handle(coordinator.says(f"/priority {plain} override none"))
    [summary] = gateway.take()
    assert "no override: the criteria decide again" in summary.text
    assert await chat(bot, gateway, tap("Cancel", coordinator)) == ["update.cancelled"]
    async with sessions() as session:
        assert await level_of(session, plain) == Priority.HIGH


async def test_chat_refuses_changes_to_a_viewer_and_everything_to_a_focal_point(
    bot: ConversationEngine, gateway: FakeGateway, secretariat: None, world: dict[str, int], sessions: async_sessionmaker[AsyncSession]
) -> None:
    rid = world["mine"]
    await bot.handle(viewer.says(f"/priority {rid} budget none"))
    [refused] = gateway.take()
    assert refused.key == "role.needed"
    await bot.handle(focal_point.says(f"/priority {rid}"))
    [refused] = gateway.take()
    assert "priority" not in refused.key
    async with sessions() as session:
        assert await session.scalar(select(PriorityInput).where(PriorityInput.recommendation_id == rid)) is None


async def test_chat_names_bad_ids_and_values(bot: ConversationEngine, gateway: FakeGateway, secretariat: None, sessions: async_sessionmaker[AsyncSession]) -> None:
    plain, women, _ = await _three(sessions)
    assert await chat(
        bot, gateway, coordinator.says("/priority"), coordinator.says("/priority x"), coordinator.says(f"/priority {plain},999"),
        coordinator.says(f"/priority {plain} budget maybe"), coordinator.says(f"/priority {plain} override urgent now"),
        coordinator.says(f"/priority {plain} colour red"), coordinator.says(f"/priority {plain},{women}"),
    ) == ["priority.usage", "priority.usage", "priority.unknown_ids", "priority.bad_value", "priority.bad_value", "priority.usage", "priority.one_to_show"]
    await bot.handle(coordinator.says(f"/priority {plain} budget maybe"))
    assert gateway.take()[0].text == "budget takes none|some|unknown, not 'maybe': nothing was changed."


async def test_migration_0021_keeps_a_template_priority_as_an_override(engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        kept, plain = await add_rec(session), await add_rec(session)
    await downgrade(engine, "0020")
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE recommendations SET priority = 'high' WHERE id = :id"), {"id": kept})
    await upgrade(engine)
    async with sessions() as session:
        rows = list(await session.scalars(select(PriorityInput)))
        view = await explain(session, kept)
    assert [(r.recommendation_id, r.override, r.override_reason) for r in rows] == [(kept, Priority.HIGH, "set in the template")]
    assert view.overridden and view.level == Priority.HIGH and plain != kept


async def test_criteria_from_a_real_uhri_import(sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    """UHRI's own spellings: "Women & girls", "Persons deprived of their liberty",
    States as bullets; a third State across the group makes the UPR row recur."""
    rows = [
        uhri_row(),
        cedaw_row(),
        uhri_row(**{"OHCHR Annotation Id": "0b1e7a6e-0000-4c43-9a57-1d5c2f7e9a02", "Text": "119.9 Ratify OPCAT promptly",
                    "UPR Reccomending States": "- France", "Affected Persons": "- General"}),
    ]
    await import_file(sessions, ImportSource.UHRI, write_uhri_xlsx(tmp_path / "export.xlsx", rows))
    async with sessions() as session, session.begin():
        by_text = {r.text: r.id for r in await session.scalars(select(Recommendation))}
        upr = next(i for t, i in by_text.items() if t.startswith("119.4"))
        cedaw = next(i for t, i in by_text.items() if "rural women" in t)
        other = next(i for t, i in by_text.items() if t.startswith("119.9"))
        before = await explain_many(session, [upr, cedaw, other])
        await group(session, upr, other)
        await refresh(session)
        after = await explain(session, upr)
        levels = [await level_of(session, i) for i in (upr, cedaw, other)]
    assert before[upr].criterion("marginalised").detail["groups"] == ["Persons deprived of their liberty"]
    assert before[cedaw].criterion("marginalised").detail["groups"] == ["Persons living in rural areas", "Women & girls"]
    assert before[other].criterion("marginalised").met is False
    assert before[upr].criterion("recurrence").detail["states"] == 2 and before[upr].criterion("recurrence").met is False
    assert after.criterion("recurrence").met is True and after.criterion("recurrence").detail["states"] == 3
    assert levels == [Priority.MEDIUM, Priority.MEDIUM, Priority.MEDIUM]


async def test_a_un_export_gives_its_recommendations_their_priority_as_it_imports_them(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    """The tags a UHRI file brings are criteria (affected persons); the
    stored priority follows at import, with no `priorities refresh`, and
    again when a re-import changes them."""
    rows = [uhri_row(), uhri_row(**{"OHCHR Annotation Id": "0b1e7a6e-0000-4c43-9a57-1d5c2f7e9a02",
                                    "Text": "119.9 Ratify OPCAT promptly", "Affected Persons": "- General"})]
    await import_file(sessions, ImportSource.UHRI, write_uhri_xlsx(tmp_path / "export.xlsx", rows))
    async with sessions() as session:
        stored = {r.text[:5]: r.priority for r in await session.scalars(select(Recommendation))}
    assert stored == {"119.4": Priority.MEDIUM, "119.9": Priority.LOW}
    rows[1]["Affected Persons"] = "- Women & girls"
    await import_file(sessions, ImportSource.UHRI, write_uhri_xlsx(tmp_path / "again.xlsx", rows))
    async with sessions() as session:
        stored = {r.text[:5]: r.priority for r in await session.scalars(select(Recommendation))}
    assert stored == {"119.4": Priority.MEDIUM, "119.9": Priority.MEDIUM}

"""storage.pledges on every backend (issue 16): a round opened for a year,
pledges drafted with the recommendations and actions they name, confirmed,
withdrawn, an institution's "no pledge this year", the report-back's
outcomes append-only, and the round's summary."""

from __future__ import annotations

import ast
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from messages import SUPPORTED_LANGUAGES, catalog
from storage import pledges as store
from storage.actions import ActionData, create_action
from storage.action_models import ActionState
from storage.enums import Channel, PledgeOutcomeKind, PledgeState
from storage.errors import AppendOnlyViolation, Conflict, InvalidValue, NotFound
from storage.migrate import current_revision, downgrade, head_revision, upgrade
from storage.models import AuditEntry, Institution
from storage.pledge_models import Pledge, PledgeOutcome, PledgeRound
from tests.test_localised_refusals import _raised
from tests.test_messages import placeholders

NOW = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
TODAY = NOW.date()
ASK_BY, REPORT_BACK = date(2027, 1, 31), date(2027, 12, 1)
CLI = store.Author("cli:test", Channel.CLI)


async def _institution(session: AsyncSession, code: str) -> int:
    found = await session.scalar(select(Institution.id).where(Institution.code == code))
    assert found is not None
    return found


async def _round(session: AsyncSession, **given: object) -> PledgeRound:
    return await store.open_round(session, 2027, ASK_BY, REPORT_BACK, today=TODAY, actor="cli:test", now=NOW, **given)  # type: ignore[arg-type]


async def test_a_round_asks_every_active_institution_once_and_refuses_bad_dates(
    sessions: async_sessionmaker[AsyncSession], world: dict[str, int],
) -> None:
    async with sessions() as session, session.begin():
        made = await _round(session)
        asked = await store.asked_institutions(session, made.id)
        assert len(asked) == 2
        with pytest.raises(Conflict, match="the 2027 round is open already"):
            await _round(session)
        with pytest.raises(InvalidValue, match=r"the report-back \(2027-01-31\) must come after"):
            await store.open_round(session, 2028, ASK_BY, ASK_BY, today=TODAY, actor="x", now=NOW)
        with pytest.raises(InvalidValue, match="has passed already"):
            await store.open_round(session, 2028, date(2026, 11, 1), REPORT_BACK, today=TODAY, actor="x", now=NOW)
        with pytest.raises(InvalidValue, match="between 2000 and 2100"):
            await store.open_round(session, 1999, ASK_BY, REPORT_BACK, today=TODAY, actor="x", now=NOW)
        only = await store.open_round(session, 2028, date(2028, 1, 31), date(2028, 12, 1), today=TODAY, actor="x", now=NOW, institutions=["mow"])
        assert [a.institution_id for a in await store.asked_institutions(session, only.id)] == [await _institution(session, "MOW")]
        with pytest.raises(NotFound, match="no institution with code 'NOPE'"):
            await store.open_round(session, 2029, date(2029, 1, 31), date(2029, 12, 1), today=TODAY, actor="x", now=NOW, institutions=["nope"])


async def test_a_pledge_names_what_it_serves_and_a_typo_is_refused_with_its_key(
    sessions: async_sessionmaker[AsyncSession], world: dict[str, int],
) -> None:
    one, two, _ = world["mine_all"]
    async with sessions() as session, session.begin():
        round_ = await _round(session)
        moj = await _institution(session, "MOJ")
        action = await create_action(session, ActionData(title="Train judges", responsible="MOJ", recommendations=(one,)), actor="x", now=NOW)
        pledge = await store.add_pledge(
            session, round_, moj, f"  Train 300 judges on COVID-19 rules (#{one}, {action.code.lower()}) and #{two}  ", CLI, today=TODAY, now=NOW,
        )
        assert (pledge.code, pledge.state, pledge.text) == ("P-1", PledgeState.DRAFT, f"Train 300 judges on COVID-19 rules (#{one}, {action.code.lower()}) and #{two}")
        [view] = await store.pledge_views(session, round_.id)
        # COVID-19 is shaped like a code but is no action: it stays text.
        assert (view.recommendations, view.actions, view.serves) == ((one, two), (action.code,), f"#{one}, #{two}, {action.code}")
        with pytest.raises(NotFound) as unknown:
            await store.add_pledge(session, round_, moj, "Do it #999999 and A-77", CLI, today=TODAY, now=NOW)
        assert (unknown.value.key, unknown.value.values) == ("refusal.pledges.unknown_recommendations", {"ids": "#999999"})
        with pytest.raises(NotFound) as typo:
            await store.add_pledge(session, round_, moj, "Do it under A-77", CLI, today=TODAY, now=NOW)
        assert (typo.value.key, typo.value.values) == ("refusal.pledges.unknown_actions", {"codes": "A-77"})
        proposed = await create_action(session, ActionData(title="Maybe", responsible="MOJ", recommendations=(one,)), actor="x", now=NOW)
        proposed.state = ActionState.PROPOSED
        with pytest.raises(InvalidValue) as not_in_plan:
            await store.add_pledge(session, round_, moj, f"Under {proposed.code}", CLI, today=TODAY, now=NOW)
        assert not_in_plan.value.key == "refusal.pledges.action_not_in_plan"
        with pytest.raises(InvalidValue) as empty:
            await store.add_pledge(session, round_, moj, "   ", CLI, today=TODAY, now=NOW)
        assert empty.value.key == "refusal.pledges.text_empty"
        with pytest.raises(InvalidValue) as long:
            await store.add_pledge(session, round_, moj, "x" * (store.TEXT_MAX + 1), CLI, today=TODAY, now=NOW)
        assert long.value.values == {"count": store.TEXT_MAX, "length": store.TEXT_MAX + 1}
        assert [p.code for p in (await session.scalars(select(Pledge))).all()] == ["P-1"]


async def test_drafts_are_confirmed_together_and_a_withdrawn_pledge_is_kept(
    sessions: async_sessionmaker[AsyncSession], world: dict[str, int],
) -> None:
    async with sessions() as session, session.begin():
        round_ = await _round(session)
        moj, mow = await _institution(session, "MOJ"), await _institution(session, "MOW")
        await store.declare_no_pledge(session, round_, moj, by="Ana", today=TODAY, now=NOW)
        first = await store.add_pledge(session, round_, moj, "One", CLI, today=TODAY, now=NOW)
        second = await store.add_pledge(session, round_, moj, "Two", CLI, today=TODAY, now=NOW)
        confirmed = await store.confirm_drafts(session, round_, moj, by="Ana", today=TODAY, now=NOW + timedelta(hours=1))
        assert [p.code for p in confirmed] == [first.code, second.code]
        assert {p.state for p in confirmed} == {PledgeState.CONFIRMED} and second.confirmed_at == NOW + timedelta(hours=1)
        with pytest.raises(InvalidValue) as nothing:
            await store.confirm_drafts(session, round_, moj, by="Ana", today=TODAY, now=NOW)
        assert nothing.value.key == "refusal.pledges.nothing_to_confirm"
        # Confirming took back the earlier "no pledge"; declaring it again is refused while pledges stand.
        with pytest.raises(InvalidValue) as has:
            await store.declare_no_pledge(session, round_, moj, by="Ana", today=TODAY, now=NOW)
        assert has.value.values == {"count": 2, "year": 2027}
        withdrawn = await store.withdraw_pledge(session, "p-2", by="Ana", today=TODAY, now=NOW)
        assert withdrawn.state is PledgeState.WITHDRAWN and withdrawn.withdrawn_by == "Ana"
        with pytest.raises(InvalidValue) as again:
            await store.withdraw_pledge(session, "2", by="Ana", today=TODAY, now=NOW)
        assert again.value.key == "refusal.pledges.already_withdrawn"
        await store.add_pledge(session, round_, mow, "Three", CLI, today=TODAY, now=NOW)
        summary = await store.summary(session, round_)
        assert [(line.code, line.confirmed, line.drafts, line.withdrawn, line.standing) for line in summary.lines] == [
            ("MOJ", 1, 0, 1, "confirmed"), ("MOW", 0, 1, 0, "drafts"),
        ]
        # Asked still: MOW, which has a draft; MOJ confirmed one.
        assert [(a.institution_id, a.phase, a.drafts) for a in await store.asking(session, TODAY)] == [(mow, "pledge", 1)]
    async with sessions() as session:
        changes = (await session.scalars(select(AuditEntry.action).where(AuditEntry.entity == "pledges"))).all()
    # Three inserts, then the two confirmations and the withdrawal as updates.
    assert sorted(changes) == ["insert"] * 3 + ["update"] * 3


async def test_the_report_back_takes_outcomes_of_confirmed_pledges_only_from_its_day_and_keeps_each(
    sessions: async_sessionmaker[AsyncSession], world: dict[str, int],
) -> None:
    async with sessions() as session, session.begin():
        round_ = await _round(session)
        moj = await _institution(session, "MOJ")
        kept = await store.add_pledge(session, round_, moj, "One", CLI, today=TODAY, now=NOW, confirmed=True)
        draft = await store.add_pledge(session, round_, moj, "Two", CLI, today=TODAY, now=NOW)
        with pytest.raises(InvalidValue) as early:
            await store.record_outcome(session, kept, PledgeOutcomeKind.DONE, "Done", CLI, today=TODAY, now=NOW)
        assert (early.value.key, early.value.values) == ("refusal.pledges.report_not_open", {"year": 2027, "date": REPORT_BACK})
        later = datetime(2027, 12, 2, 14, tzinfo=UTC)
        with pytest.raises(InvalidValue) as never:
            await store.record_outcome(session, draft, PledgeOutcomeKind.DONE, "Done", CLI, today=later.date(), now=later)
        assert never.value.key == "refusal.pledges.report_draft"
        with pytest.raises(InvalidValue) as late_pledge:
            await store.add_pledge(session, round_, moj, "Three", CLI, today=later.date(), now=later)
        assert late_pledge.value.key == "refusal.pledges.pledging_over"
        with pytest.raises(InvalidValue) as blank:
            await store.record_outcome(session, kept, PledgeOutcomeKind.DONE, "  ", CLI, today=later.date(), now=later)
        assert blank.value.key == "refusal.pledges.account_empty"
        assert [a.phase for a in await store.asking(session, later.date())] == ["report"]
        await store.record_outcome(session, kept, PledgeOutcomeKind.PARTLY, "Half the courses", CLI, today=later.date(), now=later)
        await store.record_outcome(session, kept, PledgeOutcomeKind.DONE, "All  the\ncourses given", CLI, today=later.date(), now=later + timedelta(days=1))
        assert [(o.outcome, o.account) for o in await store.outcomes_of(session, kept.id)] == [
            (PledgeOutcomeKind.PARTLY, "Half the courses"), (PledgeOutcomeKind.DONE, "All the courses given"),
        ]
        summary = await store.summary(session, round_)
        [line] = [line for line in summary.lines if line.code == "MOJ"]
        assert (line.outcomes[PledgeOutcomeKind.DONE], line.outcomes[PledgeOutcomeKind.PARTLY], line.awaited) == (1, 0, 0)
        assert await store.asking(session, later.date()) == []
        await store.close_round(session, 2027, actor="cli:test", now=later)
        with pytest.raises(InvalidValue) as closed:
            await store.record_outcome(session, kept, PledgeOutcomeKind.NOT_DONE, "No", CLI, today=later.date(), now=later)
        assert closed.value.key == "refusal.pledges.round_closed"


async def test_outcomes_are_append_only_in_the_orm_and_in_sql(sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> None:
    later = datetime(2027, 12, 2, 14, tzinfo=UTC)
    async with sessions() as session, session.begin():
        round_ = await _round(session)
        pledge = await store.add_pledge(session, round_, await _institution(session, "MOJ"), "One", CLI, today=TODAY, now=NOW, confirmed=True)
        await store.record_outcome(session, pledge, PledgeOutcomeKind.DONE, "Done", CLI, today=later.date(), now=later, idempotency_key="k1")
        # The same delivery again stores nothing new.
        await store.record_outcome(session, pledge, PledgeOutcomeKind.DONE, "Done", CLI, today=later.date(), now=later, idempotency_key="k1")
    async with sessions() as session:
        assert len((await session.scalars(select(PledgeOutcome))).all()) == 1
    with pytest.raises(AppendOnlyViolation):
        async with sessions() as session, session.begin():
            outcome = await session.scalar(select(PledgeOutcome))
            assert outcome is not None
            outcome.account = "changed"
    with pytest.raises(DBAPIError, match="append-only"):
        async with sessions() as session, session.begin():
            await session.execute(text("DELETE FROM pledge_outcomes"))


CHAT_REACHED = {
    "check_open", "asked_in", "check_text", "read_links", "check_pledging", "add_pledge", "get_pledge", "confirm_drafts", "withdraw_pledge",
    "declare_no_pledge", "check_account", "reportable", "record_outcome", "get_round",
}


def test_every_refusal_chat_can_meet_has_its_message_in_every_language() -> None:
    """Each raise in a function chat reaches carries a key; each key raised
    has an entry in en, fr and es whose placeholders are the values given."""
    source = (Path(__file__).resolve().parent.parent / "storage" / "pledges.py").read_text(encoding="utf-8")
    reached = [node for node in ast.walk(ast.parse(source)) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in CHAT_REACHED]
    assert {node.name for node in reached} == CHAT_REACHED
    for node in reached:
        for raised in ast.walk(node):
            if isinstance(raised, ast.Raise) and isinstance(raised.exc, ast.Call):
                assert any(k.arg == "key" for k in raised.exc.keywords), (node.name, ast.unparse(raised)[:80])
    keyed = [r for r in _raised("storage/pledges.py") if r.key is not None]
    assert len(keyed) >= 17
    for raised in keyed:
        for language in SUPPORTED_LANGUAGES:
            entry = catalog(language).get(raised.key)
            assert entry is not None, (language, raised.key)
            for form in entry if isinstance(entry, tuple) else (entry,):
                if raised.values is not None:
                    assert placeholders(form) == raised.values, (language, raised.key, form)


PLEDGE_TABLES = {"pledge_rounds", "pledge_round_institutions", "pledges", "pledge_recommendations", "pledge_actions", "pledge_outcomes", "pledge_reminder_steps"}


async def test_0027_builds_the_pledge_tables_and_takes_them_away(engine: AsyncEngine) -> None:
    async def tables() -> set[str]:
        async with engine.connect() as conn:
            return await conn.run_sync(lambda c: set(inspect(c).get_table_names()))

    assert PLEDGE_TABLES <= await tables()
    await downgrade(engine, "0026")
    assert await current_revision(engine) == "0026"
    assert not (PLEDGE_TABLES & await tables()) and "indicators" in await tables()
    await upgrade(engine)
    assert await current_revision(engine) == head_revision()
    assert PLEDGE_TABLES <= await tables()

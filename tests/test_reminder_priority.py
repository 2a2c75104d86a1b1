"""Reminders by priority: [reminders] priorities limits what reminders and
escalations cover (a linked group at its highest member's level, an item
with no level yet and an information request covered whole), the
secretariat's overdue digest still counting everything; and `reminders
preview --priority` lists only what concerns a level. The plan on its own,
then the real command line and the real planner on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
from dataclasses import replace
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import reminder_policy
from bot.cli import main
from bot.config import Config
from handlers.reminders.compose import compose
from handlers.reminders.plan import Policy, Recipient, Snapshot, apply, plan_day, simulate
from handlers.reminders.service import ReminderService
from storage.conversations import link_identity
from storage.deadlines import DeadlineData, add_deadline
from storage.enums import DeadlineKind, FocalPointRole, OutboxKind, Platform, Priority
from storage.models import OutboxMessage
from storage.network import FocalPointData, add_focal_point
from storage.priorities import override
from storage.secretariat import SecretariatUserData, seed_secretariat_users
from storage.selection import Selector
from tests.fakes import FakeClock
from tests.test_reminder_plan import ANA, BRUNO, MOJ, person, sends, world

HIGH, MEDIUM, LOW = Priority.HIGH, Priority.MEDIUM, Priority.LOW
MARIA = replace(person(90, "María", FocalPointRole.TECHNICAL), kind="secretariat", role=None, institution_id=None)
ONLY_HIGH = Policy(country="PT", priorities=frozenset({HIGH}))
EVERY = Policy(country="PT")
NOW = datetime(2026, 11, 23, 13, tzinfo=timezone.utc)


def prioritised(levels: dict[int, Priority | None], *people: Recipient, groups: dict[int, int] | None = None) -> Snapshot:
    """The plan's world (deadline 10 over 1, 2 and 3, due 29 January 2027) with these levels."""
    snapshot = world(*people, secretariat=(MARIA,))
    snapshot.priorities = dict(levels)
    snapshot.groups = dict(groups or {})
    snapshot.labels = {1: "UPR 119.1", 2: "UPR 119.2", 3: "UPR 119.3"}
    return snapshot


def items_to(planned: list, who: Recipient) -> set[tuple[int, ...]]:  # type: ignore[type-arg]
    return {i.recommendations for p in planned if p.recipient.id == who.id for i in p.items}


def test_reminders_and_escalations_cover_the_levels_configured_and_what_has_none_yet() -> None:
    levels = {1: HIGH, 2: LOW, 3: None}
    everything = simulate(prioritised(levels, ANA, BRUNO), EVERY, date(2026, 11, 1), date(2027, 2, 10))
    assert items_to(everything, ANA) == items_to(everything, BRUNO) == {(1, 2, 3)}
    planned = simulate(prioritised(levels, ANA, BRUNO), ONLY_HIGH, date(2026, 11, 1), date(2027, 2, 10))
    # 2 is low: left out of Ana's reminders and of Bruno's escalation alike; 3 has no level yet, so it stays.
    assert items_to(planned, ANA) == {(1, 3)} and items_to(planned, BRUNO) == {(1, 3)}
    # The same steps on the same days: only what they are about changed.
    assert sends(planned, ANA) == sends(everything, ANA) and sends(planned, BRUNO) == sends(everything, BRUNO)
    # The secretariat's digest still counts all three open items once overdue.
    digests = [p for p in planned if p.kind is OutboxKind.OVERDUE_DIGEST]
    assert digests and all(p.overdue == [(MOJ, p.overdue[0][1], 3)] for p in digests)


def test_a_deadline_with_nothing_at_those_levels_is_neither_reminded_nor_escalated_but_stays_in_the_digest() -> None:
    planned = simulate(prioritised({1: LOW, 2: MEDIUM, 3: LOW}, ANA, BRUNO), ONLY_HIGH, date(2026, 11, 1), date(2027, 2, 10))
    assert sends(planned, ANA) == [] and sends(planned, BRUNO) == []
    digests = [p for p in planned if p.recipient.id == MARIA.id]
    assert digests[0].day == date(2027, 2, 1) and digests[0].overdue[0][2] == 3


def test_a_linked_group_is_one_item_at_its_highest_members_level() -> None:
    # 1 (low) and 2 (high) are linked: the group is high, so both are reminded; 3 (low) alone is not.
    snapshot = prioritised({1: LOW, 2: HIGH, 3: LOW}, ANA, groups={1: 7, 2: 7})
    snapshot.group_titles = {7: "Marital rape"}
    (digest,) = plan_day(date(2026, 11, 30), snapshot, ONLY_HIGH)
    assert digest.items[0].recommendations == (1, 2)
    text = compose(digest, snapshot).text
    assert "Marital rape" in text and "#1 UPR 119.1" in text and "#3" not in text
    # Covering low only: the group is high, so it is left out, 3 alone goes.
    (low,) = plan_day(date(2026, 11, 30), prioritised({1: LOW, 2: HIGH, 3: LOW}, ANA, groups={1: 7, 2: 7}), replace(EVERY, priorities=frozenset({LOW})))
    assert low.items[0].recommendations == (3,)


def test_an_information_request_is_reminded_whole_whatever_its_items_levels() -> None:
    snapshot = prioritised({1: LOW, 2: LOW, 3: LOW}, ANA)
    snapshot.deadlines = [replace(snapshot.deadlines[0], request_id=5)]
    (digest,) = plan_day(date(2026, 11, 30), snapshot, ONLY_HIGH)
    assert digest.items[0].recommendations == (1, 2, 3)


def test_an_item_raised_to_a_covered_level_is_reminded_the_next_working_day_its_missed_steps_folded() -> None:
    snapshot = prioritised({1: LOW, 2: LOW, 3: MEDIUM}, ANA)
    assert simulate(snapshot, ONLY_HIGH, date(2026, 11, 1), date(2027, 1, 20)) == []
    snapshot.priorities[2] = HIGH
    (first,) = plan_day(date(2027, 1, 21), snapshot, ONLY_HIGH)
    # The 60, 30 and 14-day steps went by unsent: one reminder now, at the latest of them.
    assert [(i.step, i.recommendations) for i in first.items] == [("14", (2,))]
    assert sorted(step for _, _, step in first.skipped) == ["30", "60"]
    apply(snapshot, [first])
    assert sends(simulate(snapshot, ONLY_HIGH, date(2027, 1, 21), date(2027, 1, 26)), ANA) == [
        (date(2027, 1, 22), "reminder", ("7",)), (date(2027, 1, 26), "reminder", ("3",)),
    ]


def test_the_setting_is_checked_and_reaches_the_plan() -> None:
    assert reminder_policy(Config()).priorities == frozenset(Priority)
    assert reminder_policy(Config.model_validate({"reminders": {"priorities": ["high", "medium"]}})).priorities == {HIGH, MEDIUM}
    for bad, says in (([], "at least 1 item"), (["high", "high"], "each level once"), (["urgent"], "'high', 'medium' or 'low'")):
        with pytest.raises(ValueError, match=says):
            Config.model_validate({"reminders": {"priorities": bad}})


# The real command line and planner, on both backends.


def cli(*args: str, expect: int = 0) -> str:
    buffer = io.StringIO()
    code = 0
    with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
        try:
            main(list(args), clock=FakeClock())
        except SystemExit as exc:
            code = int(exc.code or 0)
    assert code == expect, buffer.getvalue()
    return buffer.getvalue()


async def run(*args: str, expect: int = 0) -> str:
    return await asyncio.to_thread(cli, *args, expect=expect)


@pytest.fixture
async def levels(sessions: async_sessionmaker[AsyncSession], world: dict[str, int], db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Ana's three (due Monday 30 November 2026) one of each level, Bruno her
    alternate, María in the secretariat; the command line on this database."""
    low, high, medium = world["mine_all"]
    async with sessions() as session, session.begin():
        bruno = await add_focal_point(session, FocalPointData("Bruno Silva", "MOJ", FocalPointRole.ALTERNATE, "en", "America/Montevideo", date(2025, 1, 1), "bruno@justicia.example"))
        await link_identity(session, bruno.id, Platform.TELEGRAM, "", "112", "112")
        await seed_secretariat_users(session, [SecretariatUserData("María González", "maria@cancilleria.example", "en", "America/Montevideo", telegram_user_id=900)])
        await add_deadline(session, DeadlineData(DeadlineKind.INTERNAL_INPUT, date(2026, 11, 30), title="Inputs for the mid-term report"), Selector(ids=(low, high, medium)))
        for rec, level in ((low, LOW), (high, HIGH), (medium, MEDIUM)):
            await override(session, [rec], level, "set for the test", actor="cli:test", now=NOW)
    monkeypatch.setenv("NMRF_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)
    return {"low": low, "high": high, "medium": medium}


def preview(*extra: str) -> list[dict[str, object]]:
    return json.loads(cli("reminders", "preview", "--from", "2026-11-23", "--to", "2026-12-10", "--format", "json", *extra))  # type: ignore[no-any-return]


async def test_the_preview_lists_the_digests_order_and_filters_by_priority(levels: dict[str, int], tmp_path: Path) -> None:
    low, high, medium = (f"#{levels[k]}" for k in ("low", "high", "medium"))
    rows = await asyncio.to_thread(preview)
    nudges = [r for r in rows if r["kind"] in ("reminder", "escalation")]
    # Ana's reminders, then Bruno's escalation; the items high first, as the digest lists them.
    assert {r["recipient"] for r in nudges} == {"Ana Pérez", "Bruno Silva"}
    assert {(r["items"], r["priority"]) for r in nudges} == {(f"{high}, {medium}, {low}", "high")}
    assert any(r["recipient"] == "María González" and r["step"] == "overdue" for r in rows)
    only = await asyncio.to_thread(preview, "--priority", "medium", "--priority", "low")
    assert only and {(r["items"], r["priority"]) for r in only} == {(f"{medium}, {low}", "medium")}
    # The same messages, fewer items; the secretariat's digests are not about one level, so left out.
    assert [(r["recipient"], r["step"]) for r in only] == [(r["recipient"], r["step"]) for r in nudges]
    said = await run("reminders", "preview", "--to", "2026-12-10", "--priority", "urgent", expect=2)
    assert "'urgent' is not one of 'high', 'medium', 'low'" in said


async def test_the_configured_levels_limit_the_plan_and_its_preview(levels: dict[str, int], tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('[reminders]\npriorities = ["high"]\n', encoding="utf-8")
    rows = await asyncio.to_thread(preview)
    nudges = [r for r in rows if r["kind"] in ("reminder", "escalation")]
    assert {r["recipient"] for r in nudges} == {"Ana Pérez", "Bruno Silva"}
    assert {r["items"] for r in nudges} == {f"#{levels['high']}"}
    # Low is not covered: asking the preview for it finds nothing planned.
    assert await asyncio.to_thread(preview, "--priority", "low") == []
    (tmp_path / "config.toml").write_text('[reminders]\npriorities = ["urgent"]\n', encoding="utf-8")
    said = await run("reminders", "preview", "--to", "2026-12-10", expect=1)
    assert "reminders.priorities" in said and "'high', 'medium' or 'low'" in said


async def test_the_planner_writes_only_the_covered_items_to_the_outbox(levels: dict[str, int], sessions: async_sessionmaker[AsyncSession]) -> None:
    config = Config.model_validate({"reminders": {"priorities": ["high", "medium"]}})
    # Monday 23 November, ten in Montevideo: Ana's 7-day step (the 60, 30 and 14 folded into it).
    assert await ReminderService(sessions, reminder_policy(config), FakeClock()).tick() >= 1
    async with sessions() as session:
        (message,) = (await session.scalars(select(OutboxMessage.message).where(OutboxMessage.kind == OutboxKind.REMINDER))).all()
    text = message["text"]
    assert f"#{levels['high']} " in text and f"#{levels['medium']} " in text and f"#{levels['low']} " not in text
    assert text.index(f"#{levels['high']} ") < text.index(f"#{levels['medium']} ")

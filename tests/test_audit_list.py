"""`nmrf-bot focal-points edit`, `institutions edit` and `audit list`: a
correction is recorded with who made it (the CLI's user, the admin in chat
even when the bot runs as root), and the audit list shows who changed what,
filtered, with times in [schedule] timezone and the zone named."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.engine import ConversationEngine
from storage.audit import acting_as
from storage.enums import FocalPointRole
from storage.models import FocalPoint, SecretariatUser
from storage.secretariat import SecretariatUserData, seed_secretariat_users
from tests.cli_harness import Cli
from tests.dialogue_harness import bot, clock, gateway, tap
from tests.fakes import FakeGateway, Person

__all__ = ["bot", "clock", "gateway"]

admin = Person("900")


@pytest.fixture
def cli(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NMRF_DATABASE_URL", db_url)
    monkeypatch.setattr("bot.cli.context.getpass.getuser", lambda: "maria")
    (tmp_path / "config.toml").write_text('[schedule]\ntimezone = "America/Montevideo"\n', encoding="utf-8")
    return Cli(capsys)


def audit(cli: Cli, *args: str) -> list[dict[str, Any]]:
    out, _ = cli("audit", "list", "--format", "json", *args)
    return list(json.loads(out))


def test_cli_corrections_are_recorded_with_the_cli_user_and_listed(cli: Cli) -> None:
    cli("institutions", "add", "MOJ", "Ministry of Justice")
    cli("institutions", "add", "MOW", "Ministry of Women")
    cli("focal-points", "add", "--name", "Ana Pérez", "--institution", "MOJ", "--role", "technical", "--email", "ana@justicia.example")
    cli("focal-points", "add", "--name", "Olga Ruiz", "--institution", "MOW", "--role", "technical", "--email", "olga@mujeres.example")

    out, _ = cli("focal-points", "edit", "ana@justicia.example", "--role", "senior", "--language", "fr", "--hours", "08:00-14:00",
                 "--name", "Ana  Pérez Díaz")
    assert out.startswith("focal point 1 Ana Pérez Díaz changed")
    out, _ = cli("focal-points", "edit", "1", "--role", "senior")
    assert "unchanged" in out
    _, err = cli("focal-points", "edit", "1", "--timezone", "Mars/Olympus", expect=1)
    assert "Mars/Olympus" in err
    _, err = cli("focal-points", "edit", "1", "--email", "olga@mujeres.example", expect=1)
    assert "has the e-mail 'olga@mujeres.example' already" in err
    _, err = cli("focal-points", "edit", "1", "--hours", "18:00-09:00", expect=1)
    assert "18:00-09:00" in err
    _, err = cli("focal-points", "edit", "nobody@justicia.example", "--role", "senior", expect=1)
    assert "no focal point" in err
    _, err = cli("focal-points", "edit", "1", expect=2)
    assert "nothing to change" in err

    out, _ = cli("institutions", "edit", "mow", "--name", "Ministry of Women and Equality", "--kind", "agency", "--parent", "MOJ")
    assert out.strip() == "institution MOW changed"
    _, err = cli("institutions", "edit", "MOJ", "--parent", "MOW", expect=1)
    assert "loop" in err
    _, err = cli("institutions", "edit", "MOX", "--name", "X", expect=1)
    assert "no institution with code 'MOX'" in err
    cli("institutions", "edit", "MOW", "--no-parent")
    out, _ = cli("institutions", "list", "--format", "json")
    assert [(i["code"], i["name"], i["kind"], i["parent"]) for i in json.loads(out)] == [
        ("MOJ", "Ministry of Justice", "ministry", None), ("MOW", "Ministry of Women and Equality", "agency", None)]

    updates = audit(cli, "--table", "focal_points", "--action", "update")
    # The hours are a second flush (they move what is planned): one command, two entries.
    assert {(e["actor"], e["row"]) for e in updates} == {("cli:maria", "1")}
    changes = {k: v for e in updates for k, v in e["changes"].items()}
    assert changes["role"] == ["technical", "senior"] and changes["working_hours"] == [None, "08:00-14:00"]
    assert changes["name"] == ["Ana Pérez", "Ana Pérez Díaz"]
    ana = updates[0]
    # 13:00 UTC in Montevideo, the zone named.
    assert (ana["at"], ana["zone"]) == ("2026-11-23 10:00:00-03:00", "America/Montevideo")
    utc = audit(cli, "--table", "focal_points", "--action", "update", "--utc")[0]
    assert (utc["at"], utc["zone"]) == ("2026-11-23 13:00:00+00:00", "UTC")
    # Inserts name their row too.
    assert [e["row"] for e in audit(cli, "--table", "institutions", "--action", "insert")] == ["2", "1"]
    # Newest first; filters by actor, day and table.
    assert [e["table"] for e in audit(cli, "--actor", "maria", "--limit", "2")] == ["institutions", "institutions"]
    assert audit(cli, "--actor", "secretariat:") == []
    # (The reference data the migration synced is the system's, at the real time.)
    mine = audit(cli, "--actor", "maria")
    assert mine and mine == [e for e in audit(cli) if e["actor"] == "cli:maria"]
    assert {e["table"] for e in mine} == {"institutions", "focal_points"}
    assert audit(cli, "--actor", "maria", "--since", "2026-11-24") == []
    assert audit(cli, "--actor", "maria", "--until", "2026-11-22") == []
    assert audit(cli, "--actor", "maria", "--since", "2026-11-23", "--until", "2026-11-23") == mine
    # A day is the [schedule] timezone's: 23 November in Montevideo ends at 03:00 UTC on the 24th.
    assert audit(cli, "--actor", "maria", "--utc", "--until", "2026-11-22") == []
    out, _ = cli("audit", "list", "--format", "csv", "--table", "institutions", "--action", "update")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["actor"], r["row"], r["zone"]) for r in rows] == [("cli:maria", "2", "America/Montevideo")] * 2
    assert json.loads(rows[-1]["changes"])["name"] == ["Ministry of Women", "Ministry of Women and Equality"]
    out, _ = cli("audit", "list")
    assert "cli:maria" in out and "America/Montevideo" in out

    _, err = cli("audit", "list", "--table", "people", expect=1)
    assert "no table 'people'" in err and "focal_points" in err
    _, err = cli("audit", "list", "--since", "2026-11-24", "--until", "2026-11-23", expect=1)
    assert "before --since" in err
    _, err = cli("audit", "list", "--action", "drop", expect=2)
    assert "drop" in err


async def test_a_chat_change_names_the_admin_and_a_cli_change_the_cli_user(
    bot: ConversationEngine, gateway: FakeGateway, cli: Cli, world: dict[str, int], sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with sessions() as session, session.begin():
        await seed_secretariat_users(session, [SecretariatUserData("Mary Grant", "mary@mfa.example", "en", "UTC", telegram_user_id=900)])
        mary = await session.scalar(select(SecretariatUser).where(SecretariatUser.email == "mary@mfa.example"))
        assert mary is not None
    await bot.handle(admin.says("/people role ana@justicia.example senior"))
    # The bot process started by root: the admin is still who acted.
    with acting_as("cli:root"):
        await bot.handle(tap("Confirm", admin)(gateway))
    await asyncio.to_thread(cli, "focal-points", "edit", "ana@justicia.example", "--language", "es")
    async with sessions() as session:
        ana = await session.get(FocalPoint, world["ana"])
        assert ana is not None and (ana.role, ana.language) == (FocalPointRole.SENIOR, "es")
    entries = await asyncio.to_thread(audit, cli, "--table", "focal_points", "--action", "update")
    assert [(e["actor"], sorted(set(e["changes"]) - {"updated_at"})) for e in entries] == [
        ("cli:maria", ["language"]), (f"secretariat:{mary.id}", ["role"])]
    assert await asyncio.to_thread(audit, cli, "--actor", f"secretariat:{mary.id}", "--table", "focal_points") == entries[1:]


async def test_a_focal_points_own_change_in_chat_names_them(
    bot: ConversationEngine, gateway: FakeGateway, cli: Cli, world: dict[str, int]
) -> None:
    with acting_as("cli:root"):
        await bot.handle(Person("111").says("/hours 08:00-14:00"))
    assert [m.key for m in gateway.take()] == ["hours.set"]
    [entry] = await asyncio.to_thread(audit, cli, "--table", "focal_points", "--action", "update")
    assert entry["actor"] == f"telegram:111 focal_point:{world['ana']}" and entry["changes"]["working_hours"] == [None, "08:00-14:00"]


async def test_the_actor_filter_matches_a_whole_word_and_imports_are_an_action(sessions: async_sessionmaker[AsyncSession]) -> None:
    from storage.audit import audit_record
    from storage.audit_log import AuditFilter, list_audit

    async with sessions() as session, session.begin():
        for actor in ("secretariat:1", "secretariat:12", "telegram:5 secretariat:1", "slack:T1/U9 focal_point:1", "cli:maria"):
            with acting_as(actor):
                await audit_record(session, action="insert", entity="institutions", entity_id=actor, changes={})
        with acting_as("cli:maria"):
            await audit_record(session, action="import", entity="import_runs", entity_id="1", changes={"file": "x.csv"})

    async def actors(**wanted: Any) -> list[str]:
        async with sessions() as session:
            return sorted(e.actor for e in await list_audit(session, AuditFilter(**wanted)))

    assert await actors(actor="secretariat:1") == ["secretariat:1", "telegram:5 secretariat:1"]
    assert await actors(actor="secretariat:") == ["secretariat:1", "secretariat:12", "telegram:5 secretariat:1"]
    assert await actors(actor="focal_point:1") == ["slack:T1/U9 focal_point:1"]
    assert await actors(actor="cli:maria", action="import") == ["cli:maria"]
    assert await actors(actor="secretariat") == []
    assert await actors(actor="maria") == ["cli:maria", "cli:maria"]

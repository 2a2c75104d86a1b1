"""A treaty body's follow-up selection: recorded from the CLI, chat and the
template, refused for what is not a concluding observation, and the one
thing the follow-up information deadline (and so its reminders) covers."""

from __future__ import annotations

import asyncio
import json
from datetime import date
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from handlers.engine import ConversationEngine
from handlers.reminders.plan import Policy
from handlers.reminders.snapshot import load_snapshot
from storage.audit import acting_as
from storage.database import create_engine, session_factory
from storage.enums import BudgetImplications, DeadlineKind, FollowUpSource, ImportSource, Priority, SecretariatRole
from storage.deadlines import DeadlineData, add_deadline
from storage.errors import InvalidValue, NotFound
from storage.follow_up import (
    list_selection,
    parse_paragraphs,
    resolve_ids,
    resolve_paragraphs,
    select_paragraphs,
    selected_ids,
    unselect_paragraphs,
    UnreadableParagraphs,
)
from storage.importers.errors import ImportRejected
from storage.importers.run import import_file
from storage.importers.template import write_blank_template
from storage.models import AuditEntry, FollowUpSelection, PriorityInput, Recommendation, deadline_recommendations
from storage.priorities import explain
from storage.selection import Selector
from storage.secretariat import SecretariatUserData, add_secretariat_user, seed_secretariat_users
from tests.cli_harness import Cli
from tests.dialogue_harness import bot, chat, clock, gateway, tap
from tests.factories import write_workbook
from tests.fakes import FakeClock, FakeGateway, Person

__all__ = ["bot", "clock", "gateway"]
T = TypeVar("T")

CO = "CEDAW/C/URY/CO/10"
UPR_DOC = "A/HRC/43/15"
HEADER = ["id", "text", "mechanism", "country", "kind", "paragraph", "document_symbol", "document_date", "upr_session"]
# CEDAW's concluding observations of 6 March 2026: follow-up information due two years on.
ROWS = [
    ["C-12", "The Committee recommends that the State party criminalise marital rape", "CEDAW", "Uruguay", "recommendation", "12", CO, "2026-03-06", None],
    ["C-14a", "Adopt a national action plan on gender-based violence", "CEDAW", "Uruguay", "recommendation", "14(a)", CO, "2026-03-06", None],
    ["C-14b", "Allocate resources to shelters for women", "CEDAW", "Uruguay", "recommendation", "14 (b)", CO, "2026-03-06", None],
    ["C-27", "Ensure rural women's access to land", "CEDAW", "Uruguay", "concern_observation", "27", CO, "2026-03-06", None],
    ["C-30", "Ratify the ILO Domestic Workers Convention", "CEDAW", "Uruguay", "recommendation", "30", CO, "2026-03-06", None],
    ["R-1", "Consider ratifying the Optional Protocol to the Convention against Torture", "UPR", "Uruguay", "recommendation", "119.4", UPR_DOC, "2020-03-06", 35],
]


def _template(path: Path, extra: dict[str, list[Any]] | None = None) -> Path:
    """The registry's template with ROWS, and extra columns given per row id."""
    extra = extra or {}
    header = HEADER + list(extra)
    rows = [row + [extra[c][i] for c in extra] for i, row in enumerate(ROWS)]
    return write_workbook(path, {"recommendations": [header, *rows]})


async def _ids(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    async with sessions() as session:
        return dict((await session.execute(select(Recommendation.external_id, Recommendation.id))).all())


@pytest.fixture
async def registry(sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> dict[str, int]:
    await import_file(sessions, ImportSource.TEMPLATE, _template(tmp_path / "registry.xlsx"))
    return await _ids(sessions)


async def _selected(sessions: async_sessionmaker[AsyncSession]) -> dict[int, FollowUpSource]:
    async with sessions() as session:
        return dict((await session.execute(select(FollowUpSelection.recommendation_id, FollowUpSelection.source))).all())


def test_paragraphs_as_a_committee_writes_them() -> None:
    assert parse_paragraphs("12, 14(a), 27") == ("12", "14(a)", "27")
    assert parse_paragraphs("paras 12 and 14 (B); 27, 12") == ("12", "14(b)", "27")
    for bad, named in (("12, fourteen", "fourteen"), ("", "no paragraph"), ("and", "no paragraph")):
        with pytest.raises(InvalidValue, match=named):
            parse_paragraphs(bad)


@pytest.mark.parametrize(("written", "read"), [
    ("12-14", ("12", "13", "14")),
    ("12–14", ("12", "13", "14")),
    ("paragraphs 12 — 14 and 20", ("12", "13", "14", "20")),
    ("paras. 12, 14 and 20", ("12", "14", "20")),
    ("para. 12 to 14; 20", ("12", "13", "14", "20")),
    ("paragraphes 12 à 14 et 20", ("12", "13", "14", "20")),
    ("par. 12 et 14", ("12", "14")),
    ("du 12 au 14", ("12", "13", "14")),
    ("los párrafos 12 a 14 y 20", ("12", "13", "14", "20")),
    ("párrs. 12 y 14", ("12", "14")),
    ("del 12 al 14", ("12", "13", "14")),
    ("14(a)-(c)", ("14(a)", "14(b)", "14(c)")),
    ("14 (a) to 14 (C)", ("14(a)", "14(b)", "14(c)")),
    ("14(ii)-(iv)", ("14(ii)", "14(iii)", "14(iv)")),
    ("12.1-12.3", ("12.1", "12.2", "12.3")),
    ("§§ 12-13, 12 and 20.", ("12", "13", "20")),
])
def test_ranges_and_lists_in_english_french_and_spanish(written: str, read: tuple[str, ...]) -> None:
    assert parse_paragraphs(written) == read


@pytest.mark.parametrize(("written", "problem", "said"), [
    ("14-12", "range_reversed", "the range '14-12' runs downward"),
    ("12 - 14, 20 -", "range_end", "the range '20 -' has no end"),
    ("- 14", "range_start", "the range mark '-' has no paragraph before it"),
    ("12-14(b)", "range_mixed", "cannot read the range '12-14(b)'"),
    ("12.1-13.2", "range_mixed", "cannot read the range '12.1-13.2'"),
    ("14(a)-(2)", "range_mixed", "cannot read the range '14(a)-(2)'"),
    ("14(i)-(v)", "range_roman", "'14(i)-(v)' may be roman numerals or letters"),
    ("1-500", "range_long", "the range '1-500' names 500 paragraphs, more than the 60"),
    ("12, (b)", "sub_alone", "'(b)' names no paragraph: write it with its number, e.g. 14(b)"),
    ("12 14 y veinte", "word", "got 'veinte'"),
    ("12 ou 14", "word", "got 'ou'"),
])
def test_what_cannot_be_read_refuses_the_whole_text_naming_the_piece(written: str, problem: str, said: str) -> None:
    with pytest.raises(UnreadableParagraphs) as refused:
        parse_paragraphs(written)
    assert refused.value.problem == problem and said in str(refused.value) and refused.value.field == "paragraph"


async def test_select_and_unselect_by_paragraph_audited_with_the_actor(
    sessions: async_sessionmaker[AsyncSession], registry: dict[str, int]
) -> None:
    with acting_as("cli:maria"):
        async with sessions() as session, session.begin():
            # "14" is the committee's paragraph 14: both its sub-paragraphs.
            document, chosen = await resolve_paragraphs(session, CO.lower(), "12, 14")
            assert document.symbol == CO
            assert [p.paragraph for p in chosen] == ["12", "14(a)", "14 (b)"]
            change = await select_paragraphs(session, chosen)
        async with sessions() as session, session.begin():
            _, again = await resolve_paragraphs(session, CO, "14(b) 27")
            change = await select_paragraphs(session, again)
            assert ([p.paragraph for p in change.changed], [p.paragraph for p in change.unchanged]) == (["27"], ["14 (b)"])
            _, out = await resolve_paragraphs(session, CO, "14(a)")
            gone = await unselect_paragraphs(session, out)
            assert [p.recommendation_id for p in gone.changed] == [registry["C-14a"]]
    expected = {registry[k] for k in ("C-12", "C-14b", "C-27")}
    assert await _selected(sessions) == dict.fromkeys(expected, FollowUpSource.SECRETARIAT)
    async with sessions() as session:
        assert await selected_ids(session, registry.values()) == expected
        assert [r.paragraph for r in await list_selection(session, CO)] == ["12", "14 (b)", "27"]
        # The selection is the Guide's urgency criterion, and the priority follows it.
        view = await explain(session, registry["C-12"])
        assert view.criterion("urgency").met is True
        assert (await explain(session, registry["C-14a"])).criterion("urgency").met is not True
        audit = (await session.execute(
            select(AuditEntry.action, AuditEntry.actor, AuditEntry.entity_id).where(AuditEntry.entity == "follow_up_selections")
        )).all()
    assert sorted(a for a, _, _ in audit) == ["delete", "insert", "insert", "insert", "insert"]
    assert {actor for _, actor, _ in audit} == {"cli:maria"}


async def test_refused_for_a_upr_recommendation_and_unknown_paragraphs_named(
    sessions: async_sessionmaker[AsyncSession], registry: dict[str, int]
) -> None:
    async with sessions() as session:
        with pytest.raises(InvalidValue, match=f"{UPR_DOC} is a UPR document: only a treaty body's concluding observations"):
            await resolve_paragraphs(session, UPR_DOC, "119.4")
        with pytest.raises(InvalidValue, match=rf"#{registry['R-1']} is a UPR recommendation"):
            await resolve_ids(session, [registry["C-12"], registry["R-1"]])
        with pytest.raises(NotFound, match=r"has no paragraphs 99, 100 \(its paragraphs: 12, 14\(a\), 14 \(b\), 27, 30\)"):
            await resolve_paragraphs(session, CO, "12, 99, 100")
        with pytest.raises(NotFound, match="no document 'CEDAW/C/URY/CO/9'"):
            await resolve_paragraphs(session, "CEDAW/C/URY/CO/9", "12")
        with pytest.raises(NotFound, match="no recommendation #9999"):
            await resolve_ids(session, [9999])
    assert await _selected(sessions) == {}


@pytest.fixture
def cli(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NMRF_DATABASE_URL", db_url)
    monkeypatch.setenv("USER", "maria")
    monkeypatch.setenv("LOGNAME", "maria")
    return Cli(capsys)


def _follow_ups(out: str) -> list[dict[str, Any]]:
    return [s for s in json.loads(out) if s["kind"] == "follow_up_information"]


def test_deadlines_suggest_covers_exactly_the_selected_paragraphs_and_names_them(cli: Cli, tmp_path: Path) -> None:
    cli("import", "template", str(_template(tmp_path / "t.xlsx")), "--no-progress")
    out, err = cli("deadlines", "suggest", "--format", "json")
    # No selection yet: no follow-up deadline over every paragraph, and the reason said.
    assert _follow_ups(out) == []
    assert f"CEDAW follow-up information (Uruguay, due 2028-03-06) not suggested: no follow-up selection recorded for {CO}" in err
    assert any(s["kind"] == "treaty_report" for s in json.loads(out))

    out, _ = cli("followup", "select", CO, "12,", "27")
    assert out.startswith(f"selected for follow-up: {CO} paragraphs 12, 27 (#")
    out, err = cli("deadlines", "suggest", "--format", "json")
    [follow_up] = _follow_ups(out)
    assert follow_up["recommendations"] == 2 and follow_up["due_on"] == "2028-03-06"
    assert follow_up["basis"].endswith(f"; covers paragraphs 12, 27 of {CO}")
    assert "not suggested" not in err
    # Its input deadline, which brings the follow-up deadline along, covers the same paragraphs.
    [inputs] = [s for s in json.loads(out) if s["serves"] == follow_up["number"]]
    assert inputs["recommendations"] == 2
    cli("deadlines", "suggest", "--accept", str(inputs["number"]))
    out, _ = cli("deadlines", "list", "--format", "json")
    made = {d["kind"]: d for d in json.loads(out)}
    assert made["follow_up_information"]["recommendations"] == 2
    assert made["internal_input"]["recommendations"] == 2
    assert "covers paragraphs 12, 27" in made["follow_up_information"]["notes"]


def test_the_followup_command_line(cli: Cli, tmp_path: Path) -> None:
    cli("import", "template", str(_template(tmp_path / "t.xlsx")), "--no-progress")
    out, _ = cli("followup", "select", CO, "12", "14(a)")
    assert out.startswith(f"selected for follow-up: {CO} paragraphs 12, 14(a) (#")
    out, _ = cli("followup", "select", CO, "12, 27")
    assert f"selected for follow-up: {CO} paragraph 27" in out and f"already selected: {CO} paragraph 12" in out
    out, _ = cli("followup", "unselect", CO, "14(a)")
    assert out.startswith(f"no longer selected: {CO} paragraph 14(a)")
    out, _ = cli("followup", "list", CO, "--format", "json")
    rows = json.loads(out)
    assert [(r["paragraph"], r["source"], r["selected_by"]) for r in rows] == [("12", "secretariat", "cli:maria"), ("27", "secretariat", "cli:maria")]
    out, _ = cli("followup", "list", "--format", "csv")
    assert out.count(CO) == 2

    _, err = cli("followup", "select", UPR_DOC, "119.4", expect=1)
    assert err == f"error: {UPR_DOC} is a UPR document: only a treaty body's concluding observations have a follow-up selection\n"
    _, err = cli("followup", "select", CO, "12", "99", expect=1)
    assert err == f"error: {CO} has no paragraph 99 (its paragraphs: 12, 14(a), 14 (b), 27, 30)\n"
    _, err = cli("followup", "select", CO, "twelve", expect=1)
    assert "expected paragraph numbers (e.g. 12, 14(a), 27 or 12-14 and 20), got 'twelve'" in err
    _, err = cli("followup", "select", CO, expect=1)
    assert "give the document symbol and its paragraphs" in err
    out, _ = cli("recommendations", "list", "--format", "json", "--mechanism", "UPR")
    upr_id = json.loads(out)[0]["id"]
    _, err = cli("followup", "select", "--ids", str(upr_id), expect=1)
    assert err == f"error: #{upr_id} is a UPR recommendation: only a treaty body's concluding observations are selected for follow-up\n"
    _, err = cli("followup", "apply-deadline", CO, expect=1)
    assert "no follow-up information deadline covers" in err
    out, _ = cli("followup", "list", CO, "--format", "json")
    assert len(json.loads(out)) == 2


def test_the_command_line_reads_ranges_and_lists_all_or_nothing(cli: Cli, tmp_path: Path) -> None:
    cli("import", "template", str(_template(tmp_path / "t.xlsx")), "--no-progress")
    # A range over paragraphs the document lacks is refused whole, naming them.
    _, err = cli("followup", "select", CO, "12,", "27–30", expect=1)
    assert err == f"error: {CO} has no paragraphs 28, 29 (its paragraphs: 12, 14(a), 14 (b), 27, 30)\n"
    _, err = cli("followup", "select", CO, "12,", "27-14", expect=1)
    assert err == "error: the range '27-14' runs downward: write it from the first paragraph to the last, e.g. 12-14\n"
    out, _ = cli("followup", "list", CO, "--format", "json")
    assert json.loads(out) == []
    out, _ = cli("followup", "select", CO, "paras.", "14(a)-(b)", "et", "27", "y", "30")
    assert out.startswith(f"selected for follow-up: {CO} paragraphs 14(a), 14 (b), 27, 30 (#")
    out, _ = cli("followup", "unselect", CO, "paragraphs 27 and 30")
    assert out.startswith(f"no longer selected: {CO} paragraphs 27, 30 (#")


def _read(db_url: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """A query beside the command line, which runs its own event loop."""

    async def go() -> T:
        engine = create_engine(db_url)
        try:
            async with session_factory(engine)() as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(go())


def test_a_follow_up_deadline_made_before_the_selection_is_re_pointed_and_its_reminders_cover_only_it(
    cli: Cli, tmp_path: Path, db_url: str
) -> None:
    cli("import", "template", str(_template(tmp_path / "t.xlsx")), "--no-progress")

    async def external_ids(session: AsyncSession) -> dict[str, int]:
        return dict((await session.execute(select(Recommendation.external_id, Recommendation.id))).all())

    ids = _read(db_url, external_ids)
    every = ",".join(str(ids[k]) for k in ("C-12", "C-14a", "C-14b", "C-27", "C-30"))
    cli("institutions", "add", "MOW", "Ministry of Women", "--kind", "ministry")
    cli("assign", "--institution", "MOW", "--ids", every)
    # Made by hand over every paragraph, as before there were selections, with its input deadline.
    cli("deadlines", "add", "--kind", "follow_up_information", "--due", "2028-03-06", "--for-mechanism", "CEDAW", "--ids", every)
    cli("deadlines", "add", "--kind", "internal_input", "--due", "2027-09-06", "--parent", "1", "--for-mechanism", "CEDAW", "--ids", every)
    out, _ = cli("followup", "select", CO, "12", "27")
    assert out.splitlines()[-1] == (
        f"deadline 1 (follow-up information) covers other recommendations than {CO}'s selection: "
        f"`nmrf-bot followup apply-deadline {CO}` re-points it"
    )
    _, err = cli("deadlines", "suggest", "--format", "json")
    assert f"deadline 1 exists but covers other recommendations than the selection; `nmrf-bot followup apply-deadline {CO} --deadline 1`" in err

    async def reminded(session: AsyncSession) -> dict[int, frozenset[int]]:
        snapshot = await load_snapshot(session, Policy(), FakeClock()())
        return {d.id: d.recommendations for d in snapshot.deadlines}

    assert _read(db_url, reminded) == {2: frozenset(ids[k] for k in ("C-12", "C-14a", "C-14b", "C-27", "C-30"))}
    out, _ = cli("followup", "apply-deadline", CO)
    assert out.startswith("deadline 1 and its input deadline(s) 2 now cover 2 selected recommendation(s) (was 5)")
    selected = frozenset((ids["C-12"], ids["C-27"]))
    # The reminders (of the input deadline, which serves the report) ask only about the selection.
    assert _read(db_url, reminded) == {2: selected}

    async def covered_and_audited(session: AsyncSession) -> tuple[set[int], list[tuple[str | None, str]]]:
        covered = set((await session.scalars(
            select(deadline_recommendations.c.recommendation_id).where(deadline_recommendations.c.deadline_id == 1))).all())
        audit = (await session.execute(
            select(AuditEntry.entity_id, AuditEntry.actor).where(AuditEntry.entity == "deadlines", AuditEntry.action == "update"))).all()
        return covered, sorted((e, a) for e, a in audit)

    covered, audit = _read(db_url, covered_and_audited)
    assert covered == selected
    assert audit == [("1", "cli:maria"), ("2", "cli:maria")]
    out, _ = cli("followup", "apply-deadline", CO)
    assert out.startswith("deadline 1 already covers exactly the 2 selected recommendation(s)")
    out, _ = cli("followup", "select", CO, "27")
    assert "apply-deadline" not in out
    _, err = cli("deadlines", "suggest", "--format", "json")
    assert "exists but covers other" not in err


async def test_template_columns_are_recorded_after_the_rows_and_re_import_changes_nothing(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    extra = {
        "follow_up": ["yes", "Yes", None, "y", "no", None],
        "budget_implications": ["none", "some", None, None, None, "none"],
        "national_priority": ["yes", None, "no", None, None, "yes"],
        "priority": [None, "high", None, None, None, "low"],
        "sdgs": ["5.2; 16.A", "5", None, "1.4", None, "16.3"],
    }
    path = _template(tmp_path / "t.xlsx", extra)
    with acting_as("cli:maria"):
        await import_file(sessions, ImportSource.TEMPLATE, path)
    ids = await _ids(sessions)
    assert await _selected(sessions) == dict.fromkeys((ids["C-12"], ids["C-14a"], ids["C-27"]), FollowUpSource.IMPORT)
    async with sessions() as session:
        inputs = {
            p.recommendation_id: (p.budget_implications, p.national_priority, p.override, p.override_reason, p.updated_by)
            for p in await session.scalars(select(PriorityInput))
        }
        priorities = dict((await session.execute(select(Recommendation.id, Recommendation.priority))).all())
        tags = {t.value for r in await session.scalars(
            select(Recommendation).where(Recommendation.id == ids["C-12"]).options(selectinload(Recommendation.tags))) for t in r.tags}
        audited = await session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.entity.in_(["priority_inputs", "follow_up_selections"])))
    assert inputs == {
        ids["C-12"]: (BudgetImplications.NONE, True, None, None, "cli:maria"),
        ids["C-14a"]: (BudgetImplications.SOME, None, Priority.HIGH, "set in the template", "cli:maria"),
        ids["C-14b"]: (None, False, None, None, "cli:maria"),
        ids["R-1"]: (BudgetImplications.NONE, True, Priority.LOW, "set in the template", "cli:maria"),
    }
    # The priority column is an override: it wins over the criteria.
    assert (priorities[ids["C-14a"]], priorities[ids["R-1"]]) == (Priority.HIGH, Priority.LOW)
    assert tags >= {"5.2", "16.a"}

    # The same file again: nothing new, nothing audited.
    with acting_as("cli:maria"):
        report = await import_file(sessions, ImportSource.TEMPLATE, path)
    assert report.total("unchanged") == len(ROWS)
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.entity.in_(["priority_inputs", "follow_up_selections"]))) == audited

    # "no" takes a paragraph out; "auto" drops the template's override; blank leaves what was said.
    extra["follow_up"][0], extra["priority"][1] = "no", "auto"
    await import_file(sessions, ImportSource.TEMPLATE, _template(tmp_path / "t2.xlsx", extra))
    assert set(await _selected(sessions)) == {ids["C-14a"], ids["C-27"]}
    async with sessions() as session:
        given = await session.get(PriorityInput, ids["C-14a"])
        assert given is not None and (given.override, given.override_reason, given.budget_implications) == (None, None, BudgetImplications.SOME)


async def test_a_bad_template_value_is_a_row_error_naming_row_and_column_and_nothing_is_imported(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    extra = {
        "follow_up": ["yes", "maybe", None, None, None, "yes"],
        "budget_implications": [None, None, "lots", None, None, None],
        "national_priority": [None, None, None, "perhaps", None, None],
        "priority": [None, None, None, None, "urgent", None],
        "sdgs": ["18", "5.2; 5.x2", "5.99", None, None, None],
    }
    with pytest.raises(ImportRejected) as rejected:
        await import_file(sessions, ImportSource.TEMPLATE, _template(tmp_path / "bad.xlsx", extra))
    found = {(e.row, e.column): e.reason for e in rejected.value.errors}
    assert set(found) == {(2, "sdgs"), (3, "follow_up"), (3, "sdgs"), (4, "budget_implications"), (4, "sdgs"), (5, "national_priority"), (6, "priority"), (7, "follow_up")}
    assert "'5.99' is not one of the 169 SDG targets: goal 5 has 5.1 to 5.6 and 5.a to 5.c" in found[(4, "sdgs")]
    assert "'18' is not an SDG goal or target: a goal is 1 to 17" in found[(2, "sdgs")]
    assert "'5.x2'" in found[(3, "sdgs")]
    assert found[(3, "follow_up")] == "expected yes or no, got 'maybe'"
    assert "none, some" in found[(4, "budget_implications")]
    assert found[(6, "priority")] == "expected high, medium, low or auto, got 'urgent'"
    assert found[(7, "follow_up")].endswith("this is a UPR recommendation")
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Recommendation)) == 0
        assert await session.scalar(select(func.count()).select_from(PriorityInput)) == 0
    assert await _selected(sessions) == {}


def test_the_written_template_has_the_new_columns_and_explains_sdg_targets(tmp_path: Path) -> None:
    write_blank_template(tmp_path / "blank.xlsx")
    workbook = load_workbook(tmp_path / "blank.xlsx")
    header = [c.value for c in workbook["recommendations"][1]]
    assert {"follow_up", "budget_implications", "national_priority", "priority", "sdgs"} <= set(header)
    guide = {(row[0], row[1]): row[3] for row in workbook["README"].iter_rows(min_row=2, values_only=True)}
    assert "e.g. 5.2 or 16.a" in guide[("recommendations", "sdgs")] and "goals 1 to 17" in guide[("recommendations", "sdgs")]
    assert "overrides the priority" in guide[("recommendations", "priority")]
    assert guide[("recommendations", "budget_implications")].startswith("none, some")


coordinator, viewer = Person("901"), Person("902")


@pytest.fixture
async def secretariat(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        await seed_secretariat_users(session, [SecretariatUserData("Mary Grant", "mary@mfa.example", "en", "UTC", telegram_user_id=900)])
        await add_secretariat_user(session, SecretariatUserData(
            "Colin Reyes", "colin@mfa.example", "en", "UTC", telegram_user_id=901, role=SecretariatRole.COORDINATOR))
        await add_secretariat_user(session, SecretariatUserData(
            "Vera Lind", "vera@mfa.example", "fr", "UTC", telegram_user_id=902, role=SecretariatRole.VIEWER))


async def test_in_chat_a_coordinator_selects_after_a_summary_and_a_viewer_reads(
    bot: ConversationEngine, gateway: FakeGateway, secretariat: None, registry: dict[str, int], sessions: async_sessionmaker[AsyncSession]
) -> None:
    await bot.handle(coordinator.says(f"/followup {CO} 12 14"))
    [summary] = gateway.take()
    assert summary.key == "followup.confirm"
    assert summary.text == (
        f"Select para. 12, 14(a), 14 (b) of {CO} for the committee’s follow-up? New: 3; already selected: 0.\n"
        f"No follow-up information deadline covers {CO} yet: `nmrf-bot deadlines suggest` proposes one over the selected paragraphs."
    )
    assert [b.label for row in summary.buttons for b in row] == ["Confirm", "Cancel"]
    assert await _selected(sessions) == {}  # nothing before Confirm
    assert await chat(bot, gateway, coordinator.says("yes"), tap("Confirm", coordinator)) == ["followup.press", "followup.selected"]
    assert set(await _selected(sessions)) == {registry["C-12"], registry["C-14a"], registry["C-14b"]}

    await bot.handle(coordinator.says(f"/followup remove {CO} 14(b) 30"))
    [summary] = gateway.take()
    assert summary.text.splitlines()[0] == f"Take para. 14 (b), 30 of {CO} out of the follow-up selection? Selected now: 1; not selected: 1."
    assert await chat(bot, gateway, tap("Confirm", coordinator)) == ["followup.removed"]
    assert set(await _selected(sessions)) == {registry["C-12"], registry["C-14a"]}
    async with sessions() as session:
        actors = set((await session.scalars(select(AuditEntry.actor).where(AuditEntry.entity == "follow_up_selections"))).all())
    assert len(actors) == 1 and "secretariat:" in actors.pop()

    # A viewer reads the selection, in French, and may not change it.
    await bot.handle(viewer.says(f"/followup {CO.lower()}"))
    [listed] = gateway.take()
    assert listed.text == f"{CO} : retenus pour le suivi : par. 12, 14(a)."
    await bot.handle(viewer.says(f"/followup {CO} 27"))
    [refused] = gateway.take()
    assert refused.key == "role.needed"
    assert set(await _selected(sessions)) == {registry["C-12"], registry["C-14a"]}


async def test_in_chat_refusals_are_named_and_change_nothing(
    bot: ConversationEngine, gateway: FakeGateway, secretariat: None, registry: dict[str, int], sessions: async_sessionmaker[AsyncSession]
) -> None:
    keys = await chat(
        bot, gateway,
        coordinator.says(f"/followup {UPR_DOC} 119.4"), coordinator.says(f"/followup {CO} 12 99"),
        coordinator.says(f"/followup {CO} twelve"), coordinator.says("/followup CEDAW/C/URY/CO/9 12"),
        coordinator.says("/followup"), coordinator.says(f"/followup remove {CO}"), coordinator.says("/followup CEDAW/C/URY/CO/9"),
    )
    assert keys == [
        "followup.not_treaty_body", "followup.unknown_paragraphs", "followup.unreadable", "followup.unknown_document",
        "followup.usage", "followup.usage", "followup.unknown_document",
    ]
    await bot.handle(coordinator.says(f"/followup {CO} 12 99"))
    assert gateway.take()[0].text == f"{CO} has no paragraph 99: nothing was changed. Its paragraphs: 12, 14(a), 14 (b), 27, 30."
    await bot.handle(coordinator.says(f"/followup {CO}"))
    [none] = gateway.take()
    assert none.key == "followup.none" and f"/followup {CO} 12 14(a)" in none.text
    assert await _selected(sessions) == {}


def test_concluding_observations_past_their_follow_up_date_give_no_suggestion_and_no_warning(cli: Cli, tmp_path: Path) -> None:
    """A selection on concluding observations whose follow-up date is past gives no suggestion and no warning."""
    rows = [r[:7] + ["2020-01-10"] + r[8:] if r[2] == "CEDAW" else r for r in ROWS]
    path = write_workbook(tmp_path / "old.xlsx", {"recommendations": [HEADER, *rows]})
    cli("import", "template", str(path), "--no-progress")
    out, err = cli("deadlines", "suggest", "--format", "json")
    assert _follow_ups(out) == [] and "not suggested" not in err


async def test_in_chat_ranges_and_lists_are_read_and_what_cannot_be_is_named(
    bot: ConversationEngine, gateway: FakeGateway, secretariat: None, registry: dict[str, int], sessions: async_sessionmaker[AsyncSession]
) -> None:
    await bot.handle(coordinator.says(f"/followup {CO} párrafos 14(a)-(b) y 27"))
    [summary] = gateway.take()
    assert summary.key == "followup.confirm" and summary.text.startswith(f"Select para. 14(a), 14 (b), 27 of {CO} ")
    assert await chat(bot, gateway, tap("Confirm", coordinator)) == ["followup.selected"]
    assert set(await _selected(sessions)) == {registry["C-14a"], registry["C-14b"], registry["C-27"]}
    refused = []
    for written in ("12 27-12", "1-500", "14(i)-(v)", "12 ou 27", "and"):
        await bot.handle(coordinator.says(f"/followup {CO} {written}"))
        refused += gateway.take()
    assert [m.key for m in refused] == [
        "followup.bad_range", "followup.range_too_long", "followup.range_roman", "followup.unreadable", "followup.bad_paragraphs",
    ]
    assert refused[0].text.startswith("“27-12” is not a range the bot can read: write it from the first paragraph to the last, as 12-14")
    assert refused[1].text.startswith("“1-500” names more than 60 paragraphs")
    assert refused[3].text.startswith("“ou” is not a paragraph number")
    # Nothing changed by any refusal.
    assert set(await _selected(sessions)) == {registry["C-14a"], registry["C-14b"], registry["C-27"]}


def test_a_follow_up_deadline_suggest_names_is_the_one_apply_deadline_finds_and_its_hint_works(
    cli: Cli, tmp_path: Path, db_url: str
) -> None:
    """A follow-up deadline due on the rule's date that covers none of the document's paragraphs:
    `deadlines suggest` and `apply-deadline` found it by different lookups, so the hint failed."""
    cli("import", "template", str(_template(tmp_path / "t.xlsx")), "--no-progress")

    async def external_ids(session: AsyncSession) -> dict[str, int]:
        return dict((await session.execute(select(Recommendation.external_id, Recommendation.id))).all())

    ids = _read(db_url, external_ids)
    cli("deadlines", "add", "--kind", "follow_up_information", "--due", "2028-03-06", "--for-mechanism", "CEDAW", "--ids", str(ids["R-1"]))
    cli("followup", "select", CO, "12", "27")
    _, err = cli("deadlines", "suggest", "--format", "json")
    hint = f"`nmrf-bot followup apply-deadline {CO} --deadline 1` re-points it"
    assert f"deadline 1 exists but covers other recommendations than the selection; {hint}" in err
    out, _ = cli("followup", "select", CO, "30")
    assert f"deadline 1 (follow-up information) covers other recommendations than {CO}'s selection" in out
    # Without --deadline too: both find it by the same lookup.
    out, _ = cli("followup", "apply-deadline", CO)
    assert out.startswith("deadline 1 now cover 3 selected recommendation(s) (was 1)")
    out, _ = cli("followup", "apply-deadline", CO, "--deadline", "1")
    assert out.startswith("deadline 1 already covers exactly the 3 selected recommendation(s)")
    _, err = cli("deadlines", "suggest", "--format", "json")
    assert "exists but covers other" not in err


async def _every_paragraph_deadline(sessions: async_sessionmaker[AsyncSession], registry: dict[str, int]) -> None:
    """Deadline 1 (follow-up information) over every paragraph, as made before selections, and its input deadline 2."""
    every = [registry[k] for k in ("C-12", "C-14a", "C-14b", "C-27", "C-30")]
    async with sessions() as session, session.begin():
        report = await add_deadline(session, DeadlineData(DeadlineKind.FOLLOW_UP_INFORMATION, date(2028, 3, 6), mechanism_code="CEDAW"), Selector(ids=every))
        await add_deadline(session, DeadlineData(DeadlineKind.INTERNAL_INPUT, date(2027, 9, 6), mechanism_code="CEDAW", parent_id=report.id), Selector(ids=every))


async def _covered(sessions: async_sessionmaker[AsyncSession], deadline_id: int) -> set[int]:
    async with sessions() as session:
        return set((await session.scalars(
            select(deadline_recommendations.c.recommendation_id).where(deadline_recommendations.c.deadline_id == deadline_id))).all())


async def test_in_chat_the_summary_says_what_the_deadline_covers_warns_and_offers_to_re_point_it(
    bot: ConversationEngine, gateway: FakeGateway, secretariat: None, registry: dict[str, int], sessions: async_sessionmaker[AsyncSession]
) -> None:
    """The summary said « the deadline covers the selected paragraphs » while deadline 1 covered every paragraph."""
    await _every_paragraph_deadline(sessions, registry)
    every = {registry[k] for k in ("C-12", "C-14a", "C-14b", "C-27", "C-30")}
    async with sessions() as session, session.begin():
        await add_secretariat_user(session, SecretariatUserData(
            "Inès Roux", "ines@mfa.example", "fr", "UTC", telegram_user_id=903, role=SecretariatRole.COORDINATOR))
    await bot.handle(Person("903").says(f"/followup {CO} 12 et 27"))
    [summary] = gateway.take()
    assert "L’échéance des informations de suivi couvre les paragraphes retenus" not in summary.text
    assert summary.text.splitlines()[1:] == [
        "Attention : l’échéance 1 (informations de suivi) couvre d’autres recommandations que la sélection "
        "(couvertes : 5 ; retenues : 2), et ses rappels portent sur celles-ci.",
        "« Confirmer et réaligner » fait aussi couvrir exactement les paragraphes retenus par cette échéance "
        "et ses dates limites internes des contributions.",
    ]
    assert [b.label for row in summary.buttons for b in row] == ["Confirmer", "Confirmer et réaligner", "Annuler"]
    gateway.take()

    # Plain Confirm selects and warns, as the command line does; the deadline is left as it was.
    await bot.handle(coordinator.says(f"/followup {CO} 12 27"))
    [summary] = gateway.take()
    assert summary.text.splitlines()[1].startswith("Warning: deadline 1 (follow-up information) covers other recommendations")
    assert await chat(bot, gateway, tap("Confirm", coordinator)) == ["followup.selected", "followup.deadline_stale"]
    assert await _covered(sessions, 1) == every
    assert set(await _selected(sessions)) == {registry["C-12"], registry["C-27"]}
    await bot.handle(coordinator.says(f"/followup {CO} 14(a)"))
    gateway.take()
    await bot.handle(tap("Cancel", coordinator)(gateway))
    gateway.take()

    # Confirm and re-point: the selection, then apply-deadline on deadline 1 and its input deadline 2.
    await bot.handle(coordinator.says(f"/followup {CO} 30"))
    [summary] = gateway.take()
    assert [b.label for row in summary.buttons for b in row] == ["Confirm", "Confirm and re-point", "Cancel"]
    await bot.handle(tap("Confirm and re-point", coordinator)(gateway))
    [selected, repointed] = gateway.take()
    assert selected.key == "followup.selected"
    assert repointed.text == (
        "Deadline 1 (follow-up information) now covers exactly the selected paragraphs (recommendations: 3; before: 5). "
        "Internal input deadlines re-pointed with it: 2. Pending reminders re-planned: 0."
    )
    chosen = {registry["C-12"], registry["C-27"], registry["C-30"]}
    assert await _covered(sessions, 1) == chosen and await _covered(sessions, 2) == chosen
    async with sessions() as session:
        audited = set((await session.scalars(
            select(AuditEntry.entity_id).where(AuditEntry.entity == "deadlines", AuditEntry.action == "update"))).all())
    assert audited == {"1", "2"}

    # Now the summary says truthfully that it covers exactly the selection, and offers nothing more.
    await bot.handle(coordinator.says(f"/followup {CO} 12"))
    [summary] = gateway.take()
    assert summary.text.splitlines()[1] == "Deadline 1 (follow-up information) covers exactly the selected paragraphs."
    assert [b.label for row in summary.buttons for b in row] == ["Confirm", "Cancel"]
    # Taking one out is warned before, and Confirm alone leaves the deadline over the old selection.
    await bot.handle(tap("Cancel", coordinator)(gateway))
    gateway.take()
    await bot.handle(coordinator.says(f"/followup remove {CO} 30"))
    [summary] = gateway.take()
    assert "(covered: 3; selected: 2)" in summary.text
    assert await chat(bot, gateway, tap("Confirm", coordinator)) == ["followup.removed", "followup.deadline_stale"]
    assert await _covered(sessions, 1) == chosen

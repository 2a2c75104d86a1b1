"""The mechanisms' calendars, and the suggestions they give for the registry."""

from __future__ import annotations

from datetime import date

import pytest
from dateutil.relativedelta import relativedelta
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import deadline_rules as rules
from storage.deadline_suggestions import accept, suggest
from storage.follow_up import resolve_paragraphs, select_paragraphs
from storage.deadlines import list_deadlines
from storage.enums import DeadlineKind, ImportSource
from storage.importers.run import import_file
from tests.conftest import FIXTURES
from tests.factories import cedaw_row, uhri_row, write_uhri_xlsx


@pytest.mark.parametrize(
    ("committee", "first", "then"),
    [("CERD", 1, 2), ("CESCR", 2, 5), ("CCPR", 1, 4), ("CEDAW", 1, 4), ("CAT", 1, 4), ("CRC", 2, 5), ("CMW", 1, 5), ("CRPD", 2, 4), ("CED", 2, None)],
)
def test_treaty_periodicity(committee: str, first: int, then: int | None) -> None:
    assert rules.first_report(committee, date(2020, 3, 1)).on == date(2020 + first, 3, 1)
    periodic = rules.next_periodic_report(committee, date(2023, 11, 10))
    assert (periodic.on if periodic else None) == (date(2023 + then, 11, 10) if then else None)


def test_a_date_set_by_the_committee_wins() -> None:
    stated = date(2027, 2, 1)
    assert rules.next_periodic_report("CED", date(2023, 1, 1), stated=stated) == rules.Due(stated, "CED: date set by the committee")
    assert rules.follow_up("CCPR", date(2023, 1, 1), stated=stated).on == stated


def test_follow_up_is_one_year_two_for_cedaw_and_cmw() -> None:
    co = date(2024, 2, 29)  # a leap day: a year later is 28 February
    assert rules.follow_up("CCPR", co).on == date(2025, 2, 28)
    assert rules.follow_up("CEDAW", co).on == date(2026, 2, 28)
    assert rules.follow_up("CMW", co).on == date(2026, 2, 28)


def test_upr_dates() -> None:
    dates = rules.upr_dates(date(2024, 1, 23))
    assert dates["midterm"].on == date(2026, 7, 23)
    assert dates["next_review"].on == date(2028, 7, 23)
    assert dates["national_report"].on == date(2028, 4, 30)


def test_internal_input_lead() -> None:
    assert rules.internal_input(date(2027, 3, 31)) == date(2026, 9, 30)
    assert rules.internal_input(date(2027, 3, 31), rules.parse_lead("90d")) == date(2026, 12, 31)
    assert rules.parse_lead("8w") == relativedelta(weeks=8)
    with pytest.raises(ValueError, match="lead time"):
        rules.parse_lead("six months")


async def test_suggestions_for_imported_recommendations(sessions: async_sessionmaker[AsyncSession], tmp_path) -> None:  # type: ignore[no-untyped-def]
    # CEDAW concluding observations of 6 March 2026 (Excel serial 46087), and a UPR review with a date.
    rows = [
        cedaw_row(**{"Document Publication Date": 46087}),
        cedaw_row(**{"OHCHR Annotation Id": "b4288060-6633-478d-9a9a-df1978d33600", "Text": "50. Adopt a law on femicide", "Document Publication Date": 46087}),
        uhri_row(),
    ]
    await import_file(sessions, ImportSource.UHRI, write_uhri_xlsx(tmp_path / "uhri.xlsx", rows))
    await import_file(sessions, ImportSource.UPRINFO, FIXTURES / "uprinfo_small.csv")
    # The follow-up deadline covers the paragraphs selected for follow-up (storage.follow_up).
    async with sessions() as session, session.begin():
        _, chosen = await resolve_paragraphs(session, "CEDAW/C/IRQ/CO/8", "49, 50")
        await select_paragraphs(session, chosen)
    today = date(2026, 11, 22)
    async with sessions() as session:
        found = await suggest(session, today, upr_reviews={"uruguay": date(2024, 1, 23)})
    table = [(s.number, s.kind, s.due_on, s.mechanism, s.country, s.serves, len(s.recommendation_ids)) for s in found]
    cedaw_follow_up = next(s for s in found if s.kind is DeadlineKind.FOLLOW_UP_INFORMATION)
    assert (cedaw_follow_up.due_on, cedaw_follow_up.mechanism, len(cedaw_follow_up.recommendation_ids)) == (date(2028, 3, 6), "CEDAW", 2)
    report = next(s for s in found if s.kind is DeadlineKind.TREATY_REPORT)
    assert report.due_on == date(2030, 3, 6)
    upr_national = next(s for s in found if s.kind is DeadlineKind.UPR_NATIONAL_REPORT and s.country == "Uruguay")
    assert upr_national.due_on == date(2028, 4, 30)
    # Each report has its input deadline six months ahead, pointing at it.
    inputs = {s.serves: s for s in found if s.kind is DeadlineKind.INTERNAL_INPUT}
    assert inputs[cedaw_follow_up.number].due_on == date(2027, 9, 6)
    # The UPR mid-term report (July 2026) is past: not suggested.
    assert not any(s.kind is DeadlineKind.UPR_MIDTERM and s.country == "Uruguay" for s in found), table
    assert [s.due_on for s in found if s.serves is None] == sorted(s.due_on for s in found if s.serves is None)

    async with sessions() as session, session.begin():
        made = await accept(session, found, {inputs[cedaw_follow_up.number].number})
    assert [(d.kind, d.due_on) for d in made] == [(DeadlineKind.FOLLOW_UP_INFORMATION, date(2028, 3, 6)), (DeadlineKind.INTERNAL_INPUT, date(2027, 9, 6))]
    assert made[1].parent_id == made[0].id
    async with sessions() as session:
        again = await suggest(session, today, upr_reviews={"uruguay": date(2024, 1, 23)})
        assert {s.number for s in again if s.exists} == {cedaw_follow_up.number, inputs[cedaw_follow_up.number].number}
    async with sessions() as session, session.begin():
        assert await accept(session, again, {cedaw_follow_up.number}) == []
        with pytest.raises(ValueError, match="no suggestion numbered 999"):
            await accept(session, again, {999})
    async with sessions() as session:
        assert len(await list_deadlines(session)) == 2


async def test_a_stated_date_overrides_a_suggestion_and_moves_its_inputs(sessions: async_sessionmaker[AsyncSession]) -> None:
    await import_file(sessions, ImportSource.UPRINFO, FIXTURES / "uprinfo_small.csv")
    async with sessions() as session, session.begin():
        found = await suggest(session, date(2026, 11, 22), upr_reviews={"uruguay": date(2024, 1, 23)})
        national = next(s for s in found if s.kind is DeadlineKind.UPR_NATIONAL_REPORT)
        made = await accept(session, found, {national.inputs[0].number}, {national.number: date(2028, 5, 15)})
    assert [(d.kind, d.due_on) for d in made] == [(DeadlineKind.UPR_NATIONAL_REPORT, date(2028, 5, 15)), (DeadlineKind.INTERNAL_INPUT, date(2027, 11, 14))]
    assert made[0].notes == "date stated by the committee (given by the secretariat)"

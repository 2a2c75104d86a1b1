"""The matrix's inputs cell words each institution's line once for its
status and mark and puts each day in it (bot.reports.matrix): the cell must
read exactly as the catalog words each line, in every language, a right-to-left
one included, whatever the day."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.reports.matrix import MatrixWriter
from messages import SUPPORTED_LANGUAGES, t
from storage.enums import AssignmentRole, ImplementationStatus
from storage.status import InstitutionInput


def _worded(writer: MatrixWriter, given: InstitutionInput, mark: str | None, zone: timezone | None) -> str:
    if given.status is None or given.at is None:
        return t("report.input_none", writer.language, institution=given.code)
    status = t(f"status.{given.status.value}", writer.language)
    day = given.at.astimezone(zone).date().isoformat()
    line = t("report.input_line", writer.language, institution=given.code, status=status[:1].upper() + status[1:], date=day)
    if mark:
        line = t("matrix.input_marked", writer.language, input=line, validation=t(f"matrix.validation.{mark}", writer.language))
    return line


@pytest.mark.parametrize("language", sorted(SUPPORTED_LANGUAGES))
@pytest.mark.parametrize("zone", ["UTC", "America/Montevideo"])
def test_an_inputs_cell_reads_as_the_catalog_words_each_line(language: str, zone: str) -> None:
    from zoneinfo import ZoneInfo

    writer = MatrixWriter(None, datetime(2026, 3, 1, tzinfo=timezone.utc), language, zone)
    try:
        start = datetime(2026, 1, 31, 23, 30, tzinfo=timezone.utc)
        for n in range(6):
            at = start + timedelta(days=n * 17, hours=n)
            inputs = [
                InstitutionInput("MOE", AssignmentRole.LEAD, ImplementationStatus.PARTIALLY_IMPLEMENTED, at, 10 + n),
                InstitutionInput("وزارة", AssignmentRole.CONTRIBUTING, ImplementationStatus.IN_PROGRESS, at - timedelta(days=1), 20 + n),
                InstitutionInput("MIDES", AssignmentRole.CONTRIBUTING),
            ]
            marks = {"MOE": ["approved", "returned", "pending"][n % 3], "وزارة": None}
            expected = "; ".join(_worded(writer, i, marks.get(i.code), ZoneInfo(zone)) for i in inputs)
            assert writer.inputs(inputs, {k: v for k, v in marks.items() if v}) == expected
    finally:
        writer.close()

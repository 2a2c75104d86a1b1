"""The summaries' figure of reports submitted on time, in a reader's language."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from messages import t
from storage.report_timeliness import report_timeliness


async def on_time_line(session: AsyncSession, day: date, language: str) -> str | None:
    """"3 of 4 reports submitted on time; 1 late; 0 not submitted", as things
    stood on ``day``; None while no report has fallen due or been submitted."""
    figures = await report_timeliness(session, day)
    if not figures.due:
        return None
    return t("summary.reports_on_time", language, count=figures.due, on_time=figures.on_time, late=figures.late,
             missing=figures.not_submitted)

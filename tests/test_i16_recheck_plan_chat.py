"""Issue 16 re-check: /report plan "as of" a day typed as an Arabic
keyboard types it. The order's date was matched by \\d (any script's digit)
and then read by date.fromisoformat, which takes Latin digits only: an
Arabic secretariat's ٢٠٢٦-١١-٢٣ got the usage, as if no date had been typed
right. Now the digits are read as update_text reads a next step's date."""

from __future__ import annotations

import io
from typing import Any

import openpyxl
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.reports.build import ReportBuilder
from handlers.engine import ConversationEngine
from handlers.report_orders import parse_order
from storage.models import SecretariatUser
from tests.cli_harness import Cli
from tests.test_chat_report_plan import Keeping
from tests.test_report_plan import cli, plan
from tests.test_secretariat_chat import maria, say
from tests.test_secretariat_chat import secretariat as maria_secretariat

__all__ = ["cli", "maria_secretariat", "plan"]


def test_an_order_dated_in_arabic_indic_or_full_width_digits_is_read_as_that_day() -> None:
    latin = parse_order(["plan", "2026-11-23"], "ar", "America/Montevideo")
    assert parse_order(["خطة", "٢٠٢٦-١١-٢٣"], "ar", "America/Montevideo") == latin
    assert parse_order(["plan", "۲۰۲۶-۱۱-۲۳"], "ar", "America/Montevideo") == latin
    assert parse_order(["plan", "２０２６-１１-２３"], "zh", "America/Montevideo").as_of == latin.as_of


async def test_an_arabic_secretariat_gets_the_plan_as_of_a_day_typed_in_arabic_digits(
    cli: Cli, plan: dict[str, int], sessions: async_sessionmaker[AsyncSession], maria_secretariat: dict[str, int],
) -> None:
    async with sessions() as session, session.begin():
        await session.execute(update(SecretariatUser).values(language="ar"))
    gateway = Keeping()
    bot = ConversationEngine(sessions, gateway, cli.clock, reports=ReportBuilder(sessions, cli.clock, public_requires_validation=False))
    (preparing,) = await say(bot, gateway, maria.says("/report خطة ٢٠٢٦-١١-٢٣"))
    assert preparing.key == "report.preparing"
    await bot.drain()
    (made,) = gateway.take()
    assert made.key == "report.ready" and made.document is not None and made.document.name == "implementation-plan-2026-11-23.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(gateway.files[made.document.name]))
    rows: Any = list(book[book.sheetnames[1]].iter_rows(values_only=True))
    # As of 23 November A-1 was in progress and A-3 did not exist.
    assert "A-1" in {r[8] for r in rows[1:]} and "A-3" not in {r[8] for r in rows[1:]}

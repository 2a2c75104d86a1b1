"""/report plan in chat for the secretariat (issue 16): the national
implementation plan as a workbook or a document, by cluster, linked group or
framework chapter in the reader's words (por:capítulo), as of a day, public,
in the reader's language; made by the real report builder, sent through the
fake gateway and opened, on every backend."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import docx
import openpyxl
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.reports.build import ReportBuilder
from handlers.chat_port import ChatAddress, OutgoingMessage
from handlers.engine import ConversationEngine
from handlers.report_orders import BadReportFilter, parse_order
from tests.cli_harness import Cli
from tests.fakes import FakeGateway
from tests.test_report_plan import JUDGES, cli, plan
from tests.test_secretariat_chat import maria, say
from tests.test_secretariat_chat import secretariat as maria_secretariat

__all__ = ["cli", "maria_secretariat", "plan"]


class Keeping(FakeGateway):
    """Keeps a copy of each file, since the engine removes it once sent."""

    def __init__(self) -> None:
        super().__init__()
        self.files: dict[str, bytes] = {}

    async def send(self, address: ChatAddress, message: OutgoingMessage) -> None:
        if message.document is not None:
            self.files[message.document.name] = Path(message.document.path).read_bytes()
        await super().send(address, message)


def test_the_order_reads_the_plans_words_in_the_readers_language_and_in_english() -> None:
    order = parse_order("plan docx por:capítulo pública 2026-11-23".split(), "es", "America/Montevideo")
    assert (order.kind, order.fmt, order.by, order.public, order.mechanism) == ("plan", "docx", "chapter", True, None)
    assert order.as_of is not None and order.as_of.date().isoformat() == "2026-11-23"
    assert parse_order(["plan", "by:group"], "fr", "UTC").by == "group"
    order = parse_order(["plan", "par:chapitre", "UPR"], "fr", "UTC")
    assert (order.by, order.mechanism) == ("chapter", "UPR")
    order = parse_order(["plan", "UPR"], "en", "UTC")
    assert (order.fmt, order.by, order.mechanism) == ("xlsx", None, "UPR")
    with pytest.raises(BadReportFilter) as refused:
        parse_order(["plan", "por:ods-objetivo"], "es", "UTC")
    assert refused.value.values["choices"] == "por:agrupación, por:grupo, por:capítulo"


async def test_chat_report_plan_by_chapter_public_as_of_a_day_in_spanish(
    cli: Cli, plan: dict[str, int], sessions: async_sessionmaker[AsyncSession], maria_secretariat: dict[str, int],
) -> None:
    gateway = Keeping()
    bot = ConversationEngine(sessions, gateway, cli.clock, reports=ReportBuilder(sessions, cli.clock, public_requires_validation=False))
    (preparing,) = await say(bot, gateway, maria.says("/report plan docx por:capítulo pública"))
    assert preparing.key == "report.preparing" and "plan de implementación" in preparing.text
    await bot.drain()
    (made,) = gateway.take()
    assert made.key == "report.ready" and made.document is not None and made.document.name.endswith(".docx")
    assert "plan de implementación" in made.text
    document = docx.Document(io.BytesIO(gateway.files[made.document.name]))
    paragraphs = [p.text for p in document.paragraphs]
    cells = [c.text for table in document.tables for row in table.rows for c in row.cells]
    assert paragraphs[0] == "Plan nacional de implementación"
    assert any(p.startswith("PNDH 2.3: Access to justice") for p in paragraphs)
    # Public: the internal budget of A-1 is left out, A-2's public one kept.
    assert "20.000,00 USD" in cells and not any("150.000,50" in c for c in cells)
    assert any(c.startswith(f"A-1: {JUDGES}") for c in cells)

    # A workbook as of the day before A-1 was done, by linked group.
    (preparing,) = await say(bot, gateway, maria.says("/report plan por:grupo 2026-11-23"))
    await bot.drain()
    (made,) = gateway.take()
    assert made.document is not None and made.document.name.endswith(".xlsx")
    book = openpyxl.load_workbook(io.BytesIO(gateway.files[made.document.name]))
    rows: Any = book[book.sheetnames[1]].iter_rows(values_only=True)
    header = next(rows)
    found = [dict(zip(header, row, strict=True)) for row in rows]
    judges = next(r for r in found if r["Acción"] == "A-1")
    assert judges["Situación de la acción"] == "En curso"
    assert "A-3" not in {r["Acción"] for r in found}

    # A grouping the plan does not know, and words it does not take: told how.
    (refused,) = await say(bot, gateway, maria.says("/report plan por:ods-objetivo"))
    assert refused.key == "report.bad_by" and "por:capítulo" in refused.text
    (usage,) = await say(bot, gateway, maria.says("/report plan cuadro extra"))
    assert usage.key == "report.usage" and "plan [xlsx|docx]" in usage.text

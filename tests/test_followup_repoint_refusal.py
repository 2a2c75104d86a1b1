"""A refusal met while /followup re-points the committee's deadline is told
in the reader's language (issue 15 review), as every other refusal of chat:
storage.follow_up raises it with a catalog key and values and the handler
says it through handlers.refusals.reason."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.engine import ConversationEngine
from storage.enums import SecretariatRole
from storage.models import Deadline
from storage.secretariat import SecretariatUserData, add_secretariat_user
from tests.dialogue_harness import bot, clock, gateway, tap
from tests.fakes import FakeGateway, Person
from tests.test_follow_up import CO, _every_paragraph_deadline, registry, secretariat

__all__ = ["bot", "clock", "gateway", "registry", "secretariat"]


async def test_a_deadline_withdrawn_before_confirm_and_re_point_is_refused_in_french(
    bot: ConversationEngine, gateway: FakeGateway, secretariat: None, registry: dict[str, int], sessions: async_sessionmaker[AsyncSession]
) -> None:
    await _every_paragraph_deadline(sessions, registry)
    ines = Person("903")
    async with sessions() as session, session.begin():
        await add_secretariat_user(session, SecretariatUserData(
            "Inès Roux", "ines@mfa.example", "fr", "UTC", telegram_user_id=903, role=SecretariatRole.COORDINATOR))
    await bot.handle(ines.says(f"/followup {CO} 12 27"))
    [summary] = gateway.take()
    assert [b.label for row in summary.buttons for b in row] == ["Confirmer", "Confirmer et réaligner", "Annuler"]
    # Withdrawn by someone else between the summary and the press.
    async with sessions() as session, session.begin():
        deadline = await session.scalar(select(Deadline).where(Deadline.id == 1))
        assert deadline is not None
        deadline.withdrawn_at = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    await bot.handle(tap("Confirmer et réaligner", ines)(gateway))
    [selected, refused] = gateway.take()
    assert selected.key == "followup.selected" and refused.key == "followup.failed"
    assert "no deadline" not in refused.text
    assert refused.text == "Rien n’a été modifié : l’échéance 1 n’existe pas ou a été retirée."

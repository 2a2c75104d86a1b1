"""The words a secretariat types as a chat command's arguments are read in
its own language too, English always as well (issue 15 review): priority
levels, yes and no, the criteria of /priority, the filters of /report
(priority:, sdg:, sort:, by:) and of /find (status:...), from the catalogs'
``words.*`` lists (messages.words), never from code."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.reports.build import ReportBuilder
from handlers import find_chat
from handlers.engine import ConversationEngine
from handlers.report_orders import BadReportFilter, parse_order
from messages import SUPPORTED_LANGUAGES, catalog
from messages.words import read_word, words
from storage.enums import BudgetImplications, ImplementationStatus, Priority, SecretariatRole
from storage.models import PriorityInput
from storage.priorities import explain
from storage.sdgs import SdgFilter
from storage.secretariat import SecretariatUserData, add_secretariat_user, seed_secretariat_users
from tests.dialogue_harness import bot, chat, clock, gateway, tap
from tests.fakes import FakeClock, FakeGateway, Person
from tests.test_priorities import _three
from tests.test_sdg_reports import tagged
from tests.test_secretariat_chat import maria, say
from tests.test_secretariat_chat import secretariat as sdg_secretariat

__all__ = ["bot", "clock", "gateway", "sdg_secretariat", "tagged"]

lucia, camille = Person("911"), Person("912")


@pytest.fixture
async def secretariat(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        await seed_secretariat_users(session, [SecretariatUserData("Mary Grant", "mary@mfa.example", "en", "UTC", telegram_user_id=900)])
        await add_secretariat_user(session, SecretariatUserData(
            "Lucía Pérez", "lucia@mfa.example", "es", "UTC", telegram_user_id=911, role=SecretariatRole.COORDINATOR))
        await add_secretariat_user(session, SecretariatUserData(
            "Camille Roy", "camille@mfa.example", "fr", "UTC", telegram_user_id=912, role=SecretariatRole.COORDINATOR))


async def test_priority_in_spanish_takes_alta_and_si_and_english_still(
    bot: ConversationEngine, gateway: FakeGateway, secretariat: None, sessions: async_sessionmaker[AsyncSession]
) -> None:
    plain, women, _ = await _three(sessions)
    await bot.handle(lucia.says(f"/priority {plain} override alta Compromiso del ministro"))
    [summary] = gateway.take()
    assert summary.key == "priority.confirm" and "Compromiso del ministro" in summary.text
    assert await chat(bot, gateway, tap("Confirmar", lucia)) == ["priority.done"]
    await bot.handle(lucia.says(f"/priority {women} nacional sí"))
    [summary] = gateway.take()
    assert summary.key == "priority.confirm"
    assert await chat(bot, gateway, tap("Confirmar", lucia)) == ["priority.done"]
    await bot.handle(lucia.says(f"/priority {women} presupuesto ninguna"))
    assert [m.key for m in gateway.take()] == ["priority.confirm"]
    assert await chat(bot, gateway, tap("Confirmar", lucia)) == ["priority.done"]
    # English is always understood, and a French reader's words too in French.
    await bot.handle(lucia.says(f"/priority {women} urgency yes"))
    assert [m.key for m in gateway.take()] == ["priority.confirm"]
    assert await chat(bot, gateway, tap("Confirmar", lucia)) == ["priority.done"]
    await bot.handle(camille.says(f"/priority {women} marginalisés non"))
    assert [m.key for m in gateway.take()] == ["priority.confirm"]
    assert await chat(bot, gateway, tap("Confirmer", camille)) == ["priority.done"]
    async with sessions() as session:
        view = await explain(session, plain)
        given = await session.scalar(select(PriorityInput).where(PriorityInput.recommendation_id == women))
    assert view.level == Priority.HIGH and view.override_reason == "Compromiso del ministro"
    assert given is not None and given.national_priority is True and given.budget_implications == BudgetImplications.NONE
    assert given.urgency is True and given.marginalised is False
    # A word that is none of the choices is told with the reader's words.
    await bot.handle(lucia.says(f"/priority {women} presupuesto quizás"))
    [refused] = gateway.take()
    assert refused.key == "priority.bad_value" and "ninguna|algunas|desconocido" in refused.text


def test_report_filters_in_the_readers_language_and_in_english() -> None:
    order = parse_order(["matrix", "priorité:haute", "tri:priorité", "odd:5"], "fr", "UTC")
    assert (order.priority, order.sort, order.sdg) == (Priority.HIGH, "priority", SdgFilter(5))
    order = parse_order(["matriz", "prioridad:baja", "por:ods-meta"], "es", "UTC")
    assert (order.kind, order.priority, order.by) == ("matrix", Priority.LOW, "sdg-target")
    order = parse_order(["matrix", "priority:high", "by:sdg-goal"], "fr", "UTC")
    assert (order.priority, order.by) == (Priority.HIGH, "sdg-goal")
    assert parse_order(["progress", "par:regroupement"], "fr", "UTC").by == "cluster"
    assert parse_order(["export", "by:sdg-target"], "en", "UTC").by == "sdg-target"
    with pytest.raises(BadReportFilter) as refused:
        parse_order(["matrix", "par:regroupement"], "fr", "UTC")
    assert refused.value.key == "report.bad_by"
    with pytest.raises(BadReportFilter) as refused:
        parse_order(["draft", "UPR", "by:sdg-goal"], "en", "UTC")
    assert refused.value.key == "report.bad_by_kind"
    with pytest.raises(BadReportFilter) as refused:
        parse_order(["matrix", "priorité:urgente"], "fr", "UTC")
    assert refused.value.key == "report.bad_priority"


def test_find_reads_status_in_the_readers_language() -> None:
    parsed = find_chat.parse("violencia estado:en_curso sin-asignar", "es")
    assert parsed == ("violencia", {"status": "in_progress"}, True)
    parsed = find_chat.parse("torture statut:non-commencée", "fr")
    assert parsed == ("torture", {"status": "not_started"}, False)
    assert find_chat.parse("torture status:in_progress", "fr") == ("torture", {"status": "in_progress"}, False)
    assert find_chat.parse("torture statut:peut-être", "fr") == "statut:peut-être"


WORD_SETS = {
    "yes-no-unknown": ("words.yes", "words.no", "words.unknown"),
    "yes-no-auto": ("words.yes", "words.no", "words.auto"),
    "budget": ("words.none", "words.some", "words.unknown"),
    "levels": ("words.priority.high", "words.priority.medium", "words.priority.low", "words.none"),
    "criteria": (
        "words.criterion.budget", "words.criterion.national", "words.criterion.urgency", "words.criterion.recurrence",
        "words.criterion.marginalised", "words.override",
    ),
    "filters": ("words.filter.sdg", "words.filter.priority", "words.filter.sort", "words.filter.by"),
    "by": ("words.by.sdg_goal", "words.by.sdg_target", "words.by.cluster", "words.by.group", "words.by.chapter"),
    "find": ("words.filter.mechanism", "words.filter.status", "words.filter.institution", "words.unassigned"),
    "statuses": tuple(f"words.status.{s.value}" for s in ImplementationStatus),
    "kinds": ("words.report.matrix", "words.report.draft", "words.report.progress", "words.report.export", "words.report.plan"),
}


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
@pytest.mark.parametrize("name", list(WORD_SETS))
def test_no_word_names_two_choices_of_one_list(language: str, name: str) -> None:
    keys = WORD_SETS[name]
    for key in keys:
        assert key in catalog("en") and (language == "en" or key in catalog(language) or language not in ("fr", "es")), key
        assert words(key, language), key
    choices = {key: key for key in keys}
    for key in keys:
        for word in words(key, language):
            assert read_word(word, choices, language) == key, (word, key)


@pytest.fixture
def report_bot(sessions: async_sessionmaker[AsyncSession], gateway: FakeGateway, clock: FakeClock) -> ConversationEngine:
    return ConversationEngine(sessions, gateway, clock, reports=ReportBuilder(sessions, clock))


async def test_chat_report_groups_by_sdg_goal_in_spanish_and_names_a_grouping_it_lacks(
    report_bot: ConversationEngine, gateway: FakeGateway, sdg_secretariat: dict[str, int], tagged: dict[str, int],
) -> None:
    bot = report_bot
    (preparing,) = await say(bot, gateway, maria.says("/report matriz por:ods-objetivo prioridad:baja"))
    assert preparing.key == "report.preparing"
    await bot.drain()
    (matrix,) = gateway.take()
    assert matrix.key == "report.ready" and matrix.document is not None
    (refused,) = await say(bot, gateway, maria.says("/report matriz por:agrupación"))
    assert refused.key == "report.bad_by"
    assert refused.text == "por:agrupación no agrupa este informe: escriba por:ods-objetivo, por:ods-meta."
    (refused,) = await say(bot, gateway, maria.says("/report borrador UPR by:sdg-goal"))
    assert refused.key == "report.bad_by_kind"


async def test_progress_by_cluster_in_the_readers_words(bot: ConversationEngine, gateway: FakeGateway, secretariat: None) -> None:
    for typed in ("/progress regroupement", "/progress par:regroupement", "/progress cluster"):
        await bot.handle(camille.says(typed))
        [shown] = gateway.take()
        assert "groupe thématique" in shown.text.splitlines()[0], typed
    await bot.handle(camille.says("/progress"))
    [shown] = gateway.take()
    assert "groupe thématique" not in shown.text.splitlines()[0]

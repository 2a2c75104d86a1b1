"""A refusal a chat user meets is in their language (issue 15): the registry's
errors carry a catalog key and its values (storage.errors), chat tells that
message (handlers.refusals.reason), and the CLI keeps the English line.

Two kinds of test: one reads the raising modules' source and fails for a
refusal raised with no key, or with a key a language lacks or whose
placeholders are not the values given; the others drive each secretariat
chat module to a refusal in French and in Spanish and read the exact text."""

from __future__ import annotations

import ast
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from string import Formatter

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers import refusals
from handlers.chat_port import IncomingMessage
from handlers.engine import ConversationEngine
from messages import SUPPORTED_LANGUAGES, catalog, t
from storage import errors, links
from storage.assignments import assign
from storage.deadline_changes import mark_submitted
from storage.deadlines import DeadlineData, add_deadline
from storage.enums import AssignmentRole, DeadlineKind, ImportSource, InstitutionKind, RecommendationKind, SecretariatRole
from storage.errors import Conflict, InvalidValue, RegistryError
from storage.follow_up import get_document
from storage.link_similarity import SuggestedGroup
from storage.importers.run import import_file
from storage.models import Mechanism, Recommendation
from storage.network import InstitutionData, add_institution, end_focal_point
from storage.secretariat import SecretariatUserData, add_secretariat_user, seed_secretariat_users
from storage.selection import Selector
from tests.dialogue_harness import bot, chat, clock, gateway, tap
from tests.fakes import FakeGateway, Person
from tests.test_follow_up import CO, _template

__all__ = ["bot", "clock", "gateway"]

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
NOW_DAY = NOW.date()

# Every refusal these modules raise carries a key: storage/links.py (the
# issue's), and the modules whose refusals the secretariat's chat commands meet.
KEYED = (
    "storage/links.py", "handlers/links_chat.py", "storage/assignments.py", "storage/selection.py", "storage/validation.py",
    "storage/network.py", "handlers/people.py", "storage/secretariat.py", "storage/calendars.py", "storage/priorities.py",
    "storage/deadlines.py", "storage/deadline_changes.py", "storage/requests.py", "handlers/broadcast.py",
    "storage/actions.py", "storage/indicators.py",
)
ERRORS = {name for name, value in vars(errors).items() if isinstance(value, type) and issubclass(value, RegistryError)}


@dataclass(frozen=True)
class Raised:
    where: str
    error: str
    key: str | None
    # The names of the values given, or None when they are not a literal dict.
    values: frozenset[str] | None


def _raised(module: str) -> list[Raised]:
    """Every ``raise SomeRegistryError(...)`` of a module, as written."""
    found = []
    for node in ast.walk(ast.parse((ROOT / module).read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)):
            continue
        func = node.exc.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        if name not in ERRORS:
            continue
        given = {k.arg: k.value for k in node.exc.keywords}
        key = given.get("key")
        values = given.get("values")
        names: frozenset[str] | None = frozenset()
        if isinstance(values, ast.Dict):
            literal = all(isinstance(k, ast.Constant) and isinstance(k.value, str) for k in values.keys)
            names = frozenset(k.value for k in values.keys if isinstance(k, ast.Constant)) if literal else None
        elif values is not None:
            names = None
        found.append(Raised(
            f"{module}:{node.lineno}", name, key.value if isinstance(key, ast.Constant) and isinstance(key.value, str) else None, names,
        ))
    return found


def _placeholders(text: str | tuple[str, ...]) -> set[str]:
    forms = text if isinstance(text, tuple) else (text,)
    return {field for form in forms for _, field, _, _ in Formatter().parse(form) if field}


def test_the_walk_finds_every_refusal_of_links() -> None:
    """storage/links.py raises over twenty refusals: a walk that found few
    would pass the tests below without reading them."""
    raised = _raised("storage/links.py")
    assert len(raised) >= 25
    assert {r.error for r in raised} == {"InvalidValue", "NotFound", "Conflict"}


@pytest.mark.parametrize("module", KEYED)
def test_every_refusal_raised_has_a_key_and_literal_values(module: str) -> None:
    unkeyed = [r.where for r in _raised(module) if r.key is None]
    assert unkeyed == [], "a refusal without key= is English in every chat"
    assert [r.where for r in _raised(module) if r.values is None] == [], "values= is a dict of named values, so the catalog can be checked"


@pytest.mark.parametrize("module", KEYED)
@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_every_key_raised_is_in_every_catalog_with_the_values_as_placeholders(module: str, language: str) -> None:
    messages = catalog(language)
    for raised in _raised(module):
        assert raised.key is not None and raised.values is not None
        assert raised.key in messages, (raised.where, raised.key, language)
        assert _placeholders(messages[raised.key]) == set(raised.values), (raised.where, raised.key, language)
        # A plural entry takes its form from count; a count elsewhere would read "1 characters".
        assert isinstance(messages[raised.key], tuple) == ("count" in raised.values), (raised.where, raised.key)


class _Reader:
    """What refusals.reason reads of a turn: the language and the catalog."""

    def __init__(self, language: str) -> None:
        self.language = language

    def text(self, key: str, **values: object) -> str:
        return t(key, self.language, **values)


def test_a_reason_names_dates_and_counts_as_the_reader_writes_them(caplog: pytest.LogCaptureFixture) -> None:
    dismissed = InvalidValue(
        "suggestion 4 was already dismissed on 2026-11-20 by cli:maria",
        key="refusal.links.suggestion_dismissed", values={"id": 4, "date": date(2026, 11, 20), "by": "cli:maria"},
    )
    assert str(dismissed) == "suggestion 4 was already dismissed on 2026-11-20 by cli:maria"  # the CLI's line
    assert refusals.reason(_Reader("fr"), dismissed) == "la suggestion 4 a déjà été écartée le 20 novembre 2026 par cli:maria"  # type: ignore[arg-type]
    assert refusals.reason(_Reader("es"), dismissed) == "la sugerencia 4 ya fue descartada el 20 de noviembre de 2026 por cli:maria"  # type: ignore[arg-type]
    taken = Conflict("2 recommendation(s) already have a lead institution", key="refusal.assign.lead_taken", values={"count": 2, "leads": "3 (MOJ), 5 (MOJ)"})
    assert refusals.reason(_Reader("fr"), taken) == "2 recommandations ont déjà une institution chef de file : 3 (MOJ), 5 (MOJ)"  # type: ignore[arg-type]
    # One raised without a key is told as raised, and logged so the gap is seen.
    with caplog.at_level(logging.WARNING, logger="handlers.refusals"):
        assert refusals.reason(_Reader("fr"), InvalidValue("no such thing")) == "no such thing"  # type: ignore[arg-type]
    assert "without a catalog key" in caplog.text and "no such thing" in caplog.text


def test_a_budget_an_sdg_target_and_an_indicators_range_refused_in_the_readers_words() -> None:
    from storage.actions import parse_budget, sdg_target
    from storage.indicators import check_range

    with pytest.raises(InvalidValue) as budget:
        parse_budget("99999999999999999")
    with pytest.raises(InvalidValue) as target:
        sdg_target("5.9")
    with pytest.raises(InvalidValue) as partnership:
        sdg_target("17.a")
    with pytest.raises(InvalidValue) as reversed_range:
        check_range(Decimal("5000.5"), Decimal("1200"))
    # The CLI's line is as it was.
    assert str(target.value) == "'5.9' is not one of the 169 SDG targets: goal 5 has 5.1 to 5.6 and 5.a to 5.c"
    fr, es = _Reader("fr"), _Reader("es")
    assert refusals.reason(fr, budget.value) == (  # type: ignore[arg-type]
        "un budget est d’au plus 9\u202f999\u202f999\u202f999\u202f999\u202f999,99, pas 99\u202f999\u202f999\u202f999\u202f999\u202f999"
    )
    assert refusals.reason(es, budget.value) == "un presupuesto es de 9.999.999.999.999.999,99 como máximo, no 99.999.999.999.999.999"  # type: ignore[arg-type]
    assert refusals.reason(fr, target.value) == (  # type: ignore[arg-type]
        "« 5.9 » n’est pas l’une des 169 cibles des ODD : l’objectif 5 va de 5.1 à 5.6 et de 5.a à 5.c"
    )
    # Goal 17 has no lettered targets: they are not named.
    assert refusals.reason(es, partnership.value) == "«17.a» no es una de las 169 metas de los ODS: el objetivo 17 va de 17.1 a 17.19"  # type: ignore[arg-type]
    assert refusals.reason(es, reversed_range.value) == "el máximo del intervalo plausible, 1.200, es inferior a su mínimo, 5.000,5"  # type: ignore[arg-type]


# --- in chat ---------------------------------------------------------------------

# Marie and Marta are admins (French, Spanish), Claire and Carlos coordinators.
marie, marta, claire, carlos = Person("900"), Person("904"), Person("901"), Person("903")


@pytest.fixture
async def secretariat(sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> dict[str, int]:
    async with sessions() as session, session.begin():
        await seed_secretariat_users(session, [SecretariatUserData("Marie Dubois", "marie@mfa.example", "fr", "UTC", telegram_user_id=900)])
        for name, email, language, user, role in (
            ("Marta Ruiz", "marta@mfa.example", "es", 904, SecretariatRole.ADMIN),
            ("Claire Martin", "claire@mfa.example", "fr", 901, SecretariatRole.COORDINATOR),
            ("Carlos Silva", "carlos@mfa.example", "es", 903, SecretariatRole.COORDINATOR),
        ):
            await add_secretariat_user(session, SecretariatUserData(name, email, language, "UTC", telegram_user_id=user, role=role))
    return world


async def _said(bot: ConversationEngine, gateway: FakeGateway, *messages: object) -> str:
    """The text of the last reply to these messages."""
    await chat(bot, gateway, *messages[:-1])
    last = messages[-1]
    await bot.handle(last(gateway) if callable(last) else last)  # type: ignore[arg-type]
    return gateway.take()[-1].text


async def _recommendation(sessions: async_sessionmaker[AsyncSession], key: str, country: str) -> int:
    async with sessions() as session, session.begin():
        upr = (await session.execute(select(Mechanism.id).where(Mechanism.code == "UPR"))).scalar_one()
        rec = Recommendation(source=ImportSource.TEMPLATE, external_id=key, text=f"Recommendation {key}", country=country,
                             kind=RecommendationKind.RECOMMENDATION, mechanism_id=upr, content_hash=key)
        session.add(rec)
        await session.flush()
        return rec.id


async def _country(sessions: async_sessionmaker[AsyncSession], rec_id: int) -> str:
    async with sessions() as session:
        return (await session.execute(select(Recommendation.country).where(Recommendation.id == rec_id))).scalar_one()


async def test_links_refusals_in_french_and_spanish(
    bot: ConversationEngine, gateway: FakeGateway, secretariat: dict[str, int], sessions: async_sessionmaker[AsyncSession],
) -> None:
    a, b = secretariat["mine_all"][:2]
    state = await _country(sessions, a)
    fiji = await _recommendation(sessions, "F-1", "Fiji")
    assert await _said(bot, gateway, claire.says(f"/links group {a} {fiji}")) == (
        f"Rien n’a été modifié : un groupe ne lie que des recommandations adressées à un seul État, pas à plusieurs : #{a} ({state}); #{fiji} (Fiji)."
    )
    async with sessions() as session, session.begin():
        group = await links.create_group(session, [a, b], "cli:maria", NOW)
        gid = group.id
    stranger = secretariat["not_mine"]
    assert await _said(bot, gateway, carlos.says(f"/links split {gid} {stranger}")) == (
        f"No se modificó nada: fuera del grupo {gid} (#{a}, #{b}): #{stranger}."
    )
    assert await _said(bot, gateway, carlos.says(f"/links merge {gid}")) == "No se modificó nada: indique al menos dos grupos que fusionar."
    # A suggestion confirmed from the command line while its button waited: when, by whom, in the reader's calendar.
    c, d = secretariat["mine_all"][2], secretariat["not_mine"]
    async with sessions() as session, session.begin():
        [suggestion] = (await links.store_suggestions(session, [SuggestedGroup((c, d), 0.7)], NOW)).new
    await chat(bot, gateway, claire.says("/links"))
    async with sessions() as session, session.begin():
        made = await links.confirm(session, suggestion.id, "cli:maria", NOW)
        made_id = made.id
    await bot.handle(claire.presses(gateway.action(f"Confirmer {suggestion.id}", claire.user_id)))
    refused, _listing = gateway.take()
    assert refused.key == "links.failed" and refused.text == (
        f"Rien n’a été modifié : la suggestion {suggestion.id} a déjà été confirmée le 23 novembre 2026 par cli:maria (groupe {made_id})."
    )


async def test_assign_refusals_in_french_and_spanish(
    bot: ConversationEngine, gateway: FakeGateway, secretariat: dict[str, int], sessions: async_sessionmaker[AsyncSession],
) -> None:
    mine = secretariat["mine"]
    # MOJ leads "mine": making MOW lead is refused before any Confirm.
    assert await _said(bot, gateway, claire.says(f"/assign {mine} MOW")) == (
        f"Rien n’a été modifié : 1 recommandation a déjà une institution chef de file : {mine} (MOJ). /assign … contributing les attribue comme contributrice."
    )
    # MOH proposed as lead of a recommendation nobody leads; MOJ takes the lead before Confirm.
    async with sessions() as session, session.begin():
        await add_institution(session, InstitutionData("MOH", "Ministry of Health", InstitutionKind.MINISTRY))
        fresh = await _fresh(session)
    await chat(bot, gateway, carlos.says(f"/assign {fresh} MOH"))
    async with sessions() as session, session.begin():
        await assign(session, "MOJ", Selector(ids=(fresh,)), AssignmentRole.LEAD)
    assert await _said(bot, gateway, tap("Confirmar", carlos)) == (
        f"No se cambió nada: 1 recomendación ya tiene una institución responsable principal: {fresh} (MOJ)."
    )


async def _fresh(session: AsyncSession) -> int:
    """A recommendation nobody answers for yet."""
    upr = (await session.execute(select(Mechanism.id).where(Mechanism.code == "UPR"))).scalar_one()
    rec = Recommendation(source=ImportSource.TEMPLATE, external_id="N-1", text="A new one", country="Uruguay",
                         kind=RecommendationKind.RECOMMENDATION, mechanism_id=upr, content_hash="N-1")
    session.add(rec)
    await session.flush()
    return rec.id


async def test_priority_refusals_in_french_and_spanish(bot: ConversationEngine, gateway: FakeGateway, secretariat: dict[str, int]) -> None:
    mine = secretariat["mine"]
    long = "x" * 1001
    assert await _said(bot, gateway, claire.says(f"/priority {mine} override high {long}")) == (
        "Rien n’a été modifié : une raison compte au plus 1\u202f000 caractères."
    )
    assert await _said(bot, gateway, carlos.says(f"/priority {mine} override high {long}")) == (
        "No se cambió nada: un motivo tiene como máximo 1.000 caracteres."
    )


async def test_deadline_refusals_in_french_and_spanish(
    bot: ConversationEngine, gateway: FakeGateway, secretariat: dict[str, int], sessions: async_sessionmaker[AsyncSession],
) -> None:
    assert await _said(bot, gateway, carlos.says("/deadlines add treaty_report 2027-01-15 12-x")) == (
        "No se hizo: los números de recomendación se escriben 3,5,9 o 10-20, no «12-x»"
    )
    async with sessions() as session, session.begin():
        deadline = await add_deadline(session, DeadlineData(DeadlineKind.TREATY_REPORT, date(2026, 11, 30), mechanism_code="CEDAW"))
        number = deadline.id
    await chat(bot, gateway, claire.says(f"/submitted {number} 2026-11-20"))
    # Marked from the command line meanwhile, a day earlier.
    async with sessions() as session, session.begin():
        await mark_submitted(session, number, date(2026, 11, 19), NOW_DAY)
    assert await _said(bot, gateway, tap("Confirmer", claire)) == (
        f"Rien n’a été fait : l’échéance {number} a déjà été marquée comme soumise le 19 novembre 2026"
    )


async def test_secretariat_user_refusals_in_french_and_spanish(
    bot: ConversationEngine, gateway: FakeGateway, secretariat: dict[str, int], sessions: async_sessionmaker[AsyncSession],
) -> None:
    for admin, email, said in (
        (marie, "ana@mfa.example", "Non effectué : un membre du secrétariat a déjà l’adresse ana@mfa.example"),
        (marta, "luis@mfa.example", "No se hizo: ya existe un miembro de la secretaría con el correo luis@mfa.example"),
    ):
        await chat(bot, gateway, admin.says(f"/secretariat add Someone {email} viewer"))
        # Added by someone else between the summary and Confirm.
        async with sessions() as session, session.begin():
            await add_secretariat_user(session, SecretariatUserData("Someone", email, "en", "UTC"))
        assert await _said(bot, gateway, tap("Confirmer" if admin is marie else "Confirmar", admin)) == said


async def test_focal_point_refusals_in_french_and_spanish(
    bot: ConversationEngine, gateway: FakeGateway, secretariat: dict[str, int], sessions: async_sessionmaker[AsyncSession],
) -> None:
    await chat(bot, gateway, marie.says("/people end ana@justicia.example 2026-12-31"))
    async with sessions() as session, session.begin():
        await end_focal_point(session, "ana@justicia.example", date(2026, 12, 15))
    assert await _said(bot, gateway, tap("Confirmer", marie)) == (
        "Rien n'a été modifié : le mandat de Ana Pérez a pris fin le 15 décembre 2026 ; une fin plus tardive remettrait cette personne "
        "en fonctions (une fin plus précoce corrige la date) ; un nouveau mandat est un nouveau point focal"
    )
    await chat(bot, gateway, marta.says("/people replace ana@justicia.example Eva Rey eva@justicia.example"))
    async with sessions() as session, session.begin():
        await end_focal_point(session, "ana@justicia.example", date(2026, 11, 22))
    assert await _said(bot, gateway, tap("Confirmar", marta)) == (
        "No se cambió nada: el mandato de Ana Pérez ya terminó el 22 de noviembre de 2026: añada en su lugar a la persona sucesora"
    )


async def test_request_target_refusals_in_french(bot: ConversationEngine, gateway: FakeGateway, secretariat: dict[str, int]) -> None:
    await chat(bot, gateway, claire.says("/request"), claire.says("Quelles mesures ?"))
    await chat(bot, gateway, _press(claire, "due:14"), _press(claire, "to:institutions"))
    assert await _said(bot, gateway, claire.says("MOJ, XYZ")) == (
        "Cela ne convient pas : aucune institution n’a le code XYZ. Écrivez-le à nouveau, ou annulez."
    )
    await chat(bot, gateway, _press(claire, "cancel"))
    await chat(bot, gateway, carlos.says("/request"), carlos.says("¿Qué medidas?"))
    await chat(bot, gateway, _press(carlos, "due:14"), _press(carlos, "to:theme"))
    assert await _said(bot, gateway, carlos.says("Mujeres, Niñez")) == "Eso no sirve: un solo tema a la vez. Escríbalo de nuevo, o cancele."


def _press(person: Person, action: str) -> Callable[[FakeGateway], IncomingMessage]:
    """A press, when its turn comes, of the button last sent to ``person``
    whose action is ``action`` (a dialogue's names its step after a '|')."""

    def pressed(gateway: FakeGateway) -> IncomingMessage:
        for address, message in reversed(gateway.history):
            for button in (b for row in message.buttons for b in row):
                if address.user_id == person.user_id and button.action.partition("|")[0] == action:
                    return person.presses(button.action)
        raise AssertionError(f"no button {action!r} was sent to {person.user_id}")

    return pressed


async def test_follow_up_refusals_in_french_and_spanish(
    bot: ConversationEngine, gateway: FakeGateway, secretariat: dict[str, int], sessions: async_sessionmaker[AsyncSession], tmp_path: Path,
) -> None:
    await import_file(sessions, ImportSource.TEMPLATE, _template(tmp_path / "registry.xlsx"))
    await chat(bot, gateway, claire.says(f"/followup {CO} 12"))
    # Its symbol corrected meanwhile: the one the summary named is gone.
    async with sessions() as session, session.begin():
        document, _ = await get_document(session, CO)
        document.symbol = f"{CO}/Corr.1"
    assert await _said(bot, gateway, tap("Confirmer", claire)) == (
        f"Aucun document « {CO} » dans le registre : rien n’a été modifié. Importez d’abord ses observations finales."
    )
    async with sessions() as session, session.begin():
        document, _ = await get_document(session, f"{CO}/Corr.1")
        document.symbol = CO
    await chat(bot, gateway, carlos.says(f"/followup {CO} 12"))
    # Filed under the UPR meanwhile: no follow-up selection any more.
    async with sessions() as session, session.begin():
        document, _ = await get_document(session, CO)
        document.mechanism_id = (await session.execute(select(Mechanism.id).where(Mechanism.code == "UPR"))).scalar_one()
    assert await _said(bot, gateway, tap("Confirmar", carlos)) == (
        f"«{CO}» no son observaciones finales de un órgano creado en virtud de tratados: solo estas tienen párrafos seleccionados para el seguimiento. No se cambió nada."
    )


async def test_actions_refusals_in_french_and_spanish(bot: ConversationEngine, gateway: FakeGateway, secretariat: dict[str, int]) -> None:
    mine = secretariat["mine"]
    long = "x" * 501
    # Refused as the summary is made, before any Confirm.
    assert await _said(bot, gateway, claire.says(f"/actions add MOJ #{mine} 2027-06-30 {long}")) == (
        "Rien n’a été modifié : un titre compte au plus 500 caractères, pas 501"
    )
    assert await _said(bot, gateway, carlos.says(f"/actions add XYZ #{mine} 2027-06-30 Formar a 300 jueces")) == (
        "No se cambió nada: ninguna institución tiene el código XYZ"
    )

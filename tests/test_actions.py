"""Actions of the implementation plan in the registry (storage.actions), on
every backend: created with their links and checked field by field,
proposed and decided, edited, their updates append-only, every change in
the audit log, and read per recommendation as the plan report needs them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from messages import local_date, t
from storage import actions
from storage.action_models import Action, ActionState, ActionUpdate, FrameworkKind
from storage.actions import ActionData, ActionEdit, ActionFilter, ActionUpdateData, ChapterRef
from storage.audit import acting_as
from storage.enums import Channel, ImplementationStatus
from storage.errors import AppendOnlyViolation, Conflict, InvalidValue, NotFound
from storage.links import create_group
from storage.models import AuditEntry, FocalPoint, Institution

NOW = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)


async def _frameworks(session: AsyncSession) -> None:
    await actions.add_framework(session, "pndh", "Plan nacional de derechos humanos 2025-2030", FrameworkKind.HUMAN_RIGHTS_PLAN)
    await actions.add_chapter(session, "PNDH", "2.3", "Violencia basada en género")
    await actions.add_framework(session, "PND", "Plan nacional de desarrollo", FrameworkKind.DEVELOPMENT_PLAN)
    await actions.add_chapter(session, "PND", "4", "Justicia")


def _data(world: dict[str, int], **changes: object) -> ActionData:
    given: dict[str, object] = {
        "title": "Train 300 judges on the Istanbul Protocol", "responsible": "moj", "recommendations": (world["mine"],),
        "description": "Two courses a year", "contributing": ("MOW",), "start_date": date(2027, 1, 1), "target_date": date(2027, 6, 30),
        "budget_amount": Decimal("150000.50"), "budget_currency": "uyu", "budget_source": "National budget, line 12",
        "sdg_targets": ("16.3", "5.2"), "chapters": (ChapterRef("PNDH", "2.3"),),
    }
    given.update(changes)
    return ActionData(**given)  # type: ignore[arg-type]


async def test_an_action_is_stored_with_its_links_and_read_whole(sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> None:
    async with sessions() as session, session.begin():
        await _frameworks(session)
        first = await actions.create_action(session, _data(world), actor="cli:mary", now=NOW)
        second = await actions.create_action(session, _data(world, code=None, title="Second", budget_amount=None, budget_currency=None), actor="cli:mary", now=NOW)
    assert (first.code, second.code) == ("A-1", "A-2")
    async with sessions() as session:
        [view] = (await actions.views(session, [first.id])).values()
    assert view.title == "Train 300 judges on the Istanbul Protocol" and view.responsible_code == "MOJ"
    assert view.state is ActionState.ACCEPTED and view.status is ImplementationStatus.NOT_STARTED
    assert view.contributing == (("MOW", "Ministry of Women"),)
    assert view.recommendations == (world["mine"],) and view.served == (world["mine"],)
    assert view.sdg_targets == ("5.2", "16.3")
    assert [(c.framework, c.code, c.kind) for c in view.chapters] == [("PNDH", "2.3", FrameworkKind.HUMAN_RIGHTS_PLAN)]
    assert view.budget is not None and view.budget.amount == Decimal("150000.50") and view.budget.currency == "UYU"
    assert isinstance(view.budget.amount, Decimal)


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"title": "  "}, "title", "title is empty"),
    ({"responsible": "MOX"}, "responsible", "no institution with code 'MOX'"),
    ({"recommendations": (), "link_groups": ()}, "recommendations", "at least one recommendation or linked group"),
    ({"recommendations": (99999,)}, "recommendations", "no recommendation #99999"),
    ({"link_groups": (77,)}, "link_groups", "no linked group 77"),
    ({"contributing": ("MOJ",)}, "contributing", "MOJ is the responsible institution"),
    ({"target_date": date(2026, 12, 31)}, "target_date", "the target date 2026-12-31 is before the start date 2027-01-01"),
    ({"budget_amount": Decimal("-1")}, "budget_amount", "zero or more"),
    ({"budget_amount": Decimal("1.005")}, "budget_amount", "at most two decimals"),
    ({"budget_currency": None}, "budget_currency", "needs its currency"),
    ({"budget_currency": "pesos"}, "budget_currency", "three-letter ISO 4217"),
    ({"sdg_targets": ("5",)}, "sdg_targets", "'5' is not an SDG target"),
    ({"sdg_targets": ("5.9",)}, "sdg_targets", "goal 5 has 5.1 to 5.6 and 5.a to 5.c"),
    ({"chapters": (ChapterRef("PNDH", "9.9"),)}, "chapters", "framework PNDH has no chapter '9.9'"),
    ({"chapters": (ChapterRef("XX", "1"),)}, "chapters", "no framework with code 'XX'"),
    ({"code": "A 12"}, "code", "expected an action code"),
])
async def test_every_bad_field_is_refused_naming_it(
    sessions: async_sessionmaker[AsyncSession], world: dict[str, int], changes: dict[str, object], field: str, message: str,
) -> None:
    async with sessions() as session, session.begin():
        await _frameworks(session)
    with pytest.raises((InvalidValue, NotFound)) as caught:
        async with sessions() as session, session.begin():
            await actions.create_action(session, _data(world, **changes), actor="cli:mary", now=NOW)
    assert caught.value.field == field and message in str(caught.value)
    async with sessions() as session:
        assert (await session.scalars(select(Action))).all() == []


async def test_a_code_is_never_given_twice(sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> None:
    async with sessions() as session, session.begin():
        await actions.create_action(session, _data(world, code="a-7", chapters=()), actor="cli:mary", now=NOW)
        assert await actions.next_code(session) == "A-8"
    with pytest.raises(Conflict, match="A-7 exists already"):
        async with sessions() as session, session.begin():
            await actions.create_action(session, _data(world, code="A-7", chapters=()), actor="cli:mary", now=NOW)


async def test_a_linked_group_serves_its_members_and_the_plan_reads_actions_per_recommendation(
    sessions: async_sessionmaker[AsyncSession], world: dict[str, int],
) -> None:
    one, two, three = world["mine_all"]
    async with sessions() as session, session.begin():
        group = await create_group(session, [two, three], "cli:mary", NOW)
        direct = await actions.create_action(session, _data(world, chapters=(), recommendations=(one,)), actor="cli:mary", now=NOW)
        grouped = await actions.create_action(session, _data(world, chapters=(), recommendations=(), link_groups=(group.id,), budget_internal=True), actor="cli:mary", now=NOW)
        proposed_by = await session.get(FocalPoint, world["ana"])
        await actions.create_action(session, _data(world, chapters=(), recommendations=(three,), title="Proposed"), actor="ana", now=NOW, proposed_by=proposed_by)
    async with sessions() as session:
        per = await actions.actions_by_recommendation(session)
        public = await actions.actions_by_recommendation(session, [three], public=True)
        before = await actions.actions_by_recommendation(session, as_of=NOW - timedelta(days=1))
    assert {rec: [v.code for v in found] for rec, found in per.items()} == {one: [direct.code], two: [grouped.code], three: [grouped.code]}
    assert list(public) == [three] and public[three][0].budget is None and per[three][0].budget is not None
    assert before == {}


async def test_a_proposal_is_decided_once_and_takes_updates_only_when_accepted(
    sessions: async_sessionmaker[AsyncSession], world: dict[str, int],
) -> None:
    async with sessions() as session, session.begin():
        ana = await session.get(FocalPoint, world["ana"])
        proposal = await actions.create_action(session, _data(world, chapters=()), actor="ana", now=NOW, proposed_by=ana)
        other = await actions.create_action(session, _data(world, chapters=(), title="Other"), actor="ana", now=NOW, proposed_by=ana)
    assert proposal.state is ActionState.PROPOSED
    update = ActionUpdateData(proposal.id, ImplementationStatus.IN_PROGRESS, "Ana", Channel.TELEGRAM, author_focal_point_id=world["ana"])
    with pytest.raises(Conflict, match="only an accepted action takes updates"):
        async with sessions() as session, session.begin():
            await actions.record_action_update(session, update, NOW)
    async with sessions() as session, session.begin():
        await actions.decide(session, proposal.code, True, actor="cli:mary", now=NOW)
        await actions.decide(session, other.code, False, actor="cli:mary", now=NOW, note="Covered by A-1")
    with pytest.raises(Conflict, match="is accepted, not proposed"):
        async with sessions() as session, session.begin():
            await actions.decide(session, proposal.code, False, actor="cli:mary", now=NOW)
    async with sessions() as session, session.begin():
        await actions.record_action_update(session, update, NOW)
        rejected = await actions.get_action(session, other.code)
        assert (rejected.state, rejected.decision_note, rejected.decided_by) == (ActionState.REJECTED, "Covered by A-1", "cli:mary")
        assert (await actions.get_action(session, proposal.code)).status is ImplementationStatus.IN_PROGRESS


async def test_updates_are_history_the_responsible_institution_moves_the_status_and_a_redelivery_adds_nothing(
    sessions: async_sessionmaker[AsyncSession], world: dict[str, int],
) -> None:
    async with sessions() as session, session.begin():
        action = await actions.create_action(session, _data(world, chapters=()), actor="cli:mary", now=NOW)
        institutions = {i.code: i.id for i in await _institutions(session)}
    ana = dict(author_label="Ana", channel=Channel.TELEGRAM, author_focal_point_id=world["ana"])
    async with sessions() as session, session.begin():
        first = await actions.record_action_update(session, ActionUpdateData(action.id, ImplementationStatus.IN_PROGRESS, narrative="First course held", idempotency_key="tg:1", **ana), NOW)  # type: ignore[arg-type]
        again = await actions.record_action_update(session, ActionUpdateData(action.id, ImplementationStatus.IN_PROGRESS, idempotency_key="tg:1", **ana), NOW)  # type: ignore[arg-type]
        assert again.id == first.id
        # A contributing institution reports; the responsible one's status stands.
        await actions.record_action_update(session, ActionUpdateData(
            action.id, ImplementationStatus.FULLY_IMPLEMENTED, "Rosa", Channel.CLI, institution_id=institutions["MOW"]), NOW)
    async with sessions() as session:
        assert (await actions.get_action(session, "a-1")).status is ImplementationStatus.IN_PROGRESS
        assert [u.status for u in await actions.history(session, action.id)] == [ImplementationStatus.IN_PROGRESS, ImplementationStatus.FULLY_IMPLEMENTED]
        assert (await actions.last_update(session, action.id, institutions["MOJ"])).narrative == "First course held"  # type: ignore[union-attr]
        early = await actions.status_as_of(session, [action.id], NOW - timedelta(seconds=1))
    assert early == {}
    with pytest.raises(AppendOnlyViolation):
        async with sessions() as session, session.begin():
            stored = await session.get(ActionUpdate, first.id)
            assert stored is not None
            stored.narrative = "rewritten"


async def _institutions(session: AsyncSession) -> list[Institution]:
    return list((await session.scalars(select(Institution))).all())


async def test_an_edit_changes_what_it_names_and_each_change_is_audited_with_its_actor(
    sessions: async_sessionmaker[AsyncSession], world: dict[str, int],
) -> None:
    async with sessions() as session, session.begin():
        await _frameworks(session)
        with acting_as("cli:mary"):
            action = await actions.create_action(session, _data(world), actor="cli:mary", now=NOW)
    later = NOW + timedelta(hours=1)
    async with sessions() as session, session.begin():
        with acting_as("secretariat:7"):
            _, changed = await actions.edit_action(session, "A-1", ActionEdit(
                title="Train 400 judges", target_date=date(2027, 9, 30), sdg_targets=("16.3",), chapters=(ChapterRef("PND", "4"),),
                responsible="MOW", clear=frozenset({"budget"}),
            ), now=later)
            _, unchanged = await actions.edit_action(session, "A-1", ActionEdit(title="Train 400 judges"), now=later)
    assert changed and not unchanged
    async with sessions() as session:
        [view] = (await actions.views(session, [action.id])).values()
        entries = (await session.scalars(select(AuditEntry).where(AuditEntry.entity.like("action%")).order_by(AuditEntry.id))).all()
    assert (view.title, view.target_date, view.budget, view.sdg_targets) == ("Train 400 judges", date(2027, 9, 30), None, ("16.3",))
    assert [c.framework for c in view.chapters] == ["PND"]
    # MOW became responsible, so it no longer also contributes.
    assert (view.responsible_code, view.contributing) == ("MOW", ())
    created = [e for e in entries if e.actor == "cli:mary"]
    edited = [e for e in entries if e.actor == "secretariat:7"]
    assert {e.entity for e in created} == {"actions", "action_recommendations", "action_institutions", "action_sdg_targets", "action_chapters"}
    assert ("actions", "update") in {(e.entity, e.action) for e in edited}
    title_change = next(e for e in edited if e.entity == "actions")
    assert title_change.changes["title"] == ["Train 300 judges on the Istanbul Protocol", "Train 400 judges"]  # type: ignore[index]
    assert {(e.entity, e.action) for e in edited} >= {("action_sdg_targets", "delete"), ("action_chapters", "insert"), ("action_institutions", "delete")}


async def test_listing_filters_by_state_institution_status_recommendation_and_overdue(
    sessions: async_sessionmaker[AsyncSession], world: dict[str, int],
) -> None:
    async with sessions() as session, session.begin():
        late = await actions.create_action(session, _data(world, chapters=(), start_date=None, target_date=date(2026, 11, 1)), actor="cli", now=NOW)
        await actions.create_action(session, _data(world, chapters=(), responsible="MOW", contributing=(), recommendations=(world["not_mine"],)), actor="cli", now=NOW)
    async with sessions() as session:
        async def codes(wanted: ActionFilter) -> list[str]:
            return [v.code for v in await actions.list_actions(session, wanted)]

        assert await codes(ActionFilter()) == ["A-1", "A-2"]
        assert await codes(ActionFilter(institution="MOW")) == ["A-1", "A-2"]
        assert await codes(ActionFilter(institution="MOJ")) == ["A-1"]
        assert await codes(ActionFilter(recommendation=world["not_mine"])) == ["A-2"]
        assert await codes(ActionFilter(overdue_on=NOW.date())) == [late.code]
        assert await codes(ActionFilter(status=ImplementationStatus.IN_PROGRESS)) == []
        assert await codes(ActionFilter(state=ActionState.PROPOSED)) == []


async def test_a_framework_and_its_chapters_are_unique(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        await _frameworks(session)
    with pytest.raises(Conflict, match="PNDH has a chapter '2.3' already"):
        async with sessions() as session, session.begin():
            await actions.add_chapter(session, "pndh", "2.3", "Again")
    with pytest.raises(Conflict, match="'PND' exists already"):
        async with sessions() as session, session.begin():
            await actions.add_framework(session, "PND", "Again", FrameworkKind.OTHER)
    async with sessions() as session:
        listed = [(f.code, [c.code for c in chapters]) for f, chapters in await actions.list_frameworks(session)]
    assert listed == [("PND", ["4"]), ("PNDH", ["2.3"])]


async def test_the_refusals_chat_meets_are_told_in_the_readers_language(sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> None:
    async with sessions() as session, session.begin():
        await actions.create_action(session, _data(world, chapters=(), start_date=None, target_date=None), actor="cli:mary", now=NOW)
    refused = [
        _data(world, chapters=(), recommendations=(99999,)),
        _data(world, chapters=(), responsible="MOX"),
        _data(world, chapters=(), target_date=date(2026, 12, 1)),
        _data(world, chapters=(), code="a-1"),
    ]
    told = []
    for data in refused:
        with pytest.raises((InvalidValue, NotFound, Conflict)) as caught:
            async with sessions() as session, session.begin():
                await actions.create_action(session, data, actor="cli:mary", now=NOW)
        assert caught.value.key is not None, caught.value
        values = {k: local_date(v, "es") if isinstance(v, date) else v for k, v in caught.value.values.items()}
        told.append(t(caught.value.key, "es", **values))
    assert told == [
        "el registro no tiene ninguna recomendación #99999", "ninguna institución tiene el código MOX",
        "la fecha meta, el 1 de diciembre de 2026, es anterior a la fecha de inicio, el 1 de enero de 2027",
        "ya existe una acción con el código A-1",
    ]

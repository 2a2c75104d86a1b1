"""The Slack Home tab, end to end: the real transport and engine against the
Slack stand-in over real HTTP and Socket Mode. A focal point's Home shows
what waits for their answer with the DM's buttons; a press on it answers in
the DM; what they save, and what the outbox delivers to them, republishes
it; a secretariat user's Home shows requests outstanding, what is overdue
and the reports; more than Block Kit takes is cut with "and N more"."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import BotApp
from bot.config import Config
from bot.gateway import PlatformRouter
from bot.outbox_dispatch import OutboxDispatcher
from bot.transports.slack_home import MAX_HOME_BLOCKS, render_home
from handlers import requests as request_messages
from handlers.assignment_notices import NoticeService
from handlers.chat_port import Button
from handlers.home import HomeLine, HomeSection, HomeView
from handlers.reminders.plan import Policy
from storage.assignments import Selector, assign
from storage.clock import running_on
from storage.deadlines import DeadlineData, add_deadline
from storage.enums import AssignmentRole, DeadlineKind, ImportSource, SecretariatRole
from storage.models import ChatIdentity, Recommendation
from storage.importers.run import import_file
from storage.requests import Target, create_request
from storage.secretariat import SecretariatUserData, seed_secretariat_users
from tests.chat_harness import SlackPerson
from tests.factories import answered_before
from tests.slack_harness import ANA, SlackBot, running_slack_bot

MARIA = "U0MARIA"


@pytest.fixture(params=["socket", "http"])
async def slack(request: pytest.FixtureRequest, sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> AsyncIterator[SlackBot]:
    async with running_slack_bot(sessions, request.param) as bot:
        # No debounce wait and quick retries: these tests are not about pacing.
        bot.transport.home_interval = 0
        bot.transport.home_retries = (0.05, 0.05)
        yield bot


@pytest.fixture
async def socket_only(sessions: async_sessionmaker[AsyncSession], world: dict[str, int]) -> AsyncIterator[SlackBot]:
    async with running_slack_bot(sessions, "socket") as bot:
        bot.transport.home_interval = 0
        bot.transport.home_retries = (0.05, 0.05)
        yield bot


def shown(view: dict[str, Any]) -> str:
    """What a person reads on the Home: every text, in order."""
    parts = []
    for block in view["blocks"]:
        if block["type"] in ("section", "header"):
            parts.append(block["text"]["text"])
        elif block["type"] == "context":
            parts.extend(e["text"] for e in block["elements"])
    return "\n".join(parts)


def buttons(view: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["text"]["text"], e["value"]) for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]


async def home_where(bot: SlackBot, user: str, fits: Callable[[dict[str, Any]], bool], after: int = 0) -> dict[str, Any]:
    """The first Home published for ``user`` after the ``after``-th that ``fits``."""
    deadline = time.monotonic() + 10
    while True:
        found = [view for view in bot.standin.homes.get(user, [])[after:] if fits(view)]
        if found:
            return found[0]
        if time.monotonic() > deadline:
            raise TimeoutError(f"no such Home for {user}: {[shown(v) for v in bot.standin.homes.get(user, [])[after:]]}")
        await asyncio.sleep(0.01)


async def opened_home(bot: SlackBot, user: str) -> dict[str, Any]:
    before = len(bot.standin.homes.get(user, []))
    bot.standin.user_opens_home(user)
    return await bot.standin.wait_for_home(user, before + 1)


async def test_a_focal_point_opens_home_and_sees_their_open_items_with_the_dms_buttons(slack: SlackBot, world: dict[str, int]) -> None:
    home = await opened_home(slack, ANA)
    text = shown(home)
    assert home["type"] == "home" and text.startswith("Ana Pérez, Ministry of Justice")
    assert "Waiting for your institution's update" in text
    for rec in world["mine_all"]:
        assert f"#{rec} " in text
        # The payloads of /mine's buttons: Open, and the update form.
        assert ("Open", f"rec:{rec}") in buttons(home) and ("Give an update", f"form:update:en:upd:{rec}") in buttons(home)
    assert f"#{world['not_mine']} " not in text
    assert "No information request is waiting for your answer." in text
    # The Messages tab has no view to publish.
    slack.standin.user_opens_home(ANA, tab="messages")
    await slack.standin.settle()
    assert len(slack.standin.homes[ANA]) == 1


async def test_a_press_on_the_home_answers_in_the_dm_and_saving_republishes_the_home_without_the_item(
    slack: SlackBot, world: dict[str, int]
) -> None:
    ana = SlackPerson(slack.standin, ANA)
    home = await opened_home(slack, ANA)
    first = world["mine_all"][0]
    before = len(ana.inbox)
    # "Open" on the Home: the container is the view, there is no channel; the detail comes to the DM.
    slack.standin.user_clicks_home(ANA, "Open")
    (detail,) = (await slack.standin.wait_for_messages(ANA, before + 1))[before:]
    assert detail.channel == slack.standin.dm_channel(ANA) and detail.shown.startswith(f"Recommendation #{first} ")
    assert "Give an update" in detail.buttons
    # "Give an update" on the Home opens the same form; its answer, too, comes to the DM.
    published = len(slack.standin.homes[ANA])
    views = len(slack.standin.views)
    slack.standin.user_clicks_home(ANA, "Give an update")
    while len(slack.standin.views) == views:
        await slack.standin.settle()
    before = len(ana.inbox)
    slack.standin.user_fills(ANA, slack.standin.views[-1], {"status": "in progress", "done": "Bill drafted."})
    (saved,) = (await slack.standin.wait_for_messages(ANA, before + 1))[before:]
    assert saved.shown.startswith(f"Saved: #{first} is “in progress”.")
    after = await home_where(slack, ANA, lambda view: f"#{first} " not in shown(view), published)
    assert f"#{world['mine_all'][1]} " in shown(after)
    assert ("Open", f"rec:{first}") not in buttons(after)
    assert home["id"] == after["id"], "the same Home, updated"


async def test_a_home_publish_that_fails_is_retried_and_never_breaks_the_turn(
    socket_only: SlackBot, world: dict[str, int], caplog: pytest.LogCaptureFixture
) -> None:
    slack = socket_only
    ana = SlackPerson(slack.standin, ANA)
    slack.standin.refuse("views.publish", "internal_error")
    caplog.set_level(logging.INFO, "bot.transports.slack")
    slack.standin.user_opens_home(ANA)
    (reply, *_) = await ana.says("mine", expect=4)
    assert reply.shown.startswith("Ministry of Justice: 3 recommendations")
    home = await slack.standin.wait_for_home(ANA, 1)
    assert "Waiting for your institution's update" in shown(home)
    assert any("not published (internal_error); again in" in r.getMessage() for r in caplog.records)
    # The Home tab switched off in the app: said once in the log, and the DM works as before.
    slack.standin.home_enabled = False
    caplog.clear()
    slack.standin.user_opens_home(ANA)
    (again, *_) = await ana.says("mine", expect=4)
    assert again.shown.startswith("Ministry of Justice")
    deadline = time.monotonic() + 10
    while not any("not published: not_enabled" in r.getMessage() for r in caplog.records):
        assert time.monotonic() < deadline, [r.getMessage() for r in caplog.records]
        await asyncio.sleep(0.01)
    assert len(slack.standin.homes[ANA]) == 1


async def test_what_the_outbox_delivers_and_a_new_assignment_show_on_the_home(
    socket_only: SlackBot, sessions: async_sessionmaker[AsyncSession], world: dict[str, int]
) -> None:
    slack = socket_only
    policy = Policy()
    router = PlatformRouter()
    router.register(slack.transport)
    dispatcher = OutboxDispatcher(sessions, router, slack.clock, policy.working_time)
    await opened_home(slack, ANA)
    async with sessions() as session, session.begin():
        request, recipients = await create_request(
            session, "How many judges were trained on gender-based violence in 2026?", date(2026, 12, 18), Target("institutions", ("MOJ",)),
            created_by="test", today=slack.clock().date(),
        )
        await request_messages.send(session, request, recipients, policy, slack.clock())
    published = len(slack.standin.homes[ANA])
    assert await dispatcher.drain() == 1
    home = await slack.standin.wait_for_home(ANA, published + 1)
    assert f"Request #{request.id}, to answer by 18 December 2026" in shown(home)
    assert ("Answer", f"req:{request.id}") in buttons(home)
    # A recommendation newly assigned to the ministry: its notice goes out, the Home lists it.
    async with sessions() as session, session.begin():
        # Ana joined the bot before: what is assigned after is news to her.
        await session.execute(update(ChatIdentity).where(ChatIdentity.focal_point_id == world["ana"]).values(created_at=slack.clock() - timedelta(days=1)))
        with running_on(slack.clock):
            await assign(session, "MOJ", Selector(ids=(world["not_mine"],)), AssignmentRole.CONTRIBUTING)
    # Notices go out an hour before the person's working day ends.
    slack.clock.advance(hours=6)
    assert await NoticeService(sessions, policy, slack.clock).tick() == 1
    published = len(slack.standin.homes[ANA])
    assert await dispatcher.drain() >= 1
    home = await slack.standin.wait_for_home(ANA, published + 1)
    assert ("Open", f"rec:{world['not_mine']}") in buttons(home)


async def test_a_secretariat_users_home_has_requests_outstanding_overdue_and_report_buttons(
    slack: SlackBot, sessions: async_sessionmaker[AsyncSession], world: dict[str, int]
) -> None:
    slack.standin.add_user(MARIA, "maria.gonzalez", "maria@cancilleria.example")
    async with sessions() as session, session.begin():
        await seed_secretariat_users(session, [
            SecretariatUserData("María González", "maria@cancilleria.example", "en", "America/Montevideo", slack_user_id=MARIA,
                                role=SecretariatRole.COORDINATOR),
        ])
        request, _ = await create_request(
            session, "Send the 2026 figures on shelters for women", date(2026, 12, 18), Target("institutions", ("MOJ", "MOW")),
            created_by="test", today=slack.clock().date(),
        )
    home = await opened_home(slack, MARIA)
    text = shown(home)
    assert text.startswith("María González, secretariat (coordinator)")
    assert f"#{request.id}, due 18 December 2026: 0 answers in, of 1 asked. Send the 2026 figures on shelters for women" in text
    assert (f"Who answered #{request.id}", f"track:{request.id}") in buttons(home)
    assert "Nothing is overdue." in text
    values = [v for _, v in buttons(home)]
    assert {"hrep:matrix", "hrep:progress", "hrep:export", "hsum:progress", "hsum:overdue", "hsum:missing"} <= set(values)
    # A summary button answers in María's DM, as "overdue" typed there would.
    maria = SlackPerson(slack.standin, MARIA)
    before = len(maria.inbox)
    label = next(label for label, v in buttons(home) if v == "hsum:progress")
    slack.standin.user_clicks_home(MARIA, label)
    (summary,) = (await slack.standin.wait_for_messages(MARIA, before + 1))[before:]
    assert summary.shown.startswith("Progress by institution")
    # Who answered, from the Home: the request's tracking in the DM.
    before = len(maria.inbox)
    label = next(label for label, v in buttons(home) if v == f"track:{request.id}")
    slack.standin.user_clicks_home(MARIA, label)
    (tracking,) = (await slack.standin.wait_for_messages(MARIA, before + 1))[before:]
    assert f"#{request.id}" in tracking.shown


async def test_a_secretariat_home_names_what_is_overdue_by_institution(
    socket_only: SlackBot, sessions: async_sessionmaker[AsyncSession], world: dict[str, int]
) -> None:
    slack = socket_only
    slack.standin.add_user(MARIA, "maria.gonzalez", "maria@cancilleria.example")
    async with sessions() as session, session.begin():
        await seed_secretariat_users(session, [
            SecretariatUserData("María González", "maria@cancilleria.example", "en", "America/Montevideo", slack_user_id=MARIA,
                                role=SecretariatRole.VIEWER),
        ])
        # A deadline passed last week with the ministry's three recommendations unanswered.
        await add_deadline(session, DeadlineData(DeadlineKind.INTERNAL_INPUT, date(2026, 11, 16), "Mid-term report inputs"), Selector(ids=tuple(world["mine_all"])))
    home = await opened_home(slack, MARIA)
    text = shown(home)
    assert "Overdue, by institution" in text and "• MOJ: 3 recommendations" in text
    # A viewer is not offered who answered (a coordinator's button), but the reports.
    assert not [v for _, v in buttons(home) if v.startswith("track:")]
    assert "hrep:matrix" in [v for _, v in buttons(home)]


async def test_more_than_block_kit_takes_is_cut_with_and_n_more(socket_only: SlackBot) -> None:
    slack = socket_only
    many = tuple(
        HomeLine(f"#{n} UPR 12.{n} (not started): " + "Adopt a law. " * 400, (Button("Open", f"rec:{n}"), Button("Give an update", f"upd:{n}", form="update")))
        for n in range(1, 151)
    )
    requests = tuple(HomeLine(f"Request #{n}", (Button("Answer " + "x" * 100, f"req:{n}"),)) for n in range(1, 6))
    view = HomeView("en", "Ana Pérez, Ministry of Justice " + "x" * 200, (
        HomeSection("Waiting", many, "none", "home.more_mine", unread=40),
        HomeSection("Requests", requests, "none", "home.more_mine"),
    ), "As of today.")
    rendered = render_home(view)
    blocks = rendered["blocks"]
    assert len(blocks) <= MAX_HOME_BLOCKS
    # Lines are dealt out in turn: the five requests all show despite 150 items.
    text = shown(rendered)
    assert all(f"Request #{n}" in text for n in range(1, 6))
    items_shown = sum(1 for b in blocks if b["type"] == "section" and b["text"]["text"].startswith("#"))
    assert f"…and {150 - items_shown + 40} more: write mine to the bot under Messages." in text
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks if b["type"] == "section")
    assert all(len(e["text"]["text"]) <= 75 for b in blocks if b["type"] == "actions" for e in b["elements"])
    # And Slack takes it: published through the stand-in's views.publish, which checks every limit.
    await slack.transport.client.views_publish(user_id=ANA, view=rendered)
    assert len(slack.standin.home_of(ANA)["blocks"]) == len(blocks)
    # Uncut, Slack refuses it, as it would.
    from slack_sdk.errors import SlackApiError  # noqa: PLC0415

    too_many = {"type": "home", "blocks": [{"type": "section", "text": {"type": "plain_text", "text": "x"}}] * 101}
    with pytest.raises(SlackApiError) as refused:
        await slack.transport.client.views_publish(user_id=ANA, view=too_many)
    assert refused.value.response["error"] == "invalid_blocks"
    assert "no more than 100 items" in refused.value.response["response_metadata"]["messages"][0]
    with pytest.raises(SlackApiError) as wrong:
        await slack.transport.client.views_publish(user_id=ANA, view={"type": "modal", "blocks": []})
    assert wrong.value.response["error"] == "invalid_arguments"
    with pytest.raises(SlackApiError) as nobody:
        await slack.transport.client.views_publish(user_id="U0NOBODY", view={"type": "home", "blocks": []})
    assert nobody.value.response["response_metadata"]["messages"] == ["invalid `user_id`"]


async def test_a_stranger_opening_the_home_is_told_how_to_join(socket_only: SlackBot) -> None:
    slack = socket_only
    slack.standin.add_user("U0NEW", "new.person", "new@example.org")
    home = await opened_home(slack, "U0NEW")
    assert "write start CODE to the bot" in shown(home) and not buttons(home)


async def test_the_running_bot_reads_homes_with_the_configured_reminder_rules(sessions: async_sessionmaker[AsyncSession]) -> None:
    """What a Home calls open and overdue is what the reminders call so: `nmrf-bot run` gives the adapter its policy."""
    config = Config.model_validate({
        "slack": {"bot_token": "xoxb-1-2-home", "app_token": "xapp-1-A-3-home"},
        "reminders": {"steps_days": [21, 7, 1]},
    })
    app = BotApp(config, sessions)
    assert app.slack is not None and app.slack._home_policy is app.policy
    assert max(app.slack._home_policy.steps(DeadlineKind.INTERNAL_INPUT)) == 21


async def test_an_answered_item_waits_again_once_its_deadlines_reminders_begin(
    socket_only: SlackBot, sessions: async_sessionmaker[AsyncSession], world: dict[str, int]
) -> None:
    """The reminders' rule: an answer counts from when a deadline's reminders
    begin; a deadline whose reminders have not begun asks nothing yet."""
    slack = socket_only
    soon, later, never = world["mine_all"]
    await answered_before(sessions, "MOJ", soon, later, never)
    async with sessions() as session, session.begin():
        # Reminders for an internal input begin 60 days before it: under way for the first, not for the second.
        await add_deadline(session, DeadlineData(DeadlineKind.INTERNAL_INPUT, date(2026, 12, 15), "Inputs for the mid-term report"), Selector(ids=(soon,)))
        await add_deadline(session, DeadlineData(DeadlineKind.INTERNAL_INPUT, date(2027, 9, 1), "Inputs for the next review"), Selector(ids=(later,)))
    home = await opened_home(slack, ANA)
    waiting = [value for _, value in buttons(home) if value.startswith("rec:")]
    assert waiting == [f"rec:{soon}"]
    assert "Inputs for the mid-term report: 15 December 2026" in shown(home) and "Inputs for the next review: 1 September 2027" in shown(home)


async def test_a_ministry_with_more_items_than_a_home_holds_reads_and_n_more(
    socket_only: SlackBot, sessions: async_sessionmaker[AsyncSession], world: dict[str, int], tmp_path: Path
) -> None:
    """Through the whole path: 150 recommendations waiting for the ministry,
    a Home of at most 100 blocks that Slack takes, every section still there."""
    slack = socket_only
    rows = ["To,To-Rgrp,To-Org,Text,From,From-Rgrp,From-Org,Response,Action,Issue,Session"] + [
        f'Uruguay,GRULAC,"OAS, OEI","Strengthen the national plan against trafficking in persons, part {n}",Chile,GRULAC,"OAS, OEI",Accepted,4,Trafficking,40'
        for n in range(1, 148)
    ]
    (tmp_path / "many.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    await import_file(sessions, ImportSource.UPRINFO, tmp_path / "many.csv")
    async with sessions() as session, session.begin():
        new = list((await session.scalars(select(Recommendation.id).where(Recommendation.text.like("%trafficking in persons, part%")))).all())
        await assign(session, "MOJ", Selector(ids=tuple(new)))
    assert len(new) == 147
    home = await opened_home(slack, ANA)
    items = [value for _, value in buttons(home) if value.startswith("rec:")]
    assert len(home["blocks"]) <= MAX_HOME_BLOCKS and 20 < len(items) < 150
    assert f"…and {150 - len(items)} more: write mine to the bot under Messages." in shown(home)
    assert "Information requests to answer" in shown(home) and "Coming deadlines" in shown(home)


async def test_a_colleagues_answer_republishes_the_other_focal_points_and_the_secretariats_homes(
    socket_only: SlackBot, sessions: async_sessionmaker[AsyncSession], world: dict[str, int]
) -> None:
    from storage.conversations import link_identity
    from storage.enums import FocalPointRole, Platform
    from storage.network import FocalPointData, add_focal_point

    bot, bruno = socket_only, "U0BRUNO"
    bot.standin.add_user(bruno, "bruno", "bruno@justicia.example")
    bot.standin.add_user(MARIA, "maria", "maria@cancilleria.example")
    async with sessions() as session, session.begin():
        colleague = await add_focal_point(session, FocalPointData(
            "Bruno Díaz", "MOJ", FocalPointRole.TECHNICAL, "en", "America/Montevideo", date(2025, 1, 1), "bruno@justicia.example"))
        await link_identity(session, colleague.id, Platform.SLACK, bot.standin.team_id, bruno, bot.standin.dm_channel(bruno))
        await seed_secretariat_users(session, [SecretariatUserData("María González", "maria@cancilleria.example", "en", "UTC", slack_user_id=MARIA)])
    first = world["mine_all"][0]
    ana_home = await opened_home(bot, ANA)
    assert f"#{first} " in shown(ana_home)
    await opened_home(bot, MARIA)
    ana_published, maria_published = len(bot.standin.homes[ANA]), len(bot.standin.homes[MARIA])
    # Bruno answers #first for the Ministry of Justice from his own Home's form.
    await opened_home(bot, bruno)
    views = len(bot.standin.views)
    bot.standin.user_clicks_home(bruno, "Give an update")
    while len(bot.standin.views) == views:
        await bot.standin.settle()
    bot.standin.user_fills(bruno, bot.standin.views[-1], {"status": "in progress", "done": "Bill drafted."})
    # Ana's Home, which she keeps open, no longer waits on it; María's is rebuilt too.
    await home_where(bot, ANA, lambda view: f"#{first} " not in shown(view), ana_published)
    await bot.standin.wait_for_home(MARIA, maria_published + 1)


async def test_a_homes_list_of_items_is_built_once_per_institution_and_reads_current_rows(
    socket_only: SlackBot, world: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Home is rebuilt often (each time it is opened, after every turn
    that changed it): /mine's statement for the institution is built once
    (building it cost two fifths of a Home), and each Home still reads the
    rows as they are then."""
    import handlers.home as home_module

    built: list[Any] = []
    real = home_module.list_statement

    def counting(filters: Any, limit: int | None = None) -> Any:
        built.append(filters)
        return real(filters, limit)

    monkeypatch.setattr(home_module, "list_statement", counting)
    cached = getattr(home_module, "_listed_for", None)
    if cached is not None:
        cached.cache_clear()
    first = world["mine_all"][0]
    assert f"#{first} " in shown(await opened_home(socket_only, ANA))
    await opened_home(socket_only, ANA)
    published = len(socket_only.standin.homes[ANA])
    # An answer saved elsewhere (the CLI, a colleague): the next Home reads it.
    await answered_before(socket_only.sessions, "MOJ", first)
    socket_only.standin.user_opens_home(ANA)
    after = await home_where(socket_only, ANA, lambda view: f"#{first} " not in shown(view), published)
    assert f"#{world['mine_all'][1]} " in shown(after)
    assert len(built) == 1, built


def refreshes(bot: SlackBot, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Whose Home the engine asked to rebuild, in order: asked before the
    turn's reply is sent, so a reply received means its ask was made."""
    asked: list[str] = []
    real = bot.transport.refresh_home

    def recording(address: Any) -> None:
        asked.append(address.user_id)
        real(address)

    monkeypatch.setattr(bot.transport, "refresh_home", recording)
    return asked


async def test_a_turn_that_only_reads_leaves_the_home_as_it_was(
    slack: SlackBot, world: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Help, /mine, an item opened from the Home: nothing the Home shows
    changed, so it is not rebuilt (a Home costs several times the turn)."""
    ana = SlackPerson(slack.standin, ANA)
    await opened_home(slack, ANA)
    published = len(slack.standin.homes[ANA])
    asked = refreshes(slack, monkeypatch)
    (help_text,) = await ana.says("help")
    assert "mine" in help_text.shown
    (listed, *_) = await ana.says("mine", expect=4)
    assert listed.shown.startswith("Ministry of Justice: 3 recommendations")
    before = len(ana.inbox)
    slack.standin.user_clicks_home(ANA, "Open")
    (detail,) = (await slack.standin.wait_for_messages(ANA, before + 1))[before:]
    assert detail.shown.startswith(f"Recommendation #{world['mine_all'][0]} ")
    await slack.standin.settle()
    assert asked == []
    assert len(slack.standin.homes[ANA]) == published


async def test_every_turn_that_changes_what_the_home_shows_republishes_it(
    socket_only: SlackBot, world: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Home lists what waits for an answer, in the person's language: an
    update saved in the DM and a language chosen there each republish it,
    showing the change; the turns between them that only read do not."""
    slack = socket_only
    ana = SlackPerson(slack.standin, ANA)
    first, second = world["mine_all"][0], world["mine_all"][1]
    home = await opened_home(slack, ANA)
    assert f"#{first} " in shown(home)
    asked = refreshes(slack, monkeypatch)
    published = len(slack.standin.homes[ANA])
    (_, *items) = await ana.says("mine", expect=4)
    assert asked == []
    (saved,) = await ana.fills_form("Give an update", {"status": "in progress", "done": "Bill drafted."}, on=items[0])
    assert saved.shown.startswith(f"Saved: #{first} is “in progress”.")
    assert asked == [ANA]
    after = await home_where(slack, ANA, lambda view: f"#{first} " not in shown(view), published)
    assert f"#{second} " in shown(after) and "Waiting for your institution's update" in shown(after)
    published = len(slack.standin.homes[ANA])
    await ana.says("language")
    assert asked == [ANA], "the picker only reads"
    (done,) = await ana.clicks("Français")
    assert done.shown == "Désormais, je vous écrirai en français."
    assert asked == [ANA, ANA]
    french = await home_where(slack, ANA, lambda view: "En attente de la mise à jour de votre institution" in shown(view), published)
    assert f"n° {second} " in shown(french) and ("Ouvrir", f"rec:{second}") in buttons(french)

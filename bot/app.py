"""The composition root: one process with the engine, the configured chat
adapters, the web server when a mode needs it, and the scheduler.

Everything the bot depends on is built here and handed down: the database
sessions, the clock, the transports. Tests build the same pieces against
the stand-ins; nothing below this module reads the configuration.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Config
from bot.evidence_fetch import Downloader, EvidenceFetcher
from bot.file_fetch import PlatformFileFetcher
from bot.gateway import PlatformRouter
from bot.reports.build import ReportBuilder
from bot.outbox_dispatch import OutboxDispatcher
# Re-exported: where the commands and tests have always found it.
from bot.policy import reminder_policy
from bot.supervision import Loops, guarded, keep_trying
from bot.public_tracker import PublicTracker
from bot.web import WebServer
from handlers.assignment_notices import NoticeService
from handlers.chat_imports import ImportSettings
from handlers.engine import ConversationEngine
from handlers.invite_links import InviteLinks
from handlers.evidence import EvidenceSettings
from handlers.reminders.service import ReminderService
from handlers.secretariat import commands_for
from storage.enums import Platform
from storage.import_staging import ImportStaging
from storage.secretariat import telegram_chat_languages, telegram_chats
from storage.types import utcnow

if TYPE_CHECKING:
    # Imported where configured: each platform's SDK is some 15 MiB resident
    # (slack_bolt and slack_sdk, python-telegram-bot), for nothing in a
    # process that does not talk to it.
    from bot.transports.slack import SlackTransport
    from bot.transports.telegram import TelegramTransport

log = logging.getLogger(__name__)

# How often abandoned dialogues are looked for, and reminders planned.
SWEEP_SECONDS = 60
PLAN_SECONDS = 60
# While the outbox sends a backlog (a fan-out), the planner's tick gives way
# for this long at most: half the planner's lead (ReminderService.lead, ten
# minutes), so nobody's day is planned late. What it would plan meanwhile
# queues behind the backlog anyway (the outbox sends the longest due
# first), and with 10,000 people a tick held the sends up for seconds each
# minute on a busy machine: the processor time the sends needed.
PLAN_GIVES_WAY = timedelta(minutes=5)
SCHEDULED = ("reminder planner", "dialogue sweep", "delivery records sweep", "import staging sweep")
# How long a clean stop waits for a scheduled job under way.
JOB_FINISH_SECONDS = 30.0
# The longest wait between tries at Slack's connection.
SLACK_LONGEST_WAIT = 15.0
# How long a stop waits for a platform's connection attempt under way.
PLATFORM_STOP_SECONDS = 5.0
# A health check that waits longer than this on the database calls it down.
HEALTH_DB_TIMEOUT = 5.0


def slack_spool_path(evidence_store: Path) -> Path:
    """Where Slack interactions wait while the database is out of reach:
    local disk beside the evidence store (bot.transports.slack_spool)."""
    return evidence_store.with_name(evidence_store.name + "-spool") / "slack.jsonl"


class NothingToRun(Exception):
    """No chat platform is configured."""


class BotApp:
    def __init__(
        self,
        config: Config,
        sessions: async_sessionmaker[AsyncSession],
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.config = config
        self.sessions = sessions
        self.loops = Loops(clock)
        # Set when no configured platform can ever work (every token refused).
        self.failed = asyncio.Event()
        self.router = PlatformRouter()
        self.policy = reminder_policy(config)
        # Given the platforms' downloads once they are made, below.
        self.file_fetcher = PlatformFileFetcher({})
        timeout = timedelta(minutes=config.conversation.timeout_minutes)
        evidence_store = config.evidence.store_path(config.database.url)
        self.engine = ConversationEngine(
            sessions, self.router, clock, timeout=timeout, policy=self.policy,
            reports=ReportBuilder(sessions, clock, public_requires_validation=config.reports.public_requires_validation),
            evidence=EvidenceSettings(config.evidence.max_file_bytes, evidence_store),
            imports=ImportSettings(
                self.file_fetcher, ImportStaging(config.imports.staging_path(evidence_store)),
                limits=config.imports.limits, max_file_bytes=config.imports.max_file_bytes,
                default_timezone=config.schedule.timezone,
                # Kept past the dialogue's own timeout; the staging sweep removes it after.
                keep_for=2 * timeout,
            ),
            # Read at each invite: the username is known once Telegram has connected.
            invite_links=InviteLinks(lambda: self.telegram.username if self.telegram is not None else None),
        )
        self.telegram: TelegramTransport | None = None
        self.slack: SlackTransport | None = None
        tg, sl = config.telegram, config.slack
        if tg.token is not None:
            from bot.transports.telegram import TelegramTransport

            self.telegram = TelegramTransport(
                tg.token.get_secret_value(), self.engine.handle,
                base_url=tg.base_url, mode=tg.mode, webhook_url=tg.webhook_url,
                delivery_check_chat_id=tg.delivery_check_chat_id,
                secretariat_menus=self._secretariat_menus,
                secretariat_languages=self._secretariat_languages,
                health=self.loops.add("telegram", logging.getLogger("bot.transports.telegram")),
            )
            self.router.register(self.telegram)
        if sl.bot_token is not None:
            from bot.transports.slack import SlackTransport

            self.slack = SlackTransport(
                sl.bot_token.get_secret_value(), self.engine.handle,
                app_token=sl.app_token.get_secret_value() if sl.app_token else None,
                signing_secret=sl.signing_secret.get_secret_value() if sl.signing_secret else None,
                api_url=sl.api_url, mode=sl.mode, clock=clock, sessions=sessions, home_policy=self.policy,
                spool=slack_spool_path(evidence_store),
            )
            self.router.register(self.slack)
        if self.telegram is None and self.slack is None:
            raise NothingToRun(
                "no chat platform is configured: set NMRF_TELEGRAM_TOKEN, or NMRF_SLACK_BOT_TOKEN and "
                "NMRF_SLACK_APP_TOKEN (see config.example.toml)"
            )
        needs_web = (tg.token is not None and tg.mode == "webhook") or (sl.bot_token is not None and sl.mode == "http")
        self.web: WebServer | None = None
        self.public: PublicTracker | None = None
        if config.public.enabled:
            self.public = PublicTracker(
                sessions, languages=config.public.languages, timezone=config.schedule.timezone,
                validated_only=config.reports.public_requires_validation, clock=clock,
            )
        if needs_web or config.http.health or self.public is not None:
            self.web = WebServer(
                telegram=self.telegram if tg.mode == "webhook" else None,
                slack_handler=self.slack.handle_http if self.slack is not None and sl.mode == "http" else None,
                health=self.health,
                public=self.public,
            )
        self.reminders = ReminderService(sessions, self.policy, clock)
        self.notices = NoticeService(sessions, self.policy, clock)
        self.dispatcher = OutboxDispatcher(
            sessions, self.router, clock, self.policy.working_time, on_unreachable=self.reminders.notify_unreachable
        )
        downloaders: dict[Platform, Downloader] = {}
        if self.telegram is not None:
            downloaders[Platform.TELEGRAM] = self.telegram
        if self.slack is not None:
            downloaders[Platform.SLACK] = self.slack
        self.file_fetcher.downloaders.update(downloaders)
        self.evidence = EvidenceFetcher(
            sessions, self.router, clock, config.evidence.store_path(config.database.url),
            config.evidence.max_file_bytes, downloaders,
        )
        self._stop = asyncio.Event()
        self._clock = clock
        # When the scheduler's tick last planned (see _scheduled_plan).
        self._planned_at: datetime | None = None
        self._dispatch_task: asyncio.Task[None] | None = None
        self._evidence_task: asyncio.Task[None] | None = None
        self._platform_tasks: list[asyncio.Task[None]] = []
        if self.slack is not None:
            slack_health = self.loops.add("slack", logging.getLogger("bot.transports.slack"))
            slack_health.expected = self.slack.unavailable
            # Events wait at Slack meanwhile; a click or a command fails: tried often.
            slack_health.longest_wait = SLACK_LONGEST_WAIT
        self.loops.add("outbox", logging.getLogger("bot.outbox_dispatch"))
        self.loops.add("evidence", logging.getLogger("bot.evidence_fetch"))
        # Each job records how it went; a failed one runs again at its next interval.
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self.scheduler.add_job(
            guarded(self.loops.add("reminder planner", log), self._scheduled_plan), "interval", seconds=PLAN_SECONDS,
            id="plan_reminders", max_instances=1, coalesce=True, next_run_time=clock(),
        )
        self.scheduler.add_job(
            guarded(self.loops.add("dialogue sweep", log), self.engine.expire_abandoned), "interval", seconds=SWEEP_SECONDS,
            id="expire_abandoned_dialogues", max_instances=1, coalesce=True,
        )
        self.scheduler.add_job(
            guarded(self.loops.add("delivery records sweep", log), self.engine.forget_old_deliveries), "interval", hours=24,
            id="forget_old_deliveries", max_instances=1, coalesce=True,
        )
        self.scheduler.add_job(
            guarded(self.loops.add("import staging sweep", log), self.engine.sweep_imports), "interval", minutes=10,
            id="sweep_import_staging", max_instances=1, coalesce=True,
        )

    async def _secretariat_menus(self) -> dict[int, frozenset[str]]:
        """The Telegram menu of each secretariat user: the commands their role may give."""
        async with self.sessions() as session:
            chats = await telegram_chats(session)
        return {chat_id: commands_for(role) for chat_id, role in chats.items()}

    async def _secretariat_languages(self) -> dict[int, str]:
        """Each secretariat user's Telegram chat and their language: their menu is described in it."""
        async with self.sessions() as session:
            return await telegram_chat_languages(session)

    async def _scheduled_plan(self) -> int:
        """The scheduler's tick: plan, unless the outbox is sending a backlog
        and the last plan is less than PLAN_GIVES_WAY old."""
        now = self._clock()
        if self.dispatcher.sending_backlog and self._planned_at is not None and now - self._planned_at < PLAN_GIVES_WAY:
            return 0
        self._planned_at = now
        return await self.plan()

    async def plan(self) -> int:
        """The planner's tick: the reminders, then the assignment notices and
        hand-overs, on the same clock and at the same pace."""
        return await self.reminders.tick() + await self.notices.tick()

    async def start(self) -> None:
        """Serve: the web server, then each platform, the scheduler and the
        outbox. A platform out of reach is tried again in the background
        while everything else works; one that refuses its token is named in
        one line and left off."""
        # The web server first: Telegram checks the webhook URL when it is set.
        if self.web is not None:
            await self.web.start(self.config.http.host, self.config.http.port)
        loop = asyncio.get_running_loop()
        if self.telegram is not None:
            self._platform_tasks.append(loop.create_task(self._connect_telegram(self.telegram)))
        if self.slack is not None:
            self._platform_tasks.append(loop.create_task(self._connect_slack(self.slack)))
        self.scheduler.start()
        for name in SCHEDULED:
            self.loops.loops[name].running = True
        self._dispatch_task = loop.create_task(self.dispatcher.run_forever(self._stop, health=self.loops.loops["outbox"]))
        self._evidence_task = loop.create_task(self.evidence.run_forever(self._stop, health=self.loops.loops["evidence"]))

    async def _connect_telegram(self, telegram: TelegramTransport) -> None:
        if await keep_trying(telegram.health, self._stop, telegram.connect, fatal=telegram.rejection):
            telegram.health.running = True
            telegram.begin_polling()
        self._check_platforms()

    async def _connect_slack(self, slack: SlackTransport) -> None:
        health = self.loops.loops["slack"]
        if await keep_trying(health, self._stop, slack.start, fatal=slack.rejection):
            health.running = True
            await slack.watch(self._stop, health)
        self._check_platforms()

    def _check_platforms(self) -> None:
        platforms = [h for name, h in self.loops.loops.items() if name in ("telegram", "slack")]
        if platforms and all(h.given_up is not None for h in platforms):
            self.failed.set()

    def failure(self) -> str:
        """Why no platform can run, one line per platform."""
        return "; ".join(f"{name}: {h.given_up}" for name, h in self.loops.loops.items() if h.given_up)

    async def stop(self) -> None:
        """Stop planning, let the message being sent finish (a half-sent
        reminder would be resent after the restart), then stop the adapters."""
        if self.scheduler.running:
            # A planning run under way finishes (cut off, it would only be
            # redone, but its cancellation would end in a traceback).
            self.scheduler.pause()
            for _ in range(int(JOB_FINISH_SECONDS / 0.05)):
                if not any(self.loops.loops[name].busy for name in SCHEDULED):
                    break
                await asyncio.sleep(0.05)
            self.scheduler.shutdown(wait=False)
        self._stop.set()
        if self._dispatch_task is not None:
            await self._dispatch_task
        if self._evidence_task is not None:
            # A download under way may finish; one that takes longer is cut
            # off, and its file tried again once its lease has run out.
            try:
                await asyncio.wait_for(self._evidence_task, JOB_FINISH_SECONDS)
            except asyncio.TimeoutError:
                log.warning("evidence: a download was cut off by the stop; it is tried again at the next start")
        # Each ends at the stop; one stuck in a connection attempt is cut off,
        # so that SIGTERM ends the process in every state.
        if self._platform_tasks:
            _, stuck = await asyncio.wait(self._platform_tasks, timeout=PLATFORM_STOP_SECONDS)
            for task in stuck:
                task.cancel()
            await asyncio.gather(*self._platform_tasks, return_exceptions=True)
        # A report being made for someone is finished and sent.
        await self.engine.drain()
        for transport in (self.telegram, self.slack):
            if transport is not None:
                await transport.stop()
        if self.web is not None:
            await self.web.stop()

    async def health(self) -> dict[str, Any]:
        """ok only while the database answers and every loop runs without failing."""
        report: dict[str, Any] = {"telegram": self.telegram is not None, "slack": self.slack is not None}
        try:
            async with self.sessions() as session:
                await asyncio.wait_for(session.execute(text("SELECT 1")), HEALTH_DB_TIMEOUT)
            report["database"] = "ok"
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            report["database"] = exc.__class__.__name__
        loops = self.loops.report()
        if not self.scheduler.running:
            for name in SCHEDULED:
                loops[name] = {"ok": False, "state": "not running"}
        report["loops"] = loops
        report["ok"] = report["database"] == "ok" and all(entry["ok"] for entry in loops.values())
        return report

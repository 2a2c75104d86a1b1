"""The conversation engine: one entry point for every message from any platform.

For each delivery, in one transaction: skip it if it was handled before,
find who wrote, resume their stored conversation state, route the message,
store the new state. Replies go out only after the transaction committed,
so nothing is said about an update that was not kept.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import tempfile
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.chat_port import (
    Button,
    ChatAddress,
    ChatGateway,
    DeliveryFailed,
    FileTooLarge,
    HandlingDeferred,
    IncomingMessage,
    OutgoingFile,
    OutgoingMessage,
    PressedMessage,
    RecipientUnreachable,
    command_words,
)
from handlers import action_updates, browse, buttons, group_items, hours, item_lists, refusals, requests, secretariat, snooze, status_update, validate
from handlers import indicator_values_chat, kept_replies
from handlers import pledges_chat
from handlers.buttons import Place, Pressed, Verdict
from handlers.chat_imports import ImportSettings
from handlers.evidence import EvidenceSettings
from handlers.invite_links import InviteLinks
from handlers.onboarding import propose_language, tell_former_accounts
from handlers.secretariat_users import secretariat_joined
from handlers.reminders.plan import Policy
from handlers.report_jobs import ReportAbandoned, ReportRetry, Sleep, pause, through_outages
from handlers.report_orders import ReportMaker, ReportOrder
from handlers.turn import SecretariatTurn, Turn, TurnJob
from messages import DEFAULT_LANGUAGE, LANGUAGE_NAMES, SUPPORTED_LANGUAGES, local_date, local_number, t
from storage.audit import acting_as, acts_as, chat_actor
from storage.conversations import (
    State,
    abandoned_dialogues,
    close_abandoned,
    first_delivery,
    focal_point_by_email,
    forget_old_deliveries,
    focal_point_for,
    link_identity,
    linked_elsewhere,
    mark_reachable,
    load_state,
    redeem_invite,
    save_state,
    secretariat_user_for,
    usable_invite,
)
from storage.database import is_unavailable, writing
from storage.secretariat_invites import redeem_secretariat_invite
from storage.enums import Platform
from storage.home_audience import changed_institutions, concerned_accounts, wrote_beyond_bookkeeping
from storage.models import FocalPoint, SecretariatUser, StatusUpdate

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
DEFAULT_TIMEOUT = timedelta(minutes=30)
# An edit of a pressed message is a courtesy: the reply does not wait longer for it.
SETTLE_TIMEOUT = 5.0
# Buttons that start something anew (a list, a dialogue) and so would drop
# the dialogue that is open: refused while one is.
_OPENERS = frozenset({"mine", "filter", "f", "upd", "same", "nca", "ncr", "nco", "fix", "addn", "adde", "req", indicator_values_chat.VERB}) | group_items.VERBS


class ConversationEngine:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        gateway: ChatGateway,
        clock: Clock,
        timeout: timedelta = DEFAULT_TIMEOUT,
        db_attempts: int = 8,
        policy: Policy | None = None,
        reports: ReportMaker | None = None,
        evidence: EvidenceSettings | None = None,
        imports: ImportSettings | None = None,
        invite_links: InviteLinks | None = None,
        report_retry: ReportRetry | None = None,
        report_sleep: Sleep = pause,
    ) -> None:
        self.sessions = sessions
        self.gateway = gateway
        self.clock = clock
        self.timeout = timeout
        self.db_attempts = db_attempts
        # The reminder rules, for what "overdue" means in the secretariat's summaries.
        self.policy = policy or Policy()
        # Makes the reports the secretariat orders in chat (bot.reports.build).
        self.reports = reports
        # A report job waits out a database outage (handlers.report_jobs), until the process stops.
        self.report_retry = report_retry or ReportRetry()
        self._report_sleep = report_sleep
        self._stopping = asyncio.Event()
        # [evidence]: files over its limit are refused when sent; /evidence reads its store.
        self.evidence = evidence or EvidenceSettings()
        # Imports in chat: where files wait for their button, how they are fetched; None refuses them.
        self.imports = imports
        # The bot's Telegram username for the invites an admin makes in chat.
        self.invite_links = invite_links or InviteLinks()
        self._jobs: set[asyncio.Task[None]] = set()
        # While the database is out of reach: who was told their message waits
        # (once each), and whether the outage was logged (once).
        self._told_waiting: set[ChatAddress] = set()
        self._outage: str | None = None
        # Per delivery being handled: the other people whose Home its turn changed.
        self._concerned: dict[str, list[ChatAddress]] = {}
        # The deliveries being handled whose turn wrote more than its own
        # bookkeeping: the writer's Home may show something new.
        self._changed: set[str] = set()

    async def handle(self, message: IncomingMessage) -> None:
        """Handle one delivery. A database that is busy or briefly gone (SQLite
        locked by a writer for longer than its busy timeout, a PostgreSQL
        failover, the server unreachable) is retried, for about 15 seconds beyond
        the database's own waits: each attempt is one whole transaction, so a
        retry repeats nothing. If it is still out of reach, HandlingDeferred is
        raised with nothing kept: the transport leaves the delivery unconfirmed,
        the platform delivers it again, and it is answered then. The person is
        told once per outage that their message waits."""
        orders: list[ReportOrder | TurnJob] = []
        choice: str | None = None
        for attempt in range(1, self.db_attempts + 1):
            # What an attempt rolled back changed nothing.
            self._changed.discard(message.delivery_id)
            try:
                with acting_as(self.actor_of(message.address)):
                    replies, orders, choice = await self._handle_once(message)
                break
            except Exception as exc:
                if not is_unavailable(exc):
                    # A fault in the work itself: delivered again, it would fail
                    # again and hold up everything after it. The transaction was
                    # rolled back; the person hears so, the log has the details.
                    log.exception("delivery %s:%s failed", message.address.platform.value, message.delivery_id)
                    replies = [OutgoingMessage("error.internal", t("error.internal", DEFAULT_LANGUAGE))]
                    break
                if attempt == self.db_attempts:
                    # No longer a lock waited out: an outage, said once.
                    self._note_outage(exc)
                    self._concerned.pop(message.delivery_id, None)
                    self._changed.discard(message.delivery_id)
                    await self._tell_waiting(message.address)
                    raise HandlingDeferred(f"delivery {message.delivery_id}: the database is out of reach ({exc.__class__.__name__})") from exc
                log.debug("delivery %s: database busy (attempt %s): %s; retrying", message.delivery_id, attempt, exc.__class__.__name__)
                # Jittered, so writers that collided do not collide again in step.
                await asyncio.sleep(min(0.1 * 2**attempt, 3.0) * random.uniform(0.5, 1.5))
        if self._outage is not None:
            log.warning("conversations: the database is back; deliveries are handled again")
            self._outage = None
            self._told_waiting.clear()
        if message.delivery_id in self._changed or orders:
            # A turn that wrote (an answer, a language, an account linked) may
            # have changed what their Home shows; one that only read (help, a
            # list, an item opened) did not, and their Home stays as it was.
            self._changed.discard(message.delivery_id)
            self._refresh_home(message.address)
        me = (message.address.platform, message.address.user_id)
        for other in self._concerned.pop(message.delivery_id, ()):
            if (other.platform, other.user_id) != me:
                self._refresh_home(other)
        if choice is not None and message.pressed is not None:
            # Before the replies: the question shows its answer before the next one arrives.
            await self._settle(message.address, message.pressed, choice)
        try:
            # The turn committed: a reply the platform will not take now waits in the outbox.
            await kept_replies.send_or_keep(self.gateway.send, self.sessions, self.clock, message.address, f"delivery:{message.delivery_id}", replies)
        except RecipientUnreachable as exc:
            log.warning("reply to %s:%s not delivered: %s", message.address.platform.value, message.address.user_id, exc)
        for order in orders:
            # Made in the background: a large matrix (or import) takes a while, and
            # the person (and everyone else) can go on talking to the bot meanwhile.
            work = self._deliver_report(message.address, order) if isinstance(order, ReportOrder) else order.run(self.sessions, self.gateway)
            job = asyncio.get_running_loop().create_task(work)
            self._jobs.add(job)
            job.add_done_callback(self._jobs.discard)

    async def _note_concerned(self, session: AsyncSession, message: IncomingMessage, now: datetime) -> None:
        """Whose Home the turn's answers change besides the writer's: their
        institution's other focal points and the secretariat, refreshed once
        the turn has committed. Only where a platform keeps Homes."""
        if getattr(self.gateway, "refresh_home", None) is None:
            return
        changed = changed_institutions(session)
        if not changed:
            return
        self._concerned[message.delivery_id] = [
            ChatAddress(platform, user_id, chat_id or user_id, workspace_id)
            for platform, workspace_id, user_id, chat_id in await concerned_accounts(session, changed, now.date())
        ]

    def _refresh_home(self, address: ChatAddress) -> None:
        """The person's Home rebuilt, where the platform has one (a
        HomeRefresher): it returns at once, and a failure is the platform's
        to log and retry, never the turn's."""
        refresh = getattr(self.gateway, "refresh_home", None)
        if refresh is None:
            return
        try:
            refresh(address)
        except Exception as exc:  # noqa: BLE001 - a courtesy: the turn is kept and answered all the same
            log.warning("home of %s:%s not refreshed: %s", address.platform.value, address.user_id, exc.__class__.__name__)

    async def _settle(self, address: ChatAddress, pressed: PressedMessage, choice: str) -> None:
        """Edit the message a step's button was pressed on to show the choice
        and drop its buttons. Best effort: an edit that fails (the message too
        old, already edited) or takes too long is logged and forgotten; what
        was said and kept stands, and the reply still goes."""
        # A KeyboardSettler; a gateway that cannot edit keeps the buttons.
        settle = getattr(self.gateway, "settle", None)
        if settle is None:
            return
        try:
            await asyncio.wait_for(settle(address, pressed, choice), SETTLE_TIMEOUT)
        except Exception as exc:  # noqa: BLE001 - a courtesy: nothing of the turn depends on it
            log.debug("message %s of %s:%s not settled: %s", pressed.message_id, address.platform.value, address.user_id, exc.__class__.__name__)

    def _note_outage(self, exc: BaseException) -> None:
        if self._outage is None:
            self._outage = exc.__class__.__name__
            log.warning("conversations: the database is unavailable (%s); deliveries wait unconfirmed and are handled when it is back", self._outage)

    async def _tell_waiting(self, address: ChatAddress) -> None:
        # Their language is in the database that cannot be read: the default.
        if address in self._told_waiting:
            return
        self._told_waiting.add(address)
        key = "error.deferred"
        try:
            await self.gateway.send(address, OutgoingMessage(key, t(key, DEFAULT_LANGUAGE)))
        except Exception as exc:  # noqa: BLE001 - a courtesy; the delivery itself is kept by the platform
            log.info("could not tell %s:%s that their message waits: %s", address.platform.value, address.user_id, exc)

    async def drain(self) -> None:
        """Wait for the reports being made to be sent (at shutdown, in tests).
        One waiting for the database tries once more, then gives up (the
        person is told): a stop is not held up by an outage."""
        self._stopping.set()
        try:
            while self._jobs:
                await asyncio.gather(*list(self._jobs), return_exceptions=True)
        finally:
            self._stopping.clear()

    async def _deliver_report(self, address: ChatAddress, order: ReportOrder) -> None:
        lang = order.language

        async def tell(key: str, **values: object) -> None:
            note = OutgoingMessage(key, t(key, lang, **values), language=lang)
            try:
                await kept_replies.send_or_keep(self.gateway.send, self.sessions, self.clock, address, f"report:{uuid.uuid4().hex}:{key}", [note])
            except RecipientUnreachable as exc:
                log.warning("report note to %s:%s not delivered: %s", address.platform.value, address.user_id, exc)

        if self.reports is None:
            await tell("report.failed")
            return
        with tempfile.TemporaryDirectory(prefix="nmrf-report-") as directory:
            make, what = self.reports, f"report {order.kind} for {address.platform.value}:{address.user_id}"
            try:
                made = await through_outages(lambda: make(order, Path(directory)), what, self._stopping, self.report_retry, self._report_sleep)
            except ReportAbandoned:
                await tell("report.failed")
                return
            except Exception:  # noqa: BLE001 - whatever broke, the person must hear of it
                log.exception("%s failed", what)
                await tell("report.failed")
                return
            day = local_date((order.as_of or self.clock()).astimezone(ZoneInfo(order.timezone)).date(), lang)
            kind = t(f"report.kind_{order.kind}", lang)
            key = "report.ready_draft" if order.kind == "draft" else "report.ready"
            text = t(key, lang, kind=kind, date=day, count=made.count, missing=local_number(made.without_input, lang))
            document = OutgoingFile(str(made.path), made.path.name, made.mime_type)
            try:
                await self.gateway.send(address, OutgoingMessage(key, text, language=lang, document=document))
            except FileTooLarge as exc:
                await tell(
                    "report.too_large", size=local_number(round(exc.size_bytes / 2**20, 1), lang),
                    limit=local_number(exc.limit_bytes // 2**20, lang), kind=kind,
                )
            except (RecipientUnreachable, DeliveryFailed) as exc:
                log.warning("report to %s:%s not delivered: %s", address.platform.value, address.user_id, exc)

    async def _handle_once(self, message: IncomingMessage) -> tuple[list[OutgoingMessage], list[ReportOrder | TurnJob], str | None]:
        """The replies, the reports ordered and the work left for after the
        commit (TurnJob), and the line the pressed message is to show
        instead of its buttons (None: keep them)."""
        async with writing(self.sessions) as session:
            outcome = await self._turn(session, message)
            if getattr(self.gateway, "refresh_home", None) is not None:
                # Whatever is still pending would be flushed by the commit, after this look.
                await session.flush()
                if wrote_beyond_bookkeeping(session):
                    self._changed.add(message.delivery_id)
            return outcome

    async def _turn(self, session: AsyncSession, message: IncomingMessage) -> tuple[list[OutgoingMessage], list[ReportOrder | TurnJob], str | None]:
        address = message.address
        now = self.clock()
        if not await first_delivery(session, address.platform, message.delivery_id, now):
            log.info("redelivery %s:%s ignored", address.platform.value, message.delivery_id)
            return [], [], None
        person = await self.identify(session, address, now)
        if isinstance(person, SecretariatUser):
            return await self._secretariat(session, message, person, now)
        if person is None:
            return await self._stranger(session, message, now), [], None
        focal_point = person
        # Whoever writes can be written to again.
        await mark_reachable(session, address.platform, address.workspace_id, address.user_id)
        state = await load_state(session, address.platform, address.workspace_id, address.user_id)
        expired_rec = None
        if self._stale(state, now):
            expired_rec = state.data.get("rec") if state.name.startswith("update.") else None
            state = State()
        turn = Turn(message, session, state, now, focal_point=focal_point, expired_rec=expired_rec, evidence=self.evidence)
        with acting_as(self.actor_of(address, focal_point)):
            await self._route(turn)
            # Now, not at the commit: the audit reads the actor as each flush runs.
            await session.flush()
        await save_state(session, address.platform, address.workspace_id, address.user_id, turn.state, now)
        await self._note_concerned(session, message, now)
        return turn.replies, [], turn.settled_choice()

    async def _secretariat(
        self, session: AsyncSession, message: IncomingMessage, user: SecretariatUser, now: datetime
    ) -> tuple[list[OutgoingMessage], list[ReportOrder | TurnJob], str | None]:
        address = message.address
        state = await load_state(session, address.platform, address.workspace_id, address.user_id)
        if self._stale(state, now):
            state = State()
        turn = SecretariatTurn(message, session, state, now, user=user, evidence=self.evidence, policy=self.policy,
                               imports=self.imports, invite_links=self.invite_links)
        with acting_as(self.actor_of(address, user)):
            await secretariat.handle(turn)
            await session.flush()
        await save_state(session, address.platform, address.workspace_id, address.user_id, turn.state, now)
        return turn.replies, [*turn.orders, *turn.jobs], turn.settled_choice()

    def actor_of(self, address: ChatAddress, person: FocalPoint | SecretariatUser | None = None) -> str:
        """Who the audit log says acted: the account, and whose it is once known."""
        return chat_actor(
            address.platform.value, address.workspace_id, address.user_id,
            focal_point_id=person.id if isinstance(person, FocalPoint) else None,
            secretariat_user_id=person.id if isinstance(person, SecretariatUser) else None,
        )

    async def identify(self, session: AsyncSession, address: ChatAddress, now: datetime) -> FocalPoint | SecretariatUser | None:
        """Who wrote: the focal point or secretariat user behind a chat account, or nobody known."""
        focal_point = await focal_point_for(session, address.platform, address.workspace_id, address.user_id, now.date())
        if focal_point is not None:
            return focal_point
        return await secretariat_user_for(session, address.platform, address.workspace_id, address.user_id)

    async def sweep_imports(self) -> int:
        """Remove the files sent for import whose dialogue timed out or was
        left (handlers.chat_imports); run periodically. How many were removed."""
        if self.imports is None:
            return 0
        return await asyncio.to_thread(self.imports.staging.sweep, self.clock(), self.imports.keep_for)

    @acts_as("system:deliveries")
    async def forget_old_deliveries(self) -> int:
        async with writing(self.sessions) as session:
            return await forget_old_deliveries(session, self.clock())

    def _stale(self, state: State, now: datetime) -> bool:
        return state.name != "idle" and state.updated_at is not None and now - state.updated_at > self.timeout

    @acts_as("system:dialogues")
    async def expire_abandoned(self) -> int:
        """Close the dialogues abandoned for longer than the timeout and tell
        each person, politely, that nothing was saved. Run periodically; with
        several bot processes, each dialogue is closed and announced once."""
        now = self.clock()
        idle_since = now - self.timeout
        async with self.sessions() as session:
            abandoned = await abandoned_dialogues(session, idle_since)
        told = 0
        for dialogue in abandoned:
            async with writing(self.sessions) as session:
                if not await close_abandoned(session, dialogue.state_id, idle_since, now):
                    continue
            # A courtesy, sent after the close committed: a crash in between
            # loses the note, never a status update.
            address = ChatAddress(dialogue.platform, dialogue.user_id, dialogue.chat_id, dialogue.workspace_id)
            key = "update.timed_out"
            text = t(key, dialogue.language, id=dialogue.recommendation_id, **command_words(dialogue.platform))
            try:
                note = OutgoingMessage(key, text, language=dialogue.language)
                await kept_replies.send_or_keep(self.gateway.send, self.sessions, self.clock, address, f"timeout:{dialogue.state_id}:{now.isoformat()}", [note])
            except RecipientUnreachable as exc:
                # One person out of reach must not keep the others from their note.
                log.warning("timeout note to %s:%s not delivered: %s", dialogue.platform.value, dialogue.user_id, exc)
                continue
            told += 1
        return told

    async def _stranger(self, session: AsyncSession, message: IncomingMessage, now: datetime) -> list[OutgoingMessage]:
        """An unknown account: an invite code links it; anything else is refused
        and nothing about the person is kept beyond a log line."""
        address = message.address
        text = (message.text or "").strip()
        code = text.removeprefix("/start").strip() if text.startswith("/start") else ""
        if code:
            return await self._redeem(session, address, code, now, message.locale)
        if message.email:
            focal_point = await focal_point_by_email(session, message.email, now.date())
            if focal_point is not None:
                if await linked_elsewhere(session, focal_point.id, address.platform, address.workspace_id, address.user_id):
                    # An e-mail proves an address, not who holds the account:
                    # only the secretariat's new invite moves an access.
                    log.info("refused %s user %s: focal point %s is linked from another account", address.platform.value, address.user_id, focal_point.id)
                    return [OutgoingMessage("onboarding.already_linked", t("onboarding.already_linked", DEFAULT_LANGUAGE))]
                with acting_as(self.actor_of(address, focal_point)):
                    await link_identity(
                        session, focal_point.id, address.platform, address.workspace_id, address.user_id, address.chat_id, now=now
                    )
                return [welcome(focal_point, address.platform), *propose_language(focal_point, address.platform, message.locale)]
        log.info("refused unknown %s user %s", address.platform.value, address.user_id)
        return [OutgoingMessage("refuse.unknown_user", t("refuse.unknown_user", DEFAULT_LANGUAGE))]

    async def _redeem(
        self, session: AsyncSession, address: ChatAddress, code: str, now: datetime, locale: str | None = None,
    ) -> list[OutgoingMessage]:
        """``/start CODE``: the first account on a platform spends the code there;
        any other is refused, whether the code came second or was already
        spent by an e-mail match. A fresh invite moves the access, and the
        account it leaves is told."""
        found = await usable_invite(session, code, address.platform, now)
        if found is None:
            joined = await redeem_secretariat_invite(session, code, address.platform, address.workspace_id, address.user_id, address.chat_id, now)
            if joined is not None:
                log.info("secretariat user %s linked on %s to user %s", joined.id, address.platform.value, address.user_id)
                return secretariat_joined(joined, address.platform, locale)
        former = None
        if found is not None:
            _, focal_point = found
            with acting_as(self.actor_of(address, focal_point)):
                former = await redeem_invite(session, found[0], address.platform, address.workspace_id, address.user_id, address.chat_id, now)
                if former is not None:
                    await tell_former_accounts(session, focal_point, former, self.policy, now)
        if found is None or former is None:
            log.info("invalid invite code from %s user %s", address.platform.value, address.user_id)
            return [OutgoingMessage("onboarding.bad_code", t("onboarding.bad_code", DEFAULT_LANGUAGE))]
        if former:
            log.info("focal point %s moved on %s from %s account(s) to user %s", focal_point.id, address.platform.value, len(former), address.user_id)
        return [welcome(focal_point, address.platform), *propose_language(focal_point, address.platform, locale)]

    async def _route(self, turn: Turn) -> None:
        message = turn.message
        action = message.action
        text = (message.text or "").strip()
        command = text.split()[0].lower() if text.startswith("/") else ""
        if command == "/cancel":
            turn.reset()
            turn.say("update.cancelled")
        elif command in ("/help", "/start"):
            turn.say(f"help.{message.address.platform.value}")
        elif command == "/mine":
            turn.reset()
            await browse.show_mine(turn)
        elif command == "/filter":
            await browse.show_filters(turn)
        elif command == "/snooze":
            await snooze.snooze(turn, text.partition(" ")[2])
        elif command == "/hours":
            await hours.hours(turn, text.partition(" ")[2], self.policy)
        elif command == "/actions":
            # Before the secretariat's commands: a focal point has an /actions of their own.
            turn.reset()
            await action_updates.show_actions(turn)
        elif command == "/pledges":
            # As /actions: a focal point has a /pledges of their own.
            turn.reset()
            await pledges_chat.show_round(turn)
        elif command in secretariat.COMMANDS:
            turn.say("secretariat.only")
        elif command == "/validate":
            turn.reset()
            await validate.show_pending(turn)
        elif command == "/language":
            turn.say(
                "language.choose",
                tuple((Button(LANGUAGE_NAMES[lang], f"lang:{lang}"),) for lang in SUPPORTED_LANGUAGES),
            )
        elif action and message.form is not None:
            await self._on_form(turn, action, message.form)
        elif action:
            await self._on_action(turn, action)
        elif message.files:
            if not await status_update.on_files(turn):
                self._not_understood(turn)
        elif text and not command:
            if not (
                await validate.on_text(turn, text, self.policy)
                or await requests.on_text(turn, text)
                or await indicator_values_chat.on_text(turn, text)
                or await pledges_chat.on_text(turn, text)
                or await status_update.on_text(turn, text)
                or await action_updates.on_text(turn, text)
            ):
                self._not_understood(turn)
        else:
            turn.say("unknown.command")

    async def _on_form(self, turn: Turn, action: str, form: dict[str, str]) -> None:
        """A form submitted (Slack's update modal): the Update button's action with every field."""
        verb, _, argument = action.partition(":")
        parts = argument.split(":")
        if verb == "gupd" and 1 <= len(parts) <= 2 and all(p.isdigit() for p in parts):
            # gupd:G, or gupd:G:REQUEST from a request's list (checked as the button is, handlers.group_items).
            group, asked = int(parts[0]), int(parts[1]) if len(parts) == 2 else None
            if asked is not None and not await group_items.asks_about_group(turn, group, asked):
                turn.say("request.not_for_you")
                return
            turn.reset()
            await status_update.on_group_form(turn, group, form, request=asked)
            return
        if verb == "xupd" and argument.isdigit():
            # An action's form (handlers.action_updates.FORM).
            turn.reset()
            await action_updates.on_form(turn, int(argument), form)
            return
        if verb != "upd" or not all(p.isdigit() for p in parts) or len(parts) > 2:
            self._not_understood(turn)
            return
        rec, request = int(parts[0]), int(parts[1]) if len(parts) == 2 else None
        if request is not None and not await requests.asks_about(turn, request, rec):
            turn.say("request.not_for_you")
            return
        turn.reset()
        await status_update.on_form(turn, rec, form, request=request)

    @staticmethod
    def _not_understood(turn: Turn) -> None:
        # An answer to a question asked too long ago: say why it is not taken.
        if turn.expired_rec is not None:
            turn.say("update.timed_out", id=turn.expired_rec)
        else:
            turn.say("unknown.command")

    async def _on_action(self, turn: Turn, action: str) -> None:
        pressed = buttons.read(action)
        if pressed.place is not None:
            await self._in_dialogue(turn, pressed)
            return
        if pressed.unbound:
            refusals.refuse_unbound(turn)
            return
        verb, _, argument = action.partition(":")
        opens = verb in _OPENERS or (verb == "val" and argument.startswith("ret:"))
        if opens and buttons.in_progress(turn.state) is not None:
            refusals.refuse(turn, await self._opened_by(turn, verb, argument), Verdict.OTHER)
            return
        if verb == "lang" and argument in SUPPORTED_LANGUAGES:
            turn.focal_point.language = argument
            turn.say("language.set")
        elif verb == "mine" and argument.isdigit():
            await browse.show_mine(turn, int(argument))
        elif verb == "filter":
            await browse.show_filters(turn)
        elif verb == "f":
            await browse.apply_filter(turn, argument)
        elif verb == "rec" and argument.isdigit():
            await browse.open_recommendation(turn, int(argument))
        elif verb == "upd" and argument.isdigit():
            await status_update.start(turn, int(argument))
        elif verb == "upd" and re.fullmatch(r"\d+:\d+", argument):
            # From a request's list: the update answers that request.
            rec, request = (int(part) for part in argument.split(":"))
            if await requests.asks_about(turn, request, rec):
                await status_update.start(turn, rec, request=request)
            else:
                turn.say("request.not_for_you")
        elif verb == "same" and argument.isdigit():
            turn.reset()
            await status_update.no_change(turn, int(argument))
        elif verb == "same" and re.fullmatch(r"\d+:\d+", argument):
            rec, request = (int(part) for part in argument.split(":"))
            turn.reset()
            if await requests.asks_about(turn, request, rec):
                await status_update.no_change(turn, rec, request=request)
            else:
                turn.say("request.not_for_you")
        elif verb == "nca" and (ids := item_lists.decode(argument)) is not None:
            turn.reset()
            await status_update.no_change_on_all(turn, ids)
        elif verb == "nco" and argument:
            turn.reset()
            await status_update.no_change_on_message(turn, argument)
        elif verb == "ncr" and (found := re.fullmatch(r"(\d+):(.+)", argument)) and (ids := item_lists.decode(found[2])) is not None:
            turn.reset()
            request = int(found[1])
            await status_update.no_change_on_all(turn, [r for r in ids if await requests.asks_about(turn, request, r)], request=request)
        elif verb == "addn" and argument.isdigit():
            await status_update.add_next_step(turn, int(argument))
        elif verb == "adde" and argument.isdigit():
            await status_update.add_evidence(turn, int(argument))
        elif verb == "val":
            await validate.on_action(turn, argument)
        elif verb == "req" and argument.isdigit():
            await requests.open_request(turn, int(argument))
        elif verb == "snooze" and argument.isdigit():
            await snooze.snooze(turn, argument)
        elif verb == "fix" and argument.isdigit():
            await status_update.start_correction(turn, int(argument))
        elif verb in group_items.VERBS and await group_items.on_action(turn, verb, argument):
            pass
        elif verb in action_updates.VERBS and await action_updates.on_action(turn, verb, argument):
            pass
        elif verb in pledges_chat.VERBS and await pledges_chat.on_action(turn, verb, argument):
            pass
        elif verb == indicator_values_chat.VERB:
            await indicator_values_chat.open_request_button(turn, argument)
        else:
            self._not_understood(turn)

    async def _in_dialogue(self, turn: Turn, pressed: Pressed) -> None:
        """A dialogue's button: taken only by the very question it was sent with."""
        sent = pressed.place
        assert sent is not None
        verdict = buttons.verdict(turn.state, sent)
        if verdict is Verdict.MATCH:
            if pressed.action == "cancel":
                turn.reset()
                turn.say("update.cancelled")
            elif not (await indicator_values_chat.on_action(turn, pressed.action) or await status_update.on_action(turn, pressed.action)
                         or await action_updates.on_dialogue_action(turn, pressed.action)
                         or await pledges_chat.on_dialogue_action(turn, pressed.action)):
                self._not_understood(turn)
            return
        if verdict is Verdict.CLOSED and sent.kind == "u" and sent.item == turn.expired_rec:
            turn.say("update.timed_out", id=sent.item)
        else:
            refusals.refuse(turn, sent, verdict)
        if verdict is Verdict.CLOSED and sent.kind == "u" and sent.item is not None:
            # Nothing is open, so showing the item again loses nothing.
            await browse.open_recommendation(turn, sent.item)

    @staticmethod
    async def _opened_by(turn: Turn, verb: str, argument: str) -> Place | None:
        """The item an opening button is for, to name it; None for a list."""
        first = argument.split(":")[-1] if verb == "val" else argument.partition(":")[0]
        if not first.isdigit():
            return None
        ident = int(first)
        if verb in ("fix", "val", "addn", "adde"):
            update = await turn.session.get(StatusUpdate, ident)
            if update is None:
                return None
            return Place("v" if verb == "val" else "u", update.recommendation_id, "", "")
        if verb == "req":
            return Place("q", ident, "", "")
        if verb in ("upd", "same"):
            return Place("u", ident, "", "")
        if verb in group_items.VERBS:
            return Place("g", ident, "", "")
        if verb == indicator_values_chat.VERB:
            return Place("n", indicator_values_chat.item_of(argument), "", "")
        return None


def welcome(focal_point: FocalPoint, platform: Platform) -> OutgoingMessage:
    """The first thing a newly linked focal point reads, in their language."""
    lang = focal_point.language
    key = "onboarding.welcome"
    return OutgoingMessage(
        key,
        t(
            key,
            lang,
            name=focal_point.name,
            role=t(f"role.{focal_point.role.value}", lang),
            institution=focal_point.institution.name,
            **command_words(platform),
        ),
        language=lang,
    )

"""Long polling that confirms an update only once it was handled.

Telegram forgets an update when a getUpdates call asks for an offset past
it. python-telegram-bot's Updater asks for the next offset as soon as it has
queued a batch, before the handlers ran, so a crash in between lost what a
person had just written. Here the offset passes an update only after the
engine handled it and committed (the engine's delivery records make the
redelivery after a crash exactly once), and an update the engine had to
defer (the database out of reach) stays unconfirmed with all after it, so
Telegram hands them over again, in order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from telegram import Bot, Update
from telegram.error import InvalidToken

from bot.supervision import LoopHealth, pause
from handlers.chat_port import HandlingDeferred

log = logging.getLogger(__name__)


class UpdatePoller:
    def __init__(
        self,
        bot: Bot,
        dispatch: Callable[[Update], Awaitable[None]],
        health: LoopHealth,
        *,
        timeout: int,
        allowed_updates: list[str],
    ) -> None:
        self.bot = bot
        self.dispatch = dispatch
        self.health = health
        self.timeout = timeout
        self.allowed_updates = allowed_updates
        # The first update not yet confirmed; None asks Telegram for its oldest.
        self.offset: int | None = None
        self._waiting = False

    async def run(self, stop: asyncio.Event) -> None:
        self.health.running = True
        try:
            while not stop.is_set():
                batch = await self._fetch(stop)
                for update in batch:
                    if stop.is_set():
                        return
                    if not await self._handle(update, stop):
                        break  # deferred: this one and the rest come again
                    self.offset = update.update_id + 1
        finally:
            self.health.running = False

    @property
    def waiting_for_updates(self) -> bool:
        """Inside a long poll, where cancelling loses nothing."""
        return self._waiting

    async def confirm(self) -> None:
        """Tell Telegram what was handled, at a clean stop, so the next start
        does not fetch it again (it would be recognised and skipped anyway)."""
        if self.offset is None:
            return
        try:
            await self.bot.get_updates(offset=self.offset, limit=1, timeout=0, allowed_updates=self.allowed_updates)
        except Exception as exc:  # noqa: BLE001 - the next start confirms them instead
            log.info("telegram: handled updates not confirmed at stop (%s); they are skipped at the next start", exc.__class__.__name__)

    async def _fetch(self, stop: asyncio.Event) -> tuple[Update, ...]:
        self._waiting = True
        # Right after a failure, a poll that returns at once: /healthz turns
        # green as soon as Telegram answers, not at the end of a long poll.
        timeout = 0 if self.health.failing_since is not None else self.timeout
        try:
            batch = await self.bot.get_updates(
                offset=self.offset, timeout=timeout, allowed_updates=self.allowed_updates,
            )
        except asyncio.CancelledError:
            raise
        except InvalidToken as exc:
            self.health.give_up(f"Telegram rejected the bot token ({exc.message}); fix telegram.token and restart")
            stop.set()
            return ()
        except Exception as exc:  # noqa: BLE001 - Telegram or the network down: wait and poll again
            await pause(stop, self.health.failed(exc))
            return ()
        finally:
            self._waiting = False
        self.health.succeeded()
        return batch

    async def _handle(self, update: Update, stop: asyncio.Event) -> bool:
        try:
            await self.dispatch(update)
        except HandlingDeferred as exc:
            await pause(stop, self.health.failed(exc))
            return False
        except Exception:  # noqa: BLE001 - a bug in one update must not hold up every later one
            log.exception("telegram: update %s could not be handled; skipped", update.update_id)
        return True

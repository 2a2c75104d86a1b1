"""The bot's own HTTP server, for what arrives over HTTP: Telegram webhook
calls, Slack Events API and interactivity requests, and /healthz.

Polling and Socket Mode need none of it; it runs when a webhook or HTTP mode
is configured, or when a health check is wanted.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

from bot.transports.telegram import TelegramTransport
from handlers.chat_port import HandlingDeferred

log = logging.getLogger(__name__)

TELEGRAM_PATH = "/telegram/webhook"
SLACK_PATH = "/slack/events"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@dataclass
class WebServer:
    telegram: TelegramTransport | None = None
    slack_handler: Callable[[web.Request], Awaitable[web.Response]] | None = None
    health: Callable[[], Awaitable[dict[str, object]]] | None = None
    _runner: web.AppRunner | None = field(default=None, init=False)
    port: int = field(default=0, init=False)

    def app(self) -> web.Application:
        app = web.Application(client_max_size=2 * 1024 * 1024)
        app.router.add_get("/healthz", self._healthz)
        if self.telegram is not None:
            app.router.add_post(TELEGRAM_PATH, self._telegram)
        if self.slack_handler is not None:
            app.router.add_post(SLACK_PATH, self.slack_handler)
        return app

    async def start(self, host: str, port: int) -> None:
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        log.info("http: listening on %s:%s", host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _healthz(self, _request: web.Request) -> web.Response:
        report = await self.health() if self.health else {"ok": True}
        return web.json_response(report, status=200 if report.get("ok") else 503)

    async def _telegram(self, request: web.Request) -> web.Response:
        assert self.telegram is not None
        if not self.telegram.accepts_webhook(request.headers.get(SECRET_HEADER)):
            # Nothing from the body is read or kept: it did not come from Telegram.
            log.warning("telegram webhook: call without the right secret token from %s refused", request.remote)
            return web.json_response({"ok": False, "description": "Forbidden"}, status=403)
        try:
            update = self.telegram.parse_webhook(await request.json())
        except (json.JSONDecodeError, UnicodeDecodeError):
            return web.json_response({"ok": False, "description": "Bad Request: not JSON"}, status=400)
        except ValueError as exc:
            log.warning("telegram webhook: refused from %s: %s", request.remote, exc)
            return web.json_response({"ok": False, "description": f"Bad Request: {exc}"}, status=400)
        try:
            await self.telegram.dispatch(update)
        except HandlingDeferred as exc:
            # Not handled, nothing kept: Telegram delivers it again until it is.
            log.warning("telegram webhook: update %s waits: %s", update.update_id, exc)
            return web.json_response({"ok": False}, status=503)
        except Exception:
            # 500 makes Telegram deliver the update again; the engine's
            # delivery record makes sure it is handled once.
            log.exception("telegram webhook: update %s not handled", update.update_id)
            return web.json_response({"ok": False}, status=500)
        return web.json_response({"ok": True})

"""The bot's own HTTP server, for what arrives over HTTP: Telegram webhook
calls, Slack Events API and interactivity requests, /healthz, and the live
public tracker at /public and /public.json (bot.public_tracker).

Polling and Socket Mode need none of it; it runs when a webhook or HTTP mode
is configured, or when a health check is wanted.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import TYPE_CHECKING

from aiohttp import web

from bot.public_tracker import PublicTracker, TrackerUnavailable
from handlers.chat_port import HandlingDeferred

if TYPE_CHECKING:
    # A Slack-only process need not load python-telegram-bot (bot.app).
    from bot.transports.telegram import TelegramTransport

log = logging.getLogger(__name__)

TELEGRAM_PATH = "/telegram/webhook"
SLACK_PATH = "/slack/events"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# The public page is self-contained: its charts are inline SVG, its style
# inline; the browser is told to load nothing else from anywhere.
PUBLIC_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-origin",
    # A proxy or browser asks again: the page itself is rebuilt at most once a minute.
    "Cache-Control": "no-cache",
}


@dataclass
class WebServer:
    telegram: TelegramTransport | None = None
    slack_handler: Callable[[web.Request], Awaitable[web.Response]] | None = None
    health: Callable[[], Awaitable[dict[str, object]]] | None = None
    public: PublicTracker | None = None
    _runner: web.AppRunner | None = field(default=None, init=False)
    port: int = field(default=0, init=False)

    def app(self) -> web.Application:
        app = web.Application(client_max_size=2 * 1024 * 1024)
        app.router.add_get("/healthz", self._healthz)
        if self.telegram is not None:
            app.router.add_post(TELEGRAM_PATH, self._telegram)
        if self.slack_handler is not None:
            app.router.add_post(SLACK_PATH, self.slack_handler)
        if self.public is not None:
            app.router.add_get("/public", self._public)
            app.router.add_get("/public.json", self._public)
            app.router.add_get("/public/{language}", self._public)
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

    async def _public(self, request: web.Request) -> web.Response:
        """/public, /public/LANG (or ?lang=LANG) and /public.json (?lang=LANG, /public/LANG.json)."""
        assert self.public is not None
        wanted = request.match_info.get("language") or request.query.get("lang") or self.public.default_language
        as_json = request.path.endswith(".json")
        wanted = wanted.removesuffix(".json")
        if wanted not in self.public.languages:
            known = ", ".join(self.public.languages)
            return web.Response(status=404, text=f"No public page in {wanted!r}; it is published in: {known}.", headers=PUBLIC_HEADERS)
        try:
            page = await self.public.page(wanted)
        except TrackerUnavailable as exc:
            return web.Response(status=503, text=f"{exc}; try again in a minute.", headers={**PUBLIC_HEADERS, "Retry-After": "60"})
        headers = {**PUBLIC_HEADERS, "Content-Language": page.language, "Last-Modified": _http_date(page.built_at)}
        if as_json:
            return web.Response(body=page.json, content_type="application/json", charset="utf-8", headers=headers)
        return web.Response(body=page.html, content_type="text/html", charset="utf-8", headers=headers)

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


def _http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(timezone.utc), usegmt=True)

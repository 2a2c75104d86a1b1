"""HTTP to the Bot API that says an answer which is not the API's JSON in
one line.

A proxy or load balancer in front of Telegram (or Telegram itself, on a bad
day) answers 502 with an HTML page. python-telegram-bot then logs an ERROR
with a JSON traceback at every try, before our loops even see the error,
so an outage of a minute filled the log with tracebacks. Here such a page
becomes the Bot API's own error shape, so the library raises its usual
error for the status (502: NetworkError, an outage; 401/404: InvalidToken)
without logging anything; the page itself is kept at DEBUG.
"""

from __future__ import annotations

import json
import logging
from http import HTTPStatus
from typing import Any

from telegram.error import NetworkError
from telegram.request import HTTPXRequest

log = logging.getLogger(__name__)
# As much of a page as the DEBUG line shows.
SHOWN = 300


class BotApiRequest(HTTPXRequest):
    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        code, payload = await super().do_request(*args, **kwargs)
        if HTTPStatus.OK <= code <= 299 or _api_json(payload):
            return code, payload
        log.debug("telegram: HTTP %s with a body that is not the Bot API's JSON: %r", code, payload[:SHOWN])
        description = f"{_phrase(code)}, and a page instead of the Bot API's answer (a proxy in the way, or Telegram unwell)"
        return code, json.dumps({"ok": False, "error_code": code, "description": description}).encode()

    def parse_json_payload(self, payload: bytes) -> dict[str, Any]:
        """A successful status with a body that is not JSON (a captive portal,
        a proxy's page): an outage like any other, said without a traceback."""
        try:
            data = json.loads(payload.decode("utf-8", "replace"))
        except ValueError:
            log.debug("telegram: an answer that is not JSON: %r", payload[:SHOWN])
            raise NetworkError("Telegram's answer was not the Bot API's JSON (a proxy in the way?)") from None
        if not isinstance(data, dict):
            raise NetworkError("Telegram's answer was not the Bot API's JSON object")
        return data


def _api_json(payload: bytes) -> bool:
    try:
        return isinstance(json.loads(payload.decode("utf-8", "replace")), dict)
    except ValueError:
        return False


def _phrase(code: int) -> str:
    try:
        return f"{HTTPStatus(code).phrase} ({code})"
    except ValueError:
        return f"HTTP {code}"

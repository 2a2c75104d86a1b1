"""Inviting a focal point: a one-time code, a Telegram deep link, and on
Slack a match by e-mail so the bot can write first.

A Telegram bot cannot write to someone who has never opened it, so the
person opens ``https://t.me/<bot>?start=<code>``. On Slack the bot may open
a DM with any member: it looks the focal point up by e-mail
(``users.lookupByEmail``), links the account and sends the welcome.

Slack is asked everything it must answer before anything is stored, and
the invite, the link and the welcome are one transaction: when Slack fails
at any step, no invite is left behind to be handed out by mistake.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import aiohttp
from slack_sdk.errors import SlackApiError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload
from sqlalchemy import select
from telegram import Bot
from telegram.error import InvalidToken, NetworkError, TelegramError

from handlers.chat_port import ChatAddress, DeliveryFailed, RecipientUnreachable
from bot.transports.slack import SlackTransport
from handlers.engine import welcome
from handlers.onboarding import tell_former_accounts
from handlers.reminders.plan import Policy
from storage.conversations import INVITE_LIFETIME, create_invite, link_identity
from storage.database import writing
from storage.enums import Platform
from storage.errors import RegistryError
from storage.models import FocalPoint
from storage.network import find_focal_point

NOTHING_MADE = "no invitation was made"
T = TypeVar("T")


class PlatformFailed(RegistryError):
    """A chat platform did not answer as its API says it does."""


@dataclass(frozen=True)
class Invitation:
    name: str
    institution: str
    code: str
    expires_at: datetime
    telegram_link: str | None
    slack_user_id: str | None


@dataclass(frozen=True)
class _SlackMember:
    user_id: str
    team_id: str
    channel: str


async def telegram_username(token: str, base_url: str) -> str:
    try:
        async with Bot(token, base_url=base_url) as bot:
            return str(bot.username)
    except InvalidToken:
        # Its message quotes the token: never repeated.
        raise PlatformFailed(f"Telegram rejected the bot token (getMe answered 401/404); {NOTHING_MADE}") from None
    except NetworkError as exc:
        raise PlatformFailed(f"cannot reach Telegram at {base_url} ({exc.__class__.__name__}); {NOTHING_MADE}") from None
    except TelegramError as exc:
        raise PlatformFailed(f"Telegram refused getMe ({exc.__class__.__name__}); {NOTHING_MADE}") from None


async def invite(
    sessions: async_sessionmaker[AsyncSession],
    ref: str,
    now: datetime,
    *,
    bot_username: str | None = None,
    slack: SlackTransport | None = None,
    policy: Policy | None = None,
) -> Invitation:
    async with sessions() as session:
        found = await find_focal_point(session, ref)
        focal_point = await session.scalar(
            select(FocalPoint).where(FocalPoint.id == found.id).options(selectinload(FocalPoint.institution))
        )
    assert focal_point is not None
    member = await _find_on_slack(slack, focal_point.email) if slack is not None and focal_point.email else None
    async with writing(sessions) as session:
        code = await create_invite(session, focal_point.id, now)
        if member is not None and slack is not None:
            former = await link_identity(session, focal_point.id, Platform.SLACK, member.team_id, member.user_id, member.channel, now=now)
            await tell_former_accounts(session, focal_point, former, policy or Policy(), now)
            # Sent before the commit: if Slack will not take it, nothing is kept.
            await _ask_slack(
                "chat.postMessage", slack,
                slack.send(ChatAddress(Platform.SLACK, member.user_id, member.channel, member.team_id), welcome(focal_point, Platform.SLACK)),
            )
    return Invitation(
        name=focal_point.name,
        institution=focal_point.institution.code,
        code=code,
        expires_at=now + INVITE_LIFETIME,
        telegram_link=f"https://t.me/{bot_username}?start={code}" if bot_username else None,
        slack_user_id=member.user_id if member else None,
    )


async def _find_on_slack(slack: SlackTransport, email: str) -> _SlackMember | None:
    try:
        found = await _ask_slack("users.lookupByEmail", slack, slack.client.users_lookupByEmail(email=email), missing="users_not_found")
    except _Missing:
        return None
    user = _answered(found, "users.lookupByEmail", "user", "id")
    team = str((await _ask_slack("auth.test", slack, slack.client.auth_test())).get("team_id", ""))
    opened = await _ask_slack("conversations.open", slack, slack.client.conversations_open(users=user))
    return _SlackMember(user, team, _answered(opened, "conversations.open", "channel", "id"))


def _answered(answer: Any, method: str, *path: str) -> str:
    """The id an ok answer holds at ``path``; PlatformFailed when Slack said
    ok without it, which the Web API's documentation says never happens."""
    value = answer
    for key in path:
        value = value.get(key) if hasattr(value, "get") else None
    if not isinstance(value, str) or not value:
        status = getattr(answer, "status_code", 200)
        raise PlatformFailed(f"Slack answered {method} with HTTP {status} but no {'.'.join(path)}; {NOTHING_MADE}")
    return value


class _Missing(Exception):
    """Slack answered, and the answer is that there is nothing."""


async def _ask_slack(method: str, slack: SlackTransport, call: Awaitable[T], *, missing: str | None = None) -> T:
    """Await one Slack call; whatever went wrong is one line for the CLI."""
    try:
        return await call
    except SlackApiError as exc:
        if missing is not None and _error(exc) == missing:
            raise _Missing() from None
        raise PlatformFailed(f"Slack {_refusal(method, exc)}; {NOTHING_MADE}") from None
    except (RecipientUnreachable, DeliveryFailed) as exc:
        cause = exc.__cause__
        if isinstance(cause, SlackApiError):
            raise PlatformFailed(f"Slack {_refusal(method, cause)}; {NOTHING_MADE}") from None
        raise PlatformFailed(f"Slack refused {method} ({exc}); {NOTHING_MADE}") from None
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
        reason = str(exc) or exc.__class__.__name__
        raise PlatformFailed(f"cannot reach Slack at {slack.client.base_url} ({method}: {reason}); {NOTHING_MADE}") from None


def _error(exc: SlackApiError) -> Any:
    # A body that is not JSON leaves slack_sdk holding the raw HTTP response.
    data = getattr(exc.response, "data", None)
    return data.get("error") if isinstance(data, dict) else None


def _refusal(method: str, exc: SlackApiError) -> str:
    status = getattr(exc.response, "status_code", None) or getattr(exc.response, "status", None)
    error = _error(exc)
    if error:
        return f"refused {method} (HTTP {status}: {error})"
    # An HTML error page, an empty or a cut-off body: not the Web API talking.
    return f"answered {method} with HTTP {status} and no Web API answer (not JSON)"

"""Inviting a focal point: a one-time code, a Telegram deep link, and on
Slack a match by e-mail so the bot can write first.

A Telegram bot cannot write to someone who has never opened it, so the
person opens ``https://t.me/<bot>?start=<code>``. On Slack the bot may open
a DM with any member: it looks the focal point up by e-mail
(``users.lookupByEmail``), links the account and sends the welcome.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload
from sqlalchemy import select
from telegram import Bot

from handlers.chat_port import ChatAddress
from bot.transports.slack import SlackTransport
from handlers.engine import welcome
from storage.conversations import INVITE_LIFETIME, create_invite, link_identity
from storage.enums import Platform
from storage.models import FocalPoint
from storage.network import find_focal_point


@dataclass(frozen=True)
class Invitation:
    name: str
    institution: str
    code: str
    expires_at: datetime
    telegram_link: str | None
    slack_user_id: str | None


async def telegram_username(token: str, base_url: str) -> str:
    async with Bot(token, base_url=base_url) as bot:
        return str(bot.username)


async def invite(
    sessions: async_sessionmaker[AsyncSession],
    ref: str,
    now: datetime,
    *,
    bot_username: str | None = None,
    slack: SlackTransport | None = None,
) -> Invitation:
    async with sessions() as session, session.begin():
        found = await find_focal_point(session, ref)
        focal_point = await session.scalar(
            select(FocalPoint).where(FocalPoint.id == found.id).options(selectinload(FocalPoint.institution))
        )
        assert focal_point is not None
        code = await create_invite(session, focal_point.id, now)
    slack_user = None
    if slack is not None and focal_point.email:
        slack_user = await slack.lookup_by_email(focal_point.email)
        if slack_user is not None:
            team = str((await slack.client.auth_test()).get("team_id", ""))
            channel = await slack.open_dm(slack_user)
            async with sessions() as session, session.begin():
                await link_identity(session, focal_point.id, Platform.SLACK, team, slack_user, channel)
            await slack.send(ChatAddress(Platform.SLACK, slack_user, channel, team), welcome(focal_point, Platform.SLACK))
    return Invitation(
        name=focal_point.name,
        institution=focal_point.institution.code,
        code=code,
        expires_at=now + INVITE_LIFETIME,
        telegram_link=f"https://t.me/{bot_username}?start={code}" if bot_username else None,
        slack_user_id=slack_user,
    )

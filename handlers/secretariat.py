"""The secretariat in chat: the same summaries as `report summary`, asked
for in a message. Focal points who try these commands are refused."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.chat_port import IncomingMessage, OutgoingMessage, command_words
from handlers.reminders.plan import Policy
from handlers.summaries import summarise
from messages import local_date, local_number, t
from storage.models import SecretariatUser

COMMANDS = ("/progress", "/overdue", "/missing")


async def handle(session: AsyncSession, message: IncomingMessage, user: SecretariatUser, now: datetime, policy: Policy) -> list[OutgoingMessage]:
    lang = user.language
    words = command_words(message.address.platform)

    def say(key: str, **values: object) -> str:
        return t(key, lang, **{**words, **values})

    text = (message.text or "").strip()
    command = text.split()[0].lower() if text.startswith("/") else ""
    if command not in COMMANDS:
        return [OutgoingMessage("secretariat.help", say("secretariat.help"), language=lang)]
    by = "cluster" if "cluster" in text.lower() else "institution"
    lines = await summarise(session, by, policy, as_of=now)
    day = local_date(now.astimezone(ZoneInfo(user.timezone)).date(), lang)
    by_word = say(f"secretariat.by_{by}")
    if command == "/progress":
        body = [say("secretariat.progress_header", by=by_word, date=day)] + [
            say(
                "secretariat.progress_line", group=line.group, rate=f"{local_number(round(100 * line.response_rate), lang)} %",
                done=line.counts.get("fully_implemented", 0), partial=line.counts.get("partially_implemented", 0),
                progress=line.counts.get("in_progress", 0), waiting=line.counts.get("not_started", 0),
            )
            for line in lines
        ]
        key = "secretariat.progress"
    elif command == "/overdue":
        late = [line for line in lines if line.overdue]
        body = [say("secretariat.overdue_header", by=by_word)] + [say("secretariat.overdue_line", group=x.group, count=x.overdue) for x in late]
        body = body if late else [say("secretariat.nothing")]
        key = "secretariat.overdue"
    else:
        silent = [line for line in lines if line.missing]
        body = [say("secretariat.missing_header", by=by_word)] + [say("secretariat.overdue_line", group=x.group, count=x.missing) for x in silent]
        body = body if silent else [say("secretariat.nothing")]
        key = "secretariat.missing"
    return [OutgoingMessage(key, "\n".join(body), language=lang)]

"""``nmrf-bot requests``: ask the focal points something, and see who answered."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import click

from bot.cli.context import AppContext
from bot.cli.options import DATE, IDS, output_options
from messages import DEFAULT_LANGUAGE, t

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


@click.group("requests")
def requests_group() -> None:
    """Information requests from the secretariat to the focal points."""


@requests_group.command("send")
@click.option("--text", required=True, help="What the secretariat asks.")
@click.option("--due", type=DATE, required=True, help="Answer by, YYYY-MM-DD.")
@click.option("--institutions", default=None, help="Only these institutions: codes separated by commas.")
@click.option("--cluster", default=None)
@click.option("--theme", default=None)
@click.option("--mechanism", default=None)
@click.option("--ids", type=IDS, default=None, help="Recommendation ids: '3,5,9' or '10-20'.")
@click.pass_obj
def requests_send(
    app: AppContext, text: str, due: date, institutions: str | None, cluster: str | None, theme: str | None, mechanism: str | None, ids: tuple[int, ...] | None,
) -> None:
    """Send a request to everyone, or to some institutions, or to those
    answering for a cluster, a theme, a mechanism or some recommendations.
    Each person gets it in their language, in their working hours, with an
    Answer button; non-responders are reminded when it names recommendations."""
    from bot.policy import reminder_policy
    from handlers.requests import send
    from storage.requests import Target, create_request

    given = [(kind, value) for kind, value in (("institutions", institutions), ("cluster", cluster), ("theme", theme), ("mechanism", mechanism)) if value]
    if ids:
        given.append(("recommendations", ",".join(map(str, ids))))
    if len(given) > 1:
        raise click.UsageError("give one target: --institutions, --cluster, --theme, --mechanism or --ids")
    kind, value = given[0] if given else ("all", "")
    values = tuple(v.strip() for v in value.split(",") if v.strip()) if kind in ("institutions", "recommendations", "mechanism") else ((value,) if value else ())
    policy = reminder_policy(app.config)

    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        now = app.now()
        async with sessions() as session, session.begin():
            request, recipients = await create_request(session, text, due, Target(kind, values), created_by=app.actor, today=now.date())
            queued, unreachable = await send(session, request, recipients, policy, now)
        lines = [f"request {request.id} to {t('count.focal_points', DEFAULT_LANGUAGE, count=len(recipients))}: {queued} queued"]
        if unreachable:
            lines.append(f"not on chat yet (invite them): {', '.join(unreachable)}")
        return "\n".join(lines)

    click.echo(app.run(work))


@requests_group.command("list")
@output_options
@click.pass_obj
def requests_list(app: AppContext, fmt: str, limit: int | None) -> None:
    """Every request with how many institutions were asked and answered."""
    from bot.output import write_rows
    from storage.requests import recent_requests

    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[dict[str, Any]]:
        async with sessions() as session:
            rows = await recent_requests(session)
        return [{"id": r.id, "due_on": r.due_on, "target": r.target, "asked": r.asked, "answered": r.answered, "text": r.text} for r in reversed(rows)]

    write_rows(app.run(work), ("id", "due_on", "target", "asked", "answered", "text"), fmt, limit)


@requests_group.command("show")
@click.argument("request_id", type=int)
@output_options
@click.pass_obj
def requests_show(app: AppContext, request_id: int, fmt: str, limit: int | None) -> None:
    """Who was asked, who answered and when, who was escalated (what they
    answered: requests answers)."""
    from bot.output import write_rows
    from storage.requests import track

    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[dict[str, Any]]:
        async with sessions() as session:
            _, lines = await track(session, request_id)
        return [
            {"institution": line.code, "asked": ", ".join(line.asked), "answered": line.answered_at is not None,
             "answered_at": line.answered_at, "answers": line.answers, "escalated": line.escalated,
             "escalated_to": ", ".join(line.escalated_to)}
            for line in lines
        ]

    write_rows(app.run(work), ("institution", "asked", "answered", "answered_at", "answers", "escalated", "escalated_to"), fmt, limit)


ANSWER_COLUMNS = ("institution", "by", "at", "recommendation", "status", "answer")


@requests_group.command("answers")
@click.argument("request_id", type=int)
@output_options
@click.pass_obj
def requests_answers(app: AppContext, request_id: int, fmt: str, limit: int | None) -> None:
    """What each institution answered: the words typed, or the update given
    on each recommendation the request named (times in UTC)."""
    from bot.output import write_rows
    from storage.requests import answers_to

    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[dict[str, Any]]:
        async with sessions() as session:
            _, answers = await answers_to(session, request_id)
        return [
            {"institution": a.institution, "by": a.person, "at": a.at, "recommendation": a.recommendation_id,
             "status": a.status.value if a.status else None, "answer": a.text if a.text is not None else a.narrative}
            for a in answers
        ]

    write_rows(app.run(work), ANSWER_COLUMNS, fmt, limit)

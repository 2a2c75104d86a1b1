"""``nmrf-bot validations``: the inputs awaiting the secretariat's
validation (those nobody in their institution may judge), and a decision on
an input by a secretariat user or a validating focal point, with the same
rules as /validate and /validations in chat (storage.validations): nobody
validates their own input, and a return reaches the input's author through
the outbox in their working hours."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from bot.cli.context import AppContext
from bot.cli.options import output_options
from storage.enums import ValidationDecision
from storage.errors import NotFound

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
    from storage.models import FocalPoint, SecretariatUser

# Every waiting input, listed; --limit narrows what is printed.
ALL = 1_000_000
COLUMNS = ("update", "recommendation", "institution", "status", "narrative", "author", "given_at", "answers_return")


@click.group("validations")
def validations_group() -> None:
    """Validating the institutions' input."""


@validations_group.command("list")
@output_options
@click.pass_obj
def validations_list(app: AppContext, fmt: str, limit: int | None) -> None:
    """The inputs the secretariat is to validate: a validator's own input
    where the institution has no other validator in office, and any input of
    an institution with none."""
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload
    from bot.output import write_rows
    from storage.models import Institution, Recommendation
    from storage.validations import pending_for_secretariat, returns_answered

    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[dict[str, object]]:
        async with sessions() as session:
            waiting = await pending_for_secretariat(session, app.now().date(), limit=ALL)
            recs = {
                r.id: r for r in await session.scalars(
                    select(Recommendation).where(Recommendation.id.in_({u.recommendation_id for u in waiting})).options(selectinload(Recommendation.mechanism))
                )
            }
            names = {i: code for i, code in await session.execute(select(Institution.id, Institution.code))}
            answering = await returns_answered(session, [u.id for u in waiting])
        return [
            {
                "update": u.id, "recommendation": f"#{u.recommendation_id} {recs[u.recommendation_id].mechanism.code} {recs[u.recommendation_id].paragraph or ''}".strip(),
                "institution": names.get(u.institution_id or 0, ""), "status": u.status.value, "narrative": u.narrative or "",
                "author": u.author_label, "given_at": u.created_at, "answers_return": answering[u.id].comment if u.id in answering else "",
            }
            for u in waiting
        ]

    write_rows(app.run(work), COLUMNS, fmt, limit)


async def _validator(session: AsyncSession, who: str) -> SecretariatUser | FocalPoint:
    """A secretariat user, else a focal point, by e-mail or id."""
    from storage.network import find_focal_point
    from storage.secretariat import find_secretariat_user

    try:
        return await find_secretariat_user(session, who)
    except NotFound:
        pass
    try:
        return await find_focal_point(session, who)
    except NotFound:
        raise NotFound(f"no secretariat user or focal point {who!r} (give an e-mail; see: secretariat list, focal-points list)") from None


def _decide(app: AppContext, update_id: int, decision: ValidationDecision, who: str, comment: str | None) -> str:
    from bot.policy import reminder_policy
    from handlers.validation_returns import tell_author
    from storage.validations import validate

    policy = reminder_policy(app.config)

    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        now = app.now()
        async with sessions() as session, session.begin():
            validator = await _validator(session, who)
            validation = await validate(session, update_id, decision, validator, now, comment=comment)
            if decision is ValidationDecision.APPROVED:
                return f"update {update_id} approved by {validator.name}"
            told = await tell_author(session, validation, policy, now)
        if told:
            return f"update {update_id} returned by {validator.name}: its author is told in their working hours"
        return f"update {update_id} returned by {validator.name}: the bot cannot write to its author (not on chat, or given from the command line or an import): tell them yourself"

    return app.run(work)


@validations_group.command("approve")
@click.argument("update_id", type=click.IntRange(min=1))
@click.option("--by", "who", required=True, help="Who validates: a secretariat user's or a validating focal point's e-mail (or id).")
@click.pass_obj
def validations_approve(app: AppContext, update_id: int, who: str) -> None:
    """Approve an input (an update id from 'validations list')."""
    click.echo(_decide(app, update_id, ValidationDecision.APPROVED, who, None))


@validations_group.command("return")
@click.argument("update_id", type=click.IntRange(min=1))
@click.option("--comment", required=True, help="What is to be corrected; it goes to the input's author.")
@click.option("--by", "who", required=True, help="Who validates: a secretariat user's or a validating focal point's e-mail (or id).")
@click.pass_obj
def validations_return(app: AppContext, update_id: int, comment: str, who: str) -> None:
    """Return an input with a comment; the author's next update answers it."""
    click.echo(_decide(app, update_id, ValidationDecision.RETURNED, who, comment))

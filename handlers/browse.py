"""/mine: the recommendations assigned to one's institution, and one opened."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from bot.chat_port import Button
from handlers.turn import Turn
from messages import local_date
from storage.models import Assignment, Recommendation, StatusUpdate
from storage.recommendations import RecommendationFilter, list_statement
from storage.status import current_status

PAGE_SIZE = 5


async def is_assigned(turn: Turn, recommendation_id: int) -> bool:
    found = await turn.session.scalar(
        select(Assignment.id).where(
            Assignment.recommendation_id == recommendation_id,
            Assignment.institution_id == turn.focal_point.institution_id,
        )
    )
    return found is not None


async def show_mine(turn: Turn, page: int = 1) -> None:
    """A page of the institution's recommendations, one message each with its
    Update button; the paging buttons ride on the last one."""
    institution = turn.focal_point.institution
    count = await turn.session.scalar(
        select(func.count()).select_from(Assignment).where(Assignment.institution_id == institution.id)
    ) or 0
    if count == 0:
        turn.say("mine.empty", institution=institution.name)
        return
    pages = -(-count // PAGE_SIZE)
    page = min(max(page, 1), pages)
    statement = (
        list_statement(RecommendationFilter(institution=institution.code))
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )
    rows = (await turn.session.execute(statement)).mappings().all()
    paging: list[Button] = []
    if page > 1:
        paging.append(turn.button("button.previous_page", f"mine:{page - 1}"))
    if page < pages:
        paging.append(turn.button("button.next_page", f"mine:{page + 1}"))
    turn.say("mine.header", institution=institution.name, count=count, page=page, pages=pages)
    for index, row in enumerate(rows):
        buttons: tuple[tuple[Button, ...], ...] = ((turn.button("button.update", f"upd:{row['id']}"),),)
        if index == len(rows) - 1 and paging:
            buttons += (tuple(paging),)
        turn.say(
            "recommendation.summary",
            buttons,
            id=row["id"],
            mechanism=row["mechanism"],
            paragraph=row["paragraph"] or "",
            status=turn.text(f"status.{row['status']}"),
            text=row["text"],
        )


async def open_recommendation(turn: Turn, recommendation_id: int) -> None:
    rec = await turn.session.scalar(
        select(Recommendation).where(Recommendation.id == recommendation_id).options(selectinload(Recommendation.mechanism))
    )
    if rec is None or not await is_assigned(turn, recommendation_id):
        turn.say("recommendation.not_yours")
        return
    status = await current_status(turn.session, rec.id)
    last = await turn.session.scalar(
        select(func.max(StatusUpdate.created_at)).where(StatusUpdate.recommendation_id == rec.id)
    )
    turn.say(
        "recommendation.detail",
        ((turn.button("button.update", f"upd:{rec.id}"), turn.button("button.no_change", f"same:{rec.id}")),),
        id=rec.id,
        mechanism=rec.mechanism.code,
        source=rec.external_id,
        text=rec.text,
        status=turn.text(f"status.{status.value}"),
        last_update=local_date(last.date(), turn.language) if last else turn.text("recommendation.never_updated"),
    )

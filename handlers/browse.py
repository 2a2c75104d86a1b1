"""/mine: the recommendations assigned to one's institution, filtered and paged,
and one opened.

The chosen filter lives in the conversation state ("browse"), so paging keeps
it and a restart does not lose it. A linked group is one item of the list
(storage.linked_items), shown once with its members' ids and opened by
``grp:`` (handlers.group_items); the list is in priority order, high first
(a group by its highest member), then by id. Button actions carry ids, never names: a
mandate's name can be longer than the 64 bytes a Telegram button holds.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from handlers.chat_port import Button
from handlers.deadline_names import deadline_name
from handlers.group_labels import group_ids, group_title, mechanisms, own_summary, update_button
from handlers.plan_line import plan_line
from handlers.turn import Turn
from messages import local_date, shorten
from storage.conversations import State
from storage.deadlines import DeadlineName, deadline_names
from storage.enums import ImplementationStatus, Priority
from storage.linked_items import Item, by_priority, groups_of, institution_items, own_statuses
from storage.models import (
    Assignment,
    Cluster,
    Deadline,
    Mechanism,
    Recommendation,
    StatusUpdate,
    deadline_recommendations,
)
from storage.recommendations import RecommendationFilter, list_statement
from storage.status import current_status, institution_status

PAGE_SIZE = 5
# Offered in the filter menu: what is due soonest is what people look for.
DEADLINES_OFFERED = 5
# A deadline's name on a filter button is cut here, so its date still shows.
DEADLINE_LABEL = 48
# The last update may be corrected this long after it was given.
CORRECTION_WINDOW = timedelta(hours=24)
_FILTER_KINDS = ("s", "m", "c", "d", "p")


async def is_assigned(turn: Turn, recommendation_id: int) -> bool:
    found = await turn.session.scalar(
        select(Assignment.id).where(
            Assignment.recommendation_id == recommendation_id,
            Assignment.institution_id == turn.focal_point.institution_id,
        )
    )
    return found is not None


def _assigned_ids(turn: Turn):  # type: ignore[no-untyped-def]
    return select(Assignment.recommendation_id).where(Assignment.institution_id == turn.focal_point.institution_id)


async def show_mine(turn: Turn, page: int = 1) -> None:
    """A page of the institution's items (a recommendation, or a linked
    group once), one message each with its Update button; the paging
    buttons ride on the last one."""
    chosen: dict[str, str] = dict(turn.state.data.get("filter", {})) if turn.state.name == "browse" else {}
    turn.state = State("browse", {"filter": chosen})
    institution = turn.focal_point.institution
    filters, label = await _filter(turn, chosen)
    statement = list_statement(filters)
    # Only the ids of what matches, to fold into items; the columns for the page alone.
    matching = set((await turn.session.scalars(statement.with_only_columns(Recommendation.id))).all())
    items = await institution_items(turn.session, turn.focal_point.institution_id, matching=matching) if matching else []
    if chosen.get("p") in set(Priority):
        items = [i for i in items if i.priority == Priority(chosen["p"])]
    items = by_priority(items)
    header_buttons = (turn.button("button.filter", "filter"),)
    if chosen:
        header_buttons += (turn.button("button.show_all", "f:all"),)
    plan = await plan_line(turn)
    below = [plan] if plan else []
    if not items:
        if chosen:
            turn.say_lines("mine.none_match", [turn.text("mine.none_match", institution=institution.name, filter=label), *below], (header_buttons,))
        else:
            turn.say_lines("mine.empty", [turn.text("mine.empty", institution=institution.name), *below])
        return
    # The header counts recommendations; a page holds items.
    count = sum(len(i.members) for i in items)
    pages = -(-len(items) // PAGE_SIZE)
    page = min(max(page, 1), pages)
    shown = items[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]
    paging: list[Button] = []
    if page > 1:
        paging.append(turn.button("button.previous_page", f"mine:{page - 1}"))
    if page < pages:
        paging.append(turn.button("button.next_page", f"mine:{page + 1}"))
    if chosen:
        header = turn.text("mine.header_filtered", institution=institution.name, count=count, page=page, pages=pages, filter=label)
        turn.say_lines("mine.header_filtered", [header, *below], (header_buttons,))
    else:
        header = turn.text("mine.header", institution=institution.name, count=count, page=page, pages=pages)
        turn.say_lines("mine.header", [header, *below], (header_buttons,))
    own = await own_statuses(turn.session, [m for i in shown if i.group_id is not None for m in i.ids], turn.focal_point.institution_id)
    singles = [i.first for i in shown if i.group_id is None]
    rows = {
        row["id"]: row for row in (await turn.session.execute(statement.where(Recommendation.id.in_(singles)))).mappings().all()
    } if singles else {}
    for index, item in enumerate(shown):
        last_row: tuple[tuple[Button, ...], ...] = (tuple(paging),) if index == len(shown) - 1 and paging else ()
        if item.group_id is not None:
            _say_group(turn, item, own, last_row)
            continue
        row = rows[item.first]
        turn.say(
            "recommendation.summary",
            ((turn.button("button.open", f"rec:{row['id']}"), Button(turn.text("button.update"), f"upd:{row['id']}", form="update")),) + last_row,
            id=row["id"],
            mechanism=row["mechanism"],
            paragraph=f" {row['paragraph']}" if row["paragraph"] else "",
            status=turn.text(
                "recommendation.status_both",
                overall=turn.text(f"status.{row['status']}"),
                own=turn.text(f"status.{row['own_status']}") if row["own_status"] else turn.text("recommendation.own_none"),
            ),
            text=row["text"],
        )


def _say_group(turn: Turn, item: Item, own: dict[int, ImplementationStatus], last_row: tuple[tuple[Button, ...], ...]) -> None:
    assert item.group_id is not None
    turn.say(
        "group.summary",
        ((turn.button("button.open", f"grp:{item.group_id}"), update_button(item, turn.text("button.update"), turn.language)),) + last_row,
        title=group_title(item),
        count=len(item.members),
        mechanisms=mechanisms(item),
        ids=group_ids(item),
        own=own_summary(item, own, turn.language),
    )


async def show_filters(turn: Turn) -> None:
    """Every filter that would show something: statuses, and the mechanisms,
    clusters and coming deadlines of the institution's recommendations."""
    mine = _assigned_ids(turn)
    rows: list[tuple[Button, ...]] = [
        tuple(turn.button(f"status.{s.value}", f"f:s:{s.value}") for s in ImplementationStatus)
    ]
    for kind, column_id, label, link in (
        ("m", Mechanism.id, Mechanism.code, Recommendation.mechanism_id == Mechanism.id),
        ("c", Cluster.id, Cluster.name, Recommendation.cluster_id == Cluster.id),
    ):
        used = (
            await turn.session.execute(
                select(column_id, label).distinct().join(Recommendation, link).where(Recommendation.id.in_(mine)).order_by(label)
            )
        ).all()
        if used:
            rows.append(tuple(Button(name, f"f:{kind}:{ident}") for ident, name in used))
    priorities = set(
        (await turn.session.scalars(select(Recommendation.priority).distinct().where(Recommendation.id.in_(mine)))).all()
    )
    if priorities - {None}:
        rows.append(tuple(turn.button(f"mine.priority_{p.value}", f"f:p:{p.value}") for p in Priority if p in priorities))
    deadlines = (
        await turn.session.scalars(
            select(Deadline)
            .where(
                Deadline.due_on >= turn.now.date(),
                # Withdrawn, or a report already submitted: nothing to filter by.
                Deadline.withdrawn_at.is_(None), Deadline.submitted_on.is_(None),
                Deadline.id.in_(
                    select(deadline_recommendations.c.deadline_id).where(
                        deadline_recommendations.c.recommendation_id.in_(mine)
                    )
                ),
            )
            .order_by(Deadline.due_on, Deadline.id)
            .limit(DEADLINES_OFFERED)
        )
    ).all()
    names = await deadline_names(turn.session, [d.id for d in deadlines])
    rows.extend((Button(_deadline_label(turn, d, names[d.id]), f"f:d:{d.id}"),) for d in deadlines)
    # Not the dialogues' Cancel: closing the menu must never drop an update.
    rows.append((turn.button("button.show_all", "f:all"), turn.button("button.cancel", "f:close")))
    turn.say("mine.choose_filter", tuple(rows))


async def apply_filter(turn: Turn, argument: str) -> None:
    """``f:<kind>:<value>`` narrows the list, ``f:all`` clears it; then page 1.
    ``f:close`` closes the menu."""
    kind, _, value = argument.partition(":")
    if kind == "close":
        turn.reset()
        turn.say("update.cancelled")
        return
    chosen: dict[str, str] = dict(turn.state.data.get("filter", {})) if turn.state.name == "browse" else {}
    if kind == "all":
        chosen = {}
    elif kind in _FILTER_KINDS and value:
        chosen[kind] = value
    turn.state = State("browse", {"filter": chosen})
    await show_mine(turn)


async def _filter(turn: Turn, chosen: dict[str, str]) -> tuple[RecommendationFilter, str]:
    """The storage filter for the chosen values, and how to say it to the reader."""
    labels: list[str] = []
    status = mechanism = cluster = None
    deadline_id = None
    if "s" in chosen and chosen["s"] in set(ImplementationStatus):
        status = ImplementationStatus(chosen["s"])
        labels.append(turn.text(f"status.{status.value}"))
    if chosen.get("m", "").isdigit():
        mechanism = await turn.session.scalar(select(Mechanism.code).where(Mechanism.id == int(chosen["m"])))
        labels.append(mechanism or "?")
    if chosen.get("c", "").isdigit():
        cluster = await turn.session.scalar(select(Cluster.name).where(Cluster.id == int(chosen["c"])))
        labels.append(cluster or "?")
    if chosen.get("d", "").isdigit():
        deadline = await turn.session.get(Deadline, int(chosen["d"]))
        deadline_id = deadline.id if deadline else -1
        names = await deadline_names(turn.session, [deadline_id])
        labels.append(_deadline_label(turn, deadline, names[deadline_id]) if deadline else "?")
    if chosen.get("p") in set(Priority):
        # Applied to the items (a group has its highest member's), not here.
        labels.append(turn.text(f"mine.priority_{chosen['p']}"))
    filters = RecommendationFilter(
        institution=turn.focal_point.institution.code,
        # A focal point's list reads their institution's own answers: what
        # they have not answered is "not started" to them, as the reminders say.
        answering=turn.focal_point.institution_id,
        status=status,
        mechanism=mechanism,
        cluster=cluster,
        deadline_id=deadline_id,
    )
    return filters, ", ".join(labels)


def _deadline_label(turn: Turn, deadline: Deadline, name: DeadlineName) -> str:
    """Short enough that the date survives on a button (Slack cuts labels at 75)."""
    title = shorten(deadline_name(name, turn.language), DEADLINE_LABEL)
    return turn.text("deadline.label", title=title, date=local_date(deadline.due_on, turn.language))


async def correctable_update(turn: Turn, recommendation_id: int) -> StatusUpdate | None:
    """The latest update of the recommendation by this person's institution,
    if this person gave it less than 24 hours ago: that one, and only that
    one, may be corrected. Another institution's later answer to a shared
    recommendation does not take it away."""
    latest = await turn.session.scalar(
        select(StatusUpdate)
        .where(StatusUpdate.recommendation_id == recommendation_id, StatusUpdate.institution_id == turn.focal_point.institution_id)
        .order_by(StatusUpdate.id.desc())
        .limit(1)
    )
    if latest is None or latest.author_focal_point_id != turn.focal_point.id:
        return None
    if turn.now - latest.created_at > CORRECTION_WINDOW:
        return None
    return latest


async def open_recommendation(turn: Turn, recommendation_id: int) -> None:
    rec = await turn.session.scalar(
        select(Recommendation)
        .where(Recommendation.id == recommendation_id)
        .options(selectinload(Recommendation.mechanism), selectinload(Recommendation.document))
    )
    if rec is None or not await is_assigned(turn, recommendation_id):
        turn.say("recommendation.not_yours")
        return
    status = await current_status(turn.session, rec.id)
    own = await institution_status(turn.session, rec.id, turn.focal_point.institution_id)
    last = await turn.session.scalar(
        select(func.max(StatusUpdate.created_at)).where(StatusUpdate.recommendation_id == rec.id)
    )
    # On Slack the Update button opens one form with every field.
    buttons = [Button(turn.text("button.update"), f"upd:{rec.id}", form="update"), turn.button("button.no_change", f"same:{rec.id}")]
    correctable = await correctable_update(turn, rec.id)
    if correctable is not None:
        buttons.append(turn.button("button.correct_last", f"fix:{correctable.id}"))
    group = (await groups_of(turn.session, [rec.id])).get(rec.id)
    if group is not None:
        # Opened by its own number (a search, an older message): its group answers it with the others.
        buttons.append(turn.button("button.open_group", f"grp:{group}", id=rec.id))
    source = " ".join(part for part in (rec.document.symbol if rec.document else None, rec.paragraph) if part)
    turn.say(
        "recommendation.detail",
        (tuple(buttons),),
        id=rec.id,
        mechanism=rec.mechanism.code,
        source=source or rec.external_id,
        text=rec.text,
        # The overall status (storage/status.py's rule) and the institution's own answer.
        status=turn.text(
            "recommendation.status_both",
            overall=turn.text(f"status.{status.value}"),
            own=turn.text(f"status.{own.status.value}") if own else turn.text("recommendation.own_none"),
        ),
        last_update=local_date(turn.local_day(last), turn.language) if last else turn.text("recommendation.never_updated"),
    )

"""/deadlines and /submitted: a coordinator keeps the deadlines in chat, with
the CLI's storage functions (storage.deadlines, storage.deadline_changes):

    /deadlines [list] [PAGE]               upcoming first, then the past ones
    /deadlines add KIND YYYY-MM-DD [MECHANISM] [IDS] [TITLE...]
    /deadlines date ID YYYY-MM-DD          a new due date
    /deadlines delete ID                   withdrawn (kept, out of every list)
    /submitted ID [YYYY-MM-DD]             the report went (default: today)

Each change is a summary first and applies on Confirm (bound to its step,
so a stale button is refused). A new date or a withdrawal re-plans the
reminders and tells the focal points concerned (handlers.deadline_replan)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import case, func, select

from handlers import buttons, confirm_step, refusals
from handlers.chat_port import Button
from handlers.deadline_names import deadline_name
from handlers.deadline_replan import after_change, after_submitted
from handlers.secretariat_routes import Action, Command, Dialogue, Routes
from handlers.turn import SecretariatTurn
from messages import local_date
from storage.deadline_changes import edit_deadline, live, live_deadline, mark_submitted, withdraw_deadline
from storage.deadlines import NAME_OPTIONS, DeadlineData, DeadlineName, add_deadline, deadline_names
from storage.enums import DeadlineKind, SecretariatRole
from storage.errors import RegistryError
from storage.matching import same_name
from storage.models import Deadline, Mechanism, deadline_recommendations
from storage.selection import Selector, parse_ids

CONFIRM = "deadline.confirm"
buttons.register_dialogue("deadline", "d", {CONFIRM: "k"})
COORDINATOR = SecretariatRole.COORDINATOR
VERB = "dl"
PAGE = 10


def _usage(turn: SecretariatTurn) -> None:
    turn.say("deadlines.usage", kinds=", ".join(k.value for k in DeadlineKind if k is not DeadlineKind.INFORMATION_REQUEST))


async def command(turn: SecretariatTurn, args: str) -> None:
    words = args.split()
    verb = words[0].lower() if words else "list"
    if verb.isdigit() and len(words) == 1:
        await _list(turn, int(verb))
    elif verb == "list" and len(words) <= 2:
        await _list(turn, int(words[1]) if len(words) == 2 and words[1].isdigit() else 1)
    elif verb == "add" and len(words) >= 3:
        await _propose_add(turn, words[1:])
    elif verb == "date" and len(words) == 3:
        await _propose_date(turn, words[1], words[2])
    elif verb == "delete" and len(words) == 2:
        await _propose_delete(turn, words[1])
    else:
        _usage(turn)


async def submitted(turn: SecretariatTurn, args: str) -> None:
    words = args.split()
    if len(words) not in (1, 2):
        _usage(turn)
        return
    deadline = await _deadline(turn, words[0])
    if deadline is None:
        return
    today = turn.local_day(turn.now)
    on = _date(turn, words[1]) if len(words) == 2 else today
    if on is None:
        return
    if deadline.submitted_on is not None:
        turn.say("deadlines.already_submitted", id=deadline.id, date=local_date(deadline.submitted_on, turn.language))
        return
    if on > today:
        turn.say("deadlines.future_submission", date=local_date(on, turn.language))
        return
    late = (on - deadline.due_on).days
    timing = turn.text("deadlines.on_time") if late <= 0 else turn.text("deadlines.days_late", count=late)
    turn.begin(CONFIRM, op="submitted", id=deadline.id, on=on.isoformat())
    _ask_confirm(turn, turn.text("deadlines.confirm_submitted", name=await _name(turn, deadline.id),
                                 date=local_date(on, turn.language), due=local_date(deadline.due_on, turn.language), timing=timing))


async def _name(turn: SecretariatTurn, deadline_id: int) -> str:
    names = await deadline_names(turn.session, [deadline_id])
    return deadline_name(names[deadline_id], turn.language)


def _date(turn: SecretariatTurn, text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        turn.say("deadlines.bad_date", date=text[:40])
        return None


async def _deadline(turn: SecretariatTurn, ref: str) -> Deadline | None:
    """The live deadline a typed number names, or None having said why."""
    number = ref.lstrip("#")
    if not number.isdigit() or len(number) > 12:
        turn.say("deadlines.unknown", id=ref[:12])
        return None
    deadline = await turn.session.get(Deadline, int(number))
    if deadline is None or deadline.withdrawn_at is not None:
        turn.say("deadlines.unknown", id=number)
        return None
    return deadline


async def _list(turn: SecretariatTurn, page: int) -> None:
    today = turn.local_day(turn.now)
    counts = (
        select(deadline_recommendations.c.deadline_id, func.count().label("n"))
        .group_by(deadline_recommendations.c.deadline_id).subquery()
    )
    upcoming = case((Deadline.due_on >= today, 0), else_=1)
    # Upcoming soonest first, then the past ones most recent first.
    rows = (await turn.session.execute(
        select(Deadline, func.coalesce(counts.c.n, 0)).outerjoin(counts, counts.c.deadline_id == Deadline.id)
        .where(live(), Deadline.kind != DeadlineKind.INFORMATION_REQUEST).options(*NAME_OPTIONS)
        .order_by(upcoming, case((Deadline.due_on >= today, Deadline.due_on), else_=None), Deadline.due_on.desc(), Deadline.id)
    )).all()
    if not rows:
        turn.say("deadlines.none")
        return
    pages = (len(rows) + PAGE - 1) // PAGE
    page = min(max(page, 1), pages)
    shown = rows[(page - 1) * PAGE:page * PAGE]
    lines = [turn.text("deadlines.header", count=len(rows), page=page, pages=pages)]
    for deadline, n in shown:
        name = deadline_name(DeadlineName.of(deadline), turn.language)
        line = turn.text("deadlines.line", id=deadline.id, name=name, due=local_date(deadline.due_on, turn.language), count=n)
        if deadline.submitted_on is not None:
            line += " " + turn.text("deadlines.submitted_mark", date=local_date(deadline.submitted_on, turn.language))
        lines.append(line)
    row: list[Button] = []
    if page > 1:
        row.append(turn.button("button.previous_page", f"{VERB}:page:{page - 1}"))
    if page < pages:
        row.append(turn.button("button.next_page", f"{VERB}:page:{page + 1}"))
    turn.say_lines("deadlines.list", lines, (tuple(row),) if row else ())


async def _propose_add(turn: SecretariatTurn, words: list[str]) -> None:
    """``add KIND DATE [MECHANISM] [IDS] [TITLE...]``."""
    try:
        kind = DeadlineKind(words[0].lower().replace("-", "_"))
    except ValueError:
        kind = None
    if kind is None or kind is DeadlineKind.INFORMATION_REQUEST:
        turn.say("deadlines.bad_kind", kind=words[0][:40],
                 kinds=", ".join(k.value for k in DeadlineKind if k is not DeadlineKind.INFORMATION_REQUEST))
        return
    due = _date(turn, words[1])
    if due is None:
        return
    rest = words[2:]
    mechanism = None
    if rest and rest[0].isalpha() and rest[0].isupper():
        found = await turn.session.scalar(select(Mechanism.code).where(same_name(Mechanism.code, rest[0])))
        if found is not None:
            mechanism, rest = found, rest[1:]
    ids: tuple[int, ...] = ()
    if rest and rest[0][:1].isdigit():
        try:
            ids = parse_ids(rest[0])
        except RegistryError as exc:
            turn.say("deadlines.failed", reason=refusals.reason(turn, exc))
            return
        rest = rest[1:]
    title = " ".join(rest) or None
    if title and len(title) > 300:
        turn.say("deadlines.long_title", count=300)
        return
    preview = DeadlineName(kind, title, mechanism)
    turn.begin(CONFIRM, op="add", kind=kind.value, due=due.isoformat(), mechanism=mechanism, ids=list(ids), title=title)
    _ask_confirm(turn, turn.text("deadlines.confirm_add", name=deadline_name(preview, turn.language),
                                 due=local_date(due, turn.language), count=len(ids)))


async def _propose_date(turn: SecretariatTurn, ref: str, typed: str) -> None:
    deadline = await _deadline(turn, ref)
    if deadline is None:
        return
    due = _date(turn, typed)
    if due is None:
        return
    if due == deadline.due_on:
        turn.say("deadlines.same_date", date=local_date(due, turn.language))
        return
    turn.begin(CONFIRM, op="date", id=deadline.id, due=due.isoformat(), was=deadline.due_on.isoformat())
    _ask_confirm(turn, turn.text("deadlines.confirm_date", name=await _name(turn, deadline.id),
                                 was=local_date(deadline.due_on, turn.language), due=local_date(due, turn.language)))


async def _propose_delete(turn: SecretariatTurn, ref: str) -> None:
    deadline = await _deadline(turn, ref)
    if deadline is None:
        return
    turn.begin(CONFIRM, op="delete", id=deadline.id)
    _ask_confirm(turn, turn.text("deadlines.confirm_delete", name=await _name(turn, deadline.id),
                                 due=local_date(deadline.due_on, turn.language)))


def _ask_confirm(turn: SecretariatTurn, summary: str) -> None:
    confirm_step.ask(turn, "deadlines.confirm", f"{VERB}:apply", summary)


async def on_action(turn: SecretariatTurn, argument: str) -> bool:
    verb, _, rest = argument.partition(":")
    if verb == "page" and rest.isdigit():
        await _list(turn, int(rest))
        return True
    if (data := confirm_step.confirmed(turn, argument, CONFIRM)) is None:
        return False
    try:
        # A savepoint: a refusal met half-way (an add whose ids are not all
        # found) leaves nothing behind, while the turn itself commits.
        async with turn.session.begin_nested():
            await _apply(turn, data)
    except RegistryError as exc:
        turn.say("deadlines.failed", reason=refusals.reason(turn, exc))
    return True


async def _apply(turn: SecretariatTurn, data: dict[str, object]) -> None:
    op = data["op"]
    if op == "add":
        ids = [int(i) for i in data["ids"]]  # type: ignore[attr-defined]
        made = await add_deadline(turn.session, DeadlineData(
            DeadlineKind(str(data["kind"])), date.fromisoformat(str(data["due"])), data["title"] and str(data["title"]),  # type: ignore[arg-type]
            str(data["mechanism"]) if data["mechanism"] else None,
        ), Selector(ids=tuple(ids)) if ids else None)
        turn.say("deadlines.added", id=made.id, name=await _name(turn, made.id), due=local_date(made.due_on, turn.language))
        return
    deadline_id = int(str(data["id"]))
    if op == "submitted":
        today = turn.local_day(turn.now)
        deadline = await mark_submitted(turn.session, deadline_id, date.fromisoformat(str(data["on"])), today)
        await after_submitted(turn.session, deadline_id)
        assert deadline.submitted_on is not None
        turn.say("deadlines.submitted", name=await _name(turn, deadline_id), date=local_date(deadline.submitted_on, turn.language))
        return
    if op == "date":
        current = await live_deadline(turn.session, deadline_id)
        if current.due_on.isoformat() != data["was"]:
            # Someone else moved it since the summary: say so rather than apply.
            turn.say("deadlines.changed_meanwhile", date=local_date(current.due_on, turn.language))
            return
        change = await edit_deadline(turn.session, deadline_id, due_on=date.fromisoformat(str(data["due"])))
    else:
        change = await withdraw_deadline(turn.session, deadline_id, turn.now)
    told = await after_change(turn.session, turn.policy, change, turn.now)
    name = await _name(turn, deadline_id)
    if change.new_due is None:
        turn.say("deadlines.withdrawn", name=name)
    else:
        turn.say("deadlines.moved", name=name, due=local_date(change.new_due, turn.language))
    turn.say("deadlines.told", count=told)



ROUTES = Routes(
    commands={
        "/deadlines": Command(COORDINATOR, command, "secretariat.help_deadlines"),
        "/submitted": Command(COORDINATOR, submitted, "secretariat.help_submitted"),
    },
    actions={VERB: Action(COORDINATOR, on_action)},
    dialogues={"deadline.": Dialogue(COORDINATOR, confirm_step.press_reminder("deadlines.press"))},
)

"""A focal point and the implementation plan's actions: /actions lists what
their institution answers for or contributes to, each with the short paths
a recommendation has (handlers.status_update), and proposes a new action
for the secretariat to accept or reject.

    xlist:P      a page of the list
    xupd:A       an update of action A: the status, then one message (what
                 was done, and a "Next: ..." line with the next step and its
                 date, read by handlers.update_text); saved at once
    xsame:A      no change on A: the institution's last update again, as of
                 now (its status asked once, when it never answered)
    xfix:U       correct one's own last update U within 24 hours (a new
                 update correcting it: the history keeps both)
    xpro         propose an action: its title (and description), the
                 recommendations it serves, a target date, then Confirm

Where the platform has forms (Slack), Update opens one instead (``FORM``):
the status, what was done, the next step and its date in one modal, saved
at once on Submit (``on_form``), as a recommendation's update form is.

The dialogue's buttons are bound to it (handlers.buttons, kind x). Every
update is an append-only action_updates row (storage.actions).
"""

from __future__ import annotations

from datetime import date, timedelta

from handlers.browse import is_assigned
from handlers.buttons import Place, Verdict, in_progress, register_dialogue
from handlers.chat_port import Button
from handlers.refusals import reason, refuse
from handlers.turn import Turn
from handlers.update_text import MAX_TEXT, is_skip, read_date, read_update
from messages import DATE_EXAMPLE, local_date, shorten, t
from storage import actions as store
from storage.action_models import Action, ActionState, ActionUpdate
from storage.actions import ActionData, ActionUpdateData, ActionView
from storage.enums import Channel, ImplementationStatus
from storage.errors import RegistryError
from storage.models import Institution

PREFIX = "action"
STATUS, DONE, NEXT_DATE = "action.status", "action.done", "action.next_date"
TITLE, RECS, TARGET, CONFIRM = "action.title", "action.recs", "action.target", "action.confirm"
# The secretariat's steps (handlers.actions_chat) share the kind: one letter for actions.
SECRETARIAT_STEPS = {"action.sec_confirm": "k", "action.sec_reason": "j"}
register_dialogue(
    PREFIX, "x",
    {STATUS: "s", DONE: "d", NEXT_DATE: "t", TITLE: "p", RECS: "r", TARGET: "w", CONFIRM: "c", **SECRETARIAT_STEPS},
    item_key="action",
)

VERBS = frozenset({"xlist", "xupd", "xsame", "xfix", "xpro"})
# Inside the dialogue: a status, Skip, the proposal's Send.
_STEP_ACTIONS = ("st:", "skip", "xsend")
PAGE_SIZE = 5
CORRECTION_WINDOW = timedelta(hours=24)
# A proposal names at most this many recommendations: an action is a measure, not a programme.
MAX_RECOMMENDATIONS = 30
_PROPOSALS_SHOWN = 5
# The platform's update form for an action: a recommendation's ("update")
# without its evidence links, which an action's history does not keep.
FORM = "action"


def _cancel_row(turn: Turn) -> tuple[Button, ...]:
    return (turn.bound("button.cancel", "cancel"),)


def _status_rows(turn: Turn) -> tuple[tuple[Button, ...], ...]:
    return tuple((turn.bound(f"status.{s.value}", f"st:{s.value}"),) for s in ImplementationStatus)


def update_button(label: str, action_id: int, code: str, title: str, language: str) -> Button:
    """Update of an action: on Slack it opens the form, titled with the action
    as the person knows it (its code and title, not its internal number)."""
    return Button(label, f"xupd:{action_id}", form=FORM, form_title=t("action.form_title", language, code=code, title=title))


def _date(turn: Turn, day: date | None) -> str:
    return local_date(day, turn.language) if day else turn.text("action.no_date")


# --- the list -------------------------------------------------------------------------


async def show_actions(turn: Turn, page: int = 1) -> None:
    """/actions: a page of the institution's actions, one message each with
    Update and No change; the header offers to propose one."""
    institution = turn.focal_point.institution
    found = await store.actions_of_institution(turn.session, turn.focal_point.institution_id)
    propose = (turn.button("action.button_propose", "xpro"),)
    lines = await _proposal_lines(turn)
    if not found:
        turn.say_lines("action.none", [turn.text("action.none", institution=institution.name), *lines], (propose,))
        return
    pages = -(-len(found) // PAGE_SIZE)
    page = min(max(page, 1), pages)
    shown = found[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]
    header = turn.text("action.list_header", institution=institution.name, count=len(found), page=page, pages=pages)
    turn.say_lines("action.list_header", [header, *lines], (propose,))
    paging: list[Button] = []
    if page > 1:
        paging.append(turn.button("button.previous_page", f"xlist:{page - 1}"))
    if page < pages:
        paging.append(turn.button("button.next_page", f"xlist:{page + 1}"))
    for index, view in enumerate(shown):
        rows: tuple[tuple[Button, ...], ...] = (
            (update_button(turn.text("button.update"), view.id, view.code, view.title, turn.language), turn.button("button.no_change", f"xsame:{view.id}")),
        )
        if index == len(shown) - 1 and paging:
            rows += (tuple(paging),)
        turn.say("action.summary", rows, **_summary_values(turn, view))


def _summary_values(turn: Turn, view: ActionView) -> dict[str, object]:
    role = "action.role_responsible" if view.responsible_id == turn.focal_point.institution_id else "action.role_contributing"
    last = local_date(turn.local_day(view.last_update_at), turn.language) if view.last_update_at else turn.text("recommendation.never_updated")
    return {
        "code": view.code, "title": view.title, "role": turn.text(role, institution=view.responsible_name),
        "target": _date(turn, view.target_date), "status": turn.text(f"status.{view.status.value}"), "last": last,
        "serves": ", ".join(f"#{r}" for r in view.served) or "—",
    }


async def _proposal_lines(turn: Turn) -> list[str]:
    """The reader's proposals still waiting, and the ones rejected (with why)."""
    lines = []
    for action in await store.proposals_of(turn.session, turn.focal_point.id):
        if action.state is ActionState.PROPOSED:
            lines.append(turn.text("action.proposal_waiting", code=action.code, title=shorten(action.title, 80)))
        elif action.state is ActionState.REJECTED:
            lines.append(turn.text("action.proposal_rejected", code=action.code, title=shorten(action.title, 80), reason=action.decision_note or "—"))
    return lines[:_PROPOSALS_SHOWN]


# --- buttons ----------------------------------------------------------------------------


async def on_action(turn: Turn, verb: str, argument: str) -> bool:
    """A button outside the dialogue; False when the payload is none of ours."""
    if verb not in VERBS or (verb != "xpro" and not argument.isdigit()) or (verb == "xpro" and argument):
        return False
    if verb == "xlist":
        turn.reset()
        await show_actions(turn, int(argument))
        return True
    if in_progress(turn.state) is not None:
        # Opening another update or a proposal would drop what is being written.
        refuse(turn, Place("x", int(argument) if argument else None, "", ""), Verdict.OTHER)
        return True
    if verb == "xupd":
        await start(turn, int(argument))
    elif verb == "xsame":
        await no_change(turn, int(argument))
    elif verb == "xfix":
        await start_correction(turn, int(argument))
    else:
        start_proposal(turn)
    return True


async def _answering(turn: Turn, action_id: int) -> Action | None:
    """The action, when the reader's institution answers for it; else None, said."""
    if not await store.answers_for(turn.session, action_id, turn.focal_point.institution_id):
        turn.say("action.not_yours")
        return None
    return await turn.session.get(Action, action_id)


async def start(turn: Turn, action_id: int, corrects: int | None = None, quick: bool = False) -> None:
    action = await _answering(turn, action_id)
    if action is None:
        return
    turn.begin(STATUS, action=action.id, corrects=corrects, quick=quick)
    key = "action.ask_correction" if corrects else "action.ask_first_status" if quick else "action.ask_status"
    turn.say(key, _status_rows(turn) + (_cancel_row(turn),), code=action.code, title=shorten(action.title, 120))


async def correctable(turn: Turn, action_id: int) -> ActionUpdate | None:
    """The institution's latest update of the action, when this person gave it less than 24 hours ago."""
    latest = await store.last_update(turn.session, action_id, turn.focal_point.institution_id)
    if latest is None or latest.author_focal_point_id != turn.focal_point.id or turn.now - latest.created_at > CORRECTION_WINDOW:
        return None
    return latest


async def start_correction(turn: Turn, update_id: int) -> None:
    corrected = await turn.session.get(ActionUpdate, update_id)
    if corrected is None or not await store.answers_for(turn.session, corrected.action_id, turn.focal_point.institution_id):
        turn.say("action.not_yours")
        return
    if await correctable(turn, corrected.action_id) is not corrected:
        turn.say("update.correct_window_over")
        return
    await start(turn, corrected.action_id, corrects=corrected.id)


async def on_form(turn: Turn, action_id: int, form: dict[str, str]) -> None:
    """The platform's form, submitted: every field at once, saved at once."""
    action = await _answering(turn, action_id)
    if action is None:
        return
    try:
        status = ImplementationStatus(form.get("status", ""))
    except ValueError:
        turn.say("action.form_no_status", code=action.code)
        return
    turn.begin(DONE, action=action.id, status=status.value)
    await _save(
        turn, narrative=_field(form, "done"), next_step=_field(form, "next_step"),
        next_date=read_date(form["next_date"]) if form.get("next_date") else None,
    )


def _field(form: dict[str, str], name: str) -> str | None:
    return (form.get(name) or "").strip()[:MAX_TEXT] or None


async def no_change(turn: Turn, action_id: int) -> None:
    action = await _answering(turn, action_id)
    if action is None:
        return
    own = await store.last_update(turn.session, action_id, turn.focal_point.institution_id)
    if own is None:
        await start(turn, action_id, quick=True)
        return
    saved = await store.record_action_update(turn.session, _update(
        turn, action.id, own.status, narrative=own.narrative, next_step=own.next_step, next_step_due_on=own.next_step_due_on,
    ), turn.now)
    turn.say(
        "action.no_change_saved", ((turn.button("button.correct", f"xfix:{saved.id}"),),),
        code=action.code, status=turn.text(f"status.{own.status.value}"), date=local_date(turn.local_day(own.created_at), turn.language),
    )


async def on_dialogue_action(turn: Turn, action: str) -> bool:
    """A button of the dialogue, pressed on its very question; False when not ours."""
    name = turn.state.name
    if not name.startswith(PREFIX + ".") or name in SECRETARIAT_STEPS or not action.startswith(_STEP_ACTIONS):
        return False
    if name == STATUS and action.startswith("st:"):
        try:
            status = ImplementationStatus(action[3:])
        except ValueError:
            return False
        turn.go(DONE, status=status.value)
        if turn.state.data.get("quick"):
            await _save(turn, narrative=None)
            return True
        turn.ask("action.ask_done", ((turn.bound("button.skip", "skip"),), _cancel_row(turn)), example=DATE_EXAMPLE)
        return True
    if action == "skip" and name == DONE:
        await _save(turn, narrative=None)
        return True
    if action == "skip" and name == NEXT_DATE:
        turn.reset()
        turn.say("action.next_date_skipped")
        return True
    if action == "skip" and name == TARGET:
        _confirm_proposal(turn, None)
        return True
    if action == "xsend" and name == CONFIRM:
        await _send_proposal(turn)
        return True
    return False


async def on_text(turn: Turn, text: str) -> bool:
    """Words typed into the dialogue; False when no step of ours waits for them."""
    name = turn.state.name
    if not name.startswith(PREFIX + ".") or name in SECRETARIAT_STEPS:
        return False
    text = text.strip()[:MAX_TEXT]
    if name in (STATUS, CONFIRM):
        turn.say("action.press")
        return True
    if is_skip(text) and name in (DONE, NEXT_DATE, TARGET):
        return await on_dialogue_action(turn, "skip")
    if name == DONE:
        read = read_update(text)
        await _save(turn, narrative=read.narrative, next_step=read.next_step, next_date=read.next_date, bad_date=read.bad_date)
        return True
    if name == NEXT_DATE:
        due = read_date(text)
        if due is None:
            turn.ask("action.bad_date", ((turn.bound("button.skip", "skip"),), _cancel_row(turn)), example=DATE_EXAMPLE)
            return True
        await _add_next_date(turn, due)
        return True
    if name == TITLE:
        await _read_title(turn, text)
        return True
    if name == RECS:
        await _read_recommendations(turn, text)
        return True
    if name == TARGET:
        _read_target(turn, text)
        return True
    return False


# --- saving an update -------------------------------------------------------------------


def _update(turn: Turn, action_id: int, status: ImplementationStatus, key_suffix: str = "", **fields: object) -> ActionUpdateData:
    address = turn.message.address
    return ActionUpdateData(
        action_id=action_id, status=status, author_label=turn.focal_point.name, channel=Channel(address.platform.value),
        institution_id=turn.focal_point.institution_id, author_focal_point_id=turn.focal_point.id,
        # The delivery that saved it: a redelivered message stores nothing new.
        idempotency_key=f"{address.platform.value}:{turn.message.delivery_id}{key_suffix}",
        **fields,  # type: ignore[arg-type]
    )


async def _save(turn: Turn, *, narrative: str | None, next_step: str | None = None, next_date: date | None = None, bad_date: str | None = None) -> None:
    data = turn.state.data
    action = await turn.session.get(Action, int(data["action"]))
    if action is None or not await store.answers_for(turn.session, action.id, turn.focal_point.institution_id):
        turn.reset()
        turn.say("action.not_yours")
        return
    corrects = data.get("corrects")
    if corrects:
        # A correction gives again what it changes and keeps the rest: Skip must not wipe what was done.
        corrected = await turn.session.get(ActionUpdate, int(corrects))
        assert corrected is not None
        narrative = narrative if narrative is not None else corrected.narrative
        if next_step is None:
            next_step, next_date = corrected.next_step, corrected.next_step_due_on
    saved = await store.record_action_update(turn.session, _update(
        turn, action.id, ImplementationStatus(data["status"]), narrative=narrative, next_step=next_step, next_step_due_on=next_date,
        corrects_id=int(corrects) if corrects else None,
    ), turn.now)
    if bad_date is not None:
        # Saved without the date; the date alone is asked again, with Skip.
        turn.go(NEXT_DATE, base=saved.id)
        await _saved_reply(turn, action, saved, buttons=False)
        turn.ask("action.bad_date", ((turn.bound("button.skip", "skip"),), _cancel_row(turn)), example=DATE_EXAMPLE)
        return
    turn.reset()
    await _saved_reply(turn, action, saved)


async def _add_next_date(turn: Turn, due: date) -> None:
    """The next step's date given after all: a new update correcting the one saved without it."""
    base = await turn.session.get(ActionUpdate, int(turn.state.data["base"]))
    assert base is not None
    action = await turn.session.get(Action, base.action_id)
    assert action is not None
    saved = await store.record_action_update(turn.session, _update(
        turn, base.action_id, base.status, narrative=base.narrative, next_step=base.next_step, next_step_due_on=due, corrects_id=base.id,
    ), turn.now)
    turn.reset()
    await _saved_reply(turn, action, saved)


async def _saved_reply(turn: Turn, action: Action, saved: ActionUpdate, buttons: bool = True) -> None:
    status = turn.text(f"status.{saved.status.value}")
    if saved.institution_id is not None and saved.institution_id != action.responsible_institution_id:
        # A contributing institution's update is kept without moving the action's
        # status: saying "A-2 is done" would tell it the action was.
        responsible = await turn.session.get(Institution, action.responsible_institution_id)
        lines = [turn.text(
            "action.saved_contributing", code=action.code, status=status, institution=responsible.name if responsible else "?",
            current=turn.text(f"status.{action.status.value}"),
        )]
    else:
        lines = [turn.text("action.saved", code=action.code, status=status)]
    if saved.narrative:
        lines.append(turn.text("update.saved_done", text=saved.narrative))
    if saved.next_step and saved.next_step_due_on:
        lines.append(turn.text("update.saved_next_dated", text=saved.next_step, date=local_date(saved.next_step_due_on, turn.language)))
    elif saved.next_step:
        lines.append(turn.text("update.saved_next", text=saved.next_step))
    rows = ((turn.button("button.correct", f"xfix:{saved.id}"),),) if buttons else ()
    turn.say_lines("action.saved", lines, rows)


# --- proposing an action -----------------------------------------------------------------


def start_proposal(turn: Turn) -> None:
    turn.begin(TITLE)
    turn.ask("action.ask_title", (_cancel_row(turn),), institution=turn.focal_point.institution.name)


async def _read_title(turn: Turn, text: str) -> None:
    first, _, rest = text.partition("\n")
    title = " ".join(first.split())
    if not title:
        turn.ask("action.ask_title", (_cancel_row(turn),), institution=turn.focal_point.institution.name)
        return
    if len(title) > store.TITLE_MAX:
        turn.ask("action.title_too_long", (_cancel_row(turn),), count=store.TITLE_MAX)
        return
    turn.go(RECS, title=title, description=rest.strip() or None)
    turn.ask("action.ask_recs", (_cancel_row(turn),))


def _numbers(text: str) -> list[int] | None:
    found: list[int] = []
    for part in text.replace(",", " ").replace(";", " ").split():
        part = part.lstrip("#")
        if not part.isdigit() or len(part) > 9:
            return None
        found.append(int(part))
    return list(dict.fromkeys(found)) or None


async def _read_recommendations(turn: Turn, text: str) -> None:
    ids = _numbers(text)
    if ids is None or len(ids) > MAX_RECOMMENDATIONS:
        turn.ask("action.recs_unreadable", (_cancel_row(turn),), count=MAX_RECOMMENDATIONS)
        return
    others = [i for i in ids if not await is_assigned(turn, i)]
    if others:
        turn.ask("action.recs_not_yours", (_cancel_row(turn),), ids=", ".join(f"#{i}" for i in others), institution=turn.focal_point.institution.name)
        return
    turn.go(TARGET, recs=ids)
    turn.ask("action.ask_target", ((turn.bound("button.skip", "skip"),), _cancel_row(turn)), example=DATE_EXAMPLE)


def _read_target(turn: Turn, text: str) -> None:
    due = read_date(text)
    if due is None:
        turn.ask("action.bad_target", ((turn.bound("button.skip", "skip"),), _cancel_row(turn)), example=DATE_EXAMPLE)
        return
    if due < turn.local_day(turn.now):
        turn.ask("action.target_past", ((turn.bound("button.skip", "skip"),), _cancel_row(turn)), date=local_date(due, turn.language))
        return
    _confirm_proposal(turn, due)


def _confirm_proposal(turn: Turn, due: date | None) -> None:
    data = turn.state.data
    turn.go(CONFIRM, target=due.isoformat() if due else None)
    lines = [turn.text("action.confirm_proposal", title=data["title"], ids=", ".join(f"#{i}" for i in data["recs"]),
                       institution=turn.focal_point.institution.name, date=_date(turn, due))]
    if data.get("description"):
        lines.append(turn.text("action.confirm_description", text=shorten(str(data["description"]), 600)))
    turn.say_lines("action.confirm_proposal", lines, ((turn.bound("button.confirm", "xsend"), turn.bound("button.cancel", "cancel")),))


async def _send_proposal(turn: Turn) -> None:
    data = dict(turn.state.data)
    turn.reset()
    try:
        action = await store.create_action(turn.session, ActionData(
            title=str(data["title"]), responsible=turn.focal_point.institution.code, recommendations=tuple(int(i) for i in data["recs"]),
            description=data.get("description"), target_date=date.fromisoformat(data["target"]) if data.get("target") else None,
        ), actor=f"focal_point:{turn.focal_point.id}", now=turn.now, proposed_by=turn.focal_point)
    except RegistryError as exc:
        turn.say("action.proposal_failed", reason=reason(turn, exc))
        return
    turn.say("action.proposed", code=action.code)

"""Giving a status update, step by step.

States: update.status -> update.done -> update.evidence -> update.next_step
-> update.next_date -> update.confirm. Each asks one thing; Skip moves on,
Cancel drops everything. Nothing is stored until the person presses Save.
A correction runs the same steps and is stored as a new update pointing at
the one it corrects: history is never rewritten.
"""

from __future__ import annotations

import re
from datetime import date

from handlers.chat_port import Button
from handlers.browse import correctable_update, is_assigned
from handlers.turn import Turn
from messages import DATE_EXAMPLE, local_date
from storage.enums import Channel, EvidenceKind, ImplementationStatus
from storage.models import StatusUpdate
from storage.requests import record_answer
from storage.status import EvidenceData, UpdateData, current_status, record_update

_URL = re.compile(r"https?://[^\s<>\"']+")
# A narrative is free text, but not a book: long enough for a paragraph of a report.
MAX_TEXT = 10_000


def _cancel_row(turn: Turn) -> tuple[Button, ...]:
    return (turn.bound("button.cancel", "cancel"),)


async def start(turn: Turn, recommendation_id: int, corrects: int | None = None, request: int | None = None) -> None:
    """Ask the first question; ``request`` when opened from a request's list,
    so that the update answers that request too."""
    if not await is_assigned(turn, recommendation_id):
        turn.say("recommendation.not_yours")
        return
    turn.begin("update.status", rec=recommendation_id, evidence=[], corrects=corrects, request=request)
    rows = tuple((turn.bound(f"status.{s.value}", f"st:{s.value}"),) for s in ImplementationStatus)
    turn.say("update.ask_correction" if corrects else "update.ask_status", rows + (_cancel_row(turn),), id=recommendation_id)


async def start_correction(turn: Turn, update_id: int) -> None:
    """Correct one's own last update of a recommendation within 24 hours."""
    corrected = await turn.session.get(StatusUpdate, update_id)
    if corrected is None or not await is_assigned(turn, corrected.recommendation_id):
        turn.say("recommendation.not_yours")
        return
    if await correctable_update(turn, corrected.recommendation_id) is not corrected:
        turn.say("update.correct_window_over")
        return
    await start(turn, corrected.recommendation_id, corrects=corrected.id)


async def no_change(turn: Turn, recommendation_id: int) -> None:
    """One tap: the current status again, so the secretariat sees the item was looked at."""
    if not await is_assigned(turn, recommendation_id):
        turn.say("recommendation.not_yours")
        return
    status = await current_status(turn.session, recommendation_id)
    saved = await record_update(turn.session, _update(turn, recommendation_id, status), at=turn.now)
    turn.say("update.no_change_saved", ((turn.button("button.correct_last", f"fix:{saved.id}"),),), id=recommendation_id)


async def on_action(turn: Turn, action: str) -> bool:
    """Buttons pressed inside the dialogue; False when the action is not for it."""
    state = turn.state.name
    if state == "update.status" and action.startswith("st:"):
        try:
            status = ImplementationStatus(action[3:])
        except ValueError:
            return False
        turn.go("update.done", status=status.value)
        turn.ask("update.ask_done", ((turn.bound("button.skip", "skip"),), _cancel_row(turn)))
        return True
    if action == "skip" and state == "update.done":
        _ask_evidence(turn)
        return True
    if action in ("skip", "done") and state == "update.evidence":
        _ask_next_step(turn)
        return True
    if action == "skip" and state in ("update.next_step", "update.next_date"):
        _confirm(turn)
        return True
    if action == "save" and state == "update.confirm":
        await _save(turn)
        return True
    return False


async def on_text(turn: Turn, text: str) -> bool:
    """Free text typed inside the dialogue; False when no step expects it."""
    state = turn.state.name
    text = text.strip()[:MAX_TEXT]
    if state == "update.done":
        turn.go("update.done", narrative=text)
        _ask_evidence(turn)
        return True
    if state == "update.evidence":
        links = _URL.findall(text) or [text]
        turn.state.data["evidence"] = turn.state.data.get("evidence", []) + [{"kind": "link", "url": u} for u in links]
        turn.ask("update.evidence_received", _evidence_buttons(turn), item=", ".join(links))
        return True
    if state == "update.next_step":
        turn.go("update.next_date", next_step=text)
        turn.ask(
            "update.ask_next_date", ((turn.bound("button.skip", "skip"),), _cancel_row(turn)), example=DATE_EXAMPLE
        )
        return True
    if state == "update.next_date":
        try:
            due = date.fromisoformat(text)
        except ValueError:
            turn.ask("update.bad_date", (_cancel_row(turn),), example=DATE_EXAMPLE)
            return True
        turn.go("update.next_date", next_date=due.isoformat())
        _confirm(turn)
        return True
    return False


def on_files(turn: Turn) -> bool:
    if turn.state.name != "update.evidence":
        return False
    files = [
        {"kind": "file", "file_name": f.name, "mime_type": f.mime_type, "size_bytes": f.size_bytes, "platform_file_id": f.platform_file_id}
        for f in turn.message.files
    ]
    # A link in the file's caption is evidence too.
    links = [{"kind": "link", "url": u} for u in _URL.findall(turn.message.text or "")]
    turn.state.data["evidence"] = turn.state.data.get("evidence", []) + files + links
    names = [f.name for f in turn.message.files] + [link["url"] for link in links]
    turn.ask("update.evidence_received", _evidence_buttons(turn), item=", ".join(names))
    return True


def _evidence_buttons(turn: Turn) -> tuple[tuple[Button, ...], ...]:
    return ((turn.bound("button.done", "done"),), _cancel_row(turn))


def _ask_evidence(turn: Turn) -> None:
    turn.go("update.evidence")
    turn.ask(
        "update.ask_evidence",
        ((turn.bound("button.done", "done"), turn.bound("button.skip", "skip")), _cancel_row(turn)),
    )


def _ask_next_step(turn: Turn) -> None:
    turn.go("update.next_step")
    turn.ask("update.ask_next_step", ((turn.bound("button.skip", "skip"),), _cancel_row(turn)))


def _confirm(turn: Turn) -> None:
    data = turn.state.data
    nothing = turn.text("update.nothing")
    evidence = [e.get("url") or e.get("file_name") for e in data.get("evidence", [])]
    next_date = date.fromisoformat(data["next_date"]) if data.get("next_date") else None
    turn.go("update.confirm")
    turn.say(
        "update.confirm",
        ((turn.bound("button.save", "save"), turn.bound("button.cancel", "cancel")),),
        id=data["rec"],
        status=turn.text(f"status.{data['status']}"),
        narrative=data.get("narrative") or nothing,
        evidence=", ".join(str(e) for e in evidence) or nothing,
        next_step=data.get("next_step") or nothing,
        next_date=local_date(next_date, turn.language) if next_date else nothing,
    )


async def _save(turn: Turn) -> None:
    data = turn.state.data
    update = _update(
        turn,
        data["rec"],
        ImplementationStatus(data["status"]),
        narrative=data.get("narrative"),
        next_step=data.get("next_step"),
        next_step_due_on=date.fromisoformat(data["next_date"]) if data.get("next_date") else None,
        corrects_id=data.get("corrects"),
        evidence=[
            EvidenceData(**{**item, "kind": EvidenceKind(item["kind"])}) for item in data.get("evidence", [])
        ],
    )
    saved = await record_update(turn.session, update, at=turn.now)
    if data.get("request"):
        await record_answer(turn.session, data["request"], turn.focal_point, turn.now, status_update_id=saved.id, idempotency_key=update.idempotency_key)
    turn.say("update.saved", ((turn.button("button.correct_last", f"fix:{saved.id}"),),), id=data["rec"])
    turn.reset()


def _update(turn: Turn, recommendation_id: int, status: ImplementationStatus, **fields: object) -> UpdateData:
    address = turn.message.address
    return UpdateData(
        recommendation_id=recommendation_id,
        status=status,
        author_label=turn.focal_point.name,
        channel=Channel(address.platform.value),
        institution_id=turn.focal_point.institution_id,
        author_focal_point_id=turn.focal_point.id,
        # The delivery that pressed Save: a redelivered press stores nothing new.
        idempotency_key=f"{address.platform.value}:{turn.message.delivery_id}",
        **fields,  # type: ignore[arg-type]
    )

"""Giving a status update in as few steps as a phone allows.

An update is the status, then one message: what was done, with its links
and attached files as evidence, and optionally a "Next: ..." line with the
next step and its date (handlers.update_text). It is saved at once; the
reply's buttons add a next step or evidence, or correct it. Each addition is
stored as a new update correcting the one before, so history is never
rewritten. On Slack the Update button opens one form with every field
instead (``on_form``).

States: update.status -> update.done (saved); update.next_step ->
update.next_date and update.evidence add to a saved update.

Status is each institution's own: "No change" repeats the reader's
institution's last answer; an institution that has never answered is asked
for its status instead.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from handlers.browse import correctable_update, is_assigned
from handlers.chat_port import Button
from handlers.evidence import refuse_too_large
from handlers.item_lists import no_change_items
from handlers.turn import Turn
from handlers.update_text import MAX_TEXT, is_skip, links_in, read_date, read_update
from messages import DATE_EXAMPLE, local_date
from storage.enums import Channel, EvidenceKind, ImplementationStatus
from storage.models import OutboxMessage, StatusUpdate
from storage.requests import record_answer
from storage.status import EvidenceData, UpdateData, institution_status, record_update

# Slack's form: the fields a submitted update may carry.
FORM_FIELDS = ("status", "done", "links", "next_step", "next_date")


def _cancel_row(turn: Turn) -> tuple[Button, ...]:
    return (turn.bound("button.cancel", "cancel"),)


def _status_rows(turn: Turn) -> tuple[tuple[Button, ...], ...]:
    return tuple((turn.bound(f"status.{s.value}", f"st:{s.value}"),) for s in ImplementationStatus)


async def start(turn: Turn, recommendation_id: int, corrects: int | None = None, request: int | None = None, quick: bool = False) -> None:
    """Ask for the status; ``request`` when opened from a request's list, so
    that the update answers that request too; ``quick`` when "No change" was
    pressed but the institution never answered: the status alone is saved."""
    if not await is_assigned(turn, recommendation_id):
        turn.say("recommendation.not_yours")
        return
    turn.begin("update.status", rec=recommendation_id, corrects=corrects, request=request, quick=quick)
    key = "update.ask_correction" if corrects else "update.ask_first_status" if quick else "update.ask_status"
    turn.say(key, _status_rows(turn) + (_cancel_row(turn),), id=recommendation_id)


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


async def no_change(turn: Turn, recommendation_id: int, request: int | None = None) -> None:
    """One tap: the institution's own last answer again, so the secretariat
    sees the item was looked at. With no earlier answer there is nothing to
    repeat: the status is asked for."""
    if not await is_assigned(turn, recommendation_id):
        turn.say("recommendation.not_yours")
        return
    own = await institution_status(turn.session, recommendation_id, turn.focal_point.institution_id)
    if own is None:
        await start(turn, recommendation_id, request=request, quick=True)
        return
    saved = await _repeat(turn, own)
    if request is not None:
        await record_answer(turn.session, request, turn.focal_point, turn.now, status_update_id=saved.id, idempotency_key=saved.idempotency_key)
    turn.say(
        "update.no_change_saved", ((turn.button("button.correct", f"fix:{saved.id}"),),),
        id=recommendation_id, status=turn.text(f"status.{own.status.value}"), date=local_date(turn.local_day(own.created_at), turn.language),
    )


async def no_change_on_all(turn: Turn, recommendation_ids: list[int], request: int | None = None) -> None:
    """"No change on all of these": each item as one tap would store it; the
    ones the institution never answered are listed to give a status."""
    repeated: list[StatusUpdate] = []
    unanswered: list[int] = []
    for rec in recommendation_ids:
        if not await is_assigned(turn, rec):
            continue
        own = await institution_status(turn.session, rec, turn.focal_point.institution_id)
        if own is None:
            unanswered.append(rec)
        else:
            saved = await _repeat(turn, own, suffix=f":{rec}")
            if request is not None:
                await record_answer(turn.session, request, turn.focal_point, turn.now, status_update_id=saved.id, idempotency_key=saved.idempotency_key)
            repeated.append(saved)
    if not repeated and not unanswered:
        turn.say("recommendation.not_yours")
        return
    if repeated:
        fixes = [turn.button("button.correct_item", f"fix:{u.id}", id=u.recommendation_id) for u in repeated]
        turn.say("update.no_change_all_saved", tuple(tuple(fixes[i:i + 4]) for i in range(0, len(fixes), 4)),
                 ids=", ".join(f"#{u.recommendation_id}" for u in repeated))
    if unanswered:
        opens = [Button(f"#{r}", f"upd:{r}:{request}" if request else f"upd:{r}", form="update") for r in unanswered]
        turn.say("update.no_change_first", tuple(tuple(opens[i:i + 4]) for i in range(0, len(opens), 4)),
                 ids=", ".join(f"#{r}" for r in unanswered))


async def no_change_on_message(turn: Turn, outbox_key: str) -> None:
    """"No change on all of these" on a message too long to name its items in
    the button: the items are its "#N: no change" buttons, read back from the
    outbox, which keeps each message it sent; only the reader's own message."""
    sent = await turn.session.scalar(select(OutboxMessage).where(OutboxMessage.key == outbox_key))
    if sent is None or sent.focal_point_id != turn.focal_point.id:
        turn.say("recommendation.not_yours")
        return
    items = no_change_items(sent.message.get("buttons", []))
    # One reply a request (and one for the items of no request): each "no
    # change" answers the request its button names.
    for request in dict.fromkeys(request for _, request in items):
        await no_change_on_all(turn, [rec for rec, asked in items if asked == request], request=request)


async def on_action(turn: Turn, action: str) -> bool:
    """Buttons pressed inside the dialogue; False when the action is not for it."""
    state = turn.state.name
    if state == "update.status" and action.startswith("st:"):
        try:
            status = ImplementationStatus(action[3:])
        except ValueError:
            return False
        if turn.state.data.get("quick"):
            turn.go("update.done", status=status.value)
            await _save(turn, narrative=None, evidence=[])
            return True
        turn.go("update.done", status=status.value)
        turn.ask("update.ask_done", ((turn.bound("button.skip", "skip"),), _cancel_row(turn)), example=DATE_EXAMPLE)
        return True
    if action == "skip" and state == "update.done":
        await _save(turn, narrative=None, evidence=[])
        return True
    if action == "skip" and state in ("update.next_step", "update.next_date"):
        await _amend_next_step(turn)
        return True
    if action == "done" and state == "update.evidence":
        await _amend_evidence(turn)
        return True
    return False


async def on_text(turn: Turn, text: str) -> bool:
    """Free text typed inside the dialogue; False when no step expects it."""
    state = turn.state.name
    text = text.strip()[:MAX_TEXT]
    if is_skip(text) and state in ("update.done", "update.next_step", "update.next_date", "update.evidence"):
        return await on_action(turn, "done" if state == "update.evidence" else "skip")
    if state == "update.done":
        read = read_update(text)
        evidence = [{"kind": "link", "url": u} for u in read.links]
        await _save(turn, narrative=read.narrative, evidence=evidence, next_step=read.next_step, next_date=read.next_date, bad_date=read.bad_date)
        return True
    if state == "update.evidence":
        links = list(links_in(text))
        if not links:
            turn.ask("update.evidence_not_link", _evidence_buttons(turn))
            return True
        await _add_to_update(turn, [{"kind": "link", "url": u} for u in links], links)
        return True
    if state == "update.next_step":
        turn.go("update.next_date", next_step=text)
        _ask_next_date(turn, "update.ask_next_date")
        return True
    if state == "update.next_date":
        due = read_date(text)
        if due is None:
            _ask_next_date(turn, "update.bad_date")
            return True
        turn.go("update.next_date", next_date=due.isoformat())
        await _amend_next_step(turn)
        return True
    return False


async def on_files(turn: Turn) -> bool:
    """Files sent while an update is asked for: evidence, with the caption as
    what was done, saved at once; while evidence is being added: more of it."""
    state = turn.state.name
    if state not in ("update.done", "update.evidence"):
        return False
    # A file over the [evidence] limit is refused now, by name; the rest is kept.
    kept = refuse_too_large(turn)
    files = [
        {"kind": "file", "file_name": f.name, "mime_type": f.mime_type, "size_bytes": f.size_bytes, "platform_file_id": f.platform_file_id}
        for f in kept
    ]
    caption = turn.message.text or ""
    if not kept and not caption.strip():
        # Only refused files: the question stays open for a smaller one, or a link.
        return True
    if state == "update.evidence":
        links = [{"kind": "link", "url": u} for u in links_in(caption)]
        names = [f.name for f in kept] + [str(link["url"]) for link in links]
        if names:
            await _add_to_update(turn, files + links, names)
        return True
    read = read_update(caption)
    evidence = files + [{"kind": "link", "url": u} for u in read.links]
    await _save(turn, narrative=read.narrative, evidence=evidence, next_step=read.next_step, next_date=read.next_date, bad_date=read.bad_date)
    return True


async def on_form(turn: Turn, recommendation_id: int, form: dict[str, str], request: int | None = None) -> None:
    """Slack's one form, submitted: every field at once, saved at once."""
    if not await is_assigned(turn, recommendation_id):
        turn.say("recommendation.not_yours")
        return
    try:
        status = ImplementationStatus(form.get("status", ""))
    except ValueError:
        turn.say("update.form_no_status", id=recommendation_id)
        return
    next_date = read_date(form["next_date"]) if form.get("next_date") else None
    done = (form.get("done") or "").strip()[:MAX_TEXT] or None
    links, unlinked = _form_links(form.get("links") or "")
    if unlinked:
        # Typed in the links field but no link: kept with what was done, not dropped.
        done = "\n".join(part for part in (done, *unlinked) if part)[:MAX_TEXT]
    links += links_in(done or "")
    turn.begin("update.done", rec=recommendation_id, status=status.value, request=request)
    await _save(
        turn, narrative=done, evidence=[{"kind": "link", "url": u} for u in dict.fromkeys(links)],
        next_step=(form.get("next_step") or "").strip()[:MAX_TEXT] or None, next_date=next_date,
    )


def _form_links(text: str) -> tuple[tuple[str, ...], list[str]]:
    """The links field of Slack's form, a line each: (links, lines that are
    none). "www.impo.com.uy/ley" is a link without its scheme."""
    links: list[str] = []
    other: list[str] = []
    for line in (part.strip() for part in text.splitlines()):
        if not line:
            continue
        found = links_in(line)
        if found:
            links.extend(found)
        elif " " not in line and "." in line.split("/")[0]:
            links.append("https://" + line)
        else:
            other.append(line)
    return tuple(links), other


async def add_next_step(turn: Turn, update_id: int) -> None:
    base = await _amendable(turn, update_id)
    if base is None:
        return
    turn.begin("update.next_step", rec=base.recommendation_id, base=base.id)
    turn.ask("update.ask_next_step", ((turn.bound("button.skip", "skip"),), _cancel_row(turn)), id=base.recommendation_id)


async def add_evidence(turn: Turn, update_id: int) -> None:
    base = await _amendable(turn, update_id)
    if base is None:
        return
    turn.begin("update.evidence", rec=base.recommendation_id, base=base.id)
    turn.ask("update.ask_more_evidence", _evidence_buttons(turn), id=base.recommendation_id)


async def _amendable(turn: Turn, update_id: int) -> StatusUpdate | None:
    """An update one may still add to: one's own, the latest of the item, within the correction window."""
    base = await turn.session.get(StatusUpdate, update_id)
    if base is None or not await is_assigned(turn, base.recommendation_id):
        turn.say("recommendation.not_yours")
        return None
    if await correctable_update(turn, base.recommendation_id) is not base:
        turn.say("update.correct_window_over")
        return None
    return base


def _evidence_buttons(turn: Turn) -> tuple[tuple[Button, ...], ...]:
    # No Cancel: each file or link is stored as it comes, there is nothing to drop.
    return ((turn.bound("button.done", "done"),),)


def _ask_next_date(turn: Turn, key: str) -> None:
    # Skip stays on every re-prompt: a step without a date is a fine answer.
    turn.ask(key, ((turn.bound("button.skip", "skip"),), _cancel_row(turn)), example=DATE_EXAMPLE)


async def _save(
    turn: Turn, *, narrative: str | None, evidence: list[dict[str, object]],
    next_step: str | None = None, next_date: date | None = None, bad_date: str | None = None,
) -> None:
    data = turn.state.data
    kept: list[EvidenceData] = []
    if data.get("corrects"):
        # A correction changes what is given again, and keeps the rest of
        # what it corrects: Skip must not wipe what was done or its evidence.
        corrected = await _with_evidence(turn, data["corrects"])
        narrative = narrative if narrative is not None else corrected.narrative
        if next_step is None:
            next_step, next_date = corrected.next_step, corrected.next_step_due_on
        kept = [_copy(e) for e in corrected.evidence]
    update = _update(
        turn, data["rec"], ImplementationStatus(data["status"]),
        narrative=narrative, next_step=next_step, next_step_due_on=next_date, corrects_id=data.get("corrects"),
        evidence=kept + [_evidence(item) for item in evidence],
    )
    saved = await record_update(turn.session, update, at=turn.now)
    if data.get("request"):
        await record_answer(turn.session, data["request"], turn.focal_point, turn.now, status_update_id=saved.id, idempotency_key=update.idempotency_key)
    if bad_date is not None:
        # Saved without the date; the date alone is asked again, with Skip.
        turn.begin("update.next_date", rec=saved.recommendation_id, base=saved.id, next_step=next_step)
        _saved_reply(turn, saved, buttons=False)
        _ask_next_date(turn, "update.bad_date")
        return
    turn.reset()
    _saved_reply(turn, saved)


async def _amend_next_step(turn: Turn) -> None:
    data = turn.state.data
    base = await turn.session.get(StatusUpdate, data["base"])
    assert base is not None
    due = date.fromisoformat(data["next_date"]) if data.get("next_date") else None
    step, step_due = data.get("next_step") or base.next_step, due or base.next_step_due_on
    turn.reset()
    if (step, step_due) == (base.next_step, base.next_step_due_on):
        # Skipped with nothing new: the update stands as it was, not stored twice.
        _saved_reply(turn, await _with_evidence(turn, base.id))
        return
    _saved_reply(turn, await _amendment(turn, base, next_step=step, next_step_due_on=step_due))


async def _add_to_update(turn: Turn, items: list[dict[str, object]], names: list[str]) -> None:
    """Evidence sent after "Add evidence": stored at once, as a new update
    correcting the last, so nothing waits on Done (or is lost to a timeout)."""
    base = await turn.session.get(StatusUpdate, turn.state.data["base"])
    assert base is not None
    saved = await _amendment(turn, base, added=[_evidence(item) for item in items])
    turn.go("update.evidence", base=saved.id)
    turn.ask("update.evidence_received", _evidence_buttons(turn), item=", ".join(names))


async def _amend_evidence(turn: Turn) -> None:
    """Done: what was sent is stored already; show the update as it stands."""
    base = turn.state.data["base"]
    turn.reset()
    _saved_reply(turn, await _with_evidence(turn, base))


async def _amendment(turn: Turn, base: StatusUpdate, added: list[EvidenceData] | None = None, **changes: object) -> StatusUpdate:
    """``base`` again with ``changes``: a new update correcting it, with its evidence and ``added``."""
    loaded = await _with_evidence(turn, base.id)
    fields = {"narrative": base.narrative, "next_step": base.next_step, "next_step_due_on": base.next_step_due_on, **changes}
    update = _update(
        turn, base.recommendation_id, base.status, corrects_id=base.id,
        evidence=[_copy(e) for e in loaded.evidence] + list(added or ()), **fields,
    )
    return await record_update(turn.session, update, at=turn.now)


async def _repeat(turn: Turn, own: StatusUpdate, suffix: str = "") -> StatusUpdate:
    """The institution's last answer stored again, as of now: what was done
    and the evidence still stand, so every report reads the same input."""
    loaded = await _with_evidence(turn, own.id)
    update = _update(
        turn, own.recommendation_id, own.status, narrative=own.narrative, next_step=own.next_step,
        next_step_due_on=own.next_step_due_on, evidence=[_copy(e) for e in loaded.evidence], key_suffix=suffix,
    )
    return await record_update(turn.session, update, at=turn.now)


def _saved_reply(turn: Turn, saved: StatusUpdate, buttons: bool = True) -> None:
    lines = [turn.text("update.saved", id=saved.recommendation_id, status=turn.text(f"status.{saved.status.value}"))]
    if saved.narrative:
        lines.append(turn.text("update.saved_done", text=saved.narrative))
    evidence = [item.url or item.file_name for item in _evidence_of(saved)]
    if evidence:
        lines.append(turn.text("update.saved_evidence", items=", ".join(str(e) for e in evidence)))
    if saved.next_step and saved.next_step_due_on:
        lines.append(turn.text("update.saved_next_dated", text=saved.next_step, date=local_date(saved.next_step_due_on, turn.language)))
    elif saved.next_step:
        lines.append(turn.text("update.saved_next", text=saved.next_step))
    rows: tuple[tuple[Button, ...], ...] = ()
    if buttons:
        rows = ((
            turn.button("button.add_next_step", f"addn:{saved.id}"),
            turn.button("button.add_evidence", f"adde:{saved.id}"),
            turn.button("button.correct", f"fix:{saved.id}"),
        ),)
    turn.say_lines("update.saved", lines, rows)


async def _with_evidence(turn: Turn, update_id: int) -> StatusUpdate:
    found = await turn.session.scalar(select(StatusUpdate).where(StatusUpdate.id == update_id).options(selectinload(StatusUpdate.evidence)))
    assert found is not None
    return found


def _evidence_of(update: StatusUpdate) -> list[object]:
    # Loaded with the update just stored; an update read back may not have it.
    return list(update.__dict__.get("evidence") or [])


def _evidence(item: dict[str, object]) -> EvidenceData:
    return EvidenceData(**{**item, "kind": EvidenceKind(str(item["kind"]))})  # type: ignore[arg-type]


def _copy(evidence: object) -> EvidenceData:
    return EvidenceData(
        kind=evidence.kind, url=evidence.url, file_name=evidence.file_name, mime_type=evidence.mime_type,  # type: ignore[attr-defined]
        size_bytes=evidence.size_bytes, platform_file_id=evidence.platform_file_id,  # type: ignore[attr-defined]
    )


def _update(turn: Turn, recommendation_id: int, status: ImplementationStatus, key_suffix: str = "", **fields: object) -> UpdateData:
    address = turn.message.address
    return UpdateData(
        recommendation_id=recommendation_id,
        status=status,
        author_label=turn.focal_point.name,
        channel=Channel(address.platform.value),
        institution_id=turn.focal_point.institution_id,
        author_focal_point_id=turn.focal_point.id,
        # The delivery that saved it: a redelivered press stores nothing new.
        idempotency_key=f"{address.platform.value}:{turn.message.delivery_id}{key_suffix}",
        **fields,  # type: ignore[arg-type]
    )

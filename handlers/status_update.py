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

A linked group (storage.linked_items) is answered by the same dialogue,
under the state names group.* bound to the group: the same taps, one
message, and the answer is stored on each member the institution is
assigned to. An addition or correction to a group's answer is one to each
of its rows.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from handlers.buttons import register_dialogue
from handlers.browse import correctable_update, is_assigned
from handlers.chat_port import Button
from handlers.evidence import refuse_too_large
from handlers.item_lists import no_change_groups, no_change_items
from handlers.turn import Turn
from handlers.update_text import MAX_TEXT, is_skip, links_in, read_date, read_update
from messages import DATE_EXAMPLE, local_date
from storage.enums import Channel, EvidenceKind, ImplementationStatus
from storage.linked_items import (
    copy_evidence, group_answer, group_item, group_members, groups_of, own_statuses, record_group_update,
    repeat_group,
)
from storage.models import OutboxMessage, StatusUpdate
from storage.requests import record_answer
from storage.status import EvidenceData, UpdateData, institution_status, record_update

# Slack's form: the fields a submitted update may carry.
FORM_FIELDS = ("status", "done", "links", "next_step", "next_date")

# The one dialogue under two names: a recommendation's (update.*), a linked group's (group.*).
GROUP = "group"
_DIALOGUES = ("update", GROUP)
register_dialogue(
    GROUP, "g",
    {"group.status": "s", "group.done": "d", "group.evidence": "e", "group.next_step": "n", "group.next_date": "t"},
    item_key="group",
)


def _step(turn: Turn) -> str | None:
    """The step of the update dialogue that is open, whichever its item."""
    prefix, _, step = turn.state.name.partition(".")
    return step if prefix in _DIALOGUES else None


def _prefix(turn: Turn) -> str:
    return turn.state.name.partition(".")[0]


def _ids(ids: list[int] | tuple[int, ...]) -> str:
    return ", ".join(f"#{i}" for i in ids)


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
    if corrected.link_group_id is not None:
        # Given for a linked group: corrected for each of its members, as it was given.
        await start_group(turn, corrected.link_group_id, corrects=corrected.id)
        return
    await start(turn, corrected.recommendation_id, corrects=corrected.id)


async def start_group(
    turn: Turn, group_id: int, corrects: int | None = None, request: int | None = None, quick: bool = False,
    members: list[int] | None = None,
) -> None:
    """The group's update: the same questions as a recommendation's, its
    answer stored on each member the institution is assigned to (or on
    ``members``: those never answered, when "No change" had nothing to repeat)."""
    item = await group_item(turn.session, group_id, turn.focal_point.institution_id)
    if item is None:
        turn.say("group.not_yours")
        return
    ids = [i for i in item.ids if members is None or i in members]
    if corrects is not None:
        corrected = await turn.session.get(StatusUpdate, corrects)
        ids = [u.recommendation_id for u in await group_answer(turn.session, corrected)] if corrected else ids
    if not ids:
        turn.say("group.not_yours")
        return
    turn.begin("group.status", group=group_id, corrects=corrects, request=request, quick=quick, members=ids if members is not None else None)
    key = "group.ask_correction" if corrects else "group.ask_first_status" if quick else "group.ask_status"
    turn.say(key, _status_rows(turn) + (_cancel_row(turn),), ids=_ids(ids), count=len(ids))


async def no_change_group(turn: Turn, group_id: int, request: int | None = None) -> None:
    """One tap for the group: each member's own last answer again, naming
    the group; the members never answered are asked their status (one tap
    more), as for a single recommendation."""
    item = await group_item(turn.session, group_id, turn.focal_point.institution_id)
    if item is None:
        turn.say("group.not_yours")
        return
    repeated, unanswered = await _repeat_group(turn, group_id, request)
    if repeated:
        ids = [u.recommendation_id for u in repeated]
        turn.say("group.no_change_saved", ((turn.button("button.correct", f"fix:{repeated[0].id}"),),), ids=_ids(ids), count=len(ids))
    if unanswered:
        await start_group(turn, group_id, request=request, quick=True, members=unanswered)


async def first_status_of_group(turn: Turn, group_id: int, request: int | None = None) -> None:
    """The status of the group's members the institution never answered,
    asked once for them all; with all of them answered by now, the group's
    update as usual."""
    ids = await group_members(turn.session, group_id, turn.focal_point.institution_id)
    if not ids:
        turn.say("group.not_yours")
        return
    answered = await own_statuses(turn.session, ids, turn.focal_point.institution_id)
    never = [i for i in ids if i not in answered]
    await start_group(turn, group_id, request=request, quick=bool(never), members=never or None)


async def _repeat_group(turn: Turn, group_id: int, request: int | None, suffix: str = "") -> tuple[list[StatusUpdate], list[int]]:
    template = _update(turn, 0, ImplementationStatus.NOT_STARTED, key_suffix=suffix)
    repeated, unanswered = await repeat_group(turn.session, group_id, turn.focal_point.institution_id, template, turn.now)
    if request is not None and repeated:
        await record_answer(turn.session, request, turn.focal_point, turn.now, status_update_id=repeated[0].id, idempotency_key=repeated[0].idempotency_key)
    return repeated, unanswered


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
    """"No change on all of these": each item as one tap would store it (a
    linked group's members as the group's one tap, naming it); the ones the
    institution never answered are listed to give a status."""
    repeated: list[StatusUpdate] = []
    unanswered: list[int] = []
    group_of = await groups_of(turn.session, recommendation_ids)
    fixes: list[Button] = []
    opens: list[Button] = []
    for rec in recommendation_ids:
        if rec in group_of or not await is_assigned(turn, rec):
            continue
        own = await institution_status(turn.session, rec, turn.focal_point.institution_id)
        if own is None:
            unanswered.append(rec)
            opens.append(Button(f"#{rec}", f"upd:{rec}:{request}" if request else f"upd:{rec}", form="update"))
        else:
            saved = await _repeat(turn, own, suffix=f":{rec}")
            if request is not None:
                await record_answer(turn.session, request, turn.focal_point, turn.now, status_update_id=saved.id, idempotency_key=saved.idempotency_key)
            repeated.append(saved)
            fixes.append(turn.button("button.correct_item", f"fix:{saved.id}", id=rec))
    for group in dict.fromkeys(group_of[r] for r in recommendation_ids if r in group_of):
        if not await group_members(turn.session, group, turn.focal_point.institution_id):
            continue
        # One key a group, its members' derived from it (storage.linked_items).
        rows, never = await _repeat_group(turn, group, request, suffix=f":g{group}")
        repeated += rows
        if rows:
            fixes.append(turn.button("button.correct_group", f"fix:{rows[0].id}", id=rows[0].recommendation_id))
        if never:
            unanswered += never
            opens.append(Button(_ids(never), f"gnew:{group}:{request}" if request else f"gnew:{group}"))
    if not repeated and not unanswered:
        turn.say("recommendation.not_yours")
        return
    if repeated:
        turn.say("update.no_change_all_saved", tuple(tuple(fixes[i:i + 4]) for i in range(0, len(fixes), 4)),
                 ids=", ".join(f"#{u.recommendation_id}" for u in repeated))
    if unanswered:
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
    # A linked group's button stands for its members (folded back into the group).
    for group, request in no_change_groups(sent.message.get("buttons", [])):
        items += [(rec, request) for rec in await group_members(turn.session, group, turn.focal_point.institution_id)]
    # One reply a request (and one for the items of no request): each "no
    # change" answers the request its button names.
    for request in dict.fromkeys(request for _, request in items):
        await no_change_on_all(turn, [rec for rec, asked in items if asked == request], request=request)


async def on_action(turn: Turn, action: str) -> bool:
    """Buttons pressed inside the dialogue; False when the action is not for it."""
    step, prefix = _step(turn), _prefix(turn)
    if step == "status" and action.startswith("st:"):
        try:
            status = ImplementationStatus(action[3:])
        except ValueError:
            return False
        if turn.state.data.get("quick"):
            turn.go(f"{prefix}.done", status=status.value)
            await _save(turn, narrative=None, evidence=[])
            return True
        turn.go(f"{prefix}.done", status=status.value)
        turn.ask("update.ask_done", ((turn.bound("button.skip", "skip"),), _cancel_row(turn)), example=DATE_EXAMPLE)
        return True
    if action == "skip" and step == "done":
        await _save(turn, narrative=None, evidence=[])
        return True
    if action == "skip" and step in ("next_step", "next_date"):
        await _amend_next_step(turn)
        return True
    if action == "done" and step == "evidence":
        await _amend_evidence(turn)
        return True
    return False


async def on_text(turn: Turn, text: str) -> bool:
    """Free text typed inside the dialogue; False when no step expects it."""
    step, prefix = _step(turn), _prefix(turn)
    text = text.strip()[:MAX_TEXT]
    if is_skip(text) and step in ("done", "next_step", "next_date", "evidence"):
        return await on_action(turn, "done" if step == "evidence" else "skip")
    if step == "done":
        read = read_update(text)
        evidence = [{"kind": "link", "url": u} for u in read.links]
        await _save(turn, narrative=read.narrative, evidence=evidence, next_step=read.next_step, next_date=read.next_date, bad_date=read.bad_date)
        return True
    if step == "evidence":
        links = list(links_in(text))
        if not links:
            turn.ask("update.evidence_not_link", _evidence_buttons(turn))
            return True
        await _add_to_update(turn, [{"kind": "link", "url": u} for u in links], links)
        return True
    if step == "next_step":
        turn.go(f"{prefix}.next_date", next_step=text)
        _ask_next_date(turn, "update.ask_next_date")
        return True
    if step == "next_date":
        due = read_date(text)
        if due is None:
            _ask_next_date(turn, "update.bad_date")
            return True
        turn.go(f"{prefix}.next_date", next_date=due.isoformat())
        await _amend_next_step(turn)
        return True
    return False


async def on_files(turn: Turn) -> bool:
    """Files sent while an update is asked for: evidence, with the caption as
    what was done, saved at once; while evidence is being added: more of it."""
    step = _step(turn)
    if step not in ("done", "evidence"):
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
    if step == "evidence":
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
    read = _read_form(turn, form, str(recommendation_id))
    if read is None:
        return
    status, fields = read
    turn.begin("update.done", rec=recommendation_id, status=status.value, request=request)
    await _save(turn, **fields)  # type: ignore[arg-type]


async def on_group_form(turn: Turn, group_id: int, form: dict[str, str], request: int | None = None) -> None:
    """Slack's form for a linked group: saved on each member at once;
    ``request`` when opened from a request's list, which it answers too."""
    item = await group_item(turn.session, group_id, turn.focal_point.institution_id)
    if item is None:
        turn.say("group.not_yours")
        return
    read = _read_form(turn, form, _ids(item.ids).lstrip("#"))
    if read is None:
        return
    status, fields = read
    turn.begin("group.done", group=group_id, status=status.value, request=request)
    await _save(turn, **fields)  # type: ignore[arg-type]


def _read_form(turn: Turn, form: dict[str, str], named: str) -> tuple[ImplementationStatus, dict[str, object]] | None:
    """The status and the fields to save, or None (said) with no status chosen."""
    try:
        status = ImplementationStatus(form.get("status", ""))
    except ValueError:
        turn.say("update.form_no_status", id=named)
        return None
    next_date = read_date(form["next_date"]) if form.get("next_date") else None
    done = (form.get("done") or "").strip()[:MAX_TEXT] or None
    links, unlinked = _form_links(form.get("links") or "")
    if unlinked:
        # Typed in the links field but no link: kept with what was done, not dropped.
        done = "\n".join(part for part in (done, *unlinked) if part)[:MAX_TEXT]
    links += links_in(done or "")
    return status, {
        "narrative": done, "evidence": [{"kind": "link", "url": u} for u in dict.fromkeys(links)],
        "next_step": (form.get("next_step") or "").strip()[:MAX_TEXT] or None, "next_date": next_date,
    }


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
    _begin_on(turn, "next_step", base)
    await _ask_on(turn, "ask_next_step", base, ((turn.bound("button.skip", "skip"),), _cancel_row(turn)))


async def add_evidence(turn: Turn, update_id: int) -> None:
    base = await _amendable(turn, update_id)
    if base is None:
        return
    _begin_on(turn, "evidence", base)
    await _ask_on(turn, "ask_more_evidence", base, _evidence_buttons(turn))


def _begin_on(turn: Turn, step: str, base: StatusUpdate, **data: object) -> None:
    """Open a step adding to ``base``: the group's dialogue when it was given for a group."""
    if base.link_group_id is not None:
        turn.begin(f"{GROUP}.{step}", group=base.link_group_id, base=base.id, **data)
    else:
        turn.begin(f"update.{step}", rec=base.recommendation_id, base=base.id, **data)


async def _ask_on(turn: Turn, question: str, base: StatusUpdate, rows: tuple[tuple[Button, ...], ...]) -> None:
    if base.link_group_id is not None:
        ids = [u.recommendation_id for u in await group_answer(turn.session, base)]
        turn.ask(f"group.{question}", rows, ids=_ids(ids), count=len(ids))
    else:
        turn.ask(f"update.{question}", rows, id=base.recommendation_id)


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
    group = data.get("group")
    kept: list[EvidenceData] = []
    members: list[int] | None = data.get("members")
    corrects: dict[int, int] | None = None
    kept_by: dict[int, list[EvidenceData]] = {}
    if data.get("corrects"):
        # A correction changes what is given again, and keeps the rest of
        # what it corrects: Skip must not wipe what was done or its evidence.
        corrected = await _with_evidence(turn, data["corrects"])
        narrative = narrative if narrative is not None else corrected.narrative
        if next_step is None:
            next_step, next_date = corrected.next_step, corrected.next_step_due_on
        kept = [_copy(e) for e in corrected.evidence]
        if group:
            # Each member's row corrects that member's row of the answer corrected.
            rows = await group_answer(turn.session, corrected)
            corrects = {u.recommendation_id: u.id for u in rows}
            kept_by = {u.recommendation_id: copy_evidence(u) for u in rows}
            members = list(corrects)
    added = [_evidence(item) for item in evidence]
    status = ImplementationStatus(data["status"])
    if group:
        if not await group_members(turn.session, int(group), turn.focal_point.institution_id):
            # Dissolved, or no longer the institution's, while the answer was being written.
            turn.reset()
            turn.say("group.not_yours")
            return
        template = _update(turn, 0, status, narrative=narrative, next_step=next_step, next_step_due_on=next_date, evidence=added)
        stored = await record_group_update(
            turn.session, int(group), turn.focal_point.institution_id, template, turn.now, members=members, corrects=corrects, evidence=kept_by,
        )
    else:
        update = _update(
            turn, data["rec"], status,
            narrative=narrative, next_step=next_step, next_step_due_on=next_date, corrects_id=data.get("corrects"),
            evidence=kept + added,
        )
        stored = [await record_update(turn.session, update, at=turn.now)]
    saved = stored[0]
    if data.get("request"):
        await record_answer(turn.session, data["request"], turn.focal_point, turn.now, status_update_id=saved.id, idempotency_key=saved.idempotency_key)
    if bad_date is not None:
        # Saved without the date; the date alone is asked again, with Skip.
        _begin_on(turn, "next_date", saved, next_step=next_step)
        _saved_reply(turn, stored, buttons=False)
        _ask_next_date(turn, "update.bad_date")
        return
    turn.reset()
    _saved_reply(turn, stored)


async def _amend_next_step(turn: Turn) -> None:
    data = turn.state.data
    base = await turn.session.get(StatusUpdate, data["base"])
    assert base is not None
    due = date.fromisoformat(data["next_date"]) if data.get("next_date") else None
    step, step_due = data.get("next_step") or base.next_step, due or base.next_step_due_on
    turn.reset()
    if (step, step_due) == (base.next_step, base.next_step_due_on):
        # Skipped with nothing new: the update stands as it was, not stored twice.
        _saved_reply(turn, await _answer(turn, base.id))
        return
    _saved_reply(turn, await _amendment(turn, base, next_step=step, next_step_due_on=step_due))


async def _add_to_update(turn: Turn, items: list[dict[str, object]], names: list[str]) -> None:
    """Evidence sent after "Add evidence": stored at once, as a new update
    correcting the last, so nothing waits on Done (or is lost to a timeout)."""
    base = await turn.session.get(StatusUpdate, turn.state.data["base"])
    assert base is not None
    saved = await _amendment(turn, base, added=[_evidence(item) for item in items])
    turn.go(f"{_prefix(turn)}.evidence", base=saved[0].id)
    turn.ask("update.evidence_received", _evidence_buttons(turn), item=", ".join(names))


async def _amend_evidence(turn: Turn) -> None:
    """Done: what was sent is stored already; show the update as it stands."""
    base = turn.state.data["base"]
    turn.reset()
    _saved_reply(turn, await _answer(turn, base))


async def _answer(turn: Turn, update_id: int) -> list[StatusUpdate]:
    """The update, or every row of the group answer it is part of."""
    return await group_answer(turn.session, await _with_evidence(turn, update_id))


async def _amendment(turn: Turn, base: StatusUpdate, added: list[EvidenceData] | None = None, **changes: object) -> list[StatusUpdate]:
    """``base`` again with ``changes``: a new update correcting it, with its
    evidence and ``added``; for a group's answer, one for each of its rows."""
    loaded = await _with_evidence(turn, base.id)
    fields = {"narrative": base.narrative, "next_step": base.next_step, "next_step_due_on": base.next_step_due_on, **changes}
    if base.link_group_id is None:
        update = _update(
            turn, base.recommendation_id, base.status, corrects_id=base.id,
            evidence=[_copy(e) for e in loaded.evidence] + list(added or ()), **fields,
        )
        return [await record_update(turn.session, update, at=turn.now)]
    rows = await group_answer(turn.session, loaded)
    template = _update(turn, 0, base.status, evidence=list(added or ()), **fields)
    return await record_group_update(
        turn.session, base.link_group_id, turn.focal_point.institution_id, template, turn.now,
        members=[u.recommendation_id for u in rows], corrects={u.recommendation_id: u.id for u in rows},
        evidence={u.recommendation_id: copy_evidence(u) for u in rows},
    )


async def _repeat(turn: Turn, own: StatusUpdate, suffix: str = "") -> StatusUpdate:
    """The institution's last answer stored again, as of now: what was done
    and the evidence still stand, so every report reads the same input."""
    loaded = await _with_evidence(turn, own.id)
    update = _update(
        turn, own.recommendation_id, own.status, narrative=own.narrative, next_step=own.next_step,
        next_step_due_on=own.next_step_due_on, evidence=[_copy(e) for e in loaded.evidence], key_suffix=suffix,
    )
    return await record_update(turn.session, update, at=turn.now)


def _saved_reply(turn: Turn, stored: list[StatusUpdate], buttons: bool = True) -> None:
    saved = stored[0]
    status = turn.text(f"status.{saved.status.value}")
    if saved.link_group_id is not None:
        ids = [u.recommendation_id for u in stored]
        key = "group.saved"
        lines = [turn.text(key, ids=_ids(ids), count=len(ids), status=status)]
    else:
        key = "update.saved"
        lines = [turn.text(key, id=saved.recommendation_id, status=status)]
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
        # On a group's answer they name its first row, and act on every row.
        rows = ((
            turn.button("button.add_next_step", f"addn:{saved.id}"),
            turn.button("button.add_evidence", f"adde:{saved.id}"),
            turn.button("button.correct", f"fix:{saved.id}"),
        ),)
    turn.say_lines(key, lines, rows)


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

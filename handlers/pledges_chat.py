"""A focal point and the year's pledges (issue 16): /pledges shows what
their institution pledged in the round asking it, and takes its pledges,
their confirmation and, at the year's end, what became of each.

    kpl:R        the round R as the institution stands in it
    kadd:R       write a pledge: one message, what it serves named in it as
                 #12 (a recommendation) or A-3 (an action), read back for
                 review, then Save as draft
    kconf:R      the drafts read back whole, then Confirm: they are the
                 institution's pledges for the year
    knone:R      "no pledge this year", on Confirm: asked no more
    kwd:P        withdraw pledge P, on Confirm (kept, marked withdrawn)
    kout:P:K     the report-back on P: K is done, partly or not, then a
                 short account typed, saved at once (append-only)

The buttons of a request (handlers.reminders.pledge_dates) are these. The
dialogue's own buttons are bound to it (handlers.buttons, kind k).
"""

from __future__ import annotations

from datetime import date

from handlers.buttons import Place, Verdict, in_progress, register_dialogue
from handlers.chat_port import Button
from handlers.refusals import reason, refuse
from handlers.turn import Turn
from messages import local_date, shorten
from storage import pledges as store
from storage.enums import Channel, PledgeOutcomeKind, PledgeState
from storage.errors import RegistryError
from storage.pledge_models import Pledge, PledgeRound, PledgeRoundInstitution
from storage.pledges import Author, PledgeView

PREFIX = "pledge"
TEXT, REVIEW, CONFIRM, NONE, WITHDRAW, ACCOUNT = (
    "pledge.text", "pledge.review", "pledge.confirm", "pledge.none", "pledge.withdraw", "pledge.account",
)
register_dialogue(PREFIX, "k", {TEXT: "t", REVIEW: "r", CONFIRM: "c", NONE: "n", WITHDRAW: "w", ACCOUNT: "a"}, item_key="round")

VERBS = frozenset({"kpl", "kadd", "kconf", "knone", "kwd", "kout"})
# Pressed inside the dialogue: Save (the review), Yes (each confirmation).
_SAVE, _YES = "ksave", "kyes"
# Pledges listed with their own buttons in one message.
BUTTONED = 8
SHOWN = 160


def _cancel_row(turn: Turn) -> tuple[Button, ...]:
    return (turn.bound("button.cancel", "cancel"),)


def _author(turn: Turn) -> Author:
    person = turn.focal_point
    return Author(f"{person.name} ({person.institution.code})", Channel(turn.message.address.platform.value), focal_point_id=person.id)


def _key(turn: Turn) -> str:
    """From the platform's delivery: a redelivered press stores nothing new."""
    return f"{turn.message.address.platform.value}:{turn.message.delivery_id}"


def _today(turn: Turn) -> date:
    return turn.local_day(turn.now)


def _outcome(turn: Turn, kind: PledgeOutcomeKind) -> str:
    return turn.text(f"pledge.outcome_{kind.name.lower()}")


def _outcome_row(turn: Turn, view: PledgeView) -> tuple[Button, ...]:
    code = view.pledge.code
    return tuple(turn.button(f"button.pledge_{k.name.lower()}", f"kout:{view.pledge.id}:{k.value}", code=code) for k in PledgeOutcomeKind)


# --- the round as the institution stands in it --------------------------------------------


async def show_round(turn: Turn, round_id: int | None = None) -> None:
    """/pledges (the latest round asking the institution) or a request's button (kpl:R)."""
    institution = turn.focal_point.institution
    round_ = await turn.session.get(PledgeRound, round_id) if round_id is not None else await store.round_for(turn.session, institution.id)
    if round_ is None:
        turn.say("pledge.no_round", institution=institution.name)
        return
    asked = await turn.session.get(PledgeRoundInstitution, (round_.id, institution.id))
    if asked is None:
        turn.say("pledge.not_asked", institution=institution.name, year=round_.year)
        return
    lang, today = turn.language, _today(turn)
    stage = store.phase(round_, today)
    views = await store.pledge_views(turn.session, round_.id, institution_id=institution.id)
    lines = [turn.text(
        f"pledge.round_{stage}", year=round_.year, institution=institution.name,
        date=local_date(round_.ask_by, lang), report=local_date(round_.report_back_on, lang),
    )]
    for view in views:
        lines.append(_line(turn, view))
    if not views:
        lines.append(turn.text("pledge.said_none" if asked.no_pledge_at else "pledge.none_yet"))
    rows: list[tuple[Button, ...]] = []
    live = [v for v in views if v.pledge.state is not PledgeState.WITHDRAWN]
    drafts = sum(1 for v in views if v.pledge.state is PledgeState.DRAFT)
    if stage == store.Phase.PLEDGING:
        first = [turn.button("pledge.button_add", f"kadd:{round_.id}")]
        if drafts:
            first.append(turn.button("pledge.button_confirm", f"kconf:{round_.id}", count=drafts))
        rows.append(tuple(first))
        if not live and asked.no_pledge_at is None:
            rows.append((turn.button("pledge.button_none", f"knone:{round_.id}", year=round_.year),))
        rows += [(turn.button("pledge.button_withdraw", f"kwd:{v.pledge.id}", code=v.pledge.code),) for v in live[:BUTTONED]]
    elif stage == store.Phase.REPORTING:
        confirmed = [v for v in views if v.pledge.state is PledgeState.CONFIRMED]
        # The ones not yet told first: they are what is asked.
        confirmed.sort(key=lambda v: v.outcome is not None)
        rows += [_outcome_row(turn, v) for v in confirmed[:BUTTONED]]
        if confirmed:
            lines.append(turn.text("pledge.report_hint"))
    turn.say_lines("pledge.round", lines, tuple(rows))


def _line(turn: Turn, view: PledgeView) -> str:
    pledge = view.pledge
    line = turn.text(
        "pledge.line", code=pledge.code, state=turn.text(f"pledge.state_{pledge.state.value}"),
        text=shorten(" ".join(pledge.text.split()), SHOWN), serves=view.serves or "—",
    )
    if view.outcome is not None:
        line += "\n" + turn.text(
            "pledge.line_outcome", outcome=_outcome(turn, view.outcome.outcome), account=shorten(view.outcome.account, SHOWN),
            date=local_date(turn.local_day(view.outcome.created_at), turn.language),
        )
    return line


# --- buttons outside the dialogue ---------------------------------------------------------


async def on_action(turn: Turn, verb: str, argument: str) -> bool:
    """A button of a list or a request; False when the payload is none of ours."""
    parts = argument.split(":")
    if verb not in VERBS or not parts[0].isdigit():
        return False
    if verb == "kout" and (len(parts) != 2 or parts[1] not in {k.value for k in PledgeOutcomeKind}):
        return False
    if verb != "kout" and len(parts) != 1:
        return False
    ident = int(parts[0])
    if in_progress(turn.state) is not None:
        # Opening another pledge's question would drop what is being written.
        refuse(turn, Place("k", None, "", ""), Verdict.OTHER)
        return True
    if verb == "kpl":
        await show_round(turn, ident)
    elif verb == "kadd":
        await _start_text(turn, ident)
    elif verb == "kconf":
        await _start_confirm(turn, ident)
    elif verb == "knone":
        await _start_none(turn, ident)
    elif verb == "kwd":
        await _start_withdraw(turn, ident)
    else:
        await _start_account(turn, ident, PledgeOutcomeKind(parts[1]))
    return True


async def _my_round(turn: Turn, round_id: int, *, pledging: bool) -> PledgeRound | None:
    """The round, when it asks the reader's institution (and, ``pledging``, still takes pledges); else said why."""
    round_ = await turn.session.get(PledgeRound, round_id)
    if round_ is None:
        turn.say("pledge.no_round", institution=turn.focal_point.institution.name)
        return None
    try:
        if pledging:
            store.check_pledging(round_, _today(turn))
        else:
            store.check_open(round_)
        await store.asked_in(turn.session, round_, turn.focal_point.institution_id)
    except RegistryError as exc:
        turn.say("pledge.refused", reason=reason(turn, exc))
        return None
    return round_


async def _my_pledge(turn: Turn, pledge_id: int) -> Pledge | None:
    pledge = await turn.session.get(Pledge, pledge_id)
    if pledge is None or pledge.institution_id != turn.focal_point.institution_id:
        turn.say("pledge.not_yours")
        return None
    return pledge


async def _start_text(turn: Turn, round_id: int) -> None:
    round_ = await _my_round(turn, round_id, pledging=True)
    if round_ is None:
        return
    turn.begin(TEXT, round=round_.id)
    _ask_text(turn, round_)


def _ask_text(turn: Turn, round_: PledgeRound, key: str = "pledge.ask_text", **values: object) -> None:
    turn.ask(key, (_cancel_row(turn),), year=round_.year, institution=turn.focal_point.institution.name, count=store.TEXT_MAX, **values)


async def _start_confirm(turn: Turn, round_id: int) -> None:
    round_ = await _my_round(turn, round_id, pledging=True)
    if round_ is None:
        return
    drafts = await store.pledge_views(turn.session, round_.id, institution_id=turn.focal_point.institution_id, states=[PledgeState.DRAFT])
    if not drafts:
        turn.say("pledge.nothing_to_confirm")
        return
    turn.begin(CONFIRM, round=round_.id, drafts=[v.pledge.id for v in drafts])
    lines = [turn.text("pledge.confirm_header", count=len(drafts), institution=turn.focal_point.institution.name, year=round_.year)]
    lines += [turn.text("pledge.confirm_line", code=v.pledge.code, text=v.pledge.text, serves=v.serves or "—") for v in drafts]
    lines.append(turn.text("pledge.confirm_footer", date=local_date(round_.report_back_on, turn.language)))
    turn.say_lines("pledge.confirm", lines, ((turn.bound("button.confirm", _YES), turn.bound("button.cancel", "cancel")),))


async def _start_none(turn: Turn, round_id: int) -> None:
    round_ = await _my_round(turn, round_id, pledging=True)
    if round_ is None:
        return
    turn.begin(NONE, round=round_.id)
    turn.say("pledge.none_confirm", ((turn.bound("button.confirm", _YES), turn.bound("button.cancel", "cancel")),),
             institution=turn.focal_point.institution.name, year=round_.year)


async def _start_withdraw(turn: Turn, pledge_id: int) -> None:
    pledge = await _my_pledge(turn, pledge_id)
    if pledge is None or await _my_round(turn, pledge.round_id, pledging=True) is None:
        return
    if pledge.state is PledgeState.WITHDRAWN:
        turn.say("pledge.refused", reason=turn.text("refusal.pledges.already_withdrawn", code=pledge.code))
        return
    turn.begin(WITHDRAW, round=pledge.round_id, pledge=pledge.id)
    turn.say("pledge.withdraw_confirm", ((turn.bound("pledge.button_withdraw", _YES, code=pledge.code), turn.bound("button.cancel", "cancel")),),
             code=pledge.code, text=shorten(pledge.text, 600))


async def _start_account(turn: Turn, pledge_id: int, kind: PledgeOutcomeKind) -> None:
    pledge = await _my_pledge(turn, pledge_id)
    if pledge is None:
        return
    try:
        await store.reportable(turn.session, pledge, _today(turn))
    except RegistryError as exc:
        turn.say("pledge.refused", reason=reason(turn, exc))
        return
    turn.begin(ACCOUNT, round=pledge.round_id, pledge=pledge.id, outcome=kind.value)
    turn.ask("pledge.ask_account", (_cancel_row(turn),), code=pledge.code, outcome=_outcome(turn, kind),
             text=shorten(pledge.text, 300), count=store.ACCOUNT_MAX)


# --- the dialogue -------------------------------------------------------------------------


async def on_text(turn: Turn, text: str) -> bool:
    """Words typed into the dialogue; False when no step of ours waits for them."""
    name = turn.state.name
    if not name.startswith(PREFIX + "."):
        return False
    if name in (REVIEW, CONFIRM, NONE, WITHDRAW):
        turn.say("pledge.press")
        return True
    round_ = await turn.session.get(PledgeRound, int(turn.state.data["round"]))
    if round_ is None:
        turn.reset()
        turn.say("pledge.no_round", institution=turn.focal_point.institution.name)
        return True
    if name == TEXT:
        await _review(turn, round_, text)
        return True
    await _save_outcome(turn, text)
    return True


async def _review(turn: Turn, round_: PledgeRound, text: str) -> None:
    """The pledge read back with what it serves; a refusal asks again, saying why."""
    try:
        cleaned = store.check_text(text)
        links = await store.read_links(turn.session, cleaned)
    except RegistryError as exc:
        _ask_text(turn, round_, "pledge.ask_text_again", reason=reason(turn, exc))
        return
    turn.go(REVIEW, text=cleaned, recs=list(links.recommendations), actions=list(links.actions))
    serves = ", ".join([*(f"#{r}" for r in links.recommendations), *links.actions])
    lines = [turn.text("pledge.review", text=cleaned)]
    lines.append(turn.text("pledge.review_serves", serves=serves) if serves else turn.text("pledge.review_no_links"))
    turn.say_lines("pledge.review", lines, ((turn.bound("pledge.button_save", _SAVE), turn.bound("button.cancel", "cancel")),))


async def on_dialogue_action(turn: Turn, action: str) -> bool:
    """A button of the dialogue, pressed on its very question; False when not ours."""
    name = turn.state.name
    if (name, action) not in {(REVIEW, _SAVE), (CONFIRM, _YES), (NONE, _YES), (WITHDRAW, _YES)}:
        return False
    data = dict(turn.state.data)
    round_ = await turn.session.get(PledgeRound, int(data["round"]))
    turn.reset()
    if round_ is None:
        turn.say("pledge.no_round", institution=turn.focal_point.institution.name)
        return True
    me, today, by = turn.focal_point, _today(turn), _author(turn).label
    try:
        if name == REVIEW:
            saved = await store.add_pledge(
                turn.session, round_, me.institution_id, str(data["text"]), _author(turn), today=today, now=turn.now,
                recommendations=[int(r) for r in data["recs"]], actions=[str(a) for a in data["actions"]], idempotency_key=_key(turn),
            )
            drafts = len(await store.drafts_of(turn.session, round_.id, me.institution_id))
            turn.say("pledge.saved", ((turn.button("pledge.button_add_another", f"kadd:{round_.id}"),
                                       turn.button("pledge.button_confirm", f"kconf:{round_.id}", count=drafts)),),
                     code=saved.code, date=local_date(round_.ask_by, turn.language))
        elif name == CONFIRM:
            confirmed = await store.confirm_drafts(turn.session, round_, me.institution_id, by=by, today=today, now=turn.now)
            turn.say("pledge.confirmed", count=len(confirmed), codes=", ".join(p.code for p in confirmed),
                     date=local_date(round_.report_back_on, turn.language))
        elif name == NONE:
            await store.declare_no_pledge(turn.session, round_, me.institution_id, by=by, today=today, now=turn.now)
            turn.say("pledge.none_saved", year=round_.year)
        else:
            withdrawn = await store.withdraw_pledge(turn.session, int(data["pledge"]), by=by, today=today, now=turn.now)
            turn.say("pledge.withdrawn", code=withdrawn.code)
    except RegistryError as exc:
        turn.say("pledge.refused", reason=reason(turn, exc))
    return True


async def _save_outcome(turn: Turn, text: str) -> None:
    data = dict(turn.state.data)
    pledge = await _my_pledge(turn, int(data["pledge"]))
    if pledge is None:
        turn.reset()
        return
    kind = PledgeOutcomeKind(str(data["outcome"]))
    try:
        store.check_account(text)
    except RegistryError as exc:
        turn.ask("pledge.ask_account_again", (_cancel_row(turn),), code=pledge.code, reason=reason(turn, exc))
        return
    turn.reset()
    try:
        saved = await store.record_outcome(turn.session, pledge, kind, text, _author(turn), today=_today(turn), now=turn.now, idempotency_key=_key(turn))
    except RegistryError as exc:
        turn.say("pledge.refused", reason=reason(turn, exc))
        return
    awaited = [
        v for v in await store.pledge_views(turn.session, pledge.round_id, institution_id=pledge.institution_id, states=[PledgeState.CONFIRMED])
        if v.outcome is None
    ]
    lines = [turn.text("pledge.outcome_saved", code=pledge.code, outcome=_outcome(turn, saved.outcome), account=saved.account)]
    rows: tuple[tuple[Button, ...], ...] = ()
    if awaited:
        following = awaited[0]
        lines.append(turn.text("pledge.outcome_next", count=len(awaited), code=following.pledge.code,
                               text=shorten(" ".join(following.pledge.text.split()), SHOWN)))
        rows = (_outcome_row(turn, following),)
    else:
        lines.append(turn.text("pledge.outcome_all_told"))
    turn.say_lines("pledge.outcome_saved", lines, rows)

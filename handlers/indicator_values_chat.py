"""A focal point gives an indicator's value in chat (issue 16), from the
button of its request (handlers.reminders.indicator_dates):

    ind:INDICATOR:YYYY-MM-DD     the value asked for that due date

Four questions, each answered by typing or with its button: the number, in
the reader's locale's format ("1 234,5" in French, "1.234,5" in Spanish,
"1,234.5" in English); the period it covers (the one asked, or two dates
typed); its source (the indicator's own, or another typed); a note, or
Skip. A value that is not a number so written, or outside the plausible
range the secretariat set, is asked again with the reason. The value is
stored once all four are in (storage.indicators.record_value, append-only,
once per delivery), and the reply shows its change from the value before
and from the baseline.

The dialogue's buttons are bound to it (handlers.buttons, kind n).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from handlers import buttons
from handlers.chat_port import Button
from handlers.turn import Turn
from handlers.update_text import is_skip
from messages import local_date, shorten
from messages.numbers import local_decimal, local_period, number_example, read_number
from storage.enums import Channel
from storage.errors import InvalidValue
from storage.indicator_models import Indicator
from storage.indicators import (
    Reporter,
    ValueData,
    check_measure,
    check_period,
    due_dates,
    open_request,
    outside_range,
    overlapping_period,
    record_value,
    series,
)
from storage.models import Institution

VALUE, PERIOD, SOURCE, NOTE = "indicator.value", "indicator.period", "indicator.source", "indicator.note"
buttons.register_dialogue("indicator", "n", {VALUE: "v", PERIOD: "p", SOURCE: "s", NOTE: "m"}, item_key="indicator")

# The button of a request: opens the dialogue, so refused while another is open.
VERB = "ind"
_PAYLOAD = re.compile(r"(\d+):(\d{4}-\d{2}-\d{2})")
# Two ISO dates with anything between: "2026-10-01 2026-12-31", "2026-10-01..2026-12-31", "du 2026-10-01 au 2026-12-31".
_PERIOD = re.compile(r"\D*(\d{4}-\d{2}-\d{2})\D+(\d{4}-\d{2}-\d{2})\D*")
PERIOD_EXAMPLE = "2026-10-01 2026-12-31"
SOURCE_CHARS = 500
NOTE_CHARS = 2000
# A source on its button: its first words.
SOURCE_ON_BUTTON = 40


def item_of(argument: str) -> int | None:
    """The indicator a request's button is for, to name it when refused."""
    found = _PAYLOAD.fullmatch(argument)
    return int(found[1]) if found else None


async def open_request_button(turn: Turn, argument: str) -> None:
    """``ind:ID:DATE``: begin the dialogue for that due date's value."""
    found = _PAYLOAD.fullmatch(argument)
    indicator = await turn.session.get(Indicator, int(found[1])) if found else None
    if found is None or indicator is None:
        turn.say("indicator.not_found")
        return
    try:
        due_on = date.fromisoformat(found[2])
    except ValueError:
        turn.say("indicator.not_found")
        return
    if indicator.institution_id != turn.focal_point.institution_id:
        turn.say("indicator.not_yours", code=indicator.code)
        return
    if indicator.retired_at is not None:
        # An old request's button: the secretariat no longer measures it.
        turn.say("indicator.retired", code=indicator.code, reason=indicator.retired_reason or "")
        return
    today = turn.local_day(turn.now)
    request = await open_request(turn.session, indicator, due_on, today)
    if request is None:
        if due_on in due_dates(indicator.first_due, indicator.frequency, today, due_on):
            turn.say("indicator.already_given", code=indicator.code, date=local_date(due_on, turn.language))
        else:
            turn.say("indicator.not_due", code=indicator.code, date=local_date(due_on, turn.language))
        return
    start, end = request.period
    turn.begin(VALUE, indicator=indicator.id, due=due_on.isoformat(), start=start.isoformat(), end=end.isoformat())
    await _ask_value(turn, indicator)


def _cancel_row(turn: Turn) -> tuple[Button, ...]:
    return (turn.bound("button.cancel", "cancel"),)


def _period(turn: Turn) -> tuple[date, date]:
    return date.fromisoformat(turn.state.data["start"]), date.fromisoformat(turn.state.data["end"])


async def _ask_value(turn: Turn, indicator: Indicator) -> None:
    lang = turn.language
    shown = await series(turn.session, [indicator.id])
    latest = shown[indicator.id].latest if indicator.id in shown else None
    last = ""
    if latest is not None:
        # The line break is ours, not the catalog's: gettext's checks want a
        # msgstr to begin as its msgid does.
        last = "\n" + turn.text(
            "indicator.last_value", value=local_decimal(latest.value.value, lang), unit=indicator.unit,
            period=local_period(latest.value.period_start, latest.value.period_end, lang),
        )
    turn.ask(
        "indicator.ask_value", (_cancel_row(turn),), code=indicator.code, definition=" ".join(indicator.definition.split()),
        unit=indicator.unit, period=local_period(*_period(turn), lang), last=last, example=number_example(lang),
    )


def _range(turn: Turn, indicator: Indicator) -> str:
    lang = turn.language
    low, high = indicator.plausible_min, indicator.plausible_max
    if low is not None and high is not None:
        return turn.text("indicator.range_between", min=local_decimal(low, lang), max=local_decimal(high, lang))
    if low is not None:
        return turn.text("indicator.range_at_least", min=local_decimal(low, lang))
    return turn.text("indicator.range_at_most", max=local_decimal(high or Decimal(0), lang))


def _refuse_value(turn: Turn, indicator: Indicator, value: Decimal) -> None:
    """Outside the plausible range: said with the range, and asked again."""
    turn.go(VALUE)
    turn.ask(
        "indicator.out_of_range", (_cancel_row(turn),), value=local_decimal(value, turn.language), unit=indicator.unit,
        code=indicator.code, range=_range(turn, indicator),
    )


def _ask_period(turn: Turn, key: str = "indicator.ask_period", **values: object) -> None:
    period = local_period(*_period(turn), turn.language)
    turn.ask(key, ((turn.bound("button.this_period", "per:ok", period=period),), _cancel_row(turn)), period=period, example=PERIOD_EXAMPLE, **values)


def _ask_source(turn: Turn, indicator: Indicator) -> None:
    if indicator.data_source:
        use = turn.bound("button.use_source", "src:default", source=shorten(indicator.data_source, SOURCE_ON_BUTTON))
        turn.ask("indicator.ask_source_default", ((use,), _cancel_row(turn)), source=indicator.data_source)
    else:
        turn.ask("indicator.ask_source", (_cancel_row(turn),))


def _ask_note(turn: Turn) -> None:
    turn.ask("indicator.ask_note", ((turn.bound("button.skip", "skip"),), _cancel_row(turn)))


async def _refused_overlap(turn: Turn, indicator: Indicator, start: date, end: date) -> bool:
    """A period that overlaps a value's period without being it is asked
    again, naming that period (storage.indicators.check_overlap); the same
    period is a correction and goes on."""
    other = await overlapping_period(turn.session, indicator.id, start, end)
    if other is None:
        return False
    if turn.state.name != PERIOD:
        turn.go(PERIOD)
    _ask_period(turn, "indicator.period_overlaps", given=local_period(start, end, turn.language), other=local_period(*other, turn.language))
    return True


async def _indicator(turn: Turn) -> Indicator | None:
    indicator = await turn.session.get(Indicator, int(turn.state.data["indicator"]))
    if indicator is None:
        turn.reset()
        turn.say("indicator.not_found")
    return indicator


async def on_text(turn: Turn, text: str) -> bool:
    """Typed inside the dialogue; False when it is not open."""
    step = turn.state.name
    if not step.startswith("indicator."):
        return False
    indicator = await _indicator(turn)
    if indicator is None:
        return True
    text = text.strip()
    if step == VALUE:
        value = read_number(text, turn.language)
        if value is None:
            turn.ask("indicator.not_a_number", (_cancel_row(turn),), text=shorten(text, 40), example=number_example(turn.language))
            return True
        try:
            value = check_measure(value)
        except InvalidValue:
            turn.ask("indicator.too_precise", (_cancel_row(turn),), value=shorten(text, 40))
            return True
        if outside_range(indicator, value):
            _refuse_value(turn, indicator, value)
            return True
        turn.go(PERIOD, value=str(value))
        _ask_period(turn)
        return True
    if step == PERIOD:
        found = _PERIOD.fullmatch(text)
        try:
            start, end = (date.fromisoformat(found[1]), date.fromisoformat(found[2])) if found else (None, None)
        except ValueError:
            start = end = None
        if start is None or end is None:
            _ask_period(turn, "indicator.bad_period", text=shorten(text, 40))
            return True
        try:
            check_period(start, end, turn.local_day(turn.now))
        except InvalidValue:
            _ask_period(turn, "indicator.period_reversed" if end < start else "indicator.period_future")
            return True
        if await _refused_overlap(turn, indicator, start, end):
            return True
        turn.go(SOURCE, start=start.isoformat(), end=end.isoformat())
        _ask_source(turn, indicator)
        return True
    if step == SOURCE:
        if is_skip(text) and indicator.data_source:
            return await on_action(turn, "src:default")
        if is_skip(text) or not text:
            _ask_source(turn, indicator)
            return True
        turn.go(NOTE, source=" ".join(text.split())[:SOURCE_CHARS])
        _ask_note(turn)
        return True
    if step == NOTE:
        await _save(turn, indicator, None if is_skip(text) else text[:NOTE_CHARS])
        return True
    return False


async def on_action(turn: Turn, action: str) -> bool:
    """The dialogue's own buttons; False when the press is not for it."""
    step = turn.state.name
    if not step.startswith("indicator."):
        return False
    indicator = await _indicator(turn)
    if indicator is None:
        return True
    if step == PERIOD and action == "per:ok":
        if await _refused_overlap(turn, indicator, *_period(turn)):
            return True
        turn.go(SOURCE)
        _ask_source(turn, indicator)
        return True
    if step == SOURCE and action == "src:default" and indicator.data_source:
        turn.go(NOTE, source=indicator.data_source)
        _ask_note(turn)
        return True
    if step == NOTE and action == "skip":
        await _save(turn, indicator, None)
        return True
    return False


async def _save(turn: Turn, indicator: Indicator, note: str | None) -> None:
    data = turn.state.data
    value = Decimal(data["value"])
    if outside_range(indicator, value):
        # The secretariat changed the range while the dialogue was open.
        _refuse_value(turn, indicator, value)
        return
    start, end = _period(turn)
    person = turn.focal_point
    institution = await turn.session.scalar(select(Institution.code).where(Institution.id == person.institution_id))
    platform = turn.message.address.platform
    if await _refused_overlap(turn, indicator, start, end):
        # Another value came meanwhile (the secretariat's, another focal point's).
        return
    stored = await record_value(
        turn.session, indicator,
        ValueData(value, start, end, data["source"], note, due_on=date.fromisoformat(data["due"])),
        Reporter(f"{person.name} ({institution})", Channel(platform.value), focal_point_id=person.id),
        idempotency_key=f"{platform.value}:{turn.message.delivery_id}", today=turn.local_day(turn.now), at=turn.now,
    )
    turn.reset()
    lang = turn.language
    point = next((p for p in (await series(turn.session, [indicator.id]))[indicator.id].history if p.value.id == stored.id), None)
    lines = [turn.text(
        "indicator.saved", code=indicator.code, value=local_decimal(stored.value, lang), unit=indicator.unit,
        period=local_period(stored.period_start, stored.period_end, lang), source=stored.source,
    )]
    if point is not None and point.change is not None:
        lines.append(turn.text("indicator.change_previous", change=local_decimal(point.change, lang, signed=True), unit=indicator.unit))
    if point is not None and point.from_baseline is not None and indicator.baseline_date is not None:
        lines.append(turn.text(
            "indicator.change_baseline", change=local_decimal(point.from_baseline, lang, signed=True), unit=indicator.unit,
            baseline=local_decimal(indicator.baseline_value or Decimal(0), lang), date=local_date(indicator.baseline_date, lang),
        ))
    if indicator.target_value is not None and indicator.target_date is not None:
        lines.append(turn.text("indicator.target", target=local_decimal(indicator.target_value, lang), unit=indicator.unit, date=local_date(indicator.target_date, lang)))
    turn.say_lines("indicator.saved", lines)

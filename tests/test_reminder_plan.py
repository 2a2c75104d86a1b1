"""The reminder plan, on its own: steps, digests, escalation, snooze, holidays."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

from handlers.chat_port import ChatAddress
from handlers.reminders.plan import DeadlineFacts, Policy, Recipient, Snapshot, apply, plan_day, simulate
from storage.deadlines import DeadlineName
from storage.enums import DeadlineKind, FocalPointRole, OutboxKind, Platform

MOJ = 1
DUE = date(2027, 1, 29)  # a Friday


def person(pid: int, name: str, role: FocalPointRole, tz: str = "Europe/Lisbon", **kw: object) -> Recipient:
    return Recipient("focal_point", pid, name, "en", tz, ChatAddress(Platform.TELEGRAM, str(pid), str(pid)), role=role, institution_id=MOJ, **kw)  # type: ignore[arg-type]


def world(*people: Recipient, secretariat: tuple[Recipient, ...] = ()) -> Snapshot:
    deadline = DeadlineFacts(10, DeadlineName(DeadlineKind.INTERNAL_INPUT, "Inputs for the UPR mid-term report"), DeadlineKind.INTERNAL_INPUT, DUE, frozenset({1, 2, 3}))
    return Snapshot(list(people), list(secretariat), {MOJ: "Ministry of Justice"}, [deadline], {MOJ: frozenset({1, 2, 3, 4})})


ANA = person(11, "Ana", FocalPointRole.TECHNICAL)
BRUNO = person(12, "Bruno", FocalPointRole.ALTERNATE)
CARLA = person(13, "Carla", FocalPointRole.SENIOR)
POLICY = Policy(country="PT")


def sends(planned: list, who: Recipient) -> list[tuple[date, str, tuple[str, ...]]]:  # type: ignore[type-arg]
    return [(p.day, p.kind.value, tuple(i.step for i in p.items)) for p in planned if p.recipient.id == who.id]


def test_the_steps_before_and_after_the_deadline() -> None:
    planned = simulate(world(ANA), POLICY, date(2026, 11, 1), date(2027, 2, 28))
    assert sends(planned, ANA) == [
        (date(2026, 11, 30), "reminder", ("60",)),
        (date(2026, 12, 30), "reminder", ("30",)),
        (date(2027, 1, 15), "reminder", ("14",)),
        (date(2027, 1, 22), "reminder", ("7",)),
        (date(2027, 1, 26), "reminder", ("3",)),
        (date(2027, 1, 28), "reminder", ("1",)),
        # Overdue: the next working day, then every third working day.
        (date(2027, 2, 1), "reminder", ("overdue-1",)),
        (date(2027, 2, 4), "reminder", ("overdue-2",)),
        # Carnival Tuesday (16 Feb) is not a public holiday in Portugal's law; 9-12 Feb plain.
        (date(2027, 2, 9), "reminder", ("overdue-3",)),
        (date(2027, 2, 12), "reminder", ("overdue-4",)),
        (date(2027, 2, 17), "reminder", ("overdue-5",)),
        (date(2027, 2, 22), "reminder", ("overdue-6",)),
        (date(2027, 2, 25), "reminder", ("overdue-7",)),
    ]
    # Sent at nine in Lisbon: winter time, 09:00 UTC.
    assert planned[0].send_at == datetime(2026, 11, 30, 9, tzinfo=timezone.utc)


def test_a_step_on_a_holiday_or_weekend_goes_the_next_working_day() -> None:
    # Due Wednesday 10 February 2027: the 60-day step falls on Saturday
    # 12 December 2026 and goes out on Monday 14 December.
    snapshot = world(ANA)
    snapshot.deadlines = [replace(snapshot.deadlines[0], due_on=date(2027, 2, 10))]
    planned = simulate(snapshot, POLICY, date(2026, 12, 1), date(2027, 1, 31))
    days = [d for d, _, steps in sends(planned, ANA)]
    assert date(2026, 12, 14) in days  # 12 December was a Saturday
    # 8 December (Immaculate Conception) and 25 December are holidays in Portugal.
    assert date(2026, 12, 8) not in days and date(2026, 12, 25) not in days
    assert all(d.weekday() < 5 for d in days)


def test_steps_missed_during_a_snooze_fold_into_one_reminder() -> None:
    snoozed = replace(ANA, snoozed_until=date(2027, 1, 24))
    planned = simulate(world(snoozed), POLICY, date(2027, 1, 1), date(2027, 1, 31))
    assert sends(planned, snoozed)[0] == (date(2027, 1, 25), "reminder", ("7",))
    assert [d for d, _, _ in sends(planned, snoozed)] == [date(2027, 1, 25), date(2027, 1, 26), date(2027, 1, 28)]


def test_one_digest_a_day_with_every_open_item() -> None:
    snapshot = world(ANA)
    second = DeadlineFacts(11, DeadlineName(DeadlineKind.INTERNAL_INPUT, "CEDAW follow-up inputs"), DeadlineKind.INTERNAL_INPUT, date(2026, 12, 30 + 0), frozenset({4}))
    snapshot.deadlines.append(second)
    today = plan_day(date(2026, 11, 30), snapshot, POLICY)
    (digest,) = today
    assert [(i.deadline.id, i.step, i.recommendations) for i in digest.items] == [(10, "60", (1, 2, 3)), (11, "30", (4,))]
    apply(snapshot, today)
    assert plan_day(date(2026, 11, 30), snapshot, POLICY) == []


def test_answered_items_drop_out_and_a_fully_answered_deadline_stops() -> None:
    snapshot = world(ANA)
    snapshot.answered = {(MOJ, 10, 1), (MOJ, 10, 2)}
    (digest,) = plan_day(date(2026, 11, 30), snapshot, POLICY)
    assert digest.items[0].recommendations == (3,)
    snapshot.answered.add((MOJ, 10, 3))
    assert plan_day(date(2026, 12, 30), snapshot, POLICY) == []


def test_escalation_goes_to_the_alternate_then_the_senior() -> None:
    planned = simulate(world(ANA, BRUNO, CARLA), POLICY, date(2026, 11, 1), date(2027, 2, 10))
    assert sends(planned, BRUNO) == [(date(2027, 1, 15), "escalation", ("escalate-1",))]
    assert sends(planned, CARLA) == [(date(2027, 1, 22), "escalation", ("escalate-2",))]
    # Ana keeps her reminders meanwhile.
    assert [d for d, _, _ in sends(planned, ANA)][:3] == [date(2026, 11, 30), date(2026, 12, 30), date(2027, 1, 15)]


def test_without_an_alternate_the_senior_is_told_first() -> None:
    planned = simulate(world(ANA, CARLA), POLICY, date(2026, 11, 1), date(2027, 2, 10))
    assert sends(planned, CARLA) == [(date(2027, 1, 15), "escalation", ("escalate-1",))]


def test_a_deadline_first_seen_overdue_escalates_at_once_to_the_alternate_then_the_senior() -> None:
    snapshot = world(ANA, BRUNO, CARLA)
    planned = simulate(snapshot, POLICY, date(2027, 2, 1), date(2027, 2, 10))
    assert sends(planned, BRUNO) == [(date(2027, 2, 1), "escalation", ("escalate-1",))]
    assert sends(planned, CARLA) == [(date(2027, 2, 3), "escalation", ("escalate-2",))]


def test_the_secretariat_gets_a_daily_overdue_digest() -> None:
    maria = Recipient("secretariat", 1, "María", "es", "America/Montevideo", ChatAddress(Platform.SLACK, "U0MARIA", "D0MARIA", "T0"))
    planned = simulate(world(ANA, secretariat=(maria,)), Policy(country="UY"), date(2027, 1, 25), date(2027, 2, 3))
    digests = [p for p in planned if p.kind is OutboxKind.OVERDUE_DIGEST]
    assert [p.day for p in digests] == [date(2027, 2, 1), date(2027, 2, 2), date(2027, 2, 3)]
    assert [(institution, deadline.id, still_open) for institution, deadline, still_open in digests[0].overdue] == [(MOJ, 10, 3)]
    assert digests[0].send_at == datetime(2027, 2, 1, 12, tzinfo=timezone.utc)  # 09:00 in Montevideo


def test_nobody_reachable_gets_nothing() -> None:
    unlinked = replace(ANA, address=None)
    assert simulate(world(unlinked), POLICY, date(2026, 11, 1), date(2027, 2, 10)) == []


def test_dst_keeps_nine_local_in_every_zone() -> None:
    people = [person(20 + i, tz, FocalPointRole.TECHNICAL, tz=tz) for i, tz in enumerate(("Europe/Lisbon", "America/Asuncion", "Pacific/Apia"))]
    snapshot = Snapshot(people, [], {MOJ: "MOJ"}, [DeadlineFacts(10, DeadlineName(DeadlineKind.INTERNAL_INPUT, "Inputs"), DeadlineKind.INTERNAL_INPUT, date(2023, 11, 3), frozenset({1}))], {MOJ: frozenset({1})})
    # Reminders across Paraguay's switch to summer time (1 October 2023).
    planned = simulate(snapshot, Policy(steps_days=(35, 30)), date(2023, 9, 25), date(2023, 10, 5))
    assert {p.send_at.astimezone(ZoneInfo(p.recipient.timezone)).time() for p in planned} == {time(9)}
    assert len(planned) == 6
    asuncion = {p.day: p.send_at for p in planned if p.recipient.timezone == "America/Asuncion"}
    assert asuncion == {date(2023, 9, 29): datetime(2023, 9, 29, 13, tzinfo=timezone.utc), date(2023, 10, 4): datetime(2023, 10, 4, 12, tzinfo=timezone.utc)}


def test_an_unreachable_technical_focal_point_brings_the_alternate_in_at_the_first_step() -> None:
    unreachable = replace(ANA, address=None)
    planned = simulate(world(unreachable, BRUNO, CARLA), POLICY, date(2026, 11, 1), date(2026, 12, 31))
    assert sends(planned, unreachable) == []
    assert sends(planned, BRUNO) == [(date(2026, 11, 30), "escalation", ("escalate-1",))]
    # The senior follows the schedule from there (no reminder was delivered: only lateness brings them in).
    assert sends(planned, CARLA) == []


def test_a_person_reminded_and_escalated_to_the_same_day_gets_one_digest() -> None:
    from handlers.reminders.compose import compose

    # Bruno is the technical focal point of the Ministry of Women and the
    # alternate of Justice; on 15 January he is due both a reminder and an
    # escalation: both come in one message.
    snapshot = world(ANA, BRUNO, CARLA)
    snapshot.deadlines.append(DeadlineFacts(11, DeadlineName(DeadlineKind.INTERNAL_INPUT, "Women's rights inputs"), DeadlineKind.INTERNAL_INPUT, DUE, frozenset({4})))
    snapshot.assigned = {MOJ: frozenset({1, 2, 3}), 2: frozenset({4})}
    snapshot.institutions[2] = "Ministry of Women"
    snapshot.focal_points.append(replace(BRUNO, role=FocalPointRole.TECHNICAL, institution_id=2))
    for person, deadline, institution in ((ANA.id, 10, MOJ), (BRUNO.id, 11, 2)):
        snapshot.taken |= {(person, deadline, "60"), (person, deadline, "30")}
        snapshot.delivered[(institution, deadline)] = {"60", "30"}
    (bruno,) = [p for p in plan_day(date(2027, 1, 15), snapshot, POLICY) if p.recipient.id == BRUNO.id]
    assert bruno.kind is OutboxKind.REMINDER and sorted((i.deadline.id, i.step) for i in bruno.items) == [(10, "escalate-1"), (11, "14")]
    text = compose(bruno, snapshot).text
    assert text.startswith("Reminder: Ministry of Women still owes") and "For your attention: Ministry of Justice" in text
    assert "has not yet reported on the recommendations below, after 2 reminders to Ana." in text


def test_a_person_with_their_own_working_hours_is_written_to_when_their_day_starts() -> None:
    early = replace(ANA, hours="07:30-13:00")
    (first, *_) = [p for p in simulate(world(early), POLICY, date(2026, 11, 1), date(2027, 2, 28)) if p.recipient.id == early.id]
    local = first.send_at.astimezone(ZoneInfo("Europe/Lisbon"))
    assert (first.day, local.time()) == (date(2026, 11, 30), time(7, 30))
    assert first.not_after.astimezone(ZoneInfo("Europe/Lisbon")).time() == time(13, 0)
    # Everyone else keeps the configured 09:00-17:00.
    (other, *_) = [p for p in simulate(world(BRUNO), POLICY, date(2026, 11, 1), date(2027, 2, 28)) if p.recipient.id == BRUNO.id]
    assert other.send_at.astimezone(ZoneInfo("Europe/Lisbon")).time() == time(9, 0)

"""The words of a planned reminder, in its reader's language."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from handlers.chat_port import Button, OutgoingMessage, command_words
from handlers.item_lists import no_change_all_action
from handlers.deadline_names import deadline_name
from handlers.reminders.plan import Item, Planned, Recipient, Snapshot, grouped, level_of
from messages import local_date, t
from storage.enums import OutboxKind
from storage.priority_order import rank_of

# A digest lists this many items a deadline (a linked group is one); "Show all" opens the rest.
MAX_LISTED = 20
# Buttons a message: within Slack's 25 an actions block and Telegram's comfort.
MAX_BUTTONS = 24
# Items with their own buttons (open, no change): every listed one, up to 40
# (80 buttons, within Telegram's 100 a keyboard; Slack takes 25 an actions block).
MAX_ITEM_ROWS = 40
BUTTONS_A_ROW = 4


def sayer(reader: Recipient) -> Callable[..., str]:
    """A catalog lookup in ``reader``'s language, with their platform's command words."""
    words = command_words(reader.address.platform) if reader.address else {}

    def say(key: str, **values: object) -> str:
        return t(key, reader.language, **{**words, **values})

    return say


def compose(planned: Planned, snapshot: Snapshot) -> OutgoingMessage:
    reader = planned.recipient
    lang = reader.language
    say = sayer(reader)

    if planned.kind is OutboxKind.OVERDUE_DIGEST:
        lines = [say("overdue.header")] + [
            say("overdue.line", institution=snapshot.institutions.get(i, "?"), title=deadline_name(d.name, lang), date=local_date(d.due_on, lang), count=n)
            for i, d, n in planned.overdue
        ]
        return OutgoingMessage("overdue.digest", "\n".join(lines), language=lang)

    reminders = [i for i in planned.items if not i.step.startswith("escalate-")]
    escalations = [i for i in planned.items if i.step.startswith("escalate-")]
    lines: list[str] = []
    buttons: list[Button] = []
    items_rows: list[tuple[Button, ...]] = []
    with_buttons: list[int] = []
    # Items with their own buttons: a linked group is one, whatever its members.
    buttoned = 0
    for_requests = False
    extra: list[Button] = []

    def section(header: str, items: list[Item]) -> None:
        nonlocal for_requests, buttoned
        lines.extend([header, ""])
        for item in items:
            title, due = deadline_name(item.deadline.name, lang), local_date(item.deadline.due_on, lang)
            if item.deadline.due_on < planned.day:
                lines.append(say("reminder.deadline_overdue", title=title, date=due))
            else:
                lines.append(say("reminder.deadline", title=title, date=due, when=_when(item, planned.day, say)))
            if item.deadline.request_id is not None and not item.recommendations and len(buttons) < MAX_BUTTONS:
                buttons.append(Button(say("button.answer"), f"req:{item.deadline.request_id}"))
            entries = listed(item.recommendations, snapshot)
            for group, recs in entries[:MAX_LISTED]:
                rec = recs[0]
                request = f":{item.deadline.request_id}" if item.deadline.request_id is not None else ""
                if group is not None:
                    # A linked group once: its members of this deadline, one answer for all.
                    names = ", ".join(f"#{r} {snapshot.labels.get(r, '')}".rstrip() for r in recs)
                    lines.append(say("reminder.group_item", title=snapshot.group_titles.get(group, ""), items=names))
                    if len(items_rows) < MAX_ITEM_ROWS and not set(recs) & set(with_buttons):
                        items_rows.append((
                            Button(say("button.open_group", id=rec), f"grp:{group}"),
                            Button(say("button.no_change_group", id=rec), f"gsame:{group}{request}"),
                        ))
                        with_buttons.extend(recs)
                        buttoned += 1
                        for_requests = for_requests or bool(request)
                    continue
                lines.append(f"• #{rec} {snapshot.labels.get(rec, '')}".rstrip())
                if len(items_rows) < MAX_ITEM_ROWS and rec not in with_buttons:
                    # Open it, or say in one tap that nothing changed.
                    # On a request's deadline, "no change" answers the request too.
                    items_rows.append((Button(f"#{rec}", f"rec:{rec}"), Button(say("button.no_change_item", id=rec), f"same:{rec}{request}")))
                    with_buttons.append(rec)
                    buttoned += 1
                    for_requests = for_requests or bool(request)
            hidden = len(entries) - MAX_LISTED
            if hidden > 0:
                lines.append(say("reminder.more", count=hidden))
                extra.append(Button(say("button.show_all"), f"f:d:{item.deadline.id}"))
            lines.append("")

    if reminders:
        header = "reminder.header_request" if _only_requests(reminders) else "reminder.header"
        section(say(header, institution=snapshot.institutions.get(reminders[0].institution_id, "?")), reminders)
    for institution in dict.fromkeys(i.institution_id for i in escalations):
        items = [i for i in escalations if i.institution_id == institution]
        reminded = [p.name for p in snapshot.focal_points if p.institution_id == institution and p.id != reader.id and p.role and p.role.value == "technical"]
        sent = max(len(snapshot.delivered.get((institution, i.deadline.id), ())) for i in items)
        header = "escalation.header_request" if _only_requests(items) else "escalation.header"
        section(say(header, institution=snapshot.institutions.get(institution, "?"), names=", ".join(reminded) or "—", count=sent), items)
    if reminders:
        lines.append(say("reminder.footer_request", button=say("button.answer")) if _only_requests(reminders) else say("reminder.footer"))
        extra.append(Button(say("button.snooze_week"), "snooze:7"))
    rows = [tuple(buttons[i:i + BUTTONS_A_ROW]) for i in range(0, len(buttons), BUTTONS_A_ROW)] + items_rows
    # With requests among the items, the button names this message: its own
    # buttons say which request each item answers.
    if buttoned > 1 and (every := no_change_all_action(with_buttons, planned.key, by_message=for_requests)) is not None:
        rows.append((Button(say("button.no_change_all"), every),))
    if extra:
        rows.append(tuple(extra[:BUTTONS_A_ROW]))
    key = "reminder.digest" if reminders else "escalation.digest"
    return OutgoingMessage(key, "\n".join(lines).strip(), tuple(rows), language=lang)


def listed(recommendations: tuple[int, ...], snapshot: Snapshot) -> list[tuple[int | None, tuple[int, ...]]]:
    """(group or None, its recommendations) of a deadline's open items: a
    linked group's members together, once; high priority first (a group by
    its highest member), then by first id."""
    return sorted(grouped(recommendations, snapshot), key=lambda e: (rank_of(level_of(e[1], snapshot)), e[1][0]))


def _only_requests(items: list[Item]) -> bool:
    """Requests that name no recommendation: nothing to "update", an answer awaited."""
    return all(i.deadline.request_id is not None and not i.recommendations for i in items)


def _when(item: Item, today: date, say: Callable[..., str]) -> str:
    days = (item.deadline.due_on - today).days
    if days > 1:
        return say("reminder.in_days", count=days)
    return say("reminder.tomorrow") if days == 1 else say("reminder.today")


def unreachable_notice(language: str, name: str, institution: str, platform: str, reason: str) -> OutgoingMessage:
    key = "unreachable.notice"
    return OutgoingMessage(key, t(key, language, name=name, institution=institution, platform=platform.capitalize(), reason=reason), language=language)

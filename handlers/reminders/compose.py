"""The words of a planned reminder, in its reader's language."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from bot.chat_port import Button, OutgoingMessage, command_words
from handlers.reminders.plan import Item, Planned, Snapshot
from messages import local_date, t
from storage.enums import OutboxKind

# A digest lists this many recommendations a deadline; "Show all" opens the rest.
MAX_LISTED = 20
# Buttons a message: within Slack's 25 an actions block and Telegram's comfort.
MAX_BUTTONS = 24
BUTTONS_A_ROW = 4


def compose(planned: Planned, snapshot: Snapshot) -> OutgoingMessage:
    reader = planned.recipient
    lang = reader.language
    words = command_words(reader.address.platform) if reader.address else {}

    def say(key: str, **values: object) -> str:
        return t(key, lang, **{**words, **values})

    if planned.kind is OutboxKind.OVERDUE_DIGEST:
        lines = [say("overdue.header")] + [
            say("overdue.line", institution=snapshot.institutions.get(i, "?"), title=d.title, date=local_date(d.due_on, lang), count=n)
            for i, d, n in planned.overdue
        ]
        return OutgoingMessage("overdue.digest", "\n".join(lines), language=lang)

    institution = snapshot.institutions.get(planned.items[0].institution_id, "?")
    if planned.kind is OutboxKind.ESCALATION:
        reminded = [p.name for p in snapshot.focal_points if p.institution_id == planned.items[0].institution_id and p.id != reader.id and p.role and p.role.value == "technical"]
        sent = max(len(snapshot.delivered.get((i.institution_id, i.deadline.id), ())) for i in planned.items)
        header = say("escalation.header", institution=institution, names=", ".join(reminded) or "—", count=sent)
        key = "escalation.digest"
    else:
        header = say("reminder.header", institution=institution)
        key = "reminder.digest"
    lines = [header, ""]
    buttons: list[Button] = []
    extra: list[Button] = []
    for item in planned.items:
        lines.append(say("reminder.deadline", title=item.deadline.title, date=local_date(item.deadline.due_on, lang), when=_when(item, planned.day, say, lang)))
        for rec in item.recommendations[:MAX_LISTED]:
            lines.append(f"• #{rec} {snapshot.labels.get(rec, '')}".rstrip())
            if len(buttons) < MAX_BUTTONS:
                buttons.append(Button(f"#{rec}", f"rec:{rec}"))
        hidden = len(item.recommendations) - MAX_LISTED
        if hidden > 0:
            lines.append(say("reminder.more", count=hidden))
            extra.append(Button(say("button.show_all"), f"f:d:{item.deadline.id}"))
        lines.append("")
    if planned.kind is OutboxKind.REMINDER:
        lines.append(say("reminder.footer"))
        extra.append(Button(say("button.snooze_week"), "snooze:7"))
    rows = [tuple(buttons[i:i + BUTTONS_A_ROW]) for i in range(0, len(buttons), BUTTONS_A_ROW)]
    if extra:
        rows.append(tuple(extra[:BUTTONS_A_ROW]))
    return OutgoingMessage(key, "\n".join(lines).strip(), tuple(rows), language=lang)


def _when(item: Item, today: date, say: Callable[..., str], lang: str) -> str:
    days = (item.deadline.due_on - today).days
    if days > 1:
        return say("reminder.in_days", days=days)
    if days == 1:
        return say("reminder.tomorrow")
    if days == 0:
        return say("reminder.today")
    return say("reminder.overdue", date=local_date(item.deadline.due_on, lang))


def unreachable_notice(language: str, name: str, institution: str, platform: str, reason: str) -> OutgoingMessage:
    key = "unreachable.notice"
    return OutgoingMessage(key, t(key, language, name=name, institution=institution, platform=platform.capitalize(), reason=reason), language=language)

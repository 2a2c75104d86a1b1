"""/links in chat: the secretariat reads the suggested and confirmed groups of
linked recommendations, and coordinators decide them, with the functions
`nmrf-bot links` uses (storage.links), so the rules and the audit log are
the same.

    /links                    pending suggestions (a page at a time, each with
                              Confirm and Dismiss…) and the groups
    /links show 3             a group's members
    /links group 3 9 12       link recommendations by hand
    /links split 3 12 14      members 12 and 14 leave group 3 (for a group of
                              their own; one alone for none)
    /links merge 3 5          groups 3 and 5 become group 3
    /links dissolve 3         every member leaves group 3
    /links remove 12 14       they leave their groups
    /links rename 3 Marital rape

Confirming a suggestion from the list is one press: the list is its summary,
and a group is undone with split or dissolve. Dismissing, and every typed
change, show what would change (worked out in a savepoint that is rolled
back, so a refusal comes before Confirm) and apply on Confirm."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from handlers import buttons, confirm_step, refusals, roles
from handlers.chat_port import Button
from handlers.secretariat_routes import Action, Command, Dialogue, Routes
from handlers.turn import SecretariatTurn
from messages import local_number, shorten
from storage import links as store
from storage.audit import current_actor
from storage.enums import Platform, SecretariatRole
from storage.errors import InvalidValue, RegistryError
from storage.models import LinkGroup, LinkSuggestion

LIST = "links.list"
CONFIRM = "links.confirm"
buttons.register_dialogue("links", "l", {LIST: "l", CONFIRM: "k"})
VIEWER, COORDINATOR = SecretariatRole.VIEWER, SecretariatRole.COORDINATOR
# Coordinators' buttons (confirm, dismiss, apply); anyone's (pages).
VERB, PAGE_VERB = "links", "lkp"
PAGE = 5
# Members shown per suggestion, groups listed on the first page.
_MEMBERS_SHOWN, _GROUPS_SHOWN = 6, 10
_TEXT = 80


def _word(turn: SecretariatTurn) -> str:
    return ("/" if turn.message.address.platform is Platform.TELEGRAM else "") + "links"


def _ids_text(ids: Sequence[int]) -> str:
    shown = ", ".join(f"#{i}" for i in ids[:12])
    return shown + (f" (+{len(ids) - 12})" if len(ids) > 12 else "")


def _numbers(words: Sequence[str]) -> list[int] | None:
    """'12 14', '12,14' or '#12 #14': whole numbers, in order; None if any is not.
    Not made unique here: in "split 3 3 5" the group and a member may share a number."""
    found: list[int] = []
    for word in words:
        for part in word.replace(",", " ").split():
            part = part.lstrip("#")
            if not part.isdigit() or len(part) > 9:
                return None
            found.append(int(part))
    return found



# --- reading -------------------------------------------------------------------


async def command(turn: SecretariatTurn, args: str) -> None:
    words = args.split()
    op = words[0].lower() if words else ""
    numbers = _numbers(words[1:]) if words else []
    if not words:
        turn.begin(LIST)
        await _show_list(turn, 0)
    elif op == "show" and numbers and len(numbers) == 1:
        await _show_group(turn, numbers[0])
    elif op == "rename" and len(words) >= 3 and _numbers(words[1:2]):
        if roles.require(turn, COORDINATOR):
            await _propose(turn, op, _numbers(words[1:2]) or [], title=" ".join(words[2:]))
    elif op in _CHANGES and op != "rename" and numbers:
        if roles.require(turn, COORDINATOR):
            await _propose(turn, op, numbers)
    else:
        turn.say("links.usage", links=_word(turn))


def _member_lines(turn: SecretariatTurn, ids: Sequence[int], found: dict[int, store.Brief]) -> list[str]:
    lines = []
    for rec_id in ids[:_MEMBERS_SHOWN]:
        brief = found.get(rec_id)
        text = shorten(" ".join(brief.text.split()), _TEXT) if brief else "…"
        lines.append(turn.text("links.member", id=rec_id, mechanism=brief.mechanism if brief else "", text=text))
    if len(ids) > _MEMBERS_SHOWN:
        lines.append(turn.text("links.more_members", count=len(ids) - _MEMBERS_SHOWN))
    return lines


def _score(turn: SecretariatTurn, suggestion: LinkSuggestion) -> str:
    return f"{local_number(round(100 * suggestion.score), turn.language)} %"


async def _show_list(turn: SecretariatTurn, offset: int) -> None:
    pending = await store.pending_suggestions(turn.session)
    offset = max(0, min(offset, (len(pending) - 1) // PAGE * PAGE)) if pending else 0
    page = pending[offset : offset + PAGE]
    found = await store.briefs(turn.session, {i for s in page for i in s.member_ids})
    taken = await store.grouped_since(turn.session, page)
    lines: list[str] = []
    rows: list[tuple[Button, ...]] = []
    may_change = roles.permits(turn, COORDINATOR)
    if page:
        lines.append(turn.text("links.suggestions_header", count=len(pending), first=offset + 1, last=offset + len(page)))
        for s in page:
            key = "links.suggestion_add" if s.group_id is not None else "links.suggestion_new"
            lines.append(turn.text(key, id=s.id, score=_score(turn, s), group=s.group_id or ""))
            lines += _member_lines(turn, s.member_ids, found)
            if s.id in taken:
                where = ", ".join(turn.text("links.member_in_group", id=r, group=g) for r, g in taken[s.id].items())
                lines.append(turn.text("links.grouped_since", members=where))
            if may_change:
                rows.append((turn.bound("links.button_confirm", f"{VERB}:ok:{s.id}", id=s.id), turn.bound("links.button_dismiss", f"{VERB}:no:{s.id}", id=s.id)))
    else:
        lines.append(turn.text("links.no_suggestions"))
    if offset == 0:
        groups = await store.list_groups(turn.session)
        lines.append("")
        if groups:
            lines.append(turn.text("links.groups_header", count=len(groups), links=_word(turn)))
            for g in groups[:_GROUPS_SHOWN]:
                title = f" “{shorten(g.title, 60)}”" if g.title else ""
                lines.append(turn.text("links.group_line", count=g.members, id=g.id, title=title, mechanisms=", ".join(g.mechanisms)))
            if len(groups) > _GROUPS_SHOWN:
                lines.append(turn.text("links.more_groups", count=len(groups) - _GROUPS_SHOWN))
        else:
            lines.append(turn.text("links.no_groups"))
    paging = []
    if offset > 0:
        paging.append(turn.bound("button.previous_page", f"{PAGE_VERB}:{max(0, offset - PAGE)}"))
    if offset + PAGE < len(pending):
        paging.append(turn.bound("button.next_page", f"{PAGE_VERB}:{offset + PAGE}"))
    turn.go(LIST, offset=offset)
    turn.say_lines("links.list", lines, tuple(rows) + ((tuple(paging),) if paging else ()))


async def _show_group(turn: SecretariatTurn, group_id: int) -> None:
    group = await turn.session.get(LinkGroup, group_id)
    if group is None:
        turn.say("links.unknown_group", id=group_id, links=_word(turn))
        return
    found = await store.members(turn.session, group_id)
    if not found:
        turn.say("links.show_empty", id=group_id)
        return
    title = f" “{group.title}”" if group.title else ""
    lines = [turn.text("links.show_header", count=len(found), id=group_id, title=title, country=found[0].country)]
    lines += [
        turn.text("links.member", id=b.id, mechanism=b.mechanism, text=shorten(" ".join(b.text.split()), 160)) for b in found
    ]
    turn.say_lines("links.show", lines)


async def on_page(turn: SecretariatTurn, argument: str) -> bool:
    if turn.state.name != LIST or not argument.isdigit():
        return False
    await _show_list(turn, int(argument))
    return True


# --- deciding --------------------------------------------------------------------


async def _group(turn: SecretariatTurn, numbers: list[int], title: str, done: bool) -> str:
    group = await store.create_group(turn.session, numbers, current_actor(), turn.now)
    ids = _ids_text(await store.member_ids(turn.session, group.id))
    # A group's number is known once it is made (PostgreSQL does not give back one rolled back).
    return turn.text("links.grouped", group=group.id, ids=ids) if done else turn.text("links.would_group", ids=ids)


async def _split(turn: SecretariatTurn, numbers: list[int], title: str, done: bool) -> str:
    result = await store.split(turn.session, numbers[0], numbers[1:], current_actor(), turn.now)
    key = "links.split_new" if result.new_group else "links.split_none"
    moved = turn.text(key, ids=_ids_text(result.moved), group=numbers[0])
    kept = turn.text("links.keeps", group=numbers[0], ids=_ids_text(result.kept)) if result.kept else turn.text("links.emptied", group=numbers[0])
    larger = f" {turn.text('links.larger_stays', group=numbers[0])}" if result.larger_stays else ""
    return f"{moved} {kept}{larger}"


async def _merge(turn: SecretariatTurn, numbers: list[int], title: str, done: bool) -> str:
    assigned = await store.institutions_of_groups(turn.session, numbers)
    group = await store.merge(turn.session, numbers, current_actor(), turn.now)
    ids = _ids_text(await store.member_ids(turn.session, group.id))
    merged = turn.text("links.merged", groups=", ".join(map(str, sorted(numbers))), group=group.id, ids=ids)
    if len(set(assigned.values())) < 2:
        return merged
    none = turn.text("links.no_institution")
    each = "; ".join(turn.text("links.group_institutions", group=gid, names=", ".join(names) or none) for gid, names in sorted(assigned.items()))
    return f"{merged}\n{turn.text('links.institutions_differ', groups=each)}"


async def _dissolve(turn: SecretariatTurn, numbers: list[int], title: str, done: bool) -> str:
    if len(numbers) != 1:
        raise InvalidValue("name one group to dissolve", key="refusal.links.dissolve_one")
    ids = await store.dissolve(turn.session, numbers[0], current_actor(), turn.now)
    return turn.text("links.dissolved", group=numbers[0], ids=_ids_text(ids))


async def _dismiss(turn: SecretariatTurn, numbers: list[int], title: str, done: bool) -> str:
    suggestion = await store.dismiss(turn.session, numbers[0], current_actor(), turn.now)
    return turn.text("links.dismissed", id=suggestion.id, ids=_ids_text(suggestion.member_ids))


async def _remove(turn: SecretariatTurn, numbers: list[int], title: str, done: bool) -> str:
    result = await store.remove_members(turn.session, numbers, current_actor(), turn.now)
    told = turn.text("links.removed", ids=_ids_text(result.removed))
    if result.dissolved:
        told += " " + turn.text("links.removed_dissolved", groups=", ".join(map(str, result.dissolved)), ids=_ids_text(result.also_removed))
    return told


async def _rename(turn: SecretariatTurn, numbers: list[int], title: str, done: bool) -> str:
    group = await store.rename(turn.session, numbers[0], title, current_actor(), turn.now)
    return turn.text("links.renamed", group=group.id, title=group.title)


# Each typed change: what it does, told as it will be (the summary) and as done.
_CHANGES: dict[str, Callable[[SecretariatTurn, list[int], str, bool], Awaitable[str]]] = {
    "group": _group, "split": _split, "merge": _merge, "dissolve": _dissolve, "remove": _remove, "rename": _rename,
}
_ALL = {**_CHANGES, "dismiss": _dismiss}


async def _propose(turn: SecretariatTurn, op: str, numbers: list[int], title: str = "") -> None:
    if op == "split" and len(numbers) < 2:
        turn.say("links.usage", links=_word(turn))
        return
    try:
        outcome = await confirm_step.in_savepoint(turn, lambda: _ALL[op](turn, numbers, title, False), keep=False)
    except RegistryError as exc:
        turn.say("links.failed", reason=refusals.reason(turn, exc))
        return
    if turn.state.name == LIST and op == "dismiss":
        turn.go(CONFIRM, op=op, numbers=numbers, title=title)
    else:
        turn.begin(CONFIRM, op=op, numbers=numbers, title=title)
    confirm_step.ask(turn, "links.confirm", f"{VERB}:apply", turn.text("links.would", outcome=outcome))


async def on_action(turn: SecretariatTurn, argument: str) -> bool:
    verb, _, number = argument.partition(":")
    if (data := confirm_step.confirmed(turn, verb, CONFIRM)) is not None:
        op, numbers, title = str(data["op"]), [int(n) for n in data["numbers"]], str(data.get("title") or "")  # type: ignore[union-attr]
        try:
            outcome = await confirm_step.in_savepoint(turn, lambda: _ALL[op](turn, numbers, title, True), keep=True)
        except RegistryError as exc:
            turn.say("links.failed", reason=refusals.reason(turn, exc))
            return True
        turn.say("links.done", outcome=outcome)
        return True
    if verb in ("ok", "no") and number.isdigit() and turn.state.name == LIST:
        if verb == "no":
            await _propose(turn, "dismiss", [int(number)])
            return True
        offset = int(turn.state.data.get("offset", 0))  # type: ignore[arg-type]
        try:
            group = await confirm_step.in_savepoint(turn, lambda: store.confirm(turn.session, int(number), current_actor(), turn.now), keep=True)
        except RegistryError as exc:
            turn.say("links.failed", reason=refusals.reason(turn, exc))
        else:
            ids = await store.member_ids(turn.session, group.id)
            turn.say("links.confirmed", id=int(number), group=group.id, ids=_ids_text(ids), links=_word(turn))
        # The list again, without what was decided: its buttons went with the press.
        await _show_list(turn, offset)
        return True
    return False


async def _typed(turn: SecretariatTurn, text: str) -> bool:
    if turn.state.name == CONFIRM:
        turn.say("links.press")
        return True
    return False


ROUTES = Routes(
    commands={"/links": Command(VIEWER, command, "secretariat.help_links")},
    actions={VERB: Action(COORDINATOR, on_action), PAGE_VERB: Action(VIEWER, on_page)},
    dialogues={"links.": Dialogue(VIEWER, _typed)},
)

"""/find WORDS: a secretariat user searches the recommendation texts in chat,
with the database's own full-text search (storage.search, the function
`nmrf-bot recommendations find` prints), best match first, a page at a time
with Previous and Next buttons bound to that search (an older search's
buttons are refused as stale).

Filters are typed among the words: ``mechanism:CRC``, ``status:in_progress``,
``institution:MOJ`` and the bare word ``unassigned`` (so that word itself is
never searched for), each in the reader's language too (``estado:en_curso``,
``sin-asignar``: the catalogs' ``words.*``, messages.words). Accents do not
matter: "ninos" finds "niños"."""

from __future__ import annotations

from handlers import assign_chat, buttons, roles
from handlers.chat_port import Button
from handlers.secretariat_routes import Action, Command, Dialogue, Routes
from handlers.turn import SecretariatTurn
from messages import shorten
from messages.words import read_word
from storage.enums import ImplementationStatus, Platform, SecretariatRole
from storage.errors import InvalidValue
from storage.recommendations import RecommendationFilter
from storage.search import search_recommendations, search_words

RESULTS = "find.results"
buttons.register_dialogue("find", "f", {RESULTS: "r"})
VIEWER = SecretariatRole.VIEWER
VERB = "find"
PAGE = 8
_FILTERS = ("mechanism", "status", "institution")
_FILTER_WORDS = {name: f"words.filter.{name}" for name in _FILTERS}
_STATUS_WORDS = {s.value: f"words.status.{s.value}" for s in ImplementationStatus}
_UNASSIGNED = {"unassigned": "words.unassigned"}


def _word(turn: SecretariatTurn) -> str:
    return ("/" if turn.message.address.platform is Platform.TELEGRAM else "") + "find"


def parse(args: str, language: str = "en") -> tuple[str, dict[str, str], bool] | str:
    """(words, filters, unassigned), or the one token that is not understood;
    a status is given as its value (in_progress) whatever language it was typed in."""
    words: list[str] = []
    filters: dict[str, str] = {}
    unassigned = False
    for token in args.split():
        # A Chinese or Japanese keyboard types the colon full width (：).
        typed, colon, value = token.replace("\uff1a", ":").partition(":")
        name = read_word(typed, _FILTER_WORDS, language) if colon else None
        if name is not None:
            if not value:
                return token
            if name == "status":
                status = read_word(value, _STATUS_WORDS, language)
                if status is None:
                    return token
                value = status
            filters[name] = value
        elif read_word(token, _UNASSIGNED, language):
            unassigned = True
        else:
            words.append(token)
    return " ".join(words), filters, unassigned


async def command(turn: SecretariatTurn, args: str) -> None:
    parsed = parse(args, turn.language)
    if isinstance(parsed, str):
        turn.say("find.bad_filter", token=shorten(parsed, 40), statuses=", ".join(s.value for s in ImplementationStatus), find=_word(turn))
        return
    query, filters, unassigned = parsed
    if not search_words(query):
        turn.say("find.usage", find=_word(turn))
        return
    turn.begin(RESULTS, query=query, filters=filters, unassigned=unassigned)
    await _show(turn, 0)


async def _show(turn: SecretariatTurn, offset: int) -> None:
    data = turn.state.data
    filters = dict(data["filters"])
    chosen = RecommendationFilter(
        mechanism=filters.get("mechanism"), institution=filters.get("institution"),
        status=ImplementationStatus(filters["status"].lower()) if "status" in filters else None,
    )
    try:
        page = await search_recommendations(turn.session, str(data["query"]), chosen, unassigned=bool(data["unassigned"]), offset=offset, limit=PAGE)
    except InvalidValue:
        turn.reset()
        turn.say("find.usage", find=_word(turn))
        return
    if not page.rows:
        turn.reset()
        turn.say("find.none", query=shorten(str(data["query"]), 80))
        return
    lines = [turn.text("find.header", count=page.total, first=offset + 1, last=offset + len(page.rows))]
    for row in page.rows:
        lines.append(turn.text(
            "find.line", id=row["id"], label=f"{row['mechanism']} {row['paragraph'] or ''}".strip(),
            text=shorten(" ".join(str(row["text"]).split()), 160), status=turn.text(f"status.{row['status']}"),
            institutions=row["institutions"] or turn.text("find.unassigned"),
        ))
    # A coordinator assigns from a result (handlers.assign_chat takes it from there).
    picks: list[tuple[Button, ...]] = []
    if roles.permits(turn, SecretariatRole.COORDINATOR):
        row_buttons = [turn.button("find.assign_one", f"{assign_chat.PICK_VERB}:{row['id']}", id=row["id"]) for row in page.rows]
        picks = [tuple(row_buttons[i:i + 4]) for i in range(0, len(row_buttons), 4)]
        if len(page.rows) > 1:
            ids = ",".join(str(row["id"]) for row in page.rows)
            picks.append((turn.button("find.assign_page", f"{assign_chat.PICK_VERB}:{ids}", count=len(page.rows)),))
    paging = []
    if page.has_previous:
        paging.append(turn.bound("button.previous_page", f"{VERB}:{max(0, offset - PAGE)}"))
    if page.has_next:
        paging.append(turn.bound("button.next_page", f"{VERB}:{offset + PAGE}"))
    turn.say_lines("find.results", lines, tuple(picks) + ((tuple(paging),) if paging else ()))


async def on_action(turn: SecretariatTurn, argument: str) -> bool:
    if turn.state.name != RESULTS or not argument.isdigit():
        return False
    await _show(turn, int(argument))
    return True


async def _new_search(turn: SecretariatTurn, text: str) -> bool:
    # Words typed while results are shown are a new search.
    await command(turn, text)
    return True


ROUTES = Routes(
    commands={"/find": Command(VIEWER, command, "secretariat.help_find")},
    actions={VERB: Action(VIEWER, on_action)},
    dialogues={"find.": Dialogue(VIEWER, _new_search)},
)

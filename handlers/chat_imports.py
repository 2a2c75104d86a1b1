"""Imports in chat: a coordinator sends a UHRI export, a UPR Info CSV or the
nmrf-bot template, reads a preview of what it would create or change (or
every bad row), and presses Import to apply it: the importer the CLI runs
(storage.importers.run), all or nothing, with the same [imports] limits.

Nothing is written before the button: the preview is the import itself,
run in a savepoint that is rolled back. The file waits on disk
(storage.import_staging) until the button, a cancel or the sweep; the
dialogue keeps only its name. The Import button runs the import again on
the data as it is then, and says so when the result is not the preview's.

A large file takes a minute to read: the download, the preview and the
import run after the turn that asked for them has committed (a TurnJob),
in a transaction of their own, so the platform's other deliveries are not
held up; the dialogue waits meanwhile in a state of its own, and a job
finds the person moved on (a cancel, another file) and then says nothing."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers import buttons, roles
from handlers.chat_port import (
    ChatGateway,
    DeliveryFailed,
    FetchFailed,
    FileFetcher,
    IncomingMessage,
    OutgoingMessage,
    ReceivedFile,
    RecipientUnreachable,
    command_words,
)
from handlers.secretariat_routes import Action, Command, Dialogue, Files, Routes
from handlers.turn import SecretariatTurn
from messages import local_number, t
from storage.audit import acting_as
from storage.conversations import State, load_state, lock_state, save_state
from storage.database import is_unavailable, writing
from storage.enums import ImportSource, SecretariatRole
from storage.import_staging import ImportStaging
from storage.importers.errors import ImportRejected, LimitExceeded, RowError, UnreadableFile
from storage.importers.limits import DEFAULT_LIMITS, ImportLimits
from storage.models import SecretariatUser

if TYPE_CHECKING:
    # The importers and their readers are some 7 MiB resident, in every
    # `nmrf-bot run` for an import in chat that may never come: loaded at the first.
    from storage.importers.run import ImportOptions, ImportReport

log = logging.getLogger(__name__)

COORDINATOR = SecretariatRole.COORDINATOR
KIND, CONFIRM = "import.kind", "import.confirm"
# While a job reads the file (download, preview) or imports it.
READING, APPLYING = "import.reading", "import.applying"
buttons.register_dialogue("import", "i", {KIND: "k", CONFIRM: "c", READING: "r", APPLYING: "a"})

_SUFFIXES = (".csv", ".xlsx")
# A chat message lists this many bad rows; the rest are counted.
LISTED_ROWS = 30
_SOURCES = {source.value: source for source in ImportSource}
# Tries of a job's transaction while the database is busy or briefly gone.
_DB_ATTEMPTS = 5


@dataclass(frozen=True)
class ImportSettings:
    """What the engine gives imports in chat (bot.app builds it from [imports])."""

    fetcher: FileFetcher | None
    staging: ImportStaging
    limits: ImportLimits = DEFAULT_LIMITS
    max_file_bytes: int = 50 * 1024 * 1024
    # A template's focal points without a time zone get this one ([schedule] timezone).
    default_timezone: str = "UTC"
    # A staged file older than this belongs to a dialogue that has timed out.
    keep_for: timedelta = field(default=timedelta(hours=2))


class _MovedOn(Exception):
    """Leaves a job's transaction, rolled back: the dialogue is no longer the one that asked."""


class _Preview(Exception):
    """Leaves the savepoint with the report, so that everything is rolled back."""

    def __init__(self, report: ImportReport) -> None:
        super().__init__("preview")
        self.report = report


async def _how(turn: SecretariatTurn, args: str) -> None:
    turn.say("imports.how")


async def on_files(turn: SecretariatTurn) -> bool:
    settings = turn.imports
    files = turn.message.files
    if settings is None or settings.fetcher is None:
        turn.say("imports.unavailable")
        return True
    if len(files) > 1:
        turn.say("imports.one_file")
        return True
    received = files[0]
    full = PurePath(received.name or "").name
    # The type from the whole name; only what is shown is cut.
    suffix = PurePath(full).suffix.lower()
    name = (full if len(full) <= 120 else full[:100] + "…" + full[-19:]) or "?"
    if suffix not in _SUFFIXES:
        turn.say("imports.wrong_type", name=name)
        return True
    if received.size_bytes is not None and received.size_bytes > settings.max_file_bytes:
        turn.say("imports.too_large", name=name, limit=local_number(settings.max_file_bytes // 2**20, turn.language))
        return True
    if turn.state.name == APPLYING:
        # Replaced half-way, the import would be dropped unsaid: it finishes first.
        turn.say("imports.wait", name=str(turn.state.data.get("sent", "?")))
        return True
    # A file sent while another is read or waits for its button replaces it.
    _drop(turn)
    turn.begin(READING, sent=name)
    turn.say("imports.reading", name=name)
    turn.jobs.append(_Job(settings, turn.message, turn.user.id, turn.state.data["conversation"], turn.now, name, READING,
                          received=received))
    return True


async def on_action(turn: SecretariatTurn, argument: str) -> bool:
    settings = turn.imports
    state = turn.state
    # Only the buttons the dialogue sent, bound to its step: a made-up payload is not a press.
    if settings is None or not state.name.startswith("import.") or buttons.read(turn.message.action or "").place is None:
        return False
    key, name = str(state.data.get("file", "")), str(state.data.get("sent", "?"))
    token = str(state.data.get("conversation", ""))
    if argument == "no":
        settings.staging.discard(key)
        turn.reset()
        turn.say("imports.cancelled", name=name)
        return True
    if state.name == KIND and argument.startswith("k:") and argument[2:] in _SOURCES:
        turn.go(READING)
        turn.say("imports.reading", name=name)
        turn.jobs.append(_Job(settings, turn.message, turn.user.id, token, turn.now, name, READING, key=key, source=_SOURCES[argument[2:]]))
        return True
    if state.name == CONFIRM and argument == "go":
        turn.go(APPLYING)
        turn.say("imports.applying", name=name)
        turn.jobs.append(_Job(settings, turn.message, turn.user.id, token, turn.now, name, APPLYING, key=key,
                              source=ImportSource(state.data["source"]), preview=state.data.get("preview") or {}))
        return True
    return False


def _drop(turn: SecretariatTurn) -> None:
    """The file of an import dialogue left for another, removed with it."""
    if turn.imports is not None and turn.state.name.startswith("import."):
        turn.imports.staging.discard(turn.state.data.get("file"))


async def _no_text(turn: SecretariatTurn, text: str) -> bool:
    # The dialogue waits for a button or a job; typed words get the reminder, not the help.
    name = str(turn.state.data.get("sent", "?"))
    turn.say("imports.wait" if turn.state.name in (READING, APPLYING) else "imports.press", name=name)
    return True


@dataclass(frozen=True)
class _Job:
    """A download and preview (READING) or an import (APPLYING), run after
    the turn that asked for it has committed (handlers.turn.TurnJob)."""

    settings: ImportSettings
    message: IncomingMessage
    user_id: int
    # The dialogue's token: the job goes on only while the dialogue is still
    # this one, at the step it was left at.
    token: str
    now: datetime
    name: str
    step: str
    received: ReceivedFile | None = None
    key: str | None = None
    source: ImportSource | None = None
    preview: dict[str, Any] = field(default_factory=dict)

    async def run(self, sessions: async_sessionmaker[AsyncSession], gateway: ChatGateway) -> None:
        address = self.message.address
        replies: list[OutgoingMessage] = []
        key, problem = self.key, None
        try:
            if key is None:
                key, problem = await self._fetch()
            turn: SecretariatTurn | None = None
            for attempt in range(1, _DB_ATTEMPTS + 1):
                try:
                    turn = await self._once(sessions, key, problem)
                    break
                except Exception as exc:
                    # A database busy or briefly gone: the transaction repeats nothing.
                    if not is_unavailable(exc) or attempt == _DB_ATTEMPTS:
                        raise
                    await asyncio.sleep(min(0.2 * 2**attempt, 5.0))
            # Once committed: a file no dialogue waits for any more is removed.
            if turn is None or turn.state.data.get("file") != key:
                self.settings.staging.discard(key)
            if turn is None:
                return
            replies = turn.replies
        except Exception:  # noqa: BLE001 - whatever broke, the person must hear of it and the dialogue end
            log.exception("import of %s for secretariat user %s failed", self.name, self.user_id)
            self.settings.staging.discard(key)
            replies = await self._failed(sessions)
        for reply in replies:
            try:
                await gateway.send(address, reply)
            except (RecipientUnreachable, DeliveryFailed) as exc:
                log.warning("import reply to %s:%s not delivered: %s", address.platform.value, address.user_id, exc)
                break

    async def _once(self, sessions: async_sessionmaker[AsyncSession], key: str | None,
                    problem: tuple[str, dict[str, object]] | None) -> SecretariatTurn | None:
        """The preview or the import, in one transaction, as a turn of the
        dialogue; None when the dialogue is no longer the one that asked."""
        try:
            return await self._in_transaction(sessions, key, problem)
        except _MovedOn:
            return None

    async def _in_transaction(self, sessions: async_sessionmaker[AsyncSession], key: str | None,
                              problem: tuple[str, dict[str, object]] | None) -> SecretariatTurn | None:
        address = self.message.address
        async with writing(sessions) as session:
            user = await session.get(SecretariatUser, self.user_id)
            state = await load_state(session, address.platform, address.workspace_id, address.user_id)
            if user is None or not user.active or not self._still_asked(state):
                # Cancelled, or another file sent meanwhile: nothing to say.
                return None
            if not SecretariatRole(user.role).allows(SecretariatRole.COORDINATOR):
                # Demoted since the press: the import is not theirs to make any more.
                turn = SecretariatTurn(self.message, session, state, self.now, user=user, imports=self.settings)
                turn.reset()
                roles.refuse(turn, SecretariatRole.COORDINATOR)
                await save_state(session, address.platform, address.workspace_id, address.user_id, turn.state, self.now)
                return turn
            turn = SecretariatTurn(self.message, session, state, self.now, user=user, imports=self.settings)
            with acting_as(f"secretariat:{user.id}"):
                if problem is not None:
                    turn.reset()
                    turn.say(problem[0], **problem[1])
                elif self.step == APPLYING:
                    assert self.source is not None and key is not None
                    await _apply(turn, key, self.name, self.source, self.preview)
                else:
                    assert key is not None
                    await _identify(turn, key, self.name, self.source)
                await session.flush()
            # The person may have moved on while this ran (a cancel, another
            # file): then nothing of it is kept, an import neither.
            if not self._still_asked(await lock_state(session, address.platform, address.workspace_id, address.user_id)):
                raise _MovedOn()
            await save_state(session, address.platform, address.workspace_id, address.user_id, turn.state, self.now)
        return turn

    def _still_asked(self, state: State) -> bool:
        return state.name == self.step and state.data.get("conversation") == self.token

    async def _fetch(self) -> tuple[str | None, tuple[str, dict[str, object]] | None]:
        """The file downloaded and staged (its key), or why it could not be."""
        settings, received = self.settings, self.received
        assert settings.fetcher is not None and received is not None
        staging = settings.staging
        staging.sweep(self.now, settings.keep_for)
        temporary = staging.incoming()
        try:
            await settings.fetcher.fetch(self.message.address, received, str(temporary), settings.max_file_bytes)
            return staging.keep(temporary, self.user_id, self.token, PurePath(self.name).suffix), None
        except FetchFailed as exc:
            if exc.too_large:
                limit = min(exc.limit_bytes or settings.max_file_bytes, settings.max_file_bytes)
                return None, ("imports.too_large", {"name": self.name, "limit": limit // 2**20})
            log.warning("import file from secretariat user %s not downloaded: %s", self.user_id, exc.reason)
            return None, ("imports.fetch_failed", {"name": self.name})
        finally:
            temporary.unlink(missing_ok=True)

    async def _failed(self, sessions: async_sessionmaker[AsyncSession]) -> list[OutgoingMessage]:
        """The dialogue ended, if it is still this one, and the person told."""
        address, language = self.message.address, "en"
        try:
            async with writing(sessions) as session:
                user = await session.get(SecretariatUser, self.user_id)
                language = user.language if user is not None else language
                state = await load_state(session, address.platform, address.workspace_id, address.user_id)
                if state.data.get("conversation") == self.token and state.name.startswith("import."):
                    await save_state(session, address.platform, address.workspace_id, address.user_id, State(), self.now)
        except Exception:  # noqa: BLE001 - the database may be what failed; the dialogue then times out
            log.warning("import dialogue of secretariat user %s not closed after its failure", self.user_id)
        text = t("imports.failed", language, name=self.name, **command_words(address.platform))
        return [OutgoingMessage("imports.failed", text, language=language)]


async def _identify(turn: SecretariatTurn, key: str, name: str, source: ImportSource | None) -> None:
    """Which importer (asked with buttons when it cannot be told), then the preview."""
    settings = turn.imports
    assert settings is not None
    path = settings.staging.path(key)
    if source is None and path is not None:
        from storage.importers.detect import detect_source

        try:
            source = detect_source(path, settings.limits)
        except (UnreadableFile, LimitExceeded) as exc:
            turn.reset()
            turn.say("imports.unreadable", name=name, reason=_reason(exc, path, name))
            return
        if source is None:
            turn.go(KIND, file=key)
            turn.say("imports.which", (
                tuple(turn.bound(f"imports.kind_{s.value}", f"imp:k:{s.value}") for s in ImportSource),
                (turn.bound("button.cancel", "imp:no"),),
            ), name=name)
            return
    await _preview(turn, key, name, source or ImportSource.TEMPLATE)


def _options(turn: SecretariatTurn) -> ImportOptions:
    from storage.importers.run import ImportOptions

    settings = turn.imports
    assert settings is not None
    return ImportOptions(default_timezone=settings.default_timezone, today=turn.now.date(), limits=settings.limits)


async def _preview(turn: SecretariatTurn, key: str, name: str, source: ImportSource) -> None:
    settings = turn.imports
    assert settings is not None
    path = settings.staging.path(key)
    if path is None:
        turn.reset()
        turn.say("imports.gone", name=name)
        return
    from storage.importers.run import import_into

    try:
        async with turn.session.begin_nested():
            raise _Preview(await import_into(turn.session, source, path, _options(turn), file_name=name))
    except _Preview as done:
        report = done.report
    except (ImportRejected, UnreadableFile, LimitExceeded) as exc:
        turn.reset()
        _refuse(turn, exc, path, name)
        return
    counts = _counts(report)
    turn.go(CONFIRM, file=key, source=source.value, preview=counts)
    lines = [turn.text("imports.preview", name=name, kind=turn.text(f"imports.kind_{source.value}"))]
    lines += _table_lines(turn, counts, "imports.would")
    turn.say_lines("imports.preview", lines, (
        (turn.bound("button.import", "imp:go"), turn.bound("button.cancel", "imp:no")),
    ))


async def _apply(turn: SecretariatTurn, key: str, name: str, source: ImportSource, preview: dict[str, Any]) -> None:
    settings = turn.imports
    assert settings is not None
    path = settings.staging.path(key)
    turn.reset()
    if path is None:
        turn.say("imports.gone", name=name)
        return
    from storage.importers.run import import_into

    try:
        # A savepoint: a refused import rolls back its own writes, and the
        # turn still commits its state and says why.
        async with turn.session.begin_nested():
            report = await import_into(turn.session, source, path, _options(turn), file_name=name)
    except (ImportRejected, UnreadableFile, LimitExceeded) as exc:
        _refuse(turn, exc, path, name)
        return
    counts = _counts(report)
    lines = [turn.text("imports.done", name=name, kind=turn.text(f"imports.kind_{source.value}"))]
    lines += _table_lines(turn, counts, "imports.did")
    if counts != preview:
        lines.append(turn.text("imports.differs"))
    log.info("secretariat user %s imported %s (%s): %s", turn.user.id, name, source.value, counts)
    turn.say_lines("imports.done", lines)


def _counts(report: ImportReport) -> dict[str, dict[str, int]]:
    return {
        table: {"rows": c.rows, "created": c.created, "updated": c.updated, "unchanged": c.unchanged, "merged": c.merged,
                "folded": c.folded, "moved": c.moved}
        for table, c in report.tables.items()
    }


def _table_lines(turn: SecretariatTurn, counts: dict[str, dict[str, int]], key: str) -> list[str]:
    lang = turn.language
    lines = []
    for table, c in counts.items():
        lines.append(turn.text(key, table=turn.text(f"imports.table_{table}"), count=c["rows"],
                               created=local_number(c["created"], lang), updated=local_number(c["updated"], lang),
                               unchanged=local_number(c["unchanged"], lang)))
        # Rows that another source had already given (UHRI and UPR Info).
        if c.get("merged"):
            lines.append(turn.text("imports.merged", count=c["merged"]))
        # UPR Info's one row per recommending State of a paragraph (storage.recommendation_match).
        for name in ("folded", "moved"):
            if c.get(name):
                lines.append(turn.text(f"imports.{name}", count=c[name]))
    return lines


def _refuse(turn: SecretariatTurn, exc: Exception, path: Path, name: str) -> None:
    if not isinstance(exc, ImportRejected):
        turn.say("imports.unreadable", name=name, reason=_reason(exc, path, name))
        return
    listed = exc.errors[:LISTED_ROWS]
    more = len(exc.errors) - len(listed) + exc.more
    lines = [turn.text("imports.rejected", name=name, count=exc.rows)]
    lines += [_row_line(turn, error) for error in listed]
    if more:
        lines.append(turn.text("imports.more", count=more))
    lines.append(turn.text("imports.send_again"))
    turn.say_lines("imports.rejected", lines)


def _row_line(turn: SecretariatTurn, error: RowError) -> str:
    row = local_number(error.row, turn.language)
    line = (turn.text("imports.bad_cell", row=row, column=error.column, reason=error.reason) if error.column
            else turn.text("imports.bad_row", row=row, reason=error.reason))
    return turn.text("imports.in_sheet", sheet=error.sheet, line=line) if error.sheet else line


def _reason(exc: Exception, path: Path, name: str) -> str:
    """The importer's reason, naming the file as the person sent it, not where it was staged."""
    reason = str(exc).replace(str(path), name).removeprefix(f"{name}: ").removeprefix(f"{name} is ").removeprefix(f"{name} ")
    # The message the person reads says that nothing was kept, once.
    return reason.rstrip(".").removesuffix("; nothing imported")


ROUTES = Routes(
    commands={"/import": Command(COORDINATOR, _how, "imports.help")},
    actions={"imp": Action(COORDINATOR, on_action)},
    dialogues={"import.": Dialogue(COORDINATOR, _no_text, on_cancel=_drop)},
    files=Files(COORDINATOR, on_files),
)

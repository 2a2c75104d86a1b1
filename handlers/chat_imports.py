"""Imports in chat: a coordinator sends a UHRI export, a UPR Info CSV or the
nmrf-bot template, reads a preview of what it would create or change (or
every bad row), and presses Import to apply it: the importer the CLI runs
(storage.importers.run), all or nothing, with the same [imports] limits.

Nothing is written before the button: the preview is the import itself,
run in a savepoint that is rolled back. The file waits on disk
(storage.import_staging) until the button, a cancel or the sweep; the
dialogue keeps only its name. The Import button runs the import again on
the data as it is then, and says so when the result is not the preview's."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path, PurePath
from typing import Any

from handlers import buttons
from handlers.chat_port import FetchFailed, FileFetcher
from handlers.secretariat_routes import Action, Command, Dialogue, Files, Routes
from handlers.turn import SecretariatTurn
from messages import local_number
from storage.enums import ImportSource, SecretariatRole
from storage.import_staging import ImportStaging
from storage.importers.detect import detect_source
from storage.importers.errors import ImportRejected, LimitExceeded, RowError, UnreadableFile
from storage.importers.limits import DEFAULT_LIMITS, ImportLimits
from storage.importers.run import ImportOptions, ImportReport, import_into

log = logging.getLogger(__name__)

COORDINATOR = SecretariatRole.COORDINATOR
KIND, CONFIRM = "import.kind", "import.confirm"
buttons.register_dialogue("import", "i", {KIND: "k", CONFIRM: "c"})

_SUFFIXES = (".csv", ".xlsx")
# A chat message lists this many bad rows; the rest are counted.
LISTED_ROWS = 30
_SOURCES = {source.value: source for source in ImportSource}


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
    name = PurePath(received.name or "").name[:120] or "?"
    suffix = PurePath(name).suffix.lower()
    if suffix not in _SUFFIXES:
        turn.say("imports.wrong_type", name=name)
        return True
    limit_mb = local_number(settings.max_file_bytes // 2**20, turn.language)
    if received.size_bytes is not None and received.size_bytes > settings.max_file_bytes:
        turn.say("imports.too_large", name=name, limit=limit_mb)
        return True
    staging = settings.staging
    # A file sent while another waits for its button replaces it.
    staging.discard(turn.state.data.get("file") if turn.state.name.startswith("import.") else None)
    turn.reset()
    staging.sweep(turn.now, settings.keep_for)
    temporary = staging.incoming()
    try:
        await settings.fetcher.fetch(turn.message.address, received, str(temporary), settings.max_file_bytes)
        key = staging.keep(temporary, turn.user.id, suffix)
    except FetchFailed as exc:
        if exc.too_large:
            limit = min(exc.limit_bytes or settings.max_file_bytes, settings.max_file_bytes)
            turn.say("imports.too_large", name=name, limit=local_number(limit // 2**20, turn.language))
        else:
            log.warning("import file from secretariat user %s not downloaded: %s", turn.user.id, exc.reason)
            turn.say("imports.fetch_failed", name=name)
        return True
    finally:
        temporary.unlink(missing_ok=True)
    path = staging.path(key)
    assert path is not None
    try:
        source = detect_source(path, settings.limits)
    except (UnreadableFile, LimitExceeded) as exc:
        staging.discard(key)
        turn.say("imports.unreadable", name=name, reason=_reason(exc, path, name))
        return True
    if source is None:
        turn.begin(KIND, file=key, sent=name)
        turn.say("imports.which", (
            tuple(turn.bound(f"imports.kind_{s.value}", f"imp:k:{s.value}") for s in ImportSource),
            (turn.bound("button.cancel", "imp:no"),),
        ), name=name)
        return True
    await _preview(turn, key, name, source)
    return True


async def on_action(turn: SecretariatTurn, argument: str) -> bool:
    settings = turn.imports
    state = turn.state
    if settings is None or not state.name.startswith("import."):
        return False
    key, name = str(state.data.get("file", "")), str(state.data.get("sent", "?"))
    if argument == "no":
        settings.staging.discard(key)
        turn.reset()
        turn.say("imports.cancelled", name=name)
        return True
    if state.name == KIND and argument.startswith("k:") and argument[2:] in _SOURCES:
        await _preview(turn, key, name, _SOURCES[argument[2:]])
        return True
    if state.name == CONFIRM and argument == "go":
        await _apply(turn, key, name, ImportSource(state.data["source"]), state.data.get("preview") or {})
        return True
    return False


async def _no_text(turn: SecretariatTurn, text: str) -> bool:
    # The preview waits for a button; typed words get the reminder, not the help.
    turn.say("imports.press")
    return True


def _options(turn: SecretariatTurn) -> ImportOptions:
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
    try:
        async with turn.session.begin_nested():
            raise _Preview(await import_into(turn.session, source, path, _options(turn), file_name=name))
    except _Preview as done:
        report = done.report
    except (ImportRejected, UnreadableFile, LimitExceeded) as exc:
        settings.staging.discard(key)
        turn.reset()
        _refuse(turn, exc, path, name)
        return
    counts = _counts(report)
    turn.begin(CONFIRM, file=key, sent=name, source=source.value, preview=counts)
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
    try:
        # A savepoint: a refused import rolls back its own writes, and the
        # turn still commits its state and says why.
        async with turn.session.begin_nested():
            report = await import_into(turn.session, source, path, _options(turn), file_name=name)
    except (ImportRejected, UnreadableFile, LimitExceeded) as exc:
        _refuse(turn, exc, path, name)
        return
    finally:
        settings.staging.discard(key)
    counts = _counts(report)
    lines = [turn.text("imports.done", name=name, kind=turn.text(f"imports.kind_{source.value}"))]
    lines += _table_lines(turn, counts, "imports.did")
    if counts != preview:
        lines.append(turn.text("imports.differs"))
    log.info("secretariat user %s imported %s (%s): %s", turn.user.id, name, source.value, counts)
    turn.say_lines("imports.done", lines)


def _counts(report: ImportReport) -> dict[str, dict[str, int]]:
    return {table: {"rows": c.rows, "created": c.created, "updated": c.updated, "unchanged": c.unchanged} for table, c in report.tables.items()}


def _table_lines(turn: SecretariatTurn, counts: dict[str, dict[str, int]], key: str) -> list[str]:
    lang = turn.language
    return [
        turn.text(key, table=turn.text(f"imports.table_{table}"), count=c["rows"],
                  created=local_number(c["created"], lang), updated=local_number(c["updated"], lang),
                  unchanged=local_number(c["unchanged"], lang))
        for table, c in counts.items()
    ]


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
    dialogues={"import.": Dialogue(COORDINATOR, _no_text)},
    files=Files(COORDINATOR, on_files),
)

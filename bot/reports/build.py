"""Making one report file from an order: the same code for the CLI's
``nmrf-bot report ...`` and for a report the secretariat asks for in chat."""

from __future__ import annotations

import errno
import os
import secrets
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.reports.draft import write_draft
from bot.reports.evidence_zip import write_evidence_zip
from bot.reports.export import write_export
from bot.reports.matrix import write_matrix
from bot.reports.progress_page import write_progress_page
from handlers.report_orders import ReportFile, ReportOrder
from messages import t
from storage.report_inputs import stream_inputs
from storage.report_progress import progress
from storage.errors import RegistryError
from storage.report_rows import ReportScope, stream_report_rows
from storage.typed_answers import typed_answers
from storage.types import utcnow

MIME_TYPES = {
    "matrix": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "draft": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "progress": "text/html",
    "csv": "text/csv",
    "json": "application/json",
    "evidence": "application/zip",
}


def file_name(order: ReportOrder, now: datetime) -> str:
    """What the file is called when sent: the kind, the scope and the day."""
    day = (order.as_of or now).astimezone(ZoneInfo(order.timezone)).date().isoformat()
    parts = {
        "matrix": ["implementation-matrix", order.mechanism],
        "draft": ["draft", order.mechanism, f"cycle-{order.cycle}" if order.cycle else None],
        "progress": ["progress-public" if order.public else "progress"],
        "export": ["recommendations-public" if order.public else "recommendations", order.mechanism],
        "evidence": ["evidence", order.mechanism],
    }[order.kind]
    suffix = {"matrix": "xlsx", "draft": "docx", "progress": "html", "export": order.fmt, "evidence": "zip"}[order.kind]
    return "-".join(p for p in [*parts, day] if p) + "." + suffix


class ReportNotSaved(RegistryError):
    """The report's file could not be written (a full disk, a read-only one...)."""


# What writing a file can meet; the database's own failures (a refused or cut
# connection) are ConnectionError, TimeoutError or have other numbers.
FILE_ERRNOS = frozenset({
    errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EIO, errno.EACCES, errno.EPERM, errno.ENOENT, errno.ENAMETOOLONG,
})


@contextmanager
def whole_or_nothing(out: Path) -> Iterator[Path]:
    """A path next to ``out`` to write to, that becomes ``out`` only once the
    report is whole: a failure leaves neither a 0-byte nor a partial file, and
    the previous report stays as it was. A file error is said as such."""
    partial = out.with_name(f".{out.name}.{secrets.token_hex(4)}.partial{out.suffix}")
    try:
        yield partial
        os.replace(partial, out)
    except OSError as exc:
        if isinstance(exc, (ConnectionError, TimeoutError)) or exc.errno not in FILE_ERRNOS:
            raise
        reason = os.strerror(exc.errno)
        raise ReportNotSaved(f"{reason[:1].lower()}{reason[1:]} writing {out}") from None
    finally:
        partial.unlink(missing_ok=True)


_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket"))


def report_target(out: Path, what: str = "a report") -> Path:
    """The file a report at ``out`` is written to: ``out``, or the file a
    symlink there points to (the link is kept, as an editor would). Anything
    but a regular file (a FIFO, a device) is refused: renaming a report into
    its place would replace it."""
    target = Path(os.path.realpath(out)) if out.is_symlink() else out
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        return target
    if not stat.S_ISREG(mode):
        kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
        shown = out if target == out else f"{out} (a link to {target})"
        raise ReportNotSaved(f"{shown} is {kind}, not a file: {what} is written only to a regular file; nothing was written")
    return target


async def make_report(
    sessions: async_sessionmaker[AsyncSession], order: ReportOrder, out: Path, clock: Callable[[], datetime] = utcnow,
    evidence_store: Path | None = None,
) -> ReportFile:
    """Write the report ``order`` asks for to ``out`` (through a symlink to its
    target, which the file's path says), whole or not at all. The evidence
    bundle reads its files from ``evidence_store``."""
    target = report_target(out)
    with whole_or_nothing(target) as partial:
        made = await _make_report(sessions, order, partial, clock, evidence_store)
    return replace(made, path=target)


async def _make_report(
    sessions: async_sessionmaker[AsyncSession], order: ReportOrder, out: Path, clock: Callable[[], datetime],
    evidence_store: Path | None = None,
) -> ReportFile:
    scope = ReportScope(order.country, order.mechanism, order.cycle)
    moment = order.as_of
    async with sessions() as session:
        if order.kind == "evidence":
            if evidence_store is None:
                raise ValueError("the evidence bundle needs the evidence store")
            archived, listed = await write_evidence_zip(session, scope, moment, evidence_store, out, order.timezone)
            # count: files in the archive; without_input: files listed but not kept.
            return ReportFile(out, MIME_TYPES["evidence"], archived, listed - archived)
        if order.kind == "matrix":
            count = await write_matrix(
                stream_report_rows(session, scope, moment), out, moment, clock(), language=order.language, timezone=order.timezone
            )
            return ReportFile(out, MIME_TYPES["matrix"], count)
        if order.kind == "export":
            rows = stream_report_rows(session, scope, moment, order.public and order.validated_only)
            count = await write_export(rows, out, order.fmt, public=order.public)
            return ReportFile(out, MIME_TYPES[order.fmt], count)
        if order.kind == "draft":
            if not order.mechanism:
                raise ValueError("a draft is for one mechanism")
            typed = await typed_answers(session, moment)
            count, missing = await write_draft(
                stream_inputs(session, scope, moment), out, mechanism=order.mechanism, cycle=order.cycle,
                as_of=moment or clock(), language=order.language, timezone=order.timezone, typed=typed,
            )
            return ReportFile(out, MIME_TYPES["draft"], count, missing)
        figures, rows = await progress(session, scope, moment, t("draft.not_clustered", order.language), order.public and order.validated_only)
    write_progress_page(
        figures, rows, out, as_of=moment or clock(), language=order.language, timezone=order.timezone, public=order.public,
        validated_only=order.public and order.validated_only,
    )
    return ReportFile(out, MIME_TYPES["progress"], figures.total)


class ReportBuilder:
    """The ReportMaker the conversation engine is given: a file in
    ``directory``, named for what it holds. A public one holds validated
    input only while ``public_requires_validation`` (the chat's order does
    not know the configuration)."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], clock: Callable[[], datetime] = utcnow, *, public_requires_validation: bool = True,
    ) -> None:
        self.sessions, self.clock = sessions, clock
        self.public_requires_validation = public_requires_validation

    async def __call__(self, order: ReportOrder, directory: Path) -> ReportFile:
        order = replace(order, validated_only=order.public and self.public_requires_validation)
        return await make_report(self.sessions, order, directory / file_name(order, self.clock()), self.clock)

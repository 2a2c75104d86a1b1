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

from bot.reports.report_filters import matrix_reasons, scope_note
from handlers.report_orders import ReportFile, ReportOrder
from messages import t
from storage.report_inputs import stream_inputs
from storage.report_plan import load_plan, matrix_plan, with_plan
from storage.report_progress import progress
from storage.errors import RegistryError
from storage.report_rows import ReportScope, scope_ids, sdg_tags_of, stream_report_rows
from storage.report_groups import stream_grouped_rows
from storage.sdgs import goals_in
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
# The plan is a workbook or a document (its order's fmt).
PLAN_MIME_TYPES = {"xlsx": MIME_TYPES["matrix"], "docx": MIME_TYPES["draft"]}


def file_name(order: ReportOrder, now: datetime) -> str:
    """What the file is called when sent: the kind, the scope and the day."""
    day = (order.as_of or now).astimezone(ZoneInfo(order.timezone)).date().isoformat()
    parts = {
        "matrix": ["implementation-matrix", order.mechanism],
        "draft": ["draft", order.mechanism, f"cycle-{order.cycle}" if order.cycle else None],
        "progress": ["progress-public" if order.public else "progress"],
        "export": ["recommendations-public" if order.public else "recommendations", order.mechanism],
        "evidence": ["evidence", order.mechanism],
        "plan": ["implementation-plan-public" if order.public else "implementation-plan", order.mechanism],
    }[order.kind]
    suffix = {"matrix": "xlsx", "draft": "docx", "progress": "html", "export": order.fmt, "evidence": "zip", "plan": order.fmt}[order.kind]
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
    # Each writer is imported for the report asked for: together they bring
    # matplotlib, openpyxl and python-docx, which `nmrf-bot run` starts without.
    scope = ReportScope(order.country, order.mechanism, order.cycle, order.sdg, order.priority)
    moment = order.as_of
    async with sessions() as session:
        if order.kind == "evidence":
            from bot.reports.evidence_zip import write_evidence_zip

            if evidence_store is None:
                raise ValueError("the evidence bundle needs the evidence store")
            archived, listed = await write_evidence_zip(session, scope, moment, evidence_store, out, order.timezone)
            # count: files in the archive; without_input: files listed but not kept.
            return ReportFile(out, MIME_TYPES["evidence"], archived, listed - archived)
        if order.kind == "matrix":
            from bot.reports.matrix import write_matrix

            in_scope = scope_ids(scope, await sdg_tags_of(session, scope), moment)
            goals = await goals_in(session, in_scope)
            plan = await matrix_plan(session, None if in_scope is None else list((await session.scalars(in_scope)).all()), moment)
            rows = (
                stream_report_rows(session, scope, moment, sort=order.sort, explain=True, files=False) if order.by is None
                else stream_grouped_rows(session, scope, moment, order.by, sort=order.sort, explain=True, files=False)
            )
            count = await write_matrix(
                rows, out, moment, clock(), language=order.language, timezone=order.timezone, goals=goals, reasons=matrix_reasons, by=order.by,
                plan=plan,
            )
            return ReportFile(out, MIME_TYPES["matrix"], count)
        if order.kind == "export":
            from bot.reports.export import write_export

            validated = order.public and order.validated_only
            rows = (
                stream_report_rows(session, scope, moment, validated) if order.by is None
                else stream_grouped_rows(session, scope, moment, order.by, validated)
            )
            count = await write_export(with_plan(session, rows, moment, public=order.public), out, order.fmt, public=order.public, by=order.by)
            return ReportFile(out, MIME_TYPES[order.fmt], count)
        if order.kind == "draft":
            from bot.reports.draft import write_draft

            if not order.mechanism:
                raise ValueError("a draft is for one mechanism")
            typed = await typed_answers(session, moment)
            count, missing = await write_draft(
                stream_inputs(session, scope, moment), out, mechanism=order.mechanism, cycle=order.cycle,
                as_of=moment or clock(), language=order.language, timezone=order.timezone, typed=typed,
            )
            return ReportFile(out, MIME_TYPES["draft"], count, missing)
        if order.kind == "plan":
            from bot.reports.plan import write_plan_docx, write_plan_xlsx

            if order.fmt not in PLAN_MIME_TYPES:
                raise ValueError(f"the plan is an .xlsx or a .docx, not .{order.fmt}")
            plan = await load_plan(
                session, scope, moment, by=order.by or "cluster", public=order.public, validated_only=order.public and order.validated_only,
            )
            as_of, now = moment or clock(), clock()
            if order.fmt == "xlsx":
                write_plan_xlsx(plan, out, as_of=as_of, generated_at=now, language=order.language, timezone=order.timezone, public=order.public)
            else:
                write_plan_docx(plan, out, as_of=as_of, language=order.language, timezone=order.timezone, public=order.public)
            return ReportFile(out, PLAN_MIME_TYPES[order.fmt], plan.recommendations)
        figures, rows = await progress(session, scope, moment, t("draft.not_clustered", order.language), order.public and order.validated_only)
    from bot.reports.progress_page import write_progress_page

    write_progress_page(
        figures, rows, out, as_of=moment or clock(), language=order.language, timezone=order.timezone, public=order.public,
        validated_only=order.public and order.validated_only, by=order.by, scope_note=scope_note(order),
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

"""Run one import: read, check every row, write, all in one transaction.

All or nothing: rows are written as they are read (so memory stays flat),
but a single bad row anywhere rolls the whole file back, and the error lists
every bad row found, not just the first.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.audit import audit_record, current_actor
from storage.enums import ImportSource
from storage.importers import uhri, uprinfo
from storage.importers.errors import ErrorList, ImportRejected, RowError, UnreadableFile
from storage.importers.limits import DEFAULT_LIMITS, ImportLimits
from storage.importers.readers import (
    Sheet,
    SourceRow,
    open_workbook,
    read_csv,
    read_first_worksheet,
    read_worksheet,
    suffix_of,
)
from storage.importers.record import RecommendationRecord
from storage.importers.unchanged import SiftedRow, UnchangedRows
from storage import priorities
from storage.importers.writer import RecommendationWriter
from storage.models import ImportRun
from storage.clock import today as clock_today
from storage.types import utcnow

if TYPE_CHECKING:
    from storage.importers.template_extras import RowInputs
    from storage.network import Change

# The template's modules (its sheets, the network, assignments, actions,
# indicators) are imported when a template is: a UN export's import, the
# one that is a quarter of a million rows, starts without them.

_PROGRESS_EVERY = 250
# Template rows looked up in the registry together (template_existing.prepare).
_PREPARE_EVERY = 500


class Progress(Protocol):
    """What the importer tells a progress bar; the CLI draws it with rich."""

    def start(self, label: str, total: int | None) -> None: ...

    def update(self, position: int) -> None: ...

    def finish(self) -> None: ...


class NoProgress:
    def start(self, label: str, total: int | None) -> None:
        pass

    def update(self, position: int) -> None:
        pass

    def finish(self) -> None:
        pass


@dataclass
class TableCounts:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    # Rows recognised as a recommendation another source already gave.
    merged: int = 0
    # UPR Info rows kept as one recommendation with another State's row of
    # the same words (storage.recommendation_match.choose_for_uprinfo).
    folded: int = 0
    # UPR Info rows, already imported, that left a recommendation this
    # file's UHRI paragraph took without naming their State.
    moved: int = 0


@dataclass
class ImportReport:
    source: ImportSource
    path: Path
    tables: dict[str, TableCounts] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables.values())

    def total(self, attr: str) -> int:
        return sum(getattr(t, attr) for t in self.tables.values())


@dataclass(frozen=True)
class ImportOptions:
    encoding: str | None = None
    default_timezone: str = "UTC"
    today: date | None = None
    limits: ImportLimits = DEFAULT_LIMITS


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


async def import_file(
    sessions: async_sessionmaker[AsyncSession],
    source: ImportSource,
    path: Path,
    options: ImportOptions = ImportOptions(),
    progress: Progress | None = None,
) -> ImportReport:
    async with sessions() as session:
        async with session.begin():
            # Leaving the block with an exception rolls everything back.
            return await import_into(session, source, path, options, progress)


async def import_into(
    session: AsyncSession,
    source: ImportSource,
    path: Path,
    options: ImportOptions = ImportOptions(),
    progress: Progress | None = None,
    *,
    file_name: str | None = None,
) -> ImportReport:
    """The import itself, in the caller's transaction: the CLI's own, or a
    savepoint of a chat turn (rolled back for a preview). ImportRejected
    leaves its writes for the caller to roll back. ``file_name``: what the
    import run records when ``path`` is a staged copy of the file sent."""
    progress = progress or NoProgress()
    suffix = suffix_of(path)
    started = utcnow()
    report = ImportReport(source, path)
    job = _ImportJob(path, options, progress, report)
    if session.get_bind().dialect.name == "postgresql":
        # asyncpg prepares statements; after five runs PostgreSQL keeps
        # a generic plan costed while the table was still empty (a
        # sequential scan), and the table grows within this transaction.
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    for table, sheet in _sheets(source, path, suffix, options):
        await job.run_table(session, source, table, sheet)
    if job.errors:
        raise ImportRejected(
            str(path), job.sorted_errors(), more=job.errors.total - len(job.errors.kept), rows=job.errors.rows
        )
    await _record_run(session, report, path, started, file_name or path.name)
    return report


def _sheets(source: ImportSource, path: Path, suffix: str, options: ImportOptions) -> Iterator[tuple[str, Sheet]]:
    """(table name, rows) in the order they must be written."""
    if source is ImportSource.TEMPLATE:
        yield from _template_sheets(path, suffix, options)
        return
    module = uhri if source is ImportSource.UHRI else uprinfo
    required = set(module.REQUIRED)
    if suffix == ".csv":
        sheet = read_csv(path, options.encoding, module.normalise_headers, options.limits)
    else:
        sheet = read_first_worksheet(path, required, module.normalise_headers, options.limits)
    missing = [c for c in module.COLUMNS if c in required and c not in sheet.headers]
    if missing:
        problem = f"missing column: is this a {_LABEL[source]}?"
        raise ImportRejected(str(path), [RowError(sheet.header_row, c, problem, sheet.name) for c in missing])
    yield "recommendations", sheet


_LABEL = {ImportSource.UHRI: "UHRI export", ImportSource.UPRINFO: "UPR Info export", ImportSource.TEMPLATE: "template"}


def _template_sheets(path: Path, suffix: str, options: ImportOptions) -> Iterator[tuple[str, Sheet]]:
    from storage.importers import template

    if suffix == ".csv":
        sheet = read_csv(path, options.encoding, limits=options.limits)
        if repeated := template.repeated_columns(sheet.headers):
            raise ImportRejected(str(path), [_repeated(sheet, c) for c in repeated])
        table = template.sheet_for_headers(sheet.headers)
        if table is None:
            expected = "; ".join(f"{name}: {', '.join(c.name for c in cols)}" for name, cols in template.SHEETS.items())
            raise UnreadableFile(f"{path}: the columns match no template table (expected one of - {expected})")
        yield table, sheet
        return
    workbook = open_workbook(path, options.limits)
    by_name = {ws.title.strip().lower(): ws for ws in workbook.worksheets}
    unknown = [ws.title for ws in workbook.worksheets if ws.title.strip().lower() not in (*template.ORDER, "readme")]
    if unknown:
        raise UnreadableFile(
            f"{path}: unknown sheet(s) {', '.join(map(repr, unknown))}; the template's sheets are "
            f"{', '.join(template.ORDER)} (and README)"
        )
    if not any(name in by_name for name in template.ORDER):
        raise UnreadableFile(f"{path}: no template sheet found ({', '.join(template.ORDER)})")
    header_errors: list[RowError] = []
    sheets = []
    for table in template.ORDER:
        if table not in by_name:
            continue
        sheet = read_worksheet(path, by_name[table], template.required(table), limits=options.limits)
        header_errors += _template_header_errors(table, sheet)
        sheets.append((table, sheet))
    if header_errors:
        raise ImportRejected(str(path), header_errors)
    yield from sheets


def _template_header_errors(table: str, sheet: Sheet) -> list[RowError]:
    from storage.importers import template

    lowered = {h.lower() for h in sheet.headers}
    row = sheet.header_row
    errors = [RowError(row, c, "missing column", sheet.name) for c in sorted(template.required(table) - lowered)]
    errors += [
        RowError(row, c, f"unknown column for {table} (see the README sheet)", sheet.name)
        for c in template.unknown_columns(table, sheet.headers)
    ]
    errors += [_repeated(sheet, c) for c in template.repeated_columns(sheet.headers)]
    return errors


def _repeated(sheet: Sheet, column: str) -> RowError:
    return RowError(sheet.header_row, column, "this column is given twice: keep one", sheet.name)


class _ImportJob:
    def __init__(self, path: Path, options: ImportOptions, progress: Progress, report: ImportReport) -> None:
        self.path = path
        self.options = options
        self.progress = progress
        self.report = report
        self.errors = ErrorList()
        self.today = options.today or clock_today()

    def sorted_errors(self) -> list[RowError]:
        """In the order a person reads the file: sheet by sheet as imported, then row, then column."""
        rank: dict[str | None, int] = {}
        for error in self.errors.kept:
            rank.setdefault(error.sheet, len(rank))
        return sorted(self.errors.kept, key=lambda e: (rank[e.sheet], e.row, e.column))

    async def run_table(self, session: AsyncSession, source: ImportSource, table: str, sheet: Sheet) -> None:
        counts = self.report.tables.setdefault(table, TableCounts())
        label = f"{self.path.name}" + (f" [{sheet.name}]" if sheet.name else "")
        self.progress.start(label, sheet.total)
        try:
            if table == "recommendations":
                await self._recommendations(session, source, sheet, counts)
                return
            from storage.importers import template_actions, template_indicators

            if table == template_actions.SHEET:
                await template_actions.import_actions(session, sheet, counts, self.errors)
            elif table == template_indicators.SHEET:
                await template_indicators.import_indicators(session, sheet, counts, self.errors)
            else:
                await self._network(session, table, sheet, counts)
        finally:
            self.progress.update(sheet.total or sheet.position())
            self.progress.finish()

    async def _recommendations(self, session: AsyncSession, source: ImportSource, sheet: Sheet, counts: TableCounts) -> None:
        parse: Callable[[SourceRow], RecommendationRecord | list[RowError]]
        if source is ImportSource.TEMPLATE:
            from storage.importers import template

            parse = template.parse_recommendation
        else:
            parse = uhri.parse_row if source is ImportSource.UHRI else uprinfo.parse_row
        key_column = {ImportSource.UHRI: "OHCHR Annotation Id", ImportSource.UPRINFO: "Text", ImportSource.TEMPLATE: "id"}[source]
        writer = RecommendationWriter(session)
        seen = _SeenKeys()
        occurrences: dict[str, int] = {}
        # The template's rows (a secretariat's file, not a UN export): their
        # follow-up selection and priority inputs, recorded once all are written.
        inputs: list[RowInputs] = []
        pending: list[tuple[RecommendationRecord, int, str | None]] = []
        # A UHRI re-import's unchanged rows are known by their cells' digest,
        # a batch at a time, without being parsed (storage.importers.unchanged).
        sifter = (
            UnchangedRows(session, source, uhri.COLUMNS, uhri.READ_VERSION, uhri.annotation_id_of)
            if source is ImportSource.UHRI
            else None
        )

        def repeated(external_id: str, row: SourceRow) -> bool:
            """Whether an earlier row of the file had ``external_id``: then said, with both rows."""
            if (first := seen.check(external_id, row.number)) is None:
                return False
            self.errors.add(RowError(row.number, key_column, f"{external_id!r} is also on row {first}", row.sheet))
            return True

        async def take(row: SourceRow, digest: str | None = None) -> None:
            parsed = parse(row)
            if isinstance(parsed, list):
                self.errors.extend(parsed)
                return
            parsed.row_digest = digest
            if source is ImportSource.UPRINFO:
                # UPR Info has no ids; a recommendation made twice by one State
                # in one review is two recommendations, numbered in file order.
                n = occurrences[parsed.external_id] = occurrences.get(parsed.external_id, 0) + 1
                if n > 1:
                    parsed.external_id = f"{parsed.external_id}#{n}"
            elif repeated(parsed.external_id, row):
                return
            if source is ImportSource.TEMPLATE:
                # Before the write, a chunk at a time: the recommendation each
                # row names, and what its sheet leaves out, from the registry.
                pending.append((parsed, row.number, row.sheet))
                if len(pending) >= _PREPARE_EVERY:
                    await self._template_rows(session, writer, pending, inputs)
                return
            # Valid rows are written even after a bad one (the transaction is
            # rolled back at the end), so that later rows and sheets referring
            # to them are checked against the truth, not reported as missing.
            await writer.add(parsed)

        async def sifted(batch: list[SiftedRow]) -> None:
            for row, key, digest, unchanged in batch:
                if not unchanged:
                    await take(row, digest)
                elif not repeated(key, row):
                    writer.counts.unchanged += 1

        for row in sheet.rows:
            counts.rows += 1
            if counts.rows % _PROGRESS_EVERY == 0:
                self.progress.update(sheet.position())
            if row.errors:
                if sifter is not None:
                    # The rows held before it first: errors are kept in file order.
                    await sifted(await sifter.drain())
                self.errors.extend(row.errors)
                continue
            if sifter is not None:
                await sifted(await sifter.push(row))
            else:
                await take(row)
        if sifter is not None:
            await sifted(await sifter.drain())
        await self._template_rows(session, writer, pending, inputs)
        await writer.flush()
        if inputs:
            from storage.importers.template_extras import record_inputs

            # Records the template's inputs and refreshes every row's priority.
            self.errors.extend(await record_inputs(session, inputs))
        elif writer.touched and not self.errors.kept:
            # A UN export's tags (recommending States, affected persons) are
            # criteria too: what it wrote gets its priority now, not at the
            # next `priorities refresh`.
            await priorities.refresh(session, sorted(set(writer.touched)))
        counts.created += writer.counts.created
        counts.updated += writer.counts.updated
        counts.unchanged += writer.counts.unchanged
        counts.merged += writer.counts.merged
        counts.folded += writer.counts.folded
        counts.moved += writer.counts.moved

    async def _template_rows(
        self,
        session: AsyncSession,
        writer: RecommendationWriter,
        pending: list[tuple[RecommendationRecord, int, str | None]],
        inputs: list[RowInputs],
    ) -> None:
        if not pending:
            return
        from storage.importers import template_existing
        from storage.importers.template_extras import RowInputs

        errors = await template_existing.prepare(session, pending)
        for record, number, sheet_name in pending:
            if number in errors:
                self.errors.extend(errors[number])
                continue
            await writer.add(record)
            inputs.append(RowInputs(number, sheet_name, record.external_id, record.inputs))
        pending.clear()

    async def _network(self, session: AsyncSession, table: str, sheet: Sheet, counts: TableCounts) -> None:
        from storage.errors import RegistryError
        from storage.importers import template

        seen = _SeenKeys()
        for row in sheet.rows:
            counts.rows += 1
            if counts.rows % _PROGRESS_EVERY == 0:
                self.progress.update(sheet.position())
            if row.errors:
                self.errors.extend(row.errors)
                continue
            parsed: Any
            if table == "institutions":
                parsed, key, key_column = template.parse_institution(row), "code", "code"
            elif table == "focal_points":
                parsed = template.parse_focal_point(row, self.today, self.options.default_timezone)
                key = key_column = "email"
            else:
                parsed = template.parse_assignment(row)
                key, key_column = "", "recommendation"
            if isinstance(parsed, list):
                self.errors.extend(parsed)
                continue
            identity = (
                f"{parsed.recommendation}\x1f{parsed.institution_code}" if table == "assignments" else getattr(parsed, key)
            )
            if (first := seen.check(identity, row.number)) is not None:
                self.errors.add(RowError(row.number, key_column, f"the same {table[:-1].replace('_', ' ')} is also on row {first}", row.sheet))
                continue
            try:
                # A savepoint per row: one refused row must not poison the
                # transaction for the rows after it, which we still check.
                async with session.begin_nested():
                    change = await self._write_network_row(session, table, parsed)
            except RegistryError as exc:
                self.errors.add(RowError(row.number, exc.field or "", str(exc), row.sheet))
                continue
            setattr(counts, change.value, getattr(counts, change.value) + 1)

    async def _write_network_row(self, session: AsyncSession, table: str, parsed: Any) -> Change:
        from storage.assignments import assign
        from storage.errors import Conflict, NotFound
        from storage.network import Change, upsert_focal_point, upsert_institution
        from storage.recommendation_sources import ids_for_external_id
        from storage.selection import Selector

        if table == "institutions":
            return await upsert_institution(session, parsed)
        if table == "focal_points":
            return await upsert_focal_point(session, parsed)
        rec_ids = await ids_for_external_id(session, parsed.recommendation)
        if not rec_ids:
            raise NotFound(f"no recommendation with id {parsed.recommendation!r}", field="recommendation")
        if len(rec_ids) > 1:
            raise Conflict(
                f"{parsed.recommendation!r} names {len(rec_ids)} recommendations from different sources",
                field="recommendation",
            )
        result = await assign(session, parsed.institution_code, Selector(ids=(rec_ids[0],)), parsed.role)
        if result.created:
            return Change.CREATED
        return Change.UPDATED if result.role_changed else Change.UNCHANGED


class _SeenKeys:
    """Natural keys met so far in this file, to report duplicates with both rows.

    Keys are kept as 8-byte digests: a full UHRI export has a quarter of a
    million, and the import should not hold them all as strings.
    """

    def __init__(self) -> None:
        self._rows: dict[int, int] = {}

    def check(self, key: str, row: int) -> int | None:
        digest = int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "big")
        first = self._rows.get(digest)
        if first is None:
            self._rows[digest] = row
        return first


async def _record_run(session: AsyncSession, report: ImportReport, path: Path, started: Any, file_name: str) -> None:
    run = ImportRun(
        source=report.source,
        file_name=file_name,
        sha256=file_sha256(path),
        rows=report.rows,
        created=report.total("created"),
        updated=report.total("updated"),
        unchanged=report.total("unchanged"),
        actor=current_actor(),
        started_at=started,
        finished_at=utcnow(),
    )
    session.add(run)
    await session.flush()
    await audit_record(
        session,
        action="import",
        entity="import_runs",
        entity_id=str(run.id),
        changes={
            "source": report.source,
            "file": file_name,
            "sha256": run.sha256,
            "tables": {name: vars(counts) for name, counts in report.tables.items()},
        },
    )

"""The shape every importer produces, whatever file it read."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields
from datetime import date

from storage.enums import BudgetImplications, ImportSource, Priority, RecommendationKind, TagKind, UprPosition
from storage.importers.errors import RowError

UPR_SESSIONS_PER_CYCLE = 14


def upr_cycle(session: int) -> int:
    """UPR Working Group sessions 1-12 were cycle 1; from session 13 on, each
    cycle has 14 sessions (13-26 cycle 2, 27-40 cycle 3, 41-54 cycle 4...)."""
    if session < 1:
        raise ValueError(f"a UPR session is 1 or more, got {session}")
    if session <= 12:
        return 1
    return 2 + (session - 13) // UPR_SESSIONS_PER_CYCLE


@dataclass(frozen=True)
class SecretariatInputs:
    """What the secretariat's template says beyond the recommendation itself:
    its follow-up selection and its priority inputs (None: the cell was blank,
    what the registry holds stays). Recorded after the row is written
    (storage.importers.template_extras), not part of its content hash."""

    follow_up: bool | None = None
    budget_implications: BudgetImplications | None = None
    national_priority: bool | None = None
    # The priority column: an override of what the criteria give.
    override: Priority | None = None
    # "auto" in the priority column: the criteria decide again.
    clear_override: bool = False

    def any(self) -> bool:
        return (
            self.follow_up is not None or self.budget_implications is not None or self.national_priority is not None
            or self.override is not None or self.clear_override
        )


@dataclass
class RecommendationRecord:
    source: ImportSource
    external_id: str
    text: str
    country: str
    mechanism_code: str
    kind: RecommendationKind
    paragraph: str | None = None
    document_symbol: str | None = None
    document_date: date | None = None
    upr_cycle: int | None = None
    upr_session: int | None = None
    upr_position: UprPosition | None = None
    follow_up_grade: str | None = None
    cluster: str | None = None
    priority: Priority | None = None
    published_on: date | None = None
    tags: list[tuple[TagKind, str]] = field(default_factory=list)
    # Only the template has them.
    inputs: SecretariatInputs | None = None
    # The template's columns its sheet leaves out: what the registry holds
    # for them stays (storage.importers.template_existing fills them in).
    absent: frozenset[str] = frozenset()
    # The stored recommendation a template row names by another source's id,
    # by #N, or by its document and paragraph: the row joins it.
    joins: int | None = None
    # A UHRI row's cells as read (storage.importers.unchanged), kept with its
    # source row; None for the other sources.
    row_digest: str | None = None

    def content_hash(self) -> str:
        # Field by field rather than dataclasses.asdict, which deep-copies and
        # was a fifth of a large import's time.
        values = [getattr(self, name) for name in _HASHED_FIELDS]
        values.append(sorted((kind.value, value) for kind, value in self.tags))
        blob = json.dumps(values, default=str, ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


# The secretariat's inputs are not the recommendation's content: a change to
# them alone leaves the row unchanged and is recorded on its own.
_HASHED_FIELDS = tuple(f.name for f in fields(RecommendationRecord) if f.name not in ("tags", "inputs", "absent", "joins", "row_digest"))


# Column widths in storage.models; a longer value is a row error, never a
# database error halfway through an import.
_LIMITS = {
    "external_id": 200,
    "country": 200,
    "mechanism_code": 200,
    "paragraph": 40,
    "document_symbol": 200,
    "follow_up_grade": 8,
    "cluster": 200,
}
TAG_VALUE_LIMIT = 500


def check_lengths(
    record: RecommendationRecord, row: int, columns: dict[str, str], sheet: str | None = None
) -> list[RowError]:
    """``columns`` maps a record field to the file's column name, for the message."""
    errors = []
    for name, limit in _LIMITS.items():
        value = getattr(record, name)
        if value is not None and len(value) > limit:
            errors.append(
                RowError(row, columns.get(name, name), f"longer than {limit} characters ({len(value)})", sheet)
            )
    for kind, value in record.tags:
        if len(value) > TAG_VALUE_LIMIT:
            column = columns.get(f"tag:{kind.value}", kind.value)
            errors.append(
                RowError(row, column, f"an item is longer than {TAG_VALUE_LIMIT} characters ({len(value)})", sheet)
            )
    return errors

"""Reading the audit log: who changed what, filtered, newest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.errors import InvalidValue
from storage.models import AuditEntry, Base

ACTIONS = ("insert", "update", "delete")


@dataclass(frozen=True)
class AuditFilter:
    # Part of the actor, e.g. "secretariat:3", "cli:maria", "focal_point:12".
    actor: str | None = None
    # The table changed, e.g. "focal_points" (see audited_tables()).
    table: str | None = None
    action: str | None = None
    # From ``since`` (inclusive) to ``until`` (exclusive), UTC.
    since: datetime | None = None
    until: datetime | None = None
    limit: int | None = None


def audited_tables() -> list[str]:
    """Every table of the registry, by name, for a filter's error."""
    return sorted(Base.metadata.tables)


async def list_audit(session: AsyncSession, wanted: AuditFilter) -> list[AuditEntry]:
    if wanted.action is not None and wanted.action not in ACTIONS:
        raise InvalidValue(f"an action is one of {', '.join(ACTIONS)}, got {wanted.action!r}", field="action")
    if wanted.table is not None and wanted.table not in Base.metadata.tables:
        raise InvalidValue(f"no table {wanted.table!r}; the tables are: {', '.join(audited_tables())}", field="table")
    if wanted.since is not None and wanted.until is not None and wanted.until <= wanted.since:
        raise InvalidValue("--until is before --since: nothing can match", field="until")
    statement = select(AuditEntry).order_by(AuditEntry.id.desc())
    if wanted.actor:
        # Part of the actor: a chat actor names the account and whose it is.
        pattern = "%" + wanted.actor.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        statement = statement.where(AuditEntry.actor.like(pattern, escape="\\"))
    if wanted.table:
        statement = statement.where(AuditEntry.entity == wanted.table)
    if wanted.action:
        statement = statement.where(AuditEntry.action == wanted.action)
    if wanted.since is not None:
        statement = statement.where(AuditEntry.at >= wanted.since)
    if wanted.until is not None:
        statement = statement.where(AuditEntry.at < wanted.until)
    if wanted.limit is not None:
        statement = statement.limit(wanted.limit)
    return list((await session.scalars(statement)).all())

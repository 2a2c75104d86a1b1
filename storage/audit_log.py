"""Reading the audit log: who changed what, filtered, newest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.choices import AUDIT_ACTIONS as ACTIONS
from storage.errors import InvalidValue
from storage.models import AuditEntry, Base


@dataclass(frozen=True)
class AuditFilter:
    # One word of the actor, whole: "secretariat:3" (not secretariat:31),
    # "cli:maria", "focal_point:12", "telegram:111"; ending in ":" it is a
    # kind, "cli:" every command-line user, "secretariat:" every secretariat
    # user; without a ":" a name of any kind, "maria" for cli:maria.
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
        # A chat actor is words: the account and whose it is ("telegram:111 focal_point:7").
        word = wanted.actor.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        tail = "%" if word.endswith(":") else ""
        # Without a kind, a name: "maria" is cli:maria (or any kind's maria).
        heads = ("", "% ") if ":" in word else ("%:", "% %:", "", "% ")
        statement = statement.where(or_(*(
            AuditEntry.actor.like(f"{head}{word}{tail}{end}", escape="\\") for head in heads for end in ("", " %")
        )))
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

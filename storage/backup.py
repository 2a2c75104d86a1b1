"""An online copy of a SQLite database: SQLite's backup API copies it page
by page while other connections go on writing (the copy is of one moment),
then the copy is checked before it is called a backup."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from storage.errors import RegistryError

# Pages copied a step; between steps the writers get their turn.
PAGES_A_STEP = 1024


class BackupFailed(RegistryError):
    pass


@dataclass(frozen=True)
class Copied:
    pages: int
    bytes: int
    revision: str | None


def backup_sqlite(source: Path, target: Path) -> Copied:
    """Copy ``source`` to ``target`` (replaced) and check the copy's integrity."""
    try:
        return _backup(source, target)
    except sqlite3.Error as exc:
        target.with_name(target.name + ".partial").unlink(missing_ok=True)
        raise BackupFailed(f"backup of {source} to {target} failed: {exc}") from None


def _backup(source: Path, target: Path) -> Copied:
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    # A busy writer is waited for, not failed on.
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst, pages=PAGES_A_STEP)
            (check,) = dst.execute("PRAGMA integrity_check").fetchone()
            if check != "ok":
                raise sqlite3.DatabaseError(f"the copy failed its integrity check: {check}")
            pages = dst.execute("PRAGMA page_count").fetchone()[0]
            try:
                revision = dst.execute("SELECT version_num FROM alembic_version").fetchone()
            except sqlite3.OperationalError:
                revision = None
            # The copy is one file, whatever the source's journal mode.
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
    finally:
        src.close()
    # Only a whole, checked copy takes the target's name.
    partial.replace(target)
    return Copied(pages, target.stat().st_size, revision[0] if revision else None)

"""`db backup` to a place it cannot write is one line naming the target and
why, and leaves nothing there (issue 12, "every CLI failure is one line");
it had said 'backup of <the database> failed: unable to open database file',
as if the database itself were unreadable."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from tests.cli_harness import Cli


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    """A SQLite database of its own: only SQLite is backed up by the bot."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NMRF_DATABASE_URL", f"sqlite:///{tmp_path / 'nmrf.db'}")
    return Cli(capsys)


def test_a_backup_to_a_missing_folder_names_the_folder_not_the_database(cli: Cli, tmp_path: Path) -> None:
    cli("db", "upgrade")
    target = tmp_path / "no-such-folder" / "nmrf.db"
    _, err = cli("db", "backup", str(target), expect=1)
    assert err == f"error: cannot write the backup to {target}: no folder {target.parent}\n"
    assert not target.parent.exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder")
def test_a_backup_to_a_read_only_folder_says_permission_denied(cli: Cli, tmp_path: Path) -> None:
    cli("db", "upgrade")
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        _, err = cli("db", "backup", str(folder / "nmrf.db"), expect=1)
    finally:
        folder.chmod(0o755)
    assert err == f"error: cannot write the backup to {folder / 'nmrf.db'}: permission denied\n"
    assert list(folder.iterdir()) == []


def test_a_backup_that_fails_names_its_target(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cli("db", "upgrade")
    target = tmp_path / "copy.db"

    def full(_source: Path, target: Path) -> None:
        target.with_name(target.name + ".partial").write_bytes(b"half a copy")
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr("storage.backup._backup", full)
    _, err = cli("db", "backup", str(target), expect=1)
    assert err.startswith("error: backup of ") and err.endswith(f" to {target} failed: database or disk is full\n"), err
    assert list(tmp_path.glob("copy.db*")) == []

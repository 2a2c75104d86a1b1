"""Files sent in chat to be imported, kept on disk between the preview and
the Import button: across a restart too, and never in the conversation
state (a UHRI export is megabytes).

A download goes to ``.incoming/`` first and is renamed into place once
whole, named by who sent it, the dialogue's token and its SHA-256
(``17-3fa2c1-ab12...cd.xlsx``): the name is what the dialogue keeps, and
the same file sent twice is two files, each removed with its own dialogue. It is removed once imported or cancelled,
and ``sweep`` removes what a dialogue that timed out or was left behind
no longer needs.
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from datetime import datetime, timedelta
from pathlib import Path

INCOMING = ".incoming"
_KEY = re.compile(r"^\d+-[0-9a-f]{6}-[0-9a-f]{64}\.(csv|xlsx)$")
_TAG = re.compile(r"^[0-9a-f]{6}$")
_CHUNK = 1 << 20


class ImportStaging:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def incoming(self) -> Path:
        """A fresh temporary file for a download (its folder made)."""
        folder = self.directory / INCOMING
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{uuid.uuid4().hex}.part"

    def keep(self, temporary: Path, owner: int, tag: str, suffix: str) -> str:
        """The downloaded ``temporary`` renamed into place; its key. ``tag``:
        six hex digits (the dialogue's token)."""
        if not _TAG.fullmatch(tag):
            raise ValueError(f"a staging tag is six hex digits, not {tag!r}")
        digest = hashlib.sha256()
        with temporary.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                digest.update(chunk)
        key = f"{owner}-{tag}-{digest.hexdigest()}{suffix.lower()}"
        os.replace(temporary, self.directory / key)
        return key

    def path(self, key: str) -> Path | None:
        """Where a staged file is, or None when it is gone (or the key is not one of ours)."""
        if not _KEY.fullmatch(key):
            return None
        path = self.directory / key
        return path if path.is_file() else None

    def discard(self, key: str | None) -> None:
        if key and _KEY.fullmatch(key):
            (self.directory / key).unlink(missing_ok=True)

    def sweep(self, now: datetime, older_than: timedelta) -> int:
        """Remove staged and half-downloaded files last written before
        ``now - older_than``: a dialogue that old has timed out."""
        if not self.directory.is_dir():
            return 0
        cutoff = (now - older_than).timestamp()
        removed = 0
        for folder in (self.directory, self.directory / INCOMING):
            if not folder.is_dir():
                continue
            for entry in folder.iterdir():
                if entry.is_file() and (_KEY.fullmatch(entry.name) or entry.suffix == ".part"):
                    try:
                        if entry.stat().st_mtime < cutoff:
                            entry.unlink()
                            removed += 1
                    except FileNotFoundError:
                        continue
        return removed

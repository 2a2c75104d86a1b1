"""A file on local disk for the Slack interactions the database could not take.

Slack delivers an event again when it is not acknowledged, but never a slash
command, a button click or a submitted form: the person only sees an error.
So when the database is out of reach, such a delivery is appended here as a
JSON line and fsynced before it is acknowledged, and handled in order once
the database is back. A delivery handled twice (kept here and also finished
after all) counts once: the engine records each delivery id it processed.

One line per delivery: {"delivery": id, "body": the checked payload}. A torn
last line (the process killed mid-write) is not a delivery and is dropped.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class Spool:
    def __init__(self, path: Path) -> None:
        self.path = path
        # Appends and rewrites run in a thread; one at a time, so none is lost.
        self._lock = asyncio.Lock()

    async def append(self, delivery: str, body: dict[str, Any]) -> None:
        """Durably kept once this returns (OSError when it cannot be)."""
        line = json.dumps({"delivery": delivery, "body": body}, ensure_ascii=False) + "\n"
        async with self._lock:
            await asyncio.to_thread(self._append, line.encode("utf-8"))

    async def waiting(self) -> list[tuple[str, dict[str, Any]]]:
        """What is kept, oldest first."""
        async with self._lock:
            return await asyncio.to_thread(self._read)

    async def remove(self, delivery: str) -> None:
        async with self._lock:
            await asyncio.to_thread(self._remove, delivery)

    def _append(self, data: bytes) -> None:
        created = not self.path.exists()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        if created:
            _fsync_dir(self.path.parent)

    def _read(self) -> list[tuple[str, dict[str, Any]]]:
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return []
        kept: list[tuple[str, dict[str, Any]]] = []
        for line in text.splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                log.warning("slack spool: a torn line in %s dropped", self.path)
                continue
            if isinstance(entry, dict) and isinstance(entry.get("delivery"), str) and isinstance(entry.get("body"), dict):
                kept.append((entry["delivery"], entry["body"]))
        return kept

    def _remove(self, delivery: str) -> None:
        left = [(d, b) for d, b in self._read() if d != delivery]
        if not left:
            self.path.unlink(missing_ok=True)
            return
        # Written aside and renamed: a crash leaves the old file or the new, whole.
        aside = self.path.with_name(self.path.name + ".new")
        with open(aside, "wb") as out:
            for d, b in left:
                out.write((json.dumps({"delivery": d, "body": b}, ensure_ascii=False) + "\n").encode("utf-8"))
            out.flush()
            os.fsync(out.fileno())
        os.replace(aside, self.path)
        _fsync_dir(self.path.parent)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

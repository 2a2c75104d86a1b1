"""What a platform's file download can end in, besides the file: the
evidence fetcher (bot.evidence_fetch) keeps, retries or refuses by these."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

# Read and written a piece at a time: a file is never held whole.
CHUNK = 256 * 1024


class DownloadTooLarge(Exception):
    """Over the configured limit, or over what the platform gives a bot."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)


class DownloadFailed(Exception):
    """The platform did not give the file. ``permanent``: it never will (the
    file is gone); otherwise try again later."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


class Writer:
    """The bytes of one download into ``path``, counted and hashed as they
    come; more than ``limit`` bytes is DownloadTooLarge."""

    def __init__(self, path: Path, limit: int) -> None:
        self.path, self.limit = path, limit
        self.size = 0
        self.digest = hashlib.sha256()
        self._out = open(path, "wb")  # noqa: SIM115 - closed by close()

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.limit:
            raise DownloadTooLarge(f"more than {self.limit} bytes")
        self.digest.update(data)
        self._out.write(data)

    def close(self) -> None:
        """Flushed to the disk, then closed."""
        if not self._out.closed:
            self._out.flush()
            os.fsync(self._out.fileno())
            self._out.close()

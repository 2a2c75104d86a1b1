"""Keeping the files sent as evidence: each is downloaded from its platform
into the evidence store ([evidence] store), named by its SHA-256.

A file is written to a temporary file in the store, flushed to the disk and
renamed into place (``ab/abcdef...pdf``), so the store never holds half a
file under a final name; only then is it marked stored. A failed try (the
platform or the network down, the disk full) is tried again with a growing
wait (storage.evidence_files), until it works or the platform says the file
is gone, or every try failed: then, as for a file over the size limit, the
person who sent it is told, and the file stays listed in the reports with
why it was not kept. Nothing is dropped silently.

Supervised like the outbox (bot.supervision): no error ends the loop.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.supervision import LoopHealth, describe, poll
from bot.transports.downloads import DownloadFailed, DownloadTooLarge, Writer
from handlers.chat_port import ChatAddress, ChatGateway, DeliveryFailed, OutgoingMessage, RecipientUnreachable
from messages import t
from storage import evidence_files
from storage.audit import acts_as
from storage.database import writing
from storage.enums import EvidenceFileState, Platform

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
INCOMING = ".incoming"
# "For the moment, bots can download files of up to 20MB in size" (Bot API, getFile).
TELEGRAM_DOWNLOAD_BYTES = 20 * 1024 * 1024
_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,10}$")


class Downloader(Protocol):
    async def download(self, platform_file_id: str, into: Writer) -> str | None: ...


def stored_name(sha256: str, file_name: str) -> str:
    """Where a file lives in the store: by checksum, with its name's suffix
    (lower case) so that it opens with the right program."""
    suffix = _SUFFIX.search(file_name or "")
    return f"{sha256[:2]}/{sha256}{suffix.group(0).lower() if suffix else ''}"


class EvidenceFetcher:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        gateway: ChatGateway,
        clock: Clock,
        store: Path,
        limit_bytes: int,
        downloaders: Mapping[Platform, Downloader],
        *,
        batch: int = 4,
        max_attempts: int = evidence_files.MAX_ATTEMPTS,
    ) -> None:
        self.sessions = sessions
        self.gateway = gateway
        self.clock = clock
        self.store = store
        self.limit_bytes = limit_bytes
        self.downloaders = dict(downloaders)
        self.batch = batch
        self.max_attempts = max_attempts

    @acts_as("system:evidence")
    async def run_once(self) -> int:
        """Fetch one batch of due files, then tell whoever is owed a notice;
        how many files were tried."""
        async with writing(self.sessions) as session:
            claimed = await evidence_files.claim(session, self.clock(), self.batch, platforms=tuple(self.downloaders))
        for item in claimed:
            await self._fetch(item)
        await self._tell()
        return len(claimed)

    async def drain(self) -> int:
        """Fetch until nothing is due now (tests, the demo)."""
        total = 0
        while claimed := await self.run_once():
            total += claimed
        return total

    async def run_forever(self, stop: asyncio.Event, idle: float = 5.0, health: LoopHealth | None = None) -> None:
        await poll(health or LoopHealth("evidence", log, self.clock), stop, self.run_once, idle)

    async def _fetch(self, item: evidence_files.FileToFetch) -> None:
        if item.declared_size is not None and item.declared_size > self.limit_bytes:
            await self._final(item, EvidenceFileState.REFUSED, f"too large: {item.declared_size} bytes (the limit is {self.limit_bytes} bytes)")
            return
        incoming = self.store / INCOMING
        temporary = incoming / f"{item.id}-{uuid.uuid4().hex}.part"
        writer: Writer | None = None
        try:
            incoming.mkdir(parents=True, exist_ok=True)
            writer = Writer(temporary, self.limit_bytes)
            mime = await self.downloaders[item.platform].download(item.platform_file_id, writer)
            writer.close()
            sha256 = writer.digest.hexdigest()
            name = stored_name(sha256, item.file_name)
            final = self.store / name
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(temporary, final)
            _sync_directory(final.parent)
        except DownloadTooLarge as exc:
            await self._final(item, EvidenceFileState.REFUSED, f"too large: {exc} (the limit is {self.limit_bytes} bytes)")
            return
        except DownloadFailed as exc:
            if exc.permanent:
                await self._final(item, EvidenceFileState.FAILED, str(exc))
            else:
                await self._retry(item, str(exc))
            return
        except (OSError, asyncio.TimeoutError) as exc:
            # The store (a full disk, a permission) or the network: the file is still on the platform.
            await self._retry(item, describe(exc))
            return
        finally:
            if writer is not None:
                try:
                    writer.close()
                except OSError:
                    pass
            temporary.unlink(missing_ok=True)
        async with writing(self.sessions) as session:
            await evidence_files.mark_stored(
                session, item.id, path=name, sha256=sha256, size_bytes=writer.size,
                mime_type=mime or item.declared_mime, now=self.clock(),
            )
        log.info("evidence file %s stored (%s bytes)", item.id, writer.size)

    async def _retry(self, item: evidence_files.FileToFetch, error: str) -> None:
        async with writing(self.sessions) as session:
            state = await evidence_files.mark_retry(session, item.id, error, item.attempts, self.clock(), max_attempts=self.max_attempts)
        if state is EvidenceFileState.FAILED:
            log.warning("evidence file %s: failed for good after %s tries: %s", item.id, item.attempts, error)
        else:
            log.info("evidence file %s: not fetched (%s); tried again later", item.id, error)

    async def _final(self, item: evidence_files.FileToFetch, state: EvidenceFileState, error: str) -> None:
        async with writing(self.sessions) as session:
            await evidence_files.mark_final(session, item.id, state, error)
        log.warning("evidence file %s %s: %s", item.id, state.value, error)

    async def _tell(self) -> None:
        """Each refused or failed file's sender hears of it, once."""
        async with self.sessions() as session:
            notices = await evidence_files.to_tell(session)
        for notice in notices:
            if notice.chat_id is not None and notice.user_id is not None:
                key = "evidence.refused_too_large" if notice.state is EvidenceFileState.REFUSED else "evidence.not_fetched"
                text = t(key, notice.language, name=notice.file_name, id=notice.recommendation_id, limit=self._limit_mb(notice.platform))
                address = ChatAddress(notice.platform, notice.user_id, notice.chat_id, notice.workspace_id)
                try:
                    await self.gateway.send(address, OutgoingMessage(key, text, language=notice.language))
                except RecipientUnreachable as exc:
                    log.info("evidence file %s: its sender cannot be told: %s", notice.file_id, exc)
                except (DeliveryFailed, LookupError, OSError, asyncio.TimeoutError) as exc:
                    log.info("evidence file %s: its sender not told yet (%s)", notice.file_id, describe(exc))
                    continue
            else:
                log.warning("evidence file %s %s: its sender has no chat to be told in", notice.file_id, notice.state.value)
            async with writing(self.sessions) as session:
                await evidence_files.mark_told(session, notice.file_id, self.clock())


    def _limit_mb(self, platform: Platform) -> int:
        """The limit a person is told: Telegram gives a bot no more than 20 MB, whatever is configured."""
        limit = self.limit_bytes
        if platform is Platform.TELEGRAM:
            limit = min(limit, TELEGRAM_DOWNLOAD_BYTES)
        return max(limit // (1024 * 1024), 1)


def _sync_directory(path: Path) -> None:
    """The rename itself made durable."""
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)

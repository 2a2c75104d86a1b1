"""The handlers' FileFetcher (handlers.chat_port) on the real platforms:
the same downloads the evidence fetcher uses (Telegram getFile, Slack
files.info and url_private, bot.transports), bounded the same way, into the
file the handler names."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path

from bot.evidence_fetch import TELEGRAM_DOWNLOAD_BYTES, Downloader
from bot.transports.downloads import DownloadFailed, DownloadTooLarge, Writer
from handlers.chat_port import ChatAddress, FetchFailed, ReceivedFile
from storage.enums import Platform

# Telegram gives a bot no more than this, whatever the caller allows.
_PLATFORM_BYTES = {Platform.TELEGRAM: TELEGRAM_DOWNLOAD_BYTES}


class PlatformFileFetcher:
    def __init__(self, downloaders: Mapping[Platform, Downloader]) -> None:
        self.downloaders = dict(downloaders)

    async def fetch(self, address: ChatAddress, received: ReceivedFile, into: str, max_bytes: int) -> int:
        downloader = self.downloaders.get(address.platform)
        if downloader is None:
            raise FetchFailed(f"no {address.platform.value} connection to download from")
        limit = min(max_bytes, _PLATFORM_BYTES.get(address.platform, max_bytes))
        writer = Writer(Path(into), limit)
        try:
            await downloader.download(received.platform_file_id, writer)
        except DownloadTooLarge as exc:
            raise FetchFailed(str(exc), too_large=True, limit_bytes=limit) from None
        except DownloadFailed as exc:
            raise FetchFailed(str(exc)) from None
        except (OSError, asyncio.TimeoutError) as exc:
            raise FetchFailed(f"{exc.__class__.__name__}: {exc}") from None
        finally:
            writer.close()
        return writer.size

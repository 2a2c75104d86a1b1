"""Evidence files in the dialogue: a file over the size limit refused at
once, when it is sent; and ``/evidence N``, with which the secretariat gets
back the files sent for a recommendation, as the bot keeps them
(storage.evidence_files; bot.evidence_fetch downloads them).

The status dialogue calls ``refuse_too_large(turn)`` on the files of a
message before it keeps them as evidence: it says which are refused and
returns the others."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from handlers.chat_port import OutgoingFile, OutgoingMessage, ReceivedFile
from messages import local_date
from storage.enums import EvidenceFileState
from storage.evidence_files import files_of_updates
from storage.models import Recommendation, StatusUpdate

if TYPE_CHECKING:
    from handlers.turn import Exchange, SecretariatTurn

MB = 1024 * 1024
# Telegram gives a bot files of up to 20 MB (Bot API, getFile).
DEFAULT_LIMIT_BYTES = 20 * MB


@dataclass(frozen=True)
class EvidenceSettings:
    """[evidence] as the handlers need it: the size limit, and the store the
    secretariat's files are read from (None: no files to send back)."""

    limit_bytes: int = DEFAULT_LIMIT_BYTES
    store: Path | None = None


def too_large(files: tuple[ReceivedFile, ...] | list[ReceivedFile], limit_bytes: int) -> list[ReceivedFile]:
    """The files whose size, as the platform gave it, is over ``limit_bytes``.
    A file of unknown size is not among them: its download is bounded instead."""
    return [f for f in files if f.size_bytes is not None and f.size_bytes > limit_bytes]


def refuse_too_large(turn: Exchange) -> list[ReceivedFile]:
    """The message's files within the limit, to keep as evidence; for the
    others the reader is told at once, in one message, and nothing of them
    is kept."""
    limit = turn.evidence.limit_bytes
    refused = too_large(turn.message.files, limit)
    if refused:
        turn.say("evidence.too_large", names=", ".join(f.name for f in refused), limit=max(limit // MB, 1))
    return [f for f in turn.message.files if f not in refused]


async def send_files(turn: SecretariatTurn, words: list[str]) -> None:
    """``/evidence N``: each file sent for recommendation N, once, as a
    document with who sent it and when; a file not kept is named with why."""
    if len(words) != 1 or not words[0].lstrip("#").isdigit():
        turn.say("evidence.usage")
        return
    rec = int(words[0].lstrip("#"))
    if await turn.session.get(Recommendation, rec) is None:
        turn.say("evidence.unknown", id=rec)
        return
    updates = {
        u.id: u for u in await turn.session.scalars(
            select(StatusUpdate).where(StatusUpdate.recommendation_id == rec).order_by(StatusUpdate.id)
        )
    }
    files = await files_of_updates(turn.session, list(updates))
    seen: set[object] = set()
    sent = 0
    for update_id in updates:
        for kept in files.get(update_id, []):
            identity = kept.file_id if kept.file_id is not None else ("evidence", kept.evidence_id)
            if identity in seen:
                continue  # repeated by a correction or a "no change"
            seen.add(identity)
            sent += 1
            values = {
                "id": rec, "name": kept.file_name, "sender": kept.sender,
                "date": local_date(turn.local_day(kept.sent_at), turn.language),
            }
            if kept.state is EvidenceFileState.STORED and kept.path and turn.evidence.store is not None:
                document = OutgoingFile(str(turn.evidence.store / kept.path), kept.file_name, kept.mime_type or "application/octet-stream")
                turn.replies.append(OutgoingMessage(
                    "evidence.file", turn.text("evidence.file", **values), language=turn.language, document=document,
                ))
            else:
                state = kept.state.value if kept.state not in (None, EvidenceFileState.STORED) else "untracked" if kept.state is None else "failed"
                turn.say("evidence.not_kept", state=turn.text(f"evidence.state_{state}"), **values)
    if not sent:
        turn.say("evidence.none", id=rec)

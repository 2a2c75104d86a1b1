"""The report rows as CSV or JSON, for other tools. Streamed."""

from __future__ import annotations

import csv
import json
from collections.abc import AsyncIterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

from bot.reports.cells import csv_safe
from storage.enums import EvidenceFileState
from storage.evidence_files import KeptFile
from storage.report_rows import REPORT_COLUMNS
from storage.status import InstitutionInput


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


# What the public export (report export --public) holds: the recommendation,
# who answers for it and the statuses, never a narrative, next step,
# evidence, author, channel or an id of ours.
PUBLIC_COLUMNS = (
    "external_id", "country", "mechanism", "cycle", "document", "paragraph", "cluster", "themes", "text", "lead", "institutions", "status", "inputs",
)


def _inputs_json(inputs: list[InstitutionInput], public: bool = False) -> list[dict[str, Any]]:
    """Each institution's own latest answer: role, status (None: none yet), when."""
    return [
        {"institution": i.code, "role": str(i.role) if i.role else None, "status": str(i.status) if i.status else None,
         "at": _plain(i.at), **({} if public else {"update_id": i.update_id})}
        for i in inputs
    ]


def inputs_text(inputs: list[InstitutionInput]) -> str:
    """ "MOE: partially_implemented (2026-03-02); MIDES: none", in the order given."""
    return "; ".join(
        f"{i.code}: {i.status} ({i.at:%Y-%m-%d})" if i.status is not None and i.at is not None else f"{i.code}: none"
        for i in inputs
    )


def _files_json(files: list[KeptFile]) -> list[dict[str, Any]]:
    """Each file of the update: where it is kept (relative to the evidence store), or why it is not."""
    return [
        {"name": f.file_name, "state": f.state.value if f.state else None, "path": f.path, "sha256": f.sha256, "size_bytes": f.size_bytes,
         "mime_type": f.mime_type, "error": None if f.state is EvidenceFileState.STORED else f.last_error}
        for f in files
    ]


def files_text(files: list[KeptFile]) -> str:
    """ "ab/ab12...pdf (informe.pdf); lost.pdf: failed", in the order given."""
    return "; ".join(
        f"{f.path} ({f.file_name})" if f.state is EvidenceFileState.STORED and f.path else f"{f.file_name}: {f.state.value if f.state else 'not fetched'}"
        for f in files
    )


async def write_export(rows: AsyncIterator[dict[str, Any]], path: Path, fmt: str, *, public: bool = False) -> int:
    """Every row, every column; ``public``: only PUBLIC_COLUMNS."""
    n = 0
    columns = PUBLIC_COLUMNS if public else REPORT_COLUMNS
    with path.open("w", encoding="utf-8", newline="") as out:
        if fmt == "csv":
            # Every text quoted, numbers not: OWASP's advice, and a spreadsheet still sums the numbers.
            writer = csv.writer(out, quoting=csv.QUOTE_NONNUMERIC)
            writer.writerow(columns)
            async for row in rows:
                values = {**row, "inputs": inputs_text(row.get("inputs") or []), "evidence_files": files_text(row.get("evidence_files") or [])}
                writer.writerow([csv_safe(_plain(values.get(c))) for c in columns])
                n += 1
        else:
            out.write("[")
            async for row in rows:
                values = {c: _plain(row.get(c)) for c in columns}
                values["inputs"] = _inputs_json(row.get("inputs") or [], public)
                if not public:
                    values["evidence_files"] = _files_json(row.get("evidence_files") or [])
                out.write(("," if n else "") + "\n" + json.dumps(values, ensure_ascii=False))
                n += 1
            out.write("\n]\n")
    return n

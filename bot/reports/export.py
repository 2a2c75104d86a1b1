"""The report rows as CSV or JSON, for other tools. Streamed."""

from __future__ import annotations

import csv
import json
from collections.abc import AsyncIterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

from bot.reports.cells import csv_safe
from storage.report_rows import REPORT_COLUMNS


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


async def write_export(rows: AsyncIterator[dict[str, Any]], path: Path, fmt: str) -> int:
    n = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        if fmt == "csv":
            # Every text quoted, numbers not: OWASP's advice, and a spreadsheet still sums the numbers.
            writer = csv.writer(out, quoting=csv.QUOTE_NONNUMERIC)
            writer.writerow(REPORT_COLUMNS)
            async for row in rows:
                writer.writerow([csv_safe(_plain(row.get(c))) for c in REPORT_COLUMNS])
                n += 1
        else:
            out.write("[")
            async for row in rows:
                out.write(("," if n else "") + "\n" + json.dumps({c: _plain(row.get(c)) for c in REPORT_COLUMNS}, ensure_ascii=False))
                n += 1
            out.write("\n]\n")
    return n

"""The report rows as CSV or JSON, for other tools. Streamed.

After the row's own columns, the plan's (issue 16): ``actions``, each
action serving the recommendation with its status, responsible institution,
dates and budget, and ``indicators``, each indicator measuring it or one of
its actions with its baseline, target and values (storage.report_plan.with_plan).
The public export leaves out the budgets the secretariat marked internal
and the actions' narratives."""

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
from storage.actions import ActionView
from storage.report_groups import SdgGroup, row_groups
from storage.report_plan import PlanIndicator
from storage.report_rows import REPORT_COLUMNS
from storage.status import InstitutionInput


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


# What the public export (report export --public) holds: the recommendation,
# who answers for it and the statuses, never a narrative, next step,
# evidence, author, channel or an id of ours; nor the secretariat's priority,
# which is its own working judgement. The SDGs are the sources' tags, public.
PUBLIC_COLUMNS = (
    "external_id", "country", "mechanism", "cycle", "document", "paragraph", "cluster", "themes", "text", "lead", "institutions", "status", "inputs",
    "sdg_goals", "sdg_targets",
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


# The plan's columns, last, in both variants.
PLAN_COLUMNS = ("actions", "indicators")


def _dates(start: date | None, end: date | None) -> str:
    return f"{start.isoformat() if start else ''}..{end.isoformat() if end else ''}"


def actions_text(actions: list[ActionView]) -> str:
    """ "A-1: Shelters (in_progress; MOJ; 2027-01-01..2027-06-30; 150000.50 UYU); A-2: ..." """
    def one(a: ActionView) -> str:
        parts = [a.status.value, a.responsible_code, _dates(a.start_date, a.target_date)]
        if a.budget is not None:
            parts.append(f"{a.budget.amount} {a.budget.currency}")
        return f"{a.code}: {a.title} ({'; '.join(parts)})"

    return "; ".join(one(a) for a in actions)


def indicators_text(indicators: list[PlanIndicator]) -> str:
    """ "I-3: 35 % for 2026-01-01..2026-03-31 (baseline 31.5, target 45)"; "I-4: no value (...)" """
    def one(p: PlanIndicator) -> str:
        i, latest = p.indicator, p.series.latest
        given = f"{latest.value.value} {i.unit} for {_dates(latest.value.period_start, latest.value.period_end)}" if latest else "no value"
        frame = [f"{what} {value}" for what, value in (("baseline", i.baseline_value), ("target", i.target_value)) if value is not None]
        return f"{i.code}: {given}" + (f" ({', '.join(frame)})" if frame else "")

    return "; ".join(one(p) for p in indicators)


def _actions_json(actions: list[ActionView], public: bool) -> list[dict[str, Any]]:
    return [
        {
            "code": a.code, "title": a.title, "status": a.status.value, "responsible": a.responsible_code,
            "contributing": [code for code, _ in a.contributing], "start_date": _plain(a.start_date), "target_date": _plain(a.target_date),
            # An amount as a string: a float would lose the cents of a large budget.
            "budget": None if a.budget is None else {
                "amount": str(a.budget.amount), "currency": a.budget.currency, "source": a.budget.source,
                **({} if public else {"internal": a.budget.internal}),
            },
            "sdg_targets": list(a.sdg_targets), "chapters": [f"{c.framework}:{c.code}" for c in a.chapters],
            **({} if public else {"last_update_at": _plain(a.last_update_at), "last_narrative": a.last_narrative, "last_next_step": a.last_next_step}),
        }
        for a in actions
    ]


def _indicators_json(indicators: list[PlanIndicator], public: bool) -> list[dict[str, Any]]:
    def point(value: Any) -> dict[str, Any]:
        return {
            "period_start": _plain(value.period_start), "period_end": _plain(value.period_end), "value": float(value.value), "source": value.source,
            **({} if public else {"note": value.note}),
        }

    return [
        {
            "code": p.indicator.code, "kind": p.indicator.kind.value, "definition": p.indicator.definition, "unit": p.indicator.unit,
            "institution": p.institution, "actions": list(p.actions),
            "baseline": None if p.indicator.baseline_value is None else {"value": float(p.indicator.baseline_value), "date": _plain(p.indicator.baseline_date)},
            "target": None if p.indicator.target_value is None else {"value": float(p.indicator.target_value), "date": _plain(p.indicator.target_date)},
            # The value that counts for each period, by period: the series.
            "values": [point(pt.value) for pt in p.series.points],
        }
        for p in indicators
    ]


# Grouped by SDG (--by), the column first naming the row's group: the goal (5)
# or the target ("5.2"; "5" for the goal tagged as a whole), empty for no SDG.
GROUP_COLUMNS = {"sdg-goal": "sdg_goal", "sdg-target": "sdg_target"}


async def write_export(rows: AsyncIterator[dict[str, Any]], path: Path, fmt: str, *, public: bool = False, by: str | None = None) -> int:
    """Every row, every column; ``public``: only PUBLIC_COLUMNS; ``by``:
    "sdg-goal" or "sdg-target", the rows of storage.report_groups, a
    recommendation a row under each of its groups. The recommendations
    written, each once however many groups it is under."""
    if by is not None and by not in GROUP_COLUMNS:
        raise ValueError(f"the export groups by {' or '.join(GROUP_COLUMNS)}, not {by!r}")
    n = 0
    own = (*(PUBLIC_COLUMNS if public else REPORT_COLUMNS), *PLAN_COLUMNS)
    columns = (GROUP_COLUMNS[by], *own) if by else own

    def grouped(row: dict[str, Any]) -> dict[str, Any]:
        """The row with its group's column; counted when at its first group."""
        nonlocal n
        if by is None:
            n += 1
            return row
        group: SdgGroup = row["sdg_group"]
        n += row_groups(row.get("sdgs") or [], by)[0] == group
        return {**row, GROUP_COLUMNS[by]: group.value(by)}

    with path.open("w", encoding="utf-8", newline="") as out:
        if fmt == "csv":
            # Every text quoted, numbers not: OWASP's advice, and a spreadsheet still sums the numbers.
            writer = csv.writer(out, quoting=csv.QUOTE_NONNUMERIC)
            writer.writerow(columns)
            async for row in rows:
                row = grouped(row)
                values = {
                    **row, "inputs": inputs_text(row.get("inputs") or []), "evidence_files": files_text(row.get("evidence_files") or []),
                    "actions": actions_text(row.get("actions") or []), "indicators": indicators_text(row.get("indicators") or []),
                }
                writer.writerow([csv_safe(_plain(values.get(c))) for c in columns])
        else:
            out.write("[")
            written = 0
            async for row in rows:
                row = grouped(row)
                values = {c: _plain(row.get(c)) for c in columns}
                values["inputs"] = _inputs_json(row.get("inputs") or [], public)
                values["actions"] = _actions_json(row.get("actions") or [], public)
                values["indicators"] = _indicators_json(row.get("indicators") or [], public)
                if not public:
                    values["evidence_files"] = _files_json(row.get("evidence_files") or [])
                out.write(("," if written else "") + "\n" + json.dumps(values, ensure_ascii=False))
                written += 1
            out.write("\n]\n")
    return n

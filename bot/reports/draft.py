"""The draft report section: a .docx the secretariat edits into the State's
report (a UPR mid-term report, a follow-up reply to a committee).

Grouped by cluster, then paragraph; under each recommendation, its overall
status (the rule is in storage/status.py), its priority with the criteria
it rests on or the override and its reason (storage.priorities), and its SDG
targets with their goals' names (storage.sdgs), then each institution's own latest
input, narrative included, with its source; at the end, the list of
recommendations nobody has answered yet, so a gap is seen, not hidden; the
typed answers to information requests, under the recommendations they are
about or, about none, under their request (storage.typed_answers); and an
annex listing every file given as evidence in those inputs, where the bot
keeps it (relative to the evidence store, with its SHA-256) or why it is not
kept, so the secretariat can open what each institution sent.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from docx import Document
from docx.shared import Pt

from bot.reports.cells import xml_text
from bot.reports.report_filters import priority_reasons
from bot.reports.rtl import is_rtl
from messages import local_date, t
from storage.enums import EvidenceFileState, ValidationDecision
from storage.evidence_files import KeptFile
from storage.report_inputs import RecommendationInputs
from storage.sdgs import goal_label, goals_of, targets_text
from storage.typed_answers import TypedAnswer, TypedAnswers


async def write_draft(
    items: AsyncIterator[RecommendationInputs],
    path: Path,
    *,
    mechanism: str,
    cycle: int | None,
    as_of: datetime,
    language: str,
    timezone: str,
    typed: TypedAnswers | None = None,
) -> tuple[int, int]:
    """(recommendations, of which without any input)."""
    zone = ZoneInfo(timezone)

    def say(key: str, **values: object) -> str:
        return xml_text(t(key, language, **values))

    doc = Document()
    doc.styles["Normal"].font.size = Pt(11)
    doc.add_heading(say("draft.title", mechanism=mechanism, cycle=say("draft.cycle", cycle=cycle) if cycle else ""), level=0)
    doc.add_paragraph(say("draft.as_of", date=local_date(as_of.astimezone(zone).date(), language)))
    cluster: str | None | object = object()
    total, missing = 0, []
    annex: list[tuple[str, str, KeptFile]] = []
    seen: set[object] = set()
    typed = typed or TypedAnswers()

    def typed_line(answer: TypedAnswer) -> str:
        return say(
            "draft.typed_answer", institution=answer.institution, request=answer.request_id,
            date=local_date(answer.at.astimezone(zone).date(), language), text=answer.text,
        )
    async for item in items:
        total += 1
        if item.cluster != cluster:
            cluster = item.cluster
            doc.add_heading(xml_text(item.cluster) if item.cluster else say("draft.not_clustered"), level=1)
        label = xml_text(" ".join(p for p in (item.paragraph, f"({item.document})" if item.document else None) if p) or f"#{item.id}")
        doc.add_heading(say("draft.recommendation", paragraph=label), level=2)
        doc.add_paragraph(xml_text(item.text), style="Quote")
        doc.add_paragraph().add_run(say("draft.overall", status=say(f"status.{item.status.value}"))).bold = True
        # The level line as /priority says it (an override with its reason), then each criterion.
        level, *criteria = priority_reasons({"priority_view": item.priority_view}, language) or [say("draft.priority", priority=say("draft.priority_none"))]
        doc.add_paragraph().add_run(xml_text(level)).bold = True
        for reason in criteria:
            # A level below the lists of the annexes, which are "List Bullet".
            doc.add_paragraph(xml_text(reason), style="List Bullet 2")
        if item.sdgs:
            goals = "; ".join(goal_label(goal, language) for goal in goals_of(item.sdgs))
            doc.add_paragraph(say("draft.sdgs", targets=targets_text(item.sdgs), goals=goals))
        if not item.inputs:
            missing.append((label, item.institutions))
        for given in item.inputs:
            heading = doc.add_paragraph()
            heading.add_run(say("draft.input", institution=given.institution, status=say(f"status.{given.status.value}"))).bold = True
            if given.narrative:
                doc.add_paragraph(xml_text(given.narrative))
            if given.evidence:
                doc.add_paragraph(say("draft.evidence", evidence="; ".join(given.evidence)))
            for kept in given.files:
                identity = kept.file_id if kept.file_id is not None else ("evidence", kept.evidence_id)
                if identity not in seen:
                    seen.add(identity)
                    annex.append((label, given.institution, kept))
            if given.next_step:
                due = f" ({local_date(given.next_step_due_on, language)})" if given.next_step_due_on else ""
                doc.add_paragraph(say("draft.next_step", next_step=given.next_step + due))
            source = doc.add_paragraph()
            source.add_run(say(
                "draft.source", author=given.author, channel=say(f"draft.channel_{given.channel.value}"),
                date=local_date(given.at.astimezone(zone).date(), language),
            )).italic = True
            # Input that is not final says so where the reader cannot miss it.
            if given.validation is ValidationDecision.APPROVED:
                source.add_run(" " + say("draft.validated")).italic = True
            elif given.validation is None:
                source.add_run(" " + say("draft.not_validated")).bold = True
            elif given.validation is ValidationDecision.RETURNED:
                source.add_run(" " + say("draft.returned", comment=given.comment or "")).bold = True
        # On a shared recommendation, an institution that has not answered is named, not left out.
        if item.inputs:
            answered = {given.institution for given in item.inputs}
            for name in item.institutions:
                if name not in answered:
                    doc.add_paragraph().add_run(say("report.input_none", institution=name)).bold = True
        for answer in typed.by_recommendation.get(item.id, []):
            doc.add_paragraph(typed_line(answer))
    doc.add_heading(say("draft.requests_heading"), level=1)
    if not typed.unnamed:
        doc.add_paragraph(say("draft.requests_none"))
    request: int | None = None
    for answer in typed.unnamed:
        if answer.request_id != request:
            request = answer.request_id
            doc.add_paragraph().add_run(say(
                "draft.request", request=request, date=local_date(answer.asked_at.astimezone(zone).date(), language), text=answer.request_text,
            )).bold = True
        doc.add_paragraph(typed_line(answer), style="List Bullet")
    doc.add_heading(say("draft.no_input_heading"), level=1)
    if not missing:
        doc.add_paragraph(say("draft.no_input_none"))
    for label, institutions in missing:
        doc.add_paragraph(say("draft.no_input_line", paragraph=label, institutions=", ".join(institutions) or "—"), style="List Bullet")
    doc.add_heading(say("draft.annex_heading"), level=1)
    if not annex:
        doc.add_paragraph(say("draft.annex_none"))
    for label, institution, kept in annex:
        values = {
            "paragraph": label, "institution": xml_text(institution), "name": xml_text(kept.file_name), "sender": xml_text(kept.sender),
            "date": local_date(kept.sent_at.astimezone(zone).date(), language),
        }
        if kept.state is EvidenceFileState.STORED and kept.path and kept.sha256:
            line = say("draft.annex_line", path=kept.path, sha256=kept.sha256[:12], **values)
        else:
            state = kept.state.value if kept.state not in (None, EvidenceFileState.STORED) else "untracked" if kept.state is None else "failed"
            line = say("draft.annex_not_kept", state=say(f"evidence.state_{state}"), **values)
        doc.add_paragraph(line, style="List Bullet")
    # Zipped in memory, then written: python-docx's ZipFile, left open on a file
    # whose write failed (a full disk), fails again when collected and prints a traceback.
    if is_rtl(language):
        from bot.reports.rtl import rtl_document

        rtl_document(doc)
    buffer = io.BytesIO()
    doc.save(buffer)
    path.write_bytes(buffer.getvalue())
    return total, len(missing)

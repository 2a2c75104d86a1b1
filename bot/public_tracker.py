"""The live public tracker: the public progress page (and its figures as
JSON) that ``nmrf-bot run`` serves at /public when ``[public] enabled``.

It is the page ``report progress --public`` writes, built from the same
figures (storage.report_progress) and renderer (bot.reports.progress_page),
with only validated input while ``[reports] public_requires_validation``.
Building it costs a query over every recommendation and four charts, so a
built page is kept and served as it is until it is a minute old; requests
that find it older wait together for one new build instead of each making
its own. Nothing personal or internal is put in: no names, e-mail
addresses, chat ids, narratives, next steps or evidence, and no database id.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from messages import t
from storage.report_progress import Progress, progress
from storage.report_rows import ReportScope
from storage.status import InstitutionInput
from storage.types import utcnow

log = logging.getLogger(__name__)

MAX_AGE = timedelta(seconds=60)
# After a build fails (the database does not answer), none is tried again for
# this long: under load, a database that is down is not asked once a request.
RETRY_AFTER = timedelta(seconds=10)


@dataclass(frozen=True)
class PublicPage:
    """One language's page and its JSON, as built at ``built_at`` (UTC)."""

    language: str
    html: bytes
    json: bytes
    built_at: datetime


class TrackerUnavailable(Exception):
    """No page could be built (the database does not answer) and none was kept."""


def public_href(language: str) -> str:
    return f"/public/{language}"


class PublicTracker:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        languages: Sequence[str],
        timezone: str,
        validated_only: bool,
        clock: Callable[[], datetime] = utcnow,
        max_age: timedelta = MAX_AGE,
    ) -> None:
        if not languages:
            raise ValueError("the public tracker needs at least one language")
        self.sessions, self.clock = sessions, clock
        self.languages = tuple(languages)
        self.timezone, self.validated_only, self.max_age = timezone, validated_only, max_age
        self._kept: dict[str, PublicPage] = {}
        self._building: dict[str, asyncio.Task[PublicPage]] = {}
        self._failed_at: dict[str, datetime] = {}
        self.builds = 0

    @property
    def default_language(self) -> str:
        return self.languages[0]

    async def page(self, language: str) -> PublicPage:
        """The page in ``language`` (one of ``languages``), at most ``max_age`` old
        while the database answers; else the last one built, said in its time."""
        kept = self._kept.get(language)
        now = self.clock()
        if kept is not None and now - kept.built_at < self.max_age:
            return kept
        failed_at = self._failed_at.get(language)
        if failed_at is not None and now - failed_at < RETRY_AFTER:
            if kept is not None:
                return kept
            raise TrackerUnavailable("the public page cannot be built now")
        task = self._building.get(language)
        if task is None:
            task = asyncio.get_running_loop().create_task(self._build(language))
            self._building[language] = task
            task.add_done_callback(lambda done: self._building.pop(language, None) if self._building.get(language) is done else None)
        try:
            # Shielded: a visitor who leaves does not cancel the build the others wait for.
            return await asyncio.shield(task)
        except Exception:
            self._failed_at[language] = self.clock()
            if kept is not None:
                log.exception("public tracker: the %s page could not be rebuilt; the one of %s is served", language, kept.built_at)
                return kept
            log.exception("public tracker: the %s page could not be built", language)
            raise TrackerUnavailable("the public page cannot be built now") from None

    async def _build(self, language: str) -> PublicPage:
        now = self.clock()
        async with self.sessions() as session:
            figures, rows = await progress(session, ReportScope(), None, t("draft.not_clustered", language), self.validated_only)
        # Drawing the charts takes a while on a large registry: in a worker
        # thread, so the chats served by the same event loop are not held up.
        page = await asyncio.to_thread(
            _render, figures, rows, as_of=now, language=language, timezone=self.timezone, public=True,
            validated_only=self.validated_only, built_at=now, languages=[(code, public_href(code)) for code in self.languages],
        )
        data = public_json(figures, rows, built_at=now, language=language, validated_only=self.validated_only)
        built = PublicPage(language, page.encode("utf-8"), data, now)
        self._kept[language] = built
        self._failed_at.pop(language, None)
        self.builds += 1
        return built


def _utc(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:  # SQLite gives back naive UTC
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _input(part: InstitutionInput) -> dict[str, Any]:
    return {
        "institution": part.code,
        "role": str(part.role) if part.role is not None else None,
        "status": str(part.status) if part.status is not None else None,
        "at": _utc(part.at),
    }


def public_json(figures: Progress, rows: list[dict[str, object]], *, built_at: datetime, language: str, validated_only: bool) -> bytes:
    """The page's figures and table as JSON: the same content, statuses by
    their codes (not_started, in_progress, ...), times in UTC. Only the
    columns named here leave: never a narrative, a name or an id of ours."""
    recommendations = []
    for row in rows:
        inputs: Sequence[InstitutionInput] = row.get("inputs") or []  # type: ignore[assignment]
        recommendations.append({
            "external_id": row.get("external_id"),
            "country": row.get("country"),
            "mechanism": row.get("mechanism"),
            "cycle": row.get("cycle"),
            "document": row.get("document"),
            "paragraph": row.get("paragraph"),
            "cluster": row.get("cluster"),
            "themes": row.get("themes"),
            "text": row.get("text"),
            "status": str(row["status"]),
            "institutions": [_input(part) for part in inputs],
        })
    document = {
        "title": t("progress.title", language),
        "language": language,
        "as_of": _utc(built_at),
        "validated_only": validated_only,
        "total": figures.total,
        "answered": figures.answered,
        "by_status": dict(sorted(figures.by_status.items())),
        "by_cluster": {name: dict(sorted(counts.items())) for name, counts in sorted(figures.by_cluster.items())},
        "by_institution": {code: dict(sorted(counts.items())) for code, counts in sorted(figures.by_institution.items())},
        "response": {code: {"assigned": assigned, "answered": answered} for code, (assigned, answered) in figures.response.items()},
        "updates_by_month": dict(sorted(figures.updates_by_month.items())),
        "recommendations": recommendations,
        **plan_json(figures, rows),
    }
    return json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")


def plan_json(figures: Progress, rows: list[dict[str, object]]) -> dict[str, object]:
    """The plan the page charts: each action with its status and dates, its
    budget unless the secretariat marked it internal, the recommendations it
    serves by their UN identifiers (never our ids); each indicator with its
    baseline, target and the value counted for each period."""
    external = {row["id"]: row.get("external_id") for row in rows}
    actions = [
        {
            "code": a.code, "title": a.title, "status": a.status.value, "responsible": a.responsible_code,
            "contributing": [code for code, _ in a.contributing],
            "start_date": a.start_date.isoformat() if a.start_date else None, "target_date": a.target_date.isoformat() if a.target_date else None,
            "budget": None if a.budget is None or a.budget.internal else {"amount": str(a.budget.amount), "currency": a.budget.currency},
            "recommendations": [external[r] for r in a.served if r in external],
        }
        for a in figures.plan.actions
    ]
    indicators = [
        {
            "code": p.indicator.code, "kind": p.indicator.kind.value, "definition": p.indicator.definition, "unit": p.indicator.unit,
            "institution": p.institution,
            "baseline": None if p.indicator.baseline_value is None else {"value": float(p.indicator.baseline_value), "date": str(p.indicator.baseline_date)},
            "target": None if p.indicator.target_value is None else {"value": float(p.indicator.target_value), "date": str(p.indicator.target_date)},
            "values": [
                {"period_start": v.value.period_start.isoformat(), "period_end": v.value.period_end.isoformat(), "value": float(v.value.value)}
                for v in p.series.points
            ],
        }
        for p in figures.plan.indicators
    ]
    return {"actions_by_status": dict(sorted(figures.plan.by_status.items())), "actions": actions, "indicators": indicators}


def _render(*args: Any, **kwargs: Any) -> str:
    """bot.reports.progress_page's page, imported in the worker thread when the
    first page is built: matplotlib takes a second to load, which `nmrf-bot
    run` then spends neither at start nor on the event loop."""
    from bot.reports.progress_page import render_progress_page

    return render_progress_page(*args, **kwargs)

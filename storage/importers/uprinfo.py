"""UPR Info's database export (CSV).

The export has no identifier, so the natural key is a hash of what makes a
recommendation itself: the State under review, the session, the recommending
State and the text (the response is left out, so that a State's later
decision on a pending recommendation updates it rather than adding one).
"""

from __future__ import annotations

import hashlib
import re

from storage.enums import ImportSource, RecommendationKind, TagKind, UprPosition
from storage.importers.cells import cell_text, paragraph_of, parse_int, split_list
from storage.importers.errors import RowError
from storage.importers.readers import EXTRA_CELLS, SourceRow
from storage.importers.record import RecommendationRecord, check_lengths, upr_cycle

COLUMNS = ("To", "To-Rgrp", "To-Org", "Text", "From", "From-Rgrp", "From-Org", "Response", "Action", "Issue", "Session")
REQUIRED = {"To", "Text", "From", "Response", "Session"}

_RESPONSES: dict[str, tuple[RecommendationKind, UprPosition | None]] = {
    "accepted": (RecommendationKind.RECOMMENDATION, UprPosition.SUPPORTED),
    "supported": (RecommendationKind.RECOMMENDATION, UprPosition.SUPPORTED),
    "noted": (RecommendationKind.RECOMMENDATION, UprPosition.NOTED),
    "voluntary pledge": (RecommendationKind.VOLUNTARY_PLEDGE, None),
    # Not yet answered by the State: a recommendation without a position.
    "pending": (RecommendationKind.RECOMMENDATION, None),
    "": (RecommendationKind.RECOMMENDATION, None),
}
_FIELD_COLUMNS = {
    "external_id": "Text",
    "country": "To",
    "tag:theme": "Issue",
    "tag:recommending_state": "From",
    "tag:region_concerned": "To-Rgrp",
    "tag:recommending_region": "From-Rgrp",
    "tag:recommending_organisation": "From-Org",
}
_SPACES = re.compile(r"\s+")


def normalise_headers(headers: list[str]) -> list[str]:
    return headers


def natural_key(country: str, session: int, recommending_state: str, text: str) -> str:
    canonical = "\x1f".join(
        [country.casefold(), str(session), recommending_state.casefold(), _SPACES.sub(" ", text).strip()]
    )
    return "uprinfo:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:40]


def parse_row(row: SourceRow) -> RecommendationRecord | list[RowError]:
    values = row.values
    errors: list[RowError] = []

    def error(column: str, reason: str) -> None:
        errors.append(RowError(row.number, column, reason, row.sheet))

    if EXTRA_CELLS in values:
        surplus = len(values[EXTRA_CELLS])
        error("", f"{surplus} more cells than the header has columns (an unquoted comma?)")
    country = cell_text(values.get("To"))
    if not country:
        error("To", "empty: the State under review is required")
    text = cell_text(values.get("Text"))
    if not text:
        error("Text", "empty")
    recommending_state = cell_text(values.get("From"))
    if not recommending_state:
        error("From", "empty: the recommending State is required")
    response_text = cell_text(values.get("Response"))
    response = _RESPONSES.get(response_text.lower())
    if response is None:
        error("Response", f"expected 'Accepted', 'Noted' or 'Voluntary Pledge', got {response_text!r}")
    session = None
    try:
        session = parse_int(values.get("Session"), minimum=1)
        if session is None:
            error("Session", "empty: the UPR Working Group session number is required")
    except ValueError as exc:
        error("Session", str(exc))
    action = None
    try:
        action = parse_int(values.get("Action"), minimum=1, maximum=5)
    except ValueError as exc:
        error("Action", str(exc))

    if errors:
        return errors
    assert response is not None and session is not None
    kind, position = response

    tags = [(TagKind.THEME, issue) for issue in split_list(values.get("Issue"), ",")]
    tags.append((TagKind.RECOMMENDING_STATE, recommending_state))
    for column, tag_kind in (
        ("To-Rgrp", TagKind.REGION_CONCERNED),
        ("From-Rgrp", TagKind.RECOMMENDING_REGION),
    ):
        if value := cell_text(values.get(column)):
            tags.append((tag_kind, value))
    tags.extend((TagKind.RECOMMENDING_ORGANISATION, org) for org in split_list(values.get("From-Org"), ","))
    if action is not None:
        tags.append((TagKind.UPRINFO_ACTION, str(action)))

    record = RecommendationRecord(
        source=ImportSource.UPRINFO,
        external_id=natural_key(country, session, recommending_state, text),
        text=text,
        country=country,
        mechanism_code="UPR",
        kind=kind,
        paragraph=paragraph_of(text),
        upr_cycle=upr_cycle(session),
        upr_session=session,
        upr_position=position,
        tags=tags,
    )
    return check_lengths(record, row.number, _FIELD_COLUMNS, row.sheet) or record

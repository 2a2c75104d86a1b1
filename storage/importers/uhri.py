"""The Universal Human Rights Index's "Export to Excel" file.

Its quirks are UHRI's own and kept as they come: "Reccomending" is misspelt
in two headers, every value carries a "- " bullet (one per line where a cell
holds several), dates are Excel serial numbers, and "UPR Session" values end
in " Session".
"""

from __future__ import annotations

from storage.enums import ImportSource, RecommendationKind, TagKind, UprPosition
from storage.importers.cells import bullet_list, cell_text, paragraph_of, parse_date, parse_int, strip_bullet
from storage.importers.errors import RowError
from storage.importers.readers import SourceRow
from storage.importers.record import RecommendationRecord, check_lengths, upr_cycle
from storage.reference import canonical_code

COLUMNS = (
    "Text",
    "Countries Concerned",
    "Reccomending Body",
    "Document Symbol",
    "Themes",
    "Affected Persons",
    "Sdgs",
    "Document Publication Date",
    "Date of publication on UHRI",
    "UPR Reccomending States",
    "UPR Position",
    "UPR Session",
    "Type",
    "OHCHR Annotation Id",
    "Regions Concerned",
    "Recommending Regions",
)
REQUIRED = {"Text", "Countries Concerned", "Reccomending Body", "OHCHR Annotation Id", "Type"}
# Some exports spell the headers correctly; read either.
ALIASES = {
    "Recommending Body": "Reccomending Body",
    "UPR Recommending States": "UPR Reccomending States",
}

_TYPES = {
    "recommendations": RecommendationKind.RECOMMENDATION,
    "recommendation": RecommendationKind.RECOMMENDATION,
    "concerns/observations": RecommendationKind.CONCERN_OBSERVATION,
}
_POSITIONS = {"supported": UprPosition.SUPPORTED, "accepted": UprPosition.SUPPORTED, "noted": UprPosition.NOTED}
_TAG_COLUMNS = (
    ("Themes", TagKind.THEME),
    ("Affected Persons", TagKind.AFFECTED_PERSONS),
    ("Sdgs", TagKind.SDG),
    ("UPR Reccomending States", TagKind.RECOMMENDING_STATE),
    ("Regions Concerned", TagKind.REGION_CONCERNED),
    ("Recommending Regions", TagKind.RECOMMENDING_REGION),
)
_FIELD_COLUMNS = {
    "external_id": "OHCHR Annotation Id",
    "country": "Countries Concerned",
    "mechanism_code": "Reccomending Body",
    "document_symbol": "Document Symbol",
    **{f"tag:{kind.value}": column for column, kind in _TAG_COLUMNS},
    "tag:country_concerned": "Countries Concerned",
}


# Part of every row's digest (storage.importers.unchanged): change it with
# any change to how parse_row, or what it calls, reads a cell, so that a
# re-import parses every row again instead of trusting the digests.
READ_VERSION = "1"


def normalise_headers(headers: list[str]) -> list[str]:
    return [ALIASES.get(h, h) for h in headers]



def _mechanism(value: object) -> str:
    """The body's code. Special procedure rows list the mandate and then
    "Special Procedures"; the mandate is the more useful of the two."""
    bodies = [canonical_code(b) for b in bullet_list(value)]
    specific = [b for b in bodies if b != "SP"]
    return (specific or bodies or [""])[0]


def annotation_id_of(values: dict[str, object]) -> str:
    """The row's id, as parse_row reads it ("" when it has none)."""
    return strip_bullet(cell_text(values.get("OHCHR Annotation Id")))


def parse_row(row: SourceRow) -> RecommendationRecord | list[RowError]:
    values = row.values
    errors: list[RowError] = []

    def error(column: str, reason: str) -> None:
        errors.append(RowError(row.number, column, reason, row.sheet))

    annotation_id = annotation_id_of(values)
    if not annotation_id:
        error("OHCHR Annotation Id", "empty: every UHRI row has an annotation id")
    text = cell_text(values.get("Text"))
    if not text:
        error("Text", "empty")
    countries = bullet_list(values.get("Countries Concerned"))
    if not countries:
        error("Countries Concerned", "empty")
    mechanism = _mechanism(values.get("Reccomending Body"))
    if not mechanism:
        error("Reccomending Body", "empty")

    type_text = strip_bullet(cell_text(values.get("Type")))
    kind = _TYPES.get(type_text.lower())
    if kind is None:
        error("Type", f"expected 'Recommendations' or 'Concerns/Observations', got {type_text!r}")

    position_text = strip_bullet(cell_text(values.get("UPR Position")))
    position = _POSITIONS.get(position_text.lower()) if position_text else None
    if position_text and position is None:
        error("UPR Position", f"expected 'Supported' or 'Noted', got {position_text!r}")

    session = cycle = None
    session_text = strip_bullet(cell_text(values.get("UPR Session")))
    if session_text:
        number = session_text.removesuffix("Session").removesuffix("session").strip()
        try:
            session = parse_int(number, minimum=1)
            cycle = upr_cycle(session) if session else None
        except ValueError:
            error("UPR Session", f"expected a session such as '40 Session', got {session_text!r}")

    dates = {}
    for column in ("Document Publication Date", "Date of publication on UHRI"):
        try:
            dates[column] = parse_date(values.get(column))
        except ValueError as exc:
            error(column, str(exc))

    if errors:
        return errors

    assert kind is not None
    tags = [(TagKind.COUNTRY_CONCERNED, c) for c in countries]
    for column, tag_kind in _TAG_COLUMNS:
        tags.extend((tag_kind, item) for item in bullet_list(values.get(column)))

    record = RecommendationRecord(
        source=ImportSource.UHRI,
        external_id=annotation_id,
        text=text,
        country=countries[0],
        mechanism_code=mechanism,
        kind=kind,
        paragraph=paragraph_of(text),
        document_symbol=strip_bullet(cell_text(values.get("Document Symbol"))) or None,
        document_date=dates.get("Document Publication Date"),
        upr_cycle=cycle,
        upr_session=session,
        upr_position=position,
        published_on=dates.get("Date of publication on UHRI"),
        tags=tags,
    )
    return check_lengths(record, row.number, _FIELD_COLUMNS, row.sheet) or record

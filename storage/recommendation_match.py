"""When a UHRI row and a UPR Info row are one UPR recommendation.

UHRI and UPR Info both publish the UPR Working Group's recommendations, each
with its own identifier (an OHCHR annotation id; UPR Info has none, so its
key is a hash of the row). Neither carries the other's id, so the same
recommendation is recognised by what both do carry: the State under review,
the Working Group session and the text, compared after ``normalise_text``
and ``normalise_state`` below, hashed as ``match_key``.

One UHRI row is one paragraph of the Working Group report, and names every
State that made it ("UPR Reccomending States", several when the report
groups them: "Establish an NHRI in accordance with the Paris Principles
(Azerbaijan, France, Nigeria, Pakistan, Republic of Korea)"). UPR Info splits
such a paragraph into one row per recommending State: in its export of New
Zealand, Slovenia, Uruguay and Fiji, eleven texts come on 2 to 6 rows of one
review, differing only by "From". So the key leaves the recommending State
out, and the registry holds what UHRI holds, whichever file comes first:

- a UPR Info row joins the UHRI paragraph of its key that names its State
  (``choose_for_uprinfo``); with none, the recommendation of UPR Info rows
  of its key that has no row of its State yet: a UPR Info file's rows that
  differ only by recommending State are one recommendation;
- a UHRI paragraph joins the recommendation of UPR Info rows sharing most
  of its States (``choose_for_uhri``), and the rows of States it does not
  name leave it (``rows_not_named``) for where they would have gone had
  UHRI come first: a report may give the same words to different States in
  separate paragraphs, and each UPR Info row belongs with the paragraph
  that names its State.

Only UPR recommendations get a key: a treaty body's or special procedure's
observations come from UHRI alone and have paragraph numbers of their own.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from storage.enums import ImportSource, TagKind

# The two sources that publish the same UPR recommendations.
MATCHED_SOURCES = frozenset({ImportSource.UHRI, ImportSource.UPRINFO})

_QUOTES = str.maketrans({c: "'" for c in "\u2018\u2019\u201a\u201b\u2032\u00b4`"} | {c: '"' for c in "\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb"})
_DASHES = str.maketrans({c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"})
_SOURCE_OF_POSITION = re.compile(r"source\s+of\s+position\b.*\Z", re.IGNORECASE | re.DOTALL)
_LEADING_PARAGRAPH = re.compile(r"^\s*\d{1,3}\.\d{1,3}\.?\s+")
_TRAILING_PUNCTUATION = re.compile(r"[\s.;,:]+\Z")
_NOT_WORD = re.compile(r"[\W_]+")


# The combining marks NFKD leaves after a letter (accents, cedillas, tildes).
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def _fold(text: str) -> str:
    """Case-folded, accents removed (é -> e, ñ -> n), compatibility forms unified."""
    if text.isascii():
        # Most texts: nothing to decompose (an import computes one per row).
        return text.casefold()
    decomposed = unicodedata.normalize("NFKD", text.translate(_QUOTES).translate(_DASHES).casefold())
    return _COMBINING.sub("", decomposed)


def normalise_text(text: str) -> str:
    """A recommendation's text as both sources are compared. The rules, in order:

    1. "Source of position: ..." and everything after it goes (UHRI appends
       where the State's response was published).
    2. A leading UPR paragraph number goes ("119.4 ", "119.4. ").
    3. Curly quotes become straight ones and every dash a hyphen.
    4. Case is folded and accents are removed, so "Institución" and
       "Institucion" are the same, as the full-text search folds them.
    5. Trailing parenthesised groups go, with the punctuation around them,
       as often as they come: "(Uruguay);" and "(Denmark) (Chile)." are the
       recommending States the report writes after the text, nested ones
       included ("(Bolivia (Plurinational State of))"). A trailing acronym
       such as "(ICRMW)" goes too: both sides lose it alike.
    6. Every run of characters that are not letters or digits (punctuation,
       spaces, line breaks) becomes one space, and the ends are trimmed.
    """
    text = _SOURCE_OF_POSITION.sub("", text)
    text = _LEADING_PARAGRAPH.sub("", text)
    text = _fold(text)
    while True:
        trimmed = _without_trailing_group(_TRAILING_PUNCTUATION.sub("", text))
        if trimmed == text:
            break
        text = trimmed
    return _NOT_WORD.sub(" ", text).strip()


def _without_trailing_group(text: str) -> str:
    """``text`` less the parenthesised group it ends with, nested ones within
    it included ("(Bolivia (Plurinational State of))"); as it is when it does
    not end with one. A scan, not a regular expression, so that a long text
    of many parentheses costs no more than its length."""
    if not text.endswith(")"):
        return text
    depth = 0
    for index in range(len(text) - 1, -1, -1):
        if text[index] == ")":
            depth += 1
        elif text[index] == "(":
            depth -= 1
            if depth == 0:
                return text[:index].rstrip()
    return text


# UN names (UHRI) and the short names UPR Info uses, to one form, keyed by
# the name as _words() leaves it. Only States whose two names differ once
# parentheses, "&" and "the" are dealt with; a name not listed is its own key.
_STATE_ALIASES = {
    "united kingdom of great britain and northern ireland": "united kingdom",
    "uk": "united kingdom",
    "united states of america": "united states",
    "usa": "united states",
    "russian federation": "russia",
    "republic of korea": "south korea",
    "korea republic of": "south korea",
    "democratic people s republic of korea": "north korea",
    "korea democratic people s republic of": "north korea",
    "dprk": "north korea",
    "iran islamic republic of": "iran",
    "islamic republic of iran": "iran",
    "syrian arab republic": "syria",
    "lao people s democratic republic": "laos",
    "lao pdr": "laos",
    "viet nam": "vietnam",
    "turkiye": "turkey",
    "czechia": "czech republic",
    "republic of moldova": "moldova",
    "united republic of tanzania": "tanzania",
    "former yugoslav republic of macedonia": "north macedonia",
    "macedonia": "north macedonia",
    "brunei darussalam": "brunei",
    "cabo verde": "cape verde",
    "swaziland": "eswatini",
    "state of palestine": "palestine",
    "ivory coast": "cote d ivoire",
    "democratic republic of the congo": "dr congo",
    "congo democratic republic of the": "dr congo",
    "libyan arab jamahiriya": "libya",
    "east timor": "timor leste",
    "burma": "myanmar",
    "kingdom of the netherlands": "netherlands",
}
_PARENTHESES = re.compile(r"\([^()]*\)")


def _words(name: str) -> str:
    return _NOT_WORD.sub(" ", _fold(name).replace("&", " and ")).strip().removeprefix("the ")


@functools.lru_cache(maxsize=4096)
def normalise_state(name: str) -> str:
    """A State's name as both sources are compared: folded as texts are, "&"
    read as "and", a leading "the" dropped, then the UN name and the short
    name made one ("Iran (Islamic Republic of)" and "Iran", "Viet Nam" and
    "Vietnam"); what is left in parentheses goes ("Bolivia (Plurinational
    State of)" is "bolivia")."""
    words = _words(name)
    if words in _STATE_ALIASES:
        return _STATE_ALIASES[words]
    bare = _words(_PARENTHESES.sub(" ", name))
    return _STATE_ALIASES.get(bare, bare)


def match_key(
    source: ImportSource, mechanism_code: str, country: str, session: int | None, text: str
) -> str | None:
    """The hex sha256 that two sources' rows of one UPR recommendation share,
    or None for what is not matched across sources (not UPR, no session, the
    template's own rows, a text with no word left)."""
    if source not in MATCHED_SOURCES:
        return None
    return upr_key(mechanism_code, country, session, text)


def upr_key(mechanism_code: str, country: str, session: int | None, text: str) -> str | None:
    """The key of a UPR recommendation to ``country`` at Working Group
    ``session`` in these words, whichever file gives it: the secretariat's
    template looks UHRI's and UPR Info's rows up by it."""
    if mechanism_code != "UPR" or session is None:
        return None
    words = normalise_text(text)
    state = normalise_state(country)
    if not words or not state:
        return None
    return hashlib.sha256(f"{state}\x1f{session}\x1f{words}".encode()).hexdigest()


# A tag as the match keeps it: (TagKind value, value).
TagPair = tuple[str, str]


@dataclass
class SourceRow:
    """One UPR Info row of a recommendation, as it was imported."""

    external_id: str
    content_hash: str
    # Its recommending State, normalised; None for a row imported before
    # migration 0026, whose own tags were not kept.
    state: str | None
    tags: frozenset[TagPair] | None


def source_row(external_id: str, content_hash: str, tags: Iterable[TagPair] | None) -> SourceRow:
    """A UPR Info row with its tags (its recommending State read from them)."""
    if tags is None:
        return SourceRow(external_id, content_hash, None, None)
    pairs = frozenset((str(kind), str(value)) for kind, value in tags)
    states = sorted(normalise_state(v) for k, v in pairs if k == TagKind.RECOMMENDING_STATE.value)
    return SourceRow(external_id, content_hash, states[0] if states else None, pairs)


@dataclass
class Candidate:
    """A recommendation under a match key: stored, or made by the batch
    being written (``recommendation_id`` None until it is inserted)."""

    recommendation_id: int | None
    sources: set[ImportSource]
    # Every recommending State its tags name, normalised.
    states: set[str]
    # Its UPR Info rows.
    rows: list[SourceRow] = field(default_factory=list)
    # The States its UHRI paragraph names; None while it has no UHRI row.
    paragraph: set[str] | None = None
    # Oldest first: stored ones by id, then the batch's in the order made.
    order: tuple[int, int] = (0, 0)
    # Its own recommendations.(source, external_id): the first source's row.
    own: tuple[ImportSource, str] | None = None

    def upr_states(self) -> set[str]:
        """The States whose UPR Info row it holds."""
        known = {r.state for r in self.rows if r.state}
        if self.paragraph is None and any(r.state is None for r in self.rows):
            # UPR Info rows alone, imported before 0026: the tags are theirs.
            known |= self.states
        return known


def states_of(names: Iterable[str]) -> set[str]:
    return {s for s in (normalise_state(n) for n in names) if s}


def choose_for_uprinfo(state: str, candidates: Iterable[Candidate]) -> Candidate | None:
    """The recommendation a UPR Info row of recommending ``state`` belongs
    to, among those under its key; None for a new one. In this order:

    1. the oldest UHRI paragraph that names ``state`` (or no State) and holds
       no UPR Info row of ``state`` yet: UPR Info's row of that paragraph;
    2. else the oldest recommendation of UPR Info rows only that holds no row
       of ``state`` yet: UPR Info split one paragraph into a row per State,
       and its rows are one recommendation again, with every State, as UHRI
       has it. A State's second row of the same words (its id ends ``#2``)
       finds the first taken, and goes to the next.
    """
    ordered = sorted(candidates, key=lambda c: c.order)
    for candidate in ordered:
        paragraph = candidate.paragraph
        if paragraph is not None and (not paragraph or state in paragraph) and state not in candidate.upr_states():
            return candidate
    for candidate in ordered:
        if candidate.sources == {ImportSource.UPRINFO} and state not in candidate.upr_states():
            return candidate
    return None


def choose_for_uhri(states: set[str], candidates: Iterable[Candidate]) -> Candidate | None:
    """The recommendation a UHRI paragraph naming recommending ``states``
    is, among those under its key; None for a new one. Only one of UPR Info
    rows without a paragraph yet (a UHRI row is one paragraph, and two are
    two recommendations); when both name States they must share one; the
    most shared wins, then the oldest. The rows of States the paragraph does
    not name then leave it (``rows_not_named``)."""
    best: tuple[int, tuple[int, int]] | None = None
    chosen = None
    for candidate in candidates:
        if candidate.paragraph is not None or ImportSource.UHRI in candidate.sources:
            continue
        upr = candidate.upr_states()
        shared = len(states & upr)
        if states and upr and not shared:
            continue
        rank = (-shared, candidate.order)
        if best is None or rank < best:
            best, chosen = rank, candidate
    return chosen


def rows_not_named(candidate: Candidate, states: set[str]) -> list[SourceRow]:
    """The UPR Info rows of ``candidate`` whose State a paragraph naming
    ``states`` does not name: another paragraph's, or UPR Info's alone. A
    paragraph naming no State, and a row whose State is not known (imported
    before 0026), keep them."""
    if not states:
        return []
    return [r for r in candidate.rows if r.state is not None and r.state not in states]

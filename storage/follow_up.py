"""A concluding observation's follow-up selection: the few paragraphs a treaty
body asks the State to report on within a year or two (its follow-up
procedure), recorded by the secretariat or by an import.

The selection is the Guide's first priority criterion (urgency indicated by a
treaty body) and what the follow-up information deadline covers
(storage.deadline_suggestions, ``repoint_deadline``). Only a treaty body's
concluding observations have one: a UPR recommendation, a special
procedure's, or a voluntary pledge is refused, naming what it is.

Paragraphs are named as the committee names them: "12, 14(a), 27",
"paragraphs 12–14 and 20", "paras. 12, 14 and 20", "14(a)-(c)", and in French
and Spanish ("paragraphes 12 à 14 et 20", "párrafos 12 a 14 y 20"). A range
names every paragraph from its first to its last; what cannot be read (a word,
a range running downward, "12-14(b)", "(i)-(v)", which may be roman numerals
or letters) refuses the whole text, naming the piece. A number whose paragraph
the registry holds only as sub-paragraphs (14(a), 14(b)) names all of them,
as the committee's "paragraph 14" does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NoReturn

from sqlalchemy import and_, delete, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import deadline_rules as rules, priorities
from storage.audit import audit_record, current_actor
from storage.enums import DeadlineKind, FollowUpSource, MechanismKind, RecommendationKind
from storage.errors import Conflict, InvalidValue, NotFound
from storage.models import Deadline, Document, FollowUpSelection, Mechanism, Recommendation, deadline_recommendations
from storage.paragraph_order import paragraph_key

# The kinds a concluding observation's paragraph is imported as.
FOLLOW_UP_KINDS = (RecommendationKind.RECOMMENDATION, RecommendationKind.CONCERN_OBSERVATION)
_PARAGRAPH = r"\d+(?:\.\d+)*(?:\s*\(\s*[a-z0-9]{1,4}\s*\))*"
_SHOWN = 15


@dataclass(frozen=True)
class Paragraph:
    """One recommendation of a concluding observation, as the selection names it."""

    recommendation_id: int
    paragraph: str | None
    symbol: str | None
    mechanism: str
    selected: bool


@dataclass(frozen=True)
class SelectionChange:
    """What a select or unselect did (or, in a rolled-back preview, would do)."""

    changed: tuple[Paragraph, ...]
    unchanged: tuple[Paragraph, ...]

    @property
    def ids(self) -> tuple[int, ...]:
        return tuple(p.recommendation_id for p in self.changed + self.unchanged)


@dataclass(frozen=True)
class SelectedRow:
    symbol: str | None
    mechanism: str
    country: str
    paragraph: str | None
    recommendation_id: int
    source: FollowUpSource
    selected_at: datetime
    selected_by: str


@dataclass(frozen=True)
class Repointed:
    """A follow-up deadline (and its input deadlines) made to cover the selection."""

    deadline_id: int
    input_ids: tuple[int, ...]
    before: tuple[int, ...]
    after: tuple[int, ...]


def normalise_paragraph(text: str) -> str:
    """'14 (a)' and '14(A)' are one paragraph."""
    return re.sub(r"\s+", "", text).lower()


class UnreadableParagraphs(InvalidValue):
    """Paragraphs that cannot be read, with the piece at fault as written and
    what is wrong with it (``problem``), so that chat can say it in the
    reader's language: "word", "sub_alone", "range_start", "range_end",
    "range_reversed", "range_mixed", "range_roman", "range_long" or "empty"."""

    def __init__(self, message: str, piece: str, problem: str) -> None:
        super().__init__(message, field="paragraph")
        self.piece, self.problem = piece, problem


# The words around the numbers, in English, French and Spanish, once a
# trailing full stop or colon is dropped ("paras.", "párr.", "par.:").
_WORDS = frozenset((
    "and & para paras paragraph paragraphs § §§ the from "
    "et paragraphe paragraphes par paragr le les du des "
    "y párrafo párrafos parrafo parrafos párr párrs parr parrs el los del"
).split())
# "12-14", "12–14", "12 to 14", "12 à 14", "du 12 au 14", "12 a 14", "del 12 al 14".
_DASHES = "\\-\u2010\u2011\u2012\u2013\u2014\u2015"
_RANGE_WORDS = frozenset(("to", "through", "à", "au", "a", "al"))
_SUB = r"\(\s*[a-z0-9]{1,4}\s*\)"
_TOKEN = re.compile(
    rf"(?P<para>{_PARAGRAPH})|(?P<sub>(?:{_SUB})+)|(?P<dash>[{_DASHES}])|(?P<sep>[,;])|(?P<space>\s+)"
    rf"|(?P<word>[^\s,;()\d{_DASHES}]+)|(?P<other>.)",
    re.I,
)
# A selection names a few paragraphs; a longer range is a typing slip ("1-140" for "1, 140").
MAX_RANGE = 60
_ROMAN = ("i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii", "xiii", "xiv", "xv", "xvi", "xvii", "xviii", "xix", "xx")
_EXAMPLE = "e.g. 12, 14(a), 27 or 12-14 and 20"


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    start: int
    end: int


def _tokens(text: str) -> list[_Token]:
    """What counts: numbers, sub-paragraphs, range marks, separators and
    unknown words; spaces and the list's own words are dropped."""
    out = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup or "other"
        if kind == "space":
            continue
        if kind == "word":
            word = m.group(0).lower().rstrip(".:")
            if not word or word in _WORDS:
                continue
            if word in _RANGE_WORDS:
                kind = "dash"
        out.append(_Token(kind, m.group(0), m.start(), m.end()))
    return out


def _split(paragraph: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """'12.1(a)(ii)' -> (('12', '1'), ('a', 'ii'))."""
    base, _, subs = normalise_paragraph(paragraph).partition("(")
    return tuple(base.split(".")), tuple(s.rstrip(")") for s in ("(" + subs).split("(")[1:]) if subs else ()


def _sub_range(first: str, last: str, piece: str) -> list[str] | None:
    """The sub-paragraphs from ``first`` to ``last``: letters, numbers or
    roman numerals; None when they are not of one kind."""
    if first.isdigit() and last.isdigit():
        return [str(n) for n in range(int(first), int(last) + 1)] if int(first) <= int(last) else _reversed(piece)
    single = len(first) == len(last) == 1
    if single and first in "ivx" and last in "ivx":
        # (i)-(v) is five roman numerals or fourteen letters: the reader says which.
        raise UnreadableParagraphs(
            f"{piece!r} may be roman numerals or letters: name each sub-paragraph, e.g. 14(i), 14(ii), 14(iii)", piece, "range_roman",
        )
    if first in _ROMAN and last in _ROMAN and not single:
        a, b = _ROMAN.index(first), _ROMAN.index(last)
        return list(_ROMAN[a:b + 1]) if a <= b else _reversed(piece)
    if single and first.isalpha() and last.isalpha():
        return [chr(c) for c in range(ord(first), ord(last) + 1)] if first <= last else _reversed(piece)
    return None


def _reversed(piece: str) -> NoReturn:
    raise UnreadableParagraphs(f"the range {piece!r} runs downward: write it from the first paragraph to the last, e.g. 12-14", piece, "range_reversed")


def _expand(start: str, end: _Token, piece: str) -> list[str]:
    """The paragraphs of one range: '12-14' (or 12.1-12.3), '14(a)-(c)' or '14(a)-14(c)'."""
    base, subs = _split(start)
    if end.kind == "sub":
        end_base, end_subs = base, _split("0" + end.text)[1]
    else:
        end_base, end_subs = _split(end.text)
    found: list[str] | None = None
    if not subs and not end_subs and len(base) == len(end_base) and base[:-1] == end_base[:-1]:
        first, last = int(base[-1]), int(end_base[-1])
        if first > last:
            _reversed(piece)
        found = [".".join((*base[:-1], str(n))) for n in range(first, last + 1)]
    elif subs and len(end_subs) == len(subs) and base == end_base and subs[:-1] == end_subs[:-1]:
        named = _sub_range(subs[-1], end_subs[-1], piece)
        prefix = ".".join(base) + "".join(f"({s})" for s in subs[:-1])
        found = None if named is None else [f"{prefix}({s})" for s in named]
    if found is None:
        raise UnreadableParagraphs(
            f"cannot read the range {piece!r}: a range runs between two paragraphs (12-14) or two sub-paragraphs of one (14(a)-(c))",
            piece, "range_mixed",
        )
    if len(found) > MAX_RANGE:
        raise UnreadableParagraphs(
            f"the range {piece!r} names {len(found)} paragraphs, more than the {MAX_RANGE} a follow-up selection could hold: check the numbers",
            piece, "range_long",
        )
    return found


def parse_paragraphs(text: str) -> tuple[str, ...]:
    """The paragraphs as a committee or a secretary writes them, each once, in
    order: '12, 14(a), 27', '12 14 27', 'paras. 12, 14 and 20', '12-14',
    '12–14', '14(a)-(c)', 'paragraphes 12 à 14 et 20', 'párrafos 12 a 14 y 20'.
    All or nothing: the first piece that cannot be read is named."""
    found: list[str] = []
    tokens = _tokens(text)
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.kind == "sep":
            index += 1
            continue
        if token.kind == "para":
            following = tokens[index + 1] if index + 1 < len(tokens) else None
            if following is not None and following.kind == "dash":
                end = tokens[index + 2] if index + 2 < len(tokens) else None
                if end is None or end.kind not in ("para", "sub"):
                    piece = text[token.start:following.end].strip()
                    raise UnreadableParagraphs(f"the range {piece!r} has no end: e.g. 12-14", piece, "range_end")
                piece = text[token.start:end.end].strip()
                found += _expand(token.text, end, piece)
                index += 3
                continue
            found.append(normalise_paragraph(token.text))
            index += 1
            continue
        if token.kind == "dash":
            raise UnreadableParagraphs(f"the range mark {token.text!r} has no paragraph before it: e.g. 12-14", token.text, "range_start")
        if token.kind == "sub":
            raise UnreadableParagraphs(f"{token.text!r} names no paragraph: write it with its number, e.g. 14{token.text}", token.text, "sub_alone")
        raise UnreadableParagraphs(f"expected paragraph numbers ({_EXAMPLE}), got {token.text!r}", token.text, "word")
    if not found:
        raise UnreadableParagraphs(f"no paragraph given: {_EXAMPLE}", text.strip(), "empty")
    return tuple(dict.fromkeys(found))


def describe_paragraphs(paragraphs: Iterable[str | None], ids: Iterable[int] = ()) -> str:
    """'paragraphs 12, 14(a), 27' (a paragraph-less recommendation by its #id)."""
    named = sorted({p for p in paragraphs if p}, key=paragraph_key)
    shown = named + [f"#{i}" for i in ids]
    if not shown:
        return "no paragraph"
    return ("paragraph " if len(shown) == 1 else "paragraphs ") + ", ".join(shown)


async def get_document(session: AsyncSession, symbol: str) -> tuple[Document, Mechanism]:
    """A treaty body's concluding observations, by symbol (any case); any other
    document is refused with what it is."""
    wanted = " ".join(symbol.split())
    if not wanted:
        raise InvalidValue("no document symbol given: e.g. CEDAW/C/URY/CO/10", key="refusal.followup.no_symbol")
    row = (await session.execute(
        select(Document, Mechanism).outerjoin(Mechanism, Mechanism.id == Document.mechanism_id)
        .where(func.lower(Document.symbol) == wanted.lower())
    )).first()
    if row is None:
        raise NotFound(
            f"no document {wanted!r} in the registry (import its concluding observations first)", field="document_symbol",
            key="refusal.followup.unknown_document", values={"symbol": wanted},
        )
    document, mechanism = row
    if mechanism is None or mechanism.kind is not MechanismKind.TREATY_BODY:
        what = _what(mechanism)
        raise InvalidValue(
            f"{document.symbol} is {what} document: only a treaty body's concluding observations have a follow-up selection",
            field="document_symbol", key="refusal.followup.not_treaty_body", values={"symbol": document.symbol},
        )
    return document, mechanism


async def document_paragraphs(session: AsyncSession, document_id: int) -> list[Paragraph]:
    """Every recommendation of a document, in paragraph order, with whether it is selected."""
    rows = await session.execute(
        select(Recommendation.id, Recommendation.paragraph, Document.symbol, Mechanism.code, FollowUpSelection.recommendation_id)
        .join(Mechanism, Mechanism.id == Recommendation.mechanism_id)
        .join(Document, Document.id == Recommendation.document_id)
        .outerjoin(FollowUpSelection, FollowUpSelection.recommendation_id == Recommendation.id)
        .where(Recommendation.document_id == document_id, Recommendation.kind.in_(FOLLOW_UP_KINDS))
    )
    found = [Paragraph(rid, para, sym, code, sel is not None) for rid, para, sym, code, sel in rows]
    return sorted(found, key=lambda p: (paragraph_key(p.paragraph), p.recommendation_id))


def match_paragraphs(held: Sequence[Paragraph], wanted: Sequence[str]) -> tuple[list[Paragraph], list[str]]:
    """The document's recommendations the paragraphs name, and the paragraphs
    it does not have. "14" names 14(a), 14(b)... (and 14.1) when there is no 14 itself."""
    by_paragraph: dict[str, list[Paragraph]] = {}
    for p in held:
        if p.paragraph:
            by_paragraph.setdefault(normalise_paragraph(p.paragraph), []).append(p)
    chosen: dict[int, Paragraph] = {}
    unknown: list[str] = []
    for para in wanted:
        exact = by_paragraph.get(para) or [
            p for key, ps in by_paragraph.items() if key.startswith((f"{para}(", f"{para}.")) for p in ps
        ]
        if not exact:
            unknown.append(para)
        for p in exact:
            chosen.setdefault(p.recommendation_id, p)
    return sorted(chosen.values(), key=lambda p: (paragraph_key(p.paragraph), p.recommendation_id)), unknown


def held_paragraphs(held: Sequence[Paragraph], shown: int = _SHOWN) -> str:
    """'12, 14(a), 27 ... (40 in all)': what a document has, for an error."""
    has = sorted({p.paragraph for p in held if p.paragraph}, key=paragraph_key)
    return ", ".join(has[:shown]) + (f" ... ({len(has)} in all)" if len(has) > shown else "")


async def resolve_paragraphs(session: AsyncSession, symbol: str, paragraphs: str) -> tuple[Document, list[Paragraph]]:
    """The recommendations ``paragraphs`` name in the document; every
    paragraph it does not have is named in one error, with those it has."""
    wanted = parse_paragraphs(paragraphs)
    document, _ = await get_document(session, symbol)
    held = await document_paragraphs(session, document.id)
    chosen, unknown = match_paragraphs(held, wanted)
    if unknown:
        listed = held_paragraphs(held)
        raise NotFound(
            f"{document.symbol} has no {describe_paragraphs(unknown)}"
            + (f" (its paragraphs: {listed})" if listed else " (no paragraph numbers are recorded for it)"),
            field="paragraph",
        )
    return document, chosen


async def resolve_ids(session: AsyncSession, ids: Sequence[int]) -> list[Paragraph]:
    """Recommendations by id, each a treaty body's concluding observation; the
    first that is not (or does not exist) is named."""
    rows = {
        rid: (para, sym, code, kind, mkind, sel)
        for rid, para, sym, code, kind, mkind, sel in await session.execute(
            select(
                Recommendation.id, Recommendation.paragraph, Document.symbol, Mechanism.code, Recommendation.kind,
                Mechanism.kind, FollowUpSelection.recommendation_id,
            )
            .join(Mechanism, Mechanism.id == Recommendation.mechanism_id)
            .outerjoin(Document, Document.id == Recommendation.document_id)
            .outerjoin(FollowUpSelection, FollowUpSelection.recommendation_id == Recommendation.id)
            .where(Recommendation.id.in_(list(ids)))
        )
    }
    if missing := [i for i in ids if i not in rows]:
        raise NotFound(f"no recommendation {', '.join(f'#{i}' for i in missing)}")
    out = []
    for rid in ids:
        para, sym, code, kind, mkind, sel = rows[rid]
        if mkind is not MechanismKind.TREATY_BODY:
            raise InvalidValue(f"#{rid} is {_what_kind(mkind, code)} recommendation: only a treaty body's concluding observations are selected for follow-up")
        if kind not in FOLLOW_UP_KINDS:
            raise InvalidValue(f"#{rid} is a {kind.value.replace('_', ' ')}: only a treaty body's concluding observations are selected for follow-up")
        out.append(Paragraph(rid, para, sym, code, sel is not None))
    return out


async def select_paragraphs(
    session: AsyncSession, targets: Sequence[Paragraph], source: FollowUpSource = FollowUpSource.SECRETARIAT,
) -> SelectionChange:
    """Record them as selected for follow-up (those already so stay as they
    were, source and date included). Each new row is audited with the actor."""
    current = await _selected(session, [p.recommendation_id for p in targets])
    new = [p for p in targets if p.recommendation_id not in current]
    for p in new:
        session.add(FollowUpSelection(recommendation_id=p.recommendation_id, source=source, selected_by=current_actor()))
    await session.flush()
    change = SelectionChange(tuple(new), tuple(p for p in targets if p.recommendation_id in current))
    await priorities.refresh(session, [p.recommendation_id for p in new])
    return change


async def unselect_paragraphs(session: AsyncSession, targets: Sequence[Paragraph]) -> SelectionChange:
    ids = [p.recommendation_id for p in targets]
    rows = {r.recommendation_id: r for r in (await session.scalars(
        select(FollowUpSelection).where(FollowUpSelection.recommendation_id.in_(ids))
    )).all()}
    for row in rows.values():
        await session.delete(row)
    await session.flush()
    change = SelectionChange(tuple(p for p in targets if p.recommendation_id in rows), tuple(p for p in targets if p.recommendation_id not in rows))
    await priorities.refresh(session, list(rows))
    return change


async def selected_ids(session: AsyncSession, rec_ids: Iterable[int]) -> set[int]:
    """Which of these recommendations are selected for follow-up."""
    return await _selected(session, list(rec_ids))


async def list_selection(session: AsyncSession, symbol: str | None = None) -> list[SelectedRow]:
    """Every selected paragraph, or one document's, by document then paragraph."""
    statement = (
        select(
            Document.symbol, Mechanism.code, Recommendation.country, Recommendation.paragraph, Recommendation.id,
            FollowUpSelection.source, FollowUpSelection.selected_at, FollowUpSelection.selected_by,
        )
        .select_from(FollowUpSelection)
        .join(Recommendation, Recommendation.id == FollowUpSelection.recommendation_id)
        .join(Mechanism, Mechanism.id == Recommendation.mechanism_id)
        .outerjoin(Document, Document.id == Recommendation.document_id)
    )
    if symbol is not None:
        document, _ = await get_document(session, symbol)
        statement = statement.where(Recommendation.document_id == document.id)
    rows = [SelectedRow(*row) for row in await session.execute(statement)]
    return sorted(rows, key=lambda r: (r.symbol or "", paragraph_key(r.paragraph), r.recommendation_id))


async def repoint_deadline(session: AsyncSession, symbol: str, deadline_id: int | None = None) -> Repointed:
    """Make the document's follow-up information deadline, and the input
    deadlines serving it, cover exactly its selected paragraphs: reminders
    then ask only about those (they read the deadline's recommendations)."""
    document, mechanism = await get_document(session, symbol)
    held = await document_paragraphs(session, document.id)
    chosen = tuple(p.recommendation_id for p in held if p.selected)
    if not chosen:
        raise InvalidValue(
            f"{document.symbol} has no follow-up selection yet: select its paragraphs first (followup select)",
            key="refusal.followup.no_selection", values={"symbol": document.symbol},
        )
    deadline = await _follow_up_deadline(session, document, mechanism, deadline_id)
    inputs = tuple((await session.scalars(
        select(Deadline.id).where(Deadline.parent_id == deadline.id, Deadline.withdrawn_at.is_(None)).order_by(Deadline.id)
    )).all())
    before = tuple(sorted((await session.scalars(
        select(deadline_recommendations.c.recommendation_id).where(deadline_recommendations.c.deadline_id == deadline.id)
    )).all()))
    after = tuple(sorted(chosen))
    if before != after:
        for target in (deadline.id, *inputs):
            await session.execute(delete(deadline_recommendations).where(deadline_recommendations.c.deadline_id == target))
            await session.execute(insert(deadline_recommendations), [{"deadline_id": target, "recommendation_id": i} for i in after])
            # deadline_recommendations is written outside the ORM: one entry says what changed.
            await audit_record(
                session, action="update", entity="deadlines", entity_id=str(target),
                changes={"recommendations": [list(before), list(after)], "follow_up_selection": document.symbol},
            )
    return Repointed(deadline.id, inputs, before, after)


async def deadline_to_repoint(session: AsyncSession, symbol: str) -> int | None:
    """The document's follow-up information deadline when it covers other
    recommendations than the selection (made before it, or the selection
    changed since): what ``repoint_deadline`` would change; None otherwise."""
    document, mechanism = await get_document(session, symbol)
    held = await document_paragraphs(session, document.id)
    chosen = {p.recommendation_id for p in held if p.selected}
    try:
        deadline = await _follow_up_deadline(session, document, mechanism, None)
    except (NotFound, Conflict):
        return None
    covered = set((await session.scalars(
        select(deadline_recommendations.c.recommendation_id).where(deadline_recommendations.c.deadline_id == deadline.id)
    )).all())
    return deadline.id if chosen and covered != chosen else None


async def follow_up_deadlines(session: AsyncSession, document: Document, mechanism: Mechanism) -> list[Deadline]:
    """The live follow-up information deadlines of the document's committee
    that are its own: covering any of its recommendations, or due on the
    rule's follow-up date for it with its State or none. The one lookup both
    ``deadlines suggest`` (storage.deadline_suggestions) and ``apply-deadline``
    use, so the deadline one names is the one the other re-points."""
    mine = select(Recommendation.id).where(Recommendation.document_id == document.id)
    covering = select(deadline_recommendations.c.deadline_id).where(deadline_recommendations.c.recommendation_id.in_(mine))
    own = Deadline.id.in_(covering)
    if document.published_on is not None:
        countries = [c.lower() for c in (await session.scalars(
            select(Recommendation.country).where(Recommendation.document_id == document.id).distinct()
        )).all() if c]
        due = rules.follow_up(mechanism.code.upper(), document.published_on).on
        own = or_(own, and_(Deadline.due_on == due, or_(Deadline.country.is_(None), func.lower(Deadline.country).in_(countries))))
    return list((await session.scalars(
        select(Deadline).where(
            Deadline.kind == DeadlineKind.FOLLOW_UP_INFORMATION, Deadline.withdrawn_at.is_(None),
            Deadline.mechanism_id == mechanism.id, own,
        ).order_by(Deadline.due_on, Deadline.id)
    )).all())


async def covered_recommendations(session: AsyncSession, deadline_id: int) -> set[int]:
    """The recommendations a deadline covers: what its reminders ask about."""
    return set((await session.scalars(
        select(deadline_recommendations.c.recommendation_id).where(deadline_recommendations.c.deadline_id == deadline_id)
    )).all())


async def _follow_up_deadline(
    session: AsyncSession, document: Document, mechanism: Mechanism, deadline_id: int | None,
) -> Deadline:
    if deadline_id is not None:
        deadline = await session.get(Deadline, deadline_id)
        if deadline is None or deadline.withdrawn_at is not None:
            raise NotFound(f"no deadline with id {deadline_id}", key="refusal.followup.deadline_gone", values={"id": deadline_id})
        if deadline.kind is not DeadlineKind.FOLLOW_UP_INFORMATION:
            raise InvalidValue(
                f"deadline {deadline_id} is a {deadline.kind.value} deadline, not a follow-up information one",
                key="refusal.followup.not_follow_up_deadline", values={"id": deadline_id},
            )
        return deadline
    found = await follow_up_deadlines(session, document, mechanism)
    if not found:
        raise NotFound(
            f"no follow-up information deadline covers {document.symbol}: propose it with `nmrf-bot deadlines suggest`",
            key="refusal.followup.no_deadline", values={"symbol": document.symbol},
        )
    if len(found) > 1:
        raise Conflict(
            f"{len(found)} follow-up information deadlines cover {document.symbol} "
            f"({', '.join(str(d.id) for d in found)}): say which with --deadline",
            key="refusal.followup.several_deadlines",
            values={"symbol": document.symbol, "ids": ", ".join(str(d.id) for d in found)},
        )
    return found[0]


async def _selected(session: AsyncSession, ids: list[int]) -> set[int]:
    found: set[int] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        found.update((await session.scalars(
            select(FollowUpSelection.recommendation_id).where(FollowUpSelection.recommendation_id.in_(chunk))
        )).all())
    return found


def _what(mechanism: Mechanism | None) -> str:
    if mechanism is None:
        return "not a treaty body's"
    return _what_kind(mechanism.kind, mechanism.code) if mechanism.kind is not MechanismKind.UPR else "a UPR"


def _what_kind(kind: MechanismKind, code: str) -> str:
    if kind is MechanismKind.UPR:
        return "a UPR"
    article = "an" if code[:1].upper() in "AEIOU" else "a"
    return f"{article} {code} ({kind.value.replace('_', ' ')})"

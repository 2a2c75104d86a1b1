"""Which recommendations ask a State for the same thing: the suggestions
behind `links suggest` (issue 15).

Pure: no database, no clock. The caller reads the recommendations into
``LinkItem``s and keeps what comes back as link suggestions.

The method, and why (the README says it for readers):
- Texts are normalised: numbering and the recommending State dropped, case,
  accents and punctuation folded, each core treaty one token however it is
  named (English, French, Spanish, acronym), function words and the
  openings every recommendation shares left out, words cut to five letters.
- Text similarity is the cosine of TF-IDF vectors over words (1-2 grams)
  and over character n-grams (3-5, inside word boundaries), averaged. Words
  catch the ask; character n-grams catch morphology, spelling and typos.
  It runs offline, with no model to download, in seconds for a national
  registry, and every score can be explained by the words two texts share.
- A text that asks several things (a committee's "(a) ...; (b) ...", several
  sentences, long "..., and to ..." clauses) is also compared request by
  request (``requests``): two texts are as alike as their whole texts or
  their best-matching requests, whichever is higher, so a one-line UPR
  recommendation matching a paragraph's (b) is not drowned by (a) and (c).
  Requests to report back ("in its next periodic report") are not
  compared: every committee asks them.
- Two texts naming different treaties ask for different acts, however alike
  the rest: their similarity is cut to a fifth.
- Shared themes, affected persons and SDG targets raise the similarity (by
  their Jaccard overlap, a low one up to nearly x1.8): multiplied, not added, because two
  recommendations on one theme often ask different things, so tags alone
  never link two texts.
- Across languages, and across mechanisms (a UPR recommendation and a
  committee's paragraph word one ask differently), the concepts two texts
  name by the bilingual term list of storage/link_terms.py ("violencia
  contra la mujer" and "violence against women" are one concept) count too:
  such a pair is at least a share of its concept similarity, damped when
  the two have few concepts in common. Two texts of one language and one
  mechanism are compared by their words alone.
- Only recommendations to one State (``country``) are compared; those with
  no State, only with each other.
- Groups come from average linkage over the chains of pairs above the
  threshold, not from the chains themselves: A~B~C where A and C are
  unrelated does not glue A and C together, and no group grows beyond
  ``max_group``. A recommendation average linkage leaves alone then joins
  the group whose centroid it is like (``_attach``): a group of many
  loosely alike members has a short centroid, so a newcomer need not be as
  like each member as they are like one another.

scikit-learn and SciPy are imported inside ``suggest_groups``: the command
line starts without them (issue 18).
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

# Chosen with bench/links_bench.py on the labelled set (bench/links_labels.csv);
# the README gives the precision and recall it measured.
DEFAULT_THRESHOLD = 0.3
# Word and character similarity weigh the same.
WORD_WEIGHT = 0.5
# What is left of the similarity of two texts that name different treaties
# (none in common); it grows with the share they have in common.
TREATY_MISMATCH = 0.2
# Words are compared by their first letters only (``stems``).
STEM_LENGTH = 5
# How much shared tags raise a pair's text similarity (all tags in
# common: a low similarity nearly x1.8, a high one closer to 1 but never
# 1). Multiplied, not added: two texts that share no words stay apart
# however alike their tags.
TAG_BOOST = 0.8
# A request longer than this (in content words) is cut again at a clause
# boundary (", and ...", "and to ...", "as well as ..."), when both halves
# keep at least SHORT_REQUEST content words; a shorter part is not a
# request of its own. Shorter than MIN_REQUEST, a piece joins the one before
# it ("del artículo 11 de la Convención.").
LONG_REQUEST = 14
SHORT_REQUEST = 5
MIN_REQUEST = 3
# Rows compared at once: keeps the dense block of similarities small.
_BLOCK = 512
# The largest set of items clustered by average linkage at once (it needs
# every pair's similarity: 600 items, 180,000 pairs) and how much the
# threshold rises to split a larger one.
LINKAGE_LIMIT = 600
SPLIT_STEP = 0.05
# The bilingual term list (storage/link_terms.py): two texts in different
# languages are at least CONCEPT_WEIGHT times as alike as the concepts they
# name (the cosine of their concept vectors, IDF-weighted); two in one
# language from different mechanisms (a UPR recommendation and a committee's
# paragraph, which word the same ask differently), CONCEPT_OTHER_MECHANISM
# times; two in one language from one mechanism are compared by their words
# alone (the concepts there raised wrong pairs as much as right ones).
CONCEPT_WEIGHT = 0.8
CONCEPT_OTHER_MECHANISM = 0.6
# The concept similarity counts by shared / (shared + CONCEPT_SHARED), the
# concepts the two have in common: two texts that name one same concept and
# little else ("detention", "law") are not alike for that.
CONCEPT_SHARED = 3.0
# An item average linkage leaves alone joins the group whose centroid it is
# like (``_attach``) when the cosine with the centroid is at least the
# threshold times ATTACH_MARGIN.
ATTACH_MARGIN = 1.2


@dataclass(frozen=True)
class LinkItem:
    """One recommendation as the suggester sees it."""

    id: int
    text: str
    mechanism: str
    country: str
    themes: frozenset[str] = frozenset()
    affected: frozenset[str] = frozenset()
    sdgs: frozenset[str] = frozenset()


@dataclass(frozen=True)
class SuggestedGroup:
    member_ids: tuple[int, ...]  # ascending
    score: float  # 0-1, mean pairwise similarity


# "118.5", "94.12.", "1)" before the text; "(Denmark)" or "(Denmark, Chile);"
# after it; "Recommending State: X", "Source of position: ...", as UHRI
# exports and pasted reports carry them.
_LEADING_NUMBER = re.compile(r"^\s*(?:\d+(?:\.\d+)*\.?|\(?[a-z]\)|\d+\))\s+", re.IGNORECASE)
_LABEL_LINE = re.compile(
    r"^\s*(?:recommending states?|recommended by|source of position|"
    r"état(?:s)? recommandant|etat(?:s)? recommandant|source|estados? recomendantes?|recomendado por)\s*:[^\n.;]*[\n.;]?",
    re.IGNORECASE,
)
# (Not an acronym in brackets: "(CAT)" has no lower-case letter.)
_TRAILING_STATES = re.compile(r"\s*\((?=[^()]*[a-z])[^()]{2,200}\)\s*[;.,]?\s*$")
_LEADING_TO = re.compile(r"^(?:to|that)\s+", re.IGNORECASE)
_NON_WORD = re.compile(r"[^\w]+")


def fold(text: str) -> str:
    """Lower case, accents and punctuation removed, spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_NON_WORD.sub(" ", bare).replace("_", " ").split())


# The core treaties, named in full (English, French, Spanish, after
# ``fold``) or by an acronym, become one token each: "ratify the ICCPR" and
# "ratify the International Covenant on Civil and Political Rights" then
# read alike, "ratify CAT" and "ratify ICCPR" do not (a long shared name
# would otherwise outweigh the one word that differs), and a French text
# shares the token with an English one.
_CAT_TAIL = r"(?: and other cruel inhuman or degrading treatment or punishment| et autres peines ou traitements cruels inhumains ou degradants| y otros tratos o penas crueles inhumanos o degradantes)?"
_TREATIES: tuple[tuple[str, str], ...] = (
    ("cat", rf"(?:convention against torture|convention contre la torture|convencion contra la tortura){_CAT_TAIL}"),
    ("iccpr", r"international covenant on civil and political rights|pacte international relatif aux droits civils et politiques|pacto internacional de derechos civiles y politicos|\bpidcp\b"),
    ("icescr", r"international covenant on economic social and cultural rights|pacte international relatif aux droits economiques sociaux et culturels|pacto internacional de derechos economicos sociales y culturales|\bpidesc\b"),
    ("cedaw", r"convention on the elimination of all forms of discrimination against women|convention sur l elimination de toutes les formes de discrimination a l egard des femmes|convencion sobre la eliminacion de todas las formas de discriminacion contra la mujer"),
    ("cerd", r"international convention on the elimination of all forms of racial discrimination|convention internationale sur l elimination de toutes les formes de discrimination raciale|convencion internacional sobre la eliminacion de todas las formas de discriminacion racial"),
    ("crpd", r"convention on the rights of persons with disabilities|convention relative aux droits des personnes handicapees|convencion sobre los derechos de las personas con discapacidad"),
    ("crc", r"convention on the rights of the child|convention relative aux droits de l enfant|convencion sobre los derechos del nino"),
    ("ced", r"international convention for the protection of all persons from enforced disappearance|convention internationale pour la protection de toutes les personnes contre les disparitions forcees|convencion internacional para la proteccion de todas las personas contra las desapariciones forzadas|\bicpped\b"),
    ("icrmw", r"international convention on the protection of the rights of all migrant workers and members of their families|convention internationale sur la protection des droits de tous les travailleurs migrants et des membres de leur famille|convencion internacional sobre la proteccion de los derechos de todos los trabajadores migratorios y de sus familiares"),
    ("ilo169", r"\bilo convention (?:no )?169\b|\bconvention (?:de l oit )?n[o°]? ?169\b|\bconvenio (?:de la oit )?(?:n[o°]? ?)?169\b"),
    ("opcat", r"\bop ?cat\b"),
    ("crcopac", r"\bop ?crc ?ac\b|\bopac\b"),
    ("crcopsc", r"\bop ?crc ?sc\b|\bopsc\b"),
    ("crcopic", r"\bop ?crc ?ic\b|\bopic\b"),
)
_TREATY_PATTERNS = tuple((re.compile(pattern), f" {token} ") for token, pattern in _TREATIES)
# "the second optional protocol to the iccpr" -> iccprop2; other protocols
# to a treaty -> <treaty>op (the OP-CAT is opcat).
_PROTOCOL = re.compile(
    r"\b(?:(?P<ord>second|deuxieme|segundo|first|premier|primer)\s+)?"
    r"(?:optional protocols?|protocoles? facultatifs?|protocolos? facultativos?)\s+"
    r"(?:(?:to|of|thereto|se|rapportant|relatif|de|del|a|au|aux|al|la|le|l|el|the)\s+){0,4}"
    r"(?P<t>iccpr|icescr|cedaw|crpd|crc|cat)\b"
)
INSTRUMENTS = frozenset({t for t, _ in _TREATIES} | {"iccprop1", "iccprop2", "icescrop", "cedawop", "crpdop", "crcop"})


def _protocol(m: re.Match[str]) -> str:
    treaty = m.group("t")
    if treaty == "cat":
        return " opcat "
    if treaty == "iccpr":
        return " iccprop2 " if m.group("ord") in ("second", "deuxieme", "segundo") else " iccprop1 "
    return f" {treaty}op "


# Words that say nothing about what is asked: function words of the three
# UN languages and the verbs every recommendation opens with ("continue its
# efforts to", "take the necessary measures to"), also as committees write
# them ("El Comité insta al Estado parte a que intensifique sus esfuerzos",
# "exhorte l'État partie à"). The treaty and subject words stay.
STOP_WORDS = frozenset(
    """
    a an the and or of to in on for with by at from as its it their this that these those be is are which all any
    such including inter alia particular particularly especially well also other into within so against who whom
    whose where when than not no there been being was were has have had will would should could may must can they
    them his her our we

    le la les l un une des du de d et ou en au aux a pour par sur dans avec ses son sa leur leurs qui que ce cette ces
    el los las lo un una unos unas del al y o e en por para con sus su que este esta estos estas como

    committee recommends urges calls upon state party government special rapporteur
    continue continuing further take taking necessary measures measure steps step efforts effort consider considering
    ensure strengthen strengthening enhance pursue intensify step up redouble appropriate effective effectively
    adopt adopting implement implementing need needed view order possible soon
    poursuivre continuer prendre mesures necessaires veiller renforcer envisager contre comite recommande etat partie
    seguir continuar adoptar medidas necesarias velar fortalecer considerar contra comite recomienda estado parte

    encourages invites requests reiterates recommendation recommended
    engage exhorte invite encourage prie demande recommande reitere instamment mesure
    insta exhorta alienta invita pide reitera recomendacion debe deberia esfuerzos esfuerzo medida posibilidad fin sus se sobre
    adopte adopten intensifique intensificar redoble redoblar refuerce reforzar fortalezca vele siga prosiga proseguir continue
    considere tome tomar asegure asegurar garantice garantizar
    """.split()
)
_STOP_PATTERN = re.compile(r"\b(?:" + "|".join(sorted(map(re.escape, STOP_WORDS), key=len, reverse=True)) + r")\b")


# A text is normalised several times in a run (to leave out the wordless
# ones, for its features, for each piece its requests are cut from): kept,
# so a registry's texts are read once; bounded, so a bot that runs for
# months does not keep every text it ever compared.
@lru_cache(maxsize=16_384)
def normalise(text: str) -> str:
    """The recommendation's ask, without the numbering, the recommending
    State and the case, accents and punctuation that vary between sources;
    the core treaties by one token each."""
    t = text.strip()
    for _ in range(3):
        before = t
        t = _LABEL_LINE.sub("", t).strip()
        t = _LEADING_NUMBER.sub("", t).strip()
        t = _TRAILING_STATES.sub("", t).strip()
        if t == before:
            break
    t = fold(_LEADING_TO.sub("", t))
    for pattern, token in _TREATY_PATTERNS:
        t = pattern.sub(token, t)
    t = _PROTOCOL.sub(_protocol, t)
    return " ".join(t.split())


# The commonest function words of each language, to tell a text's language.
_LANGUAGE_WORDS = {
    "en": frozenset("the and of to in its for with on by all that".split()),
    "es": frozenset("el la los las de del y que en para por con su sus al".split()),
    "fr": frozenset("le la les des du de et pour dans son sa ses aux au".split()),
}


def language(normalised: str) -> str:
    """The language (en, es, fr) whose function words a normalised text has
    most of; English when it has none."""
    words = normalised.split()
    counts = {lang: sum(1 for w in words if w in vocab) for lang, vocab in _LANGUAGE_WORDS.items()}
    best = max(counts, key=lambda lang: (counts[lang], lang == "en"))
    return best


def content(normalised: str) -> str:
    """The words that carry the ask: ``normalise``'s output without the
    stop words."""
    return " ".join(_STOP_PATTERN.sub(" ", normalised).split())


def stems(text: str) -> str:
    """Each word cut to its first ``STEM_LENGTH`` letters: a stemmer for
    any of the three languages ("ratify", "ratifying", "ratification" ->
    "ratif"; "criminalise", "criminalize" -> "crimi"). Treaty tokens stay whole."""
    return " ".join(w if w in INSTRUMENTS else w[:STEM_LENGTH] for w in text.split())


def instruments(normalised: str) -> frozenset[str]:
    """The treaties and protocols a normalised text names."""
    return frozenset(w for w in normalised.split() if w in INSTRUMENTS)


# Where a text asks the next thing: a lettered or Roman item ("(a)", "b)",
# "(iv)"), a new sentence (a full stop before a capital: "No. 19" and
# "párr. 205" go on with a digit), a semicolon, a colon.
_ITEM = re.compile(r"(?:^|\s)\(?(?:[a-h]|i{1,3}|iv|vi{0,3}|ix|x)\)\s+")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[\"“«(¿¡]?[A-ZÀ-Ý])|;\s*|:\s+")
# Where a long request is cut: a conjunction after a comma, or one that
# starts a new verb ("and to", "et à") or a new item ("as well as").
_CLAUSE = re.compile(
    r",\s+(?:and|y|e|et|or|o|ou|as well as|así como|ainsi que)\s+|\s+(?:and to|et à|et de|as well as|así como|ainsi que)\s+",
    re.IGNORECASE,
)
# "... in its next periodic report", "en su próximo informe", "dans son
# prochain rapport": every committee asks it, so it says nothing of what.
_REPORTING = re.compile(r"\b(?:next|pr[oó]ximo|prochain|siguiente)s?\s+(?:\w+\s+){0,2}(?:report|informe|rapport)", re.IGNORECASE)


def _size(raw: str) -> int:
    """Content words of a raw piece of text."""
    return len(content(normalise(raw)).split())


def _cut_long(raw: str) -> list[str]:
    """``raw`` cut at the clause boundary that leaves the most even halves,
    again while a half is longer than LONG_REQUEST; as it is when no
    boundary leaves SHORT_REQUEST content words on both sides."""
    if _size(raw) <= LONG_REQUEST:
        return [raw]
    best: tuple[int, str, str] | None = None
    for m in _CLAUSE.finditer(raw):
        left, right = raw[: m.start()], raw[m.end() :]
        a, b = _size(left), _size(right)
        if a >= SHORT_REQUEST and b >= SHORT_REQUEST and (best is None or abs(a - b) < best[0]):
            best = (abs(a - b), left, right)
    if best is None:
        return [raw]
    return _cut_long(best[1]) + _cut_long(best[2])


def requests(text: str) -> list[str]:
    """The things ``text`` asks, in its order: its lettered items, sentences
    and semicolon- or colon-separated parts, a long one cut again at its
    clauses (``LONG_REQUEST``); requests to report back are left out. A
    text asking one thing is its own only request."""
    pieces: list[str] = []
    for item in _ITEM.split(text):
        for sentence in _SENTENCE.split(item):
            if sentence.strip():
                pieces.extend(_cut_long(sentence.strip()))
    if len(pieces) < 2:
        return [text]
    joined: list[str] = []
    for piece in pieces:
        if joined and _size(piece) < MIN_REQUEST:
            joined[-1] = f"{joined[-1]} {piece}"
        else:
            joined.append(piece)
    asks = [p for p in joined if _size(p) and not _REPORTING.search(p)]
    return asks if len(asks) > 1 else [text]


class _Features:
    """What the pairwise similarity is computed from, for one State's items:
    row-normalised TF-IDF over words and over characters, of each whole text
    and of each of its requests (a text of one request has its whole text
    as that request), and 0/1 matrices of the treaties named and of the
    tags (one column per tag value)."""

    def __init__(self, items: list[LinkItem]) -> None:
        import numpy as np
        from sklearn.feature_extraction.text import TfidfVectorizer

        from storage.link_terms import concepts

        normalised = [normalise(i.text) for i in items]
        texts = [stems(content(t) or t) for t in normalised]
        named = [" ".join(concepts(content(t), STOP_WORDS)) for t in normalised]
        asked: list[str] = []
        asked_named: list[str] = []
        counts: list[int] = []
        for item, text, whole in zip(items, texts, named, strict=True):
            parts = requests(item.text)
            if len(parts) == 1:
                asked.append(text)
                asked_named.append(whole)
            else:
                pieces = [content(normalise(p)) for p in parts]
                asked.extend(stems(p) for p in pieces)
                asked_named.extend(" ".join(concepts(p, STOP_WORDS)) for p in pieces)
            counts.append(len(parts))
        # Requests of item k are rows first[k] .. first[k] + count[k] - 1.
        self.count = np.asarray(counts)
        self.first = np.cumsum(self.count) - self.count
        words = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"(?u)\b\w\w+\b", dtype=np.float32)
        chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, dtype=np.float32)
        # Fitted on the whole texts: a word's weight is how rare it is
        # among recommendations, however many requests they are cut into.
        try:
            self.words: Any = words.fit_transform(texts)
            self.asked_words: Any = words.transform(asked)
        except ValueError:  # no word of two letters or more anywhere
            self.words = self.asked_words = None
        self.chars: Any = chars.fit_transform(texts)
        self.asked_chars: Any = chars.transform(asked)
        # The concepts of the term list each text and request names, weighted
        # by how rare they are among this State's recommendations.
        bag = TfidfVectorizer(analyzer=str.split, binary=True, dtype=np.float32)
        try:
            self.concepts: Any = bag.fit_transform(named)
            self.asked_concepts: Any = bag.transform(asked_named)
        except ValueError:  # no concept anywhere
            self.concepts = self.asked_concepts = None
        self.language = np.asarray([language(t) for t in normalised])
        self.asked_language = np.repeat(self.language, self.count)
        self.mechanism = np.asarray([fold(i.mechanism) for i in items])
        self.asked_mechanism = np.repeat(self.mechanism, self.count)
        self.treaties = _incidence([instruments(t) for t in normalised])
        self.tags = [_incidence([getattr(i, kind) for i in items]) for kind in ("themes", "affected", "sdgs")]

    def _best_requests(self, rows: Any, cols: Any) -> Any:
        """Dense block: for items ``rows`` and ``cols``, the similarity of
        their best-matching requests."""
        import numpy as np

        a, a_starts = self._requests_of(rows)
        b, b_starts = self._requests_of(cols)
        best = self._cosine(self.asked_words, self.asked_chars, self.asked_concepts, self.asked_language, self.asked_mechanism, a, b)
        return np.maximum.reduceat(np.maximum.reduceat(best, a_starts, axis=0), b_starts, axis=1)

    def _requests_of(self, items: Any) -> tuple[Any, Any]:
        """The request rows of ``items``, item after item, and where each
        item's rows start among them."""
        import numpy as np

        counts = self.count[items]
        starts = np.cumsum(counts) - counts
        rows = np.repeat(self.first[items], counts) + (np.arange(int(counts.sum())) - np.repeat(starts, counts))
        return rows, starts

    @staticmethod
    def _cosine(words: Any, chars: Any, named: Any, languages: Any, mechanisms: Any, a: Any, b: Any) -> Any:
        import numpy as np

        sim = (chars[a] @ chars[b].T).toarray().astype(np.float64)
        if words is not None:
            sim = sim * (1.0 - WORD_WEIGHT) + (words[a] @ words[b].T).toarray() * WORD_WEIGHT
        if named is not None:
            alike = (named[a] @ named[b].T).toarray().astype(np.float64)
            shared = ((named[a] > 0).astype(np.float64) @ (named[b] > 0).astype(np.float64).T).toarray()
            alike *= shared / (shared + CONCEPT_SHARED)
            apart = languages[a].reshape(-1, 1) != languages[b].reshape(1, -1)
            other = mechanisms[a].reshape(-1, 1) != mechanisms[b].reshape(1, -1)
            sim = np.maximum(sim, np.where(apart, CONCEPT_WEIGHT, np.where(other, CONCEPT_OTHER_MECHANISM, 0.0)) * alike)
        return sim

    def similarity(self, rows: Any, cols: Any) -> Any:
        """Dense block of similarities (0-1) between items ``rows`` and
        ``cols`` (index arrays)."""
        import numpy as np

        sim = self._cosine(self.words, self.chars, self.concepts, self.language, self.mechanism, rows, cols)
        # The best-matching requests of the two: a one-line recommendation
        # and the one request of a long paragraph that asks the same. Two
        # texts of one request each are their whole texts, already compared.
        several_r = np.flatnonzero(self.count[rows] > 1)
        several_c = np.flatnonzero(self.count[cols] > 1)
        if len(several_r):
            sim[several_r, :] = np.maximum(sim[several_r, :], self._best_requests(rows[several_r], cols))
        if len(several_c):
            sim[:, several_c] = np.maximum(sim[:, several_c], self._best_requests(rows, cols[several_c]))
        # Two texts naming different treaties ask for different acts, however
        # alike the rest of their words ("ratify ICCPR" and "ratify CAT").
        named = _jaccard_block(self.treaties, rows, cols)
        if named is not None:
            overlap, both = named
            sim *= np.where(both, TREATY_MISMATCH + (1.0 - TREATY_MISMATCH) * overlap, 1.0)
        bonus = np.zeros_like(sim)
        kinds = np.zeros_like(sim)
        for tags in self.tags:
            block = _jaccard_block(tags, rows, cols)
            if block is not None:
                overlap, both = block
                bonus += np.where(both, overlap, 0.0)
                kinds += both
        # 1 - (1 - s)^(1 + boost * overlap): about s * (1 + boost * overlap)
        # for a low s, never above 1, and 0 stays 0.
        overlap = np.divide(bonus, kinds, out=np.zeros_like(bonus), where=kinds > 0)
        return 1.0 - (1.0 - np.clip(sim, 0.0, 1.0)) ** (1.0 + TAG_BOOST * overlap)


def _incidence(sets: list[frozenset[str]]) -> Any:
    """A sparse 0/1 matrix, one row per set, one column per value; None when
    every set is empty."""
    from scipy.sparse import csr_matrix

    columns: dict[str, int] = {}
    indices: list[int] = []
    indptr = [0]
    for s in sets:
        indices.extend(columns.setdefault(v, len(columns)) for v in sorted(s))
        indptr.append(len(indices))
    if not columns:
        return None
    import numpy as np

    return csr_matrix((np.ones(len(indices), dtype=np.float64), indices, indptr), shape=(len(sets), len(columns)))


def _jaccard_block(matrix: Any, rows: Any, cols: Any) -> tuple[Any, Any] | None:
    """Jaccard overlap of the rows' and the columns' sets, and where both
    sets are non-empty."""
    if matrix is None:
        return None
    import numpy as np

    a, b = matrix[rows], matrix[cols]
    inter = (a @ b.T).toarray()
    size_a = np.asarray(a.sum(axis=1)).reshape(-1, 1)
    size_b = np.asarray(b.sum(axis=1)).reshape(1, -1)
    union = size_a + size_b - inter
    both = (size_a > 0) & (size_b > 0)
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0), both


def suggest_groups(items: Sequence[LinkItem], *, threshold: float = DEFAULT_THRESHOLD, max_group: int = 50) -> list[SuggestedGroup]:
    """Groups of at least two recommendations to one State that ask for the
    same thing, sorted by their smallest member id. Each item is in at most
    one group; items like no other are left out."""
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be above 0 and at most 1, not {threshold}")
    if max_group < 2:
        raise ValueError(f"max_group must be at least 2, not {max_group}")
    ids = [i.id for i in items]
    if len(set(ids)) != len(ids):
        raise ValueError("each recommendation may be given once")
    by_country: dict[str, list[LinkItem]] = defaultdict(list)
    for item in sorted(items, key=lambda i: i.id):
        by_country[fold(item.country)].append(item)
    groups: list[SuggestedGroup] = []
    for country in sorted(by_country):
        members = by_country[country]
        # A recommendation with no words (an empty or all-punctuation text)
        # is like nothing.
        members = [i for i in members if normalise(i.text)]
        if len(members) >= 2:
            groups.extend(_groups_in_country(members, threshold, max_group))
    groups.sort(key=lambda g: g.member_ids)
    return groups


def _groups_in_country(items: list[LinkItem], threshold: float, max_group: int) -> list[SuggestedGroup]:
    import numpy as np

    features = _Features(items)
    n = len(items)
    everyone = np.arange(n)
    first: list[Any] = []
    second: list[Any] = []
    alike: list[Any] = []
    for start in range(0, n, _BLOCK):
        rows = everyone[start : start + _BLOCK]
        block = features.similarity(rows, everyone)
        r, k = np.nonzero(block >= threshold)
        keep = k > r + start
        first.append(r[keep] + start)
        second.append(k[keep])
        alike.append(block[r[keep], k[keep]])
    edges = (np.concatenate(first), np.concatenate(second), np.concatenate(alike))
    out: list[SuggestedGroup] = []
    for comp in _components(n, edges, threshold):
        for part in _bounded(comp, n, edges, threshold):
            idx = np.asarray(part)
            sim = features.similarity(idx, idx)
            np.fill_diagonal(sim, 1.0)
            clusters = _average_linkage(sim, threshold, max_group)
            clusters = _attach(sim, clusters, threshold, max_group)
            for cluster in clusters:
                if len(cluster) >= 2:
                    member_ids = tuple(sorted(items[part[k]].id for k in cluster))
                    out.append(SuggestedGroup(member_ids=member_ids, score=round(_mean_pairwise(sim, cluster), 4)))
    return out


def _components(n: int, edges: tuple[Any, Any, Any], threshold: float, among: Any = None) -> list[list[int]]:
    """Connected components (two members or more, ascending, ordered by
    their first member) of the pairs at least ``threshold`` alike, among
    the items ``among`` (a boolean mask; all when None)."""
    import numpy as np
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    a, b, alike = edges
    keep = alike >= threshold
    if among is not None:
        keep &= among[a] & among[b]
    graph = coo_matrix((np.ones(int(keep.sum())), (a[keep], b[keep])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    members: dict[int, list[int]] = defaultdict(list)
    for node in np.union1d(a[keep], b[keep]).tolist():
        members[int(labels[node])].append(node)
    return sorted((sorted(m) for m in members.values() if len(m) >= 2), key=lambda m: m[0])


def _bounded(comp: list[int], n: int, edges: tuple[Any, Any, Any], threshold: float) -> list[list[int]]:
    """``comp`` cut into parts small enough for average linkage (which
    needs every pair): a large component is a chain of loosely alike texts,
    so it is split by its pairs at a higher threshold, again until each
    part is small. Members left alone by a split are in no group."""
    import numpy as np

    if len(comp) <= LINKAGE_LIMIT:
        return [comp]
    among = np.zeros(n, dtype=bool)
    among[comp] = True
    parts: list[list[int]] = []
    for part in _components(n, edges, threshold + SPLIT_STEP, among):
        parts.extend(_bounded(part, n, edges, threshold + SPLIT_STEP))
    return parts


def _average_linkage(sim: Any, threshold: float, max_group: int) -> list[list[int]]:
    """Clusters (index lists into ``sim``) whose average-linkage merge
    similarity is at least ``threshold`` and with at most ``max_group``
    members: the largest such subtrees of the dendrogram."""
    import numpy as np
    from scipy.cluster.hierarchy import linkage
    from scipy.spatial.distance import squareform

    n = sim.shape[0]
    if n == 2:
        return [[0, 1]] if sim[0, 1] >= threshold else [[0], [1]]
    dist = squareform(np.clip(1.0 - sim, 0.0, None), checks=False)
    tree = linkage(dist, method="average")
    limit = 1.0 - threshold + 1e-9
    # Node k >= n is the merge in row k - n of the tree.
    out: list[list[int]] = []
    stack = [2 * n - 2]
    while stack:
        node = stack.pop()
        if node < n:
            out.append([node])
            continue
        left, right, height, size = tree[node - n]
        if height <= limit and size <= max_group:
            out.append(sorted(_leaves(tree, node, n)))
        else:
            stack.extend((int(left), int(right)))
    return out


def _attach(sim: Any, clusters: list[list[int]], threshold: float, max_group: int) -> list[list[int]]:
    """Each item average linkage left alone joins the group whose centroid it
    is most like, when at least ``threshold``: its mean similarity to the
    members over the length of their centroid (the root of their mean
    pairwise similarity, the diagonal included), i.e. the cosine with the
    centroid where similarities are cosines. A group of many loosely alike
    members has a short centroid, so a newcomer need not be as like each of
    them as they are like one another."""
    import numpy as np

    groups = [list(c) for c in clusters if len(c) >= 2]
    alone = [c[0] for c in clusters if len(c) == 1]
    if not groups or not alone:
        return clusters
    length = [float(np.sqrt(max(sim[np.ix_(g, g)].mean(), 1e-9))) for g in groups]
    joined: set[int] = set()
    for item in alone:
        best, where = threshold * ATTACH_MARGIN, -1
        for k, g in enumerate(groups):
            if len(g) >= max_group:
                continue
            score = float(sim[item, g].mean()) / length[k]
            if score >= best:
                best, where = score, k
        if where >= 0:
            groups[where].append(item)
            joined.add(item)
    return [sorted(g) for g in groups] + [[i] for i in alone if i not in joined]


def _leaves(tree: Any, node: int, n: int) -> list[int]:
    leaves: list[int] = []
    stack = [node]
    while stack:
        x = stack.pop()
        if x < n:
            leaves.append(x)
        else:
            stack.extend((int(tree[x - n][0]), int(tree[x - n][1])))
    return leaves


def _mean_pairwise(sim: Any, cluster: list[int]) -> float:
    total, count = 0.0, 0
    for a in range(len(cluster)):
        for b in range(a + 1, len(cluster)):
            total += float(sim[cluster[a], cluster[b]])
            count += 1
    return total / count if count else 1.0

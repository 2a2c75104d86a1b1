"""Every message exists in every language, with the same placeholders; a
message with a count takes the plural form CLDR gives in each language."""

from __future__ import annotations

import io
import re
import string
from datetime import date

import pytest
from babel import Locale

import messages
from messages import SUPPORTED_LANGUAGES, UPCOMING_LANGUAGES, Text, catalog, local_date, local_number, parse_catalog, plural_rule, t
from messages.bidi import strip_controls

# gettext numbers a language's plural forms in CLDR's order of categories.
CLDR_ORDER = ("zero", "one", "two", "few", "many", "other")
COUNTS = (0, 1, 2, 5, 21)
# The counts each catalog's plural entries are rendered for (issue 17): every
# CLDR category of the seven languages is met among them.
PLURAL_COUNTS = (0, 1, 2, 3, 5, 11, 21, 101)
# Every language with a catalog, those still being written too: their plural
# rules are checked now, and what they hold so far.
ALL_LANGUAGES = (*SUPPORTED_LANGUAGES, *UPCOMING_LANGUAGES)
# Enough whole numbers to meet every category of every language: CLDR's
# "many" of French and Spanish is a whole million, Russian's 11-14, Arabic's 11-99.
SAMPLE = (*range(0, 1201), 999_999, 1_000_000, 1_000_001, 2_000_000, 10_000_000, 1_000_021)


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def forms(text: Text) -> tuple[str, ...]:
    return text if isinstance(text, tuple) else (text,)


def cldr_form(language: str, n: int) -> int:
    """Which of a gettext catalog's forms CLDR's category for ``n`` is."""
    rule = Locale.parse(language).plural_form
    categories = [c for c in CLDR_ORDER if c in rule.tags or c == "other"]
    return categories.index(rule(n))


def plural_entries(language: str) -> dict[str, tuple[str, ...]]:
    return {key: text for key, text in catalog(language).items() if isinstance(text, tuple)}


def test_every_language_has_every_key() -> None:
    reference = set(catalog("en"))
    assert len(reference) > 30
    for language in SUPPORTED_LANGUAGES:
        assert set(catalog(language)) == reference, language


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_placeholders_are_the_same_as_in_english(language: str) -> None:
    """In every form of a plural entry too: {count} is in each."""
    english = catalog("en")
    for key, text in catalog(language).items():
        assert isinstance(text, tuple) == isinstance(english[key], tuple), (language, key, "plural in one, not in the other")
        expected = placeholders(forms(english[key])[0])
        for form in forms(text):
            assert placeholders(form) == expected, (language, key, form)
        if isinstance(text, tuple):
            assert "count" in expected, (language, key)


def test_lookup_formats_and_falls_back_to_english_for_an_unknown_language() -> None:
    assert t("update.saved", "fr", id=12, status="en cours") == "Enregistré : le n° 12 est « en cours ». Merci : le secrétariat peut maintenant le voir."
    assert t("button.cancel", "de") == "Cancel"


def test_dates_in_the_readers_locale() -> None:
    day = date(2026, 11, 22)
    expected = {
        "en": "22 November 2026", "fr": "22 novembre 2026", "es": "22 de noviembre de 2026",
        "ar": "٢٢ نوفمبر ٢٠٢٦", "zh": "2026年11月22日", "ru": "22 ноября 2026\u202fг.", "pt": "22 de novembro de 2026",
    }
    assert {lang: local_date(day, lang) for lang in ALL_LANGUAGES} == {lang: expected[lang] for lang in ALL_LANGUAGES}


def test_shares_in_the_readers_locale() -> None:
    """Babel's percent pattern, a decimal at most, and the locale's own percent sign: Arabic's ٪ in its digits."""
    from messages.numbers import local_percent

    expected = {
        "en": "12.5%", "fr": "12,5\u00a0%", "es": "12,5\u00a0%", "ar": "١٢٫٥٪\u061c",
        "zh": "12.5%", "ru": "12,5\u00a0%", "pt": "12,5%",
    }
    assert {lang: local_percent(0.125, lang) for lang in ALL_LANGUAGES} == {lang: expected[lang] for lang in ALL_LANGUAGES}
    assert (local_percent(1 / 3, "en"), local_percent(1, "ar"), local_percent(0, "fr")) == ("33.3%", "١٠٠٪\u061c", "0\u00a0%")


def cldr_categories(language: str) -> list[str]:
    rule = Locale.parse(language).plural_form
    return [c for c in CLDR_ORDER if c in rule.tags or c == "other"]


@pytest.mark.parametrize("language", ALL_LANGUAGES)
def test_each_catalogs_plural_forms_are_cldrs(language: str) -> None:
    """The Plural-Forms header (what t() chooses by) puts each whole number
    in the form of its CLDR category: French and Portuguese 0 and 1
    singular, English, Spanish and Arabic 1 alone, Russian 1, 21, 31...,
    Chinese none (its one form is CLDR's "other"); Arabic has six forms,
    Russian three; French, Spanish and Portuguese a form for whole millions."""
    rule = plural_rule(language)
    assert rule.forms == len({cldr_form(language, n) for n in SAMPLE}), rule.header
    assert [n for n in SAMPLE if rule.index(n) != cldr_form(language, n)] == [], rule.header
    # "Singular": the counts whose form is CLDR's category "one".
    singular = [n for n in range(0, 30) if cldr_categories(language)[rule.index(n)] == "one"]
    assert singular == {"en": [1], "fr": [0, 1], "es": [1], "ar": [1], "ru": [1, 21], "zh": [], "pt": [0, 1]}[language]
    assert rule.forms == {"en": 2, "fr": 3, "es": 3, "ar": 6, "ru": 3, "zh": 1, "pt": 3}[language], rule.header
    # Each count of PLURAL_COUNTS in its CLDR category, by name.
    named = [cldr_categories(language)[rule.index(n)] for n in PLURAL_COUNTS]
    assert named == {
        "en": ["other", "one", "other", "other", "other", "other", "other", "other"],
        "fr": ["one", "one", "other", "other", "other", "other", "other", "other"],
        "es": ["other", "one", "other", "other", "other", "other", "other", "other"],
        "ar": ["zero", "one", "two", "few", "few", "many", "many", "other"],
        "ru": ["many", "one", "few", "few", "many", "many", "one", "one"],
        "zh": ["other"] * 8,
        "pt": ["one", "one", "other", "other", "other", "other", "other", "other"],
    }[language]


@pytest.mark.parametrize("language", ALL_LANGUAGES)
def test_every_plural_entry_renders_the_cldr_form_for_each_count(language: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A catalog still being written is checked for the entries it holds;
    once it is supported, for every one."""
    entries = plural_entries(language)
    if language in SUPPORTED_LANGUAGES:
        assert set(entries) == set(plural_entries("en")) and len(entries) >= 15
    else:
        assert set(entries) <= set(plural_entries("en"))
        monkeypatch.setattr(messages, "SUPPORTED_LANGUAGES", (*SUPPORTED_LANGUAGES, language))
    for key, text in entries.items():
        assert len(text) == plural_rule(language).forms, (language, key)
        values = {name: f"<{name}>" for name in placeholders(text[0]) - {"count"}}
        for n in PLURAL_COUNTS:
            expected = text[cldr_form(language, n)].format(**values, count=local_number(n, language))
            # An Arabic message carries its direction marks (messages.bidi); the words are the same.
            assert strip_controls(t(key, language, count=n, **values)) == expected, (language, key, n)


def test_counts_read_naturally_in_each_language() -> None:
    def header(language: str, n: int) -> str:
        return t("mine.header", language, institution="MOJ", count=n, page=1, pages=1)

    assert [header("en", n) for n in COUNTS] == [f"MOJ: {n} recommendation{'' if n == 1 else 's'}. Page 1 of 1." for n in COUNTS]
    assert [header("fr", n) for n in COUNTS] == [
        "MOJ : 0 recommandation. Page 1 sur 1.", "MOJ : 1 recommandation. Page 1 sur 1.", "MOJ : 2 recommandations. Page 1 sur 1.",
        "MOJ : 5 recommandations. Page 1 sur 1.", "MOJ : 21 recommandations. Page 1 sur 1.",
    ]
    assert [header("es", n) for n in COUNTS] == [
        "MOJ: 0 recomendaciones. Página 1 de 1.", "MOJ: 1 recomendación. Página 1 de 1.", "MOJ: 2 recomendaciones. Página 1 de 1.",
        "MOJ: 5 recomendaciones. Página 1 de 1.", "MOJ: 21 recomendaciones. Página 1 de 1.",
    ]
    assert header("fr", 1_000_000) == "MOJ : 1\u202f000\u202f000 de recommandations. Page 1 sur 1."
    assert t("reminder.in_days", "es", count=1) == "dentro de 1 día" and t("button.in_days", "fr", count=7) == "Dans 7 jours"
    people = t("count.institutions", "fr", count=1)
    assert t("compose.confirm", "fr", count=1, institutions=people, date="3 décembre", text="?").startswith(
        "Cette demande part à 1 point focal de 1 institution, réponse attendue"
    )


def test_every_message_with_a_count_has_plural_forms() -> None:
    """A {count} in a message that is not a plural entry is "1 recommendations" waiting to happen."""
    singular_with_count = [key for key, text in catalog("en").items() if isinstance(text, str) and "count" in placeholders(text)]
    assert singular_with_count == []
    # Nor a number of things written into a singular text in another name.
    counted = re.compile(r"\{(?!count\b)\w+\} (recommendations|institutions|focal points|reminders|days|inputs|characters)\b")
    assert [key for key, text in catalog("en").items() if isinstance(text, str) and counted.search(text)] == []


def test_a_plural_entry_needs_a_whole_number() -> None:
    with pytest.raises(TypeError, match="mine.header"):
        t("mine.header", "en", institution="MOJ", count="3", page=1, pages=1)
    with pytest.raises(TypeError, match="mine.header"):
        t("mine.header", "en", institution="MOJ", page=1, pages=1)


RUSSIAN = """
msgid ""
msgstr ""
"Language: ru\\n"
"Plural-Forms: nplurals=3; plural=n % 10 == 1 && n % 100 != 11 ? 0 : n % 10 >= 2 && n % 10 <= 4 && (n % 100 < 12 || n % 100 > 14) ? 1 : 2;\\n"

msgid "count.recommendations"
msgid_plural "count.recommendations"
msgstr[0] "{count} рекомендация"
msgstr[1] "{count} рекомендации"
msgstr[2] "{count} рекомендаций"
"""

ARABIC_HEADER = (
    "nplurals=6; plural=(n == 0 ? 0 : n == 1 ? 1 : n == 2 ? 2 : n % 100 >= 3 && n % 100 <= 10 ? 3 "
    ": n % 100 >= 11 && n % 100 <= 99 ? 4 : 5);"
)


@pytest.mark.parametrize(("language", "text"), [
    ("ru", RUSSIAN),
    ("ar", "\n".join(
        ['msgid ""', 'msgstr ""', '"Language: ar\\n"', f'"Plural-Forms: {ARABIC_HEADER}\\n"', "",
         'msgid "count.recommendations"', 'msgid_plural "count.recommendations"']
        + [f'msgstr[{i}] "{{count}} form {i}"' for i in range(6)]
    )),
])
def test_a_catalog_with_more_forms_is_read_and_chosen_by_cldr(language: str, text: str) -> None:
    """Russian's 3 forms and Arabic's 6 (issue 17) need no change to the code."""
    read = parse_catalog(io.BytesIO(text.encode()), language)
    assert len(read.messages["count.recommendations"]) == read.plural.forms == len({cldr_form(language, n) for n in SAMPLE})
    assert [n for n in SAMPLE if read.plural.index(n) != cldr_form(language, n)] == []
    chosen = [read.form("count.recommendations", n).format(count=n) for n in (1, 2, 5, 21, 11, 102)]
    if language == "ru":
        assert chosen == ["1 рекомендация", "2 рекомендации", "5 рекомендаций", "21 рекомендация", "11 рекомендаций", "102 рекомендации"]
    else:
        assert chosen == ["1 form 1", "2 form 2", "5 form 3", "21 form 4", "11 form 4", "102 form 5"]


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_each_catalog_is_well_formed_for_gettext_tools(language: str) -> None:
    """What ``msgfmt --check`` refuses and Babel's reader lets by: a stray
    ``msgstr[n]`` after a singular entry (a hunk landed inside another entry
    once, and the parser kept going), and a msgstr that begins or ends with a
    line break its msgid has not. Translators' tools stop at either."""
    from importlib import resources

    lines = resources.files("messages").joinpath("locale", f"{language}.po").read_text(encoding="utf-8").splitlines()
    problems = []
    plural = False
    msgid = ""
    for number, line in enumerate(lines, 1):
        if line.startswith("msgid "):
            msgid, plural = line[6:], False
        elif line.startswith("msgid_plural "):
            plural = True
        elif line.startswith("msgstr[") and not plural:
            problems.append(f"{number}: msgstr[n] in an entry without msgid_plural")
        elif line.startswith("msgstr ") and msgid != '""':
            text = line[7:]
            for where, test in (("begins", str.startswith), ("ends", str.endswith)):
                if test(text.strip('"'), "\\n") != test(msgid.strip('"'), "\\n"):
                    problems.append(f"{number}: msgstr {where} with a line break its msgid has not")
    assert problems == []


# The UN's own words for its mechanisms in each language, as
# messages/locale/TERMS.md records them with their sources: each message
# whose English names the thing uses that form (a stem where the language
# inflects it). Portuguese, not a UN language, follows OHCHR's Portuguese
# material and Brazil's government.
UN_TERMS: dict[str, dict[str, str]] = {
    r"national mechanism for implementation, reporting and follow-up": {
        "fr": "mécanisme national de mise en œuvre, d'établissement de rapports et de suivi",
        "es": "mecanismo nacional de aplicación, presentación de informes y seguimiento",
        "ar": "الآلية الوطنية للتنفيذ والإبلاغ والمتابعة",
        "zh": "国家执行、报告和后续行动机制",
        "ru": "национального механизма по осуществлению, представлению докладов и последующим мерам",
        "pt": "mecanismo nacional de implementação, elaboração de relatórios e seguimento",
    },
    r"treaty body": {
        "fr": "organe conventionnel", "es": "órgano creado en virtud de tratados", "ar": "هيئة معاهدة",
        "zh": "条约机构", "ru": "договорн", "pt": "órgão de tratado",
    },
    r"concluding observations": {
        "fr": "observations finales", "es": "observaciones finales", "ar": "ختامية",
        "zh": "结论性意见", "ru": "заключительные замечания", "pt": "observações finais",
    },
    r"^UPR (mid-term|national) report$": {
        "fr": "EPU", "es": "EPU", "ar": "استعراض الدوري الشامل", "zh": "普遍定期审议", "ru": "УПО", "pt": "RPU",
    },
}


@pytest.mark.parametrize("term", list(UN_TERMS))
def test_the_un_mechanisms_are_named_as_the_un_names_them(term: str) -> None:
    english = {key: text for key, text in catalog("en").items() if isinstance(text, str) and re.search(term, text)}
    assert english, f"no English message names {term!r}"
    off = [
        (language, key) for language, form in UN_TERMS[term].items() for key in english
        if form not in strip_controls(str(catalog(language)[key]))
    ]
    assert off == []

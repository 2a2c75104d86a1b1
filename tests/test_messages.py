"""Every message exists in every language, with the same placeholders."""

from __future__ import annotations

import string
from datetime import date

import pytest

from messages import SUPPORTED_LANGUAGES, catalog, local_date, t


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_every_language_has_every_key() -> None:
    reference = set(catalog("en"))
    assert len(reference) > 30
    for language in SUPPORTED_LANGUAGES:
        assert set(catalog(language)) == reference, language


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_placeholders_are_the_same_as_in_english(language: str) -> None:
    english = catalog("en")
    for key, text in catalog(language).items():
        assert placeholders(text) == placeholders(english[key]), (language, key)


def test_lookup_formats_and_falls_back_to_english_for_an_unknown_language() -> None:
    assert t("update.saved", "fr", id=12, status="en cours") == "Enregistré : le n° 12 est « en cours ». Merci : le secrétariat peut maintenant le voir."
    assert t("button.cancel", "de") == "Cancel"


def test_dates_in_the_readers_locale() -> None:
    day = date(2026, 11, 22)
    assert [local_date(day, lang) for lang in SUPPORTED_LANGUAGES] == [
        "22 November 2026", "22 novembre 2026", "22 de noviembre de 2026",
    ]

"""The pledge report's summary sentence agrees each of its counts, not only
the number asked (issue 16 review, F10): read back from the .docx in
Spanish and French through the real entry point, on every backend, and
each catalog, those to come included, giving each count its own plural
forms."""

from __future__ import annotations

from pathlib import Path

import pytest

from messages import SUPPORTED_LANGUAGES, UPCOMING_LANGUAGES, catalog, plural_rule
from tests.cli_harness import Cli

OPEN = ("pledges", "open", "2027", "--ask-by", "2027-01-29", "--report-back", "2027-12-01")
KEYS = ("pledges.count_confirmed", "pledges.count_drafts", "pledges.count_none", "pledges.count_silent")


@pytest.fixture
def cli(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NMRF_DATABASE_URL", db_url)
    return Cli(capsys)


def _overview(cli: Cli, path: Path, language: str) -> str:
    from docx import Document

    cli("report", "pledges", "--out", str(path), "--language", language)
    [line] = [p.text for p in Document(str(path)).paragraphs if p.text.startswith(("Se consultó", "2 institutions", "2 institution"))]
    return line


def test_the_reports_overview_agrees_each_count_in_spanish_and_french(cli: Cli, world: dict[str, int], tmp_path: Path) -> None:
    cli(*OPEN)
    cli("pledges", "add", "2027", "--institution", "MOJ", "--text", "Train 300 judges", "--confirmed")
    assert _overview(cli, tmp_path / "es.docx", "es") == (
        "Se consultó a 2 instituciones: 1 confirmó sus compromisos, 0 dejaron solo borradores, 0 dijeron no asumir ninguno, 1 no respondió."
    )
    assert _overview(cli, tmp_path / "fr.docx", "fr") == (
        "2 institutions ont été sollicitées : 1 a confirmé ses engagements, 0 n'a laissé que des brouillons, "
        "0 a dit ne prendre aucun engagement, 1 n'a pas répondu."
    )
    assert _overview(cli, tmp_path / "en.docx", "en") == (
        "2 institutions were asked: 1 confirmed its pledges, 0 left drafts only, 0 said they pledge nothing, 1 did not answer."
    )


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES + UPCOMING_LANGUAGES)
def test_every_catalog_gives_each_count_its_own_plural_forms(language: str) -> None:
    found = catalog(language)
    forms = plural_rule(language).forms
    for key in KEYS:
        entry = found[key]
        assert isinstance(entry, tuple) and len(entry) == forms and all("{count}" in form for form in entry), (language, key)
    for key in ("pledges.counts", "pledges_report.overview"):
        # The sentence names no count of its own beside {count}: each comes in words.
        for form in found[key]:
            assert all(f"{{{name}}}" in form for name in ("confirmed", "drafts", "none", "silent")), (language, key)
            assert not any(f"{{{name}}} " in form for name in ("confirmed", "drafts", "none", "silent")), (language, key, form)

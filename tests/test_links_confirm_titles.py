"""`nmrf-bot links confirm S1 S2 --title ...` (issue 15 review): a plain
title names one group, so it is taken with one suggestion only; several
suggestions take one title each as S=TITLE. Anything else is refused before
anything is confirmed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli.links import confirm_titles
from storage.errors import InvalidValue
from tests.cli_harness import Cli
from tests.test_links import recs, suggested

__all__ = ["recs", "suggested"]


@pytest.fixture
def cli(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NMRF_DATABASE_URL", db_url)
    return Cli(capsys)


def _titles(cli: Cli) -> dict[int, str | None]:
    out, _ = cli("links", "list", "--format", "json")
    return {g["group"]: g["title"] for g in json.loads(out)}


def test_the_titles_read_from_the_options() -> None:
    assert confirm_titles([4], ["Marital rape"]) == {4: "Marital rape"}
    # With one suggestion its own number may be given too; another number is part of the title.
    assert confirm_titles([4, 4], ["4=Marital rape"]) == {4: "Marital rape"}
    assert confirm_titles([4], ["2030 = Agenda"]) == {4: "2030 = Agenda"}
    assert confirm_titles([4, 7], ["7 = Child marriage", "4=Marital rape"]) == {4: "Marital rape", 7: "Child marriage"}
    # Several suggestions, some titled: the others keep none.
    assert confirm_titles([4, 7, 9], ["7=Child marriage"]) == {7: "Child marriage"}
    assert confirm_titles([4, 7], []) == {}


@pytest.mark.parametrize(("ids", "given", "said"), [
    ([4, 7], ["Marital rape"], "--title 'Marital rape' would give all 2 groups one title: give each its own as S=TITLE (--title 4='Marital rape' --title 7='Child marriage')"),
    ([4, 7], ["9=Torture"], "--title '9=Torture' would give all 2 groups one title (9 is none of the suggestions given: 4, 7)"),
    ([4, 7], ["4=Marital rape", "Torture"], "would give all 2 groups one title"),
    ([4], ["Marital rape", "Rape"], "--title names suggestion 4 twice ('Marital rape' and 'Rape')"),
    ([4, 7], ["4=A", "4=B"], "--title names suggestion 4 twice ('A' and 'B')"),
    ([4, 7], ["4=  "], "--title '4=  ': the title of suggestion 4 is empty"),
])
def test_what_cannot_be_meant_is_refused(ids: list[int], given: list[str], said: str) -> None:
    with pytest.raises(InvalidValue, match="nothing was confirmed") as refused:
        confirm_titles(ids, given)
    assert said in str(refused.value) and refused.value.field == "title"


def test_one_title_for_several_suggestions_is_refused_and_nothing_is_confirmed(cli: Cli, suggested: list[int]) -> None:
    rape, opcat = suggested
    _, err = cli("links", "confirm", str(rape), str(opcat), "--title", "Marital rape", expect=1)
    assert err.startswith("error: --title 'Marital rape' would give all 2 groups one title") and len(err.splitlines()) == 1
    assert _titles(cli) == {}
    out, _ = cli("links", "list", "--suggestions", "--format", "json")
    assert {r["suggestion"] for r in json.loads(out)} == {rape, opcat}


def test_each_suggestion_gets_its_own_title(cli: Cli, suggested: list[int]) -> None:
    rape, opcat = suggested
    out, _ = cli("links", "confirm", str(rape), str(opcat), "--title", f"{opcat}=OPCAT", "--title", f"{rape}=Marital rape")
    lines = out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"suggestion {rape} confirmed: group ") and "'Marital rape' now links #" in lines[0]
    assert lines[1].startswith(f"suggestion {opcat} confirmed: group ") and "'OPCAT' now links #" in lines[1]
    assert sorted(t or "" for t in _titles(cli).values()) == ["Marital rape", "OPCAT"]


def test_one_suggestion_takes_a_plain_title(cli: Cli, suggested: list[int]) -> None:
    rape, _ = suggested
    out, _ = cli("links", "confirm", str(rape), "--title", "Marital rape")
    assert out.startswith(f"suggestion {rape} confirmed: group ") and "'Marital rape' now links" in out
    assert list(_titles(cli).values()) == ["Marital rape"]


def test_the_help_says_how(cli: Cli) -> None:
    out, _ = cli("links", "confirm", "--help")
    flat = " ".join(out.split())
    assert "With several, each its own, repeated: --title 4='Marital rape' --title 7='Child marriage'" in flat

"""The README's promises that code can check."""

from __future__ import annotations

import re
from pathlib import Path

from storage.importers.template import ORDER, SHEETS

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_template_tables_match_the_importer() -> None:
    block = README.split("<!-- template-columns")[1].split("<!-- /template-columns -->")[0]
    documented: dict[str, list[tuple[str, bool, str]]] = {}
    sheet = ""
    for line in block.splitlines():
        if heading := re.fullmatch(r"\*\*(\w+)\*\*", line.strip()):
            sheet = heading.group(1)
            documented[sheet] = []
        elif row := re.fullmatch(r"\| `(\w+)` \| (yes|) \| (.*) \|", line.strip()):
            documented[sheet].append((row.group(1), row.group(2) == "yes", row.group(3)))
    assert list(documented) == list(ORDER)
    for name in ORDER:
        assert documented[name] == [(c.name, c.required, c.help) for c in SHEETS[name]]


def test_the_two_commands_are_the_ones_ci_runs() -> None:
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text(encoding="utf-8")
    assert "pip install -e '.[dev]' && nmrf-bot demo" in README
    assert "-e '.[dev]'" in ci
    assert re.search(r"^\s*pytest\b", ci, re.MULTILINE)

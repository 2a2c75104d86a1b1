"""Imports run one way, bot -> handlers -> storage -> messages: a layer
never imports one above it, and the conversation logic never imports a
chat platform's SDK. Read from the source, so an import inside a function
counts too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ORDER = ("bot", "handlers", "storage", "messages")
PLATFORM_SDKS = ("telegram", "slack_bolt", "slack_sdk", "aiohttp")


def imported_modules(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def upward_imports(layer: str) -> list[str]:
    above = ORDER[: ORDER.index(layer)]
    forbidden = above + (PLATFORM_SDKS if layer != "bot" else ())
    wrong = []
    for path in sorted((ROOT / layer).rglob("*.py")):
        for line, module in imported_modules(path):
            if module.split(".")[0] in forbidden:
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    return wrong


@pytest.mark.parametrize("layer", ORDER[1:])
def test_no_layer_imports_one_above_it_or_a_platform_sdk(layer: str) -> None:
    assert upward_imports(layer) == []


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from bot.app import BotApp\n    import telegram\n", encoding="utf-8")
    assert imported_modules(module) == [(2, "bot.app"), (3, "telegram")]

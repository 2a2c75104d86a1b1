"""Issue 16 re-check: a bullet its tests read only in part. "The progress
page has a chart per indicator (value against baseline and target over
time)": test_report_plan counts the charts and reads the captions; here the
indicator's own chart is read for its baseline's and its target's lines
(matplotlib names each drawn label in the SVG), now and as of a day."""

from __future__ import annotations

import re
from pathlib import Path

from tests.cli_harness import Cli
from tests.test_report_plan import cli, plan

__all__ = ["cli", "plan"]


def _indicator_chart(page: str) -> str:
    charts = re.findall(r"<svg.*?</svg>", page, flags=re.S)
    [chart] = [c for c in charts if "Baseline" in c]
    return chart


def test_the_indicators_chart_draws_its_values_against_its_baseline_and_its_target(cli: Cli, plan: dict[str, int], tmp_path: Path) -> None:
    cli("report", "progress", "--out", "page.html", "--language", "en")
    cli("report", "progress", "--out", "then.html", "--as-of", "2026-11-23", "--language", "en")
    for name in ("page.html", "then.html"):
        chart = _indicator_chart((tmp_path / name).read_text(encoding="utf-8"))
        assert "Baseline: 31.5" in chart and "Target: 45" in chart and "<!-- Value -->" in chart, name

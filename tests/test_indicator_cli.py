"""`nmrf-bot indicators` through the real entry point, on every backend:
add, list, show (values with their trend), values, record, set-range and
edit, each bad input one clear line, every change in the audit log."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tests.cli_harness import Cli

I3 = (
    "indicators", "add", "i-3", "--kind", "outcome", "--definition", "Share of women among judges", "--unit", "%",
    "--frequency", "quarterly", "--institution", "moj", "--first-due", "2027-01-15",
    "--baseline", "31.5", "--baseline-date", "2024-12-31", "--target", "45", "--target-date", "2030-12-31", "--source", "Judiciary staff register",
)


@pytest.fixture
def cli(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NMRF_DATABASE_URL", db_url)
    return Cli(capsys)


def test_the_secretariat_defines_ranges_records_and_reads_an_indicators_trend(cli: Cli, world: dict[str, int]) -> None:
    one, two, _ = world["mine_all"]
    out, _ = cli(*I3, "--recommendations", f"{one},{two}")
    assert out.strip() == "added indicator I-3: Share of women among judges (%), quarterly; next due 2027-01-15"
    out, _ = cli("indicators", "set-range", "I-3", "--min", "0", "--max", "100")
    assert out.strip() == "indicator I-3: plausible from 0 to 100"
    _, err = cli("indicators", "record", "I-3", "--value", "120", "--from", "2025-01-01", "--to", "2025-12-31", expect=1)
    assert err.strip() == "error: 120 is outside the plausible range of I-3 (0 to 100); check the figure, or widen the range with: nmrf-bot indicators set-range I-3"
    for value, start, end in (("33.5", "2025-07-01", "2025-09-30"), ("34", "2025-10-01", "2025-12-31"), ("36.25", "2025-10-01", "2025-12-31"), ("35", "2026-01-01", "2026-03-31")):
        out, _ = cli("indicators", "record", "I-3", "--value", value, "--from", start, "--to", end)
        assert out.startswith(f"recorded I-3 = {value} % for {start}..{end} (value ")
        cli.clock.advance(hours=1)
    out, _ = cli("indicators", "show", "i-3")
    assert out.splitlines()[:4] == [
        "I-3 (outcome): Share of women among judges",
        "  unit: %; reported by MOJ, quarterly from 2027-01-15; next due 2027-01-15",
        "  baseline: 31.5 (2024-12-31); target: 45 by 2030-12-31",
        "  plausible range: 0 to 100",
    ]
    assert f"  measures: #{one}, #{two}" in out
    values = [line.strip() for line in out.splitlines() if line.startswith("    ")]
    # The corrected fourth quarter counts: 36.25, not 34.
    assert [v.split("  (")[0] for v in values] == [
        "2025-07-01..2025-09-30  33.5 %  from baseline +2",
        "2025-10-01..2025-12-31  36.25 %  change +2.75  from baseline +4.75",
        "2026-01-01..2026-03-31  35 %  change -1.25  from baseline +3.5",
    ]
    assert "(Judiciary staff register; cli:" in values[0]
    assert "  1 earlier figure(s) corrected since (see: nmrf-bot indicators values I-3)" in out
    out, _ = cli("indicators", "values", "I-3", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["value"], r["change"], r["counts"]) for r in rows] == [("33.5", "", "yes"), ("34", "0.5", "no"), ("36.25", "2.75", "yes"), ("35", "-1.25", "yes")]
    out, _ = cli("indicators", "list", "--format", "json")
    [listed] = json.loads(out)
    assert (listed["code"], listed["latest"], listed["latest_period"], listed["institution"], listed["recommendations"]) == ("I-3", 35, "2026-01-01..2026-03-31", "MOJ", f"{one},{two}")
    out, _ = cli("indicators", "edit", "I-3", "--unit", "% of judges", "--frequency", "yearly")
    assert out.strip() == "indicator I-3: changed"
    out, _ = cli("indicators", "edit", "I-3", "--unit", "% of judges")
    assert out.strip() == "indicator I-3: already so; nothing changed"
    out, _ = cli("audit", "list", "--table", "indicators", "--format", "json")
    assert [r["action"] for r in json.loads(out)] == ["update", "update", "insert"]


def test_a_request_recorded_by_the_secretariat_for_its_due_date_is_no_longer_awaited(cli: Cli, world: dict[str, int]) -> None:
    cli(*I3[:14], "2026-10-15", *I3[15:])
    out, _ = cli("indicators", "show", "I-3")
    # Defined on 23 November: 15 October was before, so nothing is awaited yet.
    assert "awaited" not in out
    cli.clock.advance(days=60)
    out, _ = cli("indicators", "show", "I-3")
    assert "  awaited: the value due 2027-01-15, for 2026-10-01..2026-12-31" in out
    _, err = cli("indicators", "record", "I-3", "--value", "33", "--from", "2026-01-01", "--to", "2026-06-30", "--due", "2027-01-16", expect=1)
    assert err.strip() == "error: 2027-01-16 is not a due date of I-3 (quarterly from 2026-10-15)"
    cli("indicators", "record", "I-3", "--value", "33", "--from", "2026-07-01", "--to", "2026-09-30", "--due", "2027-01-15")
    out, _ = cli("indicators", "show", "I-3")
    assert "awaited" not in out


@pytest.mark.parametrize(("args", "expected"), [
    (I3[:3] + ("--kind", "impact") + I3[5:], "Invalid value for '--kind': 'impact' is not one of 'structural', 'process', 'outcome'."),
    (I3[:17], "--baseline and --baseline-date go together"),
    (I3 + ("--max", "-1", "--min", "0"), "error: the plausible range's maximum -1 is below its minimum 0"),
    (I3[:12] + ("nowhere",) + I3[13:], "error: no institution with code 'NOWHERE' (see: nmrf-bot institutions list)"),
    (I3 + ("--actions", "A-7"), "error: no action with code 'A-7' (see: nmrf-bot actions list)"),
    (I3[:16] + ("1,5",) + I3[17:], "Invalid value for '--baseline': baseline: expected a number such as 1234.5 or -3 (a dot before decimals, no thousands separator), got '1,5'"),
])
def test_a_bad_indicator_is_one_clear_line_and_nothing_is_stored(cli: Cli, world: dict[str, int], args: tuple[str, ...], expected: str) -> None:
    _, err = cli(*args, expect=1 if expected.startswith("error") else 2)
    assert expected in err
    out, _ = cli("indicators", "list", "--format", "json")
    assert json.loads(out) == []


def test_set_range_needs_a_bound_and_an_unknown_code_is_named(cli: Cli, world: dict[str, int]) -> None:
    cli(*I3)
    _, err = cli("indicators", "set-range", "I-3", expect=2)
    assert "give --min, --max or both (or --clear to take the range away)" in err
    out, _ = cli("indicators", "set-range", "I-3", "--clear")
    assert out.strip() == "indicator I-3: no plausible range"
    _, err = cli("indicators", "show", "I-9", expect=1)
    assert err.strip() == "error: no indicator with code 'I-9' (see: nmrf-bot indicators list)"

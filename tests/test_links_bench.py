"""The cross-mechanism and restricted figures of bench/links_bench.py (issue
15): the README states them, so their arithmetic is checked on groups small
enough to count by hand. No suggester run and no shared data needed."""

from __future__ import annotations

import csv
import math
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

import links_bench  # noqa: E402

from storage.link_similarity import LinkItem, SuggestedGroup  # noqa: E402


def _labelled(rows: list[tuple[int, str, str]]) -> links_bench.Labelled:
    items = [LinkItem(id=i, text=f"text {i}", mechanism=mechanism, country="Utopia") for i, mechanism, _ in rows]
    return links_bench.Labelled(items, {i: label for i, _, label in rows}, 0)


# 1, 2 from the UPR; 3, 4 from CEDAW. 1 and 3 ask the same thing.
ROWS = [(1, "UPR", "A"), (2, "UPR", "B"), (3, "CEDAW", "A"), (4, "CEDAW", "C")]


def test_cross_scores_count_only_upr_with_treaty_body_pairs() -> None:
    labelled = _labelled(ROWS)
    # One suggestion: 1, 2 and 3. Its cross pairs are (1, 3), right, and
    # (2, 3), wrong; (1, 2) is UPR with UPR and does not count.
    q = links_bench.cross_scores([SuggestedGroup(member_ids=(1, 2, 3), score=0.5)], labelled)
    assert q["true_pairs"] == 1 and q["found_pairs"] == 2
    assert q["pair_precision"] == pytest.approx(0.5)
    assert q["pair_recall"] == pytest.approx(1.0)
    # B-cubed over the other side: 1 sees {3} of {3} (1, 1); 2 sees {3}, none
    # right (0, no recall: its group has no CEDAW row); 3 sees {1, 2}, one
    # right, and all of {1} (0.5, 1); 4 was suggested with nothing.
    assert q["bcubed_precision"] == pytest.approx((1 + 0 + 0.5) / 3)
    assert q["bcubed_recall"] == pytest.approx(1.0)


def test_cross_scores_say_nan_when_nothing_was_suggested() -> None:
    q = links_bench.cross_scores([], _labelled(ROWS))
    assert math.isnan(q["pair_precision"]) and math.isnan(q["bcubed_precision"])
    assert q["pair_recall"] == 0.0 and q["bcubed_recall"] == 0.0
    assert links_bench._f(q["pair_precision"]) == "  n/a"


def test_restricted_cuts_groups_to_the_rows_kept() -> None:
    suggested = [SuggestedGroup(member_ids=(1, 3, 4), score=0.4), SuggestedGroup(member_ids=(2, 5), score=0.6)]
    kept = links_bench.restricted(suggested, {3, 4, 5})
    # (2, 5) keeps one member only, so it is no group.
    assert [g.member_ids for g in kept] == [(3, 4)]


def test_the_labelled_files_name_their_groups_consistently() -> None:
    """Every treaty-body row names a State, a mechanism and a language the
    bench reads; the Spanish UPR rows each name a labelled English row."""
    tb = list(csv.DictReader(links_bench.TB_SP.open(encoding="utf-8", newline="")))
    assert tb and all(r["state"] in {"Fiji", "Uruguay"} and r["language"] in {"en", "es"} and r["text"].strip() for r in tb)
    assert all(r["group"] == "" or r["group"].startswith(("FJI-", "URY-")) for r in tb)
    assert all(r["group"] == "" or r["group"].startswith({"Fiji": "FJI-", "Uruguay": "URY-"}[r["state"]]) for r in tb)
    spanish = links_bench.load_upr_es()
    assert len(spanish.items) == len(list(csv.DictReader(links_bench.UPR_ES.open(encoding="utf-8", newline=""))))

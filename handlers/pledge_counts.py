"""A round's institutions counted by standing, each count in words that
agree with it (issue 16 review, F10).

The summary sentence ("6 institutions were asked: 1 confirmed its pledges,
0 left drafts only, ...") had one plural form, chosen by the number asked;
its smaller counts took the plural verb whatever they were ("1
confirmaron"). Each is now its own plural entry, chosen by its own count,
for chat's /pledges and the pledge report alike.
"""

from __future__ import annotations

from messages import t
from storage.pledges import RoundSummary

# The summary's placeholder -> the standing it counts.
STANDINGS = {"confirmed": "confirmed", "drafts": "drafts", "none": "no_pledge", "silent": "nothing"}


def standing_counts(found: RoundSummary, language: str) -> dict[str, str]:
    """{placeholder: its count in words} for pledges.counts and pledges_report.overview."""
    return {name: t(f"pledges.count_{name}", language, count=found.count(standing)) for name, standing in STANDINGS.items()}

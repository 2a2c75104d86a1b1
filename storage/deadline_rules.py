"""When reports are due, by the mechanisms' own calendars.

Pure rules, no database: the suggestion in ``storage.deadline_suggestions``
applies them to what was imported. Wherever a committee or a document has
stated a date, that date wins over any rule here.

Treaty periodicity (first report after entry into force / then every):
ICERD 1/2 years, ICESCR 2/5, ICCPR 1/4, CEDAW 1/4, CAT 1/4, CRC 2/5, CMW 1/5,
CRPD 2/4, CED 2 then only on request (article 29(4)). Follow-up information
on selected concluding observations: one year, two for CEDAW and CMW. UPR:
the national report about 12 weeks before the review, a voluntary mid-term
report 2.5 years after it, the next review 4.5 years after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta


@dataclass(frozen=True)
class Periodicity:
    first_years: int
    then_years: int | None  # None: only when the committee asks


TREATY_PERIODICITY: dict[str, Periodicity] = {
    "CERD": Periodicity(1, 2),
    "CESCR": Periodicity(2, 5),
    "CCPR": Periodicity(1, 4),
    "CEDAW": Periodicity(1, 4),
    "CAT": Periodicity(1, 4),
    "CRC": Periodicity(2, 5),
    "CMW": Periodicity(1, 5),
    "CRPD": Periodicity(2, 4),
    "CED": Periodicity(2, None),
}
FOLLOW_UP_YEARS: dict[str, int] = {"CEDAW": 2, "CMW": 2}
DEFAULT_FOLLOW_UP_YEARS = 1
UPR_NATIONAL_REPORT_BEFORE = timedelta(weeks=12)
UPR_MIDTERM_AFTER = relativedelta(years=2, months=6)
UPR_NEXT_REVIEW_AFTER = relativedelta(years=4, months=6)
# Inputs from the ministries are due this long before the report itself.
DEFAULT_INPUT_LEAD = relativedelta(months=6)


@dataclass(frozen=True)
class Due:
    """A date and the rule (or statement) it comes from, for the secretariat to judge."""

    on: date
    basis: str


def first_report(committee: str, entry_into_force: date) -> Due:
    rule = _periodicity(committee)
    return Due(entry_into_force + relativedelta(years=rule.first_years), f"{committee}: initial report {rule.first_years} year(s) after entry into force")


def next_periodic_report(committee: str, concluding_observations: date, stated: date | None = None) -> Due | None:
    """The next periodic report after a review. A date the committee set (in the
    concluding observations, the predictable review calendar, or a list of
    issues prior to reporting) wins; CED has none unless it asks."""
    if stated is not None:
        return Due(stated, f"{committee}: date set by the committee")
    rule = _periodicity(committee)
    if rule.then_years is None:
        return None
    return Due(concluding_observations + relativedelta(years=rule.then_years), f"{committee}: periodic report every {rule.then_years} years")


def follow_up(committee: str, concluding_observations: date, stated: date | None = None) -> Due:
    if stated is not None:
        return Due(stated, f"{committee}: follow-up date stated in the concluding observations")
    years = FOLLOW_UP_YEARS.get(committee, DEFAULT_FOLLOW_UP_YEARS)
    return Due(concluding_observations + relativedelta(years=years), f"{committee}: follow-up information {years} year(s) after the concluding observations")


def upr_dates(review: date) -> dict[str, Due]:
    """What a UPR review sets in motion: the mid-term report and the next
    review's national report."""
    next_review = review + UPR_NEXT_REVIEW_AFTER
    return {
        "midterm": Due(review + UPR_MIDTERM_AFTER, "UPR: voluntary mid-term report 2.5 years after the review"),
        "next_review": Due(next_review, "UPR: next review 4.5 years after the review"),
        "national_report": Due(next_review - UPR_NATIONAL_REPORT_BEFORE, "UPR: national report about 12 weeks before the next review"),
    }


def internal_input(report_due: date, lead: relativedelta = DEFAULT_INPUT_LEAD) -> date:
    """When the ministries' inputs are due for a report due on ``report_due``."""
    return report_due - lead


def parse_lead(text: str) -> relativedelta:
    """'6m', '90d', '1y' or '8w' (months, days, years, weeks)."""
    text = text.strip().lower()
    units = {"d": "days", "w": "weeks", "m": "months", "y": "years"}
    if len(text) < 2 or text[-1] not in units or not text[:-1].isdigit():
        raise ValueError(f"a lead time such as 6m, 90d, 8w or 1y, got {text!r}")
    return relativedelta(**{units[text[-1]]: int(text[:-1])})


def _periodicity(committee: str) -> Periodicity:
    try:
        return TREATY_PERIODICITY[committee.upper()]
    except KeyError:
        raise ValueError(f"no reporting periodicity for {committee!r}: one of {', '.join(TREATY_PERIODICITY)}") from None

"""A budget is read only in the shapes the command line and the template
document (150000, 150000.50, 150,000.50), never guessed from another
locale's separators (issue 16 review): "150.000" is 150 thousand to a
Spanish reader and was stored as 150.00, "1 500,00" as 150,000."""

from __future__ import annotations

from decimal import Decimal

import pytest

from messages import t
from storage.actions import parse_budget
from storage.errors import InvalidValue


@pytest.mark.parametrize(("typed", "amount"), [
    ("150000", Decimal("150000")),
    ("150000.5", Decimal("150000.5")),
    ("150000.50", Decimal("150000.50")),
    ("150,000.50", Decimal("150000.50")),
    ("1,234,567", Decimal("1234567")),
    (" 38000000 ", Decimal("38000000")),
    ("0", Decimal("0")),
])
def test_the_documented_shapes_are_read(typed: str, amount: Decimal) -> None:
    assert parse_budget(typed) == amount


@pytest.mark.parametrize("typed", ["150.000", "1.500", "1.234,50", "1 500,00", "1,5", "12,34,567", "150 000", "1e6", "10.123", "", "USD 100"])
def test_another_locales_separators_are_refused_not_misread(typed: str) -> None:
    with pytest.raises(InvalidValue) as refused:
        parse_budget(typed)
    assert refused.value.field == "budget_amount" and refused.value.key == "refusal.actions.bad_amount"
    assert refused.value.values == {"text": typed.strip()}
    # Told in the reader's language with the amount as typed.
    assert typed.strip() in t(refused.value.key, "es", **refused.value.values)


def test_a_negative_amount_is_told_as_such() -> None:
    with pytest.raises(InvalidValue) as refused:
        parse_budget("-5")
    assert refused.value.key == "refusal.actions.negative_budget"

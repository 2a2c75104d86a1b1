"""Options several commands share."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from enum import Enum
from typing import TYPE_CHECKING, Any, TypeVar

import click

from storage.errors import InvalidValue

if TYPE_CHECKING:
    from storage.selection import Selector

F = TypeVar("F", bound=Callable[..., Any])


def enum_choice(enum_cls: type[Enum]) -> click.Choice:
    return click.Choice([m.value for m in enum_cls], case_sensitive=False)


class DateType(click.ParamType):
    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        try:
            return datetime.strptime(str(value), "%Y-%m-%d").date()
        except ValueError:
            self.fail(f"expected a date as YYYY-MM-DD, got {value!r}", param, ctx)


class IdListType(click.ParamType):
    """'3,5,9' or '10-20' or a mix: recommendation ids as `recommendations list` shows them."""

    name = "IDS"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> tuple[int, ...]:
        from storage.selection import parse_ids

        if isinstance(value, tuple):
            return value
        try:
            return parse_ids(str(value))
        except InvalidValue as exc:
            self.fail(str(exc), param, ctx)


DATE = DateType()
IDS = IdListType()


def output_options(func: F) -> F:
    from bot.output import FORMATS

    func = click.option(
        "--limit", type=click.IntRange(min=1), default=None, help="Print at most this many rows (default: every row)."
    )(func)
    func = click.option(
        "--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True, help="Output format."
    )(func)
    return func


def selector_options(func: F) -> F:
    """--ids / --external-id / --theme / --cluster, narrowed by --country / --mechanism."""
    for option in reversed(
        [
            click.option("--ids", type=IDS, default=None, help="Recommendation ids: '3,5,9' or '10-20'."),
            click.option("--external-id", "external_ids", multiple=True, help="Any source's id: UHRI annotation id, UPR Info key or template id (repeatable)."),
            click.option("--theme", default=None, help="Every recommendation with this theme."),
            click.option("--cluster", default=None, help="Every recommendation in this cluster."),
            click.option("--country", default=None, help="Only recommendations to this State."),
            click.option("--mechanism", default=None, help="Only recommendations from this mechanism (UPR, CEDAW, ...)."),
        ]
    ):
        func = option(func)
    return func


def selector_from(kwargs: dict[str, Any]) -> Selector:
    from storage.selection import Selector

    return Selector(
        ids=kwargs.pop("ids") or (),
        external_ids=tuple(kwargs.pop("external_ids") or ()),
        theme=kwargs.pop("theme"),
        cluster=kwargs.pop("cluster"),
        country=kwargs.pop("country"),
        mechanism=kwargs.pop("mechanism"),
    )

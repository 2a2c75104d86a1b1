"""Whose days off count: public holidays by country and subdivision (the
``holidays`` package), and the secretariat's own closure days.

A place is an ISO 3166-1 alpha-2 country and, optionally, one of its
subdivisions as the ``holidays`` package names them ("BY" for Bavaria,
"BE" for Berlin). A closure day is a date range with a name, for everyone or
for one country or one subdivision: Uruguay's Tourism Week is not a
statutory holiday, but the ministries are closed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache, lru_cache

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.errors import InvalidValue, NotFound
from storage.models import ClosureDay

# A closure is days off, not a season: a longer range is a typing mistake.
MAX_CLOSURE_DAYS = 31
NAME_CHARS = 200


@cache
def _supported() -> dict[str, tuple[str, ...]]:
    # Imported when a place is checked: the package takes a fifth of a second
    # to load, which the commands that never name a place need not spend.
    import holidays

    return {country: tuple(subdivisions) for country, subdivisions in holidays.list_supported_countries().items()}


def subdivisions_of(country: str) -> tuple[str, ...]:
    """The subdivisions the holidays package knows for a (checked) country."""
    return _supported().get(country, ())


def check_country(value: str) -> str:
    """An ISO 3166-1 alpha-2 code the holidays package knows, upper-cased."""
    code = value.strip().upper()
    if code not in _supported():
        raise InvalidValue(
            f"expected an ISO 3166-1 alpha-2 country code the holidays package knows, such as UY, DE or FR; got {value!r}",
            field="country", key="refusal.calendars.country", values={"value": value.strip()[:20]},
        )
    return code


def check_place(country: str | None, subdivision: str | None) -> tuple[str | None, str | None]:
    """(country, subdivision), checked and spelled as the holidays package
    spells them; a subdivision needs its country."""
    subdivision = (subdivision or "").strip() or None
    country = (country or "").strip() or None
    if country is None:
        if subdivision is not None:
            raise InvalidValue(
                f"a subdivision ({subdivision!r}) needs its country, e.g. country DE with subdivision BY",
                field="subdivision", key="refusal.calendars.subdivision_alone", values={"subdivision": subdivision[:20]},
            )
        return None, None
    code = check_country(country)
    if subdivision is None:
        return code, None
    known = _supported()[code]
    for name in known:
        if name.upper() == subdivision.upper():
            return code, name
    if not known:
        raise InvalidValue(
            f"the holidays package has no subdivisions for {code}; leave the subdivision out",
            field="subdivision", key="refusal.calendars.no_subdivisions", values={"country": code},
        )
    raise InvalidValue(
        f"{subdivision!r} is not a subdivision of {code} the holidays package knows; expected one of {', '.join(known)}",
        field="subdivision", key="refusal.calendars.unknown_subdivision",
        values={"subdivision": subdivision[:20], "country": code, "known": ", ".join(known)},
    )


@dataclass(frozen=True)
class Closure:
    id: int
    name: str
    starts_on: date
    ends_on: date
    country: str | None = None
    subdivision: str | None = None

    def concerns(self, country: str | None, subdivision: str | None) -> bool:
        """Whether a reader keeping (country, subdivision) is closed then."""
        if self.country is None:
            return True
        if self.country != country:
            return False
        return self.subdivision is None or self.subdivision == subdivision

    def days(self) -> Iterator[date]:
        day = self.starts_on
        while day <= self.ends_on:
            yield day
            day += timedelta(days=1)

    @property
    def scope(self) -> str:
        """"everyone", "UY" or "DE-BY"."""
        if self.country is None:
            return "everyone"
        return f"{self.country}-{self.subdivision}" if self.subdivision else self.country


@dataclass(frozen=True)
class Closures:
    """Every closure day declared, as the calendars read them."""

    spans: tuple[Closure, ...] = ()

    def days_for(self, country: str | None, subdivision: str | None) -> frozenset[date]:
        return _days_for(self, country, subdivision)


@lru_cache(maxsize=512)
def _days_for(closures: Closures, country: str | None, subdivision: str | None) -> frozenset[date]:
    # Cached on the closures' value: each planning pass reloads them, and an
    # unchanged set finds its days here; a changed one is a new key.
    return frozenset(day for span in closures.spans if span.concerns(country, subdivision) for day in span.days())


NO_CLOSURES = Closures()


@dataclass(frozen=True)
class ClosureData:
    name: str
    starts_on: date
    ends_on: date | None = None
    country: str | None = None
    subdivision: str | None = None


def check_closure(data: ClosureData) -> ClosureData:
    name = " ".join(data.name.split())
    if not name:
        raise InvalidValue("a closure needs a name, e.g. 'Semana de Turismo'", field="name", key="refusal.calendars.no_name")
    if len(name) > NAME_CHARS:
        raise InvalidValue(
            f"a closure's name is at most {NAME_CHARS} characters, not {len(name)}",
            field="name", key="refusal.calendars.long_name", values={"count": NAME_CHARS, "length": len(name)},
        )
    ends_on = data.ends_on or data.starts_on
    if ends_on < data.starts_on:
        raise InvalidValue(
            f"a closure ends on or after its first day: {ends_on.isoformat()} is before {data.starts_on.isoformat()}",
            field="to", key="refusal.calendars.ends_before_start", values={"end": ends_on, "start": data.starts_on},
        )
    length = (ends_on - data.starts_on).days + 1
    if length > MAX_CLOSURE_DAYS:
        raise InvalidValue(
            f"a closure lasts at most {MAX_CLOSURE_DAYS} days, not {length}: add each closure separately",
            field="to", key="refusal.calendars.too_long", values={"count": MAX_CLOSURE_DAYS, "length": length},
        )
    country, subdivision = check_place(data.country, data.subdivision)
    return ClosureData(name, data.starts_on, ends_on, country, subdivision)


def _closure(row: ClosureDay) -> Closure:
    return Closure(row.id, row.name, row.starts_on, row.ends_on, row.country, row.subdivision)


async def add_closure(session: AsyncSession, data: ClosureData) -> Closure:
    data = check_closure(data)
    row = ClosureDay(name=data.name, starts_on=data.starts_on, ends_on=data.ends_on, country=data.country, subdivision=data.subdivision)
    session.add(row)
    await session.flush()
    return _closure(row)


async def list_closures(session: AsyncSession, since: date | None = None) -> list[Closure]:
    """Closures in date order; with ``since``, those not over before it."""
    statement = select(ClosureDay).order_by(ClosureDay.starts_on, ClosureDay.id)
    if since is not None:
        statement = statement.where(ClosureDay.ends_on >= since)
    return [_closure(row) for row in await session.scalars(statement)]


async def get_closure(session: AsyncSession, closure_id: int) -> Closure:
    row = await session.get(ClosureDay, closure_id)
    if row is None:
        raise NotFound(
            f"no closure with id {closure_id} (see: nmrf-bot calendar closures list)", field="id", key="refusal.calendars.unknown_closure", values={"id": closure_id}
        )
    return _closure(row)


async def remove_closure(session: AsyncSession, closure_id: int) -> Closure:
    row = await session.get(ClosureDay, closure_id)
    if row is None:
        raise NotFound(
            f"no closure with id {closure_id} (see: nmrf-bot calendar closures list)", field="id", key="refusal.calendars.unknown_closure", values={"id": closure_id}
        )
    closure = _closure(row)
    await session.delete(row)
    await session.flush()
    return closure


async def load_closures(session: AsyncSession) -> Closures:
    """Every closure, for the calendars of a planning pass."""
    return Closures(tuple(await list_closures(session)))

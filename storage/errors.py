"""The registry's own errors. The CLI prints their message as one line.

The message is English, for the command line and the logs. An error a chat
user can meet also carries ``key``, the catalog message (messages/locale)
that says the same in the reader's language, and ``values``, its
placeholders: handlers.refusals.reason tells it (a date among the values in
the reader's locale). The key is a stable code: a catalog entry named after
it exists in every language (tests/test_localised_refusals.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class RegistryError(Exception):
    """Base for every error the registry reports to a person.

    ``field`` names the input at fault (a CLI option, a template column) when
    the raiser knows it, so an import can point at the right cell.
    """

    def __init__(
        self, message: str, *, field: str | None = None, key: str | None = None, values: Mapping[str, object] | None = None
    ) -> None:
        super().__init__(message)
        self.field = field
        self.key = key
        self.values: dict[str, object] = dict(values or {})


def ids_value(ids: Sequence[int], shown: int = 8) -> str:
    """Recommendation (or other) numbers as a localised refusal names them:
    '#3, #5, #9 (+4)', the same in every language."""
    named = ", ".join(f"#{i}" for i in ids[:shown])
    return named + (f" (+{len(ids) - shown})" if len(ids) > shown else "")


class ConfigurationError(RegistryError):
    pass


class DatabaseUnreachable(ConfigurationError):
    """The database server does not answer (down, restarting, the network to it cut)."""


class NotFound(RegistryError):
    pass


class Conflict(RegistryError):
    pass


class InvalidValue(RegistryError):
    pass


class AppendOnlyViolation(RegistryError):
    pass

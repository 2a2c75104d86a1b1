"""The registry's own errors. The CLI prints their message as one line."""

from __future__ import annotations


class RegistryError(Exception):
    """Base for every error the registry reports to a person.

    ``field`` names the input at fault (a CLI option, a template column) when
    the raiser knows it, so an import can point at the right cell.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


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

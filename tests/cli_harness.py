"""The `nmrf-bot` entry point as tests call it: in-process, on a clock the test holds."""

from __future__ import annotations

import pytest

from bot.cli import main
from tests.fakes import FakeClock


class Cli:
    """The real entry point on a clock the test holds (Monday 23 November 2026, 13:00 UTC)."""

    # None shows all of stderr when an exit code is wrong; a module whose failures
    # could echo a huge input bounds it.
    stderr_shown: int | None = None

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys
        self.clock = FakeClock()

    def __call__(self, *args: str, expect: int = 0) -> tuple[str, str]:
        code = 0
        try:
            main(list(args), clock=self.clock)
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = self.capsys.readouterr()
        assert code == expect, f"exit {code}, expected {expect}\nstdout: {out}\nstderr: {err[: self.stderr_shown]}"
        return out, err

"""Review of the one-line usage error (bot/cli main): a group given no
command is not a usage error to squash into one line, it is Click's help."""

from __future__ import annotations

import pytest

from bot.cli import main


@pytest.mark.parametrize(("argv", "usage"), [([], "Usage: nmrf-bot [OPTIONS] COMMAND"), (["db"], "Usage: nmrf-bot db [OPTIONS] COMMAND")])
def test_a_group_without_its_command_shows_its_help_laid_out(argv: list[str], usage: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    err = capsys.readouterr().err
    assert stopped.value.code == 2
    assert err.startswith(usage), err
    assert not err.startswith("error:") and "\nCommands:\n" in err, err


def test_a_real_usage_error_is_still_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["db", "no-such-thing"])
    err = capsys.readouterr().err
    assert stopped.value.code == 2
    assert err.startswith("error: ") and err.count("\n") == 1 and "No such command 'no-such-thing'" in err, err

"""``nmrf-bot``: the command line for the secretariat and the administrator."""

from __future__ import annotations

import importlib
import io
import logging
import sys
import threading
import traceback
from datetime import UTC, datetime
from typing import Any, NoReturn

import click

from bot.logs import Redacting
from bot.redaction import mask
from storage.clock import Clock, wall_clock
from storage.errors import RegistryError
from storage.importers.errors import ImportRejected

# Each command by the module that defines it, imported only when the command is
# asked for: `nmrf-bot report --help` loads the report module alone, not the chat
# SDKs `run` needs nor the charts `report` draws (tests/test_startup.py).
COMMANDS = {
    "actions": "bot.cli.actions:actions",
    "assign": "bot.cli.recommendations:assign_command",
    "audit": "bot.cli.audit:audit",
    "calendar": "bot.cli.calendar:calendar",
    "chat": "bot.cli.chat:chat",
    "clusters": "bot.cli.recommendations:clusters",
    "db": "bot.cli.db:db",
    "deadlines": "bot.cli.recommendations:deadlines",
    "demo": "bot.cli.demo:demo",
    "focal-points": "bot.cli.network:focal_points",
    "followup": "bot.cli.follow_up:follow_up",
    "frameworks": "bot.cli.actions:frameworks",
    "import": "bot.cli.imports:import_group",
    "indicators": "bot.cli.indicators:indicators",
    "institutions": "bot.cli.network:institutions",
    "links": "bot.cli.links:links",
    "pledges": "bot.cli.pledges:pledges",
    "priorities": "bot.cli.priorities:priorities",
    "recommendations": "bot.cli.recommendations:recommendations",
    "reminders": "bot.cli.reminders:reminders",
    "report": "bot.cli.report:report",
    "requests": "bot.cli.requests:requests_group",
    "run": "bot.cli.run:run",
    "secretariat": "bot.cli.secretariat:secretariat",
    "validations": "bot.cli.validations:validations_group",
}


class LazyGroup(click.Group):
    """A group whose subcommands are named by import path and imported when
    resolved: click's documented LazyGroup (``lazy_subcommands``)."""

    def __init__(self, *args: Any, lazy_subcommands: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_subcommands = lazy_subcommands or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_subcommands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy_subcommands:
            return self._load(cmd_name)
        return super().get_command(ctx, cmd_name)

    def _load(self, cmd_name: str) -> click.Command:
        module_name, attribute = self.lazy_subcommands[cmd_name].split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command) or command.name != cmd_name:
            raise TypeError(f"{self.lazy_subcommands[cmd_name]} is not the click command {cmd_name!r}")
        return command


@click.group(cls=LazyGroup, lazy_subcommands=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Configuration file (default: ./config.toml if present, else built-in defaults).",
)
@click.option(
    "--now",
    "now",
    type=click.DateTime(["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z", "%Y-%m-%d"]),
    default=None,
    help="Act as if it were this moment (e.g. 2027-03-01T09:00+00:00; a bare date is 00:00 UTC), "
    "the clock running on from there: to rehearse a cycle or preview what a day will bring. Default: now.",
)
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, now: datetime | None) -> None:
    """nmrf-bot: recommendations, focal points and deadlines for an NMRF secretariat."""
    # main(clock=...) hands a clock in through ctx.obj; --now makes one.
    clock: Clock = ctx.obj if callable(ctx.obj) else wall_clock
    if now is not None:
        clock = starting_at(now if now.tzinfo else now.replace(tzinfo=UTC), clock)
    from bot.cli.context import AppContext

    ctx.obj = AppContext(config_path, clock)


def starting_at(moment: datetime, clock: Clock) -> Clock:
    """A clock that reads ``moment`` now and runs on at ``clock``'s pace."""
    offset = moment - clock()
    return lambda: clock() + offset



def main(argv: list[str] | None = None, *, clock: Clock | None = None) -> None:
    """Run the CLI; a registry error is one clear line on stderr and exit status 1.

    ``clock`` is the time every command reads (tests inject theirs); by default the wall clock."""
    _mask_last_resort()
    _mask_thread_crashes()
    try:
        cli.main(args=argv, prog_name="nmrf-bot", standalone_mode=False, obj=clock)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.exceptions.NoArgsIsHelpError as exc:
        # `nmrf-bot` or `nmrf-bot db` alone: the help page, laid out as Click lays it out.
        _show(exc)
    except click.UsageError as exc:
        # Click's block (Usage, Try, Error) as the one line every failure is.
        command = exc.ctx.command_path if exc.ctx is not None else "nmrf-bot"
        said = " ".join(exc.format_message().split())
        _error(f"{said} (see: {command} --help)")
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        _show(exc)
    except ImportRejected as exc:
        _error(str(exc))
        for line in exc.details():
            click.echo(mask(f"  {line}"), err=True)
        sys.exit(1)
    except RegistryError as exc:
        _error(str(exc))
        sys.exit(1)
    except OSError as exc:
        _error(str(exc))
        sys.exit(1)
    except Exception as exc:  # noqa: BLE001 - a bug: its traceback is wanted, its secrets are not
        reason = _database_failure(exc)
        if reason is not None:
            _error(f"database: {reason}")
            sys.exit(1)
        click.echo(mask(traceback.format_exc()), err=True, nl=False)
        sys.exit(1)


def _database_failure(exc: Exception) -> str | None:
    """The driver's own message if ``exc`` is SQLAlchemy's, without its SQL echo
    and link. SQLAlchemy is not imported to ask: only a command that imported
    it can have raised one of its errors."""
    errors = sys.modules.get("sqlalchemy.exc")
    if errors is None or not isinstance(exc, errors.SQLAlchemyError):
        return None
    return str(getattr(exc, "orig", None) or exc).splitlines()[0]


def _show(exc: click.ClickException) -> NoReturn:
    """Click's own words for ``exc``, masked, and its exit status."""
    shown = io.StringIO()
    exc.show(file=shown)
    click.echo(mask(shown.getvalue()), err=True, nl=False)
    sys.exit(exc.exit_code)


def _error(message: str) -> None:
    """The one line of a failure; whatever it quotes, no secret (bot.redaction)."""
    click.echo(mask(f"error: {message}"), err=True)


def _mask_thread_crashes() -> None:
    """A thread's uncaught exception is printed by Python itself: masked too."""
    if threading.excepthook is not _masked_thread_crash:
        threading.excepthook = _masked_thread_crash


def _masked_thread_crash(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:
        return
    name = args.thread.name if args.thread is not None else threading.get_ident()
    text = "".join(traceback.format_exception(args.exc_type, args.exc_value, args.exc_traceback))
    sys.stderr.write(mask(f"Exception in thread {name}:\n{text}"))
    sys.stderr.flush()


def _mask_last_resort() -> None:
    """What logging prints when nothing configured it (a command, not `run`):
    warnings and worse, on stderr as Python would, but masked."""
    last = logging.lastResort
    if last is not None and not isinstance(last.formatter, Redacting):
        last.setFormatter(Redacting(logging.Formatter("%(message)s"), ()))

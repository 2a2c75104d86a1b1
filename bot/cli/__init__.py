"""``nmrf-bot``: the command line for the secretariat and the administrator."""

from __future__ import annotations

import io
import logging
import sys
import threading
import traceback
from datetime import UTC, datetime

import click
from sqlalchemy.exc import SQLAlchemyError

from bot.cli.audit import audit
from bot.cli.calendar import calendar
from bot.cli.chat import chat
from bot.cli.context import AppContext
from bot.cli.db import db
from bot.cli.demo import demo
from bot.cli.imports import import_group
from bot.cli.network import focal_points, institutions
from bot.cli.recommendations import assign_command, clusters, deadlines, recommendations
from bot.cli.reminders import reminders
from bot.cli.report import report
from bot.cli.requests import requests_group
from bot.cli.run import run
from bot.cli.secretariat import secretariat
from bot.cli.validations import validations_group
from bot.logs import Redacting
from bot.redaction import mask
from storage.clock import Clock, wall_clock
from storage.errors import RegistryError
from storage.importers.errors import ImportRejected


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
    ctx.obj = AppContext(config_path, clock)


def starting_at(moment: datetime, clock: Clock) -> Clock:
    """A clock that reads ``moment`` now and runs on at ``clock``'s pace."""
    offset = moment - clock()
    return lambda: clock() + offset


for command in (
    demo, chat, db, import_group, institutions, focal_points, assign_command, clusters, deadlines, recommendations, secretariat, reminders, report, requests_group, run,
    calendar, audit, validations_group,
):
    cli.add_command(command)


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
    except click.ClickException as exc:
        shown = io.StringIO()
        exc.show(file=shown)
        click.echo(mask(shown.getvalue()), err=True, nl=False)
        sys.exit(exc.exit_code)
    except ImportRejected as exc:
        _error(str(exc))
        for line in exc.details():
            click.echo(mask(f"  {line}"), err=True)
        sys.exit(1)
    except RegistryError as exc:
        _error(str(exc))
        sys.exit(1)
    except SQLAlchemyError as exc:
        # The driver's own message, without SQLAlchemy's SQL echo and link.
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        _error(f"database: {reason}")
        sys.exit(1)
    except OSError as exc:
        _error(str(exc))
        sys.exit(1)
    except Exception:  # noqa: BLE001 - a bug: its traceback is wanted, its secrets are not
        click.echo(mask(traceback.format_exc()), err=True, nl=False)
        sys.exit(1)


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

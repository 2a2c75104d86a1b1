"""Start-up (issue 18): `nmrf-bot --help` and every `nmrf-bot COMMAND
[SUBCOMMAND] --help` load none of the libraries that only some commands use.

Not timed: a timing test fails on a busy machine and passes on a fast one,
while what a command's help imports is the same everywhere, and it is what
the start-up time is made of (bench/startup_bench.py prints the seconds
against their 0.3 s target). The commands are named by import path in
bot.cli.COMMANDS and imported when asked for (bot.cli.LazyGroup); each
command module imports what its work needs inside the function doing it.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from bot.cli import COMMANDS, LazyGroup, main

ROOT = Path(__file__).resolve().parents[1]

# What a --help must not load: the charts and report writers, the chat SDKs
# and web stacks, link suggestions, the database layer, the configuration's
# validation and the scheduler. Each is a tenth of a second or more; together
# they were four seconds of every command.
HEAVY = (
    "matplotlib", "openpyxl", "docx", "lxml", "telegram", "slack_bolt", "slack_sdk", "aiohttp", "tornado", "starlette",
    "sklearn", "sqlalchemy", "alembic", "asyncpg", "aiosqlite", "pydantic", "apscheduler", "rich",
)

# Runs in a fresh interpreter: `import bot.cli`, then every command's and
# subcommand's --help in turn, then `nmrf-bot --help`, noting after each which
# of HEAVY had been imported by then (the first step that shows one loaded it).
PROBE = """
import contextlib, io, json, sys
import click
HEAVY = {heavy!r}

def loaded():
    return sorted(m for m in HEAVY if m in sys.modules)

steps = []
from bot.cli import cli, main
steps.append({{"path": None, "refused": "", "loaded": loaded()}})

def run_help(path):
    out = io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out):
        try:
            main([*path, "--help"])
        except SystemExit as exc:
            code = exc.code or 0
    steps.append({{"path": path, "refused": out.getvalue() if code else "", "loaded": loaded()}})

def walk(group, path):
    with click.Context(group) as ctx:
        for name in group.list_commands(ctx):
            run_help([*path, name])
            command = group.get_command(ctx, name)
            if isinstance(command, click.Group):
                walk(command, [*path, name])

walk(cli, [])
run_help([])
print(json.dumps(steps))
"""


def _python(code: str, *args: str, cwd: Path, flags: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NMRF_")}
    return subprocess.run([sys.executable, *flags, "-c", code, *args], cwd=cwd, env={**env, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=300, check=False)


@functools.cache
def _importtime(path: tuple[str, ...], cwd: Path) -> tuple[list[str], list[int]]:
    """The modules ``nmrf-bot PATH --help`` imports, in ``python -X importtime``'s order, and their depths."""
    code = "import sys\nfrom bot.cli import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
    done = _python(code, *path, "--help", cwd=cwd, flags=("-X", "importtime"))
    lines = [line.split("|")[-1] for line in done.stderr.splitlines() if line.startswith("import time:") and "|" in line]
    return [name.strip() for name in lines], [len(name) - len(name.lstrip()) for name in lines]


def importer_chain(path: list[str], module: str, cwd: Path) -> str:
    """Who imported ``module`` during ``nmrf-bot PATH --help``: 'bot.cli.x -> storage.y -> module',
    read from ``python -X importtime`` (a module's line comes after its own imports', indented one
    level deeper than its importer's). The command's own module is not on it (importlib.import_module
    is not timed): it is named from bot.cli.COMMANDS."""
    names, depth = _importtime(tuple(path), cwd)
    chain = [module]
    if module in names:
        at = names.index(module)
        for i in range(at + 1, len(names)):
            if depth[i] < depth[at]:
                chain.append(names[i])
                at = i
    if path:
        chain.append(COMMANDS[path[0]].split(":")[0])
    return " -> ".join(reversed(chain))


def test_no_help_imports_what_only_some_commands_use(tmp_path: Path) -> None:
    done = _python(PROBE.format(heavy=HEAVY), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    steps = json.loads(done.stdout)
    # Every command and subcommand was asked (not a walk that stopped early).
    asked = {step["path"][0] for step in steps if step["path"]}
    assert asked == set(COMMANDS), sorted(asked ^ set(COMMANDS))
    assert len(steps) > 2 * len(COMMANDS)
    failed = [f"{' '.join(['nmrf-bot', *step['path'], '--help'])} failed: {step['refused']}" for step in steps if step["refused"]]
    assert not failed, "\n".join(failed)
    problems: list[str] = []
    before: set[str] = set()
    for step in steps:
        path = step["path"]
        for module in sorted(set(step["loaded"]) - before):
            what = "import bot.cli" if path is None else " ".join(["nmrf-bot", *path, "--help"])
            problems.append(f"{what} imports {importer_chain(path or [], module, tmp_path)}")
        before |= set(step["loaded"])
    assert not problems, "\n".join(problems)


def test_the_top_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    main(["--help"])
    listed = capsys.readouterr().out.split("Commands:")[1]
    names = [line.split()[0] for line in listed.splitlines() if line.strip()]
    assert names == sorted(COMMANDS)


def test_a_lazy_command_is_the_command_it_is_registered_as() -> None:
    group = LazyGroup(lazy_subcommands={"start": "bot.cli.run:run", "ghost": "bot.cli.run:nothing_here"})
    with click.Context(group) as ctx:
        with pytest.raises(TypeError, match="bot.cli.run:run is not the click command 'start'"):
            group.get_command(ctx, "start")
        with pytest.raises(AttributeError):
            group.get_command(ctx, "ghost")
        assert group.get_command(ctx, "unknown") is None


def test_the_schema_check_finds_the_head_alembic_finds() -> None:
    from alembic.script import ScriptDirectory

    from storage.migrate import alembic_config, head_revision

    assert head_revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_the_head_is_the_revision_no_migration_revises(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import storage.migrate

    versions = tmp_path / "versions"
    versions.mkdir()
    monkeypatch.setattr(storage.migrate, "MIGRATIONS_DIR", tmp_path)

    def migration(name: str, body: str) -> None:
        (versions / f"{name}.py").write_text(f'"""{name}"""\n\nfrom __future__ import annotations\n\n{body}\n\ndef upgrade() -> None:\n    pass\n', encoding="utf-8")

    assert storage.migrate.head_revision() is None
    migration("a", "revision = 'a'\ndown_revision = None")
    migration("b", "revision: str = 'b'\ndown_revision: str | None = 'a'")
    migration("c", 'revision: str = "c"\ndown_revision: str | None = "a"  # a branch')
    with pytest.raises(RuntimeError, match="several heads: b, c"):
        storage.migrate.head_revision()
    migration("d", "revision: str = 'd'\ndown_revision: str | tuple[str, ...] | None = ('b', 'c')")
    (versions / "helpers.py").write_text("TABLES = ('x',)\n", encoding="utf-8")
    assert storage.migrate.head_revision() == "d"


# What `nmrf-bot run` must not load for a platform it does not talk to, nor
# for work that comes rarely (an import in chat): each is several MiB
# resident for as long as the bot runs (issue 18: at most 150 MiB at
# national scale, bench/run_memory_bench.py).
RUN_PROBE = """
import json, sys
from bot.app import BotApp
from bot.config import Config
from storage.database import create_engine, session_factory
BotApp(Config.model_validate({config!r}), session_factory(create_engine("sqlite://")))
print(json.dumps(sorted(m for m in {unwanted!r} if m in sys.modules)))
"""
RUN_UNWANTED = ("storage.importers.run", "storage.importers.readers", "openpyxl", "matplotlib", "rich", "pygments")


@pytest.mark.parametrize(("config", "unwanted"), [
    ({"telegram": {"token": "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq"}}, ("slack_bolt", "slack_sdk", *RUN_UNWANTED)),
    ({"slack": {"bot_token": "xoxb-1-2-slack-only", "app_token": "xapp-1-A-3-slack-only"}}, ("telegram", *RUN_UNWANTED)),
], ids=["telegram", "slack"])
def test_run_loads_only_the_platforms_configured_and_no_importer(tmp_path: Path, config: dict[str, object], unwanted: tuple[str, ...]) -> None:
    done = _python(RUN_PROBE.format(config=config, unwanted=unwanted), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []

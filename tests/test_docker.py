"""The Docker deployment, read rather than run (CI has no Docker): the
Dockerfile's start commands are the ones the README documents and exist in
the CLI with the options they give, the image runs as a user of its own,
and compose.yaml puts PostgreSQL's data in a named volume."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import click
import yaml

from bot.cli import cli
from bot.config import load_config

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments), continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", "\n".join(line for line in DOCKERFILE.splitlines() if not line.lstrip().startswith("#")))
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1].strip()) for line in joined.splitlines() if line.strip()]


def start_commands() -> list[str]:
    """The shell commands the entrypoint runs, in order."""
    [entrypoint] = [args for name, args in instructions() if name == "ENTRYPOINT"]
    argv = json.loads(entrypoint)
    assert argv[:2] == ["/bin/sh", "-c"], argv
    script = argv[2].replace('"$@"', "")
    return [re.sub(r"^exec\s+", "", part.strip()) for part in script.split("&&")]


def resolve(command: str) -> list[str]:
    """Walk ``command`` through the real CLI: each word a command or an option
    of the one it belongs to; the path of command names."""
    words = shlex.split(command)
    assert words[0] == "nmrf-bot", command
    group: click.Command = cli
    path: list[str] = []
    i = 1
    while i < len(words):
        word = words[i]
        if word.startswith("--"):
            option = next((p for p in group.params if isinstance(p, click.Option) and word in p.opts), None)
            assert option is not None, f"{' '.join(path) or 'nmrf-bot'} has no option {word}"
            i += 1 if option.is_flag else 2
            continue
        # get_command, not .commands: the top group imports its commands when asked (bot.cli.LazyGroup).
        found = group.get_command(click.Context(group), word) if isinstance(group, click.Group) else None
        assert found is not None, f"no command {word!r} under {' '.join(path) or 'nmrf-bot'}"
        group = found
        path.append(word)
        i += 1
    return path


def test_the_entrypoint_upgrades_the_database_then_runs_the_bot_with_real_commands() -> None:
    commands = start_commands()
    assert [resolve(c) for c in commands] == [["db", "upgrade"], ["run"]]
    # exec: the bot is PID 1 and gets docker stop's SIGTERM itself.
    assert re.search(r"&& exec nmrf-bot", json.loads(dict(instructions())["ENTRYPOINT"])[2])


def test_the_readme_documents_the_commands_the_image_runs() -> None:
    section = README.split("**With Docker**")[1].split("\n## ")[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.DOTALL)
    documented = [line.split("#")[0].strip() for block in blocks for line in block.splitlines()]
    for command in start_commands():
        assert command in documented, f"the README's Docker section does not show {command!r}"
    assert "docker compose up -d" in documented
    # Beside systemd, whose unit runs the same two commands.
    assert "ExecStartPre=" in README and "A systemd unit" in README


def test_the_image_is_slim_runs_as_its_own_user_and_checks_health() -> None:
    steps = instructions()
    [base] = [args for name, args in steps if name == "FROM"]
    assert re.fullmatch(r"python:3\.1[1-9]-slim", base), base
    assert any(name == "RUN" and "pip install ." in args for name, args in steps)
    users = [args for name, args in steps if name == "USER"]
    assert users and users[-1] not in ("root", "0", "0:0")
    # Every step after the last USER runs as that user, the start command included.
    last_user = max(i for i, (name, _) in enumerate(steps) if name == "USER")
    assert all(name not in ("RUN",) for name, _ in steps[last_user:])
    [health] = [args for name, args in steps if name == "HEALTHCHECK"]
    assert "http://127.0.0.1:8080/healthz" in health


def test_the_images_configuration_serves_healthz_where_the_check_reads_it() -> None:
    config = load_config(ROOT / "docker" / "config.toml", environ={})
    assert (config.http.host, config.http.port, config.http.health) == ("0.0.0.0", 8080, True)
    assert config.evidence.store == "/data/evidence"
    assert "VOLUME /data" in DOCKERFILE


def test_compose_runs_postgresql_with_a_named_volume_and_no_secret_in_the_file() -> None:
    services, volumes = COMPOSE["services"], COMPOSE["volumes"]
    db = services["db"]
    assert db["image"].startswith("postgres:")
    mounts = {m.split(":")[0]: m.split(":")[1] for m in db["volumes"] if isinstance(m, str)}
    assert mounts.get("pgdata") == "/var/lib/postgresql/data" and "pgdata" in volumes
    bot = services["bot"]
    assert bot["build"] == "." and bot["depends_on"]["db"]["condition"] == "service_healthy"
    assert bot["environment"]["NMRF_DATABASE_URL"].startswith("postgresql://nmrf:${NMRF_DB_PASSWORD}@db:5432/")
    # Secrets only as ${...} from .env, never written here.
    for name, value in {**db["environment"], **bot["environment"]}.items():
        if "TOKEN" in name or "PASSWORD" in name or "SECRET" in name:
            assert "${" in str(value), name
    assert any(isinstance(m, dict) and m["target"] == "/etc/nmrf-bot/config.toml" and m["read_only"] for m in bot["volumes"])


def test_secrets_and_local_state_stay_out_of_the_image() -> None:
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines() if line.strip() and not line.startswith("#")}
    assert {".env", "config.toml", ".venv", ".git", "*.db", "nmrf-evidence"} <= ignored

"""No secret in any output: every command that can fail is run with known
secrets configured (tokens, a signing secret, a database password, of 1, 3
and many characters), through bot.cli.main and as a real process, and
everything it printed is searched for each secret in every form it could be
printed in (as typed, percent-encoded as in a URL, escaped as in repr or JSON)."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy.engine import make_url

from bot.cli import main
from bot.logs import Redacting, configure
from bot.redaction import Masker
from bot.standins.slack import SlackStandIn
from bot.standins.telegram import TelegramStandIn
from tests.conftest import FIXTURES
from tests.fakes import FakeClock

NMRF_BOT = str(Path(sys.executable).with_name("nmrf-bot"))
PG_SERVER = make_url(os.environ.get("NMRF_TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/nmrf")


@dataclass(frozen=True)
class Secrets:
    telegram: str
    bot_token: str
    app_token: str
    signing_secret: str
    password: str

    def all(self) -> list[str]:
        return [self.telegram, self.telegram.split(":")[1], self.bot_token, self.app_token, self.signing_secret, self.password]

    def database_url(self, port: int | None = None) -> str:
        url = PG_SERVER.set(password=self.password)
        if port is not None:
            url = url.set(port=port)
        return url.render_as_string(hide_password=False)

    def environment(self, database_url: str) -> dict[str, str]:
        return {
            "NMRF_DATABASE_URL": database_url,
            "NMRF_TELEGRAM_TOKEN": self.telegram,
            "NMRF_SLACK_BOT_TOKEN": self.bot_token,
            "NMRF_SLACK_APP_TOKEN": self.app_token,
            "NMRF_SLACK_SIGNING_SECRET": self.signing_secret,
        }


LONG = Secrets(
    "7613098233:AAF3kq9-Zt_4mWcXr2Lp8sVb6NyHe1JuQoD", "xoxb-7613-9922-Gk3LmQp8Zr2sVb6N", "xapp-1-A07NMRF-5521-8f2c9e",
    "8f2c9e4b1a7d6e3f0c5b2a9d8e7f6a1b", "Pr0d-pa55w0rd/with:odd@chars",
)
# One and three characters: found by where they stand, never by blind search.
# Letters no message of the bot holds, so a search for them anywhere means something.
SHORT_1 = Secrets(LONG.telegram, LONG.bot_token, LONG.app_token, "Ж", "Ѯ")
SHORT_3 = Secrets(LONG.telegram, LONG.bot_token, LONG.app_token, "ЖŊѮ", "Ω§ŧ")
CASES = [pytest.param(LONG, id="long"), pytest.param(SHORT_1, id="1-char"), pytest.param(SHORT_3, id="3-char")]
# A real process costs seconds to start: one set holding every length at once.
MIXED = Secrets(LONG.telegram, LONG.bot_token, LONG.app_token, "ЖŊѮ", "Ѯ")
PROCESS_CASES = [pytest.param(LONG, id="long"), pytest.param(MIXED, id="1-and-3-char")]


def forms(secret: str) -> set[str]:
    """Every way a secret may be written out."""
    return {secret, quote(secret, safe=""), quote(secret), json.dumps(secret)[1:-1], repr(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]}


def assert_no_secret(text: str, secrets: Secrets) -> None:
    for secret in secrets.all():
        for form in forms(secret):
            assert form not in text, f"{form!r} was printed:\n{text}"


def run_main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = 0
    try:
        main(args, clock=FakeClock())
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out + err


@pytest.fixture
def configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    for var in list(os.environ):
        if var.startswith("NMRF_"):
            monkeypatch.delenv(var)
    yield tmp_path


UNREACHABLE_COMMANDS = [
    ["db", "status"],
    ["db", "upgrade"],
    ["institutions", "list"],
    ["recommendations", "list"],
    ["report", "matrix", "--out", "m.xlsx"],
    ["report", "export", "--format", "csv", "--out", "all.csv"],
    ["report", "summary", "progress"],
    ["requests", "list"],
    ["focal-points", "invite", "ana@justicia.example"],
    ["import", "uprinfo", str(FIXTURES / "uprinfo_small.csv")],
    ["secretariat", "seed"],
]


@pytest.mark.parametrize("secrets", CASES)
def test_every_failing_command_hides_every_secret(secrets: Secrets, configured: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    for var, value in secrets.environment(secrets.database_url(port=1)).items():
        monkeypatch.setenv(var, value)
    for args in UNREACHABLE_COMMANDS:
        code, printed = run_main(args, capsys)
        assert code != 0, (args, printed)
        assert printed.startswith("error: ") and printed.count("\n") == 1, (args, printed)
        assert_no_secret(printed, secrets)


@pytest.mark.parametrize("secrets", CASES)
def test_db_backup_on_postgresql_takes_the_password_from_the_environment(secrets: Secrets, configured: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    for var, value in secrets.environment(secrets.database_url() + "?password=" + quote(secrets.password, safe="")).items():
        monkeypatch.setenv(var, value)
    code, printed = run_main(["db", "backup", "nmrf.dump"], capsys)
    assert code == 1
    assert_no_secret(printed, secrets)
    assert "pg_dump --format=custom --file nmrf.dump" in printed and "pg_restore --clean" in printed
    assert "PGPASSWORD" in printed and "~/.pgpass" in printed
    # What is printed can be run as it stands: the URL names the user, not the password.
    shown = make_url(printed.split("'")[1])
    assert (shown.username, shown.password, shown.host, shown.database) == (PG_SERVER.username, None, PG_SERVER.host, PG_SERVER.database)
    assert "password" not in shown.query


def test_db_backup_prints_no_password_like_parameter(configured: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("NMRF_DATABASE_URL", LONG.database_url() + "?sslmode=require&sslpassword=k3y&passfile=%2Froot%2Fpgpass&password=pw2")
    code, printed = run_main(["db", "backup", "nmrf.dump"], capsys)
    assert code == 1 and printed.count("\n") == 1, printed
    for secret in ("k3y", "pw2", "/root/pgpass", quote("/root/pgpass", safe=""), LONG.password):
        assert secret not in printed, printed
    shown = make_url(printed.split("'")[1])
    assert dict(shown.query) == {"sslmode": "require"}
    # Said by name, so that whoever runs the command knows what to give it.
    assert "sslpassword" in printed and "passfile" in printed


CONFIG_MISTAKES = {
    "url of the wrong type": '[database]\nurl = ["{url}"]\n',
    "url where the section goes": 'database = "{url}"\n',
    "url that is no URL": '[database]\nurl = "{url_no_scheme}"\n',
    "url with a bad port": '[database]\nurl = "{url_bad_port}"\n',
    "url of another database": '[database]\nurl = "{url_mysql}"\n',
    "token where the section goes": 'telegram = "{telegram}"\n',
    "base_url with a password": '[telegram]\nbase_url = "ftp://bot:{password}@example.org/"\n',
    "signing secret of the wrong type": "[slack]\nsigning_secret = ['{signing}']\n",
    "tokens swapped": '[slack]\nbot_token = "{app}"\napp_token = "{bot}"\nsigning_secret = "{signing}"\n',
    "telegram token misshapen": '[telegram]\ntoken = "{password}{signing}"\n',
    # A token under a key that is not a secret's: its shape alone hides it.
    "telegram token as base_url": '[telegram]\nbase_url = "{telegram}"\n',
    "telegram token as mode": '[telegram]\nmode = "{telegram}"\n',
    "telegram token as http port": '[http]\nport = "{telegram}"\n',
    "telegram token as a user id": '[[secretariat.users]]\nname = "A"\nemail = "a@b.org"\ntelegram_user_id = "{telegram}"\n',
    "bot token as api_url": '[slack]\napi_url = "{bot}"\n',
    "app token as logging level": '[logging]\nlevel = "{app}"\n',
}


@pytest.mark.parametrize("secrets", CASES)
@pytest.mark.parametrize("mistake", list(CONFIG_MISTAKES))
def test_config_errors_never_echo_a_secret(secrets: Secrets, mistake: str, configured: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = secrets.database_url()
    body = CONFIG_MISTAKES[mistake].format(
        url=url, url_no_scheme=url.replace("://", "//"), url_bad_port=url.replace(":5432/", ":port/"),
        url_mysql=url.replace("postgresql", "mysql"), telegram=secrets.telegram, password=secrets.password,
        signing=secrets.signing_secret, bot=secrets.bot_token, app=secrets.app_token,
    )
    config = configured / "config.toml"
    config.write_text(body, encoding="utf-8")
    code, printed = run_main(["--config", str(config), "db", "status"], capsys)
    assert code == 1 and printed.startswith(f"error: {config}"), printed
    assert_no_secret(printed, secrets)


@pytest.mark.parametrize("secrets", CASES)
def test_an_unexpected_crash_prints_a_masked_traceback(secrets: Secrets, configured: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    for var, value in secrets.environment(f"sqlite:///{configured / 'x.db'}").items():
        monkeypatch.setenv(var, value)

    def crash() -> str:
        raise RuntimeError(f"token {secrets.telegram} url {secrets.database_url()} signing '{secrets.signing_secret}'")

    monkeypatch.setattr("storage.migrate.head_revision", crash)
    code, printed = run_main(["db", "status"], capsys)
    assert code == 1
    assert "Traceback" in printed and "RuntimeError: token ***" in printed
    assert_no_secret(printed, secrets)


def test_masking_finds_a_short_password_where_it_stands_and_leaves_the_rest_alone() -> None:
    mask = Masker(["a", "xoxb-1", "Zk3", "8f2c9e4b1a7d6e3f"])
    assert mask("postgresql://nmrf:a@db.example/nmrf failed: a database") == "postgresql://nmrf:***@db.example/nmrf failed: a database"
    assert mask("host=db password=a dbname=nmrf") == "host=db password=*** dbname=nmrf"
    assert mask("postgresql://nmrf@db/nmrf?sslmode=require&password=a") == "postgresql://nmrf@db/nmrf?sslmode=require&password=***"
    assert mask("postgresql://nmrf@db/nmrf?sslpassword=k&password=a") == "postgresql://nmrf@db/nmrf?sslpassword=***&password=***"
    assert mask("host=db sslpassword=k3y sslmode=require") == "host=db sslpassword=*** sslmode=require"
    # Any URL's password, known or not, whatever it holds.
    assert mask("'sqlite+x://u:p%40ss:w@h/db'") == "'sqlite+x://u:***@h/db'"
    # A short secret is recognised as a quoted value, not inside words.
    assert mask("got 'Zk3' for Zk3x and \"a\"") == "got '***' for Zk3x and \"***\""
    # Long secrets and Slack tokens are distinctive: masked wherever they are, in every encoding.
    assert mask("bearer xoxb-1 and 8f2c9e4b1a7d6e3f") == "bearer *** and ***"
    assert mask("http://x/?s=" + quote("8f2c9e4b1a7d6e3f/", safe="")) == "http://x/?s=***%2F"
    # A plain URL with a port and an e-mail later on is not a password.
    assert mask("see http://host:8080/path and write to a@b.org") == "see http://host:8080/path and write to a@b.org"


def test_token_shaped_strings_are_masked_though_no_configuration_named_them() -> None:
    mask = Masker()
    telegram = "7613098233:AAF3kq9-Zt_4mWcXr2Lp8sVb6NyHe1JuQoD"
    assert mask(f"got {telegram!r}") == "got '***'"
    assert mask(f"GET https://api.telegram.org/bot{telegram}/getMe") == "GET https://api.telegram.org/bot***/getMe"
    assert mask("bot" + quote(telegram, safe="")) == "bot***"
    for token in ("xoxb-1111-2222-misplacedtoken", "xoxp-1-2-3-abc", "xapp-1-A07NMRF-5521-8f2c9e", "xoxe.xoxp-1-Mi0yLTE"):
        assert mask(f"got '{token}', expected") == "got '***', expected", token
    # What only names a token's kind, and times or ids, stay as they are.
    for plain in ("a bot token starting with 'xoxb-'", "slack.app_token (xapp-..., or NMRF_SLACK_APP_TOKEN)", "at 12:30:05", "user 7613098233:"):
        assert mask(plain) == plain


@pytest.mark.parametrize("fmt", ["text", "json"])
@pytest.mark.parametrize("secrets", CASES)
def test_log_lines_and_their_tracebacks_are_masked(fmt: str, secrets: Secrets) -> None:
    stream = io.StringIO()
    level = logging.getLogger().level
    handler = configure("INFO", fmt, [secrets.telegram, secrets.bot_token, secrets.app_token, secrets.signing_secret, secrets.password], stream=stream)
    try:
        log = logging.getLogger("nmrf-bot.test")
        log.info("connecting to %s with %r", secrets.database_url(), secrets.signing_secret)
        try:
            raise ValueError(f"The token `{secrets.telegram}` was rejected; url={secrets.database_url()!r} secret='{secrets.signing_secret}'")
        except ValueError:
            log.exception("start failed for %s", secrets.bot_token)
        log.info("stack", stack_info=True, extra={"detail": secrets.app_token})
    finally:
        logging.getLogger().removeHandler(handler)
        logging.getLogger().setLevel(level)
    text = stream.getvalue()
    assert "Traceback" in text and "ValueError" in text
    assert_no_secret(text, secrets)
    if fmt == "json":
        assert all(json.loads(line) for line in text.splitlines())


def test_a_formatter_used_twice_still_masks_the_cached_exception_text() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    inner = logging.Formatter("%(message)s")
    handler.setFormatter(Redacting(inner, ["Ѯ"]))
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, None)
    try:
        raise RuntimeError("postgresql://u:Ѯ@h/db")
    except RuntimeError:
        record.exc_info = sys.exc_info()
    record.exc_text = inner.formatException(record.exc_info)  # as another handler would have left it
    handler.emit(record)
    assert "Ѯ" not in stream.getvalue() and "u:***@h" in stream.getvalue()


# The real process, for the crash paths.


def _process(args: list[str], env: dict[str, str], cwd: Path, timeout: float = 60) -> tuple[int, str]:
    done = subprocess.run([NMRF_BOT, *args], env={**_clean_environ(), **env}, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    return done.returncode, done.stdout + done.stderr


def _clean_environ() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("NMRF_")}


async def run_to_the_end(env: dict[str, str], cwd: Path, timeout: float = 60) -> tuple[int | None, str]:
    """`nmrf-bot run` (after `db upgrade`) until it ends by itself: its exit
    status and all it printed. Killed if it has not ended within ``timeout``."""
    await asyncio.to_thread(_process, ["db", "upgrade"], env, cwd)
    process = await asyncio.create_subprocess_exec(
        NMRF_BOT, "run", env={**_clean_environ(), **env}, cwd=cwd,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout)
    finally:
        if process.returncode is None:
            process.kill()
    return process.returncode, out.decode() + err.decode()


@pytest.mark.parametrize("secrets", PROCESS_CASES)
def test_as_a_process_failing_commands_hide_every_secret(secrets: Secrets, tmp_path: Path) -> None:
    env = secrets.environment(secrets.database_url(port=1))
    for args in (["db", "status"], ["report", "matrix", "--out", "m.xlsx"]):
        code, printed = _process(args, env, tmp_path)
        assert code == 1 and printed.startswith("error: ") and printed.count("\n") == 1, printed
        assert_no_secret(printed, secrets)
    code, printed = _process(["db", "backup", "x.dump"], secrets.environment(secrets.database_url()), tmp_path)
    assert code == 1 and "pg_dump" in printed
    assert_no_secret(printed, secrets)
    (tmp_path / "config.toml").write_text(f'[database]\nurl = ["{secrets.database_url()}"]\n', encoding="utf-8")
    code, printed = _process(["db", "status"], {}, tmp_path)
    assert code == 1 and printed.startswith("error: config.toml: database.url"), printed
    assert_no_secret(printed, secrets)
    # A fresh process has remembered no secret: a token under a plain key is hidden by its shape.
    misplaced = {"slack.api_url": ("slack", "api_url", secrets.bot_token), "telegram.base_url": ("telegram", "base_url", secrets.telegram),
                 "logging.level": ("logging", "level", secrets.app_token)}
    (tmp_path / "config.toml").write_text("".join(f'[{s}]\n{k} = "{v}"\n' for s, k, v in misplaced.values()), encoding="utf-8")
    code, printed = _process(["db", "status"], {}, tmp_path)
    assert code == 1 and all(f"config.toml: {key}: " in printed for key in misplaced), printed
    assert_no_secret(printed, secrets)


CRASH = """
import sys
from bot.cli import main

def crash():
    raise RuntimeError("token {telegram} url {url} signing '{signing}'")

import storage.migrate
storage.migrate.head_revision = crash
main(sys.argv[1:])
"""


@pytest.mark.parametrize("secrets", PROCESS_CASES)
def test_as_a_process_a_crash_traceback_is_masked(secrets: Secrets, tmp_path: Path) -> None:
    env = secrets.environment(f"sqlite:///{tmp_path / 'x.db'}")
    _process(["db", "upgrade"], env, tmp_path)
    script = CRASH.format(telegram=secrets.telegram, url=secrets.database_url(), signing=secrets.signing_secret)
    done = subprocess.run(
        [sys.executable, "-c", script, "db", "status"], env={**_clean_environ(), **env, "PYTHONPATH": str(Path(__file__).parents[1])},
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )
    printed = done.stdout + done.stderr
    assert done.returncode == 1 and "RuntimeError: token ***" in printed, printed
    assert_no_secret(printed, secrets)


async def test_as_a_process_run_with_a_rejected_token_hides_it(tmp_path: Path) -> None:
    # JSON logs: the harder case, where escaping could hide a secret from a plain search.
    log_format = "json"
    secrets = MIXED
    telegram = TelegramStandIn("1000000:" + "Q" * 35)  # knows another bot: ours is rejected
    slack = SlackStandIn()
    await telegram.start()
    await slack.start()
    try:
        (tmp_path / "config.toml").write_text(
            f'[telegram]\nbase_url = "{telegram.base_url}"\n[slack]\napi_url = "{slack.api_url}"\n'
            f'[http]\nhost = "127.0.0.1"\nport = 0\n[logging]\nformat = "{log_format}"\nlevel = "DEBUG"\n',
            encoding="utf-8",
        )
        code, printed = await run_to_the_end(secrets.environment(f"sqlite:///{tmp_path / 'x.db'}"), tmp_path)
    finally:
        await telegram.stop()
        await slack.stop()
    assert code != 0, printed
    assert "rejected" in printed or "Unauthorized" in printed or "token" in printed.lower(), printed
    assert_no_secret(printed, secrets)


def test_a_crash_in_a_thread_is_masked_too(configured: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Python prints a thread's uncaught exception itself, not through logging."""
    import threading

    secrets = MIXED
    for var, value in secrets.environment(secrets.database_url()).items():
        monkeypatch.setenv(var, value)
    monkeypatch.setattr(threading, "excepthook", threading.__excepthook__)
    run_main(["db", "status"], capsys)  # the entry point sets the process up, secrets known

    def crash() -> None:
        raise RuntimeError(f"token {secrets.telegram} url {secrets.database_url()} signing '{secrets.signing_secret}'")

    thread = threading.Thread(target=crash, name="poller")
    thread.start()
    thread.join()
    printed = capsys.readouterr().err
    assert "Exception in thread poller" in printed and "RuntimeError: token ***" in printed, printed
    assert_no_secret(printed, secrets)

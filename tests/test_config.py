from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from pydantic import BaseModel

from bot.config import ENV_OVERRIDES, Config, load_config
from storage.errors import ConfigurationError

ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(body, encoding="utf-8")
    return path


def error_of(path: Path | None, environ: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigurationError) as caught:
        load_config(path, environ=environ or {})
    return str(caught.value)


def test_defaults_when_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = load_config(environ={})
    assert config.database.url == "sqlite:///./nmrf.db"
    assert config.telegram.mode == "polling"
    assert config.slack.mode == "socket"
    assert config.slack.api_url == "https://slack.com/api/"
    assert config.schedule.working_days == ["mon", "tue", "wed", "thu", "fri"]
    assert [t.isoformat() for t in config.schedule.window] == ["09:00:00", "17:00:00"]


def test_default_config_toml_in_working_directory_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, '[schedule]\ntimezone = "America/Asuncion"\n')
    assert load_config(environ={}).schedule.timezone == "America/Asuncion"


def test_named_file_must_exist(tmp_path: Path) -> None:
    message = error_of(tmp_path / "missing.toml")
    assert "missing.toml: no such configuration file" in message


def test_unknown_key_names_file_key_and_allowed_keys(tmp_path: Path) -> None:
    path = write(tmp_path, '[telegram]\ntokn = "x"\n')
    message = error_of(path)
    assert message == f"{path}: unknown key 'telegram.tokn' (allowed here: token, base_url, mode, webhook_url, delivery_check_chat_id)"


def test_unknown_section(tmp_path: Path) -> None:
    path = write(tmp_path, "[telegarm]\nmode = 'polling'\n")
    assert "unknown key 'telegarm'" in error_of(path)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('[telegram]\nmode = "poll"\n', "telegram.mode: Input should be 'polling' or 'webhook' (got 'poll')"),
        ('[slack]\nmode = "rtm"\n', "slack.mode: Input should be 'socket' or 'http'"),
        ("[schedule]\nhours = 9\n", "schedule.hours: Input should be a valid string (got 9)"),
        ('[schedule]\nhours = "17:00-09:00"\n', "schedule.hours: expected a start before the end"),
        ('[schedule]\ntimezone = "Europe/Lisbn"\n', "schedule.timezone: expected an IANA time zone"),
        ('[schedule]\nworking_days = ["mon", "fr"]\n', "schedule.working_days[1]: Input should be 'mon'"),
        ('[schedule]\nworking_days = []\n', "schedule.working_days: expected at least one working day"),
        ('[database]\nurl = "mysql://x"\n', "database.url: expected unsupported database 'mysql'"),
        ('[slack]\napi_url = "slack.example"\n', "slack.api_url: expected an http:// or https:// URL"),
        ('[[secretariat.users]]\nname = "A"\nemail = "nope"\n', "secretariat.users[0].email: expected an e-mail address"),
        ('[[secretariat.users]]\nname = "A"\nemail = "a@b.org"\nlanguage = "de"\n', "secretariat.users[0].language: expected one of en, fr, es"),
        ('[[secretariat.users]]\nemail = "a@b.org"\n', "secretariat.users[0].name: Field required"),
        ("[database\n", "not valid TOML"),
    ],
)
def test_bad_values_fail_with_file_key_and_expectation(tmp_path: Path, body: str, expected: str) -> None:
    path = write(tmp_path, body)
    message = error_of(path)
    assert message.startswith(str(path))
    assert expected in message


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, '[telegram]\nmode = "x"\n[schedule]\ntimezone = "Nowhere/City"\n')
    assert len(error_of(path).splitlines()) == 2


def test_environment_overrides_file_secrets(tmp_path: Path) -> None:
    path = write(tmp_path, '[telegram]\ntoken = "1:AAAAAAAAAAAAAAAAAAAAAAAAAAAA"\n[database]\nurl = "sqlite:///a.db"\n')
    env = {
        "NMRF_TELEGRAM_TOKEN": "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        "NMRF_SLACK_BOT_TOKEN": "xoxb-1-2-3",
        "NMRF_SLACK_APP_TOKEN": "xapp-1-2-3",
        "NMRF_SLACK_SIGNING_SECRET": "s3cr3t",
        "NMRF_DATABASE_URL": "postgresql://nmrf@db/nmrf",
    }
    config = load_config(path, environ=env)
    assert config.telegram.token and config.telegram.token.get_secret_value() == env["NMRF_TELEGRAM_TOKEN"]
    assert config.slack.bot_token and config.slack.bot_token.get_secret_value() == "xoxb-1-2-3"
    assert config.slack.app_token and config.slack.app_token.get_secret_value() == "xapp-1-2-3"
    assert config.slack.signing_secret and config.slack.signing_secret.get_secret_value() == "s3cr3t"
    assert config.database.url == "postgresql://nmrf@db/nmrf"
    # Secrets never show in a printed configuration.
    shown = repr(config) + str(config)
    for secret in ("ABCDEFGHIJKLMNOP", "s3cr3t", "xoxb-1-2-3", "xapp-1-2-3"):
        assert secret not in shown


def test_bad_secret_from_environment_names_the_variable_and_hides_the_value(tmp_path: Path) -> None:
    message = error_of(None, {"NMRF_SLACK_BOT_TOKEN": "xoxp-user-token-value"})
    assert "environment variable NMRF_SLACK_BOT_TOKEN: slack.bot_token: expected a bot token" in message
    assert "xoxp-user-token-value" not in message


def test_env_override_names_are_the_documented_ones() -> None:
    assert set(ENV_OVERRIDES) == {
        "NMRF_TELEGRAM_TOKEN",
        "NMRF_SLACK_BOT_TOKEN",
        "NMRF_SLACK_APP_TOKEN",
        "NMRF_SLACK_SIGNING_SECRET",
        "NMRF_DATABASE_URL",
    }


def _model_keys(model: type[BaseModel], prefix: str = "") -> set[str]:
    keys = set()
    for name, field in model.model_fields.items():
        annotation = field.annotation
        inner = getattr(annotation, "__args__", (annotation,))[0]
        args = getattr(annotation, "__args__", ())
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys |= _model_keys(annotation, f"{prefix}{name}.")
        elif getattr(annotation, "__origin__", None) is dict and isinstance(args[1], type) and issubclass(args[1], BaseModel):
            keys |= _model_keys(args[1], f"{prefix}{name}.*.")
        elif isinstance(inner, type) and issubclass(inner, BaseModel):
            keys |= _model_keys(inner, f"{prefix}{name}[].")
        else:
            keys.add(prefix + name)
    return keys


def _documented_keys(text: str) -> set[str]:
    """Keys in config.example.toml, commented out or not."""
    keys, section = set(), ""
    for raw in text.splitlines():
        line = raw.lstrip("# ").strip()
        if line.startswith("[[") and line.endswith("]]"):
            section = line[2:-2] + "[]."
        elif line.startswith("[") and line.endswith("]"):
            section = line[1:-1] + "."
            # A table of tables, such as [reminders.kinds.treaty_report].
            if section.startswith("reminders.kinds."):
                section = "reminders.kinds.*."
        elif "=" in line and not raw.startswith("##"):
            key = line.split("=", 1)[0].strip()
            if key.replace("_", "").isalnum():
                keys.add(section + key)
    return keys


def test_a_mode_without_what_it_needs_is_refused(tmp_path: Path) -> None:
    cases = {
        '[slack]\nbot_token = "xoxb-1-2"\n': 'slack.mode = "socket" needs slack.app_token',
        '[slack]\nbot_token = "xoxb-1-2"\nmode = "http"\n': 'slack.mode = "http" needs slack.signing_secret',
        '[telegram]\ntoken = "1:AAAAAAAAAAAAAAAAAAAAAAAAAAAA"\nmode = "webhook"\n': 'telegram.mode = "webhook" needs telegram.webhook_url',
    }
    for text, expected in cases.items():
        path = write(tmp_path, text)
        with pytest.raises(ConfigurationError) as caught:
            load_config(path, environ={})
        assert str(caught.value) == f"{path}: {expected}" + str(caught.value).split(expected, 1)[1]
        assert "xoxb-1-2" not in str(caught.value)


def test_example_config_documents_every_key_and_loads(tmp_path: Path) -> None:
    example = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    assert _documented_keys(example) == _model_keys(Config)
    tomllib.loads(example)
    config = load_config(ROOT / "config.example.toml", environ={})
    assert config.database.url.startswith("sqlite")


def test_priorities_left_out_are_the_rules_own_defaults_and_bounds_hold(tmp_path: Path) -> None:
    # The section does not load storage.priorities (every model) to be read;
    # its defaults and bounds are still that module's.
    from storage.priorities import CRITERIA, PriorityRules

    assert load_config(write(tmp_path, ""), environ={}).priorities.rules == PriorityRules()
    given = load_config(write(tmp_path, '[priorities]\nmedium_at = 2\nmarginalised = ["children"]\n'), environ={}).priorities.rules
    assert given == PriorityRules(medium_at=2, marginalised=("children",))
    too_high = len(CRITERIA) + 1
    assert f"priorities.high_at: Input should be less than or equal to {len(CRITERIA)} (got {too_high})" in error_of(write(tmp_path, f"[priorities]\nhigh_at = {too_high}\n"))
    assert f"medium_at ({PriorityRules.high_at + 1}) is at most high_at ({PriorityRules.high_at})" in error_of(
        write(tmp_path, f"[priorities]\nmedium_at = {PriorityRules.high_at + 1}\n")
    )
    assert "priorities.recurrence_states: Input should be greater than or equal to 2 (got 1)" in error_of(write(tmp_path, "[priorities]\nrecurrence_states = 1\n"))


def test_deadline_kinds_in_the_configuration_are_the_registrys() -> None:
    import typing

    from bot.config import DeadlineKindName
    from storage.enums import DeadlineKind

    assert set(typing.get_args(DeadlineKindName)) == {k.value for k in DeadlineKind}


def test_reminder_settings_are_checked(tmp_path: Path) -> None:
    path = write(tmp_path, '[reminders]\nsteps_days = [30, 30]\n[reminders.kinds.treaty_report]\nsteps_days = [90]\n')
    with pytest.raises(ConfigurationError, match="reminders.steps_days: expected distinct numbers of days"):
        load_config(path, environ={})
    path = write(tmp_path, '[reminders.kinds.treaty_reprot]\nsteps_days = [90]\n')
    with pytest.raises(ConfigurationError, match="treaty_reprot"):
        load_config(path, environ={})
    path = write(tmp_path, '[schedule]\ncountry = "XX"\n')
    with pytest.raises(ConfigurationError, match="schedule.country: expected an ISO 3166 country code"):
        load_config(path, environ={})
    config = load_config(write(tmp_path, '[schedule]\ncountry = "uy"\n[reminders.kinds.treaty_report]\nsteps_days = [90, 60]\n'), environ={})
    assert config.schedule.country == "UY" and config.reminders.kinds["treaty_report"].steps_days == [90, 60]


def test_a_database_url_mistake_is_explained_without_its_password(tmp_path: Path) -> None:
    cases = {
        '[database]\nurl = "postgresql//nmrf:pw1@db/nmrf"\n': "database.url: expected a database URL such as sqlite:///FILE or postgresql://USER@HOST:PORT/DB",
        '[database]\nurl = "postgresql://nmrf:pw1@db:port/nmrf"\n': "database.url: expected a database URL such as",
        '[database]\nurl = ["postgresql://nmrf:pw1@db/nmrf"]\n': "database.url: Input should be a valid string (got ['postgresql://nmrf:***@db/nmrf'])",
        'database = "postgresql://nmrf:pw1@db/nmrf"\n': "database: Input should be a valid dictionary or instance of DatabaseConfig",
        'telegram = "123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAA"\n': "telegram: Input should be a valid dictionary",
    }
    for body, expected in cases.items():
        message = error_of(write(tmp_path, body))
        assert expected in message, message
        assert "pw1" not in message and "AAAAAAAA" not in message, message


@pytest.mark.parametrize("port", [99999, 65536, 0])
def test_a_database_port_out_of_range_is_one_line_when_the_configuration_is_read(
    port: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    from bot.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NMRF_DATABASE_URL", f"postgresql://postgres:pw1@127.0.0.1:{port}/x")
    with pytest.raises(SystemExit) as exited:
        main(["db", "status"])
    _, err = capsys.readouterr()
    assert exited.value.code == 1
    assert err == (
        f"error: environment variable NMRF_DATABASE_URL: database.url: expected a port from 1 to 65535 in the database URL, not {port}\n"
    )
    message = error_of(write(tmp_path, f'[database]\nurl = "postgresql://nmrf:pw1@db:{port}/nmrf"\n'))
    assert message.endswith(f"database.url: expected a port from 1 to 65535 in the database URL, not {port}") and "pw1" not in message

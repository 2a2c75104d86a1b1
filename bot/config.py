"""Configuration: a TOML file, built-in defaults, secrets from the environment.

Every key is declared here and documented in ``config.example.toml``. A
mistake in the file (an unknown key, a wrong type, a bad value) stops the
bot at start with the file, the key and what was expected; a typo must never
be silently ignored and leave, say, reminders going out at the wrong hour.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from datetime import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.redaction import mask, remember
from handlers.reminders.working_time import parse_hours
from messages import DEFAULT_LANGUAGE
from storage.database import async_url
from storage.errors import ConfigurationError, InvalidValue
from storage.importers.limits import ImportLimits
from storage.validation import check_email, check_language, check_timezone

if TYPE_CHECKING:
    from storage.priorities import PriorityRules

DEFAULT_CONFIG_FILE = Path("config.toml")

# Environment variable -> (section, key). Secrets belong here rather than in
# a file that may end up in a backup or a repository.
ENV_OVERRIDES: dict[str, tuple[str, str]] = {
    "NMRF_DATABASE_URL": ("database", "url"),
    "NMRF_TELEGRAM_TOKEN": ("telegram", "token"),
    "NMRF_SLACK_BOT_TOKEN": ("slack", "bot_token"),
    "NMRF_SLACK_APP_TOKEN": ("slack", "app_token"),
    "NMRF_SLACK_SIGNING_SECRET": ("slack", "signing_secret"),
}

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HOURS = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def _pydantic(check: Callable[[str], str]) -> Callable[[str], str]:
    """Report a storage.validation failure the way pydantic expects."""

    def run(value: str) -> str:
        try:
            return check(value)
        except InvalidValue as exc:
            raise ValueError(str(exc).removeprefix("expected ")) from None

    return run


def _check_http_url(value: str) -> str:
    if not re.match(r"^https?://[^\s/]+", value):
        raise InvalidValue(f"expected an http:// or https:// URL, got {value!r}")
    return value


Email = Annotated[str, AfterValidator(_pydantic(check_email))]
TimeZoneName = Annotated[str, AfterValidator(_pydantic(check_timezone))]
Language = Annotated[str, AfterValidator(_pydantic(check_language))]
HttpUrl = Annotated[str, AfterValidator(_pydantic(_check_http_url))]
PriorityName = Literal["high", "medium", "low"]
DeadlineKindName = Literal[
    "treaty_report", "list_of_issues_reply", "follow_up_information", "upr_midterm",
    "upr_national_report", "internal_input", "information_request",
]


class DatabaseConfig(Section):
    url: str = "sqlite:///./nmrf.db"

    @field_validator("url")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        try:
            make_url(value)
        except (ArgumentError, ValueError):
            # Not echoed: a URL's password could not be found in it to be masked.
            raise ValueError("a database URL such as sqlite:///FILE or postgresql://USER@HOST:PORT/DB") from None
        try:
            async_url(value)
        except ConfigurationError as exc:
            raise ValueError(str(exc)) from None
        return value


class TelegramConfig(Section):
    token: SecretStr | None = None
    # A self-hosted Bot API server answers at its own address.
    base_url: HttpUrl = "https://api.telegram.org/bot"
    mode: Literal["polling", "webhook"] = "polling"
    # Webhook mode: the public HTTPS address that reaches [http] at /telegram/webhook.
    webhook_url: HttpUrl | None = None
    # A private channel with the bot as an admin, where a reminder cut off by a
    # crash is looked for before it is sent again (no duplicates after a crash).
    delivery_check_chat_id: int | None = None

    @field_validator("token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not re.fullmatch(r"\d+:[A-Za-z0-9_-]{20,}", value.get_secret_value()):
            raise ValueError("a token from @BotFather, shaped '123456:ABC...'")
        return value


class SlackConfig(Section):
    bot_token: SecretStr | None = None
    app_token: SecretStr | None = None
    signing_secret: SecretStr | None = None
    # GovSlack's Web API is not at slack.com.
    api_url: HttpUrl = "https://slack.com/api/"
    mode: Literal["socket", "http"] = "socket"

    @field_validator("bot_token")
    @classmethod
    def _bot_token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xoxb-"):
            raise ValueError("a bot token starting with 'xoxb-'")
        return value

    @field_validator("app_token")
    @classmethod
    def _app_token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xapp-"):
            raise ValueError("an app-level token starting with 'xapp-'")
        return value


class HttpConfig(Section):
    """The bot's own web server: Telegram webhooks, the Slack Events API, /healthz."""

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    # Serve /healthz even when no webhook or HTTP mode needs the server.
    health: bool = False


class LoggingConfig(Section):
    """What ``nmrf-bot run`` logs, and how."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # "json": one object a line (time, level, logger, message), for a log shipper.
    format: Literal["text", "json"] = "text"


# Telegram's cloud Bot API gives a bot files of up to 20 MB (getFile); a
# self-hosted Bot API server and Slack allow more.
TELEGRAM_DOWNLOAD_MB = 20


class EvidenceConfig(Section):
    """Where the files sent as evidence are kept ([evidence]), and how large one may be."""

    # A folder (made if missing). Unset: beside a SQLite database, a folder
    # named after it (./nmrf.db -> ./nmrf-evidence); with PostgreSQL,
    # ./nmrf-evidence in the working directory: set a folder every bot
    # process shares (see README, "Evidence files").
    store: str | None = Field(default=None, min_length=1)
    # A file over this is refused when it is sent, with a message saying so.
    max_file_mb: int = Field(default=TELEGRAM_DOWNLOAD_MB, ge=1, le=2000)

    def store_path(self, database_url: str) -> Path:
        """The store as configured, or its default for this database."""
        if self.store is not None:
            return Path(self.store).expanduser()
        url = make_url(database_url)
        if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
            database = Path(url.database)
            return database.with_name(database.stem + "-evidence")
        return Path("nmrf-evidence")

    @property
    def max_file_bytes(self) -> int:
        return self.max_file_mb * 1024 * 1024


class ConversationConfig(Section):
    # A status update left half-way is dropped, politely, after this long.
    timeout_minutes: int = Field(default=30, ge=1, le=7 * 24 * 60)


class ReminderKindConfig(Section):
    steps_days: list[int] = Field(min_length=1)


class RemindersConfig(Section):
    # Days before an input deadline on which its focal points are reminded.
    steps_days: list[int] = Field(default_factory=lambda: [60, 30, 14, 7, 3, 1], min_length=1)
    overdue_every_working_days: int = Field(default=3, ge=1, le=30)
    overdue_max: int = Field(default=10, ge=0, le=100)
    # Delivered, unanswered reminders before the alternate is told.
    escalate_after: int = Field(default=2, ge=1, le=10)
    # Other steps for some kinds of deadline, e.g. [reminders.kinds.treaty_report].
    kinds: dict[DeadlineKindName, ReminderKindConfig] = Field(default_factory=dict)
    # The priority levels reminders and escalations cover (handlers.reminders.plan).
    priorities: list[PriorityName] = Field(default_factory=lambda: ["high", "medium", "low"], min_length=1)

    @field_validator("steps_days")
    @classmethod
    def _positive(cls, value: list[int]) -> list[int]:
        if any(d < 0 or d > 3650 for d in value) or len(set(value)) != len(value):
            raise ValueError("distinct numbers of days between 0 and 3650")
        return value

    @field_validator("priorities")
    @classmethod
    def _each_level_once(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("each level once: high, medium, low")
        return value


class ScheduleConfig(Section):
    timezone: TimeZoneName = "UTC"
    working_days: list[Weekday] = Field(default_factory=lambda: ["mon", "tue", "wed", "thu", "fri"])
    hours: str = "09:00-17:00"
    # ISO 3166 code of the State: its public holidays get no reminders, for
    # everyone without a country of their own (focal-points add --country).
    country: str | None = None
    # A subdivision of that country as the holidays package names it ("BY").
    subdivision: str | None = None

    @field_validator("country")
    @classmethod
    def _country(cls, value: str | None) -> str | None:
        if value is None:
            return None
        import holidays  # loaded only for a configuration that names a country

        if value.upper() not in holidays.list_supported_countries():
            raise ValueError(f"an ISO 3166 country code known to the holidays package, such as UY, PY, PT or FJ; got {value!r}")
        return value.upper()

    @field_validator("subdivision")
    @classmethod
    def _subdivision(cls, value: str | None, info: ValidationInfo) -> str | None:
        # country is declared first, so it is checked by now (absent if it failed).
        if value is None or "country" not in info.data:
            return value  # a bad country is reported on its own
        country = info.data["country"]
        if country is None:
            raise ValueError(f"a subdivision ({value!r}) needs [schedule] country")
        from storage.calendars import check_place  # loads the models: only for a subdivision

        try:
            return check_place(country, value)[1]
        except InvalidValue as exc:
            raise ValueError(str(exc)) from None

    @field_validator("working_days")
    @classmethod
    def _days(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("at least one working day")
        if len(set(value)) != len(value):
            raise ValueError("each day once")
        return value

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        match = _HOURS.match(value)
        if not match:
            raise ValueError(f"a range 'HH:MM-HH:MM' such as '09:00-17:00', got {value!r}")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59 or (h1, m1) >= (h2, m2):
            raise ValueError(f"a start before the end within one day, got {value!r}")
        return value

    @property
    def window(self) -> tuple[time, time]:
        return parse_hours(self.hours)


class ImportsConfig(Section):
    """What one imported file may cost ([imports]); past a bound it is refused whole."""

    max_cell_chars: int = Field(default=ImportLimits.max_cell_chars, ge=1, le=10_000_000)
    max_rows: int = Field(default=ImportLimits.max_rows, ge=2, le=100_000_000)
    max_unpacked_mb: int = Field(default=ImportLimits.max_unpacked_mb, ge=1, le=1_000_000)
    max_strings_mb: int = Field(default=ImportLimits.max_strings_mb, ge=1, le=1_000_000)
    max_parts_mb: int = Field(default=ImportLimits.max_parts_mb, ge=1, le=1_000_000)
    max_parts_elements: int = Field(default=ImportLimits.max_parts_elements, ge=1_000, le=1_000_000_000)
    # A file sent in chat to be imported: over this it is refused when sent
    # (Telegram gives a bot 20 MB at most, whatever this says).
    max_file_mb: int = Field(default=50, ge=1, le=2000)
    # Where a file sent in chat waits between its preview and the Import
    # button (a folder, made if missing). Unset: beside the evidence store,
    # its name and "-imports" (./nmrf-evidence -> ./nmrf-evidence-imports).
    staging: str | None = Field(default=None, min_length=1)

    @property
    def limits(self) -> ImportLimits:
        return ImportLimits(
            self.max_cell_chars, self.max_rows, self.max_unpacked_mb, self.max_strings_mb,
            self.max_parts_mb, self.max_parts_elements,
        )

    @property
    def max_file_bytes(self) -> int:
        return self.max_file_mb * 1024 * 1024

    def staging_path(self, evidence_store: Path) -> Path:
        """The staging folder as configured, or its default beside the evidence store."""
        if self.staging is not None:
            return Path(self.staging).expanduser()
        return evidence_store.with_name(evidence_store.name + "-imports")


class PrioritiesConfig(Section):
    """How the Guide's five criteria make a priority ([priorities]).

    A key left out (None) is storage.priorities.PriorityRules' own default,
    looked up only by a file that sets a threshold and by `rules`: that module
    loads every model, a quarter of a second that each command would pay
    before its work, even one that never rates a recommendation (recommendations
    list, tests/test_startup.py)."""

    # Criteria met for high, and for medium; fewer is low. At most one per criterion.
    high_at: int | None = Field(default=None, ge=1)
    medium_at: int | None = Field(default=None, ge=1)
    # Recurrence: a confirmed linked group spanning this many mechanisms, or
    # this many recommending States on a recommendation or across its group.
    recurrence_mechanisms: int | None = Field(default=None, ge=2, le=100)
    recurrence_states: int | None = Field(default=None, ge=2, le=1000)
    # Affected persons that count as marginalised groups, matched word for
    # word, case aside, within the tag ("women" matches "Women & girls").
    marginalised: list[Annotated[str, Field(min_length=1)]] | None = Field(default=None, min_length=1)

    @field_validator("high_at", "medium_at")
    @classmethod
    def _at_most_the_criteria(cls, value: int | None) -> int | None:
        from storage.priorities import CRITERIA

        if value is not None and value > len(CRITERIA):
            # pydantic's own error for le=, as the other bounds report theirs.
            raise PydanticCustomError("less_than_equal", "Input should be less than or equal to {le}", {"le": len(CRITERIA)})
        return value

    @model_validator(mode="after")
    def _medium_below_high(self) -> PrioritiesConfig:
        if self.medium_at is not None or self.high_at is not None:
            from storage.priorities import PriorityRules

            high = PriorityRules.high_at if self.high_at is None else self.high_at
            medium = PriorityRules.medium_at if self.medium_at is None else self.medium_at
            if medium > high:
                raise ValueError(f"medium_at ({medium}) is at most high_at ({high})")
        return self

    @property
    def rules(self) -> PriorityRules:
        from storage.priorities import PriorityRules

        given = {
            "high_at": self.high_at, "medium_at": self.medium_at, "recurrence_mechanisms": self.recurrence_mechanisms,
            "recurrence_states": self.recurrence_states, "marginalised": None if self.marginalised is None else tuple(self.marginalised),
        }
        return PriorityRules(**{key: value for key, value in given.items() if value is not None})


class ReportsConfig(Section):
    """What the compiled outputs hold ([reports])."""

    # The public progress page (report progress --public, /public and
    # /public.json) shows only input a validator approved; the secretariat's
    # own records count as they are.
    public_requires_validation: bool = True


class PublicConfig(Section):
    """The live public tracker ([public]): /public and /public.json on [http]."""

    enabled: bool = False
    # The page's languages; the first is served at /public, each at /public/LANG.
    languages: list[Language] = Field(default_factory=lambda: [DEFAULT_LANGUAGE], min_length=1)

    @field_validator("languages")
    @classmethod
    def _each_once(cls, value: list[str]) -> list[str]:
        twice = sorted({code for code in value if value.count(code) > 1})
        if twice:
            raise ValueError(f"each language once; given more than once: {', '.join(twice)}")
        return value


class SecretariatUserConfig(Section):
    name: str = Field(min_length=1)
    email: Email
    language: Language = DEFAULT_LANGUAGE
    # Defaults to [schedule] timezone.
    timezone: TimeZoneName | None = None
    telegram_user_id: int | None = None
    slack_user_id: str | None = None


class SecretariatConfig(Section):
    users: list[SecretariatUserConfig] = Field(default_factory=list)


class Config(Section):
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    telegram: TelegramConfig = Field(default_factory=TelegramConfig)
    slack: SlackConfig = Field(default_factory=SlackConfig)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    secretariat: SecretariatConfig = Field(default_factory=SecretariatConfig)
    http: HttpConfig = Field(default_factory=HttpConfig)
    reminders: RemindersConfig = Field(default_factory=RemindersConfig)
    conversation: ConversationConfig = Field(default_factory=ConversationConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)
    imports: ImportsConfig = Field(default_factory=ImportsConfig)
    evidence: EvidenceConfig = Field(default_factory=EvidenceConfig)
    reports: ReportsConfig = Field(default_factory=ReportsConfig)
    priorities: PrioritiesConfig = Field(default_factory=PrioritiesConfig)
    public: PublicConfig = Field(default_factory=PublicConfig)

    @model_validator(mode="after")
    def _modes_have_what_they_need(self) -> Config:
        if self.telegram.token and self.telegram.mode == "webhook" and not self.telegram.webhook_url:
            raise ValueError("telegram.mode = \"webhook\" needs telegram.webhook_url")
        if self.slack.bot_token and self.slack.mode == "socket" and not self.slack.app_token:
            raise ValueError("slack.mode = \"socket\" needs slack.app_token (xapp-..., or NMRF_SLACK_APP_TOKEN)")
        if self.slack.bot_token and self.slack.mode == "http" and not self.slack.signing_secret:
            raise ValueError("slack.mode = \"http\" needs slack.signing_secret (or NMRF_SLACK_SIGNING_SECRET)")
        return self


def load_config(
    path: Path | None = None, *, environ: Mapping[str, str] | None = None
) -> Config:
    """Read ``path`` (or ./config.toml if present), apply the environment, validate.

    An explicitly named file must exist; the default one may be absent, and
    then the built-in defaults apply (SQLite at ./nmrf.db).
    """
    environ = os.environ if environ is None else environ
    # Known before anything can fail, so no error line or traceback shows them.
    remember(_secrets_in({section: {key: environ.get(var)} for var, (section, key) in ENV_OVERRIDES.items()}))
    source = path or DEFAULT_CONFIG_FILE
    raw: dict[str, Any] = {}
    if source.exists():
        try:
            raw = tomllib.loads(source.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigurationError(f"{source}: not valid TOML: {exc}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigurationError(f"{source}: cannot read: {exc}") from None
    elif path is not None:
        raise ConfigurationError(f"{source}: no such configuration file")

    from_env: dict[tuple[str, str], str] = {}
    for var, (section, key) in ENV_OVERRIDES.items():
        value = environ.get(var)
        if value:
            section_table = raw.setdefault(section, {})
            if isinstance(section_table, dict):
                section_table[key] = value
                from_env[(section, key)] = var

    remember(_secrets_in(raw))
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        raise ConfigurationError(mask(_describe(exc, source, from_env))) from None


SECRET_KEYS = ("token", "bot_token", "app_token", "signing_secret")


def _secrets_in(raw: Mapping[str, Any]) -> list[str]:
    """Every secret the raw configuration holds, whatever its type (a token
    given as a list is still a token), and the database URL's password."""
    found: list[str] = []

    def strings(value: Any) -> list[str]:
        if isinstance(value, str):
            return [value]
        if isinstance(value, (list, tuple)):
            return [s for v in value for s in strings(v)]
        if isinstance(value, dict):
            return [s for v in value.values() for s in strings(v)]
        return [] if value is None else [str(value)]

    for section in ("telegram", "slack"):
        table = raw.get(section)
        if isinstance(table, dict):
            for key in SECRET_KEYS:
                for secret in strings(table.get(key)):
                    # A Telegram token's part after the bot's id may be printed alone.
                    found += [secret, secret.partition(":")[2]] if key == "token" else [secret]
    database = raw.get("database")
    for url in strings(database.get("url") if isinstance(database, dict) else database):
        try:
            password = make_url(url).password
        except (ArgumentError, ValueError):
            continue
        if password:
            found.append(str(password))
    return [s for s in found if s]


def _describe(exc: ValidationError, source: Path, from_env: dict[tuple[str, str], str]) -> str:
    lines = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        key = _dotted(loc)
        where = str(source)
        if loc[:2] in from_env:
            where = f"environment variable {from_env[loc[:2]]}"
        if error["type"] == "extra_forbidden":
            allowed = ", ".join(_allowed_keys(loc[:-1])) or "none"
            lines.append(f"{where}: unknown key {key!r} (allowed here: {allowed})")
            continue
        message = error["msg"].removeprefix("Value error, ")
        if not loc:
            # A rule across keys: the message names them itself.
            lines.append(f"{where}: {message}")
            continue
        if error["type"] == "value_error":
            message = f"expected {message}"
        elif not _is_secret(loc) and len(loc) > 1 and error["type"] not in ("missing",):
            # A whole section given wrongly is not echoed: it may be a misplaced token.
            message = f"{message} (got {error.get('input')!r})"
        lines.append(f"{where}: {key}: {message}")
    return "\n".join(lines)


def _dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _is_secret(loc: tuple[Any, ...]) -> bool:
    return any(str(part) in ("token", "bot_token", "app_token", "signing_secret") for part in loc)


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    model: Any = Config
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        if field is None:
            return []
        annotation = field.annotation
        args = getattr(annotation, "__args__", None)
        model = args[0] if args else annotation
    return list(getattr(model, "model_fields", {}))

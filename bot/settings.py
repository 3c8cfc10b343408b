"""The settings of the running bot, read from the environment and an optional `.env` file.

Every variable the bot reads is listed here, with its default and unit:

| variable | default | meaning |
| --- | --- | --- |
| `TELEGRAM_BOT_TOKEN` | required | the token from @BotFather; never logged |
| `LYRICBOT_BOT_API_URL` | `https://api.telegram.org` | base URL of the Bot API server; point it at a self-hosted or test server |
| `LYRICBOT_DATA_DIR` | `var` | folder for everything the bot generates |
| `LYRICBOT_LYRICS` | `<data dir>/lyrics.txt` | the prepared corpus that `--prepare` builds and training reads |
| `LYRICBOT_CORPUS` | unset | a raw corpus (folder or .zip) that `--prepare` uses in place of the default download |
| `LYRICBOT_CHECKPOINT` | `<data dir>/checkpoints/current.pt` | the checkpoint the bot serves |
| `LYRICBOT_DATABASE_URL` | `sqlite:///<data dir>/lyricbot.sqlite3` | any SQLAlchemy URL; PostgreSQL works too |
| `LYRICBOT_ADMIN_IDS` | empty | comma-separated Telegram numeric user ids allowed to run admin commands |
| `LYRICBOT_WEBHOOK_URL` | unset | public HTTPS URL of the webhook; when set, the bot uses a webhook instead of polling |
| `LYRICBOT_WEBHOOK_LISTEN` | `127.0.0.1` | address the webhook server binds to |
| `LYRICBOT_WEBHOOK_PORT` | `8443` | port the webhook server binds to |
| `LYRICBOT_WEBHOOK_SECRET` | unset | secret token Telegram sends with each webhook request (1-256 characters of A-Z, a-z, 0-9, `_`, `-`) |
| `LYRICBOT_RATE_LIMIT` | `20` | prompts one user may send per rate window; 0 turns the limit off |
| `LYRICBOT_RATE_WINDOW` | `60` | length of the rate window in seconds |
| `LYRICBOT_API_MAX_RATE` | `30` | Bot API requests per second across all chats; 0 turns the client-side limit off |
| `LYRICBOT_BATCH_SIZE` | `64` | most prompts in one generation pass; 1 turns batching off |
| `LYRICBOT_BATCH_WAIT_MS` | `5` | how long, in milliseconds, the worker waits for more prompts before a pass |
| `LYRICBOT_MAX_PROMPT_CHARS` | `8` | most Han characters in one prompt (the acrostic limit) |
| `LYRICBOT_TRAIN_PRESET` | `auto` | training preset `--prepare` uses: `cpu`, `gpu`, `auto` (gpu when CUDA is available), or `tiny` for a quick smoke run (about 2 minutes on the default corpus, measured once on 2 CPU cores) |
| `LYRICBOT_TORCH_THREADS` | `1` | CPU threads the generation worker gives torch; one leaves the other core to the event loop and the database |
| `LYRICBOT_LOG_LEVEL` | `INFO` | level of the bot's own log lines |

A missing or invalid value raises `SettingsError`, whose message names the variable and
the expected value.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values

from model.layout import CHECKPOINT_VARIABLE, DATA_DIR_VARIABLE, DEFAULT_DATA_DIR, current_checkpoint

OFFICIAL_BOT_API_URL = "https://api.telegram.org"

# Telegram's documented rule for the webhook secret token.
_WEBHOOK_SECRET_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,256}")

# A token from @BotFather is "<bot id>:<secret>"; checking the shape catches pasting mistakes.
_TOKEN_PATTERN = re.compile(r"\d+:[A-Za-z0-9_-]+")

_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_TRAIN_PRESETS = ("auto", "cpu", "gpu", "tiny")


class SettingsError(ValueError):
    """A setting is missing or invalid; the message names the variable."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable
        self.problem = problem


@dataclass(frozen=True)
class Settings:
    """Everything the running bot is configured with."""

    token: str = field(repr=False)
    bot_api_url: str = OFFICIAL_BOT_API_URL
    data_dir: Path = Path("var")
    lyrics_path: Path = Path("var/lyrics.txt")
    corpus_path: Path | None = None
    checkpoint_path: Path = Path("var/checkpoints/current.pt")
    database_url: str = "sqlite:///var/lyricbot.sqlite3"
    admin_ids: frozenset[int] = frozenset()
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    webhook_secret: str | None = field(default=None, repr=False)
    rate_limit: int = 20
    rate_window_s: float = 60.0
    api_max_rate: float = 30.0
    batch_size: int = 64
    batch_wait_ms: float = 5.0
    max_prompt_chars: int = 8
    torch_threads: int = 1
    train_preset: str = "auto"
    log_level: str = "INFO"

    @property
    def use_webhook(self) -> bool:
        """Whether updates arrive by webhook instead of long polling."""
        return self.webhook_url is not None

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, env_file: Path | str | None = ".env"
    ) -> Settings:
        """Read the settings from `environ` (default `os.environ`) over the values in `env_file`."""
        return _parse(read_environment(environ, env_file))


def read_environment(
    environ: Mapping[str, str] | None = None, env_file: Path | str | None = ".env"
) -> dict[str, str]:
    """Return the variables of `env_file`, when it exists, overridden by `environ` (default `os.environ`)."""
    values: dict[str, str] = {}
    if env_file is not None and Path(env_file).is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ if environ is None else environ)
    return values


def _parse(values: Mapping[str, str]) -> Settings:
    """Build `Settings` from raw strings, checking each one."""
    reader = SettingsReader(values)

    token = reader.required("TELEGRAM_BOT_TOKEN")
    if not _TOKEN_PATTERN.fullmatch(token):
        raise SettingsError(
            "TELEGRAM_BOT_TOKEN",
            "invalid token shape; expected '<digits>:<letters, digits, _ or ->' as @BotFather issues it",
        )

    data_dir = Path(reader.text(DATA_DIR_VARIABLE, DEFAULT_DATA_DIR))
    webhook_url = reader.optional("LYRICBOT_WEBHOOK_URL")
    if webhook_url is not None and not webhook_url.startswith(("https://", "http://")):
        raise SettingsError("LYRICBOT_WEBHOOK_URL", f"invalid URL {webhook_url!r}; expected http(s)://...")
    webhook_secret = reader.optional("LYRICBOT_WEBHOOK_SECRET")
    if webhook_secret is not None and not _WEBHOOK_SECRET_PATTERN.fullmatch(webhook_secret):
        raise SettingsError(
            "LYRICBOT_WEBHOOK_SECRET", "invalid secret; use 1-256 characters of A-Z, a-z, 0-9, _ and -"
        )

    corpus = reader.optional("LYRICBOT_CORPUS")
    database_url = reader.text("LYRICBOT_DATABASE_URL", f"sqlite:///{data_dir / 'lyricbot.sqlite3'}")
    _check_database_url(database_url)
    return Settings(
        token=token,
        bot_api_url=reader.url("LYRICBOT_BOT_API_URL", OFFICIAL_BOT_API_URL),
        data_dir=data_dir,
        lyrics_path=Path(reader.text("LYRICBOT_LYRICS", str(data_dir / "lyrics.txt"))),
        corpus_path=Path(corpus) if corpus is not None else None,
        checkpoint_path=Path(
            reader.text(CHECKPOINT_VARIABLE, str(current_checkpoint(data_dir)))
        ),
        database_url=database_url,
        admin_ids=reader.id_set("LYRICBOT_ADMIN_IDS"),
        webhook_url=webhook_url,
        webhook_listen=reader.text("LYRICBOT_WEBHOOK_LISTEN", "127.0.0.1"),
        webhook_port=reader.integer("LYRICBOT_WEBHOOK_PORT", 8443, minimum=1, maximum=65535),
        webhook_secret=webhook_secret,
        rate_limit=reader.integer("LYRICBOT_RATE_LIMIT", 20, minimum=0),
        rate_window_s=reader.number("LYRICBOT_RATE_WINDOW", 60.0, minimum=0.001),
        api_max_rate=reader.number("LYRICBOT_API_MAX_RATE", 30.0, minimum=0.0),
        batch_size=reader.integer("LYRICBOT_BATCH_SIZE", 64, minimum=1, maximum=4096),
        batch_wait_ms=reader.number("LYRICBOT_BATCH_WAIT_MS", 5.0, minimum=0.0),
        max_prompt_chars=reader.integer("LYRICBOT_MAX_PROMPT_CHARS", 8, minimum=1, maximum=64),
        torch_threads=reader.integer("LYRICBOT_TORCH_THREADS", 1, minimum=1, maximum=256),
        train_preset=reader.choice("LYRICBOT_TRAIN_PRESET", "auto", _TRAIN_PRESETS),
        log_level=reader.choice("LYRICBOT_LOG_LEVEL", "INFO", _LOG_LEVELS, upper=True),
    )


def _check_database_url(url: str) -> None:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        # The URL may hold a password, so the message does not repeat it.
        raise SettingsError(
            "LYRICBOT_DATABASE_URL",
            "invalid URL; expected e.g. sqlite:///var/lyricbot.sqlite3 or postgresql://user:password@host/db",
        ) from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise SettingsError(
            "LYRICBOT_DATABASE_URL", f"unsupported database {parsed.get_backend_name()!r}; use sqlite or postgresql"
        )


class SettingsReader:
    """Typed access to raw setting strings, used by every settings module. Each error names its variable."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = values

    def optional(self, name: str) -> str | None:
        value = self._values.get(name, "").strip()
        return value or None

    def required(self, name: str) -> str:
        value = self.optional(name)
        if value is None:
            raise SettingsError(name, "missing; set it in the environment or in .env")
        return value

    def text(self, name: str, default: str) -> str:
        value = self.optional(name)
        return default if value is None else value

    def url(self, name: str, default: str) -> str:
        value = self.text(name, default).rstrip("/")
        if not value.startswith(("https://", "http://")):
            raise SettingsError(name, f"invalid URL {value!r}; expected http(s)://host[:port]")
        return value

    def integer(self, name: str, default: int | None, *, minimum: int, maximum: int | None = None) -> int | None:
        """Parse an integer from `minimum` to `maximum` (no upper bound when None), or return `default` when unset."""
        raw = self.optional(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise SettingsError(name, f"invalid integer {raw!r}") from None
        if value < minimum or (maximum is not None and value > maximum):
            bounds = f"of at least {minimum}" if maximum is None else f"between {minimum} and {maximum}"
            raise SettingsError(name, f"{value} is out of range; use a value {bounds}")
        return value

    def number(self, name: str, default: float | None, *, minimum: float, above: bool = False) -> float | None:
        """Parse a finite number of at least `minimum` (strictly above it when `above`), or return `default` when unset."""
        raw = self.optional(name)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            raise SettingsError(name, f"invalid number {raw!r}") from None

        # written as "not in range" so that NaN, which fails every comparison, is rejected too
        in_range = value > minimum if above else value >= minimum
        if not in_range or value == float("inf"):
            bound = f"above {minimum}" if above else f"of at least {minimum}"
            raise SettingsError(name, f"{raw} is out of range; use a finite value {bound}")
        return value

    def choice(self, name: str, default: str, choices: tuple[str, ...], *, upper: bool = False) -> str:
        value = self.text(name, default)
        value = value.upper() if upper else value.lower()
        if value not in choices:
            raise SettingsError(name, f"invalid value {value!r}; use one of {', '.join(choices)}")
        return value

    def id_set(self, name: str) -> frozenset[int]:
        raw = self.optional(name)
        if raw is None:
            return frozenset()
        ids = set()
        for part in raw.split(","):
            part = part.strip()
            if not part:
                continue
            if not re.fullmatch(r"-?\d+", part):
                raise SettingsError(
                    name, f"invalid id {part!r}; list numeric Telegram user ids, not usernames"
                )
            ids.add(int(part))
        return frozenset(ids)

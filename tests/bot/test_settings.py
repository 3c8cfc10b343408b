"""Settings: defaults, parsing and the variable named by each error."""

from pathlib import Path

import pytest

from bot.settings import OFFICIAL_BOT_API_URL, Settings, SettingsError

TOKEN = "123456:test-token_ABC"


def settings_from(**values: str) -> Settings:
    return Settings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN, **values}, env_file=None)


def test_defaults_follow_data_dir():
    settings = settings_from(LYRICBOT_DATA_DIR="/tmp/lyricbot-data")
    assert settings.bot_api_url == OFFICIAL_BOT_API_URL
    assert settings.lyrics_path == Path("/tmp/lyricbot-data/lyrics.txt")
    assert settings.checkpoint_path == Path("/tmp/lyricbot-data/checkpoints/current.pt")
    assert settings.database_url == "sqlite:////tmp/lyricbot-data/lyricbot.sqlite3"
    assert settings.admin_ids == frozenset()
    assert not settings.use_webhook


def test_every_value_parsed():
    settings = settings_from(
        LYRICBOT_BOT_API_URL="http://127.0.0.1:8081/",
        LYRICBOT_LYRICS="/x/l.txt",
        LYRICBOT_CORPUS="/x/corpus.zip",
        LYRICBOT_CHECKPOINT="/x/c.pt",
        LYRICBOT_DATABASE_URL="postgresql://u:p@127.0.0.1/db",
        LYRICBOT_ADMIN_IDS=" 42, 7 ,",
        LYRICBOT_WEBHOOK_URL="https://bot.example/hook",
        LYRICBOT_WEBHOOK_PORT="8000",
        LYRICBOT_WEBHOOK_SECRET="s3cret_-",
        LYRICBOT_RATE_LIMIT="0",
        LYRICBOT_RATE_WINDOW="2.5",
        LYRICBOT_API_MAX_RATE="0",
        LYRICBOT_BATCH_SIZE="1",
        LYRICBOT_BATCH_WAIT_MS="0",
        LYRICBOT_MAX_PROMPT_CHARS="4",
        LYRICBOT_TRAIN_PRESET="CPU",
        LYRICBOT_LOG_LEVEL="debug",
    )

    assert settings.bot_api_url == "http://127.0.0.1:8081"
    assert settings.corpus_path == Path("/x/corpus.zip")
    assert settings.admin_ids == frozenset({42, 7})
    assert settings.use_webhook
    assert settings.webhook_port == 8000
    assert settings.rate_limit == 0
    assert settings.rate_window_s == 2.5
    assert settings.batch_size == 1
    assert settings.batch_wait_ms == 0.0
    assert settings.max_prompt_chars == 4
    assert settings.train_preset == "cpu"
    assert settings.log_level == "DEBUG"


def test_env_file_read_and_overridden(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text(f"TELEGRAM_BOT_TOKEN={TOKEN}\nLYRICBOT_BATCH_SIZE=3\nLYRICBOT_RATE_LIMIT=9\n")
    settings = Settings.from_env({"LYRICBOT_RATE_LIMIT": "5"}, env_file=env_file)
    assert settings.token == TOKEN
    assert settings.batch_size == 3
    assert settings.rate_limit == 5


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("LYRICBOT_BOT_API_URL", "127.0.0.1:8081"),
        ("LYRICBOT_ADMIN_IDS", "42,@someone"),
        ("LYRICBOT_WEBHOOK_URL", "bot.example/hook"),
        ("LYRICBOT_WEBHOOK_PORT", "70000"),
        ("LYRICBOT_WEBHOOK_SECRET", "has space"),
        ("LYRICBOT_RATE_LIMIT", "-1"),
        ("LYRICBOT_RATE_WINDOW", "0"),
        ("LYRICBOT_RATE_WINDOW", "nan"),
        ("LYRICBOT_API_MAX_RATE", "fast"),
        ("LYRICBOT_BATCH_SIZE", "0"),
        ("LYRICBOT_BATCH_WAIT_MS", "-5"),
        ("LYRICBOT_MAX_PROMPT_CHARS", "eight"),
        ("LYRICBOT_TRAIN_PRESET", "tpu"),
        ("LYRICBOT_LOG_LEVEL", "LOUD"),
        ("LYRICBOT_DATABASE_URL", "not a url"),
        ("LYRICBOT_DATABASE_URL", "mysql://u:p@127.0.0.1/db"),
    ],
)
def test_invalid_value_names_variable(variable, value):
    with pytest.raises(SettingsError) as caught:
        settings_from(**{variable: value})
    assert caught.value.variable == variable
    assert str(caught.value).startswith(variable)


@pytest.mark.parametrize("token", ["", "   ", "not-a-token", "123:abc def"])
def test_missing_or_malformed_token(token):
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"TELEGRAM_BOT_TOKEN": token}, env_file=None)
    assert caught.value.variable == "TELEGRAM_BOT_TOKEN"


def test_token_absent_from_repr():
    settings = settings_from(LYRICBOT_WEBHOOK_SECRET="hidden_secret")
    assert TOKEN not in repr(settings)
    assert "hidden_secret" not in repr(settings)

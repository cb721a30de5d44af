"""Configuration sources, validation messages and secrets."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from rtserver.secret_keys import load_secret_keys
from rtserver.settings import ConfigError, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in list(os.environ):
        if key.startswith("RTSERVER_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("RTSERVER_DATA_DIR", str(tmp_path / "data"))


def test_defaults_come_from_default_toml() -> None:
    settings = load_settings()
    assert settings.port == 8080
    assert settings.socketio_polling is False
    assert settings.effective_database_url.startswith("sqlite+aiosqlite:///")
    assert settings.uses_sqlite


def test_config_file_then_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "site.toml"
    config.write_text('port = 9001\nlog_level = "DEBUG"\n')
    monkeypatch.setenv("RTSERVER_CONFIG", str(config))
    assert load_settings().port == 9001
    monkeypatch.setenv("RTSERVER_PORT", "9002")
    settings = load_settings()
    assert (settings.port, settings.log_level) == (9002, "DEBUG")


def test_origins_from_env_as_comma_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RTSERVER_ALLOWED_ORIGINS", "https://a.example, https://b.example")
    assert load_settings().allowed_origins == ["https://a.example", "https://b.example"]


@pytest.mark.parametrize(
    ("env", "value", "named"),
    [
        ("RTSERVER_PORT", "eighty", "port"),
        ("RTSERVER_PORT", "70000", "port"),
        ("RTSERVER_DATABASE_URL", "mysql://x", "database_url"),
        ("RTSERVER_ALLOWED_ORIGINS", "console.example", "allowed_origins"),
        ("RTSERVER_ACCESS_TOKEN_TTL_SECONDS", "5", "access_token_ttl_seconds"),
        ("RTSERVER_REDIS_PROBE_SECONDS", "0.5", "redis_probe_seconds"),
        ("RTSERVER_REDIS_PROBE_SECONDS", "soon", "redis_probe_seconds"),
    ],
)
def test_invalid_values_name_the_key(
    monkeypatch: pytest.MonkeyPatch, env: str, value: str, named: str
) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert named in str(caught.value)


def test_unknown_key_in_file_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "site.toml"
    config.write_text("prot = 80\n")
    monkeypatch.setenv("RTSERVER_CONFIG", str(config))
    with pytest.raises(ConfigError, match="prot"):
        load_settings()


def test_missing_config_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RTSERVER_CONFIG", "/nonexistent/site.toml")
    with pytest.raises(ConfigError, match="RTSERVER_CONFIG"):
        load_settings()


def test_dev_secrets_are_generated_once_private(tmp_path: Path) -> None:
    settings = load_settings()
    first = load_secret_keys(settings)
    second = load_secret_keys(settings)
    assert first == second
    assert len(first.token_signing_key) == 32 and first.token_signing_key != first.data_key
    for name in ("token_signing_key", "data_key", "turn_secret"):
        mode = stat.S_IMODE((tmp_path / "data" / "secrets" / name).stat().st_mode)
        assert mode == 0o600
    assert "redacted" in repr(first)


def test_production_requires_explicit_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RTSERVER_ENVIRONMENT", "production")
    with pytest.raises(ConfigError, match="token_signing_key"):
        load_secret_keys(load_settings())


def test_secrets_from_env_and_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import base64

    key = base64.urlsafe_b64encode(b"k" * 32).decode()
    monkeypatch.setenv("RTSERVER_ENVIRONMENT", "production")
    monkeypatch.setenv("RTSERVER_TOKEN_SIGNING_KEY", key)
    data_key_file = tmp_path / "data_key"
    data_key_file.write_text(base64.urlsafe_b64encode(b"d" * 32).decode() + "\n")
    monkeypatch.setenv("RTSERVER_DATA_KEY_FILE", str(data_key_file))
    monkeypatch.setenv("RTSERVER_TURN_SECRET", "turn-shared-secret")
    keys = load_secret_keys(load_settings())
    assert keys.token_signing_key == b"k" * 32 and keys.data_key == b"d" * 32
    assert keys.turn_secret == "turn-shared-secret"


@pytest.mark.parametrize("bad", ["not base64 !!", "c2hvcnQ="])
def test_bad_key_material(monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    monkeypatch.setenv("RTSERVER_TOKEN_SIGNING_KEY", bad)
    with pytest.raises(ConfigError, match="token_signing_key"):
        load_secret_keys(load_settings())


def test_misspelled_environment_setting_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RTSERVER_DATABSE_URL", "postgresql+asyncpg://x/y")
    with pytest.raises(ConfigError, match="RTSERVER_DATABSE_URL"):
        load_settings()


def test_trusted_proxies_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RTSERVER_TRUSTED_PROXIES", "10.0.0.1, 10.0.0.2")
    assert load_settings().trusted_proxies == ["10.0.0.1", "10.0.0.2"]


def test_ice_uris_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RTSERVER_TURN_URIS", "http://turn.example.org")
    with pytest.raises(ConfigError, match="turn_uris"):
        load_settings()
    monkeypatch.setenv("RTSERVER_TURN_URIS", "turn:a:3478?transport=udp, turns:a:5349")
    assert load_settings().turn_uris == ["turn:a:3478?transport=udp", "turns:a:5349"]

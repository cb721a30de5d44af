"""Configuration: config/default.toml, then the file named by RTSERVER_CONFIG, then RTSERVER_* env.

`config/default.toml` is the single source of defaults; every key is documented there and in
`docs/configuration.md`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_FILE = PROJECT_ROOT / "config" / "default.toml"


class ConfigError(Exception):
    """The configuration is invalid; the message names the offending key."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RTSERVER_", extra="forbid", frozen=True)

    environment: Literal["development", "production"]
    host: str
    port: int = Field(ge=0, le=65535)
    public_url: str
    data_dir: Path
    console_dir: Path
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"]

    database_url: str
    database_echo: bool
    redis_url: str
    redis_prefix: str = Field(min_length=1, max_length=64)
    redis_probe_seconds: float = Field(ge=1, le=300)

    allowed_origins: Annotated[list[str], NoDecode]
    trusted_proxies: Annotated[list[str], NoDecode]
    socketio_polling: bool
    socket_auth_timeout_seconds: float = Field(gt=0, le=60)
    socket_reauth_grace_seconds: float = Field(gt=0, le=600)
    socket_ping_interval_seconds: float = Field(gt=0, le=300)
    socket_ping_timeout_seconds: float = Field(gt=0, le=300)
    socket_max_message_bytes: int = Field(ge=1024, le=16 * 1024 * 1024)
    rest_max_body_bytes: int = Field(ge=1024, le=64 * 1024 * 1024)
    shutdown_grace_seconds: float = Field(ge=0, le=120)

    chat_max_envelope_bytes: int = Field(ge=1024, le=1024 * 1024)
    chat_rate_per_connection: float = Field(gt=0)
    chat_burst_per_connection: int = Field(ge=1)
    chat_max_per_user_per_minute: int = Field(ge=1)
    chat_sync_page: int = Field(ge=10, le=1000)
    chat_commit_max_batch: int = Field(ge=1, le=10_000)
    chat_commit_linger_ms: float = Field(ge=0, le=50)
    chat_view_cache_seconds: float = Field(ge=0, le=300)
    typing_ttl_seconds: float = Field(gt=0, le=60)
    presence_ttl_seconds: int = Field(ge=10, le=3600)

    turn_uris: Annotated[list[str], NoDecode]
    stun_uris: Annotated[list[str], NoDecode]
    turn_credential_ttl_seconds: int = Field(ge=60, le=24 * 3600)
    turn_prefer_relay: bool
    call_ring_timeout_seconds: float = Field(gt=0, le=300)
    call_reconnect_grace_seconds: float = Field(gt=0, le=600)
    call_sweep_seconds: float = Field(gt=0, le=600)
    call_events_per_second: float = Field(gt=0)
    call_events_burst: int = Field(ge=1)

    access_token_ttl_seconds: int = Field(ge=30, le=3600)
    refresh_token_ttl_days: int = Field(ge=1, le=365)

    crisis_country_default: str = Field(pattern=r"^[A-Z]{2}$")
    crisis_resources_file: str
    screening_max_submissions_per_day: int = Field(ge=1, le=1000)

    password_min_length: int = Field(ge=8, le=128)
    password_hash_concurrency: int = Field(ge=1, le=64)
    login_throttle_window_seconds: int = Field(ge=1)
    login_max_failures_per_account: int = Field(ge=1)
    login_max_attempts_per_ip: int = Field(ge=1)

    session_join_early_minutes: int = Field(ge=0, le=120)
    late_cancel_hours: float = Field(ge=0, le=24 * 30)
    booking_requires_confirmation: bool
    slot_search_max_days: int = Field(ge=1, le=366)
    slot_search_max_results: int = Field(ge=1, le=10_000)

    token_signing_key: SecretStr | None = None
    token_signing_key_file: Path | None = None
    data_key: SecretStr | None = None
    data_key_file: Path | None = None
    turn_secret: SecretStr | None = None
    turn_secret_file: Path | None = None

    @field_validator("allowed_origins", "trusted_proxies", "turn_uris", "stun_uris", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("allowed_origins")
    @classmethod
    def _origins_are_urls(cls, value: list[str]) -> list[str]:
        for origin in value:
            if not origin.startswith(("http://", "https://")) or origin.endswith("/"):
                raise ValueError(f"{origin!r} is not an origin like https://console.example.org")
        return value

    @field_validator("turn_uris", "stun_uris")
    @classmethod
    def _ice_uris(cls, value: list[str]) -> list[str]:
        for uri in value:
            if not uri.startswith(("turn:", "turns:", "stun:", "stuns:")):
                raise ValueError(f"{uri!r} is not a turn:, turns:, stun: or stuns: URI")
        return value

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if value and not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @field_validator("redis_url")
    @classmethod
    def _known_redis(cls, value: str) -> str:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        extra_file = os.environ.get("RTSERVER_CONFIG")
        if extra_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(extra_file)))
        sources.append(TomlConfigSettingsSource(settings_cls, toml_file=DEFAULT_CONFIG_FILE))
        return tuple(sources)

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.data_dir / 'rtserver.db'}"

    @property
    def uses_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")


def load_settings(**overrides: Any) -> Settings:
    """Load and validate the configuration; raise ConfigError naming every bad key."""
    known = {f"RTSERVER_{name.upper()}" for name in Settings.model_fields} | {"RTSERVER_CONFIG"}
    unknown = sorted(
        key
        for key in os.environ
        if key.startswith("RTSERVER_") and key not in known and not key.startswith("RTSERVER_TEST_")
    )
    if unknown:
        raise ConfigError(f"unknown setting(s) in the environment: {', '.join(unknown)}")
    extra_file = os.environ.get("RTSERVER_CONFIG")
    if extra_file and not Path(extra_file).is_file():
        raise ConfigError(f"RTSERVER_CONFIG: no such file {extra_file}")
    if not DEFAULT_CONFIG_FILE.is_file():
        raise ConfigError(f"default configuration missing: {DEFAULT_CONFIG_FILE}")
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(f"invalid configuration: {problems}") from exc

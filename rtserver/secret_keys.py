"""Server secrets: from the environment or a file; in development generated once into data_dir.

Nothing here is ever logged. Keys are 32 random bytes, written as URL-safe base64.
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass
from pathlib import Path

import nacl.utils
from pydantic import SecretStr

from rtserver.settings import ConfigError, Settings

KEY_BYTES = 32


@dataclass(frozen=True, repr=False)
class SecretKeys:
    token_signing_key: bytes
    data_key: bytes
    turn_secret: str

    def __repr__(self) -> str:
        return "SecretKeys(<redacted>)"


def load_secret_keys(settings: Settings) -> SecretKeys:
    return SecretKeys(
        token_signing_key=_decode_key(
            "token_signing_key",
            _resolve(
                settings,
                "token_signing_key",
                settings.token_signing_key,
                settings.token_signing_key_file,
            ),
        ),
        data_key=_decode_key(
            "data_key", _resolve(settings, "data_key", settings.data_key, settings.data_key_file)
        ),
        turn_secret=_resolve(
            settings, "turn_secret", settings.turn_secret, settings.turn_secret_file
        ),
    )


def _resolve(settings: Settings, name: str, value: SecretStr | None, file: Path | None) -> str:
    if value is not None:
        return value.get_secret_value().strip()
    if file is not None:
        try:
            return file.read_text().strip()
        except OSError as exc:
            raise ConfigError(f"{name}_file: cannot read {file}: {exc.strerror}") from exc
    if settings.environment == "production":
        raise ConfigError(
            f"{name}: required in production; set RTSERVER_{name.upper()} "
            f"or RTSERVER_{name.upper()}_FILE"
        )
    return _generated(settings.data_dir / "secrets" / name)


def _generated(path: Path) -> str:
    """Read a dev secret, creating it (mode 0600) on first use."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    value = base64.urlsafe_b64encode(nacl.utils.random(KEY_BYTES)).decode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process on this data_dir won the race
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value


def _decode_key(name: str, text: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ConfigError(f"{name}: not valid base64") from exc
    if len(raw) != KEY_BYTES:
        raise ConfigError(f"{name}: must decode to {KEY_BYTES} bytes, got {len(raw)}")
    return raw

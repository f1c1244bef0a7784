"""Where the client keeps its credentials, tokens and sync state, and how it reads them.

Credentials come from the environment (``ENLACE_URL``, ``ENLACE_CLIENT_ID``,
``ENLACE_CLIENT_SECRET``) or from the file ``enlace login`` writes,
``$ENLACE_CONFIG_DIR/credentials.json`` (default ``~/.config/enlace``). Every file that
holds a secret (the credentials, the token cache) is written with mode 0600 in a directory
of mode 0700, and replaced atomically so that a crash never leaves half a file.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_URL = "http://127.0.0.1:8000"


class ConfigError(Exception):
    """Missing or unusable configuration; the message says what to do."""


def config_dir() -> Path:
    """``$ENLACE_CONFIG_DIR``, else ``$XDG_CONFIG_HOME/enlace``, else ``~/.config/enlace``."""
    if explicit := os.environ.get("ENLACE_CONFIG_DIR"):
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "enlace"


def atomic_write(
    path: Path, write: Callable[[Any], object], *, binary: bool = False, private: bool = False
) -> None:
    """Write ``path`` through ``write(handle)`` into a temporary file beside it, then put it
    in place: a crash never leaves half a file. ``private``: mode 0600 in a 0700 folder."""
    path.parent.mkdir(mode=0o700 if private else 0o777, parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        if private:
            os.fchmod(fd, 0o600)
        if binary:
            with os.fdopen(fd, "wb") as raw:
                write(raw)
        else:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as text:
                write(text)
                text.flush()
                os.fsync(text.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def write_private(path: Path, data: Any) -> None:
    """Write ``data`` as JSON to ``path`` with mode 0600 (its directory 0700), atomically."""
    atomic_write(path, lambda handle: json.dump(data, handle, indent=2), private=True)


def read_private(path: Path) -> Any:
    """The JSON in ``path``, or None when it does not exist. A file other users can read
    is refused: its secret may already be known."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"{path} can be read by other users (mode {stat.S_IMODE(mode):o}); "
            f"run: chmod 600 {path}"
        )
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path} cannot be read ({exc}); run enlace login again") from None


@dataclass(frozen=True)
class Credentials:
    """Where the gateway is and who the client is."""

    url: str
    client_id: str
    client_secret: str
    source: str  # "environment" or the file's path

    @property
    def base_url(self) -> str:
        return self.url.rstrip("/")


def credentials_file() -> Path:
    return config_dir() / "credentials.json"


def load_credentials(url: str | None = None) -> Credentials:
    """The environment's credentials when both ``ENLACE_CLIENT_ID`` and
    ``ENLACE_CLIENT_SECRET`` are set, else the saved ones; ``url`` (a command-line option)
    overrides the gateway's address."""
    env_id = os.environ.get("ENLACE_CLIENT_ID")
    env_secret = os.environ.get("ENLACE_CLIENT_SECRET")
    if env_id and env_secret:
        base = url or os.environ.get("ENLACE_URL") or DEFAULT_URL
        return Credentials(base, env_id, env_secret, "environment")
    saved = read_private(credentials_file())
    if not isinstance(saved, dict) or not saved.get("client_id") or not saved.get("client_secret"):
        raise ConfigError(
            "No credentials: run `enlace login`, or set ENLACE_CLIENT_ID and "
            "ENLACE_CLIENT_SECRET (and ENLACE_URL)."
        )
    base = url or os.environ.get("ENLACE_URL") or saved.get("url") or DEFAULT_URL
    return Credentials(
        str(base), str(saved["client_id"]), str(saved["client_secret"]), str(credentials_file())
    )


def save_credentials(url: str, client_id: str, client_secret: str) -> Path:
    path = credentials_file()
    write_private(path, {"url": url, "client_id": client_id, "client_secret": client_secret})
    return path


def forget_credentials() -> bool:
    """Delete the saved credentials and cached tokens; True when there was something."""
    found = False
    for path in (credentials_file(), token_cache_file()):
        if path.exists():
            path.unlink()
            found = True
    return found


def token_cache_file() -> Path:
    return config_dir() / "tokens.json"

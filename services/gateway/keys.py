"""The gateway's signing keys: PEM files in a directory, rotated without restarting anything.

Each key is ``<kid>.pem``; kids start with a UTC timestamp, so the newest key sorts last and
signs new tokens. Every key still in the directory is published in the JWKS, so tokens signed
by a previous key keep verifying until ``prune`` removes it (only once every token it can
have signed has expired). Each process notices a rotation by the directory's mtime.
"""

from __future__ import annotations

import os
import secrets
import time
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

from shared.tokens import (
    PublicKey,
    SigningKey,
    generate_private_key_pem,
    public_key_from_jwk,
    signing_key,
)

RELOAD_EVERY_S = 1.0
_STAMP = "%Y%m%dT%H%M%S%f"


def new_kid(now: datetime | None = None) -> str:
    """A key id that sorts by creation time."""
    stamp = (now or datetime.now(UTC)).strftime(_STAMP)
    return f"{stamp}-{secrets.token_hex(4)}"


def kid_created_at(kid: str) -> datetime | None:
    """When the key was made, read from its kid (None for kids of another form)."""
    try:
        return datetime.strptime(kid.split("-", 1)[0], _STAMP).replace(tzinfo=UTC)
    except ValueError:
        return None


class KeyStore:
    """Signing keys from ``directory``; also the gateway's own KeySource for verification."""

    def __init__(self, directory: str | Path, *, alg: str = "RS256") -> None:
        self.directory = Path(directory)
        self.alg = alg
        self._keys: dict[str, SigningKey] = {}
        self._public: dict[str, PublicKey] = {}
        self._mtime: int | None = None
        self._checked = float("-inf")

    def ensure(self) -> None:
        """Create the directory and a first key when there is none (embedded default)."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.reload(force=True)
        if not self._keys:
            self.rotate()

    def reload(self, *, force: bool = False) -> None:
        """Re-read the directory if it changed (checked at most once a second)."""
        now = time.monotonic()
        if not force and now - self._checked < RELOAD_EVERY_S:
            return
        self._checked = now
        try:
            mtime = self.directory.stat().st_mtime_ns
        except FileNotFoundError:
            return
        if not force and mtime == self._mtime:
            return
        keys = {}
        for path in sorted(self.directory.glob("*.pem")):
            keys[path.stem] = signing_key(path.stem, path.read_bytes())
        self._keys = keys
        self._public = {kid: public_key_from_jwk(k.public_jwk) for kid, k in keys.items()}
        self._mtime = mtime

    def active(self) -> SigningKey:
        """The key that signs new tokens (the newest)."""
        self.reload()
        if not self._keys:
            raise RuntimeError(f"no signing key in {self.directory}")
        return self._keys[max(self._keys)]

    def jwks(self) -> dict[str, Any]:
        """The public JWK Set."""
        self.reload()
        return {"keys": [self._keys[kid].public_jwk for kid in sorted(self._keys)]}

    async def get(self, kid: str) -> PublicKey | None:
        """The public key named ``kid`` (KeySource for the gateway's own verifier)."""
        self.reload()
        return self._public.get(kid)

    def rotate(self) -> str:
        """Write a new key, which signs from now on; returns its kid."""
        kid = new_kid()
        path = self.directory / f"{kid}.pem"
        tmp = self.directory / f".{kid}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(generate_private_key_pem(self.alg))
        tmp.rename(path)
        self.reload(force=True)
        return kid

    def prune(self, *, token_lifetime_s: int, leeway_s: int) -> list[str]:
        """Delete keys that were replaced longer ago than any token they signed can live."""
        self.reload(force=True)
        kids = sorted(self._keys)
        now = datetime.now(UTC)
        removed = []
        for older, newer in pairwise(kids):
            replaced_at = kid_created_at(newer)
            if replaced_at is None:
                continue
            if (now - replaced_at).total_seconds() > token_lifetime_s + leeway_s:
                (self.directory / f"{older}.pem").unlink()
                removed.append(older)
        self.reload(force=True)
        return removed

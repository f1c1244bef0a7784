"""Enlace's Python client and the ``enlace`` command (see ``enlace.client``)."""

from enlace.auth import AuthError, TokenAuth, TokenCache
from enlace.client import ApiError, EnlaceClient
from enlace.config import ConfigError, Credentials, load_credentials

__all__ = [
    "ApiError",
    "AuthError",
    "ConfigError",
    "Credentials",
    "EnlaceClient",
    "TokenAuth",
    "TokenCache",
    "load_credentials",
]

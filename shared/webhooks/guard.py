"""The SSRF guard: a subscriber's URL must not reach into the service's own network.

Checked when a subscription is registered or changed, and again before every attempt (a
name that resolved to a public address at registration may resolve to a private one later:
DNS rebinding). An attempt then connects to the very address that was checked.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
MAX_URL_CHARS = 2000
# A registration waits this long for the name to resolve (a slow resolver is a 422).
RESOLVE_TIMEOUT_S = 5


class RefusedUrl(ValueError):
    """The URL may not be called (the message says why)."""


@dataclass(frozen=True)
class Target:
    """Where an attempt goes: the URL, the host it names, and the checked address to
    connect to (None for an allow-listed host, which is connected to by name)."""

    url: str
    host: str
    address: IPAddress | None


def forbidden(address: IPAddress) -> bool:
    """True for addresses a subscriber may not name: private, loopback, link-local,
    multicast, reserved, unspecified, shared (100.64/10), and IPv4 ones mapped into IPv6."""
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped or address.sixtofour
        if mapped is not None:
            return forbidden(mapped)
    return (
        not address.is_global
        or address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def parse(url: str, *, allow_http: bool) -> tuple[str, str, int]:
    """(scheme, host, port) of an acceptable URL, else ``RefusedUrl``."""
    if len(url) > MAX_URL_CHARS:
        raise RefusedUrl(f"The URL is longer than {MAX_URL_CHARS} characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise RefusedUrl("The URL is not valid.") from None
    schemes = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in schemes:
        raise RefusedUrl("The URL must use https." if not allow_http else "Use http or https.")
    if parts.username is not None or parts.password is not None:
        raise RefusedUrl("The URL must not carry a user name or password.")
    host = (parts.hostname or "").lower()
    if not host:
        raise RefusedUrl("The URL names no host.")
    if parts.fragment:
        raise RefusedUrl("The URL must not have a fragment.")
    return parts.scheme, host, port or (443 if parts.scheme == "https" else 80)


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to (itself, when it is an address)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT_S):
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, TimeoutError):
        raise RefusedUrl(f"The host {host} does not resolve.") from None
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


async def check_url(url: str, *, allow_http: bool, allowed_hosts: frozenset[str]) -> Target:
    """The ``Target`` of ``url`` if it may be called now, else ``RefusedUrl``."""
    _, host, port = parse(url, allow_http=allow_http)
    if host in allowed_hosts:
        return Target(url, host, None)
    addresses = await resolve(host, port)
    if not addresses:
        raise RefusedUrl(f"The host {host} does not resolve.")
    for address in addresses:
        if forbidden(address):
            raise RefusedUrl(
                f"The host {host} is (or resolves to) a private, loopback, link-local, "
                "multicast or reserved address; an administrator can allow-list it."
            )
    return Target(url, host, addresses[0])

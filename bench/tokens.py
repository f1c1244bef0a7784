"""``python -m bench.tokens``: what verifying an access token costs per request.

Prints, for RS256 and ES256 keys, the µs per token of (a) python-jose's ``jwt.decode`` alone
(key parsed once, the verifier's options), (b) ``shared.tokens.TokenVerifier.verify`` on a
token it has not seen (every check of the spec's order, then the decode), also with the key
source a service configured with ``<SERVICE>_JWKS_JSON`` uses, and (c) ``verify`` of a token
it has verified before (the cache: what nearly every request pays). Medians over repeated
timed loops, as ``timeit`` does (garbage collection off while timing).

Then, unless ``--no-load``, a short ``bench proxy`` run: the gateway's authenticated proxied
throughput beside the service's direct throughput and nginx's (``--duration``, ``--runs``
etc. as for ``bench proxy``; the full comparison is ``python3 manage.py bench proxy``).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import platform
import sys
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

from jose import jwt

from bench import proxy
from bench._harness import Pinning, add_load_arguments, load_options, median, run_reported
from shared.tokens import (
    PublicKey,
    StaticKeys,
    TokenVerifier,
    generate_private_key_pem,
    issue_access_token,
    public_key_from_jwk,
    signing_key,
)

ALGS = ("RS256", "ES256")
ISSUER = "urn:enlace:gateway"
AUDIENCE = "urn:enlace:api"
LEEWAY_S = 30
# The options TokenVerifier passes to jwt.decode (every registered claim required).
_DECODE_OPTIONS = {f"require_{c}": True for c in ("exp", "iat", "aud", "iss", "sub", "jti")} | {
    "leeway": LEEWAY_S
}


class DictKeys:
    """Keys held parsed in memory, looked up by kid: what the gateway's KeyStore and a
    service's JwksClient do once warm."""

    def __init__(self, keys: Mapping[str, PublicKey]) -> None:
        self._keys = dict(keys)

    async def get(self, kid: str) -> PublicKey | None:
        return self._keys.get(kid)


@dataclass(frozen=True)
class Fixture:
    """One signing key, its public key and JWK Set, and ``number`` distinct tokens."""

    alg: str
    public: PublicKey
    jwks: dict[str, Any]
    tokens: list[str]


def make_fixture(alg: str, number: int) -> Fixture:
    """A fresh key for ``alg`` and ``number`` tokens signed by it (as the gateway issues)."""
    key = signing_key(f"bench-{alg.lower()}", generate_private_key_pem(alg))
    tokens = [
        issue_access_token(
            key,
            issuer=ISSUER,
            audience=AUDIENCE,
            client_id="bench",
            org="MINEM",
            scopes=["inventory:read"],
            lifetime_s=3600,
        )[0]
        for _ in range(number)
    ]
    return Fixture(alg, public_key_from_jwk(key.public_jwk), {"keys": [key.public_jwk]}, tokens)


async def time_per_call(
    fn: Callable[[str], Awaitable[object]],
    tokens: Sequence[str],
    *,
    repeat: int,
    setup: Callable[[], None] | None = None,
) -> float:
    """Median over ``repeat`` loops of the µs per ``await fn(token)`` over ``tokens``, after
    one untimed loop (warm caches, as in a server that has been running)."""
    results = []
    for _ in range(repeat + 1):
        if setup is not None:
            setup()
        gc.collect()
        gc.disable()
        try:
            began = time.perf_counter()
            for token in tokens:
                await fn(token)
            results.append((time.perf_counter() - began) * 1e6 / len(tokens))
        finally:
            gc.enable()
    return median(results[1:])


def verifier(keys: Any) -> TokenVerifier:
    """A verifier like the gateway's and the services' (same issuer, audience, leeway)."""
    return TokenVerifier(keys, issuer=ISSUER, audience=AUDIENCE, leeway_s=LEEWAY_S)


async def measure(fixture: Fixture, repeat: int) -> dict[str, float]:
    """µs per token of each way of checking it, by row label."""
    tokens = fixture.tokens
    key = fixture.public

    async def decode(token: str) -> object:
        return jwt.decode(
            token,
            key.key,
            algorithms=[key.alg],
            audience=AUDIENCE,
            issuer=ISSUER,
            options=_DECODE_OPTIONS,
        )

    # Uncached: a new verifier (empty cache) before every loop; each token is seen once.
    state: dict[str, TokenVerifier] = {}

    def fresh(keys: Any) -> Callable[[], None]:
        def setup() -> None:
            state["v"] = verifier(keys)

        return setup

    async def verify(token: str) -> object:
        return await state["v"].verify(token)

    rows = {
        "(a) python-jose jwt.decode alone": await time_per_call(decode, tokens, repeat=repeat),
        "(b) verify, uncached": await time_per_call(
            verify, tokens, repeat=repeat, setup=fresh(DictKeys({key.kid: key}))
        ),
        "(b) verify, uncached, JWKS_JSON keys": await time_per_call(
            verify, tokens, repeat=repeat, setup=fresh(StaticKeys(fixture.jwks))
        ),
    }
    cached = verifier(DictKeys({key.kid: key}))
    await cached.verify(tokens[0])
    same = [tokens[0]] * len(tokens)
    rows["(c) verify, cached (same token)"] = await time_per_call(
        cached.verify, same, repeat=repeat
    )
    return rows


def format_table(results: Mapping[str, Mapping[str, float]]) -> str:
    """Rows: the ways of checking a token; columns: the algorithms (µs per token)."""
    algs = list(results)
    labels = list(next(iter(results.values())))
    width = max(len(label) for label in labels)
    head = f"{'µs per token':<{width}} " + " ".join(f"{alg:>8}" for alg in algs)
    lines = [head, "-" * len(head)]
    for label in labels:
        lines.append(f"{label:<{width}} " + " ".join(f"{results[a][label]:8.1f}" for a in algs))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line; see bench/README.md."""
    parser = argparse.ArgumentParser(prog="python -m bench.tokens", description=__doc__)
    parser.add_argument("--number", type=int, default=1000, help="tokens per timed loop")
    parser.add_argument("--repeat", type=int, default=7, help="timed loops (median reported)")
    parser.add_argument(
        "--no-load", action="store_true", help="only the per-token costs, no bench proxy run"
    )
    parser.add_argument("--no-nginx", action="store_true", help="no nginx row in the load run")
    add_load_arguments(parser)
    args = parser.parse_args(argv)
    if args.number < 1 or args.repeat < 1:
        parser.error("--number and --repeat must be positive")
    # Short load run unless told otherwise: the full one is `bench proxy`.
    args.duration = args.duration or 3.0
    args.runs = args.runs or 1
    args.warmup = 1.0 if args.warmup is None else args.warmup
    try:
        options = None if args.no_load else load_options(args)
    except (RuntimeError, ValueError) as exc:
        parser.error(str(exc))
    pinning = Pinning.detect()
    cpu = pinning.server_cpu
    print(
        f"bench tokens: µs per token, median of {args.repeat} loops of {args.number} tokens\n"
        f"  python-jose {version('python-jose')}, cryptography {version('cryptography')}, "
        f"python {platform.python_version()}\n"
        f"  pinning     {'not pinned' if cpu is None else f'CPU {cpu} (the servers CPU)'}\n"
        f"  signing {args.number} tokens per algorithm ...",
        flush=True,
    )
    affinity = os.sched_getaffinity(0)
    if cpu is not None:
        # Like the servers: one CPU, so the figures compare with their µs/request.
        os.sched_setaffinity(0, {cpu})
    try:
        results = {}
        for alg in ALGS:
            results[alg] = asyncio.run(measure(make_fixture(alg, args.number), args.repeat))
    finally:
        os.sched_setaffinity(0, affinity)
    print()
    print(format_table(results))
    print(
        "\n(a) the signature and claims check alone (key parsed once). (b) TokenVerifier.verify "
        "of a token\nnot seen before: header checks, key lookup, decode, claims; with "
        "JWKS_JSON keys (StaticKeys)\nthe JWK Set is parsed again for every such token. "
        "(c) a token verified before: the cache,\nwhat every request after a client's first "
        "pays until the token expires."
    )
    if options is None:
        print(
            "\nAuthenticated proxied throughput vs direct: python3 manage.py bench proxy "
            "(or bench tokens without --no-load)."
        )
        return 0
    proxy.install_signal_handlers()
    print(
        f"\nAuthenticated proxied throughput (bench proxy, {options.runs} run(s) of "
        f"{options.duration_s:g} s, {options.connections} connections, "
        f"{options.pinning.describe()}; full run: python3 manage.py bench proxy):",
        flush=True,
    )
    return run_reported(
        "bench tokens: load run",
        lambda: proxy.run_proxy_bench(options, transports=("aiohttp",), nginx=not args.no_nginx),
        proxy.print_report,
    )


if __name__ == "__main__":
    sys.exit(main())

"""Which webhook URLs the gateway will call: http(s) to public addresses only.

A webhook makes the gateway send requests on a client's behalf, so an unchecked URL is a
way into the operator's network (cloud metadata at 169.254.169.254, services on
loopback, the cluster's private ranges). Hostnames are resolved and every address they
resolve to must be public; the check runs at submit (422) and again before each attempt,
since DNS answers can change in between. `WEBHOOK_ALLOW_PRIVATE=true` lifts it for
trusted networks and tests.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

RESOLVE_TIMEOUT_SECONDS = 5.0
MAX_URL_LENGTH = 2048


class UrlRefused(ValueError):
    """The URL may not be called; the message says why."""


async def check_webhook_url(url: str, *, allow_private: bool) -> str:
    """`url` when the gateway may POST to it, else `UrlRefused`."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise UrlRefused("must be an http or https URL")
    if not parts.hostname:
        raise UrlRefused("has no host")
    if parts.username or parts.password:
        raise UrlRefused("must not carry credentials")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise UrlRefused("has an invalid port") from exc
    if allow_private:
        return url
    for address in await _resolve(parts.hostname, port):
        if not address.is_global or address.is_multicast:
            raise UrlRefused(
                f"resolves to a non-public address ({address}); loopback, private and "
                "link-local addresses are refused unless WEBHOOK_ALLOW_PRIVATE=true"
            )
    return url


async def _resolve(host: str, port: int) -> list[Address]:
    try:
        return [_unmapped(ipaddress.ip_address(host))]  # a literal: nothing to look up
    except ValueError:
        pass
    try:
        infos = await asyncio.wait_for(
            asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM),
            RESOLVE_TIMEOUT_SECONDS,
        )
    except (OSError, TimeoutError) as exc:
        raise UrlRefused(f"host {host!r} does not resolve") from exc
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    if not addresses:
        raise UrlRefused(f"host {host!r} does not resolve")
    return [_unmapped(address) for address in addresses]


def _unmapped(address: Address) -> Address:
    """`::ffff:10.0.0.1` is 10.0.0.1: judge the IPv4 address it carries."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address

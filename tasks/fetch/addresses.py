"""Which URLs and addresses the fetcher may reach: http(s) URLs of bounded length, public addresses."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from typing import Any

import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[..., list[tuple[Any, ...]]]

_METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
MAX_URL_LENGTH = 2048  # what browsers, CDNs and the sitemap protocol handle; longer ones are refused


class BlockedAddress(Exception):
    """A URL or the address it resolves to is one the fetcher must not reach."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def parse_allow_hosts(
    value: str | Iterable[str | tuple[str, int | None]],
) -> frozenset[tuple[str, int | None]]:
    """Return the allow-list entries as (host, port or None): 'host', 'host:port', '[v6]:port'."""
    items = value.split(",") if isinstance(value, str) else value
    entries: set[tuple[str, int | None]] = set()
    for raw in items:
        if isinstance(raw, tuple):  # already parsed
            entries.add(raw)
            continue
        item = raw.strip().lower()
        if not item:
            continue
        host, port = item, None
        if item.startswith("["):
            host, _, rest = item[1:].partition("]")
            port = int(rest[1:]) if rest.startswith(":") else None
        elif item.count(":") == 1:
            host, _, text = item.partition(":")
            port = int(text)
        entries.add((host.rstrip("."), port))
    return frozenset(entries)


def address_problem(ip: IPAddress) -> str | None:
    """Return why a connection to this address is forbidden, or None for a public address."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return address_problem(ip.ipv4_mapped)
        if ip in _NAT64:  # the IPv4 address sits in the last 32 bits
            return address_problem(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        if ip in _NAT64_LOCAL:
            return "private"
        if ip.sixtofour is not None:
            return address_problem(ip.sixtofour)
        if ip.teredo is not None:
            return "tunnel"  # the client address inside is obfuscated: cannot be checked
    if ip in _METADATA:
        return "metadata"
    for name in ("unspecified", "loopback", "link_local", "multicast", "private", "reserved"):
        if getattr(ip, f"is_{name}"):
            return name
    return None if ip.is_global else "not_global"


def checked_addresses(
    host: str,
    port: int,
    allow: frozenset[tuple[str, int | None]],
    resolve: Resolver = socket.getaddrinfo,
) -> list[str]:
    """Return the addresses host resolves to, or raise BlockedAddress if any is forbidden."""
    host = host.strip("[]").lower().rstrip(".")
    try:
        infos = resolve(host, port, type=socket.SOCK_STREAM)
    except UnicodeError as exc:  # a label IDNA cannot encode: no name to look up
        raise BlockedAddress("invalid_url", f"host {host!r}: {exc}") from exc
    except socket.gaierror as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc.strerror or exc}") from exc
    addresses = list(dict.fromkeys(str(info[4][0]).split("%")[0] for info in infos))
    if _allowed(host, port, allow):
        return addresses
    for address in addresses:
        problem = address_problem(ipaddress.ip_address(address))
        # One forbidden address blocks the host: DNS may answer differently next time.
        if problem and not _allowed(address, port, allow):
            raise BlockedAddress("blocked_address", f"{host} resolves to {address} ({problem})")
    return addresses


def _allowed(host: str, port: int, allow: frozenset[tuple[str, int | None]]) -> bool:
    return (host, None) in allow or (host, port) in allow


def check_url(url: str | httpx.URL) -> httpx.URL:
    """Return the URL parsed, or raise BlockedAddress for schemes other than http(s), userinfo
    or more than MAX_URL_LENGTH characters."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise BlockedAddress("invalid_url", str(exc)) from exc
    if len(str(parsed)) > MAX_URL_LENGTH:
        raise BlockedAddress("url_too_long", f"{len(str(parsed))} characters > {MAX_URL_LENGTH}")
    if parsed.scheme not in ("http", "https"):
        raise BlockedAddress("forbidden_url", f"scheme {parsed.scheme!r} in {url}")
    if parsed.userinfo:
        raise BlockedAddress("forbidden_url", "credentials in the URL")
    if not parsed.host:
        raise BlockedAddress("invalid_url", f"no host in {url}")
    return parsed

"""Endpoint safety: where a webhook may be sent.

An endpoint is `https` (plain `http` only with WEBHOOK_ALLOW_HTTP, in development), and every
address its host resolves to must be public: loopback, link-local, private, unspecified,
multicast and reserved addresses are refused unless inside WEBHOOK_ALLOWED_NETWORKS (the tests
allow a receiver on 127.0.0.1). The check runs when a subscription is registered or changed and
again before every send; the send connects to the address that was checked (`Target`), so a
name that resolves to a public address at the check and to a private one a moment later (DNS
rebinding) cannot move the request inside.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from core.errors import InvalidInput

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeEndpoint(InvalidInput):
    """The endpoint may not be called (its scheme, its host or an address it resolves to)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, errors={"url": [message]})


@dataclass(frozen=True)
class Target:
    """Where to connect for an endpoint: the checked address, and the host name to send as
    `Host` and as the TLS server name (certificates are checked against it)."""

    url: str  # the endpoint with its host replaced by the checked address
    host: str  # the `Host` header: the endpoint's host (and port)
    server_name: str  # the TLS server name
    address: str
    scheme: str


def _allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [
        ipaddress.ip_network(n.strip(), strict=False) for n in settings.WEBHOOK_ALLOWED_NETWORKS
    ]


def address_refused(address: Address) -> bool:
    """Whether an address is off limits: not globally reachable, and not explicitly allowed."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if any(address in network for network in _allowed_networks()):
        return False
    return (
        address.is_loopback
        or address.is_link_local
        or address.is_private
        or address.is_unspecified
        or address.is_multicast
        or address.is_reserved
        or not address.is_global
    )


def check_url(url: str) -> tuple[str, str, int]:
    """The scheme, host and port of an endpoint, if its form is allowed (UnsafeEndpoint)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeEndpoint(_("Enter a valid address.")) from exc
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not parts.hostname:
        raise UnsafeEndpoint(_("Enter a valid https address."))
    if scheme == "http" and not settings.WEBHOOK_ALLOW_HTTP:
        raise UnsafeEndpoint(_("Only https endpoints are allowed."))
    if parts.username or parts.password:
        raise UnsafeEndpoint(_("The address may not contain a user name or password."))
    return scheme, parts.hostname, port or (443 if scheme == "https" else 80)


def resolve(host: str, port: int) -> list[Address]:
    """Every address the host resolves to (an address literal: itself)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError) as exc:
        raise UnsafeEndpoint(_("The endpoint's host name does not resolve.")) from exc
    found: list[Address] = []
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if address not in found:
            found.append(address)
    if not found:
        raise UnsafeEndpoint(_("The endpoint's host name does not resolve."))
    return found


def target(url: str) -> Target:
    """Check the endpoint and resolve it once: every address must be allowed, and the request
    goes to the first (UnsafeEndpoint otherwise)."""
    scheme, host, port = check_url(url)
    addresses = resolve(host, port)
    if any(address_refused(a) for a in addresses):
        raise UnsafeEndpoint(_("The endpoint resolves to a private, loopback or reserved address."))
    address = addresses[0]
    parts = urlsplit(url)
    literal = f"[{address}]" if address.version == 6 else str(address)
    netloc = f"{literal}:{parts.port}" if parts.port else literal
    return Target(
        url=parts._replace(netloc=netloc).geturl(),
        host=parts.netloc.rsplit("@", 1)[-1],
        server_name=host,
        address=str(address),
        scheme=scheme,
    )

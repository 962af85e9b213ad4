"""Endpoint safety: where a webhook may be sent.

An endpoint is `https` (plain `http` only with WEBHOOK_ALLOW_HTTP, in development), and every
address its host resolves to must be public: loopback, link-local, private, unspecified,
multicast, reserved and IPv6 site-local addresses are refused unless inside
WEBHOOK_ALLOWED_NETWORKS (the tests allow a receiver on 127.0.0.1), and so are the IPv6 addresses
that carry a refused IPv4 address (IPv4-mapped, 6to4, Teredo's server or client). An
international host name is used in its ASCII form (IDNA 2008 with UTS 46), stored and sent so.
The check runs when a subscription is registered or changed and again before every send; the
send connects to the address that was checked (`Target`), so a name that resolves to a public
address at the check and to a private one a moment later (DNS rebinding) cannot move the
request inside.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import idna
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


def _embedded(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address leads to: 6to4's, Teredo's server and client."""
    found = [address.sixtofour] if address.sixtofour is not None else []
    return found + list(address.teredo or ())


def address_refused(address: Address) -> bool:
    """Whether an address is off limits: not globally reachable, and not explicitly allowed.
    An IPv6 address that carries a refused IPv4 address is refused whatever its own range."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address_refused(address.ipv4_mapped)
        if any(address_refused(inside) for inside in _embedded(address)):
            return True
    if any(address in network for network in _allowed_networks()):
        return False
    return (
        address.is_loopback
        or address.is_link_local
        or address.is_private
        or address.is_unspecified
        or address.is_multicast
        or address.is_reserved
        or (isinstance(address, ipaddress.IPv6Address) and address.is_site_local)
        or not address.is_global
    )


def _ascii_host(host: str) -> str:
    """The host in ASCII: an international name converted (IDNA 2008, UTS 46 mapping), so the
    `Host` header, the TLS server name and the DNS query carry its `xn--` form."""
    if host.isascii():
        return host
    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError, ValueError) as exc:
        raise UnsafeEndpoint(_("Enter a valid host name.")) from exc


def check_url(url: str) -> tuple[str, str, int]:
    """The scheme, host (in ASCII) and port of an endpoint, if its form is allowed
    (UnsafeEndpoint)."""
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
    return scheme, _ascii_host(parts.hostname), port or (443 if scheme == "https" else 80)


def ascii_url(url: str) -> str:
    """The endpoint with its host in ASCII (unchanged when it already is), if its form is
    allowed (UnsafeEndpoint). Resolves nothing."""
    _scheme, host, _port = check_url(url)
    parts = urlsplit(url)
    if parts.netloc.isascii():
        return url
    return parts._replace(netloc=host if parts.port is None else f"{host}:{parts.port}").geturl()


def origin(url: str) -> str:
    """Where an endpoint sends to, for the audit log: scheme, host and port, without the
    path or query (which may carry a token)."""
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.rsplit('@', 1)[-1].lower()}"


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
    url = ascii_url(url)
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

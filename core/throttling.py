"""API throttling: per signed-in user and per client address, counted in the shared cache.

Three scopes, each with its rate in REST_FRAMEWORK's DEFAULT_THROTTLE_RATES:

- ``address``: every request under /api/, per client address, with the highest rate: one
  address spraying requests under many accounts or tokens is still bounded. It is applied by
  `ApiAddressThrottleMiddleware`, before the view: DRF checks throttles only after
  authentication and permissions, so requests with a wrong token or none (401) would never
  be counted by a DRF throttle.
- ``anon`` (anonymous requests, per client address) and ``user`` (signed-in requests, session
  or token, per user) are DRF throttles on every API view (DEFAULT_THROTTLE_CLASSES).

The client address is the project's proxy-aware one (`core.middleware.client_ip`, trusting
``X-Forwarded-For`` only for TRUSTED_PROXY_COUNT hops), never DRF's own guess; IPv6 addresses
count per /64, the block one subscriber usually holds. Counters live in the default cache
(Redis in production, so every web process shares them). Rates are read at request time, so
settings overrides (tests) take effect without reloading the classes; a scope whose rate is
None is not throttled. A refused request gets 429 with ``Retry-After`` (seconds).
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework import exceptions
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from core.middleware import client_ip


def address_key(request) -> str:
    """The client address used for limits: IPv4 as is, IPv6 as its /64 network."""
    ip = client_ip(request) or "unknown"
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(addr, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network(f"{addr}/64", strict=False).network_address)
    return ip


class _PortalThrottle(SimpleRateThrottle):
    def __init__(self) -> None:  # the rate is read per request, not when the class is loaded
        pass

    def allow_request(self, request, view) -> bool:
        self.rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_ident(self, request) -> str:
        return address_key(request)


class AnonAddressThrottle(_PortalThrottle):
    """Anonymous requests, per client address."""

    scope = "anon"

    def get_cache_key(self, request, view) -> str | None:
        if request.user and request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class UserThrottle(_PortalThrottle):
    """Signed-in requests, per user."""

    scope = "user"

    def get_cache_key(self, request, view) -> str | None:
        if not (request.user and request.user.is_authenticated):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class AddressThrottle(_PortalThrottle):
    """Every request, per client address (a higher rate than one user's)."""

    scope = "address"

    def get_cache_key(self, request, view) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class ApiAddressThrottleMiddleware:
    """The per-address limit for every /api/ request, counted before authentication."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            throttle = AddressThrottle()
            if not throttle.allow_request(request, None):
                wait = throttle.wait()
                response = JsonResponse({"detail": exceptions.Throttled(wait).detail}, status=429)
                response["Retry-After"] = str(max(1, math.ceil(wait or 1)))
                return response
        return self.get_response(request)

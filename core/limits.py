"""Request body limits, checked before any work: a body over its endpoint's limit is a 413.

The limit depends on the path: JSON API bodies get a small one (API_MAX_BODY_BYTES), the few
endpoints that take files a larger one (UPLOAD_MAX_BODY_BYTES, UPLOAD_PATHS), every other page
DATA_UPLOAD_MAX_MEMORY_SIZE. The declared Content-Length is compared before the body is read,
so an oversized request costs no parsing. The refused body is then read and thrown away (up to
BODY_DRAIN_MAX_BYTES, within BODY_DRAIN_SECONDS) before the answer goes out: a server that
closes a connection with unread data in its receive buffer makes the kernel send a reset, and
the client sees "connection reset" instead of the 413.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from functools import cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

_CHUNK = 64 * 1024


@cache
def _upload_patterns(patterns: tuple[str, ...]) -> list[re.Pattern]:
    return [re.compile(p) for p in patterns]


def body_limit(path: str) -> int:
    """The most bytes a request body to `path` may have."""
    if any(p.match(path) for p in _upload_patterns(tuple(settings.UPLOAD_PATHS))):
        return settings.UPLOAD_MAX_BODY_BYTES
    if path.startswith("/api/"):
        return settings.API_MAX_BODY_BYTES
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def drain_body(request: HttpRequest) -> None:
    """Read and discard what is left of the request body, within the drain limits."""
    # request.read() goes through Django's stream, which is bounded by Content-Length and
    # knows how much a parser has already consumed.
    remaining = settings.BODY_DRAIN_MAX_BYTES
    deadline = time.monotonic() + settings.BODY_DRAIN_SECONDS
    try:
        while remaining > 0 and time.monotonic() < deadline:
            chunk = request.read(min(_CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
    except (OSError, ValueError):  # the client went away: nothing left to protect
        pass


def too_large(request: HttpRequest, limit: int | None = None) -> HttpResponse:
    """The 413 answer: {"detail": ...} under /api/, a page elsewhere; the body is drained."""
    limit = limit if limit is not None else body_limit(request.path)
    message = _("The request is too large (at most %(size)s).") % {"size": _human(limit)}
    drain_body(request)
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=413)
    return render(request, "errors/error.html", {"message": message, "status": 413}, status=413)


def _human(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):g} MB"
    return f"{size / 1024:g} KB"


class RequestBodyLimitMiddleware:
    """Refuses a declared body over the path's limit with 413 before anything reads it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        raw = request.META.get("CONTENT_LENGTH") or "0"
        try:
            length = int(raw)
        except ValueError:
            length = -1
        if length < 0:
            from core.errors import bad_request

            return bad_request(request)
        limit = body_limit(request.path)
        if length > limit:
            return too_large(request, limit)
        return self.get_response(request)

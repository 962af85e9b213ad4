"""Request context middleware: a request id on every request, response and log line."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from .context import bind_context, bind_user, clean_request_id, reset_context


def client_ip(request: HttpRequest) -> str | None:
    """The client address, trusting only as many X-Forwarded-For hops as configured."""
    hops = settings.TRUSTED_PROXY_COUNT
    if hops > 0:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [p for p in forwarded if p]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return request.META.get("REMOTE_ADDR") or None


class RequestContextMiddleware:
    """Outermost middleware: binds the request id and IP for the whole request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = clean_request_id(request.headers.get("X-Request-ID"))
        request.request_id = request_id
        source = "api" if request.path.startswith("/api/") else "web"
        token = bind_context(request_id=request_id, ip=client_ip(request), source=source)
        try:
            response = self.get_response(request)
        finally:
            reset_context(token)
        response["X-Request-ID"] = request_id
        return response


class RequestUserContextMiddleware:
    """After authentication: remember the user id in the context for log lines."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            bind_user(user.pk)
        return self.get_response(request)


class RejectNulMiddleware:
    """A NUL character in the path or query is never meaningful and PostgreSQL cannot store or
    compare it: answer 400 before any view sees it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            "\x00" in request.path
            or "\x00" in request.META.get("QUERY_STRING", "")
            or "%00" in request.META.get("QUERY_STRING", "")
        ):
            from core.errors import bad_request

            return bad_request(request)
        return self.get_response(request)


class UserLanguageMiddleware:
    """After authentication: a signed-in person's stored language (`User.language`) applies when
    this browser holds no explicit choice (the switcher's cookie).

    Django's LocaleMiddleware runs before authentication and has already chosen from the cookie,
    then Accept-Language, then LANGUAGE_CODE; this middleware puts the stored choice between the
    cookie and Accept-Language. API requests authenticated by a token are not seen here (DRF
    authenticates inside the view): they answer in the language of their Accept-Language."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
            user = getattr(request, "user", None)
            stored = getattr(user, "language", "") if user is not None else ""
            if stored and user.is_authenticated and stored in dict(settings.LANGUAGES):
                translation.activate(stored)
                request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)

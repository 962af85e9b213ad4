"""Reads the catalog stamp at most once per request (see `services.catalog`)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .catalog import catalog_memo


class CatalogMemoMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with catalog_memo():
            return self.get_response(request)

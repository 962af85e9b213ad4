"""The public open-data pages: the releases, one release's tables, and its files."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from . import presenters, selectors, signing


@require_http_methods(["GET"])
def release_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "opendata/list.html",
        {"releases": selectors.releases(), "public_keys": signing.public_keys()},
    )


@require_http_methods(["GET"])
def release_detail(request: HttpRequest, version: int) -> HttpResponse:
    release = selectors.release(version)
    return render(
        request,
        "opendata/detail.html",
        {
            "release": release,
            "tables": presenters.tables(release),
            "public_keys": signing.public_keys(),
        },
    )


def _download(body: str, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_http_methods(["GET"])
def release_json(request: HttpRequest, version: int) -> HttpResponse:
    release = selectors.release(version)
    return _download(
        presenters.as_json(release),
        "application/json; charset=utf-8",
        f"open-data-{release.month}-v{release.version}.json",
    )


@require_http_methods(["GET"])
def release_csv(request: HttpRequest, version: int) -> HttpResponse:
    release = selectors.release(version)
    return _download(
        presenters.as_csv(release),
        "text/csv; charset=utf-8",
        f"open-data-{release.month}-v{release.version}.csv",
    )

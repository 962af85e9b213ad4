"""The public open-data pages: the releases, one release's tables, and its files."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.html import format_html
from django.views.decorators.http import require_http_methods

from . import presenters, selectors, signing


def _codes() -> dict:
    """Names that stay as they are in every language (marked not to be translated)."""
    return {
        "algorithm": format_html('<span translate="no">{}</span>', signing.ALGORITHM),
        "signature_member": format_html('<code translate="no">{}</code>', "signature"),
        "public_keys": signing.public_keys(),
    }


@require_http_methods(["GET"])
def release_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "opendata/list.html",
        {"releases": selectors.releases(), **_codes()},
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
            **_codes(),
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

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


def _release_download(version: int, serialize, content_type: str, extension: str) -> HttpResponse:
    release = selectors.release(version)
    response = HttpResponse(serialize(release), content_type=content_type)
    filename = f"open-data-{release.month}-v{release.version}.{extension}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_http_methods(["GET"])
def release_json(request: HttpRequest, version: int) -> HttpResponse:
    return _release_download(version, presenters.as_json, "application/json; charset=utf-8", "json")


@require_http_methods(["GET"])
def release_csv(request: HttpRequest, version: int) -> HttpResponse:
    return _release_download(version, presenters.as_csv, "text/csv; charset=utf-8", "csv")

"""Error pages: JSON under /api/ (the design's error format), HTML elsewhere."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _error(request: HttpRequest, status: int, message: str, template: str) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": message}, status=status)
    return render(request, template, {"message": message, "status": status}, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    from django.core.exceptions import RequestDataTooBig

    if isinstance(exception, RequestDataTooBig):  # over DATA_UPLOAD_MAX_MEMORY_SIZE: 413
        from core.limits import too_large

        return too_large(request)
    return _error(request, 400, _("The request could not be understood."), "errors/error.html")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 403, _("You do not have permission to do this."), "errors/error.html")


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 404, _("Not found."), "errors/error.html")


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": _("Something went wrong on our side.")}, status=500)
    # No context processors here: the failure may come from them.
    from django.template import loader

    return HttpResponse(loader.get_template("errors/500.html").render(), status=500)

"""API conventions shared by every endpoint: pagination and the error format of the design.

Errors are ``{"detail": "..."}`` or, for invalid input, ``{"errors": {"field": ["message"]}}``.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200


def _as_field_errors(data: Any) -> dict[str, Any]:
    if isinstance(data, dict):
        return data
    if isinstance(data, list):
        return {"non_field_errors": data}
    return {"non_field_errors": [data]}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Render every API error as ``detail`` or ``errors``; unknown errors stay a logged 500."""
    if isinstance(exc, RequestDataTooBig):  # Django's own limits (form fields, body in memory)
        from config.limits import too_large

        request = context.get("request")
        return too_large(getattr(request, "_request", request))
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {"errors": _as_field_errors(exc.detail)}
    elif isinstance(response.data, dict) and "detail" in response.data:
        response.data = {"detail": response.data["detail"]}
    else:
        response.data = {"detail": response.data}
    return response


def json_not_found() -> Response:
    return Response({"detail": _("Not found.")}, status=status.HTTP_404_NOT_FOUND)

"""API conventions shared by every endpoint: pagination and the error format of the design.

Errors are ``{"detail": "..."}`` or, for invalid input, ``{"errors": {"field": ["message"]}}``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import PortalError

logger = logging.getLogger(__name__)


class StrictInput(serializers.Serializer):
    """A request body: a field it does not know is refused (400), never silently ignored, so a
    misspelt field cannot pass for an omitted one. The schema says so (`additionalProperties`)."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise exceptions.ValidationError({key: [_("Unknown field.")] for key in unknown})
        return super().to_internal_value(data)


def page_size_param(request: Any, *, default: int, maximum: int, name: str = "page_size") -> int:
    """The page size a client asked for: a whole number of at least 1 (a larger one than
    `maximum` is cut to it); anything else is a 400, never silently the default."""
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        raise exceptions.ValidationError({name: [_("Use a whole number of at least 1.")]})
    return min(int(raw), maximum)


def _strict_parameters(parameters: list[dict]) -> list[dict]:
    """Describe the page number and page size as whole numbers of at least 1, as they are read."""
    for parameter in parameters:
        if parameter["name"] in ("page", "page_size"):
            parameter["schema"] = {**parameter.get("schema", {}), "type": "integer", "minimum": 1}
    return parameters


class _StrictPageSize:
    """A pagination's page size read by `page_size_param` (a whole number, at most
    `max_page_size`), and its query parameters typed as such in the schema."""

    page_size_query_param = "page_size"

    def get_page_size(self, request: Any) -> int:
        return page_size_param(request, default=self.page_size, maximum=self.max_page_size)

    def get_schema_operation_parameters(self, view: Any) -> list[dict]:
        return _strict_parameters(super().get_schema_operation_parameters(view))


class Pagination(_StrictPageSize, PageNumberPagination):
    max_page_size = 200


class NewestFirst(_StrictPageSize, CursorPagination):
    """Newest rows first, by an opaque cursor (`next`/`previous` links, no count)."""

    ordering = "-id"
    page_size = 100
    max_page_size = 1000


def paginated(view: Any, rows: Any, present: Callable[[list], Any]) -> Response:
    """One page of `rows` in the view's pagination (`pagination_class`, the query's `page` or
    cursor), the page's rows presented by `present`, with the pagination's links."""
    paginator = view.pagination_class()
    page = paginator.paginate_queryset(rows, view.request, view=view)
    return paginator.get_paginated_response(present(page))


def _as_field_errors(data: Any) -> dict[str, Any]:
    if isinstance(data, dict):
        return data
    if isinstance(data, list):
        return {"non_field_errors": data}
    return {"non_field_errors": [data]}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Render every API error as ``detail`` or ``errors``; unknown errors stay a logged 500."""
    if isinstance(exc, RequestDataTooBig):  # Django's own limits (form fields, body in memory)
        from core.limits import too_large

        request = context.get("request")
        return too_large(getattr(request, "_request", request))
    if isinstance(exc, PortalError):
        return Response(exc.as_data(), status=exc.status)
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

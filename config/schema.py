"""The OpenAPI schema says every status an operation can answer, in the API's error format.

drf-spectacular documents the success response only; a client (and schemathesis in CI) must also
know the errors. They follow from how every endpoint is built, so they are added here once:

- 400 `{"errors": ...}` or `{"detail": ...}`: every write (its body, or the object's own
  rules: submitting an incomplete application), and a validated query parameter (every
  paginated list reads `page_size`);
- 401: no, a wrong or an expired token (token authentication is tried first, on every endpoint);
- 403: a role that may not do this, a session call without its CSRF token, staff without MFA;
- 404: an object the caller may not see (or that does not exist), or a page past the end;
- 409: a state that does not allow the action (views that set `may_conflict`);
- 413: a request body over `DATA_UPLOAD_MAX_MEMORY_SIZE`;
- 415: a body in a media type the operation does not take;
- 429: a throttled caller, on views with throttles.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers
from rest_framework.permissions import AllowAny

from core.api import StrictInput

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


class ErrorOutput(serializers.Serializer):
    detail = serializers.CharField()


class FieldErrorsOutput(serializers.Serializer):
    errors = serializers.DictField(
        help_text="Messages by field (`non_field_errors` for the request as a whole); a nested "
        "field's messages are nested the same way."
    )


class PortalAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        detail = {"$ref": self.resolve_serializer(ErrorOutput, "response").ref["$ref"]}
        fields = {"$ref": self.resolve_serializer(FieldErrorsOutput, "response").ref["$ref"]}
        for code, description in self.error_statuses().items():
            schema = {"oneOf": [fields, detail]} if code == 400 else detail
            responses.setdefault(
                str(code),
                {"description": description, "content": {"application/json": {"schema": schema}}},
            )
        return responses

    def _map_basic_serializer(self, serializer: Any, direction: str) -> dict[str, Any]:
        schema = super()._map_basic_serializer(serializer, direction)
        if direction == "request" and isinstance(serializer, StrictInput):
            schema["additionalProperties"] = False
        if type(serializer).__doc__ is None:  # not the docstring of a base class
            schema.pop("description", None)
        return schema

    def _has_body(self) -> bool:
        return self.method in UNSAFE and self.get_request_serializer() is not None

    def error_statuses(self) -> dict[int, Any]:
        view, errors = self.view, {}
        paginated = self.method == "GET" and bool(self._get_pagination_parameters())
        if self.method in UNSAFE or paginated or getattr(view, "validates_query", False):
            errors[400] = _("Invalid input: field errors, or a request that cannot be parsed.")
        public = all(issubclass(p, AllowAny) for p in getattr(view, "permission_classes", []))
        errors[401] = (
            _("A wrong or expired token.")
            if public
            else _("Not signed in, or a wrong or expired token.")
        )
        errors[403] = _(
            "Not allowed for your role, a session call without its CSRF token, or staff "
            "without two-factor authentication."
        )
        if "{" in self.path or paginated:
            errors[404] = _("Not found, or not yours to see; or a page past the end.")
        if self.method in UNSAFE and getattr(view, "may_conflict", False):
            errors[409] = _("The object's state does not allow this now.")
        if self._has_body():
            errors[413] = _("The request body is too large.")
            errors[415] = _("The body is not in a media type this operation takes.")
        if getattr(view, "throttle_classes", None):
            errors[429] = _("Too many requests: wait and try again.")
        return errors

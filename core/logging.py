"""Structured logging: one JSON object per line, carrying the request id of the context."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from .context import current_context


class RequestContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        ctx = current_context()
        record.request_id = ctx.request_id or "-"
        record.source = ctx.source
        record.user_id = ctx.user_id
        return True


def _request_line(value: object) -> str | None:
    """A request (Django's request log passes it as `extra`) as its method and path only: its
    repr carries the query string, which may hold personal data a client put there."""
    method, path = getattr(value, "method", None), getattr(value, "path", None)
    if isinstance(method, str) and isinstance(path, str) and hasattr(value, "META"):
        return f"{method} {path}"
    return None


class JsonFormatter(logging.Formatter):
    _SKIP = set(vars(logging.makeLogRecord({}))) | {
        "message",
        "asctime",
        "request_id",
        "source",
        "user_id",
    }

    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
            "source": getattr(record, "source", "system"),
            "user_id": getattr(record, "user_id", None),
        }
        for key, value in record.__dict__.items():
            if key not in self._SKIP and not key.startswith("_"):
                if isinstance(value, (str, int, float, bool, type(None))):
                    payload[key] = value
                else:
                    payload[key] = _request_line(value) or repr(value)
        if record.exc_info:
            payload["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False)


class ExpectedErrorFilter(logging.Filter):
    """A 403 or 404 is an answer, not a failure: Django's request logger attaches the exception
    (and so a traceback) to its "Forbidden"/"Not Found" warning when a view raises
    PermissionDenied or Http404. Keep the one line, drop the traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and _is_expected(record.exc_info[1]):
            record.exc_info = None
            record.exc_text = None
        return True


def _is_expected(exc: BaseException | None) -> bool:
    from django.core.exceptions import PermissionDenied
    from django.http import Http404
    from rest_framework import exceptions

    return isinstance(
        exc, (Http404, PermissionDenied, exceptions.NotFound, exceptions.PermissionDenied)
    )

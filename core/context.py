"""Who and where the current unit of work comes from: request id, client IP, actor.

Set by the request middleware (or a Celery task's prerun hook) and read by log records and by
every audit event, so a log line and an audit event of the same request share one id.
"""

from __future__ import annotations

import contextvars
import re
import uuid
from dataclasses import dataclass, replace

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    ip: str | None = None
    source: str = "system"  # web, api, worker, command, system
    user_id: int | None = None


_context: contextvars.ContextVar[RequestContext] = contextvars.ContextVar(
    "portal_request_context",
    default=RequestContext(),  # noqa: B039  (frozen dataclass: immutable)
)


def new_request_id() -> str:
    return uuid.uuid4().hex


def clean_request_id(value: str | None) -> str:
    """Accept a caller's X-Request-ID only when it is a plain token; otherwise make one."""
    if value and _REQUEST_ID_RE.match(value):
        return value
    return new_request_id()


def current_context() -> RequestContext:
    return _context.get()


def bind_context(*, request_id: str | None, ip: str | None, source: str) -> contextvars.Token:
    ctx = RequestContext(request_id=request_id or new_request_id(), ip=ip, source=source)
    return _context.set(ctx)


def bind_user(user_id: int | None) -> None:
    _context.set(replace(_context.get(), user_id=user_id))


def reset_context(token: contextvars.Token) -> None:
    _context.reset(token)


def clear_context() -> None:
    _context.set(RequestContext())

"""The refusals of the citizen side's actions. Pages, the API and the engine catch these and
answer with `message` (safe to show), `errors` (per field) and `status` (the HTTP status)."""

from __future__ import annotations


class ServiceError(Exception):
    """A refused request; `message` is safe to show, `status` is the HTTP status to answer."""

    status = 400

    def __init__(self, message: str, *, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class InvalidInput(ServiceError):
    status = 400


class WrongState(ServiceError):
    status = 409

"""The language a message to a person is written in, when there is no request to ask."""

from __future__ import annotations

from typing import Any

from django.conf import settings


def language_for(person: Any) -> str:
    """The person's chosen language (`User.language`) when it is one the portal speaks, else the
    portal's default (LANGUAGE_CODE): emails, receipts and other messages sent by workers."""
    chosen = getattr(person, "language", "") or ""
    return chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE

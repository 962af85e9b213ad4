"""API token keys: made from 32 random bytes, stored only as their SHA-256 digest.

A plain hash is enough here (no HMAC key, no slow hash): the key has 256 bits of entropy, so its
digest cannot be reversed or guessed, and no key outside the database has to be kept or rotated
for tokens to keep working.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings

PREFIX_LENGTH = 8


def new_key() -> str:
    """A fresh key: 43 URL-safe characters (256 random bits)."""
    return secrets.token_urlsafe(32)


def key_digest(key: str) -> str:
    """The hex SHA-256 of a key: the only form in which a key is stored."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def key_prefix(key: str) -> str:
    return key[:PREFIX_LENGTH]


def default_lifetime() -> timedelta:
    return timedelta(days=settings.API_TOKEN_LIFETIME_DAYS)

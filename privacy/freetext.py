"""Free text that may hold personal data (clerks' notes and reasons, questions to citizens,
their replies, file names), sealed at rest like answers.

A stored value is an AES-256-GCM token from `privacy.crypto.encrypt` (key id inside, so rotation
works as for answers) bound to its row and column by the associated data, e.g.
`case:<reference>:decision_note`. The empty string stays empty: there is nothing to hide, and it
is the tombstone erasure leaves. Anything else that is not a token that decrypts raises
`DecryptionError`: never ciphertext, clear text of unknown origin or a blank instead.
"""

from __future__ import annotations

from typing import ClassVar

from . import crypto


def seal_text(text: str, *, aad: str) -> str:
    """The token stored for `text` (empty text is stored empty)."""
    return crypto.encrypt(text, aad=aad) if text else ""


def open_text(stored: str, *, aad: str) -> str:
    """The clear text of a stored value; DecryptionError for a wrong key, a moved or damaged
    token, or a value that is not a token at all."""
    if not stored:
        return ""
    return crypto.decrypt(stored, aad=aad)


def reseal_text(stored: str, *, aad: str) -> str | None:
    """The value under the active key, or None when it is already there (or empty).

    Clear text stored before free text was sealed is sealed now; a token on an older key is
    decrypted (a bad one raises) and encrypted again."""
    if not stored:
        return None
    if not crypto.is_encrypted(stored):
        return crypto.encrypt(stored, aad=aad)
    rotated = crypto.rotate(stored, aad=aad)
    return None if rotated == stored else rotated


class SealedRow:
    """Mix into a model whose free text is sealed bound to its row's id: a column's associated
    data is `<sealed_kind>:<pk>:<column>`."""

    sealed_kind: ClassVar[str] = ""

    def sealed_text_aad(self, column: str) -> str:
        return f"{self.sealed_kind}:{self.pk}:{column}"


def opened(column: str) -> property:
    """A model's property giving the sealed `column` in clear, opened under the row's
    `sealed_text_aad(column)` (DecryptionError on a wrong key)."""

    def plain(instance) -> str:
        return open_text(getattr(instance, column), aad=instance.sealed_text_aad(column))

    plain.__doc__ = f"`{column}` in clear (DecryptionError on a wrong key)."
    return property(plain)

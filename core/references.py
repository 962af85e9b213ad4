"""References people read out over the phone and type from a letter: a prefix naming what it
is, then eight characters in two groups (`A-7KQ3-M9XC` for an application, `C-…` for a case).

The alphabet has no 0/O and no 1/I, so a reference read aloud or copied by hand comes back
right. Eight characters of 32 give 2⁴⁰ references per prefix: the database's unique constraint
refuses the rare collision, and the caller tries again.
"""

from __future__ import annotations

import secrets

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
APPLICATION = "A"
CASE = "C"


def new_reference(prefix: str) -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(8))
    return f"{prefix}-{body[:4]}-{body[4:]}"

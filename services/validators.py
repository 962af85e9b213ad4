"""Field validators for the form engine: resident identity numbers, mobile numbers, masking.

Only ASCII digits count as digits here: `str.isdigit()` and `\\d` also accept full-width and other
Unicode digits, which would pass validation and then break every lookup by exact value.
"""

from __future__ import annotations

import datetime
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# GB 11643-1999 / ISO 7064 MOD 11-2: weight 2^(18-i) mod 11 for position i = 1..17, and the
# weighted sum % 11 indexes the check character.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"
_ID_RE = re.compile(r"[0-9]{17}[0-9X]")
_FIRST17_RE = re.compile(r"[0-9]{17}")
_DIGITS_RE = re.compile(r"[0-9]+")
# Province-level codes (the first two digits), as the portal's requirements list them:
# mainland provinces, 71 Taiwan, 81-82 Hong Kong and Macao, and 91.
_PROVINCES = (
    frozenset()
    .union(range(11, 16), range(21, 24), range(31, 38), range(41, 47), range(50, 55), range(61, 66))
    .union({71, 81, 82, 91})
)
_EARLIEST_BIRTH = datetime.date(1900, 1, 1)
_MOBILE_RE = re.compile(r"(?:\+86)?1[3-9][0-9]{9}")
_PHONE_SEPARATORS_RE = re.compile(r"[\s-]+")


def _today() -> datetime.date:
    return timezone.localdate() if settings.USE_TZ else datetime.date.today()


def normalise_national_id(value: str) -> str:
    """Strip surrounding whitespace and upper-case, so a typed lower-case 'x' matches 'X'."""
    return value.strip().upper()


def national_id_check_char(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character for the first 17 digits of an identity number."""
    if not _FIRST17_RE.fullmatch(first17):
        raise ValueError("first17 must be exactly 17 ASCII digits.")
    total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK_CHARS[total % 11]


def _parse_birth(digits: str) -> datetime.date | None:
    try:
        return datetime.date(int(digits[0:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return None


def is_valid_national_id(value: str, *, today: datetime.date | None = None) -> bool:
    """True for a well-formed 18-character number: province, real birth date, check character.

    The value is normalised first (whitespace stripped, 'x' read as 'X'). `today` is for tests;
    a birth date after it, or before 1900-01-01, is invalid.
    """
    if not isinstance(value, str):
        return False
    value = normalise_national_id(value)
    if not _ID_RE.fullmatch(value) or int(value[:2]) not in _PROVINCES:
        return False
    birth = _parse_birth(value[6:14])
    if birth is None or not _EARLIEST_BIRTH <= birth <= (today or _today()):
        return False
    return national_id_check_char(value[:17]) == value[17]


def national_id_problem(value: str, *, today: datetime.date | None = None) -> str | None:
    """What is wrong with an identity number, or None when it is valid: "too_short",
    "too_long", "characters" (other than 17 digits and a digit or X), "lowercase_x",
    "province", "birth_date" or "check" (the check character does not match)."""
    if not isinstance(value, str):
        return "characters"
    value = value.strip()
    if len(value) < 18:
        return "too_short" if _DIGITS_RE.fullmatch(value.rstrip("Xx") or "0") else "characters"
    if len(value) > 18:
        return "too_long" if _DIGITS_RE.fullmatch(value.rstrip("Xx")) else "characters"
    if not _ID_RE.fullmatch(value.upper()):
        return "characters"
    if value.endswith("x"):
        return "lowercase_x"
    if int(value[:2]) not in _PROVINCES:
        return "province"
    birth = _parse_birth(value[6:14])
    if birth is None or not _EARLIEST_BIRTH <= birth <= (today or _today()):
        return "birth_date"
    if national_id_check_char(value[:17]) != value[17]:
        return "check"
    return None


def mobile_problem(value: str) -> str | None:
    """What is wrong with a (normalised) mainland mobile number, or None when it is valid:
    "characters" (not digits), "length" (not 11 digits) or "prefix" (not 13 to 19)."""
    if not isinstance(value, str):
        return "characters"
    digits = value[3:] if value.startswith("+86") else value
    if not _DIGITS_RE.fullmatch(digits):
        return "characters"
    if len(digits) != 11:
        return "length"
    if not _MOBILE_RE.fullmatch(digits):
        return "prefix"
    return None


def national_id_birth_date(value: str) -> datetime.date | None:
    """The birth date encoded in a valid identity number, or None when the number is invalid."""
    if not is_valid_national_id(value):
        return None
    return _parse_birth(normalise_national_id(value)[6:14])


def make_national_id(area: str, birth: datetime.date, seq: str) -> str:
    """Build a valid identity number (for seed data and tests): 6-digit area, 3-digit sequence."""
    if not (_DIGITS_RE.fullmatch(area) and len(area) == 6 and int(area[:2]) in _PROVINCES):
        raise ValueError(f"area must be 6 digits starting with a province code, not {area!r}.")
    if not (_DIGITS_RE.fullmatch(seq) and len(seq) == 3):
        raise ValueError(f"seq must be 3 digits, not {seq!r}.")
    if not _EARLIEST_BIRTH <= birth <= _today():
        raise ValueError(f"birth must be between 1900-01-01 and today, not {birth}.")
    first17 = f"{area}{birth:%Y%m%d}{seq}"
    return first17 + national_id_check_char(first17)


def normalise_phone(value: str) -> str:
    """Remove whitespace, hyphens and a leading +86 or 0086 country prefix."""
    value = _PHONE_SEPARATORS_RE.sub("", value)
    for prefix in ("+86", "0086"):
        if value.startswith(prefix):
            return value[len(prefix) :]
    return value


def is_valid_mainland_mobile(value: str) -> bool:
    """True for exactly 11 digits `1[3-9]xxxxxxxxx`, optionally prefixed by '+86'.

    Spaces, hyphens and a '0086' prefix are not accepted here: pass user input through
    `normalise_phone` first, and store its result.
    """
    return isinstance(value, str) and _MOBILE_RE.fullmatch(value) is not None


def mask_value(value: str, *, keep_start: int = 4, keep_end: int = 4) -> str:
    """Replace the middle with '*', e.g. '3201**********1234'; the length stays visible.

    A value too short to hide anything with those margins (len <= keep_start + keep_end)
    shows only its last character; a single character is masked completely.
    """
    if keep_start < 0 or keep_end < 0:
        raise ValueError("keep_start and keep_end must not be negative.")
    length = len(value)
    if length <= 1:
        return "*" * length
    if length <= keep_start + keep_end:
        return "*" * (length - 1) + value[-1]
    return value[:keep_start] + "*" * (length - keep_start - keep_end) + value[length - keep_end :]


def validate_national_id(value: str) -> None:
    """Django field validator for the resident identity number."""
    if not is_valid_national_id(value):
        raise ValidationError(
            _("Enter a valid 18-character resident identity number."), code="invalid_national_id"
        )


def validate_mainland_mobile(value: str) -> None:
    """Django field validator for a mainland mobile number (normalised by `normalise_phone`)."""
    if not is_valid_mainland_mobile(normalise_phone(value)):
        raise ValidationError(
            _("Enter an 11-digit mainland mobile number, for example 13800138000."),
            code="invalid_mobile",
        )

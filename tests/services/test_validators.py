"""Form field validators: resident identity numbers (GB 11643-1999), mobile numbers, masking.

Covers the requirement that only well-formed identity numbers with a real birth date, a known
province and a correct check character are accepted, and that any single mistyped digit is caught.
"""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from services.validators import (
    is_valid_mainland_mobile,
    is_valid_national_id,
    make_national_id,
    mask_value,
    national_id_birth_date,
    national_id_check_char,
    normalise_national_id,
    normalise_phone,
    validate_mainland_mobile,
    validate_national_id,
)

SAMPLE_ID = "11010519491231002X"  # the published GB 11643-1999 example
PROVINCES = [
    *range(11, 16), *range(21, 24), *range(31, 38), *range(41, 47), *range(50, 55),
    *range(61, 66), 71, 81, 82, 91,
]  # fmt: skip
TODAY = datetime.date(2025, 6, 15)
# Digits that look right, or pass str.isdigit(), but are not ASCII (typed on a phone keyboard).
FULLWIDTH = str.maketrans({c: chr(ord(c) + 0xFEE0) for c in "0123456789X"})
ARABIC_INDIC = str.maketrans("0123456789", "".join(chr(0x660 + i) for i in range(10)))


def with_check(first17: str) -> str:
    """An 18-character number whose check character is right, so only other rules can fail."""
    return first17 + national_id_check_char(first17)


def iso7064_check(first17: str) -> str:
    """MOD 11-2 computed from its definition (weights 2^(17-i) mod 11), not the lookup table."""
    total = sum(int(d) * pow(2, 17 - i, 11) for i, d in enumerate(first17))
    check = (12 - total % 11) % 11
    return "X" if check == 10 else str(check)


# --- Identity numbers: examples ------------------------------------------------------------------


def test_published_sample_is_valid():
    assert national_id_check_char(SAMPLE_ID[:17]) == "X"
    assert is_valid_national_id(SAMPLE_ID)
    assert national_id_birth_date(SAMPLE_ID) == datetime.date(1949, 12, 31)


@pytest.mark.parametrize("typed", ["11010519491231002x", "  11010519491231002X\n"])
def test_lower_case_x_and_surrounding_whitespace_are_accepted(typed):
    assert is_valid_national_id(typed)
    assert normalise_national_id(typed) == SAMPLE_ID
    assert national_id_birth_date(typed) == datetime.date(1949, 12, 31)


@pytest.mark.parametrize(
    ("area", "birth", "seq"),
    [
        ("320102", datetime.date(1990, 5, 17), "123"),
        ("440305", datetime.date(2000, 2, 29), "001"),
        ("910000", datetime.date(1900, 1, 1), "999"),
        ("110101", datetime.date(1985, 10, 1), "000"),
    ],
)
def test_made_numbers_are_valid(area, birth, seq):
    value = make_national_id(area, birth, seq)
    assert len(value) == 18
    assert value.startswith(f"{area}{birth:%Y%m%d}{seq}")
    assert is_valid_national_id(value)
    assert national_id_birth_date(value) == birth


def test_every_wrong_check_character_is_rejected():
    for char in "0123456789X":
        if char != SAMPLE_ID[-1]:
            assert not is_valid_national_id(SAMPLE_ID[:17] + char)


@pytest.mark.parametrize(
    "birth",
    [
        "19900230",  # 30 February
        "19000229",  # 1900 was not a leap year
        "19901301",  # month 13
        "19900001",  # month 0
        "19900100",  # day 0
        "19900132",
        "18991231",  # before 1900
        "20250616",  # the day after TODAY
        "30000101",
    ],
)
def test_impossible_or_out_of_range_birth_dates_are_rejected(birth):
    value = with_check(f"110105{birth}002")
    assert not is_valid_national_id(value, today=TODAY)


@pytest.mark.parametrize("birth", ["20000229", "19000101", "20250615"])
def test_boundary_birth_dates_are_accepted(birth):
    assert is_valid_national_id(with_check(f"110105{birth}002"), today=TODAY)


def test_future_birth_date_is_rejected_against_the_real_today():
    tomorrow = datetime.date.today() + datetime.timedelta(days=2)
    assert not is_valid_national_id(with_check(f"110105{tomorrow:%Y%m%d}002"))


@pytest.mark.parametrize("province", PROVINCES)
def test_every_listed_province_is_accepted(province):
    assert is_valid_national_id(with_check(f"{province:02d}0105199001010021"[:17]))


@pytest.mark.parametrize(
    "province", [0, 10, 16, 20, 24, 30, 38, 40, 47, 49, 55, 60, 66, 70, 72, 80, 83, 90, 92, 99]
)
def test_unknown_provinces_are_rejected(province):
    assert not is_valid_national_id(with_check(f"{province:02d}010519491231002"))


@pytest.mark.parametrize(
    "value",
    [
        "",
        SAMPLE_ID[:17],  # 17 characters
        SAMPLE_ID + "0",  # 19 characters
        "110105491231002",  # the old 15-digit format
        "1101051949123100XX",  # X only as the check character
        "11010519491231A02X",
        "11010519491231 002X",
        SAMPLE_ID.translate(FULLWIDTH),
        SAMPLE_ID.translate(ARABIC_INDIC),
    ],
)
def test_malformed_numbers_are_rejected(value):
    assert not is_valid_national_id(value)
    assert national_id_birth_date(value) is None


@pytest.mark.parametrize("value", [None, 11010519491231002, b"11010519491231002X"])
def test_non_strings_are_rejected(value):
    assert not is_valid_national_id(value)


@pytest.mark.parametrize("first17", ["", "1101051949123100", "1101051949123100X", "1" * 18])
def test_check_char_needs_exactly_17_digits(first17):
    with pytest.raises(ValueError):
        national_id_check_char(first17)


@pytest.mark.parametrize(
    ("area", "birth", "seq"),
    [
        ("32010", datetime.date(1990, 1, 1), "123"),
        ("3201022", datetime.date(1990, 1, 1), "123"),
        ("990101", datetime.date(1990, 1, 1), "123"),
        ("32O102", datetime.date(1990, 1, 1), "123"),
        ("320102", datetime.date(1990, 1, 1), "12"),
        ("320102", datetime.date(1990, 1, 1), "12a"),
        ("320102", datetime.date(1899, 12, 31), "123"),
        ("320102", datetime.date.today() + datetime.timedelta(days=2), "123"),
    ],
)
def test_make_national_id_refuses_what_would_be_invalid(area, birth, seq):
    with pytest.raises(ValueError):
        make_national_id(area, birth, seq)


def test_django_validator_uses_a_translated_message():
    validate_national_id(SAMPLE_ID)
    with pytest.raises(ValidationError) as excinfo:
        validate_national_id(SAMPLE_ID[:17] + "1")
    assert excinfo.value.code == "invalid_national_id"
    assert "resident identity number" in excinfo.value.messages[0]


# --- Identity numbers: properties ----------------------------------------------------------------

areas = st.builds(
    lambda province, rest: f"{province:02d}{rest:04d}",
    st.sampled_from(PROVINCES),
    st.integers(0, 9999),
)
# A day of margin: the validator's "today" is in TIME_ZONE, not the machine's zone.
births = st.dates(
    min_value=datetime.date(1900, 1, 1),
    max_value=datetime.date.today() - datetime.timedelta(days=1),
)
seqs = st.integers(0, 999).map(lambda n: f"{n:03d}")
national_ids = st.builds(make_national_id, areas, births, seqs)


@given(areas, births, seqs)
def test_every_made_number_is_valid(area, birth, seq):
    value = make_national_id(area, birth, seq)
    assert is_valid_national_id(value)
    assert national_id_birth_date(value) == birth
    assert is_valid_national_id(value.lower())


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_check_char_matches_the_iso7064_definition(first17):
    assert national_id_check_char(first17) == iso7064_check(first17)


@given(national_ids, st.integers(0, 16), st.integers(1, 9))
def test_any_single_changed_digit_is_caught(value, position, shift):
    digit = str((int(value[position]) + shift) % 10)
    changed = value[:position] + digit + value[position + 1 :]
    assert changed != value
    assert not is_valid_national_id(changed)


@given(national_ids, st.integers(0, 15))
def test_swapped_adjacent_digits_are_caught(value, position):
    a, b = value[position], value[position + 1]
    swapped = value[:position] + b + a + value[position + 2 :]
    assert is_valid_national_id(swapped) == (a == b)


# --- Mobile numbers ------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["13800138000", "19912345678", "15000000000", "+8613800138000"])
def test_valid_mobiles(value):
    assert is_valid_mainland_mobile(value)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "12800138000",  # second digit 2
        "10800138000",
        "23800138000",
        "1380013800",  # 10 digits
        "138001380001",  # 12 digits
        "138 0013 8000",  # separators must be removed by normalise_phone first
        "138-0013-8000",
        "008613800138000",  # likewise the 0086 prefix
        "+85213800138000",
        "+86 13800138000",
        "13800138000".translate(FULLWIDTH),
        "13800138000\n",
        None,
        13800138000,
    ],
)
def test_invalid_mobiles(value):
    assert not is_valid_mainland_mobile(value)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("13800138000", "13800138000"),
        ("  138 0013 8000 ", "13800138000"),
        ("138-0013-8000", "13800138000"),
        ("+86 138-0013-8000", "13800138000"),
        ("+8613800138000", "13800138000"),
        ("0086 13800138000", "13800138000"),
        ("+852 6123 4567", "+85261234567"),  # other countries keep their prefix
        ("8613800138000", "8613800138000"),  # a bare 86 is ambiguous, so it stays
    ],
)
def test_normalise_phone(typed, expected):
    assert normalise_phone(typed) == expected


def test_normalised_typed_numbers_validate():
    assert is_valid_mainland_mobile(normalise_phone("+86 138-0013-8000"))
    assert not is_valid_mainland_mobile(normalise_phone("+852 6123 4567"))


def test_django_mobile_validator_normalises_first():
    validate_mainland_mobile("+86 138 0013 8000")
    with pytest.raises(ValidationError) as excinfo:
        validate_mainland_mobile("12800138000")
    assert excinfo.value.code == "invalid_mobile"
    assert "11-digit mainland mobile number" in excinfo.value.messages[0]


# --- Masking -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kwargs", "expected"),
    [
        ("320102199005171234", {}, "3201**********1234"),
        (SAMPLE_ID, {}, "1101**********002X"),
        ("13800138000", {"keep_start": 3, "keep_end": 4}, "138****8000"),
        ("13800138000", {"keep_start": 0, "keep_end": 0}, "***********"),
        ("13800138000", {"keep_start": 3, "keep_end": 0}, "138********"),
        ("123456789", {}, "1234*6789"),
        ("12345678", {}, "*******8"),  # len == keep_start + keep_end: nothing could be hidden
        ("abc", {}, "**c"),
        ("a", {}, "*"),
        ("", {}, ""),
    ],
)
def test_mask_value(value, kwargs, expected):
    assert mask_value(value, **kwargs) == expected


def test_mask_value_refuses_negative_margins():
    with pytest.raises(ValueError):
        mask_value("13800138000", keep_start=-1)


@given(
    st.text(alphabet=st.characters(blacklist_characters="*"), max_size=40),
    st.integers(0, 8),
    st.integers(0, 8),
)
def test_mask_keeps_length_and_reveals_only_the_margins(value, keep_start, keep_end):
    masked = mask_value(value, keep_start=keep_start, keep_end=keep_end)
    assert len(masked) == len(value)
    if len(value) > keep_start + keep_end:
        shown = set(range(keep_start)) | set(range(len(value) - keep_end, len(value)))
    else:
        shown = {len(value) - 1} if len(value) > 1 else set()
    for index, (m, v) in enumerate(zip(masked, value, strict=True)):
        assert m == (v if index in shown else "*")

"""Masking per kind of value: enough to recognise, not enough to use."""

from types import SimpleNamespace

import pytest

from services.masking import mask


@pytest.mark.parametrize(
    ("kind", "value", "shown"),
    [
        ("national_id", "11010519491231002X", "1101**********002X"),
        ("phone", "13812345678", "138****5678"),
        ("date", "1990-05-17", "1990-**-**"),
        ("email", "wang@example.com", "w***@example.com"),
        ("address", "北京市东城区景山前街4号", "北京市东城区…"),
        ("string", "Wang Fang", "W*******g"),
        ("boolean", True, "•••"),
        ("string", "", ""),
    ],
)
def test_masks(kind, value, shown):
    assert mask(SimpleNamespace(type=kind), value) == shown

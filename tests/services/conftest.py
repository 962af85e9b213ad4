"""Fixtures of the citizen-side tests: the demo catalog, citizens and their API clients."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.actions import department_create
from demo.accounts import DEPARTMENTS
from demo.seed import seed_catalog
from services.validators import make_national_id
from tests.factories import UserFactory

NATIONAL_ID = make_national_id("110105", datetime.date(1988, 3, 14), "417")
OTHER_NATIONAL_ID = make_national_id("310104", datetime.date(1975, 11, 2), "038")

# Distinctive values, so a search of raw rows cannot match anything else by chance.
APPLICANT: dict[str, Any] = {
    "applicant.full_name": "Ouyang Nana",
    "applicant.national_id": NATIONAL_ID,
    "applicant.date_of_birth": "1988-03-14",
    "applicant.phone": "13987654321",
    "applicant.address": "Jianguo Road 88, Chaoyang, Beijing",
}
MOVING: dict[str, Any] = {
    **APPLICANT,
    "move.new_address": "Caoxi North Road 201, Xuhui, Shanghai",
    "move.date": "2026-12-15",
    "household.size": 4,
    "household.has_vehicle": False,
    "household.has_school_children": False,
}
BUSINESS: dict[str, Any] = {
    "business.name": "Nana Dumplings",
    "business.form": "sole_trader",
    "business.address": "Zhongguancun Street 1, Haidian, Beijing",
    "business.activity": "A small dumpling restaurant.",
    "business.start_date": "2027-01-10",
    "business.has_employees": False,
}
NEWBORN: dict[str, Any] = {
    **APPLICANT,
    "parent.full_name": "Li Hualong",
    "parent.national_id": OTHER_NATIONAL_ID,
    "child.full_name": "Ouyang Xiaohong",
    "child.date_of_birth": "2026-11-01",
    "child.sex": "female",
    "birth.hospital": "Peking Union Medical College Hospital",
    "birth.claim_allowance": False,
}
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path) -> None:
    """Uploaded files go to a per-test folder, not the project's var/."""
    settings.MEDIA_ROOT = tmp_path / "private-media"


@pytest.fixture
def catalog(db) -> None:
    """The demo departments and the demo catalog, made through the real actions."""
    for slug, name, email in DEPARTMENTS:
        department_create(actor=None, slug=slug, name=name, contact_email=email)
    seed_catalog()


@pytest.fixture
def citizen(db):
    return UserFactory()


@pytest.fixture
def other_citizen(db):
    return UserFactory()


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def api(citizen) -> APIClient:
    return client_for(citizen)


@pytest.fixture
def other_api(other_citizen) -> APIClient:
    return client_for(other_citizen)

"""Contract commands: seed_demo (idempotent) and issue_token."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.test import APIClient

from accounts.models import Department, Membership, User
from audit.models import AuditEvent
from demo.accounts import DEPARTMENTS

pytestmark = pytest.mark.django_db

DEMO_PASSWORD = "demo-password-for-tests"


@pytest.fixture
def seeded(monkeypatch, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    monkeypatch.setenv("DEMO_PASSWORD", DEMO_PASSWORD)
    call_command("seed_demo", stdout=StringIO())


def _counts():
    return (
        User.objects.count(),
        Department.objects.count(),
        Membership.objects.count(),
        AuditEvent.objects.count(),
    )


def test_seed_demo_creates_departments_and_every_demo_account(seeded):
    assert Department.objects.count() >= 6
    expected = {"citizen@demo.gov", "citizen2@demo.gov", "supervisor@demo.gov", "admin@demo.gov"}
    for slug, _name, _email in DEPARTMENTS:
        expected |= {f"clerk.{slug}@demo.gov", f"lead.{slug}@demo.gov"}
    assert expected <= set(User.objects.values_list("email", flat=True))
    assert User.objects.get(email="lead.tax@demo.gov").primary_role == "lead"
    assert User.objects.get(email="clerk.tax@demo.gov").primary_role == "clerk"
    assert User.objects.get(email="supervisor@demo.gov").primary_role == "supervisor"
    assert User.objects.get(email="admin@demo.gov").is_superuser


def test_seed_demo_is_idempotent(seeded):
    before = _counts()
    call_command("seed_demo", stdout=StringIO())
    assert _counts() == before


def test_demo_accounts_can_sign_in_with_the_demo_password(seeded, client):
    response = client.post(
        "/accounts/login/", {"login": "citizen@demo.gov", "password": DEMO_PASSWORD}
    )
    assert response.status_code == 302
    assert client.get("/").context["user"].email == "citizen@demo.gov"


def test_seed_demo_generates_and_keeps_a_password(monkeypatch, settings, tmp_path, capsys):
    settings.VAR_DIR = tmp_path
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    call_command("seed_demo")
    printed = capsys.readouterr().out
    password = (tmp_path / "demo-password.txt").read_text().strip()
    assert password in printed
    call_command("seed_demo")
    assert User.objects.get(email="admin@demo.gov").check_password(password)


def test_issue_token_prints_a_token_that_authenticates(seeded, capsys):
    call_command("issue_token", "clerk.tax@demo.gov")
    key = capsys.readouterr().out.strip()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = api.get("/api/v1/me/")
    assert response.status_code == 200
    assert response.json()["role"] == "clerk"
    assert response.json()["memberships"][0]["department"] == "tax"


def test_issue_token_for_an_unknown_email_fails(db):
    with pytest.raises(CommandError, match="No user"):
        call_command("issue_token", "nobody@example.org")

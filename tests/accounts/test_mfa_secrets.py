"""TOTP secrets and recovery codes encrypted at rest (allauth's MFA adapter hooks, with the
personal-data keys): the database row holds no base32 secret and no recovery code; sign-in with
TOTP still works; a wrong key or a value written in clear fails loudly; rows stored in clear
before are encrypted by the data migration and by `rotate_keys`, which also moves them to the
newest key."""

from __future__ import annotations

import importlib
from io import StringIO

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from django.apps import apps
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection

from privacy import crypto
from tests.data import K1, K2
from tests.factories import PASSWORD, TOTP_SECRET, MembershipFactory
from tests.support import totp_code

pytestmark = pytest.mark.django_db


def raw_authenticators() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT data FROM mfa_authenticator")
        return " ".join(str(row[0]) for row in cursor.fetchall())


def current_code() -> str:
    return totp_code(TOTP_SECRET)


def sign_in_with_totp(client, user) -> bool:
    cache.clear()  # allauth remembers used codes
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert response["Location"] == "/accounts/2fa/authenticate/"
    client.post("/accounts/2fa/authenticate/", {"code": current_code()})
    return client.get("/workbench/").status_code == 200


def totp_of(user) -> Authenticator:
    return Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)


def test_the_totp_row_holds_no_secret_and_sign_in_works(client):
    clerk = MembershipFactory().user
    raw = raw_authenticators()
    assert TOTP_SECRET not in raw and TOTP_SECRET.lower() not in raw
    assert crypto.is_encrypted(totp_of(clerk).data["secret"])
    assert sign_in_with_totp(client, clerk)


def test_recovery_codes_are_not_stored_in_clear():
    clerk = MembershipFactory().user
    codes = RecoveryCodes.activate(clerk)
    generated = codes.generate_codes()
    row = Authenticator.objects.get(user=clerk, type=Authenticator.Type.RECOVERY_CODES)
    raw = raw_authenticators()
    assert crypto.is_encrypted(row.data["seed"])
    assert not [code for code in generated if code in raw]
    assert RecoveryCodes(row).validate_code(generated[0])
    assert not RecoveryCodes(row).validate_code(generated[0])  # used once


def test_a_wrong_key_fails_loudly(keys):
    keys(K1, "k1")
    clerk = MembershipFactory().user
    cache.clear()  # allauth remembers used codes by authenticator id, which SQLite reuses
    assert TOTP(totp_of(clerk)).validate_code(current_code())
    keys(K2, "k2")  # the key the secret was encrypted with is gone
    with pytest.raises(crypto.DecryptionError):
        TOTP(totp_of(clerk)).validate_code(current_code())


def test_a_secret_written_in_clear_is_refused():
    """Someone with the database role replaces a secret with one they know: not accepted."""
    clerk = MembershipFactory().user
    Authenticator.objects.filter(pk=totp_of(clerk).pk).update(data={"secret": TOTP_SECRET})
    with pytest.raises(crypto.DecryptionError):
        TOTP(totp_of(clerk)).validate_code(current_code())


def test_the_data_migration_encrypts_clear_secrets(client):
    clerk = MembershipFactory().user
    RecoveryCodes.activate(clerk)
    Authenticator.objects.filter(pk=totp_of(clerk).pk).update(data={"secret": TOTP_SECRET})
    Authenticator.objects.filter(type=Authenticator.Type.RECOVERY_CODES).update(
        data={"seed": "ab" * 40, "used_mask": 0, "migrated_codes": ["12345678"]}
    )
    migration = importlib.import_module(
        "accounts.migrations.0003_drop_clear_tokens_encrypt_mfa_secrets"
    )
    migration.encrypt_mfa_secrets(apps, None)
    raw = raw_authenticators()
    assert TOTP_SECRET not in raw and "ab" * 40 not in raw and "12345678" not in raw
    assert sign_in_with_totp(client, clerk)
    codes = Authenticator.objects.get(type=Authenticator.Type.RECOVERY_CODES)
    assert RecoveryCodes(codes).validate_code("12345678")
    before = raw_authenticators()
    migration.encrypt_mfa_secrets(apps, None)  # a second run changes nothing
    assert raw_authenticators() == before


def test_rotate_keys_moves_mfa_secrets_to_the_new_key_and_encrypts_clear_ones(
    client,
    keys,
):
    keys(K1, "k1")
    clerk, other = MembershipFactory().user, MembershipFactory().user
    Authenticator.objects.filter(pk=totp_of(other).pk).update(data={"secret": TOTP_SECRET})
    keys(f"{K1},{K2}", "k2")
    out = StringIO()
    call_command("rotate_keys", stdout=out)
    assert "two-factor authenticators: 2" in out.getvalue()
    keys(K2, "k2")  # the old key can go
    for user in (clerk, other):
        assert totp_of(user).data["secret"].startswith("v1:k2:")
        client.logout()
        assert sign_in_with_totp(client, user)

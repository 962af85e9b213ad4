"""Key rotation: every personal value re-encrypted under the newest key, resumable; the old
key can then be removed and everything still reads."""

from io import StringIO

import pytest
from allauth.mfa.models import Authenticator
from django.core.management import call_command
from django.db import connection

from privacy import rotation
from services import actions
from services.models import Application
from tests.data import K1, K2
from tests.factories import UserFactory, submit_moving

pytestmark = pytest.mark.django_db


def raw_answers():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT answers FROM services_application "
            "UNION ALL SELECT data FROM services_citizenprofile"
        )
        return " ".join(str(r[0]) for r in cursor.fetchall())


def test_rotation_moves_every_value_to_the_new_key(on_k1, demo, keys):
    applications = [submit_moving() for _ in range(3)]
    actions.profile_update(user=UserFactory(), facts={"applicant.phone": "13812345678"})
    assert "v1:k1:" in raw_answers() and "v1:k2:" not in raw_answers()

    keys(f"{K1},{K2}", "k2")
    out = StringIO()
    call_command("rotate_keys", "--batch", "2", stdout=out)
    authenticators = Authenticator.objects.count()  # the demo staff's TOTP
    assert "applications: 3/3" in out.getvalue()
    assert f"{4 + authenticators} rows re-encrypted" in out.getvalue()
    assert "v1:k1:" not in raw_answers() and "v1:k2:" in raw_answers()

    out = StringIO()
    call_command("rotate_keys", stdout=out)  # resuming or re-running finds nothing to do
    assert "0 rows re-encrypted" in out.getvalue()

    keys(K2, "k2")  # the old key is gone
    for application in applications:
        assert (
            actions.application_answers(Application.objects.get(pk=application.pk))[
                "applicant.full_name"
            ]
            == "Li Wei"
        )


def test_an_interrupted_rotation_resumes(on_k1, demo, keys):
    for _ in range(4):
        submit_moving()
    keys(f"{K1},{K2}", "k2")
    _after, scanned, changed = rotation.step("application").batch(after_pk=0, batch=2)
    assert (scanned, changed) == (2, 2)
    out = StringIO()
    call_command("rotate_keys", stdout=out)  # a new run: the first two are skipped
    assert f"{2 + Authenticator.objects.count()} rows re-encrypted" in out.getvalue()
    assert "v1:k1:" not in raw_answers()

"""Submitting queues the confirmation email on the notifications queue; a real worker sends it."""

from io import StringIO

import pytest
from django.core.management import call_command

from services import actions
from services.selectors import versions_published_for
from tests.data import LI_WEI_MOVING_OF_TWO
from tests.factories import UserFactory
from tests.support import wait_for

pytestmark = [pytest.mark.services, pytest.mark.worker]

ANSWERS = LI_WEI_MOVING_OF_TWO


def test_the_worker_sends_the_confirmation_email_after_submit(live_worker):
    call_command("seed_demo", stdout=StringIO())
    citizen = UserFactory(email="mover@example.org")
    versions = versions_published_for(slugs=["moving-house"])
    application = actions.application_create(citizen=citizen, versions=versions, answers=ANSWERS)
    actions.application_submit(application=application, actor=citizen)

    emails = wait_for(lambda: [e for e in live_worker.emails() if application.reference in e])
    message = emails[0]
    assert "To: mover@example.org" in message
    assert f"/applications/{application.reference}/" in message
    # The email names the reference and services, never the answers.
    assert "11010519491231002X" not in message and "Li Wei" not in message

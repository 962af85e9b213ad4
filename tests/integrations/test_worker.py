"""With a real Celery worker: a committed change wakes `integrations.tasks.notify_webhooks` on
the notifications queue, which delivers to a real receiver."""

from __future__ import annotations

from standardwebhooks import Webhook

from accounts.models import Department, User
from integrations import actions
from integrations.models import Delivery
from tests.factories import ApplicationFactory
from tests.integrations.receiver import LocalReceiver
from tests.support import wait_for


def test_a_committed_change_is_delivered_by_the_worker(demo, live_worker, local_receiver):
    created = actions.subscription_create(
        actor=User.objects.get(email="admin@demo.gov"),
        department=Department.objects.get(slug="tax"),
        url=f"{local_receiver}/hooks",
        events=["case.opened"],
    )
    ApplicationFactory(routed=True)
    delivered = wait_for(
        lambda: Delivery.objects.filter(status="delivered").first(),
        diagnostics=live_worker.output,
    )
    (path, headers, body), *_rest = LocalReceiver.received
    assert path == "/hooks" and not _rest
    event = Webhook(created.secret).verify(body, headers)
    assert event["data"]["case"] == delivered.case.reference

"""The webhooks' management, pages and API: administrators for every department, leads for
theirs, everyone else refused (404 on pages, 403 from the API); bad input is a 400 that changes
nothing; every write is audited."""

from __future__ import annotations

import pytest
from standardwebhooks import Webhook

from accounts.models import Department, User
from audit.models import AuditEvent
from integrations.models import Delivery, Subscription
from tests.factories import api_for

pytestmark = pytest.mark.django_db

NEW = {
    "department": "tax",
    "url": "https://127.0.0.1/hooks",
    "events": ["case.opened", "case.closed"],
    "label": "Tax back office",
}


def _created(who: str = "admin@demo.gov", **more) -> dict:
    response = api_for(who).post("/api/v1/webhooks/", {**NEW, **more}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_a_lead_registers_lists_changes_and_deletes_their_department_s(demo):
    created = _created("lead.tax@demo.gov")
    assert created["secret"].startswith("whsec_")
    subscription = created["subscription"]
    assert subscription["department"] == "tax" and subscription["status"] == "active"
    assert subscription["secrets"][0]["prefix"] == created["secret"][:12]
    lead = api_for("lead.tax@demo.gov")
    listed = lead.get("/api/v1/webhooks/").json()
    assert [s["id"] for s in listed["results"]] == [subscription["id"]]
    assert "secret" not in str(listed["results"][0]).replace("secrets", "")
    url = f"/api/v1/webhooks/{subscription['id']}/"
    changed = lead.patch(url, {"events": ["case.changed"], "include_personal": True}, format="json")
    assert changed.status_code == 200
    assert changed.json()["events"] == ["case.changed"] and changed.json()["include_personal"]
    assert lead.post(f"{url}pause/").json()["status"] == "paused"
    assert lead.post(f"{url}resume/").json()["status"] == "active"
    rotated = lead.post(f"{url}rotate/", {"overlap_hours": 1}, format="json").json()
    assert rotated["secret"] != created["secret"] and len(rotated["subscription"]["secrets"]) == 2
    assert lead.get(f"{url}deliveries/").json()["results"] == []
    assert lead.post(f"{url}replay-failed/").json() == {"replayed": 0}
    assert lead.delete(url).status_code == 204
    assert lead.get(url).status_code == 404
    actions = list(
        AuditEvent.objects.filter(action__startswith="webhook.").values_list("action", flat=True)
    )
    assert actions == [
        "webhook.create",
        "webhook.update",
        "webhook.pause",
        "webhook.resume",
        "webhook.rotate",
        "webhook.delete",
    ]  # replaying nothing records nothing


@pytest.mark.parametrize("who", ["clerk.tax@demo.gov", "supervisor@demo.gov", "citizen@demo.gov"])
def test_others_are_refused_by_the_api_and_do_not_see_the_pages(demo, client, who):
    created = _created()["subscription"]
    api = api_for(who)
    assert api.get("/api/v1/webhooks/").status_code == 403
    assert api.post("/api/v1/webhooks/", NEW, format="json").status_code == 403
    assert api.post(f"/api/v1/webhooks/{created['id']}/pause/").status_code == 403
    client.force_login(User.objects.get(email=who))
    assert client.get("/webhooks/").status_code == 404
    assert client.get(f"/webhooks/{created['id']}/").status_code == 404
    assert client.post(f"/webhooks/{created['id']}/delete/").status_code == 404
    assert Subscription.objects.get().status == "active"
    assert Subscription.objects.count() == 1


def test_a_lead_of_another_department_gets_404_and_cannot_register_for_it(demo, client):
    created = _created()["subscription"]
    other = api_for("lead.transport@demo.gov")
    assert other.get("/api/v1/webhooks/").json()["results"] == []
    assert other.get(f"/api/v1/webhooks/{created['id']}/").status_code == 404
    assert other.post(f"/api/v1/webhooks/{created['id']}/rotate/").status_code == 404
    refused = other.post("/api/v1/webhooks/", NEW, format="json")
    assert refused.status_code == 400 and "department" in refused.json()["errors"]
    client.force_login(User.objects.get(email="lead.transport@demo.gov"))
    assert client.get(f"/webhooks/{created['id']}/").status_code == 404
    assert Subscription.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"url": "not an address"}, "url"),
        ({"url": "http://127.0.0.1/hooks"}, "url"),
        ({"url": "https://192.168.1.10/hooks"}, "url"),
        ({"events": ["case.exploded"]}, "events"),
        ({"events": []}, "events"),
        ({"events": "case.opened"}, "events"),
        ({"label": "x" * 101}, "label"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_input_is_a_400_and_changes_nothing(demo, settings, change, field):
    created = _created()["subscription"]
    settings.WEBHOOK_ALLOW_HTTP = False
    admin = api_for("admin@demo.gov")
    before = AuditEvent.objects.count()
    response = admin.post("/api/v1/webhooks/", {**NEW, **change}, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    response = admin.patch(f"/api/v1/webhooks/{created['id']}/", change, format="json")
    assert response.status_code == 400 and field in response.json()["errors"]
    assert Subscription.objects.count() == 1 and AuditEvent.objects.count() == before
    assert Subscription.objects.get().url == NEW["url"]
    assert Subscription.objects.get().events == NEW["events"]


def test_the_delivery_log_filters_pages_and_replays(demo, tax_subscription, webhook_receiver):
    import httpx

    from integrations import delivery
    from tests.factories import ApplicationFactory

    created, _admin = tax_subscription
    webhook_receiver.answer = lambda r: httpx.Response(500, text="down")
    ApplicationFactory(routed=True)
    delivery.send_due()
    Delivery.objects.update(status="failed")
    admin = api_for("admin@demo.gov")
    url = f"/api/v1/webhooks/{created.subscription.pk}/deliveries/"
    rows = admin.get(f"{url}?status=failed").json()["results"]
    assert [(r["status"], r["last_status_code"], r["attempts"]) for r in rows] == [
        ("failed", 500, 1)
    ]
    assert rows[0]["last_error"] == "HTTP 500" and rows[0]["last_latency_ms"] is not None
    assert admin.get(f"{url}?status=delivered").json()["results"] == []
    assert admin.get(f"{url}?status=bogus").status_code == 400
    assert admin.get(f"{url}?page_size=0").status_code == 400
    replayed = admin.post(f"{url}{rows[0]['id']}/replay/").json()
    assert replayed["status"] == "pending" and replayed["attempts"] == 0
    webhook_receiver.answer = lambda r: httpx.Response(200)
    delivery.send_due()
    request = webhook_receiver.requests[-1]
    Webhook(created.secret).verify(request.content, dict(request.headers))
    assert admin.get(f"{url}?status=delivered").json()["count"] == 1


def test_the_pages_register_show_the_secret_once_and_act(demo, client, webhook_receiver):
    client.force_login(User.objects.get(email="lead.tax@demo.gov"))
    page = client.get("/webhooks/")
    assert page.status_code == 200 and b"Register an endpoint" in page.content
    refused = client.post("/webhooks/", {**NEW, "events": ["case.nope"]})
    assert refused.status_code == 400 and not Subscription.objects.exists()
    shown = client.post("/webhooks/", NEW)
    assert shown.status_code == 200 and b"whsec_" in shown.content
    subscription = Subscription.objects.get()
    assert subscription.department == Department.objects.get(slug="tax")
    detail = client.get(f"/webhooks/{subscription.pk}/")
    assert detail.status_code == 200 and b"whsec_" not in detail.content.replace(
        subscription.secrets.get().prefix.encode(), b""
    )
    assert client.post(f"/webhooks/{subscription.pk}/pause/").status_code == 302
    subscription.refresh_from_db()
    assert subscription.status == "paused"
    rotated = client.post(f"/webhooks/{subscription.pk}/rotate/", {"overlap_hours": "2"})
    assert rotated.status_code == 200 and b"whsec_" in rotated.content
    changed = client.post(
        f"/webhooks/{subscription.pk}/", {**NEW, "label": "Renamed", "include_personal": "on"}
    )
    assert changed.status_code == 302
    subscription.refresh_from_db()
    assert subscription.label == "Renamed" and subscription.include_personal
    assert client.post(f"/webhooks/{subscription.pk}/nonsense/").status_code == 404
    assert client.post(f"/webhooks/{subscription.pk}/delete/").status_code == 302
    assert client.get(f"/webhooks/{subscription.pk}/").status_code == 404


def test_the_pages_in_chinese(demo, client, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    _created()
    client.force_login(User.objects.get(email="admin@demo.gov"))
    page = client.get("/webhooks/", headers={"accept-language": "zh-hans"})
    assert page.status_code == 200

"""Changing a subscription and replaying deliveries under load and at the edges: the address is
checked before the row is locked (and not again when it did not change); the audit log says
where the data goes; a replay never sends an older state of a case after a newer one and does
not wait for a delivery being sent; the rotate page reads the overlap as the API does; IPv6
addresses carrying a refused IPv4 one, site-local ones and international host names."""

from __future__ import annotations

import ipaddress
import re
import socket

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Department, User
from audit.models import AuditEvent
from core.errors import WrongState
from integrations import actions, safety
from integrations.constants import EventType
from integrations.models import Delivery, Subscription, SubscriptionSecret
from tests.factories import ApplicationFactory, api_for, clerk_of
from workflows import actions as workflow_actions

pytestmark = pytest.mark.django_db

_real_getaddrinfo = socket.getaddrinfo


class FakeDns:
    """Names under `.test` resolve to 127.0.0.1 while `working`, and fail otherwise; every
    other name goes to the real resolver. Records the names asked and, when `queries` is set,
    how many queries had run at each lookup."""

    def __init__(self) -> None:
        self.working = True
        self.asked: list[str] = []
        self.queries: CaptureQueriesContext | None = None
        self.queries_at_lookup: list[int] = []

    def __call__(self, host, port, *args, **kwargs):
        if not str(host).endswith(".test"):
            return _real_getaddrinfo(host, port, *args, **kwargs)
        self.asked.append(host)
        if self.queries is not None:
            self.queries_at_lookup.append(len(self.queries.captured_queries))
        if not self.working:
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]


@pytest.fixture
def dns(monkeypatch) -> FakeDns:
    fake = FakeDns()
    monkeypatch.setattr(safety.socket, "getaddrinfo", fake)
    return fake


def _create(url: str = "https://hooks.tax.test/in") -> Subscription:
    return actions.subscription_create(
        actor=User.objects.get(email="admin@demo.gov"),
        department=Department.objects.get(slug="tax"),
        url=url,
        events=list(EventType.values),
    ).subscription


# --- Changing a subscription -------------------------------------------------------------------


def test_the_address_is_resolved_before_the_row_is_locked(demo, dns):
    subscription = _create()
    with CaptureQueriesContext(connection) as queries:
        dns.queries = queries
        actions.subscription_update(
            actor=User.objects.get(email="lead.tax@demo.gov"),
            subscription=subscription,
            url="https://other.tax.test/in",
        )
    assert dns.asked[-1] == "other.tax.test"
    sql = [q["sql"] for q in queries.captured_queries]
    locks = [n for n, text in enumerate(sql) if re.search(r"FOR (NO KEY )?UPDATE", text)]
    if connection.vendor == "postgresql":  # SQLite locks the whole database, with no clause
        assert locks, sql
        assert all(n >= dns.queries_at_lookup[-1] for n in locks)
        assert all("FOR NO KEY UPDATE" in sql[n] for n in locks)
    assert Subscription.objects.get().url == "https://other.tax.test/in"


def test_the_label_and_personal_values_change_while_the_endpoint_does_not_resolve(demo, dns):
    subscription = _create()
    dns.working = False
    lead = api_for("lead.tax@demo.gov")
    url = f"/api/v1/webhooks/{subscription.pk}/"
    changed = lead.patch(url, {"label": "Tax", "include_personal": False}, format="json")
    assert changed.status_code == 200, changed.content
    same_url = lead.patch(url, {"url": subscription.url, "label": "Tax 2"}, format="json")
    assert same_url.status_code == 200, same_url.content
    assert Subscription.objects.get().label == "Tax 2"
    moved = lead.patch(url, {"url": "https://elsewhere.tax.test/in"}, format="json")
    assert moved.status_code == 400 and "url" in moved.json()["errors"]
    assert Subscription.objects.get().url == subscription.url


def test_a_change_made_meanwhile_is_kept_not_undone(demo, dns, monkeypatch):
    subscription = _create()
    stale = Subscription.objects.get()  # read before another lead's change committed
    Subscription.objects.update(events=["case.closed"], url="https://moved.tax.test/in")
    monkeypatch.setattr(actions, "_live", lambda _s: stale)
    lead = User.objects.get(email="lead.tax@demo.gov")
    actions.subscription_update(actor=lead, subscription=subscription, label="Renamed")
    kept = Subscription.objects.get()
    assert (kept.label, kept.events, kept.url) == (
        "Renamed",
        ["case.closed"],
        "https://moved.tax.test/in",
    )
    with pytest.raises(WrongState):  # the old address, not checked again, would replace it
        actions.subscription_update(actor=lead, subscription=subscription, url=stale.url)
    assert Subscription.objects.get().url == "https://moved.tax.test/in"


def test_the_audit_log_says_where_the_data_goes_without_path_or_query(demo, dns):
    subscription = _create("https://hooks.tax.test:8443/in?token=s3cret")
    created = AuditEvent.objects.get(action="webhook.create")
    assert created.details["endpoint"] == "https://hooks.tax.test:8443"
    actions.subscription_update(
        actor=User.objects.get(email="lead.tax@demo.gov"),
        subscription=subscription,
        url="https://other.tax.test/path?key=k3y",
    )
    updated = AuditEvent.objects.get(action="webhook.update")
    assert updated.details["endpoint_from"] == "https://hooks.tax.test:8443"
    assert updated.details["endpoint_to"] == "https://other.tax.test"
    actions.subscription_update(
        actor=User.objects.get(email="lead.tax@demo.gov"), subscription=subscription, label="L"
    )
    relabelled = AuditEvent.objects.filter(action="webhook.update").order_by("pk").last()
    assert "endpoint_to" not in relabelled.details
    for event in AuditEvent.objects.filter(action__startswith="webhook."):
        assert "s3cret" not in str(event.details) and "k3y" not in str(event.details)
        assert "/in" not in str(event.details) and "/path" not in str(event.details)


# --- Replaying a delivery ----------------------------------------------------------------------


def _two_deliveries(subscription: Subscription) -> tuple[Delivery, Delivery]:
    application = ApplicationFactory(routed=True, vehicle=True)
    case = application.cases.select_related("department").get(step="tax")
    workflow_actions.case_claim(case=case, actor=clerk_of(case.department))
    first, second = Delivery.objects.filter(subscription=subscription, case=case).order_by(
        "sequence"
    )
    return first, second


def _replay_url(delivery: Delivery) -> str:
    return f"/api/v1/webhooks/{delivery.subscription_id}/deliveries/{delivery.pk}/replay/"


def test_a_delivered_event_followed_by_another_is_not_replayed(tax_subscription):
    created, _admin = tax_subscription
    first, second = _two_deliveries(created.subscription)
    Delivery.objects.update(status="delivered", attempts=1)
    admin = api_for("admin@demo.gov")
    before = AuditEvent.objects.count()
    refused = admin.post(_replay_url(first))
    assert refused.status_code == 409 and "detail" in refused.json()
    first.refresh_from_db()
    assert first.status == "delivered" and first.attempts == 1
    assert AuditEvent.objects.count() == before
    last = admin.post(_replay_url(second))
    assert last.status_code == 200 and last.json()["status"] == "pending"


def test_a_failed_or_waiting_event_is_replayed_even_with_later_ones(tax_subscription):
    created, _admin = tax_subscription
    first, second = _two_deliveries(created.subscription)
    Delivery.objects.filter(pk=first.pk).update(status="failed", attempts=20)
    Delivery.objects.filter(pk=second.pk).update(status="delivered")
    admin = api_for("admin@demo.gov")
    replayed = admin.post(_replay_url(first))
    assert replayed.status_code == 200 and replayed.json()["attempts"] == 0
    assert admin.post(_replay_url(first)).status_code == 200  # pending now: again is fine


def test_a_delivery_trimmed_meanwhile_is_a_409_not_a_crash(tax_subscription):
    created, admin = tax_subscription
    first, _second = _two_deliveries(created.subscription)
    Delivery.objects.filter(pk=first.pk).delete()
    before = AuditEvent.objects.count()
    with pytest.raises(WrongState):
        actions.delivery_replay(actor=admin, delivery=first)
    assert AuditEvent.objects.count() == before


def test_a_delivery_being_sent_answers_409_at_once(transactional_db, tax_subscription):
    if connection.vendor != "postgresql":
        pytest.skip("row locks without waiting are PostgreSQL's")
    import psycopg

    created, _admin = tax_subscription
    first, _second = _two_deliveries(created.subscription)
    Delivery.objects.filter(pk=first.pk).update(status="failed")
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params) as sender:  # a worker holding the row while it sends
        sender.execute(
            f"SELECT id FROM {Delivery._meta.db_table} WHERE id = %s FOR UPDATE",  # noqa: S608
            [first.pk],
        )
        answer = api_for("admin@demo.gov").post(_replay_url(first))
        sender.rollback()
    assert answer.status_code == 409, answer.content
    assert "being sent" in answer.json()["detail"]
    assert Delivery.objects.get(pk=first.pk).status == "failed"


# --- The rotate page ---------------------------------------------------------------------------


@pytest.mark.parametrize("hours", ["abc", "-5", "1000", "721", "1.5"])
def test_the_rotate_page_refuses_an_overlap_the_api_refuses(demo, client, hours):
    subscription = _create("https://127.0.0.1/hooks")
    client.force_login(User.objects.get(email="lead.tax@demo.gov"))
    before = AuditEvent.objects.count()
    page = client.post(f"/webhooks/{subscription.pk}/rotate/", {"overlap_hours": hours})
    assert page.status_code == 400
    assert b"whsec_" not in page.content.replace(subscription.secrets.get().prefix.encode(), b"")
    assert b'aria-invalid="true"' in page.content and b"error-summary" in page.content
    api = api_for("lead.tax@demo.gov").post(
        f"/api/v1/webhooks/{subscription.pk}/rotate/", {"overlap_hours": hours}, format="json"
    )
    assert api.status_code == 400
    assert SubscriptionSecret.objects.count() == 1 and AuditEvent.objects.count() == before


@pytest.mark.parametrize(("hours", "kept"), [("", 24), ("0", 0), ("720", 720)])
def test_the_rotate_page_takes_0_to_720_hours_or_the_default(demo, client, settings, hours, kept):
    settings.WEBHOOK_SECRET_OVERLAP_HOURS = 24
    subscription = _create("https://127.0.0.1/hooks")
    client.force_login(User.objects.get(email="lead.tax@demo.gov"))
    page = client.post(f"/webhooks/{subscription.pk}/rotate/", {"overlap_hours": hours})
    assert page.status_code == 200 and b"whsec_" in page.content
    old = SubscriptionSecret.objects.order_by("created_at", "pk").first()
    assert round((old.expires_at - old.created_at).total_seconds() / 3600) == kept


# --- Where a webhook may go --------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "2002:c0a8:10a::1",  # 6to4 of 192.168.1.10
        "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254 (metadata services)
        "2001:0:a00:1::f7f7:f7f7",  # Teredo, server 10.0.0.1
        "2001:0:808:808::f5ff:fffe",  # Teredo, client 10.0.0.1
        "fec0::1",  # site-local
        "fed0:1::2",
    ],
)
def test_ipv6_addresses_leading_inside_are_refused(settings, address):
    # Even where the IPv6 range itself is allowed, the IPv4 address it carries decides.
    settings.WEBHOOK_ALLOWED_NETWORKS = ["2001::/32", "2002::/16"]
    assert safety.address_refused(ipaddress.ip_address(address))
    with pytest.raises(safety.UnsafeEndpoint):
        safety.target(f"https://[{address}]/hooks")


@pytest.mark.parametrize("address", ["2002:808:808::1", "2606:4700::1111"])
def test_public_ipv6_addresses_are_allowed(address):
    assert not safety.address_refused(ipaddress.ip_address(address))


def test_an_international_host_name_is_stored_and_sent_in_ascii(demo, dns):
    created = api_for("admin@demo.gov").post(
        "/api/v1/webhooks/",
        {"department": "tax", "url": "https://exämple.test/hooks", "events": ["case.opened"]},
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["subscription"]["url"] == "https://xn--exmple-cua.test/hooks"
    assert Subscription.objects.get().url == "https://xn--exmple-cua.test/hooks"
    assert dns.asked == ["xn--exmple-cua.test"]
    found = safety.target("https://EXÄMPLE。test:8443/hooks")
    assert found.host == "xn--exmple-cua.test:8443" and found.server_name == "xn--exmple-cua.test"
    found.host.encode("ascii")


@pytest.mark.parametrize("host", ["ab--ä.test", "\u0301abc.test", "ex ä.test"])
def test_an_invalid_international_host_name_is_a_400(demo, dns, host):
    refused = api_for("admin@demo.gov").post(
        "/api/v1/webhooks/",
        {"department": "tax", "url": f"https://{host}/hooks", "events": ["case.opened"]},
        format="json",
    )
    assert refused.status_code == 400 and "url" in refused.json()["errors"]
    assert not Subscription.objects.exists() and dns.asked == []

"""Sending the outbox: `send_due` claims the deliveries that are due, signs them (Standard
Webhooks), posts them concurrently over kept-alive clients, and writes the outcomes back in
bulk. Three steps, and no transaction is open while the requests are out:

1. Claim, in a short transaction: the due rows, locked (`SELECT ... FOR UPDATE SKIP LOCKED` on
   PostgreSQL), get a lease (`next_attempt_at` moved past the longest the batch's sending can
   take), so no other worker takes them meanwhile; they stay `pending`, and hold the later
   events of their cases back.
2. Send, outside any transaction: a slow endpoint holds no row lock (which on PostgreSQL would
   have kept a case decision's foreign-key check of a new delivery waiting) and, on SQLite, not
   the database's one write lock for up to a minute.
3. Record, in a second short transaction: the outcomes (on the rows still pending under this
   batch's lease: a replay or another change made meanwhile is kept), the subscriptions'
   failures, and the audit events of personal values sent.

- Order: only the lowest-sequence undelivered delivery of each (subscription, case) is due; a
  failed one holds the later ones of its case back until it is replayed.
- Claims: two workers never send the same delivery at once; a worker that dies mid-batch leaves
  its rows leased, and they are due again when the lease ends (at least once; the receiver
  de-duplicates by `webhook-id`).
- Outcome: a 2xx answer delivers; anything else (a redirect included: none is followed), an
  error or an unsafe endpoint fails the attempt: exponential backoff with jitter up to
  WEBHOOK_RETRY_MAX_SECONDS, `failed` after WEBHOOK_MAX_ATTEMPTS. WEBHOOK_FAILING_AFTER failures
  in a row make the subscription `failing` with an incident (retries go on at the longest
  interval); the first success makes it active again and resolves the incident.
- Personal values: added at send time for a subscription allowed them (`include_personal`),
  the step's answers only, each sending recorded as a `webhook.deliver` audit event.

Over 400 lines: claiming, signing, sending, writing the outcomes back and counting the
subscriptions' failures are the steps of one batch and its lease, and read best together
(the endpoint checks are in `safety`, the outbox's writes in `emission`).
"""

from __future__ import annotations

import json
import logging
import math
import random
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from standardwebhooks import Webhook

from audit.actions import audit_record, audit_record_many
from audit.constants import AuditAction
from core.roles import Role
from services.selectors import application_answers
from workflows.models import Case

from .constants import DeliveryStatus, SubscriptionStatus
from .models import Delivery, Subscription, SubscriptionSecret, WebhookIncident
from .safety import Target, UnsafeEndpoint, target

logger = logging.getLogger(__name__)
PREFIX_CHARS = 200
THREADS = 8
USER_AGENT = "citizen-portal-webhooks/1"
_UPDATED = (
    "status",
    "attempts",
    "next_attempt_at",
    "delivered_at",
    "last_attempt_at",
    "last_status_code",
    "last_latency_ms",
    "last_error",
    "response_prefix",
)

# --- The HTTP client ------------------------------------------------------------------------

_clients: dict[str, httpx.Client] = {}
_client_lock = threading.Lock()
# Kept-alive clients at most (one per TLS server name); the oldest is closed beyond.
MAX_CLIENTS = 64


def client(server_name: str = "") -> httpx.Client:
    """The process's client for endpoints of one TLS server name ("" for plain http):
    connections kept alive between batches, no redirects followed, no proxy or credentials
    taken from the environment. One per server name because requests go to the checked address
    (safety.target), and a pool keyed by address would reuse a TLS session authenticated for
    one host name for another host name served from the same address."""
    with _client_lock:
        found = _clients.get(server_name)
        if found is None:
            # TCP_NODELAY: a request's headers and body go out in two writes, and with Nagle's
            # algorithm the body waited for the receiver's delayed acknowledgement (about 40 ms
            # a delivery, on a kept-alive connection).
            transport = httpx.HTTPTransport(
                limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
                socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
            )
            found = _clients[server_name] = httpx.Client(
                transport=transport,
                follow_redirects=False,
                trust_env=False,
                timeout=httpx.Timeout(settings.WEBHOOK_TIMEOUT_SECONDS),
                # Uncompressed answers: only a prefix is read, and a compressed one could expand
                # to many megabytes before the prefix's limit applied.
                headers={"user-agent": USER_AGENT, "accept-encoding": "identity"},
            )
            while len(_clients) > MAX_CLIENTS:
                _clients.pop(next(iter(_clients))).close()
        return found


# --- Backoff --------------------------------------------------------------------------------


def backoff_seconds(attempts: int, rng: Callable[[], float] = random.random) -> float:
    """The wait after the `attempts`-th failed attempt: base * 2^(attempts - 1), at most the
    maximum, times a jitter between 0.5 and 1 (so retries of many deliveries spread out)."""
    base, cap = settings.WEBHOOK_RETRY_BASE_SECONDS, settings.WEBHOOK_RETRY_MAX_SECONDS
    delay = min(cap, base * 2 ** min(max(attempts, 1) - 1, 40))
    return delay * (0.5 + rng() / 2)


# --- Signing --------------------------------------------------------------------------------

_signers: dict[tuple[int, str], Webhook] = {}


def signers_of(subscription_ids: list[int], now: datetime) -> dict[int, list[Webhook]]:
    """Each subscription's valid secrets, newest first (two during a rotation's overlap)."""
    valid = SubscriptionSecret.objects.filter(subscription_id__in=subscription_ids).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now)
    )
    found: dict[int, list[Webhook]] = {pk: [] for pk in subscription_ids}
    for secret in valid.order_by("subscription_id", "-created_at", "-pk"):
        key = (secret.pk, secret.secret)
        if key not in _signers:
            if len(_signers) > 1000:
                _signers.clear()
            try:
                _signers[key] = Webhook(secret.plain_secret)
            except Exception:  # a secret that cannot be opened fails its subscription only
                logger.exception("webhooks: signing secret %s cannot be used", secret.pk)
                continue
        found[secret.subscription_id].append(_signers[key])
    return found


def sign(signers: list[Webhook], message_id: str, at: datetime, body: bytes) -> dict[str, str]:
    """The Standard Webhooks headers: every valid secret's signature, space-separated."""
    signatures = " ".join(s.sign(message_id, at, body) for s in signers)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signatures,
        "content-type": "application/json",
    }


# --- One attempt ----------------------------------------------------------------------------


@dataclass
class Attempt:
    delivery: Delivery
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    personal: list[str] = field(default_factory=list)  # the fields whose values were added
    ok: bool = False
    status_code: int | None = None
    latency_ms: int | None = None
    error: str = ""
    prefix: str = ""
    sent: bool = False  # the request may have reached the receiver


def _read_prefix(response: httpx.Response, deadline: float) -> str:
    """At most the first PREFIX_CHARS characters of the answer; the rest is never read."""
    chunks, size = [], 0
    for chunk in response.iter_raw():
        chunks.append(chunk)
        size += len(chunk)
        if size >= PREFIX_CHARS * 4 or time.monotonic() > deadline:
            break
    return clean_text(b"".join(chunks).decode("utf-8", "replace"))[:PREFIX_CHARS]


def clean_text(text: str) -> str:
    """Text a receiver sent, as a text column can keep it (PostgreSQL refuses NUL)."""
    return text.replace("\x00", "")


def _post(attempt: Attempt, targets: dict[str, Target | UnsafeEndpoint]) -> None:
    url = attempt.delivery.subscription.url
    if url not in targets:
        try:
            targets[url] = target(url)
        except UnsafeEndpoint as refused:
            targets[url] = refused
    found = targets[url]
    if isinstance(found, UnsafeEndpoint):
        attempt.error = found.message[:200]
        return
    extensions = {"sni_hostname": found.server_name} if found.scheme == "https" else {}
    started = time.monotonic()
    deadline = started + settings.WEBHOOK_TIMEOUT_SECONDS
    try:
        with client(found.server_name if found.scheme == "https" else "").stream(
            "POST",
            found.url,
            content=attempt.body,
            headers={**attempt.headers, "host": found.host},
            extensions=extensions,
        ) as response:
            attempt.sent = True
            attempt.status_code = response.status_code
            attempt.prefix = _read_prefix(response, deadline)
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        attempt.error = f"{type(exc).__name__}: {exc}"[:200]
    except httpx.HTTPError as exc:
        attempt.sent = True
        attempt.error = f"{type(exc).__name__}: {exc}"[:200]
    except Exception as exc:  # one bad endpoint must not fail the whole batch
        attempt.error = f"{type(exc).__name__}: {exc}"[:200]
    attempt.latency_ms = int((time.monotonic() - started) * 1000)
    if attempt.status_code is not None:
        attempt.ok = 200 <= attempt.status_code < 300
        if not attempt.ok and not attempt.error:
            attempt.error = f"HTTP {attempt.status_code}"


_executor: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    """The process's sending threads, started once (made in the process that uses them, so
    after a worker's fork)."""
    global _executor
    with _client_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="webhooks")
        return _executor


def _send_all(attempts: list[Attempt]) -> None:
    targets: dict[str, Target | UnsafeEndpoint] = {}  # one resolution per endpoint and batch
    if len(attempts) == 1:
        _post(attempts[0], targets)
        return
    list(_pool().map(lambda a: _post(a, targets), attempts))


# --- The batch ------------------------------------------------------------------------------


def due(now: datetime):
    """The deliveries that may be sent now: pending, due, of a subscription that sends, and
    the first undelivered one of their case for their subscription."""
    earlier = Delivery.objects.filter(
        subscription_id=OuterRef("subscription_id"),
        case_id=OuterRef("case_id"),
        sequence__lt=OuterRef("sequence"),
    ).exclude(status=DeliveryStatus.DELIVERED)
    return Delivery.objects.filter(
        ~Exists(earlier),
        status=DeliveryStatus.PENDING,
        next_attempt_at__lte=now,
        subscription__deleted_at__isnull=True,
        subscription__status__in=(SubscriptionStatus.ACTIVE, SubscriptionStatus.FAILING),
    )


def _claim(now: datetime, limit: int) -> list[Delivery]:
    found = due(now).select_related("subscription").order_by("next_attempt_at", "pk")
    if connection.vendor == "postgresql":
        found = found.select_for_update(of=("self",), skip_locked=True)
    else:
        found = found.select_for_update()
    return list(found[:limit])


def system_name(subscription: Subscription) -> str:
    """How the citizen's "who looked at my data" names the department's system."""
    return subscription.label or urlsplit(subscription.url).hostname or ""


def _personal_values(deliveries: list[Delivery]) -> dict[int, Case]:
    """The cases of deliveries whose subscription receives personal values, with their
    application and citizen, in one query."""
    ids = {d.case_id for d in deliveries if d.subscription.include_personal}
    if not ids:
        return {}
    return Case.objects.select_related("application__citizen", "department").in_bulk(ids)


def _prepare(
    delivery: Delivery, signers: list[Webhook], cases: dict[int, Case], now: datetime
) -> Attempt:
    attempt = Attempt(delivery=delivery)
    body = delivery.payload
    case = cases.get(delivery.case_id)
    if case is not None and case.application.erased_at is None:
        try:
            answers = application_answers(case.application)
        except Exception as exc:  # a value that cannot be opened fails this delivery only
            attempt.error = f"answers unavailable: {type(exc).__name__}"[:200]
            return attempt
        values = {k: answers[k] for k in case.fields if k in answers}
        body = {**body, "data": {**body["data"], "answers": values}}
        attempt.personal = sorted(values)
    attempt.body = json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str).encode()
    if not signers:
        attempt.error = "no valid signing secret"
        return attempt
    attempt.headers = sign(signers, delivery.message_id, now, attempt.body)
    return attempt


@dataclass(frozen=True)
class Batch:
    attempted: int  # deliveries claimed and tried (0: nothing was due)
    next_retry: datetime | None  # the earliest retry this batch scheduled
    delivered: int = 0  # of them, delivered (each may make its case's next event due)


def lease_seconds(limit: int) -> float:
    """How long a batch's claim holds its rows: the longest its sending can take (every request
    timing out, THREADS at a time) and a margin."""
    return math.ceil(limit / THREADS) * settings.WEBHOOK_TIMEOUT_SECONDS + 30


def send_batch(*, now: datetime | None = None, limit: int = 100) -> Batch:
    """Claim up to `limit` due deliveries, send them and record the outcomes."""
    now = now or timezone.now()
    with transaction.atomic():
        claimed = _claim(now, limit)
        if not claimed:
            return Batch(0, None)
        lease = now + timedelta(seconds=lease_seconds(limit))
        Delivery.objects.filter(pk__in=[d.pk for d in claimed]).update(next_attempt_at=lease)
    signers = signers_of(sorted({d.subscription_id for d in claimed}), now)
    cases = _personal_values(claimed)
    attempts = [_prepare(d, signers[d.subscription_id], cases, now) for d in claimed]
    _send_all([a for a in attempts if a.headers])
    with transaction.atomic():
        _record(attempts, cases, now, lease)
    retries = [
        d.next_attempt_at
        for d in claimed
        if d.status == DeliveryStatus.PENDING and not d.delivered_at
    ]
    delivered = sum(1 for d in claimed if d.status == DeliveryStatus.DELIVERED)
    return Batch(len(claimed), min(retries, default=None), delivered)


def send_due(*, now: datetime | None = None, limit: int = 100) -> int:
    """Claim up to `limit` due deliveries, send them and record the outcomes; returns how many
    were attempted (0: nothing is due)."""
    return send_batch(now=now, limit=limit).attempted


def _record(
    attempts: list[Attempt], cases: dict[int, Case], now: datetime, lease: datetime
) -> None:
    outcome = _subscriptions_after(attempts, now)
    for attempt in attempts:
        delivery = attempt.delivery
        delivery.attempts += 1
        delivery.last_attempt_at = now
        delivery.last_status_code = attempt.status_code
        delivery.last_latency_ms = attempt.latency_ms
        delivery.last_error = clean_text(attempt.error)[:200]
        delivery.response_prefix = clean_text(attempt.prefix)[:PREFIX_CHARS]
        if attempt.ok:
            delivery.status, delivery.delivered_at = DeliveryStatus.DELIVERED, now
        elif delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
            delivery.status = DeliveryStatus.FAILED
        elif outcome.get(delivery.subscription_id) == SubscriptionStatus.FAILING:
            delivery.next_attempt_at = now + timedelta(seconds=settings.WEBHOOK_RETRY_MAX_SECONDS)
        else:
            delivery.next_attempt_at = now + timedelta(seconds=backoff_seconds(delivery.attempts))
    _write_back([a.delivery for a in attempts], lease)
    events = [
        {
            "action": AuditAction.WEBHOOK_DELIVER,
            "actor": None,
            "role": Role.SYSTEM,
            "target": cases[a.delivery.case_id],
            "subject": cases[a.delivery.case_id].application.citizen,
            "department": cases[a.delivery.case_id].department,
            "details": {
                "fields": a.personal,
                "subscription": a.delivery.subscription_id,
                "system": system_name(a.delivery.subscription),
                "delivery": a.delivery.message_id,
                "delivered": a.ok,
            },
        }
        for a in attempts
        if a.personal and a.sent
    ]
    if events:
        audit_record_many(events)


# The columns `_record` writes back, and their PostgreSQL types.
_TYPES = {
    "status": "varchar",
    "attempts": "integer",
    "next_attempt_at": "timestamptz",
    "delivered_at": "timestamptz",
    "last_attempt_at": "timestamptz",
    "last_status_code": "smallint",
    "last_latency_ms": "integer",
    "last_error": "varchar",
    "response_prefix": "varchar",
}


def _write_back(deliveries: list[Delivery], lease: datetime) -> None:
    """The batch's outcomes in one statement, on the rows still as the claim left them
    (pending, under this batch's lease): a row replayed, marked failed or otherwise changed
    while the requests were out keeps that change. On PostgreSQL an `UPDATE … FROM (VALUES
    …)`: Django's `bulk_update` builds a CASE expression per column and row, which took half
    of a batch's time."""
    if connection.vendor != "postgresql":
        for d in deliveries:
            Delivery.objects.filter(
                pk=d.pk, status=DeliveryStatus.PENDING, next_attempt_at=lease
            ).update(**{c: getattr(d, c) for c in _UPDATED})
        return
    columns = list(_TYPES)
    row = "(%s::bigint, " + ", ".join(f"%s::{_TYPES[c]}" for c in columns) + ")"
    params: list[Any] = []
    for d in deliveries:
        params.append(d.pk)
        params.extend(getattr(d, c) for c in columns)
    table = Delivery._meta.db_table
    assignments = ", ".join(f"{c} = v.{c}" for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS d SET {assignments} "  # noqa: S608 (names from the code)
            f"FROM (VALUES {', '.join([row] * len(deliveries))}) AS v(id, {', '.join(columns)}) "
            "WHERE d.id = v.id AND d.status = %s AND d.next_attempt_at = %s",
            [*params, DeliveryStatus.PENDING, lease],
        )


def _subscriptions_after(attempts: list[Attempt], now: datetime) -> dict[int, str]:
    """Count the subscriptions' failures in a row: a success resets them (and ends a failing
    spell, resolving its incident); WEBHOOK_FAILING_AFTER make an active subscription failing
    (an incident opens). Returns each subscription's status after the batch."""
    results: dict[int, list[Attempt]] = {}
    for attempt in attempts:
        results.setdefault(attempt.delivery.subscription_id, []).append(attempt)
    # FOR NO KEY UPDATE: counters only, so a case change inserting a delivery (its foreign
    # key check takes a key-share lock) is not held up by the count.
    locked = (
        Subscription.objects.select_for_update(no_key=True)
        .filter(pk__in=sorted(results))
        .order_by("pk")
    )
    changed, status = [], {}
    for subscription in locked:
        mine = results[subscription.pk]
        before = (subscription.status, subscription.consecutive_failures)
        if any(a.ok for a in mine):
            subscription.consecutive_failures = 0
            if subscription.status == SubscriptionStatus.FAILING:
                _recovered(subscription, now)
        else:
            subscription.consecutive_failures += len(mine)
            last_error = clean_text(mine[-1].error)
            if (
                subscription.status == SubscriptionStatus.ACTIVE
                and subscription.consecutive_failures >= settings.WEBHOOK_FAILING_AFTER
            ):
                _failing(subscription, now, last_error)
            elif subscription.status == SubscriptionStatus.FAILING:
                WebhookIncident.objects.filter(
                    subscription=subscription, resolved_at__isnull=True
                ).update(failures=subscription.consecutive_failures, last_error=last_error[:200])
        status[subscription.pk] = subscription.status
        if (subscription.status, subscription.consecutive_failures) != before:
            changed.append(subscription)
    if changed:
        Subscription.objects.bulk_update(
            changed, ["status", "consecutive_failures", "failing_since"]
        )
    return status


def _failing(subscription: Subscription, now: datetime, error: str) -> None:
    subscription.status = SubscriptionStatus.FAILING
    subscription.failing_since = now
    incident = WebhookIncident.objects.create(
        subscription=subscription,
        opened_at=now,
        failures=subscription.consecutive_failures,
        last_error=error[:200],
    )
    _system_event(
        AuditAction.WEBHOOK_FAILING,
        subscription,
        {"incident": incident.pk, "failures": subscription.consecutive_failures},
    )


def _recovered(subscription: Subscription, now: datetime) -> None:
    subscription.status = SubscriptionStatus.ACTIVE
    subscription.failing_since = None
    incidents = WebhookIncident.objects.filter(subscription=subscription, resolved_at__isnull=True)
    ids = list(incidents.values_list("pk", flat=True))
    incidents.update(resolved_at=now)
    _system_event(AuditAction.WEBHOOK_RECOVER, subscription, {"incidents": ids})


def _system_event(action: AuditAction, subscription: Subscription, details: dict) -> None:
    audit_record(
        action=action,
        actor=None,
        role=Role.SYSTEM,
        target=subscription,
        department=subscription.department,
        details=details,
    )


def purge_log(*, now: datetime | None = None) -> int:
    """Delete delivered deliveries older than WEBHOOK_LOG_DAYS, except the last of each case
    for each subscription (the next event's sequence follows it). Returns how many."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.WEBHOOK_LOG_DAYS)
    later = Delivery.objects.filter(
        subscription_id=OuterRef("subscription_id"),
        case_id=OuterRef("case_id"),
        sequence__gt=OuterRef("sequence"),
    )
    old = Delivery.objects.filter(
        Exists(later), status=DeliveryStatus.DELIVERED, delivered_at__lt=cutoff
    )
    deleted, _by_model = Delivery.objects.filter(
        pk__in=list(old.values_list("pk", flat=True)[:50_000])
    ).delete()
    return deleted

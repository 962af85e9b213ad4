"""Every write of the webhooks' management (pages, API and tests call these), each in a
transaction with its audit event: register a subscription (its secret shown once), change it,
rotate its secret (the old one stays valid during an overlap), pause, resume, delete, and
replay deliveries. Who may do what is checked by the caller through `selectors.manageable`."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.actions import audit_record
from audit.constants import AuditAction
from core.errors import InvalidInput, WrongState
from privacy.freetext import seal_text

from .constants import DeliveryStatus, EventType, SubscriptionStatus
from .emission import wake_after_commit
from .models import Delivery, Subscription, SubscriptionSecret, WebhookIncident
from .safety import ascii_url, origin, target

if TYPE_CHECKING:
    from accounts.models import Department, User

LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's error code for a row lock taken with NOWAIT
SECRET_PREFIX = "whsec_"  # noqa: S105 (the format's prefix, not a secret)


@dataclass(frozen=True)
class CreatedSubscription:
    subscription: Subscription
    secret: str  # `whsec_...`: shown once, never again


def _ascii_or_same(url: str) -> str:
    try:
        return ascii_url(url)
    except InvalidInput:
        return url


def _clean(
    url: Any, events: Any, label: Any, *, stored_urls: tuple[str, ...] = ()
) -> tuple[str, list[str], str]:
    """The endpoint (its host in ASCII), events and label, or InvalidInput naming each wrong
    one. The endpoint's host is resolved and its addresses checked, unless it is the stored
    one (`stored_urls`: checked when it was stored, and again before every sending)."""
    errors: dict[str, list[str]] = {}
    url = url.strip() if isinstance(url, str) else ""
    too_long = _("Enter the endpoint's https address (at most 500 characters).")
    if not url or len(url) > 500:
        errors["url"] = [too_long]
    else:
        try:
            url = ascii_url(url)
            if len(url) > 500:
                errors["url"] = [too_long]
            elif url not in stored_urls:
                target(url)
        except InvalidInput as refused:
            errors["url"] = refused.errors.get("url", [refused.message])
    known = set(EventType.values)
    if not isinstance(events, list | tuple) or not events:
        errors["events"] = [_("Choose at least one event.")]
    elif not all(isinstance(e, str) and e in known for e in events):
        errors["events"] = [_("Choose events from the list.")]
    label = label.strip() if isinstance(label, str) else ""
    if len(label) > 100:
        errors["label"] = [_("At most 100 characters.")]
    if errors:
        raise InvalidInput(_("Correct the subscription."), errors=errors)
    ordered = [e for e in EventType.values if e in set(events)]
    return url, ordered, label


def _new_secret(subscription: Subscription, *, now: Any) -> str:
    plain = SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()
    row = SubscriptionSecret.objects.create(
        subscription=subscription, secret="", prefix=plain[:12], created_at=now
    )
    row.secret = seal_text(plain, aad=row.sealed_text_aad("secret"))
    row.save(update_fields=["secret"])
    return plain


def _record(action: AuditAction, actor: User, subscription: Subscription, **details: Any) -> None:
    audit_record(
        action=action,
        actor=actor,
        target=subscription,
        department=subscription.department,
        details={"subscription": subscription.pk, **details},
    )


@transaction.atomic
def subscription_create(
    *,
    actor: User,
    department: Department,
    url: str,
    events: list[str],
    include_personal: bool = False,
    label: str = "",
) -> CreatedSubscription:
    url, events, label = _clean(url, events, label)
    now = timezone.now()
    subscription = Subscription.objects.create(
        department=department,
        url=url,
        events=events,
        include_personal=bool(include_personal),
        label=label,
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    secret = _new_secret(subscription, now=now)
    _record(
        AuditAction.WEBHOOK_CREATE,
        actor,
        subscription,
        events=events,
        include_personal=subscription.include_personal,
        endpoint=origin(url),
    )
    return CreatedSubscription(subscription=subscription, secret=secret)


def _locked(subscription: Subscription) -> Subscription:
    """The live subscription, locked against the other management writes and the worker's
    counting. Only its non-key columns change (the row itself stays until the log is trimmed),
    so the lock is FOR NO KEY UPDATE: it does not wait for, or hold up, the key-share lock a
    case change takes on it when it inserts a delivery."""
    found = (
        Subscription.objects.select_for_update(of=("self",), no_key=True)
        .select_related("department")
        .filter(pk=subscription.pk, deleted_at__isnull=True)
        .first()
    )
    if found is None:
        raise WrongState(_("This subscription was deleted."))
    return found


def _live(subscription: Subscription) -> Subscription:
    found = (
        Subscription.objects.select_related("department")
        .filter(pk=subscription.pk, deleted_at__isnull=True)
        .first()
    )
    if found is None:
        raise WrongState(_("This subscription was deleted."))
    return found


@transaction.atomic
def subscription_update(
    *,
    actor: User,
    subscription: Subscription,
    url: str | None = None,
    events: list[str] | None = None,
    include_personal: bool | None = None,
    label: str | None = None,
) -> Subscription:
    """Change what is given (None: unchanged); a new address is checked like a new one.

    The input is checked before the row is locked: checking an address resolves its host
    name, which may take long, and the lock would meanwhile hold up the department's case
    changes. An unchanged address is not resolved again, so the label or `include_personal`
    can be changed while the endpoint's name does not resolve."""
    before = _live(subscription)
    stored = (before.url, _ascii_or_same(before.url))
    clean_url, clean_events, clean_label = _clean(
        before.url if url is None else url,
        before.events if events is None else events,
        before.label if label is None else label,
        stored_urls=stored,
    )
    subscription = _locked(subscription)
    if url is not None and clean_url in stored and subscription.url != before.url:
        # Changed meanwhile: the address read before, not checked again, would replace it.
        raise WrongState(_("The subscription was changed meanwhile: reload it and try again."))
    old_url = subscription.url
    changed = []
    for name, value, given in (
        ("url", clean_url, url is not None),
        ("events", clean_events, events is not None),
        ("label", clean_label, label is not None),
        ("include_personal", bool(include_personal), include_personal is not None),
    ):
        if given and getattr(subscription, name) != value:
            setattr(subscription, name, value)
            changed.append(name)
    if changed:
        subscription.updated_at = timezone.now()
        subscription.save(update_fields=[*changed, "updated_at"])
        where = {}
        if "url" in changed:
            where = {"endpoint_from": origin(old_url), "endpoint_to": origin(subscription.url)}
        _record(AuditAction.WEBHOOK_UPDATE, actor, subscription, changed=sorted(changed), **where)
    return subscription


@transaction.atomic
def secret_rotate(
    *, actor: User, subscription: Subscription, overlap: timedelta | None = None
) -> str:
    """A new secret, returned once; the previous ones stay valid until now + `overlap`
    (WEBHOOK_SECRET_OVERLAP_HOURS by default; zero ends them now), and every delivery meanwhile
    carries a signature by each."""
    subscription = _locked(subscription)
    if overlap is None:
        overlap = timedelta(hours=settings.WEBHOOK_SECRET_OVERLAP_HOURS)
    if overlap < timedelta(0):
        raise InvalidInput(
            _("The overlap cannot be negative."), errors={"overlap": [_("Too small.")]}
        )
    now = timezone.now()
    until = now + overlap
    valid = SubscriptionSecret.objects.filter(subscription=subscription)
    valid.filter(expires_at__isnull=True).update(expires_at=until)
    valid.filter(expires_at__gt=until).update(expires_at=until)
    secret = _new_secret(subscription, now=now)
    _record(AuditAction.WEBHOOK_ROTATE, actor, subscription, previous_valid_until=until.isoformat())
    return secret


@transaction.atomic
def subscription_pause(*, actor: User, subscription: Subscription) -> Subscription:
    """Stop sending (events keep being recorded, to be sent after `subscription_resume`)."""
    subscription = _locked(subscription)
    if subscription.status == SubscriptionStatus.PAUSED:
        return subscription
    subscription.status, subscription.updated_at = SubscriptionStatus.PAUSED, timezone.now()
    subscription.save(update_fields=["status", "updated_at"])
    _record(AuditAction.WEBHOOK_PAUSE, actor, subscription)
    return subscription


@transaction.atomic
def subscription_resume(*, actor: User, subscription: Subscription) -> Subscription:
    """Send again, from what waited: failing again if its incident is still open."""
    subscription = _locked(subscription)
    if subscription.status != SubscriptionStatus.PAUSED:
        return subscription
    incident_open = WebhookIncident.objects.filter(
        subscription=subscription, resolved_at__isnull=True
    ).exists()
    subscription.status = SubscriptionStatus.FAILING if incident_open else SubscriptionStatus.ACTIVE
    subscription.updated_at = timezone.now()
    subscription.save(update_fields=["status", "updated_at"])
    _record(AuditAction.WEBHOOK_RESUME, actor, subscription)
    wake_after_commit()
    return subscription


@transaction.atomic
def subscription_delete(*, actor: User, subscription: Subscription) -> None:
    """Stop for good: nothing more is written or sent; its secrets are destroyed; the row and
    its delivery log stay until the log is trimmed."""
    subscription = _locked(subscription)
    subscription.deleted_at = subscription.updated_at = timezone.now()
    subscription.save(update_fields=["deleted_at", "updated_at"])
    SubscriptionSecret.objects.filter(subscription=subscription).delete()
    WebhookIncident.objects.filter(subscription=subscription, resolved_at__isnull=True).update(
        resolved_at=subscription.deleted_at
    )
    _record(AuditAction.WEBHOOK_DELETE, actor, subscription)


def _replay(deliveries, now: Any) -> int:
    return deliveries.update(
        status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=now, delivered_at=None
    )


def _held(delivery: Delivery) -> Delivery | None:
    """The delivery's row, locked without waiting (WrongState while a worker's claim holds
    it); None when it is gone (trimmed from the log). Once claimed, a row is not locked while
    its request is out: a replay then wins, as the worker writes its outcome only on rows still
    as it claimed them (`delivery._write_back`)."""
    rows = Delivery.objects.filter(pk=delivery.pk)
    if not connection.features.has_select_for_update_nowait:
        return rows.first()
    try:
        with transaction.atomic():
            return rows.select_for_update(of=("self",), nowait=True).first()
    except DatabaseError as exc:
        code = getattr(exc.__cause__, "sqlstate", None) or getattr(exc.__cause__, "pgcode", None)
        if code != LOCK_NOT_AVAILABLE:
            raise
        raise WrongState(_("This delivery is being sent: try again in a moment.")) from exc


@transaction.atomic
def delivery_replay(*, actor: User, delivery: Delivery) -> Delivery:
    """Send a delivery again, as soon as the deliveries before it in its case are delivered.
    A failed or waiting one may be replayed; a delivered one only if it is the last of its case
    for the subscription (the receiver de-duplicates by its `webhook-id`): replaying an earlier
    one would send an older state of the case after a newer one. The subscription is read, not
    locked: a worker sending holds its deliveries and then locks their subscriptions, so
    locking in the other order could deadlock."""
    subscription = _live(delivery.subscription)
    found = _held(delivery)
    gone = _("This delivery is no longer in the log.")
    if found is None:
        raise WrongState(gone)
    if found.status == DeliveryStatus.DELIVERED and (
        Delivery.objects.filter(
            subscription_id=found.subscription_id,
            case_id=found.case_id,
            sequence__gt=found.sequence,
        ).exists()
    ):
        raise WrongState(
            _(
                "This event was delivered and a later one of its case follows it: sending it "
                "again would deliver an older state of the case after a newer one."
            )
        )
    if not _replay(Delivery.objects.filter(pk=found.pk), timezone.now()):
        raise WrongState(gone)
    _record(AuditAction.WEBHOOK_REPLAY, actor, subscription, deliveries=[found.message_id])
    wake_after_commit()
    found.refresh_from_db()
    return found


@transaction.atomic
def deliveries_replay_failed(*, actor: User, subscription: Subscription) -> int:
    """Send every failed delivery of the subscription again (each case's in order)."""
    subscription = _live(subscription)
    count = _replay(
        Delivery.objects.filter(subscription=subscription, status=DeliveryStatus.FAILED),
        timezone.now(),
    )
    if count:
        _record(AuditAction.WEBHOOK_REPLAY, actor, subscription, count=count)
        wake_after_commit()
    return count

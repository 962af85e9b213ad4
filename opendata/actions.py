"""Publishing a release: count the month, withhold small cells, sign, store, audit."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.actions import audit_record
from audit.constants import AuditAction
from core.errors import InvalidInput, WrongState

from . import noise, signing, tables
from .models import Release

if TYPE_CHECKING:
    from accounts.models import User

FORMAT = "portal-open-data/1"


def parse_month(raw: object) -> dt.date:
    """A month written YYYY-MM, as its first day; a clear refusal for anything else."""
    try:
        if not isinstance(raw, str) or len(raw) != 7:
            raise ValueError
        day = dt.date.fromisoformat(f"{raw}-01")
        if not 2000 <= day.year <= 2999:
            raise ValueError
    except ValueError:
        raise InvalidInput(
            _("Write the month as year-month, like 2026-03."),
            errors={"month": [_("Write the month as year-month, like 2026-03.")]},
        ) from None
    return day


_LOCK_ID = 0x0D474441  # one publisher at a time (PostgreSQL): the budget check holds


def budget_total() -> Decimal:
    return Decimal(str(settings.OPENDATA_EPSILON_TOTAL))


def budget_spent() -> Decimal:
    """The privacy-loss budget all differentially private releases have spent."""
    return Release.objects.aggregate(s=Sum("epsilon"))["s"] or Decimal(0)


def parse_epsilon(raw: object) -> Decimal | None:
    """The epsilon of a DP release (None or "" for exact counts); a clear refusal for a value
    that is not a positive number of at most four decimals."""
    if raw is None or raw == "":
        return None
    message = _("Epsilon must be a positive number with at most four decimals, like 0.5.")
    try:
        if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
            raise InvalidOperation
        value = Decimal(str(raw).strip())
        if not value.is_finite() or value <= 0 or value > 1000 or value != round(value, 4):
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        raise InvalidInput(message, errors={"epsilon": [message]}) from None
    return value


@transaction.atomic
def release_publish(
    *,
    period: dt.date,
    actor: User | None,
    epsilon: Decimal | None = None,
    now: dt.datetime | None = None,
) -> Release:
    """Publish the statistics of one ended month as a new, signed, immutable release.

    Refused (nothing written) for a month that has not ended yet, for a month already
    published (a month is published once, so its withheld cells never change), and for an
    epsilon that would take the privacy budget past `OPENDATA_EPSILON_TOTAL` (docs/open-data.md).
    """
    now = now or timezone.now()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_ID])
    period = period.replace(day=1)
    start, end = tables.month_bounds(period)
    if end > now:
        raise InvalidInput(
            _("Only a month that has ended can be published."),
            errors={"month": [_("Only a month that has ended can be published.")]},
        )
    # Two publishers at once: the unique version and month make the second one a refusal.
    if Release.objects.filter(period=period).exists():
        raise WrongState(_("This month is already published; a release is never changed."))
    k = settings.OPENDATA_SUPPRESSION_K
    version = (Release.objects.aggregate(v=Max("version"))["v"] or 0) + 1
    bounds, privacy, add_noise = None, None, None
    if epsilon is not None:
        spent, total = budget_spent(), budget_total()
        if spent + epsilon > total:
            raise WrongState(
                _(
                    "This release would spend %(epsilon)s of the privacy budget, but only "
                    "%(left)s of %(total)s is left."
                )
                % {"epsilon": epsilon, "left": total - spent, "total": total}
            )
        bounds = tables.Bounds(
            districts=list(settings.OPENDATA_DISTRICTS),
            max_service_requests=noise.MAX_SERVICE_REQUESTS,
            max_decisions=noise.MAX_DECISIONS,
        )
        privacy = {
            "mechanism": noise.MECHANISM,
            "unit": "citizen",
            "epsilon": str(epsilon),
            "sensitivity": noise.SENSITIVITY,
            "scale": noise.scale_for(epsilon),
            "max_service_requests": noise.MAX_SERVICE_REQUESTS,
            "max_decisions": noise.MAX_DECISIONS,
            "districts": bounds.districts,
            "budget_total": str(total),
            "budget_spent_before": str(spent),
            "budget_spent_after": str(spent + epsilon),
        }

        def add_noise(counts: list[int]) -> list[int]:
            return noise.noisy(counts, epsilon)

    kid, public_key = signing.current_key()
    document = {
        "format": FORMAT,
        "version": version,
        "period": f"{period:%Y-%m}",
        "period_start": start.isoformat(),
        "period_end": end.isoformat(),
        "published_at": now.isoformat(),
        "threshold_k": k,
        "differential_privacy": privacy,
        "algorithm": signing.ALGORITHM,
        "key_id": kid,
        "public_key": public_key,
        "tables": tables.published(tables.count(period, k, bounds), k, add_noise),
    }
    document["signature"] = signing.sign(document)
    try:
        with transaction.atomic():
            release = Release(
                version=version,
                period=period,
                published_at=now,
                threshold_k=k,
                epsilon=epsilon,
                document=document,
                digest=hashlib.sha256(signing.canonical(document)).hexdigest(),
                key_id=kid,
                signature=document["signature"],
            )
            release.save()
    except IntegrityError:
        raise WrongState(
            _("This month is already published; a release is never changed.")
        ) from None
    audit_record(
        action=AuditAction.OPENDATA_PUBLISH,
        actor=actor,
        target=release,
        details={
            "version": version,
            "period": document["period"],
            "threshold_k": k,
            "digest": release.digest,
            "key_id": kid,
            "epsilon": str(epsilon) if epsilon is not None else "",
        },
    )
    return release

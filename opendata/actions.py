"""Publishing a release: count the month, withhold small cells, sign, store, audit."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.actions import audit_record
from audit.constants import AuditAction
from core.errors import InvalidInput, WrongState

from . import signing, tables
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


@transaction.atomic
def release_publish(
    *, period: dt.date, actor: User | None, now: dt.datetime | None = None
) -> Release:
    """Publish the statistics of one ended month as a new, signed, immutable release.

    Refused (nothing written) for a month that has not ended yet, and for a month already
    published: a month is published once, so its withheld cells never change (docs/open-data.md).
    """
    now = now or timezone.now()
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
    kid, public_key = signing.current_key()
    document = {
        "format": FORMAT,
        "version": version,
        "period": f"{period:%Y-%m}",
        "period_start": start.isoformat(),
        "period_end": end.isoformat(),
        "published_at": now.isoformat(),
        "threshold_k": k,
        "differential_privacy": None,
        "algorithm": signing.ALGORITHM,
        "key_id": kid,
        "public_key": public_key,
        "tables": tables.published(tables.count(period, k), k),
    }
    document["signature"] = signing.sign(document)
    try:
        with transaction.atomic():
            release = Release(
                version=version,
                period=period,
                published_at=now,
                threshold_k=k,
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
        },
    )
    return release

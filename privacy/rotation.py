"""Key rotation: re-seal every sealed value under the active key, in batches that each commit on
their own, so an interrupted run resumes where it stopped and rows already done are skipped.

This module knows no model of the other apps. Each app registers, when it is ready, the steps
that re-seal its own rows: JSON columns of tokens (`register_json`), free-text columns
(`register_text`), or a batch function of its own (`register`) for anything else (files,
wrapped keys, two-factor secrets). `rotate_keys` runs every registered step. A batch that
changed rows is reported to the recorders (`on_rotated`; the audit log registers one), inside
the batch's transaction.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction
from django.db.models import QuerySet

from . import crypto
from .freetext import reseal_text

Batch = Callable[..., tuple[int, int, int]]  # (after_pk=, batch=) -> (last pk, scanned, changed)


@dataclass(frozen=True)
class Step:
    name: str  # the table's name in the rotation's record
    label: str  # what the command prints
    model: type[models.Model]
    batch: Batch


_STEPS: dict[str, Step] = {}
_RECORDERS: list[Callable[[str, int, str], None]] = []


def register(name: str, model: type[models.Model], batch: Batch, *, label: str) -> None:
    """Add a step; registering the same name again replaces it (apps are readied once)."""
    _STEPS[name] = Step(name=name, label=label, model=model, batch=batch)


def register_json(
    name: str, model: type[models.Model], column: str, row: Callable[[Any], str], *, label: str
) -> None:
    """A JSON column whose values are tokens sealed with the AAD `f"{row(instance)}:{key}"`."""
    register(
        name,
        model,
        functools.partial(_json_batch, name=name, model=model, column=column, row=row),
        label=label,
    )


def register_text(
    name: str, model: type[models.Model], columns: Sequence[str], *, label: str
) -> None:
    """Free-text columns sealed with `privacy.freetext` under `instance.sealed_text_aad(col)`;
    a value still in clear (stored before it was sealed) is sealed by the rotation too."""
    register(
        name,
        model,
        functools.partial(_text_batch, name=name, model=model, columns=tuple(columns)),
        label=label,
    )


def on_rotated(recorder: Callable[[str, int, str], None]) -> None:
    """Call `recorder(table, rows changed, active key id)` in each batch that changed rows."""
    if recorder not in _RECORDERS:
        _RECORDERS.append(recorder)


def rotated(name: str, rows: int, key: str) -> None:
    """Report a batch that changed `rows` rows of table `name` (for batch functions of apps)."""
    for recorder in _RECORDERS:
        recorder(name, rows, key)


def steps() -> list[Step]:
    return list(_STEPS.values())


def step(name: str) -> Step:
    return _STEPS[name]


def rotated_values(stored: dict[str, Any], row: str, active: str) -> dict[str, Any] | None:
    """The stored values with every token on the active key, or None when nothing changes."""
    changed = False
    result = dict(stored)
    for key, value in stored.items():
        if crypto.is_encrypted(value) and value.split(":", 2)[1] != active:
            result[key] = crypto.rotate(value, aad=f"{row}:{key}")
            changed = True
    return result if changed else None


def run_batch(
    name: str,
    rows: QuerySet,
    reseal: Callable[[Any], dict[str, Any] | None],
    *,
    after_pk: int,
    batch: int,
) -> tuple[int, int, int]:
    """One batch of a rotation step, in its own transaction: the next `batch` rows of `rows`
    after `after_pk`, locked; `reseal(row)` gives the columns to write (None: nothing to do).
    A batch that changed rows is reported (`rotated`). Returns (last pk, scanned, changed)."""
    active = crypto.active_key_id()
    with transaction.atomic():
        found = list(
            rows.select_for_update(of=("self",)).filter(pk__gt=after_pk).order_by("pk")[:batch]
        )
        changed = 0
        for row in found:
            new = reseal(row)
            if new:
                type(row).objects.filter(pk=row.pk).update(**new)
                changed += 1
        if changed:
            rotated(name, changed, active)
    return (found[-1].pk if found else after_pk), len(found), changed


def _json_batch(
    *,
    name: str,
    model: type[models.Model],
    column: str,
    row: Callable[[Any], str],
    after_pk: int,
    batch: int = 500,
) -> tuple[int, int, int]:
    active = crypto.active_key_id()

    def reseal(instance) -> dict[str, Any] | None:
        new = rotated_values(getattr(instance, column), row(instance), active)
        return None if new is None else {column: new}

    return run_batch(name, model.objects.all(), reseal, after_pk=after_pk, batch=batch)


def _text_batch(
    *,
    name: str,
    model: type[models.Model],
    columns: tuple[str, ...],
    after_pk: int,
    batch: int = 500,
) -> tuple[int, int, int]:
    def reseal(instance) -> dict[str, Any]:
        new = {}
        for column in columns:
            sealed = reseal_text(getattr(instance, column), aad=instance.sealed_text_aad(column))
            if sealed is not None:
                new[column] = sealed
        return new

    return run_batch(name, model.objects.all(), reseal, after_pk=after_pk, batch=batch)

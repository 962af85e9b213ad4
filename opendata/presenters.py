"""How a release reads: its tables in the reader's language, and its CSV and JSON files."""

from __future__ import annotations

import io
import json
from typing import Any

from django.utils.translation import gettext as _

from core.spreadsheet import csv_writer
from core.translations import active_language

from .models import Release


def table_titles() -> dict[str, str]:
    return {
        "applications_by_service_district": _("Applications by service and district"),
        "decisions_by_department_outcome": _("Decisions by department and outcome"),
        "decisions_by_department_district": _("Decisions by department and district"),
        "processing_time_by_department": _("Time from opening to decision, by department"),
    }


def _label(labels: dict[str, str]) -> str:
    language = active_language()
    return labels.get(language) or next(iter(labels.values()), "")


def tables(release: Release) -> list[dict[str, Any]]:
    """The release's tables for a page, labels in the active language."""
    titles = table_titles()
    shown = []
    for table in release.document["tables"]:
        shown.append(
            {
                "name": table["name"],
                "title": titles.get(table["name"], table["name"]),
                "columns": [_label(c["label"]) for c in table["columns"]],
                "rows": [
                    {"label": _label(row["label"]), "cells": cells, "total": total}
                    for row, cells, total in zip(
                        table["rows"], table["cells"], table["row_totals"], strict=True
                    )
                ],
                "column_totals": table["column_totals"],
                "total": table["total"],
            }
        )
    return shown


def as_json(release: Release) -> str:
    """The signed document, exactly as signed (canonical member order is not needed to read
    it; verification re-serialises it, see docs/open-data.md)."""
    return json.dumps(release.document, ensure_ascii=False, indent=2, sort_keys=True)


def as_csv(release: Release) -> str:
    """One line per published figure: table, row, column, count ("" where withheld); the
    signature of the JSON document in the header lines (the CSV is a view of it)."""
    out = io.StringIO()
    writer = csv_writer(out)  # a key or label starting with = or - stays text
    doc = release.document
    writer.writerow(["# format", doc["format"]])
    writer.writerow(["# version", doc["version"]])
    writer.writerow(["# period", doc["period"]])
    writer.writerow(["# threshold_k", doc["threshold_k"]])
    writer.writerow(["# key_id", doc["key_id"]])
    writer.writerow(["# public_key", doc["public_key"]])
    writer.writerow(["# signature", doc["signature"]])
    writer.writerow(["# sha256", release.digest])
    writer.writerow(["table", "row", "column", "count"])
    for table in doc["tables"]:
        columns = [c["key"] for c in table["columns"]]
        for row, cells, total in zip(
            table["rows"], table["cells"], table["row_totals"], strict=True
        ):
            for column, value in zip(columns, cells, strict=True):
                writer.writerow([table["name"], row["key"], column, "" if value is None else value])
            writer.writerow([table["name"], row["key"], "_total", "" if total is None else total])
        for column, value in zip(columns, table["column_totals"], strict=True):
            writer.writerow([table["name"], "_total", column, "" if value is None else value])
        total = table["total"]
        writer.writerow([table["name"], "_total", "_total", "" if total is None else total])
    return out.getvalue()

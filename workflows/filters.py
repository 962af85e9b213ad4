"""The inbox's query: one parser for the workbench page and the cases API.

Filters (`department`, `assignee`, `service`, `due`, `q`) are at most 100 characters each.
`status` is a comma-separated list of case statuses; `active` stands for the statuses that
still need work (open, in progress, waiting for the citizen) and `all`, or nothing, for every
status. The page starts at `active`, the API at every status. A `q` shaped like a national ID
is refused by both (the number would be in the address): searching by national ID is a POST.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .constants import CaseStatus
from .selectors import InboxFilters, looks_like_national_id

FILTERS = ("department", "assignee", "service", "due", "q")
ACTIVE = "active"
ALL = "all"
ACTIVE_STATUSES = (CaseStatus.OPEN, CaseStatus.IN_PROGRESS, CaseStatus.AWAITING_CITIZEN)


@dataclass(frozen=True)
class InboxQuery:
    params: dict[str, str]  # as given (cut), `q` emptied when it was refused
    status: str  # the status parameter, or the default
    statuses: tuple[str, ...] | None  # None: every status
    national_id_in_q: bool  # `q` looked like a national ID and was dropped

    def filters(self, case_ids: tuple[int, ...] | None = None) -> InboxFilters:
        return InboxFilters(**{k: self.params[k] for k in FILTERS}, case_ids=case_ids)


def parse_inbox_query(source: Mapping[str, Any], *, default_status: str = "") -> InboxQuery:
    params = {k: str(source.get(k, "") or "")[:100] for k in (*FILTERS, "status")}
    refused = looks_like_national_id(params["q"])
    if refused:
        params["q"] = ""
    status = params["status"] or default_status
    return InboxQuery(
        params=params, status=status, statuses=_statuses(status), national_id_in_q=refused
    )


def _statuses(status: str) -> tuple[str, ...] | None:
    chosen: list[str] = []
    for value in filter(None, (v.strip() for v in status.split(","))):
        if value == ALL:
            return None
        chosen.extend(ACTIVE_STATUSES if value == ACTIVE else [value])
    return tuple(dict.fromkeys(chosen)) or None

"""Delegation: a lead lets one member of a department cover for an absent colleague.

`with_delegations` lends the delegate the absent member's permissions on a case while a
delegation is in force; the actions record the delegator as `on_behalf_of`."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from accounts.models import User

    from .models import Case
    from .permissions import CaseAccess


def with_delegations(access: CaseAccess, *, user: User, case: Case, now: dt.datetime) -> CaseAccess:
    """`access` with what delegations in force lend the user on this case (unchanged for now:
    delegations are not lent yet)."""
    return access

"""Reading a case, for the workbench page and the cases API alike: the one place where staff
see a case's fields and where that read is recorded (`pii.read`, which the citizen sees)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import actions, selectors

if TYPE_CHECKING:
    from accounts.models import User

    from .models import Case


def case_read(*, case: Case, user: User) -> dict:
    """The case as `user` may see it (`selectors.case_view`: the step's fields, masked, and
    the ones withheld), with the read of its personal fields recorded."""
    view = selectors.case_view(case=case, user=user)
    actions.case_read_record(case=case, actor=user, fields=view["personal_fields"])
    return view

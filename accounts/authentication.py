"""API token authentication that reads the user and their department roles in one query.

Every action records the actor's role in its audit event (`User.primary_role`), which otherwise
costs each API request a query of its own for the user's memberships; and DRF's token look-up
builds its query through the ORM on every request. On PostgreSQL both are one raw query here
(about 0.2 ms of CPU against 0.9 ms); elsewhere this is DRF's token authentication.
"""

from __future__ import annotations

from functools import cache

from django.db import connection
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from .models import Department, Membership, User


@cache
def _sql() -> str:
    token, user = Token._meta.db_table, User._meta.db_table
    membership, department = Membership._meta.db_table, Department._meta.db_table
    # The roles as `User.membership_roles` computes them: memberships in active departments.
    return (
        f'SELECT u.*, t."created" AS "token_created", ARRAY('  # noqa: S608 (table names only)
        f'  SELECT m."role" FROM "{membership}" m JOIN "{department}" d'
        f'  ON d."id" = m."department_id" WHERE m."user_id" = u."id" AND d."active"'
        f') AS "membership_roles_held" '
        f'FROM "{token}" t JOIN "{user}" u ON u."id" = t."user_id" WHERE t."key" = %s'
    )


class TokenWithRolesAuthentication(TokenAuthentication):
    """DRF's token authentication (same header, same errors); the user comes with
    `membership_roles` already known."""

    def authenticate_credentials(self, key: str) -> tuple[User, Token]:
        if connection.vendor != "postgresql":
            return super().authenticate_credentials(key)
        user = next(iter(User.objects.raw(_sql(), [key])), None)
        if user is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        user.__dict__["membership_roles"] = frozenset(user.membership_roles_held)
        token = Token.from_db(
            connection.alias, ["key", "user_id", "created"], [key, user.pk, user.token_created]
        )
        token.user = user
        return (user, token)

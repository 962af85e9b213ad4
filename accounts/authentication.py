"""API token authentication: the key's digest, the user, their groups, department roles and
model-wide permissions in one query.

Keys are stored only as digests (accounts/tokens.py); a token past its expiry, or of an
inactive user, is refused. Every action records the actor's role in its audit event
(`User.primary_role`), and every access check reads the user's groups (`User.group_ids`),
and the departments of those groups (`workflows.permissions.department_ids`), and Django's
`ModelBackend` reads the user's model-wide permissions for the first `has_perm`: each would
otherwise cost every API request queries of their own. On PostgreSQL the token, the user, the
groups, the departments, the roles and the model-wide permissions are one raw query here (about
0.2 ms of CPU against 0.9 ms through the ORM, and four round trips fewer); elsewhere the ORM
reads them. All are read at the request's start, as a session-authenticated request reads them.

A service account's token (with its scopes, in the same query) is accepted only by views that
name the scope they need (`token_scope`, accounts/scopes.py); anywhere else it is a 403: a
department's system is not a citizen, and a view nobody marked stays closed to it.
"""

from __future__ import annotations

from functools import cache

from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from .constants import MembershipRole
from .models import ApiToken, Department, User
from .tokens import key_digest

_TOKEN_COLUMNS = ("id", "prefix", "label", "created_at", "expires_at")


@cache
def _sql() -> str:
    token, user = ApiToken._meta.db_table, User._meta.db_table
    department = Department._meta.db_table
    in_groups = User.groups.through._meta.db_table
    user_perms = User.user_permissions.through._meta.db_table
    group_perms = Group.permissions.through._meta.db_table
    permission, content_type = Permission._meta.db_table, ContentType._meta.db_table
    columns = ", ".join(f't."{c}" AS "token_{c}"' for c in _TOKEN_COLUMNS)
    # The groups, and the departments and roles as `User.department_roles` reads them from the
    # groups of active departments (ids and lead flags in the same order).
    of_departments = (
        f'  FROM "{in_groups}" g JOIN "{department}" d'
        f'  ON d."group_id" = g."group_id" OR d."lead_group_id" = g."group_id"'
        f'  WHERE g."user_id" = u."id" AND d."active" GROUP BY d."id" ORDER BY d."id"'
    )
    # Model-wide permissions as `ModelBackend` names them ("app_label.codename"), the user's own
    # and those of their groups.
    named = (
        f'SELECT c."app_label" || \'.\' || p."codename" FROM "{permission}" p '  # noqa: S608
        f'JOIN "{content_type}" c ON c."id" = p."content_type_id" '
    )
    return (
        f"SELECT u.*, {columns}, ARRAY("  # noqa: S608 (table names only)
        f'  SELECT jsonb_array_elements_text(t."scopes")) AS "token_scopes", ARRAY('
        f'  SELECT g."group_id" FROM "{in_groups}" g WHERE g."user_id" = u."id"'
        f') AS "group_ids_held", '
        f'ARRAY(SELECT d."id" {of_departments}) AS "department_ids_held", '
        f'ARRAY(SELECT bool_or(d."lead_group_id" = g."group_id") {of_departments}'
        f') AS "department_leads_held", '
        f'ARRAY(SELECT d."id" FROM "{in_groups}" g JOIN "{department}" d '
        f'  ON d."group_id" = g."group_id" WHERE g."user_id" = u."id" AND d."active" '
        f'  ORDER BY d."id") AS "member_department_ids_held", '
        f'ARRAY({named} JOIN "{user_perms}" x ON x."permission_id" = p."id" '
        f'  WHERE x."user_id" = u."id") AS "user_permissions_held", '
        f'ARRAY({named} JOIN "{group_perms}" x ON x."permission_id" = p."id" '
        f'  JOIN "{in_groups}" g ON g."group_id" = x."group_id" '
        f'  WHERE g."user_id" = u."id") AS "group_permissions_held" '
        f'FROM "{token}" t JOIN "{user}" u ON u."id" = t."user_id" '
        f'WHERE t."digest" = %s AND t."expires_at" > %s'
    )


class TokenWithRolesAuthentication(TokenAuthentication):
    """`Authorization: Token <key>` (DRF's header and errors) against digests of keys; the user
    comes with its groups and department roles already known on PostgreSQL."""

    model = ApiToken

    def authenticate_credentials(self, key: str) -> tuple[User, ApiToken]:
        digest, now = key_digest(key), timezone.now()
        if connection.vendor == "postgresql":
            user = next(iter(User.objects.raw(_sql(), [digest, now])), None)
            token = None
            if user is not None:
                user.__dict__["group_ids"] = frozenset(user.group_ids_held)
                user.__dict__["department_roles"] = {
                    pk: MembershipRole.LEAD if lead else MembershipRole.CLERK
                    for pk, lead in zip(
                        user.department_ids_held, user.department_leads_held, strict=True
                    )
                }
                user.__dict__["member_department_ids"] = list(user.member_department_ids_held)
                if not user.is_superuser:  # ModelBackend's caches (a superuser holds them all)
                    user._user_perm_cache = set(user.user_permissions_held)
                    user._group_perm_cache = set(user.group_permissions_held)
                # `from_db` takes the values in the model's field order.
                row = {c: getattr(user, f"token_{c}") for c in _TOKEN_COLUMNS}
                row.update(scopes=list(user.token_scopes), user_id=user.pk, digest=digest)
                names = [f.attname for f in ApiToken._meta.concrete_fields]
                token = ApiToken.from_db(connection.alias, names, [row[n] for n in names])
                token.user = user
        else:
            token = (
                ApiToken.objects.select_related("user")
                .filter(digest=digest, expires_at__gt=now)
                .first()
            )
            user = token.user if token is not None else None
        if token is None or user is None:
            raise exceptions.AuthenticationFailed(_("Invalid or expired token."))
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return (user, token)

    def authenticate(self, request) -> tuple[User, ApiToken] | None:
        found = super().authenticate(request)
        if found is not None and found[0].is_service_account:
            view = (getattr(request, "parser_context", None) or {}).get("view")
            if not found[1].scopes or getattr(view, "token_scope", None) is None:
                raise exceptions.PermissionDenied(
                    _("A service account's token is accepted only by the case API.")
                )
        return found

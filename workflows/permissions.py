"""Who may do what with a case: one checking function (`case_access`) and the list scopes, all
read from object permissions on the case (django-guardian's direct foreign-key tables).

- `view_case`: read the step's fields, masked, and the case's history;
- `change_case`: act on it (claim, release, decide, ask the citizen, write notes, reveal values
  with a purpose, download its files);
- `assign_case`: give it to a member of staff (leads);
- `consult_case`: read the fields a consultation shares, reveal them with a purpose, and give an
  opinion; only while a consultation for this reader is open.

Routing grants `view_case` and `change_case` to the department's group and `assign_case` to its
leads' group; closing the case takes `assign_case` back and ends its consultations.
Memberships decide only who is in those groups (`accounts.actions.department_groups_sync`).
Supervisors read every case through the model-wide `workflows.view_case` permission their
portal-wide role carries (`accounts.backends.StaffRoleBackend`); nobody acts on a case through
a model-wide permission.
docs/permissions.md has the table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.signals import post_migrate
from django.dispatch import receiver
from django.utils import timezone

from accounts.models import Department, User

from .constants import FINAL_CASE_STATES
from .models import Case, CaseGroupObjectPermission, CaseUserObjectPermission, Consultation

VIEW, ACT, ASSIGN, CONSULT = "view_case", "change_case", "assign_case", "consult_case"
# What the engine grants on a new case, to the department's group and to its leads' group.
DEPARTMENT_GRANTS = (VIEW, ACT)
LEAD_GRANTS = (ASSIGN,)
# What a closed case keeps: its department still reads it, writes notes on it and reveals its
# values for a stated purpose (a complaint, an appeal); the state checks refuse decisions.
CLOSED_KEEPS = (VIEW, ACT)
# Model-wide: the one permission that reaches every case (supervisors, administrators).
READ_ALL = "workflows.view_case"


@dataclass(frozen=True)
class CaseAccess:
    """What one user may do with one case, and why."""

    perms: frozenset[str] = frozenset()
    # True when the access is the model-wide read (supervisors, administrators).
    portal_wide: bool = False
    # The open consultations that give this reader `consult_case` (their fields, their reasons).
    consultations: tuple[Consultation, ...] = ()
    # The absent colleague whose permissions a delegation lends (workflows.delegation).
    on_behalf_of: User | None = None
    # Where the permission came from, for the audit's role: "lead", "clerk", or "".
    department_role: str = ""
    delegated: frozenset[str] = field(default_factory=frozenset)

    @property
    def can_view(self) -> bool:
        """Sees the case (all the step's fields, or a consultation's)."""
        return bool(self.perms & {VIEW, CONSULT}) or self.portal_wide

    @property
    def can_act(self) -> bool:
        return ACT in self.perms

    @property
    def can_assign(self) -> bool:
        return ASSIGN in self.perms

    @property
    def is_consultee(self) -> bool:
        """Reads the case only through a consultation (no department or portal-wide access)."""
        return CONSULT in self.perms and VIEW not in self.perms and not self.portal_wide

    @property
    def fields(self) -> tuple[str, ...] | None:
        """The fields this reader may see: None for all the step's fields, else a consultation's
        (the union of the open ones, in the step's order)."""
        if not self.is_consultee:
            return None
        shared = {key for c in self.consultations for key in c.fields}
        return tuple(key for key in self.consultations[0].case.fields if key in shared)


NO_ACCESS = CaseAccess()


def _group_ids(user: User) -> list[int]:
    """The user's groups (`User.group_ids`, cached on the user for the request; token
    authentication reads them with the token)."""
    return sorted(user.group_ids)


def reads_all_cases(user: User) -> bool:
    """The model-wide read: supervisors and administrators."""
    return bool(user.is_authenticated and user.is_active and user.has_perm(READ_ALL))


def granted(*, user: User, case: Case) -> frozenset[str]:
    """The codenames the user holds on the case through the groups of their active departments
    (and any other group) and in their own name: one query on the two direct foreign-key
    tables."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    return granted_to(users=[user], case=case).get(user.pk, frozenset())


def granted_to(*, users: list[User], case: Case) -> dict[int, frozenset[str]]:
    """{user id: codenames} each of these users holds on the case, as `granted` reads them,
    for all of them in one query (a delegation lends what its absent members hold)."""
    ids = [u.pk for u in users if u.is_active]
    if not ids:
        return {}
    # A deactivated department's groups grant nothing (as in `visible_cases` and `open_for`).
    by_group = (
        CaseGroupObjectPermission.objects.filter(content_object_id=case.pk, group__user__in=ids)
        .exclude(group__department__active=False)
        .exclude(group__led_department__active=False)
        .values_list("group__user", "permission__codename")
    )
    by_user = CaseUserObjectPermission.objects.filter(
        content_object_id=case.pk, user_id__in=ids
    ).values_list("user_id", "permission__codename")
    held: dict[int, set[str]] = {}
    for user_id, codename in by_group.union(by_user):
        held.setdefault(user_id, set()).add(codename)
    return {pk: frozenset(codenames) for pk, codenames in held.items()}


def open_consultations(*, user: User, case: Case, now: dt.datetime | None = None) -> tuple:
    """The consultations of this case that are open to the user now (not ended, revoked or
    past their end)."""
    now = now or timezone.now()
    return tuple(
        Consultation.objects.filter(case=case)
        .filter(open_for(user, now))
        .select_related("case", "department", "official", "shared_by")
        .order_by("created_at", "id")
    )


def open_for(user: User, now: dt.datetime) -> Q:
    """Consultations open to the user at `now`: not ended or revoked, not past their end, and
    shared with them or with an active department whose group they are in."""
    consultee = Q(official_id=user.pk) | Q(
        department__group_id__in=_group_ids(user), department__active=True
    )
    # A case that closed ends its consultations at once (beat then removes their grants).
    return (
        Q(ended_at__isnull=True, revoked_at__isnull=True)
        & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        & ~Q(case__status__in=FINAL_CASE_STATES)
        & consultee
    )


def role_for(perms: set[str] | frozenset[str], default: str = "") -> str:
    """The department role an access acts in, for the audit: "lead" with `assign_case`,
    "clerk" with `change_case`, else `default`."""
    return "lead" if ASSIGN in perms else "clerk" if ACT in perms else default


def case_access(*, user: User, case: Case, now: dt.datetime | None = None) -> CaseAccess:
    """The one check for a case: what `user` may do with it now."""
    if not user.is_authenticated or not user.is_active:
        return NO_ACCESS
    now = now or timezone.now()
    perms = set(granted(user=user, case=case))
    consultations: tuple = ()
    if CONSULT in perms:
        consultations = open_consultations(user=user, case=case, now=now)
        if not consultations:  # expired or revoked: enforced here, cleaned up by beat
            perms.discard(CONSULT)
    access = CaseAccess(
        perms=frozenset(perms),
        portal_wide=VIEW not in perms and reads_all_cases(user),
        consultations=consultations,
        department_role=role_for(perms),
    )
    from .delegation import with_delegations

    return with_delegations(access, user=user, case=case, now=now)


def department_ids(user: User) -> list[int]:
    """The active departments whose group the user is in, read now (not `User.department_roles`,
    cached on the user object: a department closed since must drop out of the very next list),
    or as token authentication read them with the token at the start of this request."""
    if "member_department_ids" in user.__dict__:
        return user.__dict__["member_department_ids"]
    groups = _group_ids(user)
    if not groups:
        return []
    return list(
        Department.objects.filter(group_id__in=groups, active=True).values_list("pk", flat=True)
    )


# Permission ids by (database, codename), read once per process: `migrate` makes the
# permissions and they keep their ids; a post_migrate signal forgets them anyway.
_permission_ids: dict[tuple[str, str], int] = {}


def permission_id(codename: str) -> int | None:
    """The id of a case permission (None if `migrate` has not made it)."""
    key = (str(connection.settings_dict["NAME"]), codename)
    if key not in _permission_ids:
        found = (
            Permission.objects.filter(
                codename=codename,
                content_type__app_label="workflows",
                content_type__model="case",
            )
            .values_list("pk", flat=True)
            .first()
        )
        if found is None:
            return None
        _permission_ids[key] = found
    return _permission_ids[key]


@receiver(post_migrate, dispatch_uid="workflows.permissions.forget_permission_ids")
def forget_permission_ids(**kwargs) -> None:
    _permission_ids.clear()


class _Probe(Exists):
    """EXISTS checked for each case PostgreSQL reads, in the order it reads them.

    Left to itself, PostgreSQL turns `EXISTS (a grant on this case)` into a join, and for a big
    department it reads every grant the group holds (about 117,000 rows for the busiest office
    at 1,000,000 cases) to build a hash table, for every page and again for every status count.
    `OFFSET 0` keeps the subquery a per-row check (PostgreSQL never pulls up a subquery with an
    OFFSET), so a page reads the first 51 cases from the due-date index, checking the grant of
    each in the grant table's unique index, and stops; a status count stops after 1,000."""

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler, connection, template="EXISTS(%(subquery)s OFFSET 0)", **extra_context
        )


def _view_grant(groups: Iterable[int]) -> Exists:
    """A `view_case` grant to one of these groups on the outer case (the permission by its id,
    so the check is one probe of the grant table's (group, permission, case) index)."""
    return _Probe(
        CaseGroupObjectPermission.objects.filter(
            content_object_id=OuterRef("pk"),
            group_id__in=list(groups),
            permission_id=permission_id(VIEW),
        )
    )


def visible_cases(*, user: User) -> QuerySet[Case]:
    """Every case the user may read in full: all of them for the model-wide read, else the
    cases of their departments on which one of their groups holds `view_case`.

    A join on the grant table decides; the department filter in front of it only lets
    PostgreSQL read a department's cases in due-date order from its index and stop after a
    page (grants to a department's group are only ever on that department's cases, which the
    property tests check)."""
    if not user.is_authenticated or not user.is_active:
        return Case.objects.none()
    if reads_all_cases(user):
        return Case.objects.all()
    departments = department_ids(user)
    if not departments:
        return Case.objects.none()
    return Case.objects.filter(department_id__in=departments).filter(_view_grant(_group_ids(user)))


def consulted_cases(*, user: User, now: dt.datetime | None = None) -> QuerySet[Case]:
    """The cases shared with the user (or a group of theirs) by an open consultation, on which
    they hold `consult_case`: the "consulted" tab."""
    if not user.is_authenticated or not user.is_active:
        return Case.objects.none()
    now = now or timezone.now()
    groups = _group_ids(user)
    grant = Exists(
        CaseGroupObjectPermission.objects.filter(
            content_object_id=OuterRef("pk"), group_id__in=groups, permission__codename=CONSULT
        )
    ) | Exists(
        CaseUserObjectPermission.objects.filter(
            content_object_id=OuterRef("pk"), user_id=user.pk, permission__codename=CONSULT
        )
    )
    consultation = Exists(Consultation.objects.filter(open_for(user, now), case=OuterRef("pk")))
    return Case.objects.filter(grant).filter(consultation)


# --- Grants (the engine and the actions call these) ---


def _insert_grants(table: str, holder: str, rows: list[tuple[int, int]], codenames) -> int:
    """Insert (case id, holder id) x codenames into a direct foreign-key grant table in one
    statement that also looks the permissions up; returns how many rows were inserted."""
    if not rows:
        return 0
    values = " UNION ALL ".join([f"SELECT %s AS case_id, %s AS {holder}"] * len(rows))
    marks = ", ".join(["%s"] * len(codenames))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (permission_id, {holder}, content_object_id) "  # noqa: S608
            f"SELECT p.id, v.{holder}, v.case_id FROM auth_permission AS p "
            "JOIN django_content_type AS t ON t.id = p.content_type_id "
            f"CROSS JOIN ({values}) AS v "
            f"WHERE t.app_label = 'workflows' AND t.model = 'case' AND p.codename IN ({marks}) "
            "ON CONFLICT DO NOTHING",
            [x for row in rows for x in row] + list(codenames),
        )
        return cursor.rowcount


def grant_department(cases: Iterable[Case]) -> None:
    """New cases: their department's group gets `DEPARTMENT_GRANTS`, its leads' group
    `LEAD_GRANTS` (one statement per table and batch)."""
    cases = list(cases)
    if not cases:
        return
    members = [(c.pk, c.department.group_id) for c in cases]
    leads = [(c.pk, c.department.lead_group_id) for c in cases if c.department.lead_group_id]
    table = CaseGroupObjectPermission._meta.db_table
    inserted = _insert_grants(table, "group_id", members, DEPARTMENT_GRANTS)
    # New cases have no grants yet, so fewer rows means a permission does not exist.
    if inserted != len(members) * len(DEPARTMENT_GRANTS):
        raise RuntimeError("the case permissions are missing: run migrate")
    _insert_grants(table, "group_id", leads, LEAD_GRANTS)


def revoke_on_close(cases: Iterable[Case]) -> None:
    """Closed cases (decided, cancelled) keep only `CLOSED_KEEPS` for their department: nobody
    assigns them any more. Consultation grants stay until beat's sweep ends their consultations
    (`workflows.consultations.consultations_expire`); the read-time check refuses them from the
    moment the case closes."""
    ids = [c.pk for c in cases if c.status in FINAL_CASE_STATES]
    if not ids:
        return
    CaseGroupObjectPermission.objects.filter(content_object_id__in=ids).exclude(
        permission__codename__in=[*CLOSED_KEEPS, CONSULT]
    ).delete()
    CaseUserObjectPermission.objects.filter(content_object_id__in=ids).exclude(
        permission__codename__in=[*CLOSED_KEEPS, CONSULT]
    ).delete()


def grant(*, codename: str, case: Case, user: User | None = None, group: Group | None = None):
    """One grant on one case, to a user or a group (consultations)."""
    if (user is None) == (group is None):
        raise ValueError("grant to a user or a group")
    if user is not None:
        _insert_grants(
            CaseUserObjectPermission._meta.db_table, "user_id", [(case.pk, user.pk)], [codename]
        )
    else:
        _insert_grants(
            CaseGroupObjectPermission._meta.db_table, "group_id", [(case.pk, group.pk)], [codename]
        )


def ungrant(*, codename: str, case: Case, user: User | None = None, group: Group | None = None):
    """Remove one grant (a consultation that ended)."""
    if user is not None:
        CaseUserObjectPermission.objects.filter(
            content_object_id=case.pk, user_id=user.pk, permission__codename=codename
        ).delete()
    if group is not None:
        CaseGroupObjectPermission.objects.filter(
            content_object_id=case.pk, group_id=group.pk, permission__codename=codename
        ).delete()

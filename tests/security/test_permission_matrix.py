"""Permission matrix: every URL pattern of the project, for every role.

A citizen's application answers only its owner (anyone else signed in gets 404, not 403) and
the representative the owner authorised on it (reading and replying; 403 for what needs a right
they were not given; a revoked representative is anyone else again); a case
answers the staff of its department, and supervisors and administrators read it but cannot
decide it; lists show only what the asker may see. A URL pattern without an entry in `MATRIX`
fails `test_every_url_pattern_has_a_matrix_entry`: a new URL must say who may use it.

The data (demo departments and accounts, routed applications, files) is built once for the
module through the real actions; each check runs in its own rolled-back transaction, so a
permitted decision does not disturb the next check.
"""

from __future__ import annotations

import datetime
import datetime as dt
import json
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve
from django.utils import timezone

from accounts import actions as account_actions
from accounts import service_accounts
from accounts.constants import MembershipRole
from accounts.models import Department, User
from audit.models import AuditEvent, AuditVerification, VerificationStatus
from integrations.models import Delivery, Subscription, SubscriptionSecret
from opendata import actions as opendata_actions
from opendata.models import Release
from services import actions as service_actions
from services.models import Application, Attachment, Representation
from services.validators import make_national_id
from tests.data import LI_WEI_MOVING as MOVING
from tests.data import NEWBORN, OTHER_NATIONAL_ID, PDF
from tests.factories import TOTP_SECRET, newborn_draft, submit_moving
from workflows import actions as workflow_actions
from workflows import consultations, routing
from workflows import delegation as workflow_delegation
from workflows.models import (
    Case,
    CaseNote,
    Consultation,
    Delegation,
    InformationRequest,
    Opinion,
)

pytestmark = pytest.mark.django_db

ROLES = (
    "anonymous",
    "owner",  # the citizen whose applications are checked
    "other_citizen",
    "representative",  # a citizen the owner authorised on `moving` (no withdraw or erase right)
    "former_representative",  # a citizen whose authorisation on `moving` was revoked
    "clerk",  # a clerk of the case's department
    "other_clerk",  # a clerk of another department (one with a case on the same application)
    "lead",  # a lead of the case's department
    # A second clerk of the case's department who covers (workflows.delegation) for its clerk's
    # cases and for its lead's whole role.
    "delegate",
    "supervisor",
    "admin",
    # A clerk of a department without cases here (market regulation) with whom the household
    # case is shared for an opinion (and the tax case, expired; another one, withdrawn).
    "consultee",
    # A clerk of the case's department while its cases were routed, removed from it since
    # (`former.<slug>@demo.gov`): a citizen with nothing of their own again.
    "former_member",
)
SIGNED_IN = ROLES[1:]
NOT_OWNER = ROLES[2:]
HOUSEHOLD, TAX = "household-registration", "tax"
CIVIL = "civil-registry"
MARKET = "market-regulation"  # the consultee's department
STAFF = ("clerk", "other_clerk", "lead", "delegate", "supervisor", "admin", "consultee")
NATIONAL_ID = MOVING["applicant.national_id"]  # of every moving-house application below
# In the other citizen's profile (so the owner can authorise them).
THIRD_ID = make_national_id("440305", datetime.date(1960, 5, 1), "123")


# --- Expected answers ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Expect:
    status: int
    changes: bool | None = None  # for writes: must stored state change (None: not checked)
    to: str = ""  # for redirects: where to

    def __str__(self) -> str:
        return f"{self.status}{f' to {self.to}' if self.to else ''}"


LOGIN = Expect(302, changes=False, to="/accounts/login/")  # an HTML page: sign in first
ADMIN_LOGIN = Expect(302, changes=False, to="/admin/login/")
UNAUTH = Expect(401, changes=False)  # an API call: sign in first
NOT_FOUND = Expect(404, changes=False)  # not yours, and we do not confirm it exists
FORBIDDEN = Expect(403, changes=False)  # you may see it, but not do this


def ok(status: int = 200) -> Expect:
    return Expect(status)


def done(status: int = 200) -> Expect:
    """Accepted, and the write happened."""
    return Expect(status, changes=True)


def refused(status: int) -> Expect:
    """Answered (a page with a message, a 409), and nothing changed."""
    return Expect(status, changes=False)


def public(expect: Expect) -> dict[str, Expect]:
    return dict.fromkeys(ROLES, expect)


def signed_in(expect: Expect, *, api: bool) -> dict[str, Expect]:
    return {"anonymous": UNAUTH if api else LOGIN} | dict.fromkeys(SIGNED_IN, expect)


def owner_only(owner: Expect, *, api: bool) -> dict[str, Expect]:
    """A citizen's application: the owner, and a 404 for everyone else signed in."""
    return {"anonymous": UNAUTH if api else LOGIN, "owner": owner} | dict.fromkeys(
        NOT_OWNER, NOT_FOUND
    )


def represented(owner: Expect, representative: Expect, *, api: bool) -> dict[str, Expect]:
    """An application the owner authorised a representative on (`moving`): the owner, the
    representative (what their rights allow; 403 for the rest), a 404 for everyone else."""
    return owner_only(owner, api=api) | {"representative": representative}


CITIZENS_NOT_OWNER = ("other_citizen", "representative", "former_representative")


def case_read(*, api: bool, consultee: Expect = NOT_FOUND) -> dict[str, Expect]:
    """A case: its department's staff, supervisors and administrators read; others get 404
    (those it is shared with read it too: `consultee`)."""
    readers = ok(200)
    return {
        "anonymous": UNAUTH if api else LOGIN,
        "owner": NOT_FOUND,
        **dict.fromkeys(CITIZENS_NOT_OWNER, NOT_FOUND),
        "clerk": readers,
        "other_clerk": NOT_FOUND,
        "lead": readers,
        "delegate": readers,
        "supervisor": readers,
        "admin": readers,
        "consultee": consultee,
    }


def case_decision(
    *,
    api: bool,
    clerk: Expect,
    lead: Expect,
    consultee: Expect = NOT_FOUND,
    delegate: Expect | None = None,
) -> dict[str, Expect]:
    """A decision on a case: its department's staff only. Supervisors and administrators read
    but do not decide: 403, from the API and from the pages; so does a consultee. The delegate
    answers as the clerk unless said otherwise."""
    readers_refused = FORBIDDEN
    return case_read(api=api, consultee=consultee) | {
        "clerk": clerk,
        "lead": lead,
        "delegate": clerk if delegate is None else delegate,
        "supervisor": readers_refused,
        "admin": readers_refused,
    }


def staff_only() -> dict[str, Expect]:
    """A workbench page: any staff member; citizens get 404."""
    citizens = dict.fromkeys(("owner", *CITIZENS_NOT_OWNER), NOT_FOUND)
    return {"anonymous": LOGIN} | citizens | dict.fromkeys(STAFF, ok(200))


def admin_only(admin: Expect) -> dict[str, Expect]:
    return dict.fromkeys(ROLES, ADMIN_LOGIN) | {"admin": admin}


def auditors_only(*, api: bool) -> dict[str, Expect]:
    """The audit log: supervisors and administrators; everyone else 403 (API) or 404 (page)."""
    refused_ = FORBIDDEN if api else NOT_FOUND
    return (
        {"anonymous": UNAUTH if api else LOGIN}
        | dict.fromkeys(SIGNED_IN, refused_)
        | {
            "supervisor": ok(200),
            "admin": ok(200),
        }
    )


def dashboards(*, api: bool, seen: Expect | None = None) -> dict[str, Expect]:
    """The dashboards: supervisors and administrators (the whole city) and the case
    department's lead (their department); everyone else 403 (API) or 404 (page), as the audit
    log. The delegate covers for the lead's role on cases only, which lends no dashboard."""
    return auditors_only(api=api) | {
        "lead": seen or ok(200),
        **({"supervisor": seen, "admin": seen} if seen else {}),
    }


def webhooks(*, api: bool, seen: Expect | None = None) -> dict[str, Expect]:
    """The webhooks' management: administrators (every department) and the department's lead;
    everyone else 403 (API) or 404 (page), as the dashboards. The delegate covers for the lead's
    role on cases only, which lends no webhooks."""
    refused_ = FORBIDDEN if api else NOT_FOUND
    return (
        {"anonymous": UNAUTH if api else LOGIN}
        | dict.fromkeys(SIGNED_IN, refused_)
        | {"lead": seen or ok(200), "admin": seen or ok(200)}
    )


WEBHOOK_FORM = {
    "department": HOUSEHOLD,
    "url": "https://127.0.0.1/other-hooks",
    "events": ["case.closed"],
    "label": "Second system",
}


def nobody(*, api: bool) -> dict[str, Expect]:
    return signed_in(NOT_FOUND, api=api)


# --- The data, built once for the module through the real actions ---------------------------


@dataclass
class World:
    """References and file tokens; a URL template's `{name}` is filled from these."""

    moving: str  # the owner's submitted, routed moving-house application
    newborn: str  # the owner's submitted, routed newborn application (with a certificate)
    draft: str  # the owner's complete newborn draft (with a certificate)
    foreign: str  # the other citizen's routed moving-house application
    foreign_draft: str  # the other citizen's draft (with a certificate)
    household: str  # case of `moving` at household-registration (open)
    tax: str  # case of `moving` at tax (open)
    birth: str  # case of `newborn` at civil-registry (open; sees the certificate)
    newborn_household: str  # case of `newborn` at household-registration (does not see it)
    foreign_household: str  # case of `foreign` at household-registration
    draft_file: str
    newborn_file: str
    foreign_file: str
    national_id: str = NATIONAL_ID
    owner_token: int = 0  # id of an API token of the owner
    owner_id: int = 0  # the owner's user id
    representation_id: int = 0  # the representative's authorisation on `moving`
    former_representation_id: int = 0  # the revoked one
    delegation: int = 0  # id of the household clerk's delegation of their cases to the delegate
    verification: int = 0  # a finished verification of the audit log
    case_departments: dict[str, str] = field(default_factory=dict)  # reference -> department
    open_cases: set[str] = field(default_factory=set)
    moving_cases: set[str] = field(default_factory=set)
    share: int = 0  # the open consultation of `household` with the consultee's department
    expired_share: int = 0  # of `tax`, past its end (not swept: refused at read time)
    revoked_share: int = 0  # of `foreign_household`, withdrawn
    webhook: int = 0  # the household department's webhook subscription
    webhook_delivery: int = 0  # a delivery of it (the opening of `household`)
    service_account: int = 0  # a service account of the household department
    service_token: int = 0  # its token (cases:read)

    @property
    def owner_applications(self) -> list[str]:
        return [self.moving, self.newborn, self.draft]

    @property
    def foreign_applications(self) -> list[str]:
        return [self.foreign, self.foreign_draft]

    def fill(self, value: Any) -> Any:
        if isinstance(value, str):
            return value.format(**vars(self))
        if isinstance(value, list):
            return [self.fill(v) for v in value]
        if isinstance(value, dict):
            return {k: self.fill(v) for k, v in value.items()}
        return value


def _certificate() -> SimpleUploadedFile:
    return SimpleUploadedFile("certificate.pdf", PDF, content_type="application/pdf")


def _newborn_draft(citizen: User) -> Application:
    application, _attachment = newborn_draft(
        citizen, answers={**NEWBORN, "child.date_of_birth": "2025-06-01"}
    )
    return Application.objects.get(pk=application.pk)


def _routed(application: Application) -> dict[str, Case]:
    routing.advance(application_id=application.pk)
    return {c.step: c for c in application.cases.all()}


def _delegates() -> int:
    """In each department, a second clerk (`delegate.<slug>@demo.gov`) covering for the clerk's
    cases and the lead's role, for a week from an hour ago. The household clerk's delegation."""
    now = timezone.now()
    delegations = {}
    for department in Department.objects.all():
        slug = department.slug
        cover = account_actions.user_create(
            actor=None, email=f"delegate.{slug}@demo.gov", password=None, email_verified=True
        )
        account_actions.membership_grant(
            actor=None, user=cover, department=department, role=MembershipRole.CLERK
        )
        account_actions.staff_totp_activate(actor=None, user=cover, secret=TOTP_SECRET)
        lead = User.objects.get(email=f"lead.{slug}@demo.gov")
        for absent, scope in ((f"clerk.{slug}@demo.gov", "cases"), (lead.email, "role")):
            delegations[slug, scope] = workflow_delegation.delegation_create(
                actor=lead,
                department=department,
                delegator=User.objects.get(email=absent),
                delegate=cover,
                scope=scope,
                starts_at=now - dt.timedelta(hours=1),
                ends_at=now + dt.timedelta(days=7),
                now=now,
            )
    return delegations[HOUSEHOLD, "cases"].pk


def _former_members_join() -> list:
    """In each department, a clerk (`former.<slug>@demo.gov`) who is there while the cases are
    routed (their group gets the cases' grants)."""
    joined = []
    for department in Department.objects.all():
        member = account_actions.user_create(
            actor=None,
            email=f"former.{department.slug}@demo.gov",
            password=None,
            email_verified=True,
        )
        joined.append(
            account_actions.membership_grant(
                actor=None, user=member, department=department, role=MembershipRole.CLERK
            )
        )
        account_actions.staff_totp_activate(actor=None, user=member, secret=TOTP_SECRET)
    return joined


def _build() -> World:
    call_command("seed_demo", stdout=StringIO())
    delegation = _delegates()
    former_members = _former_members_join()
    citizen = User.objects.get(email="citizen@demo.gov")
    citizen2 = User.objects.get(email="citizen2@demo.gov")
    webhook = _webhook()
    moving = submit_moving(citizen=citizen)
    moving_cases = _routed(moving)
    foreign = submit_moving(citizen=citizen2)
    foreign_cases = _routed(foreign)
    newborn = _newborn_draft(citizen)
    service_actions.application_submit(application=newborn, actor=citizen)
    newborn_cases = _routed(newborn)
    draft = _newborn_draft(citizen)
    foreign_draft = _newborn_draft(citizen2)
    cases = Case.objects.select_related("department")
    owner_token = account_actions.token_issue(actor=None, user=citizen).token.pk
    shares = _shares(moving_cases, foreign_cases)
    representation, former = _representatives(citizen, moving)
    for membership in former_members:  # they leave once the cases hold their group's grants
        account_actions.membership_revoke(actor=None, membership=membership)
    verification = AuditVerification.objects.create(status=VerificationStatus.DONE, result={})
    service_account = service_accounts.service_account_create(
        actor=None,
        department=Department.objects.get(slug=HOUSEHOLD),
        label="Household back office",
        responsible=User.objects.get(email=f"lead.{HOUSEHOLD}@demo.gov"),
    )
    service_token = service_accounts.service_token_issue(
        actor=None, account=service_account, scopes=["cases:read"], days=30
    ).token
    return World(
        **shares,
        webhook=webhook.pk,
        webhook_delivery=webhook.deliveries.order_by("pk").first().pk,
        service_account=service_account.pk,
        service_token=service_token.pk,
        verification=verification.pk,
        delegation=delegation,
        owner_token=owner_token,
        owner_id=citizen.pk,
        representation_id=representation.pk,
        former_representation_id=former.pk,
        moving=moving.reference,
        newborn=newborn.reference,
        draft=draft.reference,
        foreign=foreign.reference,
        foreign_draft=foreign_draft.reference,
        household=moving_cases["household"].reference,
        tax=moving_cases["tax"].reference,
        birth=newborn_cases["register-birth"].reference,
        newborn_household=newborn_cases["household"].reference,
        foreign_household=foreign_cases["household"].reference,
        draft_file=draft.attachments.get().token,
        newborn_file=newborn.attachments.get().token,
        foreign_file=foreign_draft.attachments.get().token,
        case_departments={c.reference: c.department.slug for c in cases},
        open_cases={c.reference for c in cases if c.status == "open"},
        moving_cases={c.reference for c in cases.filter(application__in=[moving, foreign])},
    )


def _webhook():
    """The household department's system subscribes to every event (before the routing, so its
    cases' openings are in the delivery log)."""
    from integrations import actions as webhook_actions

    return webhook_actions.subscription_create(
        actor=User.objects.get(email="admin@demo.gov"),
        department=Department.objects.get(slug=HOUSEHOLD),
        url="https://127.0.0.1/hooks",
        events=["case.opened", "case.changed", "case.closed"],
        label="Household registry system",
    ).subscription


def _shares(moving_cases: dict[str, Case], foreign_cases: dict[str, Case]) -> dict[str, int]:
    """The consultee's department is consulted on the household case (open), the tax case
    (past its end) and the other citizen's household case (withdrawn)."""
    market = Department.objects.get(slug=MARKET)

    def shared(case: Case, **more) -> Consultation:
        return consultations.case_share(
            case=case,
            actor=User.objects.get(email=f"clerk.{case.department.slug}@demo.gov"),
            department=market,
            reason="Is the new address a registered business premises?",
            fields=["applicant.national_id", "move.date"],
            **more,
        )

    expired = shared(moving_cases["tax"], expires_at=timezone.now() + dt.timedelta(days=1))
    Consultation.objects.filter(pk=expired.pk).update(
        created_at=timezone.now() - dt.timedelta(days=3),
        expires_at=timezone.now() - dt.timedelta(days=1),
    )
    revoked = shared(foreign_cases["household"])
    consultations.case_share_revoke(
        consultation=revoked, actor=User.objects.get(email=f"clerk.{HOUSEHOLD}@demo.gov")
    )
    return {
        "share": shared(moving_cases["household"]).pk,
        "expired_share": expired.pk,
        "revoked_share": revoked.pk,
    }


REPRESENTATIVES = {
    "representative": ("representative@example.org", OTHER_NATIONAL_ID),
    "former_representative": ("former.representative@example.org", "11010519491231002X"),
}


def _representatives(owner: User, moving: Application) -> tuple:
    """The owner authorises one citizen on `moving` and revokes another; the other citizen
    (citizen2) gets a national ID in their profile so the owner can authorise them too."""
    made = []
    for email, national_id in REPRESENTATIVES.values():
        user = User.objects.create_user(email=email, password=None, full_name=email)
        service_actions.profile_update(user=user, facts={"applicant.national_id": national_id})
        made.append(
            service_actions.representation_grant(
                application=moving, actor=owner, email=email, national_id=national_id
            )
        )
    citizen2 = User.objects.get(email="citizen2@demo.gov")
    service_actions.profile_update(user=citizen2, facts={"applicant.national_id": THIRD_ID})
    service_actions.representation_revoke(representation=made[1], actor=owner)
    return made[0], made[1]


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[World]:
    """Built once; rolled back at the end of the module (each check rolls back its own)."""
    media = tmp_path_factory.mktemp("private-media")
    with override_settings(MEDIA_ROOT=media), django_db_blocker.unblock(), transaction.atomic():
        yield _build()
        transaction.set_rollback(True)


# --- Preparations and content checks ---------------------------------------------------------


def _case(reference: str) -> Case:
    return Case.objects.get(reference=reference)


def _clerk(department: str) -> User:
    return User.objects.get(email=f"clerk.{department}@demo.gov")


def claimed_by_clerk(w: World) -> None:
    workflow_actions.case_claim(case=_case(w.household), actor=_clerk(HOUSEHOLD))


def question_asked(w: World) -> None:
    workflow_actions.case_request_info(
        case=_case(w.household), actor=_clerk(HOUSEHOLD), message="Please confirm the move date."
    )


def tax_approved(w: World) -> None:
    workflow_actions.case_approve(case=_case(w.tax), actor=_clerk(TAX))


def _departments_of(role: str, entry: Entry, w: World) -> set[str]:
    department, other = entry.staff
    return {
        "clerk": {department},
        "lead": {department},
        "delegate": {department},
        "other_clerk": {other},
        "supervisor": set(w.case_departments.values()),
        "admin": set(w.case_departments.values()),
        "consultee": {MARKET},
    }.get(role, set())


def inbox(w: World, role: str, entry: Entry) -> tuple[list[str], list[str]]:
    """Shows the open cases of the asker's departments; never a case of another department."""
    mine = _departments_of(role, entry, w)
    shown = [r for r in sorted(w.open_cases) if w.case_departments[r] in mine]
    if entry.method == "POST":  # the search by national ID: the moving-house cases only
        shown = [r for r in shown if r in w.moving_cases]
    return shown, [r for r, d in sorted(w.case_departments.items()) if d not in mine]


def nothing_listed(w: World, role: str, entry: Entry) -> tuple[list[str], list[str]]:
    """A refused request: no case at all, and the API does not echo the number back (a page's
    language switcher carries the asker's own address, as on every page)."""
    return [], [*sorted(w.case_departments), *([w.national_id] if entry.api else [])]


def no_answers(w: World, role: str, entry: Entry) -> tuple[list[str], list[str]]:
    """A step that has not opened: the case, but none of the citizen's values, masked or not."""
    return [w.newborn_household], [*NEWBORN_VALUES, *NEWBORN_MASKED]


def applications_listed(w: World, role: str, entry: Entry) -> tuple[list[str], list[str]]:
    if role == "owner":
        return w.owner_applications, w.foreign_applications
    if role == "other_citizen":
        return w.foreign_applications, w.owner_applications
    return [], w.owner_applications + w.foreign_applications


def acting_for(w: World, role: str, entry: Entry) -> tuple[list[str], list[str]]:
    """The applications the asker acts on: `moving` for its representative, never the
    owner's others."""
    others = [w.newborn, w.draft, *w.foreign_applications]
    if role == "representative":
        return [w.moving], others
    if role == "former_representative":  # the ended authorisation is listed, as revoked
        return [w.moving, "revoked"], others
    return [], [w.moving, *others]


def home_page(w: World, role: str, entry: Entry) -> tuple[list[str], list[str]]:
    if role == "owner":
        return w.owner_applications, w.foreign_applications
    return [], w.owner_applications


def consulted_listed(w: World, role: str, entry: Entry) -> tuple[list[str], list[str]]:
    """The consultee's "consulted" list shows the case shared with them, not those whose
    sharing ended (past its end, withdrawn); nobody else's lists any."""
    ended = [w.tax, w.foreign_household]
    return ([w.household], ended) if role == "consultee" else ([], [w.household, *ended])


def consultee_sees_the_shared_fields(
    w: World, role: str, entry: Entry
) -> tuple[list[str], list[str]]:
    """A consultee reads the fields shared with them (the national ID, masked, and the move's
    date), never the others."""
    if role != "consultee":
        return [], []
    if entry.api:
        return ['"applicant.national_id"', '"move.date"'], [
            '"move.new_address"',
            '"applicant.address"',
            w.national_id,
        ]
    return ['value="applicant.national_id"'], [MOVING["move.new_address"], w.national_id]


def revealed(w: World, role: str, entry: Entry) -> tuple[list[str], list[str]]:
    """The unmasked national ID appears only for those allowed to reveal it."""
    if entry.expect[role].changes:
        return [w.national_id], []
    return [], [w.national_id]


# --- The matrix ----------------------------------------------------------------------------------


def _new_delegation(w: World) -> dict:
    """A lead's new delegation: the household clerk's whole role to the household lead."""
    today = timezone.localdate()
    return {
        "department": HOUSEHOLD,
        "delegator": f"clerk.{HOUSEHOLD}@demo.gov",
        "delegate": f"lead.{HOUSEHOLD}@demo.gov",
        "scope": "role",
        "starts_at": today.isoformat(),
        "ends_at": (today + dt.timedelta(days=2)).isoformat(),
    }


def _new_delegation_api(w: World) -> dict:
    now = timezone.now()
    return {
        **_new_delegation(w),
        "starts_at": now.isoformat(),
        "ends_at": (now + dt.timedelta(days=2)).isoformat(),
    }


def delegation_create(*, api: bool) -> dict[str, Expect]:
    """A new delegation: a lead of the department only; other staff (the delegate who covers
    the lead's role too: lending case permissions does not lend delegating) get 403, citizens a
    404 from the workbench's page and a 403 from the API."""
    refused_ = FORBIDDEN if api else NOT_FOUND
    return (
        {"anonymous": UNAUTH if api else LOGIN}
        | dict.fromkeys(("owner", *CITIZENS_NOT_OWNER), refused_)
        | dict.fromkeys(STAFF, FORBIDDEN)
        | {"lead": done(201 if api else 302)}
    )


def service_account_managers(expect: Expect, *, api: bool) -> dict[str, Expect]:
    """A department's service accounts: administrators and the department's leads (the lead of
    the household department here); everyone else 403 (API) or 404 (pages). The delegate covers
    the lead's role on cases only, which lends no management of the department's systems."""
    refused_ = FORBIDDEN if api else NOT_FOUND
    return (
        {"anonymous": UNAUTH if api else LOGIN}
        | dict.fromkeys(SIGNED_IN, refused_)
        | {"lead": expect, "admin": expect}
    )


def _new_service_account(w: World) -> dict:
    return {
        "department": HOUSEHOLD,
        "label": "Second back office",
        "responsible": f"clerk.{HOUSEHOLD}@demo.gov",
    }


def delegation_revoke(*, api: bool) -> dict[str, Expect]:
    """Withdrawing the household clerk's delegation: the clerk (the absent member) and the
    lead; the delegate sees it but may not (403); whoever does not see it gets 404."""
    accepted = done(200 if api else 302)
    return nobody(api=api) | {
        "clerk": accepted,
        "lead": accepted,
        "delegate": FORBIDDEN,
    }


@dataclass(frozen=True)
class Entry:
    method: str
    url: str  # a template filled from World: "/applications/{moving}/"
    expect: dict[str, Expect]
    data: dict | Callable[[World], dict] | None = None
    multipart: bool = False  # API uploads; other API bodies are JSON, page bodies are forms
    staff: tuple[str, str] = (HOUSEHOLD, TAX)  # the case's department, and another one
    prepare: Callable[[World], None] | None = None  # run before the request (rolled back)
    shows: Callable[[World, str, Entry], tuple[list[str], list[str]]] | None = None
    note: str = ""  # tells apart two entries of the same URL
    # A known permission bug: role -> what is wrong. The check becomes a strict xfail, so the
    # fix makes it fail until the entry is corrected.
    bugs: dict[str, str] = field(default_factory=dict)

    @property
    def api(self) -> bool:
        return self.url.startswith("/api/")

    @property
    def writes(self) -> bool:
        return self.method not in ("GET", "HEAD")

    def __str__(self) -> str:
        return f"{self.method} {self.url}{f' ({self.note})' if self.note else ''}"


APPLICANT_PAGE = {
    "applicant__full_name": "Ouyang Lili",
    "applicant__national_id": NEWBORN["applicant.national_id"],
    "applicant__date_of_birth": NEWBORN["applicant.date_of_birth"],
    "applicant__phone": NEWBORN["applicant.phone"],
    "applicant__address": NEWBORN["applicant.address"],
}
NEWBORN_VALUES = [NEWBORN["applicant.national_id"], NEWBORN["applicant.full_name"]]
NEWBORN_MASKED = [NEWBORN["applicant.national_id"][:4] + "*" * 10]
REVEAL = {"fields": ["applicant.national_id"], "purpose": "Checking the identity for the move"}
ASSIGN = {"assignee": f"clerk.{HOUSEHOLD}@demo.gov"}


def _upload(w: World) -> dict:
    return {"field": "birth.certificate", "file": _certificate()}


def _pending_step(w: World, role: str, entry: Entry) -> tuple[list[str], list[str]]:
    """`no_answers` where the case is shown."""
    return no_answers(w, role, entry) if entry.expect[role].status == 200 else ([], [])


def _case_reads(*, api: bool) -> list[Entry]:
    """A case, on its page or through the API; a step that waits for another department shows
    the case, not the citizen's values; a reference that does not exist answers like a foreign
    one."""
    prefix = "/api/v1/cases" if api else "/workbench/cases"
    return [
        Entry(
            "GET",
            f"{prefix}/{{household}}/",
            case_read(api=api, consultee=ok(200)),
            shows=consultee_sees_the_shared_fields,
        ),
        Entry(
            "GET",
            f"{prefix}/{{newborn_household}}/",
            case_read(api=api),
            shows=_pending_step,
            note="a pending step",
        ),
        Entry("GET", f"{prefix}/C-2222-2222/", nobody(api=api)),
    ]


def _case_decisions(*, api: bool) -> list[Entry]:
    """The decisions on the household case, through the API or on the workbench pages: the
    same for both but the answers (a page redirects, a refusal too; the API answers 200, and
    409 when refused) and the note's path."""
    prefix = "/api/v1/cases/{household}" if api else "/workbench/cases/{household}"
    accepted, declined = (done(), refused(409)) if api else (done(302), refused(302))

    def decision(
        action: str,
        clerk: Expect = accepted,
        lead: Expect = accepted,
        consultee: Expect = FORBIDDEN,
        delegate: Expect | None = None,
        **more,
    ) -> Entry:
        expect = case_decision(
            api=api, clerk=clerk, lead=lead, consultee=consultee, delegate=delegate
        )
        return Entry("POST", f"{prefix}/{action}/", expect, **more)

    return [
        decision("claim"),
        # The delegate covers the clerk's cases: they release the clerk's.
        decision("release", lead=declined, prepare=claimed_by_clerk),
        decision("approve", data={"note": ""}),
        decision("reject", data={"reason": "The new address does not exist."}),
        decision("request-info", data={"message": "Please send the rental contract."}),
        decision("notes" if api else "note", data={"text": "Called the landlord."}),
        # The delegate covers the lead's role: they assign.
        decision("assign", clerk=FORBIDDEN, delegate=accepted, data=ASSIGN),
        decision(
            "reveal",
            clerk=done(200),
            lead=done(200),
            consultee=done(200),  # the national ID is one of the fields shared with them
            data=REVEAL,
            shows=revealed,
        ),
    ]


SHARE = {
    "department": "education",
    "reason": "Does the school have a place for the children?",
    "fields": ["move.date"],
}


def _consultations(*, api: bool) -> list[Entry]:
    """Sharing the household case, withdrawing a sharing, and a consultee's opinion: only the
    case's department shares and withdraws (a page redirects, the API answers 201/200, and 409
    for a sharing already withdrawn); only the consultee gives an opinion."""
    prefix = "/api/v1/cases" if api else "/workbench/cases"
    accepted, created, declined = (
        (done(200), done(201), refused(409)) if api else (done(302), done(302), refused(302))
    )
    return [
        Entry(
            "POST",
            f"{prefix}/{{household}}/share/",
            case_decision(api=api, clerk=created, lead=created, consultee=FORBIDDEN),
            data=SHARE,
        ),
        Entry(
            "POST",
            f"{prefix}/{{household}}/consultations/{{share}}/revoke/",
            case_decision(api=api, clerk=accepted, lead=accepted, consultee=FORBIDDEN),
        ),
        Entry(
            "POST",
            f"{prefix}/{{foreign_household}}/consultations/{{revoked_share}}/revoke/",
            case_decision(api=api, clerk=declined, lead=declined),
            note="a withdrawn share",
        ),
        Entry(
            "POST",
            f"{prefix}/{{household}}/{'opinions' if api else 'opinion'}/",
            case_decision(api=api, clerk=FORBIDDEN, lead=FORBIDDEN, consultee=created),
            data={"text": "No business is registered at the new address."},
        ),
        Entry(
            "POST",
            f"{prefix}/{{tax}}/{'opinions' if api else 'opinion'}/",
            case_decision(api=api, clerk=FORBIDDEN, lead=FORBIDDEN),
            data={"text": "Too late."},
            staff=(TAX, HOUSEHOLD),
            note="an expired share",
        ),
        Entry(
            "GET",
            f"{prefix}/{{tax}}/",
            case_read(api=api),
            staff=(TAX, HOUSEHOLD),
            note="an expired share",
        ),
        Entry(
            "GET", f"{prefix}/{{foreign_household}}/", case_read(api=api), note="a withdrawn share"
        ),
    ]


def open_data_published(w: World) -> None:
    """Release 1: the statistics of January 2026, published (rolled back after the check)."""
    opendata_actions.release_publish(
        period=dt.date(2026, 1, 1), actor=User.objects.get(email="supervisor@demo.gov")
    )


MATRIX: list[Entry] = [
    # Public pages and endpoints.
    Entry("GET", "/", public(ok(200)), shows=home_page),
    Entry("GET", "/healthz", public(ok(200))),
    Entry("GET", "/services/", public(ok(200))),
    Entry(
        "POST", "/services/", signed_in(done(302), api=False), data={"services": ["moving-house"]}
    ),
    Entry("GET", "/api/v1/services/", public(ok(200))),
    Entry("GET", "/api/v1/departments/", public(ok(200))),
    Entry("GET", "/api/schema/", public(ok(200))),
    Entry("GET", "/api/docs/", public(ok(200))),
    Entry("POST", "/i18n/setlang/", public(ok(302)), data={"language": "en", "next": "/"}),
    # Checking a receipt or a letter: anyone holding one (a code that is not one is refused).
    Entry("GET", "/verify/", public(ok(200))),
    Entry("POST", "/verify/", public(refused(400)), data={"code": "not-a-code"}),
    Entry("GET", "/verify/not-a-code", public(refused(400))),
    # Open statistics: anyone reads the releases; supervisors and administrators publish.
    Entry("GET", "/open-data/", public(ok(200))),
    Entry("GET", "/open-data/1/", public(ok(200)), prepare=open_data_published),
    Entry("GET", "/open-data/1.json", public(ok(200)), prepare=open_data_published),
    Entry("GET", "/open-data/1.csv", public(ok(200)), prepare=open_data_published),
    Entry("GET", "/open-data/2/", public(NOT_FOUND), note="no such release"),
    Entry("GET", "/api/v1/open-data/", public(ok(200))),
    Entry("GET", "/api/v1/open-data/keys/", public(ok(200))),
    Entry("GET", "/api/v1/open-data/1/", public(ok(200)), prepare=open_data_published),
    Entry(
        "POST",
        "/api/v1/open-data/publish/",
        {"anonymous": UNAUTH}
        | dict.fromkeys(SIGNED_IN, FORBIDDEN)
        | {"supervisor": done(201), "admin": done(201)},
        data={"month": "2026-01"},
    ),
    # Allauth's pages (every `accounts/` pattern is declared public in DECLARED_BY_PREFIX).
    Entry("GET", "/accounts/login/", {"anonymous": ok(200)} | dict.fromkeys(SIGNED_IN, ok(302))),
    Entry("GET", "/accounts/signup/", {"anonymous": ok(200)} | dict.fromkeys(SIGNED_IN, ok(302))),
    Entry("GET", "/accounts/password/reset/", public(ok(200))),
    Entry("GET", "/accounts/email/", signed_in(ok(200), api=False)),
    # Anyone signed in: their own account.
    Entry("GET", "/profile/", signed_in(ok(200), api=False)),
    Entry("GET", "/api/v1/me/", signed_in(ok(200), api=True)),
    # API tokens: each user lists and revokes their own; another's token is a 404.
    Entry("GET", "/me/tokens/", signed_in(ok(200), api=False)),
    Entry("POST", "/me/tokens/revoke-all/", signed_in(ok(302), api=False)),
    Entry("POST", "/me/tokens/{owner_token}/revoke/", owner_only(ok(302), api=False)),
    Entry("GET", "/api/v1/me/tokens/", signed_in(ok(200), api=True)),
    Entry("DELETE", "/api/v1/me/tokens/", signed_in(ok(200), api=True)),
    Entry("DELETE", "/api/v1/me/tokens/{owner_token}/", owner_only(ok(204), api=True)),
    # The audit log: supervisors; and every citizen's own access log.
    Entry("GET", "/api/v1/audit/events/", auditors_only(api=True)),
    Entry("GET", "/api/v1/audit/verify/", auditors_only(api=True)),
    # Starting a verification (a job for a worker): supervisors and administrators.
    Entry(
        "POST",
        "/api/v1/audit/verify/",
        auditors_only(api=True) | {"supervisor": done(202), "admin": done(202)},
    ),
    Entry("GET", "/api/v1/audit/verify/{verification}/", auditors_only(api=True)),
    Entry("GET", "/api/v1/audit/applications/{moving}/history/", auditors_only(api=True)),
    Entry("GET", "/audit/", auditors_only(api=False)),
    Entry(
        "POST",
        "/audit/",
        auditors_only(api=False) | {"supervisor": ok(302), "admin": ok(302)},
        data={"subject": "citizen@demo.gov"},
    ),
    Entry(
        "GET",
        "/audit/export.csv",
        auditors_only(api=False) | {"supervisor": done(200), "admin": done(200)},
    ),
    Entry("GET", "/audit/applications/{moving}/", auditors_only(api=False)),
    # The dashboards: figures only, for supervisors (the city) and leads (their department).
    Entry("GET", "/dashboard/", dashboards(api=False)),
    Entry("GET", "/dashboard/charts/status.svg", dashboards(api=False)),
    Entry("GET", "/dashboard/departments.csv", dashboards(api=False, seen=done(200))),
    Entry("GET", "/api/v1/dashboard/", dashboards(api=True)),
    # Webhooks to department systems: administrators, and the department's lead.
    Entry("GET", "/webhooks/", webhooks(api=False)),
    Entry("POST", "/webhooks/", webhooks(api=False, seen=done(200)), data=WEBHOOK_FORM),
    Entry("GET", "/webhooks/{webhook}/", webhooks(api=False)),
    Entry(
        "POST",
        "/webhooks/{webhook}/",
        webhooks(api=False, seen=done(302)),
        data={**WEBHOOK_FORM, "department": ""},
    ),
    Entry("POST", "/webhooks/{webhook}/pause/", webhooks(api=False, seen=done(302))),
    Entry("POST", "/webhooks/{webhook}/rotate/", webhooks(api=False, seen=done(200))),
    Entry(
        "POST",
        "/webhooks/{webhook}/deliveries/{webhook_delivery}/replay/",
        webhooks(api=False, seen=done(302)),
    ),
    Entry("GET", "/api/v1/webhooks/", webhooks(api=True)),
    Entry("POST", "/api/v1/webhooks/", webhooks(api=True, seen=done(201)), data=WEBHOOK_FORM),
    Entry("GET", "/api/v1/webhooks/{webhook}/", webhooks(api=True)),
    Entry(
        "PATCH",
        "/api/v1/webhooks/{webhook}/",
        webhooks(api=True, seen=done(200)),
        data={"label": "Renamed"},
    ),
    Entry("DELETE", "/api/v1/webhooks/{webhook}/", webhooks(api=True, seen=done(204))),
    Entry("POST", "/api/v1/webhooks/{webhook}/rotate/", webhooks(api=True, seen=done(200))),
    Entry("POST", "/api/v1/webhooks/{webhook}/pause/", webhooks(api=True, seen=done(200))),
    Entry(
        "POST",
        "/api/v1/webhooks/{webhook}/resume/",
        webhooks(api=True, seen=refused(200)),
        note="an active subscription: nothing to resume",
    ),
    Entry(
        "POST",
        "/api/v1/webhooks/{webhook}/replay-failed/",
        webhooks(api=True, seen=refused(200)),
        note="none failed",
    ),
    Entry("GET", "/api/v1/webhooks/{webhook}/deliveries/", webhooks(api=True)),
    Entry(
        "POST",
        "/api/v1/webhooks/{webhook}/deliveries/{webhook_delivery}/replay/",
        webhooks(api=True, seen=done(200)),
    ),
    Entry("GET", "/api/v1/me/data-access/", signed_in(ok(200), api=True)),
    Entry("GET", "/me/data-access/", signed_in(ok(200), api=False)),
    Entry("GET", "/api/v1/me/export/", signed_in(done(200), api=True)),
    # Erasure of an open application is refused (409 / a message); others' are not found.
    Entry(
        "POST",
        "/api/v1/applications/{moving}/erase/",
        represented(refused(409), FORBIDDEN, api=True),
    ),
    Entry("POST", "/applications/{moving}/erase/", represented(refused(302), FORBIDDEN, api=False)),
    Entry("GET", "/me/export.json", signed_in(done(200), api=False)),
    Entry("GET", "/api/v1/me/profile/", signed_in(ok(200), api=True)),
    Entry("GET", "/api/v1/applications/", signed_in(ok(200), api=True), shows=applications_listed),
    Entry(
        "POST",
        "/api/v1/applications/",
        signed_in(done(201), api=True),
        data={"services": ["moving-house"]},
    ),
    # A citizen's application: the owner only.
    # ... and the representative it authorised on `moving` (reads and replies; no right to
    # withdraw or erase): 403 for what needs a right they were not given.
    Entry("GET", "/applications/{moving}/", represented(ok(200), ok(200), api=False)),
    Entry("GET", "/applications/{draft}/form/", owner_only(ok(302), api=False)),
    Entry("GET", "/applications/{draft}/form/applicant/", owner_only(ok(200), api=False)),
    Entry(
        "POST",
        "/applications/{draft}/form/applicant/",
        owner_only(done(302), api=False),
        data=APPLICANT_PAGE,
    ),
    Entry("GET", "/applications/{draft}/tasks/", owner_only(ok(200), api=False)),
    Entry("GET", "/applications/{draft}/review/", owner_only(ok(200), api=False)),
    Entry("GET", "/applications/{moving}/confirmation/", represented(ok(200), ok(200), api=False)),
    Entry("GET", "/applications/{moving}/answers/", represented(ok(200), ok(200), api=False)),
    Entry("GET", "/applications/{moving}/erase/", represented(ok(200), FORBIDDEN, api=False)),
    Entry("POST", "/applications/{draft}/review/", owner_only(done(302), api=False)),
    Entry("GET", "/applications/{moving}/withdraw/", represented(ok(200), FORBIDDEN, api=False)),
    Entry("POST", "/applications/{moving}/withdraw/", represented(done(302), FORBIDDEN, api=False)),
    Entry("GET", "/applications/{draft}/files/{draft_file}/", owner_only(ok(200), api=False)),
    # ... and only the owner's own file, even under the owner's application.
    Entry("GET", "/applications/{draft}/files/{foreign_file}/", owner_only(NOT_FOUND, api=False)),
    # Its receipt and decision letters (PDF): the owner only; a draft has no receipt, an
    # undecided part no letter.
    Entry("GET", "/applications/{moving}/receipt.pdf", represented(ok(200), ok(200), api=False)),
    Entry("GET", "/applications/{draft}/receipt.pdf", owner_only(refused(409), api=False)),
    Entry(
        "GET",
        "/applications/{moving}/decisions/{tax}.pdf",
        represented(ok(200), ok(200), api=False),
        prepare=tax_approved,
    ),
    Entry(
        "GET",
        "/applications/{moving}/decisions/{household}.pdf",
        owner_only(NOT_FOUND, api=False),
        note="not decided",
    ),
    Entry(
        "POST",
        "/applications/{moving}/cases/{household}/reply/",
        represented(done(302), done(302), api=False),
        data={"message": "The move date is right."},
        prepare=question_asked,
    ),
    Entry(
        "POST",
        "/applications/{moving}/cases/{foreign_household}/reply/",
        owner_only(NOT_FOUND, api=False),
        data={"message": "Not my case."},
        note="a case of another application",
    ),
    Entry("GET", "/api/v1/applications/{moving}/", represented(ok(200), ok(200), api=True)),
    Entry(
        "PATCH",
        "/api/v1/applications/{draft}/",
        owner_only(done(200), api=True),
        data={"answers": {"birth.hospital": "Beijing Obstetrics and Gynecology Hospital"}},
    ),
    Entry("POST", "/api/v1/applications/{draft}/submit/", owner_only(done(200), api=True)),
    Entry(
        "POST",
        "/api/v1/applications/{moving}/withdraw/",
        represented(done(200), FORBIDDEN, api=True),
    ),
    Entry(
        "POST",
        "/api/v1/applications/{draft}/attachments/",
        owner_only(done(201), api=True),
        data=_upload,
        multipart=True,
    ),
    Entry(
        "POST",
        "/api/v1/applications/{moving}/reply/",
        represented(done(200), done(200), api=True),
        data={"case": "{household}", "message": "The move date is right."},
        prepare=question_asked,
    ),
    Entry(
        "POST",
        "/api/v1/applications/{moving}/reply/",
        represented(refused(400), refused(400), api=True),
        data={"case": "{foreign_household}", "message": "Not my case."},
        note="a case of another application",
    ),
    # Representatives: the owner authorises and revokes; the representative reads their own
    # authorisation and may step down; a revoked one is anyone else again.
    Entry("GET", "/me/representing/", signed_in(ok(200), api=False), shows=acting_for),
    Entry(
        "POST",
        "/applications/{moving}/representatives/",
        represented(done(302), FORBIDDEN, api=False),
        data={"email": "citizen2@demo.gov", "national_id": THIRD_ID},
    ),
    Entry(
        "POST",
        "/applications/{moving}/representatives/{representation_id}/revoke/",
        represented(done(302), done(302), api=False),
    ),
    Entry(
        "POST",
        "/applications/{moving}/representatives/{former_representation_id}/revoke/",
        owner_only(refused(302), api=False),
        note="already revoked",
    ),
    Entry(
        "GET",
        "/api/v1/applications/{moving}/representatives/",
        represented(ok(200), ok(200), api=True),
    ),
    Entry(
        "POST",
        "/api/v1/applications/{moving}/representatives/",
        represented(done(201), FORBIDDEN, api=True),
        data={"email": "citizen2@demo.gov", "national_id": THIRD_ID},
    ),
    Entry(
        "POST",
        "/api/v1/applications/{moving}/representatives/{representation_id}/revoke/",
        represented(done(200), done(200), api=True),
    ),
    # The workbench: lists show the asker's departments' cases only.
    Entry("GET", "/workbench/", staff_only(), shows=inbox),
    # A national ID is never searched from an address (access logs, history): refused, 400.
    Entry(
        "GET",
        "/workbench/?q={national_id}",
        staff_only() | dict.fromkeys(STAFF, ok(400)),
        shows=nothing_listed,
    ),
    Entry(
        "POST",
        "/workbench/search/",
        staff_only() | dict.fromkeys(STAFF, ok(302)),
        data={"national_id": "{national_id}"},
    ),
    Entry("GET", "/api/v1/cases/", signed_in(ok(200), api=True), shows=inbox),
    Entry(
        "GET",
        "/api/v1/cases/?q={national_id}",
        signed_in(ok(400), api=True),
        shows=nothing_listed,
    ),
    Entry(
        "POST",
        "/api/v1/cases/search/",
        signed_in(ok(200), api=True),
        data={"national_id": "{national_id}"},
        shows=inbox,
    ),
    # Delegations: every member sees those to and from them, a lead their department's.
    Entry("GET", "/workbench/delegations/", staff_only()),
    Entry("POST", "/workbench/delegations/", delegation_create(api=False), data=_new_delegation),
    Entry("POST", "/workbench/delegations/{delegation}/revoke/", delegation_revoke(api=False)),
    Entry("GET", "/api/v1/delegations/", signed_in(ok(200), api=True)),
    Entry("POST", "/api/v1/delegations/", delegation_create(api=True), data=_new_delegation_api),
    Entry("POST", "/api/v1/delegations/{delegation}/revoke/", delegation_revoke(api=True)),
    # A case, on its page.
    *_case_reads(api=False),
    *_case_decisions(api=False),
    # Consultation: the cases shared with the asker, sharing, withdrawing, opinions.
    Entry("GET", "/workbench/consulted/", staff_only(), shows=consulted_listed),
    *_consultations(api=False),
    Entry(
        "GET",
        "/workbench/cases/{household}/reject/",
        case_decision(api=False, clerk=ok(200), lead=ok(200), consultee=FORBIDDEN),
    ),
    # A case's file: the department that handles the field (and supervisors, administrators).
    Entry(
        "GET",
        "/workbench/cases/{birth}/files/{newborn_file}/",
        case_read(api=False),
        staff=(CIVIL, HOUSEHOLD),
    ),
    # ... not through a case of the same application whose step does not use the file,
    Entry("GET", "/workbench/cases/{newborn_household}/files/{newborn_file}/", nobody(api=False)),
    # ... nor a file of another application through this case.
    Entry(
        "GET",
        "/workbench/cases/{birth}/files/{draft_file}/",
        nobody(api=False),
        staff=(CIVIL, HOUSEHOLD),
    ),
    # A case, through the API.
    *_case_reads(api=True),
    Entry(
        "POST",
        "/api/v1/cases/{newborn_household}/reveal/",
        case_decision(api=True, clerk=refused(409), lead=refused(409)),
        data=REVEAL,
        note="a pending step",
    ),
    *_case_decisions(api=True),
    Entry("GET", "/api/v1/cases/consulted/", signed_in(ok(200), api=True), shows=consulted_listed),
    *_consultations(api=True),
    # The admin site: administrators only (a sample; every `admin/` pattern is declared below).
    Entry("GET", "/admin/", admin_only(ok(200))),
    Entry("GET", "/admin/services/application/", admin_only(ok(200))),
    Entry("GET", "/admin/workflows/case/", admin_only(NOT_FOUND)),  # cases are not in the admin
    Entry("GET", "/admin/audit/auditevent/", admin_only(ok(200))),
    Entry("GET", "/admin/audit/auditincident/", admin_only(ok(200))),
    Entry("GET", "/admin/accounts/user/", admin_only(ok(200))),
    Entry("GET", "/admin/accounts/user/{owner_id}/password/", admin_only(ok(200))),
    Entry("GET", "/admin/accounts/apitoken/", admin_only(ok(200))),
    # Service accounts (a department's systems): administrators and the department's leads.
    # Users and tokens are not in the snapshot: successful writes are checked by status only.
    Entry("GET", "/service-accounts/", service_account_managers(ok(200), api=False)),
    Entry(
        "POST",
        "/service-accounts/",
        service_account_managers(ok(302), api=False),
        data=_new_service_account,
    ),
    Entry("GET", "/service-accounts/{service_account}/", service_account_managers(ok(), api=False)),
    Entry(
        "POST",
        "/service-accounts/{service_account}/tokens/",
        service_account_managers(ok(200), api=False),
        data={"scopes": ["cases:read"], "days": "30"},
    ),
    Entry(
        "POST",
        "/service-accounts/{service_account}/tokens/revoke-all/",
        service_account_managers(ok(302), api=False),
    ),
    Entry(
        "POST",
        "/service-accounts/{service_account}/tokens/{service_token}/rotate/",
        service_account_managers(ok(200), api=False),
        data={"overlap_hours": "1"},
    ),
    Entry(
        "POST",
        "/service-accounts/{service_account}/tokens/{service_token}/revoke/",
        service_account_managers(ok(302), api=False),
    ),
    Entry(
        "POST",
        "/service-accounts/{service_account}/deactivate/",
        service_account_managers(ok(302), api=False),
    ),
    Entry("GET", "/api/v1/service-accounts/", service_account_managers(ok(), api=True)),
    Entry(
        "POST",
        "/api/v1/service-accounts/",
        service_account_managers(ok(201), api=True),
        data=_new_service_account,
    ),
    Entry(
        "GET",
        "/api/v1/service-accounts/{service_account}/",
        service_account_managers(ok(), api=True),
    ),
    Entry(
        "POST",
        "/api/v1/service-accounts/{service_account}/deactivate/",
        service_account_managers(ok(), api=True),
    ),
    Entry(
        "POST",
        "/api/v1/service-accounts/{service_account}/tokens/",
        service_account_managers(ok(201), api=True),
        data={"scopes": ["cases:read", "cases:decide"], "days": 30},
    ),
    Entry(
        "DELETE",
        "/api/v1/service-accounts/{service_account}/tokens/",
        service_account_managers(ok(), api=True),
    ),
    Entry(
        "DELETE",
        "/api/v1/service-accounts/{service_account}/tokens/{service_token}/",
        service_account_managers(ok(204), api=True),
    ),
    Entry(
        "POST",
        "/api/v1/service-accounts/{service_account}/tokens/{service_token}/rotate/",
        service_account_managers(ok(201), api=True),
        data={"overlap_hours": 1},
    ),
]


# A former member of the case's department has left its groups and, with them, every grant: they
# answer as a citizen with nothing of their own, whom the owner once authorised and then revoked
# (`former_representative`), except where an entry says otherwise.
MATRIX = [
    entry
    if "former_member" in entry.expect
    else replace(
        entry, expect={**entry.expect, "former_member": entry.expect["former_representative"]}
    )
    for entry in MATRIX
]

# Third-party URL groups, declared by prefix: the admin site (administrators only; sampled
# above) and allauth's pages (sign-in, sign-up, password, email, two-factor: public). A view of
# the project's own apps mounted under one of these prefixes still needs its own entry.
DECLARED_BY_PREFIX = ("admin/", "accounts/")
# The repository's own packages: every installed app whose package sits at the repository's top
# level (a new app is covered without being listed here), and the project's wiring.
PROJECT_PACKAGES = {
    app.name
    for app in apps.get_app_configs()
    if Path(app.path).resolve().parent == Path(settings.BASE_DIR).resolve()
} | {"config"}


# --- The checks ------------------------------------------------------------------------------


def _user(role: str, entry: Entry) -> User | None:
    department, other = entry.staff
    email = {
        "anonymous": None,
        "owner": "citizen@demo.gov",
        "other_citizen": "citizen2@demo.gov",
        "representative": REPRESENTATIVES["representative"][0],
        "former_representative": REPRESENTATIVES["former_representative"][0],
        "clerk": f"clerk.{department}@demo.gov",
        "other_clerk": f"clerk.{other}@demo.gov",
        "lead": f"lead.{department}@demo.gov",
        "delegate": f"delegate.{department}@demo.gov",
        "supervisor": "supervisor@demo.gov",
        "admin": "admin@demo.gov",
        "consultee": f"clerk.{MARKET}@demo.gov",
        "former_member": f"former.{department}@demo.gov",
    }[role]
    return User.objects.get(email=email) if email else None


def _snapshot() -> tuple:
    """What a write may change: cases, applications, files, notes, questions, reveals."""
    return (
        list(
            Case.objects.order_by("pk").values_list("pk", "status", "assignee_id", "decision_note")
        ),
        list(Application.objects.order_by("pk").values_list("pk", "status", "updated_at")),
        sorted(Attachment.objects.values_list("token", flat=True)),
        CaseNote.objects.count(),
        list(InformationRequest.objects.order_by("pk").values_list("pk", "replied_at")),
        AuditEvent.objects.filter(action="pii.reveal").count(),
        list(Consultation.objects.order_by("pk").values_list("pk", "revoked_at", "ended_at")),
        Opinion.objects.count(),
        list(Representation.objects.order_by("pk").values_list("pk", "revoked_at")),
        list(Delegation.objects.order_by("pk").values_list("pk", "revoked_at")),
        Release.objects.count(),
        AuditVerification.objects.count(),
        list(
            Subscription.objects.order_by("pk").values_list(
                "pk", "url", "events", "label", "include_personal", "status", "deleted_at"
            )
        ),
        list(SubscriptionSecret.objects.order_by("pk").values_list("pk", "expires_at")),
        list(Delivery.objects.order_by("pk").values_list("pk", "status", "next_attempt_at")),
    )


def _send(client, entry: Entry, w: World):
    url = w.fill(entry.url)
    data = entry.data(w) if callable(entry.data) else w.fill(entry.data or {})
    send = getattr(client, entry.method.lower())
    if entry.method == "GET":
        return send(url)
    if entry.api and not entry.multipart:
        return send(url, data=json.dumps(data), content_type="application/json")
    if entry.method == "POST":
        return send(url, data)
    raise AssertionError(f"no way to send {entry}")


def _body(response) -> str:
    if getattr(response, "streaming", False):
        # The test client closes the response once its content is read.
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


def _checks() -> list:
    checks = []
    for entry in MATRIX:
        for role in ROLES:
            marks = []
            if role in entry.bugs:
                marks.append(pytest.mark.xfail(strict=True, reason=f"BUG: {entry.bugs[role]}"))
            checks.append(pytest.param(entry, role, id=f"{entry} as {role}", marks=marks))
    return checks


@pytest.mark.parametrize(("entry", "role"), _checks())
def test_permission_matrix(entry: Entry, role: str, world: World, client) -> None:
    expected = entry.expect[role]
    user = _user(role, entry)
    if user is not None:
        client.force_login(user)
    if entry.prepare is not None:
        entry.prepare(world)
    before = _snapshot() if entry.writes else None
    response = _send(client, entry, world)
    body = _body(response)
    problems = []
    if response.status_code != expected.status:
        problems.append(f"answered {response.status_code}, expected {expected}")
    elif expected.to and not response.get("Location", "").startswith(expected.to):
        problems.append(f"redirected to {response.get('Location')}, expected {expected}")
    if before is not None and expected.changes is not None:
        changed = _snapshot() != before
        if changed != expected.changes:
            problems.append("changed stored data" if changed else "changed nothing")
    if entry.shows is not None and not problems:
        must, must_not = entry.shows(world, role, entry)
        if missing := [s for s in must if s not in body]:
            problems.append(f"does not show {missing}")
        if leaked := [s for s in must_not if s in body]:
            problems.append(f"shows {leaked}")
    who = user.email if user else "anonymous"
    assert not problems, f"{entry.method} {world.fill(entry.url)} as {role} ({who}): " + "; ".join(
        problems
    )


# --- Every URL pattern is in the matrix ------------------------------------------------------


def _join(prefix: str, route: str) -> str:
    """Join routes the way Django's resolver does (ResolverMatch.route)."""
    return prefix + route.removeprefix("^") if prefix else route


def url_patterns(patterns=None, prefix: str = "") -> Iterator[tuple[str, str]]:
    """(full route, module of the view) of every URL pattern, walking includes recursively."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = _join(prefix, str(pattern.pattern))
        if isinstance(pattern, URLResolver):
            yield from url_patterns(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern.callback.__module__


def _route_of(template: str) -> str:
    """The pattern a URL template resolves to, with placeholders and query left out."""
    path = template.split("?")[0].format_map(_Placeholder())
    try:
        return resolve(path).route
    except Resolver404:
        return f"(no URL pattern matches {template})"


class _Placeholder(dict):
    def __missing__(self, key: str) -> str:
        return "1" if World.__dataclass_fields__[key].type in ("int", int) else "X"


def test_every_url_pattern_has_a_matrix_entry() -> None:
    covered = {_route_of(entry.url) for entry in MATRIX}
    missing = sorted(route for route in covered if route.startswith("(no URL"))
    for route, module in url_patterns():
        if route in covered:
            continue
        ours = module.split(".")[0] in PROJECT_PACKAGES
        if route.startswith(DECLARED_BY_PREFIX) and not ours:
            continue
        missing.append(f"{route}  (view in {module})")
    assert not missing, "URL patterns without a matrix entry (or entries without a pattern):\n" + (
        "\n".join(missing)
    )


def test_the_matrix_knows_every_package_of_the_project() -> None:
    """The packages whose views need an entry are the ones import-linter checks (pyproject)."""
    config = tomllib.loads((Path(settings.BASE_DIR) / "pyproject.toml").read_text())
    assert set(config["tool"]["importlinter"]["root_packages"]) == PROJECT_PACKAGES


def test_every_matrix_entry_says_what_each_role_gets() -> None:
    incomplete = [
        f"{entry}: {sorted(set(ROLES) ^ set(entry.expect))}"
        for entry in MATRIX
        if set(entry.expect) != set(ROLES)
    ]
    assert not incomplete, "entries without an expectation for every role:\n" + "\n".join(
        incomplete
    )

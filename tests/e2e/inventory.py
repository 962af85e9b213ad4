"""Every page of the portal, for each role that uses it, and how to reach it on the demo data.

The browser walks (tests/e2e/test_axe.py, test_zh_walk.py, test_layout.py) and the screenshots
(tools/screenshots.py) load these pages. `tests/e2e/test_inventory.py` fails when a named URL
pattern of the project is neither here nor in `NOT_PAGES` (with the reason it is not a page).

Adding a page is one line in `PAGES`:

    Page("receipt", "services:receipt", "citizen", "submitted.reference"),

the page's id (unique: test ids, screenshot names), its URL name, the role that opens it, and
the URL's arguments as attribute paths of the `World` (the demo data the walk builds, below).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property

ROLES = ("anonymous", "citizen", "clerk", "lead", "supervisor", "admin")
LANGUAGES = ("zh-hans", "en")

# The demo accounts each role signs in as (`seed_demo`), and the department of the clerk and lead.
ACCOUNTS = {
    "citizen": "citizen@demo.gov",
    "clerk": "clerk.tax@demo.gov",
    "lead": "lead.tax@demo.gov",
    "supervisor": "supervisor@demo.gov",
    "admin": "admin@demo.gov",
}


class Page:
    """One page as one role sees it.

    `args`: the URL's arguments, attribute paths of the `World` ("submitted.reference") or
    functions of it. `query`: appended to the URL. `then`: steps in the browser after loading
    the URL, to reach a page that only a form leads to (the walks check the page it ends on).
    `zh_walk`: False for the one page whose text is not the portal's (below, with the reason).
    `ready`: a selector to wait for before checking (a page that renders itself in JavaScript).
    `needs`: `World` attributes to make before loading a URL that takes no argument from them.
    """

    def __init__(
        self,
        id: str,
        name: str,
        role: str,
        *args: str | Callable,
        query: str = "",
        then: Callable | None = None,
        zh_walk: bool = True,
        ready: str | None = None,
        needs: tuple[str, ...] = (),
    ) -> None:
        assert role in ROLES, role
        self.id, self.name, self.role, self.args = id, name, role, args
        self.query, self.then, self.zh_walk, self.ready, self.needs = (
            query,
            then,
            zh_walk,
            ready,
            tuple(needs),
        )

    def __repr__(self) -> str:
        return f"Page({self.key})"

    @property
    def key(self) -> str:
        return f"{self.id}-{self.role}"

    def url(self, world: World) -> str:
        from django.urls import reverse

        for need in self.needs:
            getattr(world, need)
        values = []
        for arg in self.args:
            if callable(arg):
                values.append(arg(world))
                continue
            value = world
            for part in arg.split("."):
                value = getattr(value, part)
            values.append(value)
        return reverse(self.name, args=values) + (f"?{self.query}" if self.query else "")


class World:
    """The demo data the pages are reached with: `seed_demo`'s accounts and catalog (restored by
    the `demo` fixture), plus what a page needs, made on first use through the factories."""

    @cached_property
    def citizen(self):
        from accounts.models import User

        return User.objects.get(email=ACCOUNTS["citizen"])

    def user(self, role: str):
        from accounts.models import User

        return User.objects.get(email=ACCOUNTS[role])

    @cached_property
    def draft(self):
        """A moving-house application in draft."""
        from tests.factories import ApplicationFactory

        return ApplicationFactory(citizen=self.citizen, vehicle=True)

    @cached_property
    def submitted(self):
        """A routed moving-house application whose tax case asks the citizen a question."""
        from tests.factories import ApplicationFactory, CaseFactory

        application = ApplicationFactory(citizen=self.citizen, routed=True, vehicle=True)
        CaseFactory(
            application=application,
            step="tax",
            clerk=self.user("clerk"),
            info_requested=True,
            message="请确认搬家日期",
        )
        return application

    @cached_property
    def case(self):
        """The tax case of `submitted`, claimed by the demo tax clerk."""
        return self.submitted.cases.get(step="tax")

    @cached_property
    def figures(self):
        """The dashboards' summaries, brought up to date after `submitted` was routed and a
        second application's tax case decided."""
        from oversight.actions import summaries_refresh
        from tests.factories import ApplicationFactory
        from workflows import actions

        self.case  # noqa: B018 (made on first use)
        other = ApplicationFactory(citizen=self.citizen, routed=True)
        actions.case_approve(case=other.cases.get(step="tax"), actor=self.user("clerk"))
        return summaries_refresh()

    @cached_property
    def shared(self):
        """The household case of `submitted`, shared with the demo tax clerk's department for an
        opinion (the clerk's "consulted" list, and the case as a consultee sees it)."""
        from accounts.models import Department, User
        from workflows import consultations

        case = self.submitted.cases.get(step="household")
        consultations.case_share(
            case=case,
            actor=User.objects.get(email="clerk.household-registration@demo.gov"),
            department=Department.objects.get(slug="tax"),
            reason="请确认新地址没有欠税记录",
            fields=list(case.fields[:3]),
        )
        return case

    def delegation(self):
        """The demo tax clerk's cases, covered by a second tax clerk for a week from today."""
        import datetime as dt

        from django.utils import timezone

        from accounts.models import Department
        from tests.factories import MembershipFactory, UserFactory
        from workflows import delegation

        tax = Department.objects.get(slug="tax")
        cover = MembershipFactory(
            department=tax, user=UserFactory(email="wang.fang@demo.gov", full_name="王芳")
        ).user
        now = timezone.now()
        return delegation.delegation_create(
            actor=self.user("lead"),
            department=tax,
            delegator=self.user("clerk"),
            delegate=cover,
            scope="cases",
            starts_at=now,
            ends_at=now + dt.timedelta(days=7),
            now=now,
        )

    @cached_property
    def webhook(self):
        """The tax bureau's webhook subscription, with a delivery of `submitted`'s tax case in
        its log (made after the subscription)."""
        from accounts.models import Department
        from integrations import actions

        created = actions.subscription_create(
            actor=self.user("lead"),
            department=Department.objects.get(slug="tax"),
            url="https://127.0.0.1/hooks",
            events=["case.opened", "case.changed", "case.closed"],
            label="税务系统",
        )
        self.submitted  # noqa: B018 (its routing writes the delivery)
        # Paused: nothing listens at its address, and a live worker retrying it every second
        # would never be idle for the test's flush.
        return actions.subscription_pause(
            actor=self.user("lead"), subscription=created.subscription
        )

    @cached_property
    def service_account(self):
        """The tax department's back-office system, answerable to the demo tax clerk, with a
        token that may read and decide cases."""
        from accounts import service_accounts

        account = service_accounts.service_account_create(
            actor=self.user("lead"),
            department=self._tax(),
            label="税务局业务系统",
            responsible=self.user("clerk"),
        )
        service_accounts.service_token_issue(
            actor=self.user("lead"),
            account=account,
            scopes=["cases:read", "cases:decide"],
            days=90,
            label="生产环境",
        )
        return account

    def _tax(self):
        from accounts.models import Department

        return Department.objects.get(slug="tax")

    @cached_property
    def recovery_codes(self):
        """Recovery codes of the demo tax clerk (the demo seeds TOTP only)."""
        from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

        return RecoveryCodes.activate(self.user("clerk"))

    @cached_property
    def draft_section(self) -> str:
        """The key of the draft's first form page."""
        from services import selectors, tasklist

        fields = selectors.application_form(self.draft)
        return tasklist.pages(fields, selectors.application_answers(self.draft))[0].key

    @cached_property
    def receipt_code(self) -> str:
        """The verification code of the receipt of `submitted`."""
        from receipts import actions, codes

        document, _pdf = actions.receipt_issue(
            application=self.submitted, actor=self.citizen, language="zh-hans"
        )
        return codes.make(document.token, document.key_id)

    @cached_property
    def open_data_release(self) -> int:
        """The version of a release of this month's statistics (`submitted` among them),
        published as if the month had ended."""
        import datetime as dt

        from django.utils import timezone

        from opendata import actions, tables

        self.case  # noqa: B018  (the month has an application and a case)
        period = timezone.localdate().replace(day=1)
        _start, end = tables.month_bounds(period)
        release = actions.release_publish(
            period=period, actor=self.user("supervisor"), now=end + dt.timedelta(hours=1)
        )
        return release.version

    def typed(self) -> set[str]:
        """What people typed into the portal (names, answers, references, emails, the slugs
        administrators gave departments and services) and the codes it generated (the shown
        prefix of an API token): the zh-hans walk does not count it as English user-interface
        text."""
        from accounts.models import ApiToken, Department, User
        from services.models import Application, Service
        from tests.factories import moving_answers

        values: set[str] = set()
        for user in User.objects.all():
            values |= {user.email, user.full_name}
        values |= set(Department.objects.values_list("slug", flat=True))
        values |= set(Service.objects.values_list("slug", flat=True))
        values |= set(ApiToken.objects.values_list("prefix", flat=True))
        for application in Application.objects.all():
            values.add(application.reference)
            values |= {c.reference for c in application.cases.all()}
        answers = moving_answers(vehicle=True, school=True)
        values |= {str(v) for v in answers.values() if isinstance(v, str)}
        return {v for v in values if v}

    def first(self, model_label: str) -> str:
        """The primary key of a row of the model, for the admin's change, history and delete
        pages; the models the demo data has no row of get one here."""
        from django.apps import apps

        model = apps.get_model(model_label)
        row = model._default_manager.order_by("pk").first()
        if row is None:
            row = self._make(model_label)
        return str(row.pk)

    def _make(self, model_label: str):
        from django.apps import apps
        from django.utils import timezone

        model = apps.get_model(model_label)
        if model_label == "services.Application":
            return self.submitted
        if model_label == "auth.Group":
            return model.objects.create(name="审核组")
        if model_label == "accounts.ApiToken":
            from accounts import actions

            actions.token_issue(actor=self.citizen, user=self.citizen, label="搬家脚本")
            return model.objects.order_by("pk").first()
        if model_label == "workflows.WorkerHeartbeat":
            return model.objects.create(
                queue="celery.routing", seen_at=timezone.now(), hostname="worker-1.local", pid=4242
            )
        if model_label == "workflows.Incident":
            return model.objects.create(
                application=self.submitted, task="workflows.route", error="超时", attempts=5
            )
        if model_label == "audit.AuditIncident":
            return model.objects.create(kind="export_mismatch", detail="检查点 12")
        if model_label == "backups.BackupRun":
            return model.objects.create(
                kind="drill", archive="/backups/portal-20261207T013000000000Z.pbak", ok=True
            )
        if model_label == "backups.BackupIncident":
            run = model._meta.get_field("run").related_model.objects.create(
                kind="drill", archive="/backups/portal-20261207T013000000000Z.pbak"
            )
            return model.objects.create(run=run, error="恢复演练失败: 归档已损坏")
        raise LookupError(f"no row of {model_label} and no way to make one")


def _sign_in_as_staff(page, world: World) -> None:
    """The second step of a staff sign-in: email and password, then the code page."""
    from tests.factories import PASSWORD

    clerk = world.user("clerk")
    clerk.set_password(PASSWORD)
    clerk.save(update_fields=["password"])
    page.fill("input[name=login]", ACCOUNTS["clerk"])
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url("**/accounts/2fa/authenticate/")


def _issue_service_token(page, world: World) -> None:
    """Issue a token on the service account's page: the answer shows the new key once."""
    page.locator("input[name=scopes]").first.check()
    page.locator("form[action$='/tokens/'] button[type=submit]").click()
    page.wait_for_selector("[data-new-key]")


def _is(value: str) -> Callable[[World], str]:
    """A URL argument given as it is (an invalid key), not read from the world."""
    return lambda world: value


# The API reference (Swagger UI) is the library's interface around the OpenAPI schema: its
# buttons and the schema's descriptions are not the portal's text and stay in English.
_API_DOCS = {"zh_walk": False, "ready": ".swagger-ui .information-container"}

PAGES: list[Page] = [
    # --- Anyone ---------------------------------------------------------------------------------
    Page("home", "home", "anonymous"),
    Page("catalog", "services:catalog", "anonymous"),
    Page("sign-in", "account_login", "anonymous"),
    Page("sign-in-code", "mfa_authenticate", "anonymous", then=_sign_in_as_staff),
    Page("sign-up", "account_signup", "anonymous"),
    Page("password-reset", "account_reset_password", "anonymous"),
    Page("password-reset-sent", "account_reset_password_done", "anonymous"),
    Page(
        "password-reset-bad-key", "account_reset_password_from_key", "anonymous", _is("x"), _is("1")
    ),
    Page("password-reset-complete", "account_reset_password_from_key_done", "anonymous"),
    Page("confirm-email-sent", "account_email_verification_sent", "anonymous"),
    Page("confirm-email-bad-key", "account_confirm_email", "anonymous", _is("bad-key")),
    Page("account-inactive", "account_inactive", "anonymous"),
    Page("api-docs", "api-docs", "anonymous", **_API_DOCS),
    Page("verify", "receipts:verify", "anonymous"),
    Page("verify-code", "receipts:verify-code", "anonymous", "receipt_code"),
    Page("open-data", "opendata:list", "anonymous", needs=("open_data_release",)),
    Page("open-data-release", "opendata:detail", "anonymous", "open_data_release"),
    # --- Citizen --------------------------------------------------------------------------------
    Page("home", "home", "citizen"),
    Page("catalog", "services:catalog", "citizen"),
    Page("form", "services:application-page", "citizen", "draft.reference", "draft_section"),
    Page("task-list", "services:application-tasks", "citizen", "draft.reference"),
    Page("check-answers", "services:application-review", "citizen", "draft.reference"),
    Page("application", "services:application-detail", "citizen", "submitted.reference"),
    Page("confirmation", "services:application-confirmation", "citizen", "submitted.reference"),
    Page("answers", "services:application-answers", "citizen", "submitted.reference"),
    Page("withdraw", "services:application-withdraw", "citizen", "submitted.reference"),
    Page("erase", "services:application-erase", "citizen", "submitted.reference"),
    Page("profile", "services:profile", "citizen"),
    Page("represented", "services:represented", "citizen"),
    Page("data-access", "audit:data-access", "citizen", needs=("shared",)),
    Page("tokens", "tokens", "citizen"),
    Page("account", "account_email", "citizen"),
    Page("password-change", "account_change_password", "citizen"),
    Page("reauthenticate", "account_reauthenticate", "citizen"),
    Page("sign-out", "account_logout", "citizen"),
    Page("two-factor", "mfa_index", "citizen"),
    Page("two-factor-activate", "mfa_activate_totp", "citizen"),
    # --- Clerk ----------------------------------------------------------------------------------
    Page("home", "home", "clerk"),
    Page("workbench", "workflows:inbox", "clerk"),
    Page("case", "workflows:case", "clerk", "case.reference"),
    Page("reject", "workflows:case-reject", "clerk", "case.reference"),
    Page("consulted", "workflows:consulted", "clerk", needs=("shared",)),
    Page("case-consulted", "workflows:case", "clerk", "shared.reference"),
    Page("delegations", "workflows:delegations", "clerk", needs=("delegation",)),
    Page("catalog", "services:catalog", "clerk"),
    Page("tokens", "tokens", "clerk"),
    Page("account", "account_email", "clerk"),
    Page("two-factor", "mfa_index", "clerk"),
    Page("two-factor-deactivate", "mfa_deactivate_totp", "clerk"),
    Page("two-factor-reauthenticate", "mfa_reauthenticate", "clerk"),
    Page("recovery-codes", "mfa_view_recovery_codes", "clerk", needs=("recovery_codes",)),
    Page("recovery-codes-generate", "mfa_generate_recovery_codes", "clerk"),
    Page("api-docs", "api-docs", "clerk", **_API_DOCS),
    # --- Department lead ------------------------------------------------------------------------
    Page("home", "home", "lead"),
    Page("workbench", "workflows:inbox", "lead"),
    Page("dashboard", "oversight:dashboard", "lead", needs=("figures",)),
    Page("case", "workflows:case", "lead", "case.reference"),
    Page("delegations", "workflows:delegations", "lead", needs=("delegation",)),
    Page("webhooks", "integrations:webhooks", "lead", needs=("webhook",)),
    Page("webhook", "integrations:webhook", "lead", "webhook.pk"),
    Page("service-accounts", "service-accounts", "lead", needs=("service_account",)),
    Page("service-account", "service-account", "lead", "service_account.pk"),
    Page(
        "service-account-key",
        "service-account",
        "lead",
        "service_account.pk",
        then=_issue_service_token,
    ),
    # --- Supervisor -----------------------------------------------------------------------------
    Page("home", "home", "supervisor"),
    Page("workbench", "workflows:inbox", "supervisor"),
    Page("case", "workflows:case", "supervisor", "case.reference"),
    Page("audit", "audit:search", "supervisor"),
    Page("dashboard", "oversight:dashboard", "supervisor", needs=("figures",)),
    Page("audit-history", "audit:history", "supervisor", "submitted.reference"),
    # --- Administrator --------------------------------------------------------------------------
    Page("home", "home", "admin"),
    Page("audit", "audit:search", "admin"),
    Page("webhooks", "integrations:webhooks", "admin", needs=("webhook",)),
    Page("admin", "admin:index", "admin"),
    Page("service-accounts", "service-accounts", "admin", needs=("service_account",)),
    Page("service-account", "service-account", "admin", "service_account.pk"),
    Page("admin-password-change", "admin:password_change", "admin"),
    Page("admin-password-changed", "admin:password_change_done", "admin"),
]


# The admin pages every model shares one template for (an app's index, a row's history and
# delete confirmation) are checked on one model; the others are listed in NOT_PAGES.
_ADMIN_SHARED = {"app_list": "services", "history": "services.service", "delete": "auth.group"}


def _admin_pages() -> tuple[list[Page], dict[str, str]]:
    """The admin site's pages of every registered model, as the administrator sees them: the
    list, the add form where adding is allowed, and one row's change (or view) page; the shared
    templates (`_ADMIN_SHARED`) on one model. Pages the admin refuses to everyone are not pages."""
    from django.contrib import admin
    from django.test import RequestFactory

    from accounts.models import User

    request = RequestFactory().get("/admin/")
    request.user = User(is_active=True, is_staff=True, is_superuser=True)
    pages = [Page("admin-app", "admin:app_list", "admin", _is(_ADMIN_SHARED["app_list"]))]
    other: dict[str, str] = {}
    for model, model_admin in sorted(admin.site._registry.items(), key=lambda i: i[0]._meta.label):
        meta = model._meta
        base = f"admin:{meta.app_label}_{meta.model_name}"
        slug = f"admin-{meta.app_label}-{meta.model_name}"
        row = (lambda label: lambda world: world.first(label))(meta.label)
        pages.append(Page(slug, f"{base}_changelist", "admin"))
        if model_admin.has_add_permission(request):
            pages.append(Page(f"{slug}-add", f"{base}_add", "admin"))
        else:
            other[f"{base}_add"] = "the admin lets no one add these rows (403)"
        pages.append(Page(f"{slug}-change", f"{base}_change", "admin", row))
        for kind in ("history", "delete"):
            allowed = kind == "history" or model_admin.has_delete_permission(request)
            if not allowed:
                other[f"{base}_{kind}"] = "the admin lets no one delete these rows (403)"
            elif meta.label_lower == _ADMIN_SHARED[kind]:
                pages.append(Page(f"{slug}-{kind}", f"{base}_{kind}", "admin", row))
            else:
                other[f"{base}_{kind}"] = f"same admin template as the {_ADMIN_SHARED[kind]} one"
    return pages, other


_ADMIN_PAGES, _ADMIN_REFUSED = _admin_pages()
PAGES += _ADMIN_PAGES

# Named URL patterns that are not pages a person reads, each with the reason.
_API = "JSON API endpoint (its reference is the `api-docs` page)"
NOT_PAGES: dict[str, str] = {
    "services:application-first-page": "redirects to the task list (`task-list`) or first page",
    "services:my-data": "JSON download of the citizen's data",
    "receipts:receipt": "PDF download (the receipt; tests/receipts read its text)",
    "receipts:letter": "PDF download (a decision letter; tests/receipts read its text)",
    "services:attachment-download": "file download",
    "services:application-reply": "POST only (the answer form on the application page)",
    "services:representative-grant": "POST only (the representatives form on the application "
    "page; a refusal shows that page again)",
    "services:representative-revoke": "POST only (a button on the application page)",
    "tokens-revoke-all": "POST only (a button on the tokens page)",
    "token-revoke": "POST only (a button on the tokens page)",
    "workflows:inbox-search": "POST only (the search form of the workbench)",
    "workflows:case-file": "file download",
    "workflows:case-action": "POST only (the decision buttons of the case page)",
    "workflows:case-share": "POST only (the sharing form of the case page)",
    "workflows:case-share-revoke": "POST only (a button on the case page)",
    "workflows:case-opinion": "POST only (the consultee's opinion form on the case page)",
    "workflows:delegation-revoke": "POST only (the withdraw buttons of the delegations page)",
    "service-account-tokens": "POST only (the issue form of the service account page; answers "
    "with that page and the new key: `service-account-key`)",
    "service-account-token-rotate": "POST only (a button on the service account page; answers "
    "with that page and the new key, as `service-account-key`)",
    "service-account-token-revoke": "POST only (a button on the service account page)",
    "service-account-tokens-revoke-all": "POST only (a button on the service account page)",
    "service-account-deactivate": "POST only (a button on the service account page)",
    "audit:export": "CSV download",
    "opendata:json": "JSON download (a release's signed document)",
    "opendata:csv": "CSV download (a release's figures)",
    "oversight:export": "CSV download (a dashboard table)",
    "oversight:chart": "an SVG image shown by the dashboard page",
    "integrations:webhook-act": "POST only (the buttons of a webhook subscription's page; "
    "rotating shows the new secret once)",
    "integrations:webhook-replay": "POST only (the replay buttons of the delivery log)",
    "account_request_reauthentication_code": "sign-in by emailed code is not enabled (404)",
    "account_confirm_reauthentication_code": "sign-in by emailed code is not enabled (404)",
    "account_confirm_login_code": "sign-in by emailed code is not enabled (404)",
    "mfa_download_recovery_codes": "text file download",
    "admin:login": "redirects to the portal's sign-in page (`sign-in`)",
    "admin:logout": "POST only (the admin's sign-out button)",
    "admin:autocomplete": "JSON for the admin's autocomplete widgets",
    "admin:jsi18n": "JavaScript catalog",
    "admin:view_on_site": "redirects to the object's page on the site",
    "admin:auth_user_password_change": "the portal's users change passwords through allauth",
    "account_set_password": "redirects to changing the password: every account has one",
    "healthz": "health check for the load balancer (JSON)",
    "set_language": "POST only (the language switcher of every page)",
    "api-schema": "the OpenAPI schema (YAML/JSON), shown by the `api-docs` page",
    **_ADMIN_REFUSED,
}
NOT_PAGES.update(
    {
        name: _API
        for name in [
            "api-me",
            "api-me-tokens",
            "api-service-accounts",
            "api-service-account",
            "api-service-account-deactivate",
            "api-service-account-tokens",
            "api-service-account-token",
            "api-service-account-token-rotate",
            "api-me-token",
            "api-departments",
            "api-services",
            "api-applications",
            "api-application",
            "api-application-submit",
            "api-application-withdraw",
            "api-application-attachments",
            "api-application-erase",
            "api-my-data",
            "api-profile",
            "api-application-reply",
            "api-application-representatives",
            "api-application-representative-revoke",
            "api-cases",
            "api-cases-search",
            "api-case",
            "api-case-claim",
            "api-case-release",
            "api-case-request-info",
            "api-case-approve",
            "api-case-reject",
            "api-case-reveal",
            "api-case-notes",
            "api-case-assign",
            "api-cases-consulted",
            "api-case-share",
            "api-case-share-revoke",
            "api-case-opinions",
            "api-delegations",
            "api-delegation-revoke",
            "api-dashboard",
            "api-audit-events",
            "api-audit-verify",
            "api-audit-verification",
            "api-audit-history",
            "api-data-access",
            "api-opendata-releases",
            "api-opendata-keys",
            "api-opendata-publish",
            "api-opendata-release",
            "api-webhooks",
            "api-webhook",
            "api-webhook-rotate",
            "api-webhook-pause",
            "api-webhook-resume",
            "api-webhook-replay-failed",
            "api-webhook-deliveries",
            "api-webhook-delivery-replay",
        ]
    }
)


# The main pages: the screenshots (tools/screenshots.py) and the phone layout test show them.
MAIN_PAGES = [
    "catalog-anonymous",
    "home-citizen",
    "task-list-citizen",
    "form-citizen",
    "check-answers-citizen",
    "application-citizen",
    "data-access-citizen",
    "workbench-clerk",
    "case-clerk",
    "audit-supervisor",
]


def page(key: str) -> Page:
    return next(p for p in PAGES if p.key == key)


def pages(*, role: str | None = None) -> list[Page]:
    return [p for p in PAGES if role is None or p.role == role]

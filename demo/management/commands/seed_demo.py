"""Idempotent demo data: departments, demo accounts (and the catalog, once it exists)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts import actions
from accounts.constants import MembershipRole, StaffRole
from accounts.models import Department, User
from demo.accounts import CITIZENS, DEPARTMENT_TRANSLATIONS, DEPARTMENTS
from demo.seed import seed_catalog
from demo.totp import demo_totp_secret


def _password_file() -> Path:
    return Path(settings.VAR_DIR) / "demo-password.txt"


class Command(BaseCommand):
    help = "Create the demo departments and accounts. Safe to run again; changes nothing twice."

    def _demo_password(self) -> tuple[str, str]:
        """DEMO_PASSWORD, else the one generated on a previous run, else a new one."""
        if os.environ.get("DEMO_PASSWORD"):
            return os.environ["DEMO_PASSWORD"], "env"
        path = _password_file()
        if path.exists():
            return path.read_text().strip(), "file"
        password = secrets.token_urlsafe(12)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(password + "\n")
        path.chmod(0o600)
        return password, "generated"

    def _account(self, email: str, password: str, reset: bool, **kwargs) -> tuple[User, bool]:
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            return actions.user_create(
                actor=None, email=email, password=password, email_verified=True, **kwargs
            ), True
        if reset and not user.check_password(password):
            actions.user_set_password(actor=None, user=user, password=password)
        return user, False

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        password, origin = self._demo_password()
        reset = origin == "env"  # an explicit DEMO_PASSWORD is applied to existing accounts too
        created = 0
        for slug, name, email in DEPARTMENTS:
            translations = DEPARTMENT_TRANSLATIONS[slug]
            department = Department.objects.filter(slug=slug).first()
            if department is None:
                department = actions.department_create(
                    actor=None, slug=slug, name=name, contact_email=email, translations=translations
                )
                created += 1
            elif department.translations != translations:
                actions.department_update(
                    actor=None,
                    department=department,
                    name=department.name,
                    contact_email=department.contact_email,
                    contact_phone=department.contact_phone,
                    active=department.active,
                    translations=translations,
                )
            for role in (MembershipRole.CLERK, MembershipRole.LEAD):
                user, new = self._account(
                    f"{role}.{slug}@demo.gov", password, reset, full_name=f"{role.label} ({name})"
                )
                created += new
                actions.membership_grant(actor=None, user=user, department=department, role=role)
        for email, full_name in CITIZENS:
            created += self._account(email, password, reset, full_name=full_name)[1]
        created += self._account(
            "supervisor@demo.gov",
            password,
            reset,
            full_name="Supervisor",
            staff_role=StaffRole.SUPERVISOR,
        )[1]
        created += self._account(
            "admin@demo.gov", password, reset, full_name="Administrator", staff_role=StaffRole.ADMIN
        )[1]

        totp = demo_totp_secret()
        for user in User.objects.filter(email__endswith="@demo.gov").exclude(
            email__startswith="citizen"
        ):
            actions.staff_totp_activate(actor=None, user=user, secret=totp)

        created += seed_catalog()
        self.stdout.write(self.style.SUCCESS(f"Demo data ready ({created} objects created)."))
        if origin == "generated":
            self.stdout.write(f"Demo password (generated, kept in {_password_file()}): {password}")
        elif origin == "file":
            self.stdout.write(f"Demo password: see {_password_file()}")
        else:
            self.stdout.write("Demo password: the value of DEMO_PASSWORD")
        self.stdout.write(
            f"Demo staff two-factor secret: {totp} (add it to an authenticator app, or run "
            "`manage.py demo_totp` for the current code)"
        )

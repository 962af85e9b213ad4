"""factory-boy factories. Objects whose creation is a flow are made through the real actions."""

from __future__ import annotations

import factory
from allauth.account.models import EmailAddress

from accounts import actions
from accounts.constants import MembershipRole, StaffRole
from accounts.models import Department, Membership, User

PASSWORD = "correct horse battery staple"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


class UserFactory(factory.django.DjangoModelFactory):
    """A citizen with a verified email address; traits for staff roles."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    full_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    class Params:
        supervisor = factory.Trait(staff_role=StaffRole.SUPERVISOR)
        admin = factory.Trait(staff_role=StaffRole.ADMIN, is_staff=True, is_superuser=True)

    @factory.post_generation
    def verified(obj, create, extracted, **kwargs):
        if create:
            obj.save()
            EmailAddress.objects.create(
                user=obj, email=obj.email, primary=True, verified=extracted is not False
            )

    @factory.post_generation
    def totp(obj, create, extracted, **kwargs):
        """Staff get a TOTP authenticator (they must use MFA); `totp=False` leaves it out."""
        if create and obj.staff_role and extracted is not False:
            actions.staff_totp_activate(actor=None, user=obj, secret=TOTP_SECRET)


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department

    slug = factory.Sequence(lambda n: f"department-{n}")
    name = factory.Sequence(lambda n: f"Department {n}")
    contact_email = factory.LazyAttribute(lambda o: f"{o.slug}@example.gov")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return actions.department_create(
            actor=None,
            slug=kwargs["slug"],
            name=kwargs["name"],
            contact_email=kwargs["contact_email"],
        )


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    department = factory.SubFactory(DepartmentFactory)
    role = MembershipRole.CLERK

    class Params:
        lead = factory.Trait(role=MembershipRole.LEAD)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        membership = actions.membership_grant(
            actor=None, user=kwargs["user"], department=kwargs["department"], role=kwargs["role"]
        )
        actions.staff_totp_activate(actor=None, user=kwargs["user"], secret=TOTP_SECRET)
        return membership

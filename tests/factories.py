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


def department_set_active(department: Department, active: bool) -> Department:
    """Open or close a department through `department_update`, its other settings unchanged."""
    return actions.department_update(
        actor=None,
        department=department,
        name=department.name,
        contact_email=department.contact_email,
        contact_phone=department.contact_phone,
        active=active,
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


# --- The catalog --------------------------------------------------------------------------------


class FieldDefinitionFactory(factory.django.DjangoModelFactory):
    """A data-dictionary field, saved by `field_definition_save` (with its audit event)."""

    class Meta:
        model = "services.FieldDefinition"

    key = factory.Sequence(lambda n: f"test.field_{n}")
    label = factory.Sequence(lambda n: f"Test field {n}")
    type = "string"
    sensitivity = "personal"
    example = "An example"
    help_text = ""
    translations = factory.LazyFunction(dict)
    choices = factory.LazyFunction(list)
    validation = factory.LazyFunction(dict)
    profile_field = False

    @classmethod
    def _create(cls, model_class, *args, key, **attrs):
        from services import actions as service_actions

        return service_actions.field_definition_save(actor=None, key=key, **attrs)


class ServiceFactory(factory.django.DjangoModelFactory):
    """A service made by `service_create`; `published=True` is the minimal catalog: one
    required field and one step at one department, drafted and published by the actions
    (a department and a field are made unless given)."""

    class Meta:
        model = "services.Service"

    slug = factory.Sequence(lambda n: f"service-{n}")
    name = factory.Sequence(lambda n: f"Service {n}")
    description = ""
    kind = "life_event"
    keywords = ""
    department = None
    field = None
    sla_days = 5
    published = False

    class Params:
        minimal_catalog = factory.Trait(published=True)

    @classmethod
    def _create(cls, model_class, *args, department, field, sla_days, published, **attrs):
        from services import actions as service_actions

        service = service_actions.service_create(actor=None, **attrs)
        if published:
            department = department or DepartmentFactory()
            field = field or FieldDefinitionFactory()
            fields = [{"key": field.key, "required": True, "condition": None}]
            workflow = {
                "steps": [
                    {
                        "id": "decide",
                        "name": "Decision",
                        "department": department.slug,
                        "fields": [field.key],
                        "depends_on": [],
                        "sla_days": sla_days,
                    }
                ]
            }
            draft = service_actions.service_version_draft(
                actor=None, service=service, fields=fields, workflow=workflow
            )
            service_actions.service_version_publish(actor=None, version=draft)
        return service


# --- Applications and cases (on the demo catalog: the `catalog` or `demo` fixture) ---------------


def moving_answers(*, vehicle: bool = False, school: bool = False) -> dict:
    """Li Wei's moving-house answers; a vehicle and school children open those steps."""
    from tests.data import LI_WEI_MOVING

    answers = {
        **LI_WEI_MOVING,
        "household.has_vehicle": vehicle,
        "household.has_school_children": school,
    }
    if vehicle:
        answers["vehicle.plate"] = "京A12345"
    if school:
        answers |= {"school.child_name": "Li Xiaogang", "school.grade": "primary-3"}
    return answers


def expected_steps(*, vehicle: bool, school: bool) -> set[str]:
    """The steps a moving-house application with these answers is routed to."""
    steps = {"household", "tax"}
    if vehicle:
        steps.add("vehicle")
    if school:
        steps.add("school")
    return steps


class ApplicationFactory(factory.django.DjangoModelFactory):
    """An application started by `application_create` for published services (moving house by
    default, with Li Wei's answers). Traits, each through the real actions:
    `submitted=True` (`application_submit`, which requests routing), `routed=True` (submitted,
    then `advance`: its cases exist), `withdrawn=True` (submitted, then withdrawn)."""

    class Meta:
        model = "services.Application"

    citizen = factory.SubFactory(UserFactory)
    services = ("moving-house",)
    answers = factory.LazyAttribute(lambda o: moving_answers(vehicle=o.vehicle, school=o.school))
    state = "draft"

    class Params:
        vehicle = False
        school = False
        submitted = factory.Trait(state="submitted")
        routed = factory.Trait(state="routed")
        withdrawn = factory.Trait(state="withdrawn")

    @classmethod
    def _create(cls, model_class, *args, citizen, services, answers, state):
        from services import actions as service_actions
        from services.selectors import versions_published_for
        from workflows import routing

        application = service_actions.application_create(
            citizen=citizen, versions=versions_published_for(slugs=list(services)), answers=answers
        )
        if state == "draft":
            return application
        application = service_actions.application_submit(application=application, actor=citizen)
        if state == "routed":
            routing.advance(application_id=application.pk)
        elif state == "withdrawn":
            application = service_actions.application_withdraw(
                application=application, actor=citizen
            )
        return application


def submit_moving(*, citizen=None, vehicle: bool = False, school: bool = False):
    """A submitted moving-house application (routing requested, not yet routed)."""
    extra = {"citizen": citizen} if citizen is not None else {}
    return ApplicationFactory(submitted=True, vehicle=vehicle, school=school, **extra)


def clerk_of(department: Department) -> User:
    """A clerk of the department: its first (the demo's, when there is one), else a new one."""
    membership = (
        Membership.objects.filter(department=department, role=MembershipRole.CLERK)
        .select_related("user")
        .order_by("pk")
        .first()
    )
    return membership.user if membership else MembershipFactory(department=department).user


class CaseFactory(factory.django.DjangoModelFactory):
    """A department's case of a routed application (`step`, tax by default). Traits, each by
    a clerk of the department through the real actions: `claimed=True`, `approved=True`,
    `rejected=True`, `info_requested=True` (a question to the citizen)."""

    class Meta:
        model = "workflows.Case"

    application = factory.SubFactory(ApplicationFactory, routed=True)
    step = "tax"
    clerk = None
    state = "open"
    note = ""
    reason = "The documents do not match."
    message = "Please confirm the date of your move."

    class Params:
        claimed = factory.Trait(state="claimed")
        approved = factory.Trait(state="approved")
        rejected = factory.Trait(state="rejected")
        info_requested = factory.Trait(state="info_requested")

    @classmethod
    def _create(cls, model_class, *args, application, step, clerk, state, note, reason, message):
        from workflows import actions as workflow_actions

        case = application.cases.select_related("department").get(step=step)
        if state == "open":
            return case
        clerk = clerk or clerk_of(case.department)
        case = workflow_actions.case_claim(case=case, actor=clerk)
        if state == "approved":
            case = workflow_actions.case_approve(case=case, actor=clerk, note=note)
        elif state == "rejected":
            case = workflow_actions.case_reject(case=case, actor=clerk, reason=reason)
        elif state == "info_requested":
            case = workflow_actions.case_request_info(case=case, actor=clerk, message=message)
        return case


def api_client(user):
    """An API client signed in as `user` (session authentication, as a browser client)."""
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    return client


def api_for(who):
    """`api_client` for a user, or for the user with that email."""
    return api_client(who if isinstance(who, User) else User.objects.get(email=who))


def case_and_clerk(step: str = "tax", email: str = "clerk.tax@demo.gov"):
    """An open case (`step`) of a freshly routed moving-house application, and the staff
    member with that email (a clerk of the demo's tax bureau by default)."""
    return CaseFactory(step=step), User.objects.get(email=email)


def newborn_draft(citizen, *, answers=None, file_name="certificate.pdf", content=None):
    """A draft of the newborn service by `citizen` with its birth certificate uploaded through
    the actions (`content`: the PDF's bytes, tests.data.PDF by default); returns the draft as
    created and the attachment."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from services import actions as service_actions
    from services.selectors import versions_published_for
    from tests.data import PDF

    draft = service_actions.application_create(
        citizen=citizen, versions=versions_published_for(slugs=["newborn"]), answers=answers
    )
    attachment = service_actions.attachment_upload(
        application=draft,
        actor=citizen,
        field_key="birth.certificate",
        upload=SimpleUploadedFile(file_name, content or PDF, content_type="application/pdf"),
    )
    return draft, attachment

"""Audit API: supervisors search and verify; citizens see who looked at their data."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from core.api import NewestFirst, paginated

from . import presenters, selectors, verifications
from .filters import FILTERS, parse_filters
from .models import AuditVerification, VerificationStatus


def _auditor(request: Request) -> None:
    if not selectors.can_audit(request.user):
        raise PermissionDenied(_("Only supervisors can read the audit log."))


def search_params(query) -> dict:
    """The search's filters from the query string (a bad date is a 400)."""
    return parse_filters(query, strict=True)[1]


class AuditEventOutput(serializers.Serializer):
    seq = serializers.IntegerField()
    at = serializers.DateTimeField()
    actor = serializers.EmailField(allow_null=True)
    actor_name = serializers.CharField(
        help_text="The actor's name, else email; “System” (translated) for the portal itself."
    )
    on_behalf_of = serializers.EmailField(
        allow_null=True,
        help_text="The absent colleague the actor acted for under a delegation (else null).",
    )
    on_behalf_of_name = serializers.CharField(allow_null=True)
    actor_line = serializers.CharField(
        help_text="What people read: the actor's name, or “X on behalf of Y” (translated)."
    )
    role = serializers.CharField(allow_blank=True)
    role_label = serializers.CharField(
        help_text="The role in the request's language; “System” (translated) for the portal."
    )
    department = serializers.CharField(allow_null=True)
    department_name = serializers.CharField(
        allow_null=True, help_text="The department's name in the request's language."
    )
    action = serializers.CharField()
    action_label = serializers.CharField(help_text="The event's name in the request's language.")
    target_type = serializers.CharField(allow_blank=True)
    target = serializers.CharField(allow_blank=True)
    subject = serializers.IntegerField(allow_null=True, help_text="The citizen's user id.")
    subject_email = serializers.EmailField(allow_null=True, help_text="The citizen's email.")
    field_labels = serializers.ListField(
        child=serializers.CharField(),
        help_text="The staff labels of details.fields, in the request's language.",
    )
    purpose = serializers.CharField(allow_blank=True)
    purpose_erased = serializers.BooleanField()
    request_id = serializers.CharField(allow_blank=True)
    ip = serializers.IPAddressField(allow_null=True)
    details = serializers.DictField()
    sealed = serializers.BooleanField()
    authentic = serializers.BooleanField(
        help_text="Its authenticator holds: written by the portal and unchanged since."
    )


class DataAccessOutput(serializers.Serializer):
    at = serializers.DateTimeField()
    staff = serializers.CharField(allow_null=True)
    staff_id = serializers.IntegerField(allow_null=True)
    on_behalf_of = serializers.EmailField(
        allow_null=True,
        help_text="The absent colleague the member of staff acted for (a delegation), or null.",
    )
    on_behalf_of_name = serializers.CharField(allow_null=True)
    actor_line = serializers.CharField(
        help_text="What people read: the staff member's name, or “X on behalf of Y”."
    )
    department = serializers.CharField(allow_null=True)
    department_name = serializers.CharField(
        allow_null=True, help_text="The department's name in the request's language."
    )
    action = serializers.CharField()
    action_label = serializers.CharField()
    fields = serializers.ListField(child=serializers.CharField())
    field_labels = serializers.ListField(
        child=serializers.CharField(),
        help_text="The labels of `fields`, as the citizen's forms name them, in the request's "
        "language.",
    )
    purpose = serializers.CharField(allow_blank=True)
    purpose_erased = serializers.BooleanField()
    case = serializers.CharField(allow_null=True)


class AuditEventListApi(APIView):
    pagination_class = NewestFirst
    validates_query = True  # `since` and `until`

    @extend_schema(
        parameters=[
            OpenApiParameter(
                k,
                OpenApiTypes.DATETIME if k in ("since", "until") else OpenApiTypes.STR,
            )
            for k in FILTERS
        ],
        responses=AuditEventOutput(many=True),
        summary="Search the audit log (supervisors)",
    )
    def get(self, request: Request) -> Response:
        _auditor(request)
        events = selectors.audit_search(user=request.user, **search_params(request.query_params))
        return paginated(self, events, presenters.event_rows)


class AuditVerificationOutput(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField(help_text="Where to poll this verification.")
    status = serializers.ChoiceField(choices=VerificationStatus.choices)
    checked = serializers.IntegerField(
        help_text="Events checked so far; when done, every sealed event checked."
    )
    total = serializers.IntegerField(help_text="Sealed events when the verification started.")
    progress = serializers.FloatField(help_text="checked / total, from 0 to 1.")
    requested_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    error = serializers.CharField(allow_blank=True, help_text="Why a failed run stopped.")
    # The result (as the endpoint answered when it verified within the request); null until
    # the verification is done.
    valid = serializers.BooleanField(allow_null=True)
    first_invalid = serializers.IntegerField(allow_null=True)
    reason = serializers.CharField(allow_null=True, allow_blank=True)
    unsealed = serializers.IntegerField(allow_null=True)
    checkpoints = serializers.IntegerField(allow_null=True)
    exported_checkpoints = serializers.IntegerField(allow_null=True)
    incidents = serializers.IntegerField(allow_null=True)
    warnings = serializers.ListField(child=serializers.CharField(), allow_null=True)


RESULT_FIELDS = (
    "valid",
    "first_invalid",
    "reason",
    "unsealed",
    "checkpoints",
    "exported_checkpoints",
    "incidents",
    "warnings",
)


def verification_row(request: Request, job: AuditVerification) -> dict:
    result = job.result or {}
    return {
        "id": job.pk,
        "url": reverse("api-audit-verification", kwargs={"job": job.pk}, request=request),
        "status": job.status,
        "checked": job.checked,
        "total": job.total,
        "progress": 1.0 if job.status == "done" else min(job.checked / (job.total or 1), 1.0),
        "requested_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "error": job.error,
        **{name: result.get(name) for name in RESULT_FIELDS},
    }


class AuditVerifyApi(APIView):
    @extend_schema(
        request=None,
        responses={202: AuditVerificationOutput},
        summary="Start verifying the whole audit log in the background (or join the "
        "verification under way); poll its url",
    )
    def post(self, request: Request) -> Response:
        _auditor(request)
        job, _created = verifications.audit_verification_request(actor=request.user)
        return Response(verification_row(request, job), status=202)

    @extend_schema(
        operation_id="v1_audit_verify_latest",
        responses={200: AuditVerificationOutput, 202: AuditVerificationOutput},
        summary="The newest verification of the hash chain, the authenticators and the signed "
        "checkpoints: its progress, and its result when done (the first ever is started "
        "here: 202)",
    )
    def get(self, request: Request) -> Response:
        _auditor(request)
        job = selectors.audit_verification_latest()
        if job is None:  # a client that only reads this address still gets a result
            job, _created = verifications.audit_verification_request(actor=request.user)
            return Response(verification_row(request, job), status=202)
        return Response(verification_row(request, job))


class AuditVerificationApi(APIView):
    @extend_schema(
        responses={200: AuditVerificationOutput, 404: OpenApiTypes.OBJECT},
        summary="One verification of the audit log: its progress, and its result when done",
    )
    def get(self, request: Request, job: int) -> Response:
        _auditor(request)
        found = selectors.audit_verification(job_id=job)
        if found is None:
            raise NotFound(_("No such verification."))
        return Response(verification_row(request, found))


class ApplicationHistoryApi(APIView):
    @extend_schema(
        responses=inline_serializer(
            "ApplicationHistoryOutput", {"results": AuditEventOutput(many=True)}
        ),
        summary="Everything that happened to one application (its first 5,000 events)",
    )
    def get(self, request: Request, reference: str) -> Response:
        _auditor(request)
        events = selectors.application_history(user=request.user, reference=reference)
        return Response({"results": presenters.event_rows(events[:5000])})


class DataAccessApi(APIView):
    pagination_class = NewestFirst

    @extend_schema(
        responses=DataAccessOutput(many=True),
        summary="Who read or revealed your personal data",
    )
    def get(self, request: Request) -> Response:
        return paginated(
            self,
            selectors.data_access_for_citizen(user=request.user),
            lambda page: presenters.access_rows(selectors.authentic(page)),
        )

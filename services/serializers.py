"""Input and output shapes of the catalog and application API (one pair per operation)."""

from __future__ import annotations

from rest_framework import serializers

from core.api import StrictInput


class ServiceOutput(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    description = serializers.CharField()
    kind = serializers.CharField()
    version = serializers.IntegerField()
    departments = serializers.ListField(child=serializers.SlugField())
    form = serializers.DictField(help_text="JSON Schema (draft 2020-12) of the service's fields.")


class ApplicationCreateInput(StrictInput):
    services = serializers.ListField(child=serializers.SlugField(), min_length=1, max_length=10)
    answers = serializers.DictField(required=False, default=dict)


class AnswersInput(StrictInput):
    answers = serializers.DictField()


class CaseSummaryOutput(serializers.Serializer):
    reference = serializers.CharField()
    department = serializers.CharField()
    department_name = serializers.CharField(help_text="In the request's language.")
    service = serializers.CharField()
    step = serializers.CharField()
    step_name = serializers.CharField(help_text="In the request's language.")
    status = serializers.CharField()
    due_at = serializers.DateTimeField(allow_null=True)
    letter_url = serializers.CharField(
        allow_null=True, help_text="The decision letter (PDF) once the department decided."
    )


class ApplicationListOutput(serializers.Serializer):
    reference = serializers.CharField()
    status = serializers.CharField()
    services = serializers.ListField(child=serializers.SlugField())
    created_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(allow_null=True)


class ApplicationDetailOutput(ApplicationListOutput):
    answers = serializers.DictField(
        help_text="The citizen's own answers (file fields hold a token)."
    )
    form = serializers.DictField(help_text="JSON Schema of the merged form of this application.")
    attachments = serializers.ListField(child=serializers.DictField())
    cases = CaseSummaryOutput(many=True)
    information_requests = serializers.ListField(child=serializers.DictField())
    withdrawn_at = serializers.DateTimeField(allow_null=True)
    receipt_url = serializers.CharField(
        allow_null=True, help_text="The receipt (PDF) of a submitted application; null for a draft."
    )


class StatusOutput(serializers.Serializer):
    reference = serializers.CharField()
    status = serializers.CharField()
    submitted_at = serializers.DateTimeField(allow_null=True)


class AttachmentInput(StrictInput):
    field = serializers.CharField(max_length=100)
    file = serializers.FileField(allow_empty_file=True)


class AttachmentOutput(serializers.Serializer):
    token = serializers.CharField()
    field = serializers.CharField(source="field_key")
    name = serializers.CharField(source="name_plain")
    content_type = serializers.CharField()
    size = serializers.IntegerField()


class ProfileInput(StrictInput):
    facts = serializers.DictField()


class ProfileOutput(serializers.Serializer):
    facts = serializers.DictField()
    form = serializers.DictField()


class RepresentativeInput(StrictInput):
    email = serializers.EmailField(max_length=254)
    national_id = serializers.CharField(
        max_length=32, help_text="As saved in the representative's profile on this portal."
    )
    may_withdraw = serializers.BooleanField(required=False, default=False)
    may_erase = serializers.BooleanField(required=False, default=False)


class RepresentativeOutput(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField(source="representative.email")
    full_name = serializers.CharField(source="representative.full_name")
    may_withdraw = serializers.BooleanField()
    may_erase = serializers.BooleanField()
    rights = serializers.ListField(
        child=serializers.CharField(),
        help_text="The object permissions granted on the application.",
    )
    created_at = serializers.DateTimeField()
    revoked_at = serializers.DateTimeField(allow_null=True)

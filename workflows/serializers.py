"""Input and output shapes of the workbench API."""

from rest_framework import serializers

from core.api import StrictInput


class CaseListItemOutput(serializers.Serializer):
    reference = serializers.CharField()
    application = serializers.CharField(source="application.reference")
    department = serializers.CharField(source="department.slug")
    department_name = serializers.CharField(source="department.name_translated")
    service = serializers.CharField(source="version.service.slug")
    step = serializers.CharField()
    step_name = serializers.CharField(source="step_name_translated")
    status = serializers.CharField()
    assignee = serializers.EmailField(source="assignee.email", allow_null=True, default=None)
    due_at = serializers.DateTimeField(allow_null=True)
    breached = serializers.SerializerMethodField()

    def get_breached(self, case) -> bool:
        return case.breached_at is not None


class CaseListOutput(serializers.Serializer):
    """The inbox: a page of cases by due date, a cursor link to the next, counts per status."""

    results = CaseListItemOutput(many=True)
    next = serializers.URLField(allow_null=True)
    counts = serializers.DictField(child=serializers.IntegerField())
    counts_limit = serializers.IntegerField(
        help_text="Deprecated: read `counts_limits`. The highest counting limit (that of the "
        "statuses that wait for work); decided statuses stop sooner."
    )
    counts_limits = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="Each status's counting limit: a count equal to it means this many or more "
        "(decided statuses stop sooner).",
    )


class CaseDetailOutput(CaseListItemOutput):
    on_behalf_of = serializers.EmailField(
        allow_null=True,
        help_text="The absent colleague you cover for on this case (a delegation), else null.",
    )
    answers = serializers.ListField(child=serializers.DictField())
    # Why `answers` is empty for you ("" when it is not): a step that has not opened yet, or
    # your own application.
    answers_withheld = serializers.CharField()
    timeline = serializers.ListField(child=serializers.DictField())
    other_departments = serializers.ListField(child=serializers.DictField())
    decision_note = serializers.CharField()


class NoteInput(StrictInput):
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class MessageInput(StrictInput):
    message = serializers.CharField(max_length=5000)


class ReasonInput(StrictInput):
    reason = serializers.CharField(max_length=5000)


class TextInput(StrictInput):
    text = serializers.CharField(max_length=5000)


class AssignInput(StrictInput):
    assignee = serializers.EmailField()


class RevealInput(StrictInput):
    fields = serializers.ListField(
        child=serializers.CharField(max_length=100), min_length=1, max_length=50
    )
    purpose = serializers.CharField(max_length=1000)


class NationalIdSearchInput(serializers.Serializer):
    national_id = serializers.CharField(max_length=40)


class NationalIdSearchOutput(serializers.Serializer):
    results = CaseListItemOutput(many=True)
    count = serializers.IntegerField()


class RevealOutput(serializers.Serializer):
    values = serializers.DictField()

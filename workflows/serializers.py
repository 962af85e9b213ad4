"""Input and output shapes of the workbench API."""

from rest_framework import serializers


class CaseListItemOutput(serializers.Serializer):
    reference = serializers.CharField()
    application = serializers.CharField(source="application.reference")
    department = serializers.CharField(source="department.slug")
    service = serializers.CharField(source="version.service.slug")
    step = serializers.CharField()
    step_name = serializers.CharField()
    status = serializers.CharField()
    assignee = serializers.EmailField(source="assignee.email", allow_null=True, default=None)
    due_at = serializers.DateTimeField(allow_null=True)
    breached = serializers.SerializerMethodField()

    def get_breached(self, case) -> bool:
        return case.breached_at is not None


class CaseDetailOutput(CaseListItemOutput):
    answers = serializers.ListField(child=serializers.DictField())
    # Why `answers` is empty for you ("" when it is not): a step that has not opened yet, or
    # your own application.
    answers_withheld = serializers.CharField()
    timeline = serializers.ListField(child=serializers.DictField())
    other_departments = serializers.ListField(child=serializers.DictField())
    decision_note = serializers.CharField()


class NoteInput(serializers.Serializer):
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class MessageInput(serializers.Serializer):
    message = serializers.CharField(max_length=5000)


class ReasonInput(serializers.Serializer):
    reason = serializers.CharField(max_length=5000)


class TextInput(serializers.Serializer):
    text = serializers.CharField(max_length=5000)


class AssignInput(serializers.Serializer):
    assignee = serializers.EmailField()


class RevealInput(serializers.Serializer):
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

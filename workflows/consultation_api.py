"""The workbench API of consultations: the cases shared with you, sharing a case, withdrawing a
sharing, and a consultee's opinion (workflows.consultations). Errors as the case API's."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import StrictInput

from . import consultations, selectors
from .api import _case
from .serializers import CaseListItemOutput


class ShareInput(StrictInput):
    department = serializers.CharField(
        max_length=50, required=False, allow_blank=True, default="", help_text="A slug."
    )
    official = serializers.CharField(
        max_length=254, required=False, allow_blank=True, default="", help_text="An email."
    )
    reason = serializers.CharField(max_length=2000)
    fields = serializers.ListField(
        child=serializers.CharField(max_length=100), min_length=1, max_length=100
    )
    expires_at = serializers.CharField(
        max_length=40,
        required=False,
        allow_blank=True,
        default="",
        help_text="A date (the end of that day) or an ISO 8601 date and time.",
    )


class OpinionInput(StrictInput):
    text = serializers.CharField(max_length=5000)


class ConsultationOutput(serializers.Serializer):
    id = serializers.IntegerField()
    case = serializers.CharField(source="case.reference")
    department = serializers.CharField(source="department.slug", allow_null=True, default=None)
    official = serializers.EmailField(source="official.email", allow_null=True, default=None)
    reason = serializers.CharField(source="reason_plain")
    fields = serializers.ListField(child=serializers.CharField())
    shared_by = serializers.EmailField(source="shared_by.email")
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True)


class ConsultedItemOutput(serializers.Serializer):
    case = CaseListItemOutput()
    consultation = ConsultationOutput()


class ConsultedListOutput(serializers.Serializer):
    results = ConsultedItemOutput(many=True)


class OpinionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    case = serializers.CharField(source="case.reference")
    text = serializers.CharField(source="text_plain")
    created_at = serializers.DateTimeField()


class ConsultedListApi(APIView):
    @extend_schema(
        responses=ConsultedListOutput,
        operation_id="v1_cases_consulted_list",
        summary="The cases shared with you for an opinion (at most 200, by due date)",
    )
    def get(self, request: Request) -> Response:
        rows = selectors.consulted_for_user(user=request.user)
        return Response({"results": ConsultedItemOutput(rows, many=True).data})


class CaseShareApi(APIView):
    may_conflict = True

    @extend_schema(
        request=ShareInput,
        responses={201: ConsultationOutput},
        summary="Share the case for an opinion (a department or one official)",
    )
    def post(self, request: Request, reference: str) -> Response:
        case = _case(request, reference)
        payload = ShareInput(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        consultation = consultations.case_share_from_input(
            case=case,
            actor=request.user,
            department=data["department"],
            official=data["official"],
            reason=data["reason"],
            fields=data["fields"],
            expires_at=data["expires_at"],
        )
        return Response(ConsultationOutput(consultation).data, status=201)


class CaseShareRevokeApi(APIView):
    may_conflict = True

    @extend_schema(request=None, responses=ConsultationOutput, summary="Withdraw a sharing")
    def post(self, request: Request, reference: str, pk: int) -> Response:
        case = _case(request, reference)
        consultation = selectors.case_consultation(case=case, pk=pk)
        if consultation is None:
            raise Http404
        ended = consultations.case_share_revoke(consultation=consultation, actor=request.user)
        return Response(ConsultationOutput(ended).data)


class CaseOpinionApi(APIView):
    may_conflict = True

    @extend_schema(
        request=OpinionInput,
        responses={201: OpinionOutput},
        summary="Give an opinion on a case shared with you",
    )
    def post(self, request: Request, reference: str) -> Response:
        case = _case(request, reference)
        payload = OpinionInput(data=request.data)
        payload.is_valid(raise_exception=True)
        opinion = consultations.case_opinion_add(
            case=case, actor=request.user, text=payload.validated_data["text"]
        )
        return Response(OpinionOutput(opinion).data, status=201)

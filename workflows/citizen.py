"""The citizen's side of a case: answering a department's question, from the application's
page and through the API (URLs under the application's, as the citizen sees them)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import StrictInput
from core.pages import attempt
from services import permissions
from services.api import detail_data
from services.serializers import ApplicationDetailOutput
from services.views import application_with_access

from .actions import case_citizen_replied


class ReplyInput(StrictInput):
    case = serializers.CharField(max_length=20)
    message = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    answers = serializers.DictField(required=False, default=dict)


@login_required
@require_http_methods(["POST"])
def application_reply(request: HttpRequest, reference: str, case_reference: str) -> HttpResponse:
    """The citizen, or their representative, answers a department's question (a message;
    corrections go through the API)."""
    application, _access = application_with_access(request, reference, permissions.ACT)
    case = application.cases.filter(reference=case_reference).first()
    if case is None:
        raise Http404
    attempt(
        request,
        lambda: case_citizen_replied(
            case=case, citizen=request.user, message=request.POST.get("message", "")[:5000]
        ),
        success=_("Your answer was sent to %(dept)s.") % {"dept": case.department.name_translated},
    )
    return redirect("services:application-detail", reference=reference)


class ApplicationReplyApi(APIView):
    may_conflict = True

    @extend_schema(
        request=ReplyInput,
        responses=ApplicationDetailOutput,
        summary="Answer a department's question",
    )
    def post(self, request: Request, reference: str) -> Response:
        application, access = application_with_access(request, reference, permissions.ACT)
        payload = ReplyInput(data=request.data)
        payload.is_valid(raise_exception=True)
        case = application.cases.filter(reference=payload.validated_data["case"]).first()
        if case is None:
            return Response(
                {"errors": {"case": [_("No such case on this application.")]}}, status=400
            )
        case_citizen_replied(
            case=case,
            citizen=request.user,
            message=payload.validated_data["message"],
            answers=payload.validated_data["answers"],
        )
        application.refresh_from_db()
        data = detail_data(application, masked=not access.is_owner)
        return Response(ApplicationDetailOutput(data).data)

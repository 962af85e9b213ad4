"""The workbench API: the inbox, a case with its fields (masked), and the decisions."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import scopes
from accounts.models import User
from core.api import page_size_param
from services.validators import is_valid_national_id

from . import actions, selectors
from .filters import FILTERS, parse_inbox_query
from .models import Case
from .serializers import (
    AssignInput,
    CaseDetailOutput,
    CaseListItemOutput,
    CaseListOutput,
    MessageInput,
    NationalIdSearchInput,
    NationalIdSearchOutput,
    NoteInput,
    ReasonInput,
    RevealInput,
    RevealOutput,
    TextInput,
)

INBOX_FILTERS = ["status", *FILTERS]


def _case(request: Request, reference: str) -> Case:
    case = selectors.case_for_user(user=request.user, reference=reference)
    if case is None:
        raise Http404
    return case


def case_detail_data(case: Case, user: User) -> dict:
    view = actions.case_read(case=case, user=user)
    access = selectors.access_of(user=user, case=case)
    # A consultee: the shared fields only (case_view), no internal notes, no decision note.
    consultee = access.is_consultee
    behalf = access.on_behalf_of
    return {
        **CaseListItemOutput(case).data,
        "on_behalf_of": behalf.email if behalf is not None else None,
        "answers": view["rows"],
        "answers_withheld": view["withheld"],
        "timeline": selectors.case_timeline(case=case, consultee=consultee),
        "other_departments": [
            {"department": c.department.slug, "step": c.step, "status": c.status}
            for c in selectors.sibling_cases(case=case)
        ],
        "decision_note": "" if consultee else case.decision_note_plain,
    }


# A department system's token (a service account's) is accepted only by the views that name the
# scope they need (`token_scope`); the others (search, notes, assign) refuse it.
_SCOPED = [IsAuthenticated, scopes.TokenScope]


class CaseListApi(APIView):
    permission_classes = _SCOPED
    token_scope = scopes.CASES_READ
    validates_query = True  # `page_size`

    @extend_schema(
        parameters=[
            *(OpenApiParameter(name, OpenApiTypes.STR) for name in [*INBOX_FILTERS, "cursor"]),
            OpenApiParameter(
                "page_size",
                {"type": "integer", "minimum": 1},
                description="Cases per page (50 unless given; more than 200 gives 200).",
            ),
        ],
        responses=CaseListOutput,
        operation_id="v1_cases_list",
        summary="The inbox: your departments' cases, by due date, with counts per status",
    )
    def get(self, request: Request) -> Response:
        query = parse_inbox_query(request.query_params)
        if query.national_id_in_q:
            # Not searched: a national ID in a query string lands in access logs and proxies.
            message = _("Search for a national ID with POST /api/v1/cases/search/.")
            return Response({"errors": {"q": [message]}}, status=400)
        cases = selectors.inbox(user=request.user, filters=query.filters())
        counts = selectors.status_counts(cases)
        if query.statuses is not None:
            cases = cases.filter(status__in=query.statuses)
        size = page_size_param(request, default=50, maximum=200)
        rows, cursor = selectors.page_by_due_date(
            cases, cursor=request.query_params.get("cursor", ""), size=size
        )
        next_url = None
        if cursor:
            query = request.query_params.copy()
            query["cursor"] = cursor
            next_url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
        return Response(
            {
                "results": CaseListItemOutput(rows, many=True).data,
                "next": next_url,
                "counts": counts,
                # A count equal to its status's limit means "this many or more".
                "counts_limit": selectors.COUNT_LIMIT,
                "counts_limits": selectors.count_limits(),
            }
        )


class CaseSearchApi(APIView):
    """Cases by the applicant's national ID, sent in the body so it stays out of addresses and
    logs. Audited: the citizen sees that the department searched for them."""

    @extend_schema(
        request=NationalIdSearchInput,
        responses=NationalIdSearchOutput,
        summary="Find cases by national ID (audited)",
    )
    def post(self, request: Request) -> Response:
        payload = NationalIdSearchInput(data=request.data)
        payload.is_valid(raise_exception=True)
        number = payload.validated_data["national_id"].strip()
        if not is_valid_national_id(number):
            message = _("Enter a valid 18-character national ID.")
            return Response({"errors": {"national_id": [message]}}, status=400)
        cases = selectors.cases_by_national_id(user=request.user, national_id=number)
        actions.case_search_record(actor=request.user, cases=cases)
        return Response({"results": CaseListItemOutput(cases, many=True).data, "count": len(cases)})


class CaseDetailApi(APIView):
    permission_classes = _SCOPED
    token_scope = scopes.CASES_READ

    @extend_schema(
        responses=CaseDetailOutput, summary="A case: the step's fields (masked), timeline"
    )
    def get(self, request: Request, reference: str) -> Response:
        return Response(case_detail_data(_case(request, reference), request.user))


class _CaseActionApi(APIView):
    permission_classes = _SCOPED
    token_scope: str | None = None
    may_conflict = True
    input_serializer: type | None = None

    def act(self, case: Case, user: User, data: dict) -> object:  # pragma: no cover - abstract
        raise NotImplementedError

    def post(self, request: Request, reference: str) -> Response:
        case = _case(request, reference)
        data: dict = {}
        if self.input_serializer is not None:
            payload = self.input_serializer(data=request.data)
            payload.is_valid(raise_exception=True)
            data = payload.validated_data
        result = self.act(case, request.user, data)
        if isinstance(result, dict):
            return Response(RevealOutput({"values": result}).data)
        case.refresh_from_db()
        return Response(case_detail_data(case, request.user))


def _action_api(
    name: str, serializer: type | None, act, summary: str, scope: str | None = None
) -> type[_CaseActionApi]:
    # A `post` of its own: extend_schema marks the function it decorates, so decorating the
    # inherited one would give every action the schema of the last.
    def post(self, request: Request, reference: str) -> Response:
        return _CaseActionApi.post(self, request, reference)

    return type(
        name,
        (_CaseActionApi,),
        {
            "input_serializer": serializer,
            "token_scope": scope,
            # The answer is the case as `GET /api/v1/cases/{reference}/` gives it.
            "token_scope_also": (scopes.CASES_READ,),
            "act": lambda self, case, user, data: act(case, user, data),
            "post": extend_schema(request=serializer, responses=CaseDetailOutput, summary=summary)(
                post
            ),
        },
    )


CaseClaimApi = _action_api(
    "CaseClaimApi",
    None,
    lambda c, u, d: actions.case_claim(case=c, actor=u),
    "Claim",
    scopes.CASES_DECIDE,
)
CaseReleaseApi = _action_api(
    "CaseReleaseApi",
    None,
    lambda c, u, d: actions.case_release(case=c, actor=u),
    "Release to the queue",
    scopes.CASES_DECIDE,
)
CaseRequestInfoApi = _action_api(
    "CaseRequestInfoApi",
    MessageInput,
    lambda c, u, d: actions.case_request_info(case=c, actor=u, message=d["message"]),
    "Ask the citizen",
    scopes.CASES_REQUEST_INFO,
)
CaseApproveApi = _action_api(
    "CaseApproveApi",
    NoteInput,
    lambda c, u, d: actions.case_approve(case=c, actor=u, note=d["note"]),
    "Approve",
    scopes.CASES_DECIDE,
)
CaseRejectApi = _action_api(
    "CaseRejectApi",
    ReasonInput,
    lambda c, u, d: actions.case_reject(case=c, actor=u, reason=d["reason"]),
    "Reject",
    scopes.CASES_DECIDE,
)
CaseNoteApi = _action_api(
    "CaseNoteApi",
    TextInput,
    lambda c, u, d: actions.case_note_add(case=c, actor=u, text=d["text"]),
    "Internal note",
)


CaseAssignApi = _action_api(
    "CaseAssignApi",
    AssignInput,
    lambda c, u, d: actions.case_assign_to_email(case=c, actor=u, email=d["assignee"]),
    "Assign (leads)",
)


class CaseRevealApi(_CaseActionApi):
    input_serializer = RevealInput
    token_scope = scopes.CASES_REVEAL

    def act(self, case: Case, user: User, data: dict) -> object:
        return actions.case_reveal(
            case=case, actor=user, fields=data["fields"], purpose=data["purpose"]
        )

    @extend_schema(
        request=RevealInput, responses=RevealOutput, summary="Unmask values for a stated purpose"
    )
    def post(self, request: Request, reference: str) -> Response:
        return super().post(request, reference)

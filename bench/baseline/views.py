"""Bare DRF: a create endpoint on a trivial model, the same authentication as the portal's API."""

from django.http import HttpRequest, HttpResponse
from rest_framework import generics, serializers
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .models import Note


class NoteSerializer(serializers.ModelSerializer):
    class Meta:
        model = Note
        fields = ["id", "text", "created_at"]


class BareTokenAuthentication(TokenAuthentication):
    """DRF's own token authentication (one `select_related` get by the stored form of the key),
    on the portal's token table, where keys are kept as digests: the bare stack, without the
    portal's expiry check and role look-up (`accounts.authentication`)."""

    def authenticate_credentials(self, key):
        from accounts.models import ApiToken
        from accounts.tokens import key_digest

        try:
            token = ApiToken.objects.select_related("user").get(digest=key_digest(key))
        except ApiToken.DoesNotExist:
            raise AuthenticationFailed("Invalid token.") from None
        return token.user, token


class NoteCreate(generics.CreateAPIView):
    authentication_classes = [BareTokenAuthentication, SessionAuthentication]
    serializer_class = NoteSerializer
    queryset = Note.objects.all()


def ping(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


class CasePage(APIView):
    """The inbox page query without the permission scoping: the same
    filters a person chooses, the same order and the same serializer, no membership join and no
    counts. Ordered by (due date, id) with undated cases last, the order the inbox promises."""

    def get(self, request: Request) -> Response:
        from django.db.models import F

        from workflows.models import Case
        from workflows.selectors import LIST_DEFERRED
        from workflows.serializers import CaseListItemOutput

        cases = Case.objects.all()
        if request.query_params.get("status"):
            cases = cases.filter(status__in=request.query_params["status"].split(","))
        if request.query_params.get("department"):
            cases = cases.filter(department__slug=request.query_params["department"])
        if request.query_params.get("assignee") == "none":
            cases = cases.filter(assignee__isnull=True)
        size = max(1, min(int(request.query_params.get("page_size", 50)), 200))
        rows = cases.select_related("department", "version__service", "assignee", "application")
        # The same columns as the portal's page, so the comparison is about the scoping only.
        rows = rows.defer(*LIST_DEFERRED)
        rows = rows.order_by(F("due_at").asc(nulls_last=True), "id")[:size]
        return Response({"results": CaseListItemOutput(rows, many=True).data})


class SummaryRow(APIView):
    """The bare page the dashboard is measured against: the portal's authentication, then one
    row of the dashboards' summary state read and returned as JSON."""

    def get(self, request: Request) -> Response:
        from oversight.models import SummaryState

        state = SummaryState.objects.filter(pk=1).values("refreshed_at", "incidents_open").first()
        return Response({"summary": state})

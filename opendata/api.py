"""Open-data API: anyone lists and reads releases; supervisors and administrators publish."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import Pagination, StrictInput, paginated

from . import actions, selectors, signing
from .models import Release


class LabelOutput(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.DictField(
        child=serializers.CharField(), help_text="The label by language code (zh-hans, en)."
    )


class TableOutput(serializers.Serializer):
    name = serializers.CharField()
    rows = LabelOutput(many=True)
    columns = LabelOutput(many=True)
    cells = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField(allow_null=True)),
        help_text="Counts by row then column; null where withheld.",
    )
    row_totals = serializers.ListField(child=serializers.IntegerField(allow_null=True))
    column_totals = serializers.ListField(child=serializers.IntegerField(allow_null=True))
    total = serializers.IntegerField(allow_null=True)


class DocumentOutput(serializers.Serializer):
    format = serializers.CharField()
    version = serializers.IntegerField()
    period = serializers.CharField(help_text="The month covered, YYYY-MM.")
    period_start = serializers.CharField()
    period_end = serializers.CharField()
    published_at = serializers.CharField()
    threshold_k = serializers.IntegerField()
    differential_privacy = serializers.DictField(allow_null=True)
    algorithm = serializers.CharField()
    key_id = serializers.CharField()
    public_key = serializers.CharField(help_text="Base64 of the raw Ed25519 public key.")
    tables = TableOutput(many=True)
    signature = serializers.CharField(
        help_text="Base64 Ed25519 signature of the document without this member, as JSON "
        "with sorted keys, no spaces, UTF-8 (docs/open-data.md)."
    )


class ReleaseListOutput(serializers.Serializer):
    version = serializers.IntegerField()
    period = serializers.CharField(help_text="The month covered, YYYY-MM.")
    published_at = serializers.DateTimeField()
    threshold_k = serializers.IntegerField()
    key_id = serializers.CharField()
    digest = serializers.CharField(help_text="SHA-256 of the signed bytes.")
    signature = serializers.CharField()
    url = serializers.CharField()


class ReleaseDetailOutput(ReleaseListOutput):
    document = DocumentOutput(help_text="The signed document.")


class PublishInput(StrictInput):
    month = serializers.RegexField(
        r"^[0-9]{4}-(0[1-9]|1[0-2])$",
        max_length=7,
        help_text="The month to publish, YYYY-MM.",
        error_messages={"invalid": gettext_lazy("Write the month as year-month, like 2026-03.")},
    )
    epsilon = serializers.CharField(
        max_length=20,
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text="For differentially private counts: the privacy budget this release spends "
        "(a positive decimal like 0.5). Empty or absent: exact counts with suppression only.",
    )


def _list_data(release: Release) -> dict:
    return {
        "version": release.version,
        "period": release.month,
        "published_at": release.published_at,
        "threshold_k": release.threshold_k,
        "key_id": release.key_id,
        "digest": release.digest,
        "signature": release.signature,
        "url": f"/api/v1/open-data/{release.version}/",
    }


class ReleaseListApi(APIView):
    permission_classes = [AllowAny]
    pagination_class = Pagination

    @extend_schema(
        responses=ReleaseListOutput(many=True),
        summary="Published open-data releases, newest month first",
    )
    def get(self, request: Request) -> Response:
        return paginated(
            self,
            selectors.releases(),
            lambda page: ReleaseListOutput([_list_data(r) for r in page], many=True).data,
        )


class ReleaseDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses=ReleaseDetailOutput, summary="One release with its signed document")
    def get(self, request: Request, version: int) -> Response:
        release = selectors.release(version)
        data = _list_data(release) | {"document": release.document}
        return Response(ReleaseDetailOutput(data).data)


class PublicKeysOutput(serializers.Serializer):
    algorithm = serializers.CharField()
    keys = serializers.DictField(
        child=serializers.CharField(), help_text="Base64 public key by key id."
    )


class PublicKeysApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses=PublicKeysOutput, summary="The public keys releases are signed with")
    def get(self, request: Request) -> Response:
        data = {"algorithm": signing.ALGORITHM, "keys": signing.public_keys()}
        return Response(PublicKeysOutput(data).data)


class ReleasePublishApi(APIView):
    may_conflict = True  # a month already published, or past the privacy budget

    @extend_schema(
        request=PublishInput,
        responses={201: ReleaseDetailOutput},
        summary="Publish an ended month (supervisors and administrators)",
    )
    def post(self, request: Request) -> Response:
        if not selectors.can_publish(request.user):
            raise PermissionDenied(_("Only supervisors and administrators publish statistics."))
        payload = PublishInput(data=request.data)
        payload.is_valid(raise_exception=True)
        period = actions.parse_month(payload.validated_data["month"])
        epsilon = actions.parse_epsilon(payload.validated_data.get("epsilon"))
        release = actions.release_publish(period=period, actor=request.user, epsilon=epsilon)
        data = _list_data(release) | {"document": release.document}
        return Response(ReleaseDetailOutput(data).data, status=status.HTTP_201_CREATED)

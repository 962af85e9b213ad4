"""The service accounts API: administrators (every department) and a department's leads (their
own) create a department system's account, issue, rotate and revoke its scoped tokens, and
deactivate it. Everyone else gets 403; an account of a department one does not manage, 404."""

from __future__ import annotations

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import ListAPIView
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import StrictInput
from core.errors import InvalidInput

from . import selectors
from . import service_accounts as sa
from .models import ApiToken, Department, User
from .scopes import SCOPES
from .selectors import user_by_email


class ManagesServiceAccounts(BasePermission):
    message = gettext_lazy("Only administrators and department leads manage service accounts.")

    def has_permission(self, request, view) -> bool:
        return selectors.may_manage(request.user)


class ServiceTokenOutput(serializers.Serializer):
    id = serializers.IntegerField()
    prefix = serializers.CharField(help_text="The first characters of the key, to recognise it.")
    label = serializers.CharField()
    scopes = serializers.ListField(child=serializers.CharField())
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    expired = serializers.SerializerMethodField()

    def get_expired(self, token: ApiToken) -> bool:
        return token.expires_at <= timezone.now()


class ServiceAccountOutput(serializers.Serializer):
    id = serializers.IntegerField()
    label = serializers.CharField(source="service_label")
    department = serializers.CharField(source="service_department.slug")
    department_name = serializers.CharField(source="service_department.name_translated")
    responsible = serializers.EmailField(source="service_responsible.email")
    created_by = serializers.EmailField(source="service_created_by.email", allow_null=True)
    created_at = serializers.DateTimeField(source="date_joined")
    active = serializers.BooleanField(source="is_active")


class ServiceAccountDetailOutput(ServiceAccountOutput):
    tokens = serializers.SerializerMethodField()

    def get_tokens(self, account: User) -> list[dict]:
        return ServiceTokenOutput(selectors.service_tokens(account=account), many=True).data


class IssuedTokenOutput(ServiceTokenOutput):
    key = serializers.CharField(help_text="The secret: shown only in this response.")


class ServiceAccountInput(StrictInput):
    department = serializers.SlugField(max_length=50, help_text="A department you manage.")
    label = serializers.CharField(max_length=100, help_text="What the system is.")
    responsible = serializers.EmailField(
        help_text="The official answerable for it: a member of the department."
    )


class TokenInput(StrictInput):
    scopes = serializers.ListField(
        child=serializers.CharField(max_length=40),
        help_text=f"At least one of: {', '.join(SCOPES)}.",
    )
    days = serializers.IntegerField(help_text=f"1 to {sa.MAX_TOKEN_DAYS} days until it expires.")
    label = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class TokenRotateInput(StrictInput):
    overlap_hours = serializers.IntegerField(
        required=False,
        default=24,
        help_text="How long the old key stays valid (0: it ends now); 24 unless given.",
    )
    days = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="The new key's lifetime."
    )


class RevokedOutput(serializers.Serializer):
    revoked = serializers.IntegerField()


def _account(request: Request, pk: int) -> User:
    account = selectors.service_accounts_for(user=request.user).filter(pk=pk).first()
    if account is None:
        raise Http404
    return account


def _token(request: Request, pk: int, token_id: int) -> ApiToken:
    token = selectors.service_tokens(account=_account(request, pk)).filter(pk=token_id).first()
    if token is None:
        raise Http404
    return token


def _issued(issued: sa.IssuedToken) -> dict:
    return {**ServiceTokenOutput(issued.token).data, "key": issued.key}


def _valid(serializer_class: type, request: Request) -> dict:
    payload = serializer_class(data=request.data)
    payload.is_valid(raise_exception=True)
    return payload.validated_data


class _Managed(APIView):
    permission_classes = [IsAuthenticated, ManagesServiceAccounts]
    may_conflict = True


class ServiceAccountListApi(ListAPIView):
    permission_classes = [IsAuthenticated, ManagesServiceAccounts]
    serializer_class = ServiceAccountOutput

    def get_queryset(self):
        return selectors.service_accounts_for(user=self.request.user)

    @extend_schema(summary="The service accounts of the departments you manage")
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=ServiceAccountInput,
        responses={201: ServiceAccountDetailOutput},
        summary="Create a department system's service account (administrators, leads)",
    )
    def post(self, request: Request) -> Response:
        data = _valid(ServiceAccountInput, request)
        department = Department.objects.filter(slug=data["department"], active=True).first()
        if department is None:
            raise InvalidInput(
                _("The service account was not created."),
                errors={"department": [_("Choose a department you manage.")]},
            )
        if not selectors.may_manage(request.user, department):
            raise PermissionDenied(_("You may not manage this department's service accounts."))
        account = sa.service_account_create(
            actor=request.user,
            department=department,
            label=data["label"],
            responsible=user_by_email(email=data["responsible"], active=True),
        )
        return Response(ServiceAccountDetailOutput(account).data, status=201)


class ServiceAccountDetailApi(_Managed):
    @extend_schema(responses=ServiceAccountDetailOutput, summary="A service account, its tokens")
    def get(self, request: Request, pk: int) -> Response:
        return Response(ServiceAccountDetailOutput(_account(request, pk)).data)


class ServiceAccountDeactivateApi(_Managed):
    @extend_schema(
        request=None,
        responses=ServiceAccountDetailOutput,
        summary="Deactivate a service account; its tokens are revoked",
    )
    def post(self, request: Request, pk: int) -> Response:
        account = sa.service_account_deactivate(actor=request.user, account=_account(request, pk))
        return Response(ServiceAccountDetailOutput(account).data)


class ServiceTokenListApi(_Managed):
    @extend_schema(
        request=TokenInput,
        responses={201: IssuedTokenOutput},
        summary="Issue a scoped token (the key is shown once)",
    )
    def post(self, request: Request, pk: int) -> Response:
        account = _account(request, pk)
        data = _valid(TokenInput, request)
        issued = sa.service_token_issue(
            actor=request.user,
            account=account,
            scopes=data["scopes"],
            days=data["days"],
            label=data["label"],
        )
        return Response(_issued(issued), status=201)

    @extend_schema(
        request=None,
        responses=RevokedOutput,
        summary="Revoke every token of a service account",
        operation_id="v1_service_accounts_tokens_revoke_all",
    )
    def delete(self, request: Request, pk: int) -> Response:
        count = sa.service_tokens_revoke_all(actor=request.user, account=_account(request, pk))
        return Response(RevokedOutput({"revoked": count}).data)


class ServiceTokenDetailApi(_Managed):
    @extend_schema(
        request=None,
        responses={204: OpenApiResponse(description="Revoked.")},
        summary="Revoke one token of a service account",
        operation_id="v1_service_accounts_token_revoke",
    )
    def delete(self, request: Request, pk: int, token_id: int) -> Response:
        sa.service_token_revoke(actor=request.user, token=_token(request, pk, token_id))
        return Response(status=204)


class ServiceTokenRotateApi(_Managed):
    @extend_schema(
        request=TokenRotateInput,
        responses={201: IssuedTokenOutput},
        summary="Rotate a token: a new key, the old one valid until the overlap ends",
    )
    def post(self, request: Request, pk: int, token_id: int) -> Response:
        token = _token(request, pk, token_id)
        data = _valid(TokenRotateInput, request)
        issued = sa.service_token_rotate(
            actor=request.user,
            token=token,
            overlap_hours=data["overlap_hours"],
            days=data["days"],
        )
        return Response(_issued(issued), status=201)

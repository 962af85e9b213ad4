"""API: who am I, my API tokens, and the list of departments."""

from __future__ import annotations

from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from . import actions
from .models import ApiToken
from .selectors import departments_active, memberships_for_user, tokens_for_owner
from .serializers import DepartmentOutput, MeOutput, TokenOutput, TokensRevokedOutput


class MeApi(APIView):
    @extend_schema(responses=MeOutput, summary="The signed-in user, their role and departments")
    def get(self, request: Request) -> Response:
        user = request.user
        data = {
            "email": user.email,
            "full_name": user.full_name,
            "primary_role": user.primary_role,
            "memberships": memberships_for_user(user=user),
        }
        return Response(MeOutput(data).data)


class DepartmentListApi(ListAPIView):
    permission_classes = [AllowAny]
    serializer_class = DepartmentOutput

    def get_queryset(self):
        return departments_active()


def _token_row(token: ApiToken, *, current: ApiToken | None) -> dict:
    return {
        "id": token.pk,
        "prefix": token.prefix,
        "label": token.label,
        "created_at": token.created_at,
        "expires_at": token.expires_at,
        "expired": token.expires_at <= timezone.now(),
        "current": isinstance(current, ApiToken) and current.pk == token.pk,
    }


class TokenListApi(ListAPIView):
    """The signed-in user's API tokens (never their keys), and "revoke them all"."""

    serializer_class = TokenOutput

    def get_queryset(self):
        return tokens_for_owner(user=self.request.user)

    @extend_schema(summary="My API tokens: prefix, label, dates; never the key")
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        rows = [_token_row(t, current=request.auth) for t in page]
        return self.get_paginated_response(TokenOutput(rows, many=True).data)

    @extend_schema(
        summary="Revoke all my API tokens (including the one this request uses)",
        request=None,
        responses={200: TokensRevokedOutput},
        operation_id="v1_me_tokens_revoke_all",
    )
    def delete(self, request: Request) -> Response:
        count = actions.tokens_revoke_all(actor=request.user, user=request.user, reason="owner")
        return Response(TokensRevokedOutput({"revoked": count}).data)


class TokenDetailApi(APIView):
    @extend_schema(
        summary="Revoke one of my API tokens",
        operation_id="v1_me_tokens_revoke",
        request=None,
        responses={204: OpenApiResponse(description="Revoked."), 404: None},
    )
    def delete(self, request: Request, token_id: int) -> Response:
        token = tokens_for_owner(user=request.user).filter(pk=token_id).first()
        if token is None:
            raise Http404
        actions.token_revoke(actor=request.user, token=token)
        return Response(status=204)

"""The delegations API: the delegations the caller may see, a lead's new delegation, and
withdrawing one (a lead of its department, or the absent member). Errors as in the rest of the
API: `{"errors": {...}}` for invalid input, `{"detail": "..."}` otherwise."""

from __future__ import annotations

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Department, User
from accounts.selectors import user_by_email
from core.api import StrictInput
from core.errors import InvalidInput

from . import delegation
from .models import Delegation, DelegationScope


class DelegationOutput(serializers.Serializer):
    id = serializers.IntegerField()
    department = serializers.CharField(source="department.slug")
    department_name = serializers.CharField(source="department.name_translated")
    delegator = serializers.EmailField(
        source="delegator.email", help_text="The absent member, whose permissions are lent."
    )
    delegator_name = serializers.SerializerMethodField()
    delegate = serializers.EmailField(source="delegate.email", help_text="Who covers.")
    delegate_name = serializers.SerializerMethodField()
    scope = serializers.ChoiceField(
        choices=DelegationScope.choices,
        help_text="`cases`: the absent member's assigned cases; `role`: their whole role.",
    )
    scope_label = serializers.CharField(source="get_scope_display")
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    created_by = serializers.EmailField(source="created_by.email")
    created_at = serializers.DateTimeField()
    revoked_at = serializers.DateTimeField(allow_null=True)
    state = serializers.SerializerMethodField(
        help_text="`current` (in force), `future`, `past` or `revoked`."
    )

    def get_delegator_name(self, item: Delegation) -> str:
        return item.delegator.full_name or item.delegator.email

    def get_delegate_name(self, item: Delegation) -> str:
        return item.delegate.full_name or item.delegate.email

    def get_state(self, item: Delegation) -> str:
        return delegation.state(item, self.context.get("now") or timezone.now())


class DelegationInput(StrictInput):
    department = serializers.SlugField(max_length=50, help_text="A department you lead.")
    delegator = serializers.EmailField(help_text="The absent member (a member of the department).")
    delegate = serializers.EmailField(help_text="Who covers (another member of the department).")
    scope = serializers.ChoiceField(choices=DelegationScope.choices)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField(
        help_text="After the start and in the future; at most 90 days after the start."
    )


def _user(email: str) -> User | None:
    return user_by_email(email=email, active=True)


def _output(item: Delegation) -> dict:
    return DelegationOutput(item, context={"now": timezone.now()}).data


class DelegationListApi(ListAPIView):
    """The delegations the caller may see (newest start first), and a lead's new one."""

    serializer_class = DelegationOutput
    may_conflict = True

    def get_queryset(self):
        return delegation.delegations_visible(user=self.request.user)

    def get_serializer_context(self) -> dict:
        return {**super().get_serializer_context(), "now": timezone.now()}

    @extend_schema(summary="Delegations to and from you, and those of the departments you lead")
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=DelegationInput,
        responses={201: DelegationOutput},
        summary="Let a member cover for an absent colleague (leads of the department)",
    )
    def post(self, request: Request) -> Response:
        payload = DelegationInput(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        if not delegation.led_departments(user=request.user).exists():
            raise delegation.DelegationForbidden(
                _("Only a lead of the department can delegate its work.")
            )
        department = Department.objects.filter(slug=data["department"], active=True).first()
        if department is None:
            raise InvalidInput(
                _("The delegation was not created."),
                errors={"department": [_("Choose a department you lead.")]},
            )
        created = delegation.delegation_create(
            actor=request.user,
            department=department,
            delegator=_user(data["delegator"]),
            delegate=_user(data["delegate"]),
            scope=data["scope"],
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
        )
        return Response(_output(created), status=201)


class DelegationRevokeApi(APIView):
    may_conflict = True

    @extend_schema(
        request=None,
        responses=DelegationOutput,
        summary="Withdraw a delegation (a lead of its department, or the absent member)",
    )
    def post(self, request: Request, delegation_id: int) -> Response:
        item = delegation.delegation_for_user(user=request.user, pk=delegation_id)
        if item is None:
            raise Http404
        revoked = delegation.delegation_revoke(actor=request.user, delegation=item)
        return Response(_output(revoked))

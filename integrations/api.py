"""The webhooks' management API (`/api/v1/webhooks/...`): administrators for every department,
leads for theirs; anyone else 403, a subscription out of the caller's scope 404. Errors as in the
rest of the API: `{"errors": {...}}` for invalid input, `{"detail": "..."}` otherwise. Every
write is an action with its audit event; a new or rotated secret is in that answer only."""

from __future__ import annotations

from datetime import timedelta

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import StrictInput
from core.errors import InvalidInput

from . import actions, selectors
from .constants import DeliveryStatus, EventType, SubscriptionStatus
from .models import Delivery, Subscription


class _Secret(serializers.Serializer):
    prefix = serializers.CharField(help_text="The secret's first characters, to tell them apart.")
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(
        allow_null=True, help_text="Set during a rotation: the old secret signs until then."
    )


class _Incident(serializers.Serializer):
    opened_at = serializers.DateTimeField()
    failures = serializers.IntegerField()
    last_error = serializers.CharField()


class SubscriptionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    department = serializers.CharField(source="department.slug")
    label = serializers.CharField()
    url = serializers.CharField()
    events = serializers.ListField(child=serializers.ChoiceField(choices=EventType.choices))
    include_personal = serializers.BooleanField(
        help_text="Whether deliveries carry the step's answers (otherwise fetch them through "
        "the API)."
    )
    status = serializers.ChoiceField(choices=SubscriptionStatus.choices)
    status_label = serializers.CharField(source="get_status_display")
    consecutive_failures = serializers.IntegerField()
    failing_since = serializers.DateTimeField(allow_null=True)
    incident = serializers.SerializerMethodField()
    secrets = _Secret(many=True, source="secrets.all")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    @extend_schema_field(_Incident(allow_null=True))
    def get_incident(self, item: Subscription) -> dict | None:
        found = getattr(item, "open_incidents", None)
        if found is None:
            found = list(item.incidents.filter(resolved_at__isnull=True))
        return _Incident(found[0]).data if found else None


class CreatedOutput(serializers.Serializer):
    subscription = SubscriptionOutput()
    secret = serializers.CharField(help_text="The signing secret (`whsec_...`), shown this once.")


class SecretOutput(serializers.Serializer):
    secret = serializers.CharField(help_text="The new signing secret, shown this once.")
    subscription = SubscriptionOutput()


class SubscriptionInput(StrictInput):
    department = serializers.SlugField(max_length=50, help_text="A department you manage.")
    url = serializers.CharField(max_length=500, help_text="The endpoint (https).")
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EventType.choices), allow_empty=False, max_length=10
    )
    include_personal = serializers.BooleanField(default=False)
    label = serializers.CharField(max_length=100, allow_blank=True, default="")


class SubscriptionChange(StrictInput):
    url = serializers.CharField(max_length=500, required=False)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EventType.choices),
        allow_empty=False,
        max_length=10,
        required=False,
    )
    include_personal = serializers.BooleanField(required=False)
    label = serializers.CharField(max_length=100, allow_blank=True, required=False)


class RotateInput(StrictInput):
    overlap_hours = serializers.IntegerField(
        min_value=0,
        max_value=720,
        required=False,
        help_text="How long the old secret stays valid (WEBHOOK_SECRET_OVERLAP_HOURS by default).",
    )


class DeliveryOutput(serializers.ModelSerializer):
    case = serializers.CharField(source="case.reference")
    status_label = serializers.CharField(source="get_status_display")

    class Meta:
        model = Delivery
        fields = [
            "id",
            "message_id",
            "event",
            "case",
            "sequence",
            "status",
            "status_label",
            "attempts",
            "created_at",
            "next_attempt_at",
            "last_attempt_at",
            "delivered_at",
            "last_status_code",
            "last_latency_ms",
            "last_error",
            "response_prefix",
        ]


class ReplayedOutput(serializers.Serializer):
    replayed = serializers.IntegerField()


def _scope(request: Request) -> selectors.Scope:
    scope = selectors.manage_scope(user=request.user)
    if scope is None:
        raise PermissionDenied(_("Only administrators and department leads manage webhooks."))
    return scope


def _subscription(request: Request, pk) -> Subscription:
    found = selectors.subscription(scope=_scope(request), pk=pk)
    if found is None:
        raise Http404
    return found


def _output(subscription: Subscription) -> dict:
    fresh = selectors.subscription(
        scope=selectors.Scope(every=True, departments=()), pk=subscription.pk
    )
    return SubscriptionOutput(fresh).data


class SubscriptionListApi(ListAPIView):
    """The subscriptions the caller manages, and a new one."""

    serializer_class = SubscriptionOutput

    def get_queryset(self):
        return selectors.subscriptions(scope=_scope(self.request))

    @extend_schema(summary="Webhook subscriptions of the departments you manage")
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=SubscriptionInput,
        responses={201: CreatedOutput},
        summary="Register a department system's endpoint (its secret is in this answer only)",
    )
    def post(self, request: Request) -> Response:
        scope = _scope(request)
        payload = SubscriptionInput(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        department = selectors.department_in_scope(scope=scope, slug=data["department"])
        if department is None:
            raise InvalidInput(
                _("The subscription was not created."),
                errors={"department": [_("Choose a department you manage.")]},
            )
        created = actions.subscription_create(
            actor=request.user,
            department=department,
            url=data["url"],
            events=data["events"],
            include_personal=data["include_personal"],
            label=data["label"],
        )
        return Response(
            {"subscription": _output(created.subscription), "secret": created.secret}, status=201
        )


class SubscriptionApi(APIView):
    may_conflict = True

    @extend_schema(responses=SubscriptionOutput, summary="One webhook subscription")
    def get(self, request: Request, subscription_id: int) -> Response:
        return Response(SubscriptionOutput(_subscription(request, subscription_id)).data)

    @extend_schema(
        request=SubscriptionChange,
        responses=SubscriptionOutput,
        summary="Change a subscription's endpoint, events, label or personal data",
    )
    def patch(self, request: Request, subscription_id: int) -> Response:
        subscription = _subscription(request, subscription_id)
        payload = SubscriptionChange(data=request.data)
        payload.is_valid(raise_exception=True)
        changed = actions.subscription_update(
            actor=request.user, subscription=subscription, **payload.validated_data
        )
        return Response(_output(changed))

    @extend_schema(request=None, responses={204: None}, summary="Delete a subscription")
    def delete(self, request: Request, subscription_id: int) -> Response:
        actions.subscription_delete(
            actor=request.user, subscription=_subscription(request, subscription_id)
        )
        return Response(status=204)


class RotateApi(APIView):
    may_conflict = True

    @extend_schema(
        request=RotateInput,
        responses=SecretOutput,
        summary="A new signing secret (in this answer only); the old one signs during the overlap",
    )
    def post(self, request: Request, subscription_id: int) -> Response:
        subscription = _subscription(request, subscription_id)
        payload = RotateInput(data=request.data)
        payload.is_valid(raise_exception=True)
        hours = payload.validated_data.get("overlap_hours")
        secret = actions.secret_rotate(
            actor=request.user,
            subscription=subscription,
            overlap=None if hours is None else timedelta(hours=hours),
        )
        return Response({"secret": secret, "subscription": _output(subscription)})


class _SwitchApi(APIView):
    """Pausing or resuming: `switch(actor, subscription)` gives the subscription after it."""

    may_conflict = True
    switch = staticmethod(actions.subscription_pause)

    def post(self, request: Request, subscription_id: int) -> Response:
        subscription = _subscription(request, subscription_id)
        return Response(_output(self.switch(actor=request.user, subscription=subscription)))


@extend_schema(
    request=None, responses=SubscriptionOutput, summary="Pause a subscription (events wait)"
)
class PauseApi(_SwitchApi):
    switch = staticmethod(actions.subscription_pause)


@extend_schema(
    request=None,
    responses=SubscriptionOutput,
    summary="Resume a paused subscription (what waited is sent, in order)",
)
class ResumeApi(_SwitchApi):
    switch = staticmethod(actions.subscription_resume)


class ReplayFailedApi(APIView):
    may_conflict = True

    @extend_schema(
        request=None,
        responses=ReplayedOutput,
        summary="Send every failed delivery of a subscription again",
    )
    def post(self, request: Request, subscription_id: int) -> Response:
        subscription = _subscription(request, subscription_id)
        count = actions.deliveries_replay_failed(actor=request.user, subscription=subscription)
        return Response({"replayed": count})


class DeliveryListApi(ListAPIView):
    """The delivery log of a subscription, newest first."""

    serializer_class = DeliveryOutput

    def get_queryset(self):
        subscription = _subscription(self.request, self.kwargs["subscription_id"])
        status = self.request.query_params.get("status", "")
        if status and status not in selectors.STATUSES:
            raise InvalidInput(
                _("Unknown delivery status."),
                errors={"status": [_("Use one of: %s.") % ", ".join(selectors.STATUSES)]},
            )
        return selectors.deliveries(subscription=subscription, status=status)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "status",
                OpenApiTypes.STR,
                enum=DeliveryStatus.values,
                description="Only deliveries in this state.",
            )
        ],
        summary="The delivery log of a subscription (newest first)",
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)


class DeliveryReplayApi(APIView):
    may_conflict = True

    @extend_schema(request=None, responses=DeliveryOutput, summary="Send one delivery again")
    def post(self, request: Request, subscription_id: int, delivery_id: int) -> Response:
        subscription = _subscription(request, subscription_id)
        found = selectors.delivery(subscription=subscription, pk=delivery_id)
        if found is None:
            raise Http404
        replayed = actions.delivery_replay(actor=request.user, delivery=found)
        return Response(DeliveryOutput(replayed).data)

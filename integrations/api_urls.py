"""API of the webhooks' management."""

from django.urls import path

from . import api

urlpatterns = [
    path("webhooks/", api.SubscriptionListApi.as_view(), name="api-webhooks"),
    path("webhooks/<int:subscription_id>/", api.SubscriptionApi.as_view(), name="api-webhook"),
    path(
        "webhooks/<int:subscription_id>/rotate/",
        api.RotateApi.as_view(),
        name="api-webhook-rotate",
    ),
    path("webhooks/<int:subscription_id>/pause/", api.PauseApi.as_view(), name="api-webhook-pause"),
    path(
        "webhooks/<int:subscription_id>/resume/",
        api.ResumeApi.as_view(),
        name="api-webhook-resume",
    ),
    path(
        "webhooks/<int:subscription_id>/replay-failed/",
        api.ReplayFailedApi.as_view(),
        name="api-webhook-replay-failed",
    ),
    path(
        "webhooks/<int:subscription_id>/deliveries/",
        api.DeliveryListApi.as_view(),
        name="api-webhook-deliveries",
    ),
    path(
        "webhooks/<int:subscription_id>/deliveries/<int:delivery_id>/replay/",
        api.DeliveryReplayApi.as_view(),
        name="api-webhook-delivery-replay",
    ),
]

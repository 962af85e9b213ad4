"""Pages of the webhooks' management."""

from django.urls import path

from . import views

app_name = "integrations"

urlpatterns = [
    path("webhooks/", views.subscriptions, name="webhooks"),
    path("webhooks/<int:pk>/", views.subscription, name="webhook"),
    path("webhooks/<int:pk>/<slug:act>/", views.act, name="webhook-act"),
    path(
        "webhooks/<int:pk>/deliveries/<int:delivery_id>/replay/",
        views.replay,
        name="webhook-replay",
    ),
]

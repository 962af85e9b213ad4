"""How the webhooks plug into the layers below, which never import them (docs/architecture.md):
the engine tells `workflows.events` what happened to cases, inside the change's transaction,
and the outbox writes its deliveries there; key rotation re-seals the signing secrets."""

from __future__ import annotations

from privacy import rotation
from workflows import events

from .emission import on_cases
from .models import SubscriptionSecret


def connect() -> None:
    events.register(on_cases)
    rotation.register_text(
        "webhook_secret", SubscriptionSecret, ("secret",), label="webhook signing secrets"
    )

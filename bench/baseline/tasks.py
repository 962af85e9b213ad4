"""The bare stack's Celery task: nothing to do, so its throughput and round trip are what the
broker and the worker cost (the routing benchmark's baseline). Discovered by the Celery app's
autodiscovery because `bench.baseline` is installed under the bench settings."""

from celery import shared_task


@shared_task(name="bench.baseline.tasks.noop", acks_late=True, ignore_result=True)
def noop(done_key: str = "") -> None:
    """Do nothing. A round-trip sample passes `done_key`: the task then marks it done in the
    cache (one Redis SET), as a routed application is seen done by its committed cases."""
    if done_key:
        from django.core.cache import cache

        cache.set(done_key, 1, timeout=60)

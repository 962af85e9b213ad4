"""The services CI promises: PostgreSQL and Redis. Skipped locally without them; failing in CI."""

import pytest
from django.conf import settings
from django.db import connection

pytestmark = pytest.mark.services


def test_the_database_is_postgresql(require_postgres):
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        assert "PostgreSQL" in cursor.fetchone()[0]


def test_the_broker_is_redis(require_redis):
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    import redis

    assert redis.Redis.from_url(settings.REDIS_URL).ping()

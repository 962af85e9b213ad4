"""API throttling per user and per client address (429 with Retry-After), counted in the cache
(Redis in production), with the address taken from the proxy-aware logic (TRUSTED_PROXY_COUNT),
never from a spoofable X-Forwarded-For; sign-in limits keyed the same way, and a stranger who
knows an email address cannot keep its owner out for longer than the short per-account window.
"""

from __future__ import annotations

import time

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from rest_framework.test import APIClient

from config.settings.base import ACCOUNT_RATE_LIMITS, REST_FRAMEWORK
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rates(settings):
    """Turn throttling on (the test settings switch it off) with small rates."""
    cache.clear()

    def apply(**scopes):
        rates = {"anon": None, "user": None, "address": None, **scopes}
        settings.REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}

    yield apply
    cache.clear()


def api(user=None, ip="203.0.113.7", **headers):
    client = APIClient(REMOTE_ADDR=ip, **headers)
    if user is not None:
        client.force_authenticate(user)
    return client


def assert_throttled(response):
    assert response.status_code == 429, response.content[:200]
    assert int(response["Retry-After"]) > 0
    assert set(response.json()) == {"detail"}


def test_throttling_is_configured_for_every_api_view():
    from rest_framework.settings import api_settings
    from rest_framework.views import APIView

    names = {cls.__name__ for cls in APIView.throttle_classes}
    assert names == {"AnonAddressThrottle", "UserThrottle"}
    assert {cls.__name__ for cls in api_settings.DEFAULT_THROTTLE_CLASSES} == names
    assert "core.throttling.ApiAddressThrottleMiddleware" in django_settings.MIDDLEWARE
    assert set(REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]) == {"anon", "user", "address"}
    assert all(REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"].values())  # base settings: all on


def test_a_user_is_throttled_with_retry_after(rates):
    rates(user="3/min")
    alice, bob = UserFactory(), UserFactory()
    for _ in range(3):
        assert api(alice).get("/api/v1/me/").status_code == 200
    assert_throttled(api(alice).get("/api/v1/me/"))
    # Another address does not help alice (per user); bob at alice's address is not affected.
    assert_throttled(api(alice, ip="198.51.100.1").get("/api/v1/me/"))
    assert api(bob).get("/api/v1/me/").status_code == 200


def test_one_address_is_throttled_across_many_users(rates):
    rates(user="100/min", address="4/min")
    for _ in range(4):
        assert api(UserFactory()).get("/api/v1/me/").status_code == 200
    assert_throttled(api(UserFactory()).get("/api/v1/me/"))
    assert api(UserFactory(), ip="198.51.100.1").get("/api/v1/me/").status_code == 200


def test_wrong_tokens_are_counted_before_authentication(rates):
    """A token guesser gets 401s, and then 429s: the address limit comes before DRF's
    authentication, which would otherwise answer every guess."""
    rates(address="3/min")
    guesser = api(HTTP_AUTHORIZATION="Token " + "0" * 40)
    for _ in range(3):
        assert guesser.get("/api/v1/me/").status_code == 401
    assert_throttled(guesser.get("/api/v1/me/"))
    assert_throttled(api().get("/api/v1/departments/"))  # the same address, anything else
    assert api(ip="198.51.100.1").get("/api/v1/departments/").status_code == 200


def test_anonymous_requests_are_throttled_per_address(rates):
    rates(anon="2/min")
    for _ in range(2):
        assert api().get("/api/v1/departments/").status_code == 200
    assert_throttled(api().get("/api/v1/departments/"))
    assert api(ip="198.51.100.1").get("/api/v1/departments/").status_code == 200


def test_spoofed_forwarded_for_does_not_reset_the_count(rates, settings):
    """Without a trusted proxy, X-Forwarded-For is the client's own claim and is ignored."""
    settings.TRUSTED_PROXY_COUNT = 0
    rates(anon="2/min")
    for n in range(2):
        assert (
            api(HTTP_X_FORWARDED_FOR=f"10.0.0.{n}").get("/api/v1/departments/").status_code == 200
        )
    assert_throttled(api(HTTP_X_FORWARDED_FOR="10.9.9.9").get("/api/v1/departments/"))


def test_behind_one_proxy_the_proxys_hop_names_the_client(rates, settings):
    """With one trusted proxy the address it appended counts; a hop the client prepended does
    not make a new client."""
    settings.TRUSTED_PROXY_COUNT = 1
    rates(anon="2/min")
    proxy = "192.0.2.1"
    for _ in range(2):
        response = api(ip=proxy, HTTP_X_FORWARDED_FOR="1.1.1.1").get("/api/v1/departments/")
        assert response.status_code == 200
    spoofed = api(ip=proxy, HTTP_X_FORWARDED_FOR="9.9.9.9, 1.1.1.1")
    assert_throttled(spoofed.get("/api/v1/departments/"))
    other = api(ip=proxy, HTTP_X_FORWARDED_FOR="2.2.2.2")
    assert other.get("/api/v1/departments/").status_code == 200


def test_ipv6_addresses_count_per_64(rates):
    rates(anon="2/min")
    assert api(ip="2001:db8:1:2::1").get("/api/v1/departments/").status_code == 200
    assert api(ip="2001:db8:1:2::2").get("/api/v1/departments/").status_code == 200
    assert_throttled(api(ip="2001:db8:1:2:ffff::3").get("/api/v1/departments/"))
    assert api(ip="2001:db8:1:3::1").get("/api/v1/departments/").status_code == 200


def test_counters_live_in_redis_when_it_is_the_cache(require_redis, rates, settings):
    """Every web process shares the counts: they are in the shared cache, not in memory."""
    import redis

    prefix = f"portal-test-throttle-{time.time_ns()}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": settings.REDIS_URL,
            "KEY_PREFIX": prefix,
        }
    }
    rates(user="2/min")
    user = UserFactory()
    for _ in range(2):
        assert api(user).get("/api/v1/me/").status_code == 200
    assert_throttled(api(user).get("/api/v1/me/"))
    server = redis.Redis.from_url(settings.REDIS_URL)
    keys = server.keys(f"{prefix}:*throttle_user_{user.pk}")
    assert keys
    server.delete(*server.keys(f"{prefix}:*"))


# --- Sign-in limits (allauth) ----------------------------------------------------------------


@pytest.fixture
def login_limits(settings):
    cache.clear()
    settings.ACCOUNT_RATE_LIMITS = ACCOUNT_RATE_LIMITS
    yield
    cache.clear()


def login(client, email, password):
    return client.post("/accounts/login/", {"login": email, "password": password})


def signed_in(response) -> bool:
    return response.status_code == 302 and "/accounts/login" not in response["Location"]


def test_sign_in_limits_count_the_proxy_aware_address(login_limits, settings, client):
    """Changing X-Forwarded-For (not trusted) does not get a guesser more attempts."""
    from django.test import Client

    settings.TRUSTED_PROXY_COUNT = 0
    victims = [UserFactory() for _ in range(12)]
    refused = 0
    for n, victim in enumerate(victims):
        guesser = Client(REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR=f"10.1.{n}.1")
        response = login(guesser, victim.email, "wrong password 1")
        refused += response.status_code == 429 or b"Too many" in response.content
    assert refused >= 2  # 10/m per address: the 11th and 12th failures are refused


def test_sign_in_limits_behind_a_proxy_count_each_client(login_limits, settings):
    """With one trusted proxy, two clients behind it are counted apart (not as the proxy), and a
    hop the guesser prepends does not make them a new client."""
    from django.test import Client

    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "192.0.2.1"
    victims = [UserFactory() for _ in range(11)]
    for n, victim in enumerate(victims[:10]):
        guesser = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=f"10.1.{n}.1, 1.1.1.1")
        assert not signed_in(login(guesser, victim.email, "wrong password 1"))
    again = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="10.9.9.9, 1.1.1.1")
    response = login(again, victims[10].email, PASSWORD)
    assert not signed_in(response)  # the guesser's address is spent, whatever it prepends
    neighbour = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="2.2.2.2")
    assert signed_in(login(neighbour, victims[10].email, PASSWORD))


def test_a_stranger_cannot_lock_the_owner_out_for_long(login_limits, monkeypatch):
    from django.test import Client

    owner = UserFactory()
    stranger = Client(REMOTE_ADDR="203.0.113.66")
    for _ in range(10):
        assert not signed_in(login(stranger, owner.email, "not the password 1"))
    owner_client = Client(REMOTE_ADDR="198.51.100.20")
    # Within the per-account window the account is protected, even from its owner...
    assert not signed_in(login(owner_client, owner.email, PASSWORD))
    # ...but the window is five minutes (injected clock), not an hour.
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 301)
    assert signed_in(login(owner_client, owner.email, PASSWORD))


def test_per_address_limits_are_stronger_than_per_account():
    """The policy in the settings: an address gets fewer failures per hour than it would need
    to keep many accounts locked; an account's own window is short."""
    from allauth.core.internal.ratelimit import parse_rates

    failed = parse_rates(ACCOUNT_RATE_LIMITS["login_failed"])
    per_ip = [r for r in failed if r.per == "ip"]
    per_key = [r for r in failed if r.per == "key"]
    assert per_key and max(r.duration for r in per_key) <= 5 * 60
    assert any(r.duration >= 3600 for r in per_ip)
    hourly = min(r.amount for r in per_ip if r.duration >= 3600)
    key = per_key[0]
    assert (
        hourly / key.amount <= 3600 / key.duration
    )  # one address cannot lock one account all hour

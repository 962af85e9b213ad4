"""Differentially private releases: the noise's scale is the one the stated epsilon calls for
(the OpenDP mechanism's privacy map, and the spread of its samples), the budget per release
and in total is recorded and enforced (a release past the total is refused), a DP release's
rows and columns do not depend on who applied, and a bad epsilon is a clear 400."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import User
from audit.models import AuditEvent
from core.errors import InvalidInput, WrongState
from opendata import actions, noise, signing, tables
from opendata.models import Release
from tests.factories import CaseFactory, api_for


@pytest.mark.parametrize("epsilon", ["0.1", "0.5", "1", "2.5"])
def test_the_mechanism_spends_exactly_the_stated_epsilon(epsilon: str) -> None:
    eps = Decimal(epsilon)
    mech = noise.measurement(3, eps)
    assert noise.scale_for(eps) == noise.SENSITIVITY / float(eps)
    spent = mech.map(noise.SENSITIVITY)
    assert float(eps) * 0.999 <= spent <= float(eps) * (1 + 1e-9)


def test_the_noise_has_the_spread_of_its_scale() -> None:
    """Discrete Laplace of scale b: P(x) is proportional to exp(-|x|/b), variance
    2q/(1-q)^2 with q = exp(-1/b). 60,000 draws estimate it within 1.3% (one standard error);
    the test allows 6%."""
    eps = Decimal("2")
    b = noise.scale_for(eps)
    draws = noise.measurement(60_000, eps)([0] * 60_000)
    mean = sum(draws) / len(draws)
    variance = sum((x - mean) ** 2 for x in draws) / (len(draws) - 1)
    q = math.exp(-1 / b)
    expected = 2 * q / (1 - q) ** 2
    assert abs(mean) < 0.1 * b
    assert abs(variance / expected - 1) < 0.06, (variance, expected)
    # The scale a twice larger epsilon gives is half as wide.
    narrower = noise.measurement(60_000, eps * 2)([0] * 60_000)
    assert sum(abs(x) for x in narrower) < 0.6 * sum(abs(x) for x in draws)


@pytest.fixture
def month(demo, settings):
    settings.OPENDATA_EPSILON_TOTAL = "1.5"
    settings.OPENDATA_DISTRICTS = ["北京市东城区", "上海市黄浦区"]
    for _ in range(3):
        CaseFactory(approved=True)
    now = timezone.now()
    period = timezone.localdate(now).replace(day=1)
    _start, end = tables.month_bounds(period)
    return period, end + dt.timedelta(hours=1)


@pytest.mark.django_db
def test_a_dp_release_records_its_budget_and_the_total_is_enforced(month) -> None:
    period, later = month
    supervisor = User.objects.get(email="supervisor@demo.gov")
    release = actions.release_publish(
        period=period, actor=supervisor, epsilon=Decimal("1"), now=later
    )
    dp = release.document["differential_privacy"]
    assert release.epsilon == Decimal("1")
    assert dp["epsilon"] == "1" and dp["scale"] == noise.SENSITIVITY / 1.0
    assert dp["budget_total"] == "1.5" and dp["budget_spent_after"] == "1"
    assert signing.verify(release.document, signing.current_key()[1])
    assert AuditEvent.objects.get(action="opendata.publish").details["epsilon"] == "1"
    # Another month, spending more than the 0.5 left: refused, nothing written.
    earlier = (period - dt.timedelta(days=1)).replace(day=1)
    with pytest.raises(WrongState):
        actions.release_publish(period=earlier, actor=supervisor, epsilon=Decimal("0.6"))
    assert Release.objects.count() == 1
    actions.release_publish(period=earlier, actor=supervisor, epsilon=Decimal("0.5"))
    assert actions.budget_spent() == Decimal("1.5")
    # Exact releases spend nothing and stay possible.
    even_earlier = (earlier - dt.timedelta(days=1)).replace(day=1)
    actions.release_publish(period=even_earlier, actor=supervisor)
    assert actions.budget_spent() == Decimal("1.5")


def _publish_with_noise(period, later) -> Release:
    """The administrator publishes the month with noise (epsilon 0.5)."""
    return actions.release_publish(
        period=period,
        actor=User.objects.get(email="admin@demo.gov"),
        epsilon=Decimal("0.5"),
        now=later,
    )


@pytest.mark.django_db
def test_a_dp_release_frame_does_not_depend_on_who_applied(month) -> None:
    period, later = month
    release = _publish_with_noise(period, later)
    by_name = {t["name"]: t for t in release.document["tables"]}
    applications = by_name["applications_by_service_district"]
    # Every published service, with applications or not; the public districts and "other".
    assert len(applications["rows"]) > 1
    assert [c["key"] for c in applications["columns"]] == ["北京市东城区", "上海市黄浦区", "_other"]
    outcome = by_name["decisions_by_department_outcome"]
    assert len(outcome["rows"]) > 1  # every active department
    for table in release.document["tables"]:
        for row in table["cells"]:
            assert all(v is None or v >= 0 for v in row)


@pytest.mark.parametrize(
    "raw", ["-1", "0", "abc", "NaN", "inf", "0.00001", "1e400", True, ["1"], {"a": 1}]
)
def test_a_bad_epsilon_is_refused(raw) -> None:
    with pytest.raises(InvalidInput):
        actions.parse_epsilon(raw)


@pytest.mark.django_db
@pytest.mark.parametrize("epsilon", ["-1", "abc", "NaN", "0.00001", "1e400"])
def test_a_bad_epsilon_is_a_clear_400_through_the_api(demo, epsilon) -> None:
    response = api_for("admin@demo.gov").post(
        "/api/v1/open-data/publish/", {"month": "2026-01", "epsilon": epsilon}, format="json"
    )
    assert response.status_code == 400, response.content
    assert "epsilon" in response.json()["errors"]
    assert Release.objects.count() == 0


@pytest.mark.django_db
def test_the_page_says_the_counts_have_noise(month, client) -> None:
    period, later = month
    release = _publish_with_noise(period, later)
    page = client.get(f"/open-data/{release.version}/").content.decode()
    assert "Differential privacy" in page and "ε = 0.5" in page

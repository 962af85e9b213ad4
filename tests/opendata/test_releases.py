"""Open statistics: a release counts the month's applications and decisions, is signed (a
tampered copy fails), immutable (the model and the database refuse changes), audited, served
to anyone, published only by supervisors and administrators, and bad input is a clear 400."""

from __future__ import annotations

import copy
import csv
import datetime as dt
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from accounts.models import User
from audit.models import AuditEvent
from opendata import actions, signing, tables, tasks
from opendata.models import Release, ReleaseImmutable
from tests.factories import CaseFactory, api_for
from workflows.models import Case

pytestmark = pytest.mark.django_db


def _next_month(now: dt.datetime) -> dt.datetime:
    _start, end = tables.month_bounds(timezone.localdate(now).replace(day=1))
    return end + dt.timedelta(hours=1)


@pytest.fixture
def month(demo, settings):
    """This month's applications and decisions, and an instant after the month ended."""
    settings.OPENDATA_DISTRICTS = ["北京市东城区", "上海市黄浦区"]
    for _ in range(12):
        CaseFactory(approved=True)
    for _ in range(3):
        CaseFactory(rejected=True)
    now = timezone.now()
    return timezone.localdate(now).replace(day=1), _next_month(now)


def _publish(period, later, who="supervisor@demo.gov") -> Release:
    return actions.release_publish(period=period, actor=User.objects.get(email=who), now=later)


def test_a_release_counts_the_month_and_withholds_the_small_cells(month) -> None:
    period, later = month
    release = _publish(period, later)
    doc = release.document
    assert doc["period"] == f"{period:%Y-%m}" and release.version == 1
    by_name = {t["name"]: t for t in doc["tables"]}
    applications = by_name["applications_by_service_district"]
    # 15 moving-house applications, all from 北京市东城区: one cell of 15, nothing withheld.
    assert [r["key"] for r in applications["rows"]] == ["moving-house"]
    assert applications["columns"][0]["key"] == "北京市东城区"
    assert applications["cells"][0][0] == 15 and applications["total"] == 15
    outcome = by_name["decisions_by_department_outcome"]
    # Tax: 12 approved, 3 rejected: the 3 is withheld, and so is enough else to hide it.
    assert outcome["total"] == 15
    row = outcome["rows"].index(next(r for r in outcome["rows"] if r["key"] == "tax"))
    assert outcome["cells"][row][1] is None
    assert outcome["cells"][row][0] is None or outcome["row_totals"][row] is None


def test_the_signature_verifies_and_a_tampered_copy_fails(month) -> None:
    period, later = month
    release = _publish(period, later)
    kid, public = signing.current_key()
    doc = json.loads(json.dumps(release.document))  # as downloaded
    assert doc["key_id"] == kid and doc["public_key"] == public
    assert signing.verify(doc, public)
    tampered = copy.deepcopy(doc)
    tampered["tables"][0]["cells"][0][0] += 1
    assert not signing.verify(tampered, public)
    assert not signing.verify(doc | {"signature": "not base64!"}, public)
    assert not signing.verify(doc, "AAAA")


def test_the_downloaded_json_verifies(month, client) -> None:
    period, later = month
    release = _publish(period, later)
    response = client.get(f"/open-data/{release.version}.json")
    assert response.status_code == 200
    doc = json.loads(response.content)
    assert signing.verify(doc, signing.public_keys()[doc["key_id"]])


def test_a_release_is_recorded_in_the_audit_log(month) -> None:
    period, later = month
    release = _publish(period, later)
    event = AuditEvent.objects.get(action="opendata.publish")
    assert event.actor.email == "supervisor@demo.gov"
    assert event.target_ref == f"v{release.version}"
    assert event.details["digest"] == release.digest


def test_a_release_cannot_be_changed_or_removed(month) -> None:
    period, later = month
    release = _publish(period, later)
    release.threshold_k = 1
    with pytest.raises(ReleaseImmutable):
        release.save()
    with pytest.raises(ReleaseImmutable):
        release.delete()
    for statement in (
        "UPDATE opendata_release SET threshold_k = 1",
        "DELETE FROM opendata_release",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    with pytest.raises(DatabaseError), transaction.atomic():
        Release.objects.filter(pk=release.pk).update(threshold_k=1)
    assert Release.objects.get().threshold_k == 10


def test_a_month_is_published_once_and_only_once_it_ended(month) -> None:
    period, later = month
    _publish(period, later)
    with pytest.raises(actions.WrongState):
        _publish(period, later)
    with pytest.raises(actions.InvalidInput):
        _publish(period, later - dt.timedelta(days=3))  # the month has not ended then
    assert Release.objects.count() == 1
    assert AuditEvent.objects.filter(action="opendata.publish").count() == 1


def test_supervisors_publish_through_the_api_and_others_cannot(demo) -> None:
    last_month = (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    month = f"{last_month:%Y-%m}"
    for who in ("citizen@demo.gov", "clerk.tax@demo.gov", "lead.tax@demo.gov"):
        response = api_for(who).post("/api/v1/open-data/publish/", {"month": month}, format="json")
        assert response.status_code == 403
    response = api_for("supervisor@demo.gov").post(
        "/api/v1/open-data/publish/", {"month": month}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["document"]["period"] == month
    again = api_for("admin@demo.gov").post(
        "/api/v1/open-data/publish/", {"month": month}, format="json"
    )
    assert again.status_code == 409
    assert Release.objects.count() == 1


@pytest.mark.parametrize(
    "body",
    [
        {"month": "2026-13"},
        {"month": "26-01"},
        {"month": "2026-01-01"},
        {"month": "２０２６-01"},  # noqa: RUF001
        {"month": ""},
        {},
        {"month": ["2026-01"]},
        {"month": "9999-12"},
    ],
)
def test_bad_input_is_a_clear_400(demo, body) -> None:
    response = api_for("admin@demo.gov").post("/api/v1/open-data/publish/", body, format="json")
    assert response.status_code == 400, response.content
    assert Release.objects.count() == 0


def test_the_pages_and_the_api_are_public(month, client) -> None:
    period, later = month
    release = _publish(period, later)
    for url in (
        "/open-data/",
        f"/open-data/{release.version}/",
        f"/open-data/{release.version}.csv",
        "/api/v1/open-data/",
        f"/api/v1/open-data/{release.version}/",
        "/api/v1/open-data/keys/",
    ):
        assert client.get(url).status_code == 200, url
    assert client.get("/open-data/99/").status_code == 404
    assert client.get("/api/v1/open-data/99/").status_code == 404
    csv = client.get(f"/open-data/{release.version}.csv").content.decode()
    assert release.signature in csv and release.digest in csv


def test_the_command_publishes_as_a_supervisor(demo) -> None:
    last = (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    call_command("publish_open_data", "--month", f"{last:%Y-%m}", "--as", "supervisor@demo.gov")
    assert Release.objects.get().period == last
    with pytest.raises(CommandError):
        call_command("publish_open_data", "--as", "clerk.tax@demo.gov")
    with pytest.raises(CommandError):
        call_command("publish_open_data", "--month", "2026-99", "--as", "admin@demo.gov")


def test_beat_publishes_the_month_that_ended_once_when_enabled(demo, settings) -> None:
    settings.OPENDATA_PUBLISH_MONTHLY = False
    assert tasks.publish_previous_month() is None
    assert Release.objects.count() == 0
    settings.OPENDATA_PUBLISH_MONTHLY = True
    assert tasks.publish_previous_month() == 1
    assert tasks.publish_previous_month() is None  # safe to run twice
    release = Release.objects.get()
    assert release.period == tasks.previous_month(timezone.localdate())
    event = AuditEvent.objects.get(action="opendata.publish")
    assert event.actor is None and event.actor_role == "system"


def test_the_list_reads_a_fixed_number_of_queries(demo, client, django_assert_max_num_queries):
    supervisor = User.objects.get(email="supervisor@demo.gov")
    month = timezone.localdate().replace(day=1)
    for _ in range(4):
        month = (month - dt.timedelta(days=1)).replace(day=1)
        actions.release_publish(period=month, actor=supervisor)
    with django_assert_max_num_queries(3):
        assert client.get("/api/v1/open-data/").json()["count"] == 4
    with django_assert_max_num_queries(3):
        assert client.get("/open-data/").status_code == 200


def test_processing_time_runs_from_the_case_opening_not_its_creation(month) -> None:
    """A case that waited 40 days pending behind an earlier step, then was decided a day
    after it opened, took 1 day; a case never marked opened falls back to its creation."""
    period, _later = month
    waited, plain = CaseFactory(approved=True), CaseFactory(approved=True)
    waited.refresh_from_db()
    Case.objects.filter(pk=waited.pk).update(
        created_at=waited.decided_at - dt.timedelta(days=40),
        opened_at=waited.decided_at - dt.timedelta(days=1),
    )
    plain.refresh_from_db()
    Case.objects.filter(pk=plain.pk).update(
        created_at=plain.decided_at - dt.timedelta(days=20), opened_at=None
    )
    timing = {t.name: t for t in tables.count(period, 10)}["processing_time_by_department"]
    assert timing.counts[("tax", "31+")] == 0
    assert timing.counts[("tax", "15-30")] == 1  # the one never opened: from its creation
    assert timing.counts[("tax", "0-2")] == 16  # the month's 15 and the one that waited


def test_the_csv_neutralises_a_cell_a_spreadsheet_would_read_as_a_formula(
    month, client, settings
) -> None:
    period, later = month
    settings.OPENDATA_DISTRICTS = ["北京市东城区", '=HYPERLINK("http://evil/")', "-2+3"]
    release = _publish(period, later)
    lines = list(csv.reader(io.StringIO(client.get(f"/open-data/{release.version}.csv").text)))
    columns = {line[2] for line in lines if line[0] == "applications_by_service_district"}
    assert """'=HYPERLINK("http://evil/")""" in columns and "'-2+3" in columns
    assert not any(cell.startswith(("=", "-", "+", "@")) for line in lines for cell in line)
    # The counts themselves are numbers and left as they are.
    assert ["applications_by_service_district", "moving-house", "北京市东城区", "15"] in lines

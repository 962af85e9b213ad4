"""Rejecting a case is irreversible, so the workbench asks on a page of its own: GET shows the
case and asks for the reason, POST rejects. Refusals change nothing: a reader who may not
decide (403), another department (404), an empty reason, a case already closed."""

import pytest

from accounts.models import User
from audit.models import AuditEvent
from tests.factories import CaseFactory
from workflows.models import Case

pytestmark = pytest.mark.django_db


def _user(email):
    return User.objects.get(email=email)


def test_the_case_page_links_to_the_reject_page_instead_of_rejecting(tax_case, client):
    client.force_login(_user("clerk.tax@demo.gov"))
    page = client.get(f"/workbench/cases/{tax_case.reference}/").content.decode()
    assert f'href="/workbench/cases/{tax_case.reference}/reject/"' in page
    assert f'action="/workbench/cases/{tax_case.reference}/reject/"' not in page


def test_reject_asks_for_the_reason_then_rejects(tax_case, client):
    client.force_login(_user("clerk.tax@demo.gov"))
    url = f"/workbench/cases/{tax_case.reference}/reject/"
    page = client.get(url).content.decode()
    assert f"Reject case {tax_case.reference}?" in page and "Yes, reject this case" in page
    assert Case.objects.get(pk=tax_case.pk).status == "open"
    response = client.post(url, {"reason": "The tax number does not exist."})
    assert response["Location"] == f"/workbench/cases/{tax_case.reference}/"
    case = Case.objects.get(pk=tax_case.pk)
    assert case.status == "rejected"
    assert AuditEvent.objects.filter(action="case.reject").count() == 1
    again = client.get(url).content.decode()
    assert "This case cannot be rejected" in again and "Yes, reject" not in again


def test_an_empty_reason_is_an_error_on_the_page_and_nothing_changes(tax_case, client):
    client.force_login(_user("clerk.tax@demo.gov"))
    response = client.post(f"/workbench/cases/{tax_case.reference}/reject/", {"reason": "  "})
    body = response.content.decode()
    assert response.status_code == 400
    assert body.index('class="error-summary"') < body.index("<h1>")
    assert "<title>Error: Reject case" in body
    assert 'href="#reason"' in body and "Give the reason for the rejection." in body
    assert 'aria-describedby="reason-hint reason-error"' in body
    assert Case.objects.get(pk=tax_case.pk).status == "open"
    assert not AuditEvent.objects.filter(action="case.reject").exists()


def test_a_closed_case_is_not_rejected_again(demo, client):
    case = CaseFactory(step="tax", approved=True)
    client.force_login(_user("clerk.tax@demo.gov"))
    response = client.post(f"/workbench/cases/{case.reference}/reject/", {"reason": "Late."})
    assert response.status_code == 409
    assert "already closed" in response.content.decode()
    assert Case.objects.get(pk=case.pk).status == "approved"


@pytest.mark.parametrize(
    ("email", "status"),
    [("supervisor@demo.gov", 403), ("clerk.transport@demo.gov", 404), ("citizen@demo.gov", 404)],
)
def test_only_the_departments_staff_may_reject(tax_case, client, email, status):
    client.force_login(_user(email))
    url = f"/workbench/cases/{tax_case.reference}/reject/"
    assert client.get(url).status_code == status
    assert client.post(url, {"reason": "Not mine to decide."}).status_code == status
    assert Case.objects.get(pk=tax_case.pk).status == "open"

"""The API does what its OpenAPI schema says: schemathesis, a real HTTP client, against a live
server on PostgreSQL, as a citizen, a clerk and a supervisor.

Every operation of /api/schema/ is called with examples, boundary values and fuzzed data, valid
and invalid (`mode = "all"`), and every check schemathesis has must pass: no 500, only documented
status codes and content types, responses that match their schema, invalid input refused, valid
input accepted, no access without authentication. The path references are drawn mostly from the
caller's own applications or cases (made by the real actions), so the operations reach their
objects, not only their 404. Bounded and deterministic: a fixed number of examples per operation
and a fixed seed; no stateful phase.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

SEED = 20261202
MAX_EXAMPLES = int(os.environ.get("CONTRACT_MAX_EXAMPLES", "12"))
ST = Path(sys.executable).with_name("st")


def _token(email: str) -> str:
    out = StringIO()
    call_command("issue_token", email, stdout=out)
    return out.getvalue().strip().splitlines()[-1]


def seed_contract_data() -> dict[str, dict]:
    """Demo catalog and accounts, and through the real actions: the citizen's drafts and routed
    applications (one with a question from the tax office), and tax cases in every state a clerk
    acts on. Returns, per role, its token and the references its operations should reach."""
    from accounts.selectors import user_by_email
    from services import actions as services_actions
    from services.models import Application
    from services.selectors import versions_published_for
    from tests.factories import submit_moving
    from workflows import actions as workflow_actions
    from workflows import routing
    from workflows.models import Case

    call_command("seed_demo", stdout=StringIO())

    citizen = user_by_email(email="citizen@demo.gov")
    citizen2 = user_by_email(email="citizen2@demo.gov")
    clerk = user_by_email(email="clerk.tax@demo.gov")

    submitted = [submit_moving(citizen=citizen), submit_moving(citizen=citizen, vehicle=True)]
    submitted += [submit_moving(citizen=citizen2) for _ in range(3)]
    for application in submitted:
        routing.advance(application_id=application.pk)
    tax = list(Case.objects.filter(step="tax").order_by("id"))
    workflow_actions.case_claim(case=tax[0], actor=clerk)
    workflow_actions.case_request_info(
        case=tax[0], actor=clerk, message="Please confirm the date of your move."
    )
    workflow_actions.case_claim(case=tax[1], actor=clerk)
    workflow_actions.case_claim(case=tax[2], actor=clerk)
    workflow_actions.case_approve(case=tax[2], actor=clerk, note="")

    for slugs in (["newborn"], ["moving-house", "start-business"]):
        services_actions.application_create(
            citizen=citizen, versions=versions_published_for(slugs=slugs), answers={}
        )
    mine = list(Application.objects.filter(citizen=citizen).values_list("reference", flat=True))
    return {
        "citizen": {"token": _token(citizen.email), "references": sorted(set(mine))},
        "clerk": {"token": _token(clerk.email), "references": [c.reference for c in tax]},
        "supervisor": {
            "token": _token("supervisor@demo.gov"),
            "references": [a.reference for a in submitted],
        },
    }


# Operations whose valid input depends on data a static schema cannot hold: the published
# catalog (service slugs, each service's form and its file fields), the data dictionary (profile
# facts), the application's own cases. A body that matches the schema may still be refused
# there with a 400 field error, which these operations document; every other check still holds.
CATALOG_RULES = [
    ("POST", "^/api/v1/applications/$"),
    ("PATCH", r"^/api/v1/applications/\{reference\}/$"),
    ("POST", r"^/api/v1/applications/\{reference\}/(submit|attachments|reply)/$"),
    ("PATCH", "^/api/v1/me/profile/$"),
]


def config_toml(*, token: str, references: list[str]) -> str:
    """schemathesis.toml for one caller: its token, its references, the bounds."""
    refs = ", ".join(f'"{r}"' for r in references)
    rules = "".join(
        f"""
[[operations]]
include-method = "{method}"
include-path-regex = '{path}'
checks.positive_data_acceptance.expected-statuses = ["2xx", 400, 401, 403, 404, 409]
"""
        for method, path in CATALOG_RULES
    )
    return f"""\
seed = {SEED}
workers = 1
request-timeout = 30
continue-on-failure = true
headers = {{ Authorization = "Token {token}" }}

[generation]
mode = "all"
max-examples = {MAX_EXAMPLES}
database = "none"

[phases.stateful]
enabled = false

[dictionaries.references]
values = [{refs}]

[parameters]
"path.reference" = {{ dictionary = "references", probability = 0.8 }}
{rules}"""


def run_schemathesis(
    schema_url: str, *, token: str, references: list[str], workdir: Path, extra=()
) -> subprocess.CompletedProcess:
    config = workdir / "schemathesis.toml"
    config.write_text(config_toml(token=token, references=references))
    return subprocess.run(
        [
            str(ST),
            "--config-file",
            str(config),
            "run",
            schema_url,
            "--checks",
            "all",
            "--phases",
            "examples,coverage,fuzzing",
            "--no-color",
            *extra,
        ],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


ROLES = {
    # role: the operations it runs (a regex on the path), or every operation
    "citizen": None,
    "clerk": None,
    "supervisor": r"^/api/v1/(audit|me)/",
}


@pytest.fixture
def loopback_server(transactional_db) -> Iterator[str]:
    """A live server on 127.0.0.1 only (the shared `live_server` binds `localhost`)."""
    from pytest_django.live_server_helper import LiveServer

    server = LiveServer("127.0.0.1:0")
    server._live_server_modified_settings.enable()
    try:
        yield server.url
    finally:
        server._live_server_modified_settings.disable()
        server.stop()


@pytest.mark.first  # minutes long: a parallel run starts it first (tests/conftest.py)
@pytest.mark.timeout(900)
def test_the_api_does_what_its_schema_says(require_postgres, loopback_server, tmp_path):
    data = seed_contract_data()
    schema_url = f"{loopback_server}/api/schema/?format=json"
    assert schema_url.startswith("http://127.0.0.1:")
    failed = []
    for role, paths in ROLES.items():
        workdir = tmp_path / role
        workdir.mkdir()
        done = run_schemathesis(
            schema_url,
            token=data[role]["token"],
            references=data[role]["references"],
            workdir=workdir,
            extra=(
                # Revoking tokens would revoke the caller's own credential half way through
                # the run (every later call a 401); tests/accounts/test_api_tokens.py covers them.
                "--exclude-path-regex",
                "^/api/v1/me/tokens/",
                *(("--include-path-regex", paths) if paths else ()),
            ),
        )
        summary = done.stdout[-1500:]
        print(f"--- schemathesis as {role} (exit {done.returncode})\n{summary}")
        if done.returncode != 0:
            failed.append(f"as {role}:\n{done.stdout[-12000:]}\n{done.stderr[-3000:]}")
    assert not failed, "\n\n".join(failed)

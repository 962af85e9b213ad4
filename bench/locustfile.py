"""Journeys of the load test (`make load`, run by bench/load.py; not for a public host).

- Citizen: creates a moving-house application through the API, submits it, reads it back and
  lists their applications.
- Clerk: lists the department's unassigned open cases, opens one, claims it and approves it.
  Two clerks may pick the same case; the one who is second gets the documented 409, reported
  on a line of its own ("claim: another clerk was first"), not as an error.
- Supervisor: searches the audit log by action, by target and by time.
- BareStack (the baseline, run on its own): a bare DRF create (`POST /bench/notes/`) and the
  unscoped case page (`GET /bench/cases/`), same token authentication and think time.

Tokens come from the JSON file named by `BENCH_LOAD_DATA` (bench/load.py writes it).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import random
from pathlib import Path

from locust import HttpUser, between, task

from bench.scenarios._portal import CREATE_BODY

DATA = json.loads(Path(os.environ["BENCH_LOAD_DATA"]).read_text())
THINK = between(1.0, 3.0)  # seconds between two journeys of one user
UNASSIGNED_OPEN = "/api/v1/cases/?status=open&assignee=none&page_size=20"
SUBMISSIONS = "/api/v1/audit/events/?action=application.submit&page_size=50"


class _ApiUser(HttpUser):
    abstract = True
    wait_time = THINK
    tokens: itertools.cycle

    def on_start(self) -> None:
        self.client.headers["Authorization"] = f"Token {next(self.tokens)}"
        self.client.headers["Accept"] = "application/json"

    def _body(self, method: str, path: str, name: str, status: int = 200, **kwargs) -> dict | None:
        """The JSON body of a request answered with `status`; any other answer is reported as a
        failure (with the start of its body) and gives None."""
        with self.client.request(
            method, path, name=name, catch_response=True, **kwargs
        ) as response:
            if response.status_code != status:
                response.failure(f"{response.status_code}: {response.text[:200]}")
                return None
            return response.json()

    def _results(self, path: str, name: str) -> list | None:
        """The results of a list page (`_body` of a GET)."""
        page = self._body("GET", path, name)
        return None if page is None else page["results"]


class Citizen(_ApiUser):
    weight = 60
    tokens = itertools.cycle(DATA["citizens"])

    @task
    def apply(self) -> None:
        created = self._body(
            "POST", "/api/v1/applications/", "citizen: create", status=201, json=CREATE_BODY
        )
        if created is None:
            return
        reference = created["reference"]
        with self.client.post(
            f"/api/v1/applications/{reference}/submit/",
            name="citizen: submit",
            catch_response=True,
        ) as response:
            if response.status_code != 200 or response.json().get("status") != "submitted":
                response.failure(f"{response.status_code}: {response.text[:200]}")
                return
        self.client.get(f"/api/v1/applications/{reference}/", name="citizen: read application")
        self.client.get("/api/v1/applications/", name="citizen: list applications")


class Clerk(_ApiUser):
    weight = 30
    tokens = itertools.cycle(DATA["clerks"])

    @task
    def work(self) -> None:
        cases = self._results(UNASSIGNED_OPEN, "clerk: inbox (unassigned open)")
        if not cases:
            return
        reference = random.choice(cases)["reference"]
        self.client.get(f"/api/v1/cases/{reference}/", name="clerk: open case")
        with self.client.post(
            f"/api/v1/cases/{reference}/claim/", name="clerk: claim", catch_response=True
        ) as response:
            if response.status_code == 409:
                # Another clerk claimed it between the inbox and this click: the documented answer.
                response.request_meta["name"] = "clerk: claim: another clerk was first (409)"
                response.success()
                return
            if response.status_code != 200:
                response.failure(f"{response.status_code}: {response.text[:200]}")
                return
        self.client.post(
            f"/api/v1/cases/{reference}/approve/",
            json={"note": "Checked against the register."},
            name="clerk: approve",
        )


class Supervisor(_ApiUser):
    weight = 10
    tokens = itertools.cycle(DATA["supervisors"])

    @task
    def search(self) -> None:
        events = self._results(SUBMISSIONS, "supervisor: audit by action")
        if events is None:
            return
        if events:
            target = random.choice(events)["target"]
            self.client.get(
                f"/api/v1/audit/events/?target={target}", name="supervisor: audit by target"
            )
        since = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.client.get(
            f"/api/v1/audit/events/?since={since}&page_size=50",
            name="supervisor: audit since 2 min",
        )


class BareStack(_ApiUser):
    """The baseline: the same users and think time against the bare stack."""

    tokens = itertools.cycle(DATA["citizens"])

    @task
    def bare(self) -> None:
        self.client.post("/bench/notes/", json={"text": "a note"}, name="baseline: bare create")
        self.client.get(
            "/bench/cases/?status=open&assignee=none&page_size=20",
            name="baseline: unscoped case page",
        )

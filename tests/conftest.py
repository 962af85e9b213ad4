"""The suite's root conftest: the fixtures plugin, the service rule and parallel scheduling.

Fixtures are in `tests/fixtures.py` (one plugin, registered here), helpers in
`tests/support.py`, data in `tests/data.py`, factories in `tests/factories.py`: see
docs/testing.md.

With REQUIRE_SERVICES=1 (CI), a test that needs PostgreSQL, Redis, a worker or Chromium fails
instead of skipping, and any skipped test fails the run.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings as hypothesis_settings

from tests.support import REQUIRE_SERVICES

pytest_plugins = ["tests.fixtures"]

# Property tests share two cores with a worker, a browser and the database: no per-example
# deadline (a slow example is not a failure), the same number of examples everywhere.
hypothesis_settings.register_profile("portal", deadline=None)
hypothesis_settings.load_profile("portal")

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make
# between browser steps are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

_skipped: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if REQUIRE_SERVICES and _skipped and not hasattr(session.config, "workerinput"):
        print(f"\nREQUIRE_SERVICES=1: {len(_skipped)} test(s) were skipped, which is a failure:")
        for nodeid in _skipped:
            print(f"  {nodeid}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


# --- Parallel runs (pytest-xdist) ---------------------------------------------------------------


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `first` (the suite's longest: minutes, not seconds) go first, so a parallel
    run starts them at once instead of waiting for them at its end. The rest keep their order."""
    items.sort(key=lambda item: item.get_closest_marker("first") is None)


def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """`-n N` schedules with work stealing: a process that runs out of tests takes half of the
    tests still queued for a busy one. xdist's default (`load`) hands each process batches up
    front, and the tests queued behind a long test wait for it while the other process idles."""
    if config.getoption("dist") == "load":
        from xdist.scheduler import WorkStealingScheduling

        return WorkStealingScheduling(config, log)
    return None

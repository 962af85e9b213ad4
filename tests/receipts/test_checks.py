"""The deployment check warns when the PDFs cannot be drawn to the same bytes twice."""

from __future__ import annotations

from django.core import checks as django_checks

from receipts import checks


def test_a_missing_font_subsetter_is_a_deployment_warning(monkeypatch):
    monkeypatch.setattr(checks, "subsetter_found", lambda: False)
    found = django_checks.run_checks(include_deployment_checks=True, tags=None)
    ours = [w for w in found if w.id.startswith("receipts.")]
    assert [w.id for w in ours] == ["receipts.W001"]
    assert "libharfbuzz-subset0" in ours[0].hint


def test_the_check_runs_only_for_a_deployment(monkeypatch):
    monkeypatch.setattr(checks, "subsetter_found", lambda: False)
    assert not [w for w in django_checks.run_checks() if w.id.startswith("receipts.")]


def test_an_installed_subsetter_is_found_here():
    # make pdf-fonts installs it wherever the tests run.
    assert checks.subsetter_found()

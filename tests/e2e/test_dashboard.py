"""Browser walk of the dashboards: a supervisor (the whole city) and a lead (their department),
in Simplified Chinese and in English: charts load as images beside their tables, axe finds no
WCAG 2.1 A/AA violation, a figure drills down to the inbox, a table downloads as CSV, the page
works without JavaScript, and with JavaScript its figures come up to date without a reload."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.inventory import LANGUAGES, PAGES
from tests.e2e.walk import open_page

pytestmark = [pytest.mark.services, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture(autouse=True)
def _fresh_catalog_names():
    from oversight import selectors

    selectors.forget_catalog()


def _page(role: str):
    return next(p for p in PAGES if p.name == "oversight:dashboard" and p.role == role)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("role", ["supervisor", "lead"])
def test_dashboard_walk(role, language, browser, live_server, walk_world):
    from axe_playwright_python.sync_playwright import Axe

    context, tab = open_page(browser, live_server.url, walk_world, _page(role), language)
    try:
        assert tab.locator("html").get_attribute("lang") == language
        tables = tab.locator("main table")
        assert tables.count() == 6
        charts = tab.locator("img.chart")
        assert charts.count() == 6
        # Locator assertions, not `wait_for_function`: its polling evaluates a string, which the
        # portal's Content Security Policy (no 'unsafe-eval') refuses.
        for i in range(charts.count()):
            expect(charts.nth(i)).to_have_js_property("complete", True)
            assert charts.nth(i).evaluate("img => img.naturalWidth") > 0
        results = Axe().run(
            tab,
            options={
                "runOnly": {"type": "tag", "values": WCAG_TAGS},
                "resultTypes": ["violations"],
            },
        )
        assert results.response["violations"] == [], results.generate_report()
        with tab.expect_download() as download:
            tab.locator("a[href*='/dashboard/status.csv']").click()
        assert download.value.suggested_filename == "dashboard-status.csv"
        tab.locator("main table").first.locator("a").first.click()
        tab.wait_for_url("**/workbench/?**")
        assert "status=" in tab.url
    finally:
        context.close()


def test_dashboard_without_javascript(browser, live_server, walk_world):
    context, tab = open_page(
        browser, live_server.url, walk_world, _page("lead"), "en", javascript=False
    )
    try:
        assert tab.locator("main table caption").first.inner_text() == "Backlog by status"
        tab.get_by_label("Department", exact=True).select_option("tax")
        tab.get_by_role("button", name="Show").click()
        assert "department=tax" in tab.url
        assert tab.locator("main table").count() == 6
        response = tab.goto("/dashboard/?since=2026-02-30")
        assert response is not None and response.status == 400
        assert "Use a date written as YYYY-MM-DD" in tab.locator("main").inner_text()
    finally:
        context.close()


def test_figures_refresh_without_a_reload(browser, live_server, walk_world):
    """With JavaScript the page fetches itself again every 30 seconds (the browser's clock is
    moved on, not waited for) and shows the new figures in place."""
    from oversight.actions import summaries_refresh
    from tests.factories import ApplicationFactory

    page = _page("supervisor")
    context, tab = open_page(browser, live_server.url, walk_world, page, "en")
    try:
        tab.clock.install()  # the page's timers run on the test's clock from the next load
        tab.reload()
        tab.evaluate("window.__notReloaded = true")
        cell = tab.locator("#table-status-title ~ .figure-row tbody tr").nth(1).locator("td")
        before = int(cell.inner_text())
        ApplicationFactory(citizen=walk_world.citizen, routed=True)
        summaries_refresh()
        tab.clock.run_for(31_000)
        expect(cell).not_to_have_text(str(before))
        assert int(cell.inner_text()) > before
        assert tab.evaluate("window.__notReloaded") is True
    finally:
        context.close()

"""Browser journey: anyone opens the open statistics, in Simplified Chinese and in English,
follows a release to its tables, finds the withheld cells marked, downloads the signed JSON and
checks its signature with the public key the page shows; axe finds no WCAG 2.1 A/AA
violation on either page."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext

from accounts.models import User
from opendata import actions, signing, tables
from tests.factories import CaseFactory

pytestmark = [pytest.mark.services, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def _axe(tab) -> list[dict]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(
        tab,
        options={"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]},
    )
    return results.response["violations"]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_anyone_reads_a_release_and_checks_its_signature(demo, browser, live_server, language):
    for _ in range(11):
        CaseFactory(approved=True)
    CaseFactory(rejected=True)
    period = timezone.localdate().replace(day=1)
    _start, end = tables.month_bounds(period)
    release = actions.release_publish(
        period=period,
        actor=User.objects.get(email="supervisor@demo.gov"),
        now=end + dt.timedelta(hours=1),
    )
    context = browser.new_context(
        base_url=live_server.url,
        locale="zh-CN" if language == "zh-hans" else "en-GB",
        extra_http_headers={"Accept-Language": language},
        accept_downloads=True,
    )
    context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}]
    )
    with translation.override(language):  # the catalog's wording in that language
        title, all_releases = gettext("Open statistics"), gettext("All releases")
    tab = context.new_page()
    tab.set_default_timeout(20_000)
    try:
        tab.goto("/open-data/")
        assert tab.locator("html").get_attribute("lang") == language
        assert title in tab.locator("h1").inner_text()
        assert _axe(tab) == []
        tab.get_by_role("link", name=release.month, exact=True).click()
        tab.wait_for_url(f"**/open-data/{release.version}/")
        assert tab.get_by_role("link", name=all_releases).is_visible()
        # The one rejection is withheld, marked for every reader.
        assert tab.locator("table.figures abbr").count() >= 1
        assert _axe(tab) == []
        shown_key = tab.locator("dl.summary dd > code:not(.signature)").first.inner_text().strip()
        with tab.expect_download() as download:
            tab.locator(f"a[href='/open-data/{release.version}.json']").first.click()
        document = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    finally:
        context.close()
    assert shown_key == signing.public_keys()[document["key_id"]]
    assert signing.verify(document, shown_key)

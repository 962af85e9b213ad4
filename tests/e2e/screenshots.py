"""Screenshots of the main pages in both languages, for the README and docs/screenshots/.

Not a test (the file name keeps it out of the suite): `make screenshots` runs it through
tools/screenshots.py, on the test database and the demo data of the browser walks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.e2e.inventory import LANGUAGES, MAIN_PAGES, page
from tests.e2e.walk import page_params
from tests.support import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FOLDER = Path(os.environ.get("PORTAL_SCREENSHOTS", ROOT / "docs" / "screenshots"))


@pytest.mark.parametrize(
    ("page_", "language"), page_params([page(k) for k in MAIN_PAGES], LANGUAGES)
)
def test_screenshot(page_, language, walk_page):
    tab = walk_page(page_, language, viewport={"width": 1024, "height": 768})
    FOLDER.mkdir(parents=True, exist_ok=True)
    # The whole page, down to 2000px (a long audit log would make a file of megabytes).
    height = min(tab.evaluate("document.documentElement.scrollHeight"), 2000)
    tab.screenshot(
        path=str(FOLDER / f"{page_.id}-{language}.png"),
        full_page=True,
        clip={"x": 0, "y": 0, "width": 1024, "height": height},
    )

"""axe-core (axe-playwright-python, which ships axe-core itself: nothing is downloaded) finds no
WCAG 2.1 A or AA violation on any page of the inventory, for each role that opens it, in
Simplified Chinese and in English: the portal's pages, the sign-in pages, the admin site and the
API reference.

The English loads also check sentence case ("Check your answers", not "Check Your Answers") in
headings, buttons, links, labels and titles: capitalised words beyond the first of a sentence
must be names (people, departments, services) or abbreviations (`walk.PROPER`)."""

from __future__ import annotations

import pytest

from tests.e2e.inventory import LANGUAGES, PAGES
from tests.e2e.walk import (
    CONTROLS_SCRIPT,
    page_params,
    proper_nouns,
    title_case_words,
)

pytestmark = [pytest.mark.services, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def _describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"][:5]:
            lines.append(f"    {node['target']}: {node.get('failureSummary', '')[:300]}")
    return "\n".join(lines)


def _own_wording(page) -> bool:
    """The portal's own pages: the admin site speaks Django's wording ("Authentication and
    Authorization"), the API reference Swagger UI's."""
    return page.zh_walk and not page.name.startswith("admin:")


@pytest.mark.parametrize(("page", "language"), page_params(PAGES, LANGUAGES))
def test_no_wcag_violations(page, language, walk_world, walk_page):
    from axe_playwright_python.sync_playwright import Axe

    tab = walk_page(page, language)
    results = Axe().run(
        tab,
        options={
            "runOnly": {"type": "tag", "values": WCAG_TAGS},
            "resultTypes": ["violations"],
        },
    )
    texts = tab.evaluate(CONTROLS_SCRIPT) if language == "en" and _own_wording(page) else []
    violations = results.response["violations"]
    problems = [_describe(violations)] if violations else []
    proper = proper_nouns(walk_world) if texts else set()
    typed = walk_world.typed() if texts else set()
    title_case = [t for t in dict.fromkeys(texts) if title_case_words(t, proper, typed)]
    if title_case:
        problems.append("Title Case where sentence case belongs:\n    " + "\n    ".join(title_case))
    assert problems == [], f"{page.key} ({language}):\n" + "\n".join(problems)


def test_title_case_words():
    assert title_case_words("Check Your Answers", set()) == ["Your", "Answers"]
    assert title_case_words("Search by national ID", set()) == []
    assert title_case_words("Case of Tax Bureau", {"Tax", "Bureau"}) == []
    assert title_case_words("Error: Enter your name", set()) == []
    assert title_case_words("C-8UR6-HJ63 Waiting for you", set(), {"C-8UR6-HJ63"}) == []

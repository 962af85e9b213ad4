"""Opening an inventory page in the browser as its role and in a language (plain helpers; the
`world` fixture is in tests/fixtures.py, the pages in tests/e2e/inventory.py)."""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

from tests.e2e.inventory import Page, World


def session_cookie(role: str, world: World, live_server_url: str) -> list[dict]:
    """The session cookie of the role's demo account, signed in as allauth signs people in
    (password, and the TOTP code for staff) a moment ago, so pages that ask for a recent sign-in
    show themselves. The cookie is made on the server side: no sign-in form per page load."""
    from allauth.account.internal.flows.login import (
        _AUTHENTICATION_METHODS_USER_SESSION_KEY,
        AUTHENTICATION_METHODS_SESSION_KEY,
    )
    from django.conf import settings
    from django.test import Client

    user = world.user(role)
    client = Client()
    client.force_login(user, backend="allauth.account.auth_backends.AuthenticationBackend")
    session = client.session
    now = time.time()
    records = [{"method": "password", "at": now, "email": user.email, "reauthenticated": True}]
    if user.is_portal_staff:
        records.append({"method": "mfa", "at": now, "type": "totp", "reauthenticated": True})
    session[AUTHENTICATION_METHODS_SESSION_KEY] = records
    session[_AUTHENTICATION_METHODS_USER_SESSION_KEY] = str(user.pk)
    session.save()
    return [
        {
            "name": settings.SESSION_COOKIE_NAME,
            "value": session.session_key,
            "url": live_server_url,
        }
    ]


def open_page(
    browser,
    live_server_url: str,
    world: World,
    page: Page,
    language: str,
    *,
    viewport: dict | None = None,
    javascript: bool = True,
):
    """A new browser context in `language`, signed in as the page's role, on the page.
    Returns (context, browser page); the caller closes the context."""
    from django.conf import settings

    if page.role != "anonymous":
        user = world.user(page.role)
        if getattr(user, "language", None) != language and hasattr(user, "language"):
            user.language = language
            user.save(update_fields=["language"])
    url = page.url(world)  # makes the data the page needs before the browser asks for it
    context = browser.new_context(
        base_url=live_server_url,
        locale="zh-CN" if language == "zh-hans" else "en-GB",
        extra_http_headers={"Accept-Language": language},
        viewport=viewport or {"width": 1280, "height": 900},
        java_script_enabled=javascript,
    )
    cookies = [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server_url}]
    if page.role != "anonymous":
        cookies += session_cookie(page.role, world, live_server_url)
    context.add_cookies(cookies)
    tab = context.new_page()
    tab.set_default_timeout(20_000)
    response = tab.goto(url)
    if page.then is not None:
        page.then(tab, world)
    if page.ready is not None:
        tab.wait_for_selector(page.ready)
    expected = urlsplit(url).path
    if page.then is None:
        assert response is not None and response.status == 200, (
            f"{page.key}: {url} answered {response and response.status}"
        )
        assert urlsplit(tab.url).path == expected, f"{page.key}: {url} ended on {tab.url}"
    return context, tab


def page_params(pages, languages):
    """pytest parameters (page, language) with readable ids: `case-clerk-zh-hans`."""
    import pytest

    return [
        pytest.param(page, language, id=f"{page.key}-{language}")
        for page in pages
        for language in languages
    ]


# --- Sentence case (checked on the English loads of the axe walk) ------------------------------

# Words that keep their capital inside a sentence.
PROPER = {
    *["API", "APIs", "ID", "IDs", "TOTP", "JSON", "CSV", "PDF", "QR", "OpenAPI", "Swagger"],
    *["Django", "I", "JavaScript", "IP"],
    *["English", "Chinese", "Simplified", "Li", "Wei", "Zhang", "Min", "Beijing", "Shanghai"],
}
_WORDS = re.compile(r"[A-Za-z][A-Za-z'\u2019-]*")

# The short texts that name things: headings, buttons, links, labels, table headers, the title.
# Text in different elements inside one of them (a badge beside an email address, the hidden
# names of a toggle's states) is kept apart by " | ": each is a text of its own.
CONTROLS_SCRIPT = """() => Array.from(document.querySelectorAll(
  'h1, h2, h3, h4, button, a, label, legend, summary, th, input[type=submit], title'
)).filter(el => el.tagName === 'TITLE' || el.offsetParent !== null)
  .map(el => {
    if (el.matches('input')) return el.value;
    const parts = [];
    let last = null;
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const text = node.textContent.replace(/\\s+/g, ' ').trim();
      if (!text) continue;
      if (last !== null && node.parentElement !== last) parts.push('|');
      parts.push(text);
      last = node.parentElement;
    }
    return parts.join(' ');
  })
  .filter(Boolean)"""


def title_case_words(text: str, proper: set[str], typed: set[str] = frozenset()) -> list[str]:
    """Capitalised words after a sentence's first word that are not proper nouns, names or
    abbreviations ("Check Your Answers" → Your, Answers). A capital after a full stop, a colon
    or a dash starts a new sentence, and so does one after what people typed (a reference)."""
    for value in sorted(typed, key=len, reverse=True):
        text = text.replace(value, " | ")
    found = []
    for sentence in re.split(r"[.:!?\u2013\u2014]\s+|\s*[|\u201c\u201d\"()]\s*", text):
        words = _WORDS.findall(sentence)
        found += [w for w in words[1:] if w[0].isupper() and w not in proper and not w.isupper()]
    return found


def proper_nouns(world: World) -> set[str]:
    """PROPER, and every word of the names in the demo data (people, departments, services)."""
    from accounts.models import Department
    from services.models import Service

    names = world.typed() | set(Department.objects.values_list("name", flat=True))
    names |= set(Service.objects.values_list("name", flat=True))
    proper = set(PROPER)
    for name in names:
        proper |= set(_WORDS.findall(name))
    return proper

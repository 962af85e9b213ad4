"""The browser walks cover every page: each named URL pattern of the project is a page of the
inventory (tests/e2e/inventory.py) or is listed in its NOT_PAGES with the reason it is not one."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, get_resolver

from tests.e2e.inventory import NOT_PAGES, PAGES, ROLES


def _names(resolver: URLResolver, namespace: str = "") -> set[str]:
    names: set[str] = set()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}{entry.namespace}:"
            names |= _names(entry, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            names.add(f"{namespace}{entry.name}")
    return names


def test_every_named_url_is_a_page_or_said_not_to_be():
    names = _names(get_resolver())
    covered = {page.name for page in PAGES} | set(NOT_PAGES)
    assert sorted(names - covered) == [], "add these to PAGES or NOT_PAGES in inventory.py"
    assert sorted(covered - names) == [], "these names are no URL pattern of the project"
    assert not {page.name for page in PAGES} & set(NOT_PAGES)


def test_pages_are_unique_and_every_role_has_pages():
    keys = [page.key for page in PAGES]
    assert len(keys) == len(set(keys))
    assert {page.role for page in PAGES} == set(ROLES)
    assert all(reason.strip() for reason in NOT_PAGES.values())

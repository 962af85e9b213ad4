"""Catalog texts in the reader's language: one rule for every text an administrator writes.

A catalog row (a department, a service, a data-dictionary field, a choice of a field, a step of
a workflow) keeps its text in a base language and its other languages in `translations`:

    {"name": "Tax Bureau", "translations": {"zh-hans": {"name": "税务局"}}}

`translated(row, "name")` is the value in the active language: the translation of that
language when there is one, else the base value, else any translation (a row written only in
another language still shows something). The rule does not care which language the base is,
so a department written in Chinese with `{"en": {"name": …}}` works the same way. Rows are
model instances or plain dicts (choices and steps are JSON).

Pure: no database access, so every layer may use it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.utils.translation import get_language
from django.utils.translation import gettext as _


def normalise(language: str | None) -> str:
    """A language code as `LANGUAGES` spells it: lower case, hyphens (zh_Hans -> zh-hans)."""
    return (language or "").replace("_", "-").lower()


def active_language() -> str:
    return normalise(get_language() or settings.LANGUAGE_CODE)


def _get(row: Any, attr: str) -> Any:
    if isinstance(row, Mapping):
        return row.get(attr)
    return getattr(row, attr, None)


def translated(
    row: Any, attr: str, *, language: str | None = None, any_language: bool = True
) -> str:
    """The value of `attr` of `row` in `language` (default: the active one), with fallback;
    `any_language=False` stops at the base value (empty stays empty)."""
    code = normalise(language) if language else active_language()
    translations = _get(row, "translations") or {}
    if not isinstance(translations, Mapping):
        translations = {}
    by_code = {normalise(k): v for k, v in translations.items() if isinstance(v, Mapping)}
    for candidate in (code, code.split("-", 1)[0]):
        value = by_code.get(candidate, {}).get(attr)
        if isinstance(value, str) and value:
            return value
    base = _get(row, attr)
    if base:
        return str(base)
    if not any_language:
        return ""
    for texts in by_code.values():
        value = texts.get(attr)
        if isinstance(value, str) and value:
            return value
    return "" if base is None else str(base)


def all_values(row: Any, attrs: Iterable[str]) -> list[str]:
    """Every language's value of `attrs` (search looks in all of them, whatever the reader's
    language)."""
    values = []
    translations = _get(row, "translations") or {}
    for attr in attrs:
        base = _get(row, attr)
        if isinstance(base, str) and base:
            values.append(base)
        if isinstance(translations, Mapping):
            for texts in translations.values():
                if isinstance(texts, Mapping) and isinstance(texts.get(attr), str):
                    values.append(texts[attr])
    return values


def problems(translations: Any, *, attrs: Iterable[str], where: str) -> list[str]:
    """What is wrong with a `translations` value: not {language: {attr: text}}, a language the
    portal does not offer, a text for an attribute that has none. Empty when it is fine."""
    if translations is None or translations == {}:
        return []
    if not isinstance(translations, Mapping):
        return [_("%(where)s: translations are an object of languages.") % {"where": where}]
    languages = {normalise(code) for code, _name in settings.LANGUAGES}
    allowed = set(attrs)
    found = []
    for code, texts in translations.items():
        names = {"where": where, "language": code}
        if normalise(code) not in languages:
            found.append(_("%(where)s: translations: unknown language “%(language)s”.") % names)
        elif not isinstance(texts, Mapping):
            found.append(_("%(where)s: translations of “%(language)s” are an object.") % names)
        else:
            for attr, text in texts.items():
                names["text"] = attr
                if attr not in allowed:
                    found.append(
                        _("%(where)s: translations of “%(language)s”: unknown text “%(text)s”.")
                        % names
                    )
                elif not isinstance(text, str) or not text.strip():
                    found.append(
                        _("%(where)s: translations of “%(language)s”: “%(text)s” is empty.") % names
                    )
    return found

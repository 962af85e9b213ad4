"""The demo data (`demo/data/demo.json`): departments, citizens, the data dictionary and three
life events. Loaded and checked by the catalog's own rules before anything is written: each
field definition as the model validates it, and each service's fields and workflow as
publishing a version does (`services.definitions.validate_version`), against the file's own
dictionary and departments. A file that breaks them is refused with every problem listed.

Every text is in both languages: the base value in English, the Chinese in
`translations["zh-hans"]` (departments' names, services' names, descriptions and keywords,
fields' labels, staff labels and help texts, choices' labels, steps' names; see
docs/catalog.md). The translations are checked too (`core.translations.problems`): known
languages and texts only, none empty, and no text without its Chinese.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured, ValidationError

from core.translations import problems as translation_problems
from services.definitions import validate_version
from services.models import FieldDefinition

PATH = Path(__file__).resolve().parent / "data" / "demo.json"
_FIELD_DEFAULTS = {
    "help_text": "",
    "staff_label": "",
    "translations": {},
    "choices": [],
    "validation": {},
    "profile_field": False,
}


class DemoDataError(ImproperlyConfigured):
    """The demo data file breaks the catalog's rules (the message lists every problem)."""


# The texts of each kind of row, and the language every one of them must also be given in.
_TEXTS = {
    "department": ("name",),
    "field": ("label", "staff_label", "help_text"),
    "choice": ("label",),
    "service": ("name", "description", "keywords"),
    "step": ("name",),
}
SECOND_LANGUAGE = "zh-hans"


def _bilingual(row: Any, kind: str, where: str) -> list[str]:
    """Problems of a row's translations, and any text of the row missing in Chinese."""
    if not isinstance(row, dict):
        return []
    translations = row.get("translations")
    found = translation_problems(translations, attrs=_TEXTS[kind], where=where)
    if found:
        return found
    second = (translations or {}).get(SECOND_LANGUAGE, {})
    return [
        f"{where}: {attr} has no {SECOND_LANGUAGE} translation"
        for attr in _TEXTS[kind]
        if row.get(attr) and not second.get(attr)
    ]


def translation_gaps(doc: dict) -> list[str]:
    """Every text of the document without its translation, and every malformed translation."""
    found: list[str] = []
    for department in doc["departments"]:
        found += _bilingual(department, "department", f"department {department.get('slug')}")
    for spec in doc["fields"]:
        where = f"field {spec.get('key')}"
        found += _bilingual(spec, "field", where)
        for choice in spec.get("choices") or []:
            found += _bilingual(choice, "choice", f"{where}: choice {choice.get('value')}")
    for service in doc["services"]:
        where = f"service {service.get('slug')}"
        found += _bilingual(service, "service", where)
        workflow = service.get("workflow")
        steps = workflow.get("steps") if isinstance(workflow, dict) else None
        for step in steps if isinstance(steps, list) else []:
            if isinstance(step, dict):
                found += _bilingual(step, "step", f"{where}: step {step.get('id')}")
    return found


def problems(doc: Any) -> list[str]:
    """Every problem of a demo data document; empty when it can be loaded."""
    if not isinstance(doc, dict):
        return ["the document is not a JSON object"]
    missing = {"departments", "citizens", "fields", "services"} - set(doc)
    if missing:
        return [f"missing sections: {', '.join(sorted(missing))}"]
    found: list[str] = []
    dictionary = {}
    for spec in doc["fields"]:
        definition = FieldDefinition(**{**_FIELD_DEFAULTS, **spec})
        try:
            definition.full_clean(validate_unique=False)
        except ValidationError as exc:
            found += [
                f"field {spec.get('key')}: {k}: {' '.join(v)}" for k, v in exc.message_dict.items()
            ]
        dictionary[spec.get("key")] = definition
    departments = {d["slug"] for d in doc["departments"]}
    for service in doc["services"]:
        errors = validate_version(
            fields=service.get("fields"),
            workflow=service.get("workflow"),
            dictionary=dictionary,
            departments=departments,
        )
        found += [
            f"service {service.get('slug')}: {k}: {m}" for k, ms in errors.items() for m in ms
        ]
    return found + translation_gaps(doc)


@functools.cache
def load(path: Path = PATH) -> dict[str, Any]:
    """The demo data, checked (`DemoDataError` if it breaks a rule)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DemoDataError(f"{path}: {exc}") from exc
    found = problems(doc)
    if found:
        raise DemoDataError(f"{path} breaks the catalog's rules:\n" + "\n".join(found))
    return doc

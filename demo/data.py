"""The demo data (`demo/data/demo.json`): departments, citizens, the data dictionary and three
life events. Loaded and checked by the catalog's own rules before anything is written: each
field definition as the model validates it, and each service's fields and workflow as
publishing a version does (`services.definitions.validate_version`), against the file's own
dictionary and departments. A file that breaks them is refused with every problem listed.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured, ValidationError

from services.definitions import validate_version
from services.models import FieldDefinition

PATH = Path(__file__).resolve().parent / "data" / "demo.json"
_FIELD_DEFAULTS = {
    "help_text": "",
    "translations": {},
    "choices": [],
    "validation": {},
    "profile_field": False,
}


class DemoDataError(ImproperlyConfigured):
    """The demo data file breaks the catalog's rules (the message lists every problem)."""


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
    return found


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

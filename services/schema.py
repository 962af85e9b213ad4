"""The merged form of one application: fields asked once, conditions, JSON Schema, validation.

Pure functions over field definitions and version field lists: no database access here, so
the web form, the API and the tests all validate the same way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator

# FORMAT_CHECKER checks the formats of every kind (services.fields); the API and the tests
# import it from here.
from .fields import FORMAT_CHECKER, kind_for

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

Condition = Mapping[str, Any]  # {"field": key, "equals": value}


@dataclass(frozen=True)
class Usage:
    """How one service version asks a field."""

    service: str
    required: bool
    condition: Condition | None


@dataclass
class MergedField:
    """A field as the merged form asks it: once, with every service's requirement."""

    definition: Any  # FieldDefinition (or anything with the same attributes)
    usages: list[Usage] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.definition.key

    @property
    def always_applies(self) -> bool:
        return any(u.condition is None for u in self.usages)

    @property
    def conditions(self) -> list[Condition]:
        return [u.condition for u in self.usages if u.condition is not None]


def merge_fields(versions: Iterable[Any], definitions: Mapping[str, Any]) -> list[MergedField]:
    """Merge the field lists of several versions, keeping first-seen order; each key once."""
    merged: dict[str, MergedField] = {}
    for version in versions:
        service = version.service.slug
        for item in version.fields:
            key = item["key"]
            if key not in merged:
                merged[key] = MergedField(definition=definitions[key])
            merged[key].usages.append(
                Usage(
                    service=service,
                    required=bool(item.get("required")),
                    condition=item.get("condition"),
                )
            )
    return list(merged.values())


# --- Conditions -----------------------------------------------------------------------------------


def _condition_holds(
    condition: Condition, answers: Mapping[str, Any], applies: Mapping[str, bool]
) -> bool:
    source = condition["field"]
    return applies.get(source, True) and answers.get(source) == condition["equals"]


def applicable_keys(
    fields: list[MergedField], answers: Mapping[str, Any], *, unanswered_may_hold: bool = False
) -> dict[str, bool]:
    """Which fields apply given the answers (a condition on a field that does not apply fails).
    With `unanswered_may_hold`, which fields apply now or may still apply: a condition whose
    question is not answered yet may still hold (the task list counts those)."""
    applies: dict[str, bool] = {}
    by_key = {f.key: f for f in fields}

    def holds(condition: Condition) -> bool:
        value = answers.get(condition["field"])
        if unanswered_may_hold and value in (None, ""):
            return True
        return value == condition["equals"]

    def resolve(key: str, seen: frozenset[str]) -> bool:
        if key in applies:
            return applies[key]
        merged = by_key.get(key)
        if merged is None or merged.always_applies:
            applies[key] = True
            return True
        result = False
        for condition in merged.conditions:
            source = condition["field"]
            if source in seen:  # a cycle of conditions never applies
                continue
            if resolve(source, seen | {key}) and holds(condition):
                result = True
                break
        applies[key] = result
        return result

    for merged in fields:
        resolve(merged.key, frozenset())
    return applies


def required_keys(fields: list[MergedField], answers: Mapping[str, Any]) -> set[str]:
    applies = applicable_keys(fields, answers)
    required = set()
    for merged in fields:
        if not applies[merged.key]:
            continue
        for usage in merged.usages:
            if usage.required and (
                usage.condition is None or _condition_holds(usage.condition, answers, applies)
            ):
                required.add(merged.key)
    return required


# --- JSON Schema ----------------------------------------------------------------------------------


def field_schema(definition: Any) -> dict[str, Any]:
    """The JSON Schema of one data-dictionary field (its kind's, `services.fields`)."""
    return kind_for(definition.type).json_schema(definition)


def _if_condition(condition: Condition) -> dict[str, Any]:
    return {
        "properties": {condition["field"]: {"const": condition["equals"]}},
        "required": [condition["field"]],
    }


def form_schema(
    fields: list[MergedField], *, title: str = "", partial: bool = False
) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a merged form; `partial` drops every requirement."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    all_of: list[dict[str, Any]] = []
    for merged in fields:
        prop = field_schema(merged.definition)
        if not merged.always_applies:
            conditions = merged.conditions
            prop["x-condition"] = conditions[0] if len(conditions) == 1 else {"any": conditions}
        properties[merged.key] = prop
        if partial:
            continue
        if any(u.required and u.condition is None for u in merged.usages):
            required.append(merged.key)
            continue
        for usage in merged.usages:
            if usage.required and usage.condition is not None:
                all_of.append(
                    {"if": _if_condition(usage.condition), "then": {"required": [merged.key]}}
                )
    schema: dict[str, Any] = {
        "$schema": JSON_SCHEMA_DIALECT,
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if title:
        schema["title"] = title
    if required:
        schema["required"] = required
    if all_of:
        schema["allOf"] = all_of
    return schema


# --- Validation -----------------------------------------------------------------------------------


def _message(definition: Any, error: Any) -> str:
    validator = error.validator
    if validator in ("type", "format", "pattern", "enum", "const"):
        return kind_for(definition.type).invalid_value_message(error.instance)
    if validator == "minLength":
        return _("Enter at least %(n)d characters.") % {"n": error.validator_value}
    if validator == "maxLength":
        return _("Enter at most %(n)d characters.") % {"n": error.validator_value}
    if validator == "minimum":
        return _("Enter %(n)s or more.") % {"n": error.validator_value}
    if validator == "maximum":
        return _("Enter %(n)s or less.") % {"n": error.validator_value}
    return _("Enter a valid value.")


def answers_validator(fields: list[MergedField]) -> Draft202012Validator:
    """The JSON Schema validator of values for a merged form (requirements are checked apart)."""
    return Draft202012Validator(form_schema(fields, partial=True), format_checker=FORMAT_CHECKER)


def validate_answers(
    fields: list[MergedField],
    answers: Mapping[str, Any],
    *,
    partial: bool,
    today: dt.date | None = None,
    validator: Draft202012Validator | None = None,
) -> dict[str, list[str]]:
    """Field errors of `answers` against the merged form; empty when valid.

    `partial` (saving a draft) checks the values given but not what is missing. `validator`:
    `answers_validator(fields)` when the caller keeps one (the catalog cache does).
    """
    today = today or dt.date.today()
    by_key = {f.key: f for f in fields}
    errors: dict[str, list[str]] = {}
    if not isinstance(answers, Mapping):
        return {"answers": [_("Answers must be an object of field keys and values.")]}
    for key in answers:
        if key not in by_key:
            errors.setdefault(key, []).append(_("This field is not part of the chosen services."))
    known = {k: v for k, v in answers.items() if k in by_key}
    validator = validator or answers_validator(fields)
    for error in validator.iter_errors(known):
        if error.absolute_path:
            key = str(error.absolute_path[0])
            if key in by_key and not errors.get(key):
                errors.setdefault(key, []).append(_message(by_key[key].definition, error))
    for key, value in known.items():
        definition = by_key[key].definition
        message = kind_for(definition.type).value_error(definition, value, today)
        if message and not errors.get(key):
            errors.setdefault(key, []).append(message)
    if not partial:
        for key in sorted(required_keys(fields, known)):
            if known.get(key) in (None, "") and key not in errors:
                errors.setdefault(key, []).append(_("This field is required."))
    return errors


def applicable_answers(fields: list[MergedField], answers: Mapping[str, Any]) -> dict[str, Any]:
    """The answers of fields that apply (what is kept at submission)."""
    applies = applicable_keys(fields, answers)
    return {k: v for k, v in answers.items() if applies.get(k) and v not in (None, "")}

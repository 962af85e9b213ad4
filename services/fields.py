"""Field kinds: everything that depends on the kind of a field (`FieldType`), one class per kind.

A kind says what its answers look like in JSON Schema (and the format check behind it), which
HTML form field asks it and how the browser's text becomes a JSON value, the message shown when
a value has the wrong shape, the checks the schema cannot express, how an answer is shown to the
citizen and to staff, and how it is masked before a reveal.

The schema (`services.schema`), the forms (`services.forms`), version checks
(`services.definitions`), masking (`services.masking`), the citizen's pages (`services.views`)
and the workbench (`workflows.selectors`) ask `kind_for(definition.type)` instead of testing
the type themselves. Adding a kind is a member of `FieldType` and a class here, decorated with
`@register`.

Pure: no database access. Over 400 lines because it is a catalogue: twelve small classes, one
per kind, each read on its own; splitting them into modules would scatter the one place a
maintainer looks to see how kinds differ.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from jsonschema import FormatChecker

from core.translations import translated

from .constants import FieldType
from .validators import (
    is_valid_mainland_mobile,
    is_valid_national_id,
    mask_value,
    mobile_problem,
    national_id_problem,
    normalise_phone,
)

FILE_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,32}$")
EXAMPLE_FILE_TOKEN = "Qm9vdHN0cmFwVG9rZW4x"  # noqa: S105  (an example, not a secret)
# The mask of a value that must not be guessed from what is left of it (a choice, yes or no).
HIDDEN = "•••"
YES_NO = [("yes", gettext_lazy("Yes")), ("no", gettext_lazy("No"))]

# The JSON Schema formats of the kinds (a kind with a `format` adds its check when registered).
FORMAT_CHECKER = FormatChecker(formats=())


class FieldKind:
    """A kind of field. Subclasses set `type` and override what differs from a one-line text."""

    type: ClassVar[str] = ""
    # The JSON Schema "format" of the answers, checked by `check_format` (None: no format).
    format: ClassVar[str | None] = None
    # Whether the data dictionary's min_length, max_length and pattern apply (string schemas).
    length_rules: ClassVar[bool] = True
    # Whether an answer is an uploaded file (an attachment's token), not a value typed in.
    is_file: ClassVar[bool] = False
    # The example of the JSON Schema when the definition gives none.
    default_example: ClassVar[Any] = None
    # The message of a value of the wrong type, format, pattern or choice.
    invalid_message: ClassVar[Any] = gettext_lazy("Enter a valid value.")

    # --- JSON Schema ------------------------------------------------------------------------

    def schema(self, definition: Any) -> dict[str, Any]:
        """The part of a field's JSON Schema proper to the kind (`json_schema` adds the rest)."""
        return {"type": "string"}

    def json_schema(self, definition: Any) -> dict[str, Any]:
        """The JSON Schema of one data-dictionary field of this kind."""
        rules = definition.validation or {}
        schema = self.schema(definition)
        if schema["type"] == "string" and self.length_rules:
            if "min_length" in rules:
                schema["minLength"] = rules["min_length"]
            schema["maxLength"] = min(rules.get("max_length", 2000), schema.get("maxLength", 2000))
            if "pattern" in rules:
                schema["pattern"] = rules["pattern"]
        if schema["type"] in ("number", "integer"):
            for rule, keyword in (("minimum", "minimum"), ("maximum", "maximum")):
                if rule in rules:
                    schema[keyword] = rules[rule]
        if rules.get("not_future"):
            schema["x-not-future"] = True
        if rules.get("not_past"):
            schema["x-not-past"] = True
        schema["title"] = definition.label_translated
        if definition.help_text_translated:
            schema.setdefault("description", definition.help_text_translated)
        schema["x-sensitivity"] = definition.sensitivity
        schema["x-section"] = definition.section
        if definition.example is not None:
            schema["examples"] = [definition.example]
        elif self.default_example is not None:
            schema["examples"] = [self.default_example]
        return schema

    # --- Validation -------------------------------------------------------------------------

    def invalid_value_message(self, value: Any) -> str:
        """The message of a value of the wrong type, format, pattern or choice: what is wrong
        with this value and how to put it right (`invalid_message` when nothing more precise
        can be said). The pages, the API and JSON Schema validation all show it."""
        return str(self.invalid_message)

    def valid_format(self, value: str) -> bool:
        """Whether a string has the kind's `format` (only called when `format` is set)."""
        return True

    def check_format(self, value: object) -> bool:
        """The format check of FORMAT_CHECKER: values that are not strings are the type's
        business, not the format's."""
        return not isinstance(value, str) or self.valid_format(value)

    def value_error(self, definition: Any, value: Any, today: dt.date) -> str | None:
        """A problem the JSON Schema does not express (the value has the right shape)."""
        return None

    def condition_error(self, definition: Any, value: Any, *, where: str, key: str) -> str | None:
        """A problem of a condition `{"field": key, "equals": value}` on a field of this kind."""
        return None

    # --- The HTML form ----------------------------------------------------------------------

    def form_field(self, definition: Any, **common: Any) -> forms.Field:
        """The form field that asks it; `common` holds label, help_text and required."""
        return forms.CharField(**common)

    def form_initial(self, value: Any) -> Any:
        """What the form field shows for a saved answer (None: nothing)."""
        return value

    def from_form(self, raw: Any) -> Any:
        """The JSON value of what the browser sent; an empty input means "no answer" (None)."""
        if raw is None:
            return None
        if isinstance(raw, str):
            raw = raw.strip()
            if raw == "":
                return None
        return self.convert(raw)

    def convert(self, raw: Any) -> Any:
        """The JSON value of a non-empty, stripped input; what cannot be converted is returned
        as it is, for the schema to refuse with the kind's message."""
        return raw

    # --- Showing an answer ------------------------------------------------------------------

    def display(self, value: Any, definition: Any, *, attachment: Any = None) -> str:
        """How the citizen sees an answer (check your answers); `attachment` for files."""
        return "" if value is None else str(value)

    def staff_display(
        self, value: Any, definition: Any, *, sealed: bool, attachment: Any = None
    ) -> Any:
        """How the workbench shows an answer: a sealed (personal) value masked."""
        if value is None:
            return ""
        if sealed:
            return self.mask(value)
        return value

    def mask(self, value: Any) -> str:
        """What staff see of a personal value until they reveal it with a purpose."""
        if value is None or value == "":
            return ""
        if not isinstance(value, str):
            return HIDDEN
        return self.mask_text(value)

    def mask_text(self, value: str) -> str:
        """The mask of a non-empty string."""
        return mask_value(value, keep_start=1, keep_end=1)


# --- The registry ---------------------------------------------------------------------------

_KINDS: dict[str, FieldKind] = {}


def register(kind_class: type[FieldKind]) -> type[FieldKind]:
    """Make a kind known (a class decorator); its format, if any, joins FORMAT_CHECKER."""
    if not kind_class.type:
        raise ValueError(f"{kind_class.__name__} has no type")
    kind = kind_class()
    _KINDS[str(kind_class.type)] = kind
    if kind.format:
        FORMAT_CHECKER.checks(kind.format)(kind.check_format)
    return kind_class


def unregister(type_: str) -> None:
    """Forget a kind (for tests that register one of their own)."""
    kind = _KINDS.pop(str(type_), None)
    if kind is not None and kind.format:
        FORMAT_CHECKER.checkers.pop(kind.format, None)


def kind_for(type_: str) -> FieldKind:
    """The kind of a field type (a `FieldType` member or its value)."""
    try:
        return _KINDS[str(type_)]
    except KeyError:
        raise ValueError(f"unknown field type {type_}") from None


def registered_kinds() -> Mapping[str, FieldKind]:
    """Every known kind, by type."""
    return dict(_KINDS)


# --- The kinds ------------------------------------------------------------------------------


@register
class StringKind(FieldKind):
    type = FieldType.STRING


@register
class TextKind(FieldKind):
    type = FieldType.TEXT
    widget_name: ClassVar[str] = "textarea"

    def schema(self, definition: Any) -> dict[str, Any]:
        return {"type": "string", "x-widget": self.widget_name}

    def form_field(self, definition: Any, **common: Any) -> forms.Field:
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), strip=True, **common)

    def mask_text(self, value: str) -> str:
        return value[:6] + "…" if len(value) > 6 else "•••"  # the district, not the door


@register
class AddressKind(TextKind):
    type = FieldType.ADDRESS
    widget_name = "address"


@register
class DateKind(FieldKind):
    type = FieldType.DATE
    format = "date"
    invalid_message = gettext_lazy("Enter a real date as YYYY-MM-DD.")

    def schema(self, definition: Any) -> dict[str, Any]:
        return {"type": "string", "format": "date"}

    def valid_format(self, value: str) -> bool:
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            return False
        return len(value) == 10

    def invalid_value_message(self, value: Any) -> str:
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return _("This date does not exist: check the day and the month.")
        return _("Enter the date as year-month-day, like 2026-03-04.")

    def value_error(self, definition: Any, value: Any, today: dt.date) -> str | None:
        rules = definition.validation or {}
        if not isinstance(value, str):
            return None
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            return None
        if rules.get("not_future") and day > today:
            return _("The date cannot be in the future.")
        if rules.get("not_past") and day < today:
            return _("The date cannot be in the past.")
        return None

    def form_field(self, definition: Any, **common: Any) -> forms.Field:
        return forms.CharField(widget=forms.DateInput(attrs={"type": "date"}), **common)

    def mask_text(self, value: str) -> str:
        return value[:4] + "-**-**"  # the year only


@register
class EmailKind(FieldKind):
    type = FieldType.EMAIL
    format = "email"
    invalid_message = gettext_lazy("Enter an email address like name@example.com.")

    def schema(self, definition: Any) -> dict[str, Any]:
        return {"type": "string", "format": "email", "maxLength": 254}

    def valid_format(self, value: str) -> bool:
        try:
            validate_email(value)
        except DjangoValidationError:
            return False
        return True

    def form_field(self, definition: Any, **common: Any) -> forms.Field:
        return forms.CharField(widget=forms.EmailInput(attrs={"autocomplete": "email"}), **common)

    def mask_text(self, value: str) -> str:
        name, _at, domain = value.partition("@")
        return (name[:1] + "***@" + domain) if domain else "***"


class CheckedCodeKind(FieldKind):
    """A code of a fixed pattern whose validator can say what is wrong with a value (a mobile
    number, a national ID). Subclasses give `pattern`, `is_valid`, `problem` (a word naming
    the problem, or None) and `problem_message`."""

    pattern: ClassVar[str] = ""

    @staticmethod
    def is_valid(value: str) -> bool:
        raise NotImplementedError

    @staticmethod
    def problem(value: str) -> str | None:
        raise NotImplementedError

    def problem_message(self, problem: str | None, value: Any) -> str | None:
        """The message of a named problem (None: `invalid_message`)."""
        return None

    def schema(self, definition: Any) -> dict[str, Any]:
        return {"type": "string", "format": self.format, "pattern": self.pattern}

    def valid_format(self, value: str) -> bool:
        return self.is_valid(value)

    def invalid_value_message(self, value: Any) -> str:
        problem = self.problem(value) if isinstance(value, str) else "characters"
        return str(self.problem_message(problem, value) or self.invalid_message)


@register
class PhoneKind(CheckedCodeKind):
    type = FieldType.PHONE
    format = "phone"
    pattern = r"^1[3-9]\d{9}$"
    invalid_message = gettext_lazy("Enter an 11-digit mobile phone number, like 13812345678.")
    is_valid = staticmethod(is_valid_mainland_mobile)
    problem = staticmethod(mobile_problem)

    def problem_message(self, problem: str | None, value: Any) -> str | None:
        if problem == "characters":
            return _("Enter the mobile phone number in digits only, like 13812345678.")
        if problem == "length":
            digits = value.removeprefix("+86")
            return ngettext(
                "The mobile phone number has %(n)d digit; it needs 11, like 13812345678.",
                "The mobile phone number has %(n)d digits; it needs 11, like 13812345678.",
                len(digits),
            ) % {"n": len(digits)}
        if problem == "prefix":
            return _("A mobile phone number starts with 13 to 19: check the number.")
        return None

    def form_field(self, definition: Any, **common: Any) -> forms.Field:
        return forms.CharField(
            widget=forms.TextInput(
                attrs={"type": "tel", "inputmode": "numeric", "autocomplete": "tel"}
            ),
            **common,
        )

    def convert(self, raw: Any) -> Any:
        return normalise_phone(raw)

    def mask_text(self, value: str) -> str:
        return mask_value(value, keep_start=3, keep_end=4)  # 138****5678


@register
class NationalIdKind(CheckedCodeKind):
    type = FieldType.NATIONAL_ID
    format = "national-id"
    pattern = r"^\d{17}[\dX]$"
    invalid_message = gettext_lazy(
        "Enter a valid 18-character national ID number (the last character may be X)."
    )
    is_valid = staticmethod(is_valid_national_id)
    problem = staticmethod(national_id_problem)

    def problem_message(self, problem: str | None, value: Any) -> str | None:
        if problem in ("too_short", "too_long"):
            n = len(value.strip())
            if problem == "too_short":
                text = ngettext(
                    "The ID number is too short: it has %(n)d character; it needs 18.",
                    "The ID number is too short: it has %(n)d characters; it needs 18.",
                    n,
                )
            else:
                text = _("The ID number is too long: it has %(n)d characters; it needs 18.")
            return text % {"n": n}
        messages = {
            "characters": _("Enter the ID number in digits; only the last character may be X."),
            "lowercase_x": _("Write the last character of the ID number as a capital X."),
            "province": _(
                "The first 2 digits of the ID number are not a region code: check the number."
            ),
            "birth_date": _(
                "Digits 7 to 14 of the ID number are not a real date of birth: check the number."
            ),
            "check": _("The last character of the ID number does not match; check the number."),
        }
        return messages.get(problem)

    def form_field(self, definition: Any, **common: Any) -> forms.Field:
        return forms.CharField(
            widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}), **common
        )

    def convert(self, raw: Any) -> Any:
        return raw.upper()

    def mask_text(self, value: str) -> str:
        return mask_value(value, keep_start=4, keep_end=4)  # area and check: 3201**********1234


@register
class EnumKind(FieldKind):
    type = FieldType.ENUM
    length_rules = False
    invalid_message = gettext_lazy("Choose one of the options.")

    def schema(self, definition: Any) -> dict[str, Any]:
        return {
            "type": "string",
            "enum": [c["value"] for c in definition.choices],
            "x-enum-labels": {c["value"]: translated(c, "label") for c in definition.choices},
        }

    def condition_error(self, definition: Any, value: Any, *, where: str, key: str) -> str | None:
        if value in [c["value"] for c in definition.choices]:
            return None
        return _("%(where)s: “%(value)s” is not a choice of “%(key)s”.") % {
            "where": where,
            "value": value,
            "key": key,
        }

    def form_field(self, definition: Any, **common: Any) -> forms.Field:
        choices = [(c["value"], translated(c, "label")) for c in definition.choices]
        widget = forms.RadioSelect if len(choices) <= 4 else forms.Select
        if widget is forms.Select:
            choices = [("", gettext_lazy("Choose…")), *choices]
        return forms.ChoiceField(choices=choices, widget=widget, **common)

    def display(self, value: Any, definition: Any, *, attachment: Any = None) -> str:
        labels = {c["value"]: translated(c, "label") for c in definition.choices}
        return labels.get(value, value or "")

    def mask(self, value: Any) -> str:
        # One of a few known values: any letter left visible, or the length, gives it away
        # (f****e is "female"), so nothing of it is shown.
        return "" if value is None or value == "" else HIDDEN


@register
class BooleanKind(FieldKind):
    type = FieldType.BOOLEAN
    invalid_message = gettext_lazy("Answer yes or no.")

    def schema(self, definition: Any) -> dict[str, Any]:
        return {"type": "boolean"}

    def condition_error(self, definition: Any, value: Any, *, where: str, key: str) -> str | None:
        if isinstance(value, bool):
            return None
        return _("%(where)s: “%(key)s” is yes/no, so compare it with true or false.") % {
            "where": where,
            "key": key,
        }

    def form_field(self, definition: Any, **common: Any) -> forms.Field:
        return forms.ChoiceField(choices=YES_NO, widget=forms.RadioSelect, **common)

    def form_initial(self, value: Any) -> Any:
        if isinstance(value, bool):
            return "yes" if value else "no"
        return value

    def convert(self, raw: Any) -> Any:
        return {"yes": True, "no": False}.get(raw, raw)

    def display(self, value: Any, definition: Any, *, attachment: Any = None) -> str:
        if isinstance(value, bool):
            return _("Yes") if value else _("No")
        return super().display(value, definition)

    def mask(self, value: Any) -> str:
        return "" if value is None or value == "" else HIDDEN  # yes or no: hide it whole


@register
class NumberKind(FieldKind):
    type = FieldType.NUMBER
    invalid_message = gettext_lazy("Enter a number.")
    input_mode: ClassVar[str] = "decimal"

    def schema(self, definition: Any) -> dict[str, Any]:
        return {"type": "number"}

    def form_field(self, definition: Any, **common: Any) -> forms.Field:
        return forms.CharField(
            widget=forms.TextInput(attrs={"inputmode": self.input_mode}), **common
        )

    def convert(self, raw: Any) -> Any:
        try:
            number = Decimal(raw.replace(",", "."))
        except InvalidOperation:
            return raw  # the schema says "Enter a number."
        return int(number) if number == number.to_integral_value() else float(number)


@register
class IntegerKind(NumberKind):
    type = FieldType.INTEGER
    invalid_message = gettext_lazy("Enter a whole number.")
    input_mode = "numeric"

    def schema(self, definition: Any) -> dict[str, Any]:
        return {"type": "integer"}

    def convert(self, raw: Any) -> Any:
        if re.fullmatch(r"-?\d{1,12}", raw):
            return int(raw)
        return raw


@register
class FileKind(FieldKind):
    type = FieldType.FILE
    format = "file"
    length_rules = False
    is_file = True
    default_example = EXAMPLE_FILE_TOKEN  # the shape of an upload's token
    invalid_message = gettext_lazy("Upload a file.")

    def schema(self, definition: Any) -> dict[str, Any]:
        rules = definition.validation or {}
        return {
            "type": "string",
            "format": "file",
            "description": "The token of a file uploaded to the application.",
            "x-max-size-mb": rules.get("max_size_mb", 10),
            "x-content-types": rules.get(
                "content_types", ["application/pdf", "image/jpeg", "image/png"]
            ),
        }

    def valid_format(self, value: str) -> bool:
        return bool(FILE_TOKEN_RE.match(value))

    def form_field(self, definition: Any, **common: Any) -> forms.Field:
        accept = ",".join((definition.validation or {}).get("content_types", []))
        return forms.FileField(widget=forms.ClearableFileInput(attrs={"accept": accept}), **common)

    def form_initial(self, value: Any) -> Any:
        return None  # a file input cannot show a file; the page lists the uploaded one

    def display(self, value: Any, definition: Any, *, attachment: Any = None) -> str:
        return attachment.name_plain if attachment is not None else ""

    def staff_display(
        self, value: Any, definition: Any, *, sealed: bool, attachment: Any = None
    ) -> Any:
        return attachment.name_plain if attachment is not None else ""

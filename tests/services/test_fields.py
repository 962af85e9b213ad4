"""The field-kind registry: every FieldType has a kind, and each kind's schema, form field,
conversion, messages, display and mask; a kind added in one class reaches the schema, the
validation and the form without other edits."""

from __future__ import annotations

import datetime as dt
import re
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest
from django import forms
from jsonschema import Draft202012Validator

from services.constants import FieldType
from services.definitions import validate_fields
from services.fields import (
    EXAMPLE_FILE_TOKEN,
    FORMAT_CHECKER,
    FieldKind,
    kind_for,
    register,
    registered_kinds,
    unregister,
)
from services.forms import SectionForm
from services.masking import mask
from services.schema import MergedField, Usage, field_schema, form_schema, validate_answers

TODAY = dt.date(2026, 6, 15)


def fd(key: str = "s.field", type_: str = "string", **extra: Any) -> SimpleNamespace:
    return SimpleNamespace(
        key=key,
        type=type_,
        sensitivity=extra.pop("sensitivity", "personal"),
        validation=extra.pop("validation", {}),
        choices=extra.pop("choices", []),
        example=extra.pop("example", None),
        label_translated=extra.pop("label", "Label"),
        help_text_translated=extra.pop("help_text", ""),
        section=key.split(".")[0],
    )


def merged(definition: Any) -> list[MergedField]:
    return [MergedField(definition, [Usage(service="s", required=True, condition=None)])]


def errors_of(definition: Any, value: Any) -> list[str]:
    return validate_answers(
        merged(definition), {definition.key: value}, partial=True, today=TODAY
    ).get(definition.key, [])


CHOICES = [{"value": "a", "label": "Apple"}, {"value": "b", "label": "Banana"}]
COMMON = {"title": "Label", "x-sensitivity": "personal", "x-section": "s"}


# --- The registry -----------------------------------------------------------------------------


@pytest.mark.parametrize("type_", list(FieldType))
def test_every_field_type_has_a_kind(type_):
    kind = kind_for(type_)
    assert isinstance(kind, FieldKind)
    assert kind.type == type_
    assert kind_for(type_.value) is kind  # the stored value finds the same kind


def test_the_registry_holds_exactly_the_field_types():
    assert set(registered_kinds()) == set(FieldType.values)


def test_an_unknown_type_is_refused():
    with pytest.raises(ValueError, match="unknown field type colour"):
        kind_for("colour")


def test_a_kind_without_a_type_cannot_be_registered():
    class Nameless(FieldKind):
        pass

    with pytest.raises(ValueError, match="no type"):
        register(Nameless)


# --- JSON Schema ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("definition", "expected"),
    [
        (fd(), {"type": "string", "maxLength": 2000}),
        (
            fd(validation={"min_length": 2, "max_length": 100, "pattern": "^[a-z]+$"}),
            {"type": "string", "minLength": 2, "maxLength": 100, "pattern": "^[a-z]+$"},
        ),
        (fd(type_="text"), {"type": "string", "x-widget": "textarea", "maxLength": 2000}),
        (fd(type_="address"), {"type": "string", "x-widget": "address", "maxLength": 2000}),
        (
            fd(type_="date", validation={"not_future": True}),
            {"type": "string", "format": "date", "maxLength": 2000, "x-not-future": True},
        ),
        (
            fd(type_="email", validation={"max_length": 500}),
            {"type": "string", "format": "email", "maxLength": 254},
        ),
        (
            fd(type_="phone"),
            {"type": "string", "format": "phone", "pattern": r"^1[3-9]\d{9}$", "maxLength": 2000},
        ),
        (
            fd(type_="national_id", example="11010519491231002X"),
            {
                "type": "string",
                "format": "national-id",
                "pattern": r"^\d{17}[\dX]$",
                "maxLength": 2000,
                "examples": ["11010519491231002X"],
            },
        ),
        (
            fd(type_="enum", choices=CHOICES, validation={"max_length": 5}),
            {
                "type": "string",
                "enum": ["a", "b"],
                "x-enum-labels": {"a": "Apple", "b": "Banana"},
            },
        ),
        (fd(type_="boolean", validation={"max_length": 5}), {"type": "boolean"}),
        (
            fd(type_="number", validation={"minimum": 0, "maximum": 9.5}),
            {"type": "number", "minimum": 0, "maximum": 9.5},
        ),
        (fd(type_="integer", validation={"minimum": 1}), {"type": "integer", "minimum": 1}),
        (
            fd(type_="file", validation={"max_size_mb": 2, "content_types": ["application/pdf"]}),
            {
                "type": "string",
                "format": "file",
                "description": "The token of a file uploaded to the application.",
                "x-max-size-mb": 2,
                "x-content-types": ["application/pdf"],
                "examples": [EXAMPLE_FILE_TOKEN],
            },
        ),
    ],
    ids=lambda v: v.type if isinstance(v, SimpleNamespace) else None,
)
def test_schema_of_each_kind(definition, expected):
    assert field_schema(definition) == {**expected, **COMMON}
    assert kind_for(definition.type).json_schema(definition) == {**expected, **COMMON}


def test_schema_takes_the_help_text_as_description_unless_the_kind_has_one():
    assert field_schema(fd(help_text="Help"))["description"] == "Help"
    described = field_schema(fd(type_="file", help_text="Help"))["description"]
    assert described == "The token of a file uploaded to the application."


# --- Validation messages ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_", "value", "message"),
    [
        ("string", 5, "Enter a valid value."),
        ("text", 5, "Enter a valid value."),
        ("address", True, "Enter a valid value."),
        ("date", "2026-02-30", "This date does not exist: check the day and the month."),
        ("date", "30/02/2026", "Enter the date as year-month-day, like 2026-03-04."),
        ("email", "not-an-address", "Enter an email address like name@example.com."),
        ("phone", "12345678901", "A mobile phone number starts with 13 to 19: check the number."),
        (
            "phone",
            "1381234567",
            "The mobile phone number has 10 digits; it needs 11, like 13812345678.",
        ),
        (
            "phone",
            "138-1234-5678",
            "Enter the mobile phone number in digits only, like 13812345678.",
        ),
        (
            "national_id",
            "110105194912310021",
            "The last character of the ID number does not match; check the number.",
        ),
        (
            "national_id",
            "11010519491231002",
            "The ID number is too short: it has 17 characters; it needs 18.",
        ),
        (
            "national_id",
            "1101051949123100210",
            "The ID number is too long: it has 19 characters; it needs 18.",
        ),
        (
            "national_id",
            "1101051949123100X2",
            "Enter the ID number in digits; only the last character may be X.",
        ),
        (
            "national_id",
            "990105194912310021",
            "The first 2 digits of the ID number are not a region code: check the number.",
        ),
        (
            "national_id",
            "110105194913310021",
            "Digits 7 to 14 of the ID number are not a real date of birth: check the number.",
        ),
        (
            "national_id",
            "11010519491231002x",
            "Write the last character of the ID number as a capital X.",
        ),
        ("boolean", "yes", "Answer yes or no."),
        ("number", "3", "Enter a number."),
        ("integer", 1.5, "Enter a whole number."),
        ("file", "short", "Upload a file."),
    ],
)
def test_a_value_of_the_wrong_shape_gets_the_kinds_message(type_, value, message):
    assert errors_of(fd(type_=type_), value) == [message]


def test_an_enum_value_outside_the_choices_gets_the_enum_message():
    assert errors_of(fd(type_="enum", choices=CHOICES), "c") == ["Choose one of the options."]


@pytest.mark.parametrize(
    ("type_", "value"),
    [
        ("string", "anything"),
        ("date", "2026-02-28"),
        ("email", "wang@example.com"),
        ("phone", "13812345678"),
        ("national_id", "11010519491231002X"),
        ("boolean", False),
        ("number", 2.5),
        ("integer", 3),
        ("file", EXAMPLE_FILE_TOKEN),
    ],
)
def test_a_value_of_the_right_shape_passes(type_, value):
    assert errors_of(fd(type_=type_), value) == []


def test_date_rules_are_the_date_kinds():
    future = fd(type_="date", validation={"not_future": True})
    past = fd(type_="date", validation={"not_past": True})
    assert errors_of(future, "2026-06-16") == ["The date cannot be in the future."]
    assert errors_of(future, "2026-06-15") == []
    assert errors_of(past, "2026-06-14") == ["The date cannot be in the past."]
    # The rule belongs to the date kind: on a text field it does nothing.
    assert errors_of(fd(validation={"not_future": True}), "2999-01-01") == []


def test_conditions_on_a_kind_are_checked_by_the_kind():
    dictionary = {
        "a.flag": fd("a.flag", "boolean"),
        "a.fruit": fd("a.fruit", "enum", choices=CHOICES),
        "a.name": fd("a.name"),
        "a.other": fd("a.other"),
    }

    def problems(source: str, equals: Any) -> list[str]:
        condition = {"field": source, "equals": equals}
        fields = [{"key": source}, {"key": "a.other", "condition": condition}]
        return validate_fields(fields, dictionary)[0]

    assert problems("a.flag", "yes") == [
        "Field “a.other”: “a.flag” is yes/no, so compare it with true or false."
    ]
    assert problems("a.flag", True) == []
    assert problems("a.fruit", "c") == ["Field “a.other”: “c” is not a choice of “a.fruit”."]
    assert problems("a.fruit", "b") == []
    assert problems("a.name", 42) == []


# --- Masks and display ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_", "value", "shown"),
    [
        ("national_id", "32010519491231123X", "3201**********123X"),
        ("phone", "13812345678", "138****5678"),
        ("date", "2001-09-30", "2001-**-**"),
        ("email", "li.na@example.cn", "l***@example.cn"),
        ("email", "no-domain", "***"),
        ("text", "Short", "•••"),
        ("text", "A longer text here", "A long…"),
        ("address", "Jianguo Road 88", "Jiangu…"),
        ("string", "Li", "*i"),
        ("enum", "female", "•••"),  # a choice: nothing of it shows
        ("integer", 4, "•••"),
        ("boolean", False, "•••"),
        ("phone", None, ""),
        ("phone", "", ""),
    ],
)
def test_mask_of_each_kind(type_, value, shown):
    assert kind_for(type_).mask(value) == shown
    assert mask(fd(type_=type_), value) == shown


@pytest.mark.parametrize(
    ("definition", "value", "shown"),
    [
        (fd(), "Wang", "Wang"),
        (fd(), None, ""),
        (fd(type_="integer"), 3, "3"),
        (fd(type_="boolean"), True, "Yes"),
        (fd(type_="boolean"), False, "No"),
        (fd(type_="boolean"), None, ""),
        (fd(type_="enum", choices=CHOICES), "b", "Banana"),
        (fd(type_="enum", choices=CHOICES), "z", "z"),
        (fd(type_="enum", choices=CHOICES), None, ""),
    ],
)
def test_display_of_each_kind(definition, value, shown):
    assert kind_for(definition.type).display(value, definition) == shown


def test_a_file_is_shown_by_its_name():
    kind, attachment = kind_for(FieldType.FILE), SimpleNamespace(name_plain="scan.pdf")
    assert kind.is_file
    assert kind.display(EXAMPLE_FILE_TOKEN, fd(type_="file"), attachment=attachment) == "scan.pdf"
    assert kind.display(EXAMPLE_FILE_TOKEN, fd(type_="file")) == ""
    shown = kind.staff_display(EXAMPLE_FILE_TOKEN, fd(), sealed=True, attachment=attachment)
    assert shown == "scan.pdf"  # a file's name is not masked; the file is downloaded apart


def test_staff_see_sealed_values_masked_and_others_as_they_are():
    phone, count = kind_for(FieldType.PHONE), kind_for(FieldType.INTEGER)
    assert phone.staff_display("13812345678", fd(), sealed=True) == "138****5678"
    assert phone.staff_display("13812345678", fd(), sealed=False) == "13812345678"
    assert phone.staff_display(None, fd(), sealed=True) == ""
    assert count.staff_display(4, fd(), sealed=False) == 4


# --- The form ---------------------------------------------------------------------------------


def section_form(definition: Any, data: dict | None = None, value: Any = None) -> SectionForm:
    name = definition.key.replace(".", "__")
    return SectionForm(
        None if data is None else {name: data},
        fields=merged(definition),
        required={definition.key},
        values={definition.key: value},
    )


@pytest.mark.parametrize(
    ("definition", "field_class", "widget_class", "attrs"),
    [
        (fd(), forms.CharField, forms.TextInput, {}),
        (fd(type_="text"), forms.CharField, forms.Textarea, {"rows": 3}),
        (fd(type_="address"), forms.CharField, forms.Textarea, {"rows": 3}),
        (fd(type_="date"), forms.CharField, forms.DateInput, {"type": "date"}),
        (fd(type_="email"), forms.CharField, forms.EmailInput, {"autocomplete": "email"}),
        (
            fd(type_="phone"),
            forms.CharField,
            forms.TextInput,
            {"type": "tel", "inputmode": "numeric", "autocomplete": "tel"},
        ),
        (
            fd(type_="national_id"),
            forms.CharField,
            forms.TextInput,
            {"autocomplete": "off", "spellcheck": "false"},
        ),
        (fd(type_="enum", choices=CHOICES), forms.ChoiceField, forms.RadioSelect, {}),
        (fd(type_="boolean"), forms.ChoiceField, forms.RadioSelect, {}),
        (fd(type_="number"), forms.CharField, forms.TextInput, {"inputmode": "decimal"}),
        (fd(type_="integer"), forms.CharField, forms.TextInput, {"inputmode": "numeric"}),
        (
            fd(type_="file", validation={"content_types": ["application/pdf", "image/png"]}),
            forms.FileField,
            forms.ClearableFileInput,
            {"accept": "application/pdf,image/png"},
        ),
    ],
    ids=lambda v: v.type if isinstance(v, SimpleNamespace) else None,
)
def test_form_field_of_each_kind(definition, field_class, widget_class, attrs):
    field = section_form(definition).fields["s__field"]
    assert type(field) is field_class
    assert type(field.widget) is widget_class
    attrs = dict(attrs)
    if "type" in attrs:  # Django keeps an input's type apart from its other attributes
        assert field.widget.input_type == attrs.pop("type")
    assert attrs.items() <= field.widget.attrs.items()
    assert field.label == "Label"
    assert field.required is False  # the schema judges requirements on submit
    assert field.is_required_answer is True


def test_a_long_list_of_choices_is_a_select_with_a_prompt():
    choices = [{"value": str(n), "label": f"Option {n}"} for n in range(5)]
    field = section_form(fd(type_="enum", choices=choices)).fields["s__field"]
    assert type(field.widget) is forms.Select
    assert field.choices[0] == ("", "Choose…")
    assert len(field.choices) == 6


@pytest.mark.parametrize(
    ("type_", "raw", "value"),
    [
        ("string", "  Wang  ", "Wang"),
        ("string", "   ", None),
        ("boolean", "yes", True),
        ("boolean", "no", False),
        ("integer", "12", 12),
        ("integer", "-4", -4),
        ("integer", "1.5", "1.5"),  # left for the schema to refuse
        ("number", "3,5", 3.5),
        ("number", "4.0", 4),
        ("number", "four", "four"),
        ("national_id", "11010519491231002x", "11010519491231002X"),
        ("phone", "+86 138-1234-5678", "13812345678"),
        ("date", "2026-01-31", "2026-01-31"),
    ],
)
def test_the_form_converts_input_to_json_values(type_, raw, value):
    definition = fd(type_=type_)
    kind = kind_for(type_)
    assert kind.from_form(raw) == value
    assert type(kind.from_form(raw)) is type(value)
    form = section_form(definition, data=raw)
    assert form.is_valid(), form.errors
    assert form.answers() == {"s.field": value}


@pytest.mark.parametrize(
    ("type_", "saved", "shown"),
    [
        ("boolean", True, "yes"),
        ("boolean", False, "no"),
        ("string", "Wang", "Wang"),
        ("file", "t", None),
    ],
)
def test_the_form_shows_a_saved_answer(type_, saved, shown):
    form = section_form(fd(type_=type_), value=saved)
    assert form.initial.get("s__field") == shown


def test_a_file_is_an_upload_not_an_answer():
    form = section_form(fd(type_="file"), data="")
    assert form.is_valid(), form.errors
    assert form.answers() == {}
    assert form.uploads() == {}


# --- A new kind -------------------------------------------------------------------------------

HEX_COLOUR = re.compile(r"#[0-9a-f]{6}")


class ColourKind(FieldKind):
    """A kind defined only here: a colour as #rrggbb."""

    type: ClassVar[str] = "colour"
    format: ClassVar[str | None] = "colour"
    invalid_message = "Enter a colour like #1a2b3c."

    def schema(self, definition: Any) -> dict[str, Any]:
        return {"type": "string", "format": "colour", "x-widget": "colour"}

    def valid_format(self, value: str) -> bool:
        return HEX_COLOUR.fullmatch(value) is not None

    def form_field(self, definition: Any, **common: Any) -> forms.Field:
        return forms.CharField(widget=forms.TextInput(attrs={"type": "color"}), **common)

    def convert(self, raw: Any) -> Any:
        return raw.lower()

    def display(self, value: Any, definition: Any, *, attachment: Any = None) -> str:
        return f"colour {value}"

    def mask_text(self, value: str) -> str:
        return "#******"


@pytest.fixture
def colour():
    register(ColourKind)
    yield fd("paint.colour", "colour", validation={"max_length": 7})
    unregister("colour")
    assert "colour" not in registered_kinds()
    assert "colour" not in FORMAT_CHECKER.checkers


def test_a_new_kind_reaches_the_schema(colour):
    assert field_schema(colour) == {
        "type": "string",
        "format": "colour",
        "x-widget": "colour",
        "maxLength": 7,  # the common rules of string schemas apply
        "title": "Label",
        "x-sensitivity": "personal",
        "x-section": "paint",
    }
    form = form_schema(merged(colour))
    assert form["properties"]["paint.colour"]["format"] == "colour"
    validator = Draft202012Validator(form, format_checker=FORMAT_CHECKER)
    assert validator.is_valid({"paint.colour": "#1a2b3c"})
    assert not validator.is_valid({"paint.colour": "red"})


def test_a_new_kind_reaches_validation(colour):
    assert errors_of(colour, "#1a2b3c") == []
    assert errors_of(colour, "red") == ["Enter a colour like #1a2b3c."]
    assert errors_of(colour, 7) == ["Enter a colour like #1a2b3c."]


def test_a_new_kind_reaches_the_form(colour):
    form = section_form(colour, value="#00ff00")
    field = form.fields["paint__colour"]
    assert field.widget.input_type == "color"
    assert form.initial["paint__colour"] == "#00ff00"
    assert 'type="color"' in str(form)
    posted = section_form(colour, data=" #AABBCC ")
    assert posted.is_valid(), posted.errors
    assert posted.answers() == {"paint.colour": "#aabbcc"}


def test_a_new_kind_reaches_display_and_masking(colour):
    kind = kind_for("colour")
    assert kind.display("#aabbcc", colour) == "colour #aabbcc"
    assert mask(colour, "#aabbcc") == "#******"
    assert kind.staff_display("#aabbcc", colour, sealed=True) == "#******"

"""The merged form: every field asked once, conditions, JSON Schema, and server validation."""

import datetime as dt
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from services.schema import (
    FORMAT_CHECKER,
    applicable_answers,
    applicable_keys,
    form_schema,
    merge_fields,
    required_keys,
    validate_answers,
)
from tests.data import VEHICLE_PLATE_RULE


def fd(key, type_="string", sensitivity="personal", **extra):
    return SimpleNamespace(
        key=key,
        type=type_,
        sensitivity=sensitivity,
        validation=extra.pop("validation", {}),
        choices=extra.pop("choices", []),
        example=extra.pop("example", None),
        label_translated=key,
        help_text_translated="",
        section=key.split(".")[0],
    )


DICTIONARY = {
    "applicant.name": fd("applicant.name", validation={"min_length": 2}),
    "applicant.national_id": fd("applicant.national_id", "national_id", "sensitive"),
    "applicant.phone": fd("applicant.phone", "phone"),
    "household.has_vehicle": fd("household.has_vehicle", "boolean", "public"),
    "vehicle.plate": fd("vehicle.plate"),
    "child.birth": fd("child.birth", "date", validation={"not_future": True}),
    "household.size": fd("household.size", "integer", "public", validation={"minimum": 1}),
}
VEHICLE = {"field": "household.has_vehicle", "equals": True}


def version(slug, fields):
    return SimpleNamespace(service=SimpleNamespace(slug=slug), fields=fields)


TAX = version(
    "tax",
    [
        {"key": "applicant.name", "required": True},
        {"key": "applicant.national_id", "required": True},
        {"key": "household.size", "required": False},
    ],
)
TRANSPORT = version(
    "transport",
    [
        {"key": "applicant.name", "required": True},
        {"key": "applicant.phone", "required": False},
        {"key": "household.has_vehicle", "required": True},
        {"key": "vehicle.plate", "required": True, "condition": VEHICLE},
    ],
)


def test_shared_fields_are_asked_once_in_first_seen_order():
    fields = merge_fields([TAX, TRANSPORT], DICTIONARY)
    keys = [f.key for f in fields]
    assert keys == [
        "applicant.name",
        "applicant.national_id",
        "household.size",
        "applicant.phone",
        "household.has_vehicle",
        "vehicle.plate",
    ]
    assert [u.service for u in fields[0].usages] == ["tax", "transport"]


def test_a_field_required_by_one_service_is_required():
    fields = merge_fields([TAX, TRANSPORT], DICTIONARY)
    assert required_keys(fields, {}) == {
        "applicant.name",
        "applicant.national_id",
        "household.has_vehicle",
    }


def test_conditional_field_applies_only_when_its_condition_holds():
    fields = merge_fields([TRANSPORT], DICTIONARY)
    assert applicable_keys(fields, {"household.has_vehicle": False})["vehicle.plate"] is False
    assert applicable_keys(fields, {"household.has_vehicle": True})["vehicle.plate"] is True
    assert "vehicle.plate" in required_keys(fields, {"household.has_vehicle": True})


def test_unconditional_use_in_another_service_wins_over_a_condition():
    other = version("police", [{"key": "vehicle.plate", "required": True}])
    fields = merge_fields([TRANSPORT, other], DICTIONARY)
    assert applicable_keys(fields, {"household.has_vehicle": False})["vehicle.plate"] is True


def test_answers_of_fields_that_no_longer_apply_are_dropped():
    fields = merge_fields([TRANSPORT], DICTIONARY)
    kept = applicable_answers(fields, {"household.has_vehicle": False, "vehicle.plate": "京A12345"})
    assert kept == {"household.has_vehicle": False}


def test_schema_is_valid_2020_12_with_conditions_and_annotations():
    fields = merge_fields([TAX, TRANSPORT], DICTIONARY)
    schema = form_schema(fields, title="Moving")
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"].endswith("2020-12/schema")
    assert schema["additionalProperties"] is False
    assert schema["properties"]["applicant.national_id"]["format"] == "national-id"
    assert schema["properties"]["applicant.national_id"]["x-sensitivity"] == "sensitive"
    assert schema["properties"]["vehicle.plate"]["x-condition"] == VEHICLE
    assert VEHICLE_PLATE_RULE in schema["allOf"]


def test_schema_and_server_agree_on_what_is_required():
    fields = merge_fields([TAX, TRANSPORT], DICTIONARY)
    validator = Draft202012Validator(form_schema(fields), format_checker=FORMAT_CHECKER)
    for answers in ({}, {"household.has_vehicle": True}, {"household.has_vehicle": False}):
        from_schema = set()
        for error in validator.iter_errors(answers):
            if error.validator == "required":
                from_schema |= {k for k in error.validator_value if k not in answers}
        assert from_schema == required_keys(fields, answers) - set(answers)


def test_validation_reports_each_problem_on_its_field():
    fields = merge_fields([TAX, TRANSPORT], DICTIONARY)
    errors = validate_answers(
        fields,
        {
            "applicant.name": "X",
            "applicant.national_id": "110105194912310021",
            "applicant.phone": "12345",
            "household.size": 0,
            "unknown.key": 1,
        },
        partial=True,
    )
    assert set(errors) == {
        "applicant.name",
        "applicant.national_id",
        "applicant.phone",
        "household.size",
        "unknown.key",
    }
    assert "at least 2" in errors["applicant.name"][0]
    assert "ID number" in errors["applicant.national_id"][0]


def test_partial_validation_does_not_require_but_full_does():
    fields = merge_fields([TAX], DICTIONARY)
    assert validate_answers(fields, {}, partial=True) == {}
    assert set(validate_answers(fields, {}, partial=False)) == {
        "applicant.name",
        "applicant.national_id",
    }


def test_dates_not_in_the_future():
    fields = merge_fields([version("s", [{"key": "child.birth", "required": True}])], DICTIONARY)
    today = dt.date(2026, 11, 27)
    assert validate_answers(fields, {"child.birth": "2026-11-28"}, partial=True, today=today)
    assert not validate_answers(fields, {"child.birth": "2026-11-27"}, partial=True, today=today)
    assert validate_answers(fields, {"child.birth": "2026-02-30"}, partial=True, today=today)


def test_wrong_types_are_field_errors_not_crashes():
    fields = merge_fields([TAX, TRANSPORT], DICTIONARY)
    errors = validate_answers(
        fields,
        {"applicant.name": 5, "household.has_vehicle": "yes", "household.size": "3"},
        partial=True,
    )
    assert set(errors) == {"applicant.name", "household.has_vehicle", "household.size"}


def test_answers_that_are_not_an_object_are_refused():
    assert validate_answers(merge_fields([TAX], DICTIONARY), ["a"], partial=True)


@given(
    st.dictionaries(
        st.sampled_from(sorted(DICTIONARY)),
        st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=30)),
    )
)
def test_validation_never_crashes_on_arbitrary_answers(answers):
    fields = merge_fields([TAX, TRANSPORT], DICTIONARY)
    result = validate_answers(fields, answers, partial=False)
    assert isinstance(result, dict)
    assert all(isinstance(m, list) and m for m in result.values())


@pytest.mark.parametrize("partial", [True, False])
def test_a_valid_form_has_no_errors(partial):
    fields = merge_fields([TAX, TRANSPORT], DICTIONARY)
    answers = {
        "applicant.name": "Li Wei",
        "applicant.national_id": "11010519491231002X",
        "household.has_vehicle": True,
        "vehicle.plate": "京A12345",
        "household.size": 2,
    }
    assert validate_answers(fields, answers, partial=partial) == {}

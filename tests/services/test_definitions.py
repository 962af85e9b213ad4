"""Validation of a service version before it can be published: fields and the workflow DAG."""

from types import SimpleNamespace

from services.definitions import validate_version

DICTIONARY = {
    "applicant.name": SimpleNamespace(type="string", choices=[]),
    "household.has_vehicle": SimpleNamespace(type="boolean", choices=[]),
    "school.grade": SimpleNamespace(type="enum", choices=[{"value": "p1", "label": "P1"}]),
}
DEPARTMENTS = {"tax", "transport", "education"}
FIELDS = [
    {"key": "applicant.name", "required": True},
    {"key": "household.has_vehicle", "required": True},
    {
        "key": "school.grade",
        "required": False,
        "condition": {"field": "household.has_vehicle", "equals": True},
    },
]


def step(id_, department="tax", **extra):
    return {"id": id_, "department": department, "fields": ["applicant.name"], **extra}


def check(fields=FIELDS, steps=None):
    workflow = {"steps": steps if steps is not None else [step("a")]}
    return validate_version(
        fields=fields, workflow=workflow, dictionary=DICTIONARY, departments=DEPARTMENTS
    )


def test_a_valid_version_has_no_problems():
    steps = [
        step("a"),
        step("b", "transport", depends_on=["a"]),
        step("c", "education", depends_on=["a", "b"]),
    ]
    assert check(steps=steps) == {}


def test_unknown_field_is_named():
    problems = check(fields=[*FIELDS, {"key": "nope.field", "required": True}])
    assert any("“nope.field” is not in the data dictionary" in p for p in problems["fields"])


def test_unknown_department_is_named():
    problems = check(steps=[step("a", "police")])
    assert any("unknown department “police”" in p for p in problems["workflow"])


def test_cycle_is_named_with_its_steps():
    problems = check(
        steps=[
            step("a", depends_on=["c"]),
            step("b", depends_on=["a"]),
            step("c", depends_on=["b"]),
        ]
    )
    assert any("cycle" in p and "→" in p for p in problems["workflow"])


def test_self_dependency_is_a_cycle():
    assert "workflow" in check(steps=[step("a", depends_on=["a"])])


def test_step_fields_must_be_asked_by_the_version():
    problems = check(steps=[{"id": "a", "department": "tax", "fields": ["school.other"]}])
    assert any("“school.other” is not asked" in p for p in problems["workflow"])


def test_dependency_on_a_missing_step():
    problems = check(steps=[step("a", depends_on=["ghost"])])
    assert any("“ghost”" in p for p in problems["workflow"])


def test_duplicate_step_ids_and_bad_sla():
    problems = check(steps=[step("a"), step("a", sla_days=0)])
    assert any("Two steps" in p for p in problems["workflow"])
    assert any("sla_days" in p for p in problems["workflow"])


def test_condition_must_match_the_field_type():
    fields = [
        *FIELDS[:2],
        {"key": "school.grade", "condition": {"field": "household.has_vehicle", "equals": "yes"}},
    ]
    assert any("true or false" in p for p in check(fields=fields)["fields"])
    steps = [step("a", condition={"field": "school.grade", "equals": "p9"})]
    assert any("not a choice" in p for p in check(steps=steps)["workflow"])


def test_condition_on_a_field_not_asked():
    steps = [step("a", condition={"field": "vehicle.plate", "equals": True})]
    assert any("does not ask" in p for p in check(steps=steps)["workflow"])


def test_shape_errors_do_not_crash():
    assert check(fields="not a list")["fields"]
    assert validate_version(
        fields=FIELDS, workflow={"steps": "x"}, dictionary=DICTIONARY, departments=DEPARTMENTS
    )
    assert check(steps=["not a step"])["workflow"]
    assert check(steps=[step("a", on_reject="explode")])["workflow"]

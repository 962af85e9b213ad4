"""The task list of a long application (services.tasklist): sections and their status (not
started, in progress, completed, cannot start yet), "Check your answers" only once every
section is completed, and a total of steps that never grows while the citizen answers."""

import itertools
from types import SimpleNamespace

import pytest

from services import tasklist
from services.schema import MergedField, Usage


def _field(key, *, required=True, condition=None):
    section = key.split(".", 1)[0]
    definition = SimpleNamespace(key=key, section=section, section_title=section.title())
    return MergedField(
        definition=definition,
        usages=[Usage(service="moving-house", required=required, condition=condition)],
    )


HAS_VEHICLE = {"field": "household.has_vehicle", "equals": True}
HAS_CHILDREN = {"field": "household.has_school_children", "equals": True}
# The moving-house form: five sections, two of them decided by the household's answers.
FIELDS = [
    _field("applicant.full_name"),
    _field("applicant.email", required=False),
    _field("move.date"),
    _field("household.size"),
    _field("household.has_vehicle"),
    _field("household.has_school_children"),
    _field("vehicle.plate", condition=HAS_VEHICLE),
    _field("school.child_name", condition=HAS_CHILDREN),
    _field("school.grade", condition=HAS_CHILDREN),
]


def _statuses(answers, done=()):
    return {s.key: s.status for s in tasklist.sections(FIELDS, answers, done)}


def test_a_new_application_lists_every_section_that_may_apply():
    assert _statuses({}) == {
        "applicant": tasklist.NOT_STARTED,
        "move": tasklist.NOT_STARTED,
        "household": tasklist.NOT_STARTED,
        "vehicle": tasklist.CANNOT_START_YET,
        "school": tasklist.CANNOT_START_YET,
    }
    vehicle = next(s for s in tasklist.sections(FIELDS, {}) if s.key == "vehicle")
    assert vehicle.waits_for == ["Household"] and not vehicle.can_start and not vehicle.fields


def test_an_answer_starts_a_section_and_marking_it_completes_it():
    answers = {"applicant.email": "li@example.org"}
    assert _statuses(answers)["applicant"] == tasklist.IN_PROGRESS
    # Marked completed while a required answer is missing: still in progress.
    assert _statuses(answers, done=["applicant"])["applicant"] == tasklist.IN_PROGRESS
    answers["applicant.full_name"] = "Li Wei"
    assert _statuses(answers)["applicant"] == tasklist.IN_PROGRESS
    assert _statuses(answers, done=["applicant"])["applicant"] == tasklist.COMPLETED


def test_answering_the_household_opens_or_drops_the_sections_it_decides():
    answers = {"household.has_vehicle": True, "household.has_school_children": False}
    statuses = _statuses(answers)
    assert statuses["vehicle"] == tasklist.NOT_STARTED
    assert "school" not in statuses
    assert [p.key for p in tasklist.pages(FIELDS, answers)] == [
        "applicant",
        "move",
        "household",
        "vehicle",
    ]


def test_check_answers_cannot_start_until_every_section_is_completed():
    answers = {
        "applicant.full_name": "Li Wei",
        "move.date": "2026-12-15",
        "household.size": 2,
        "household.has_vehicle": False,
        "household.has_school_children": False,
    }
    partly = tasklist.sections(FIELDS, answers, ["applicant", "move"])
    assert tasklist.review_status(partly) == tasklist.CANNOT_START_YET
    every = tasklist.sections(FIELDS, answers, ["applicant", "move", "household"])
    assert [s.status for s in every] == [tasklist.COMPLETED] * 3
    assert tasklist.review_status(every) == tasklist.NOT_STARTED


def test_missing_answers_are_the_required_ones_that_apply():
    answers = {"household.has_vehicle": True}
    assert tasklist.missing_answers(FIELDS, answers, "household") == [
        "household.size",
        "household.has_school_children",
    ]
    assert tasklist.missing_answers(FIELDS, answers, "vehicle") == ["vehicle.plate"]
    assert tasklist.missing_answers(FIELDS, {"household.has_vehicle": False}, "vehicle") == []


def _journeys():
    """Every order of answering the questions, with every value of the two that decide."""
    keys = [f.key for f in FIELDS]
    for vehicle, children in itertools.product([True, False], repeat=2):
        values = {k: "x" for k in keys}
        values |= {"household.has_vehicle": vehicle, "household.has_school_children": children}
        # The two deciding questions in both orders, among the other answers at 3 places.
        for order in itertools.permutations(
            ["household.has_vehicle", "household.has_school_children"]
        ):
            rest = [k for k in keys if k not in order]
            for cut in (0, 3, len(rest)):
                yield values, rest[:cut] + list(order) + rest[cut:]


@pytest.mark.parametrize(("values", "order"), list(_journeys()))
def test_the_total_number_of_steps_never_grows_while_the_citizen_answers(values, order):
    answers: dict = {}
    total = len(tasklist.sections(FIELDS, answers))
    for key in order:
        answers[key] = values[key]
        now = len(tasklist.sections(FIELDS, answers))
        assert now <= total, f"{key} added a step"
        total = now
        # Every page the citizen can open is counted in the total.
        assert {p.key for p in tasklist.pages(FIELDS, answers)} <= {
            s.key for s in tasklist.sections(FIELDS, answers)
        }


def test_a_long_form_uses_the_task_list_and_a_short_one_does_not():
    assert tasklist.uses_task_list(FIELDS)
    assert not tasklist.uses_task_list(FIELDS[:3])  # two sections

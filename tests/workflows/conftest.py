"""Fixtures for the engine: the demo catalog and submitted applications made by the real actions."""

from io import StringIO

import pytest
from django.core.management import call_command

from services import actions
from services.selectors import versions_published_for
from tests.factories import UserFactory

MOVING = {
    "applicant.full_name": "Li Wei",
    "applicant.national_id": "11010519491231002X",
    "applicant.date_of_birth": "1980-01-01",
    "applicant.phone": "13812345678",
    "applicant.address": "北京市东城区景山前街4号",
    "move.new_address": "上海市黄浦区人民大道200号",
    "move.date": "2026-11-01",
    "household.size": 3,
    "household.has_vehicle": False,
    "household.has_school_children": False,
}


@pytest.fixture
def catalog():
    call_command("seed_demo", stdout=StringIO())


def moving_answers(*, vehicle: bool = False, school: bool = False) -> dict:
    answers = {**MOVING, "household.has_vehicle": vehicle, "household.has_school_children": school}
    if vehicle:
        answers["vehicle.plate"] = "京A12345"
    if school:
        answers |= {"school.child_name": "Li Xiaogang", "school.grade": "primary-3"}
    return answers


def submit_moving(*, citizen=None, vehicle: bool = False, school: bool = False):
    citizen = citizen or UserFactory()
    application = actions.application_create(
        citizen=citizen,
        versions=versions_published_for(slugs=["moving-house"]),
        answers=moving_answers(vehicle=vehicle, school=school),
    )
    return actions.application_submit(application=application, actor=citizen)


def expected_steps(*, vehicle: bool, school: bool) -> set[str]:
    steps = {"household", "tax"}
    if vehicle:
        steps.add("vehicle")
    if school:
        steps.add("school")
    return steps

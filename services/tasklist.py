"""The pages of an application and, for long applications, its task list.

A page is a section of the form: the key prefix of its fields (`applicant.full_name` is on the
`applicant` page, `FieldDefinition.section`). An application with `TASK_LIST_MIN_SECTIONS`
sections or more is a long one: the citizen works it from a task list (GOV.UK's pattern), one
section at a time, and says at the end of each whether it is completed; the sections marked
completed are kept in `Application.sections_done`.

The sections counted are those that apply now and those that may still apply: a section whose
questions depend on an answer not given yet "cannot start yet", and drops out once that answer
says it does not apply. So answering questions never adds a step: the total can only shrink
(only changing an earlier answer back can bring a section back, and then the citizen did it).

Pure functions over merged fields and answers: no database access.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import pgettext_lazy

from .schema import MergedField, applicable_keys, required_keys

# A form with this many sections or more is worked from a task list.
TASK_LIST_MIN_SECTIONS = 3

NOT_STARTED = "not_started"
IN_PROGRESS = "in_progress"
COMPLETED = "completed"
CANNOT_START_YET = "cannot_start_yet"

# Words of the task list's status tags (a context apart from the applications' own statuses).
STATUS_LABELS = {
    NOT_STARTED: pgettext_lazy("task list", "Not started"),
    IN_PROGRESS: pgettext_lazy("task list", "In progress"),
    COMPLETED: pgettext_lazy("task list", "Completed"),
    CANNOT_START_YET: pgettext_lazy("task list", "Cannot start yet"),
}


@dataclass
class Section:
    """One section (page) of the form as it stands for the answers given."""

    key: str
    title: str
    fields: list[MergedField] = field(default_factory=list)  # the fields that apply now
    status: str = NOT_STARTED
    # Titles of the sections holding the questions that decide whether this one applies.
    waits_for: list[str] = field(default_factory=list)

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS[self.status])

    @property
    def can_start(self) -> bool:
        return self.status != CANNOT_START_YET


def _answered(value: Any) -> bool:
    return value not in (None, "")


def possible_keys(fields: list[MergedField], answers: Mapping[str, Any]) -> dict[str, bool]:
    """Which fields apply now or may still apply: a condition whose question is not answered
    yet may still hold."""
    return applicable_keys(fields, answers, unanswered_may_hold=True)


def uses_task_list(fields: list[MergedField]) -> bool:
    """Whether the form is long enough for a task list (decided on every field the form may
    ask, so it does not change while the citizen answers)."""
    return len({f.definition.section for f in fields}) >= TASK_LIST_MIN_SECTIONS


def missing_answers(fields: list[MergedField], answers: Mapping[str, Any], section: str) -> list:
    """The required questions of `section` that apply and have no answer, in form order."""
    required = required_keys(fields, answers)
    return [
        f.key
        for f in fields
        if f.definition.section == section
        and f.key in required
        and not _answered(answers.get(f.key))
    ]


def sections(
    fields: list[MergedField], answers: Mapping[str, Any], done: Iterable[str] = ()
) -> list[Section]:
    """Every section that applies or may still apply, in order of first appearance, with its
    status; `done` holds the sections the citizen marked completed."""
    done = set(done)
    applies = applicable_keys(fields, answers)
    possible = possible_keys(fields, answers)
    by_key = {f.key: f for f in fields}
    found: dict[str, Section] = {}
    deciders: dict[str, set[str]] = {}
    for merged in fields:
        if not possible[merged.key]:
            continue
        definition = merged.definition
        section = found.setdefault(
            definition.section, Section(key=definition.section, title=definition.section_title)
        )
        if applies[merged.key]:
            section.fields.append(merged)
        else:
            for condition in merged.conditions:
                source = by_key.get(condition["field"])
                if source is not None and source.definition.section != section.key:
                    deciders.setdefault(section.key, set()).add(source.definition.section_title)
    for section in found.values():
        if not section.fields:
            section.status = CANNOT_START_YET
            section.waits_for = sorted(deciders.get(section.key, ()))
        elif section.key in done and not missing_answers(fields, answers, section.key):
            section.status = COMPLETED
        elif any(_answered(answers.get(f.key)) for f in section.fields) or section.key in done:
            section.status = IN_PROGRESS
        else:
            section.status = NOT_STARTED
    return list(found.values())


def pages(fields: list[MergedField], answers: Mapping[str, Any]) -> list[Section]:
    """The sections the citizen can open now (at least one of their questions applies)."""
    return [s for s in sections(fields, answers) if s.fields]


def review_status(all_sections: list[Section]) -> str:
    """The status of "Check your answers": it cannot start until every section is completed."""
    if all(s.status == COMPLETED for s in all_sections):
        return NOT_STARTED
    return CANNOT_START_YET

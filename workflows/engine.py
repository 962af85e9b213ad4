"""The workflow engine's functional core: `plan` decides, `advance` (in actions) applies.

`plan` is a pure function of the steps, the submitted answers and the current case states:
no database, no clock. Running it again on its own output changes nothing (a fixed point),
and its result does not depend on the order in which independent cases were decided.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from services.constants import ApplicationStatus, RejectEffect

from .constants import FINAL_CASE_STATES, CaseStatus


@dataclass(frozen=True)
class Step:
    """One step of a workflow; `key` is unique across the services of an application."""

    key: str
    department: str
    depends_on: tuple[str, ...] = ()
    condition: Mapping[str, Any] | None = None
    on_reject: str = RejectEffect.CANCEL_DEPENDENTS


@dataclass
class Plan:
    create: dict[str, str] = field(default_factory=dict)  # step key -> initial status
    transition: dict[str, str] = field(default_factory=dict)  # step key -> new status
    status: str = ApplicationStatus.IN_PROGRESS

    @property
    def is_noop(self) -> bool:
        return not self.create and not self.transition


def steps_of(service: str, workflow: Mapping[str, Any]) -> list[Step]:
    """The steps of one service version, keyed `service:step`."""
    return [
        Step(
            key=f"{service}:{s['id']}",
            department=s["department"],
            depends_on=tuple(f"{service}:{d}" for d in s.get("depends_on", [])),
            condition=s.get("condition"),
            on_reject=s.get("on_reject", RejectEffect.CANCEL_DEPENDENTS),
        )
        for s in workflow.get("steps", [])
    ]


def applies(step: Step, answers: Mapping[str, Any]) -> bool:
    return (
        step.condition is None or answers.get(step.condition["field"]) == step.condition["equals"]
    )


def _topological(steps: Sequence[Step]) -> list[Step]:
    by_key = {s.key: s for s in steps}
    done: dict[str, Step] = {}

    def visit(step: Step) -> None:
        if step.key in done:
            return
        for dep in step.depends_on:
            if dep in by_key:
                visit(by_key[dep])
        done[step.key] = step

    for step in sorted(steps, key=lambda s: s.key):
        visit(step)
    return list(done.values())


def plan(
    steps: Sequence[Step],
    answers: Mapping[str, Any],
    case_states: Mapping[str, str],
    *,
    withdrawn: bool = False,
) -> Plan:
    """What to create and change so the cases match the definition, the answers and the states."""
    result = Plan()
    applicable = [s for s in steps if applies(s, answers)]
    keys = {s.key for s in applicable}
    # The state each step will have after this plan, filled in dependency order.
    state: dict[str, str] = {}
    blocked_reject: dict[str, bool] = {}

    for step in _topological(applicable):
        current = case_states.get(step.key)
        deps = [d for d in step.depends_on if d in keys]  # a dependency that does not apply is moot
        if withdrawn or any(
            state[d] == CaseStatus.CANCELLED or blocked_reject.get(d) for d in deps
        ):
            target = CaseStatus.CANCELLED if current not in FINAL_CASE_STATES else current
        elif all(
            state[d] == CaseStatus.APPROVED
            or (state[d] == CaseStatus.REJECTED and not blocked_reject[d])
            for d in deps
        ):
            target = CaseStatus.OPEN if current in (None, CaseStatus.PENDING) else current
        else:
            target = CaseStatus.PENDING if current is None else current
        state[step.key] = target
        blocked_reject[step.key] = (
            target == CaseStatus.REJECTED and step.on_reject == RejectEffect.CANCEL_DEPENDENTS
        )
        if current is None:
            if not (withdrawn and target == CaseStatus.CANCELLED):
                result.create[step.key] = target
        elif target != current:
            result.transition[step.key] = target

    # Cases of steps that no longer apply (cannot happen after submit, kept for safety) stay.
    final_states = [state[k] for k in state]
    if withdrawn:
        result.status = ApplicationStatus.WITHDRAWN
    elif any(s == CaseStatus.AWAITING_CITIZEN for s in final_states):
        result.status = ApplicationStatus.ACTION_REQUIRED
    elif all(s in FINAL_CASE_STATES for s in final_states):
        result.status = ApplicationStatus.COMPLETED
    else:
        result.status = ApplicationStatus.IN_PROGRESS
    return result


def apply_plan(case_states: Mapping[str, str], result: Plan) -> dict[str, str]:
    """The case states after a plan (used by tests and by `advance` to reason about changes)."""
    states = dict(case_states)
    states.update(result.create)
    states.update(result.transition)
    return states

"""The engine's pure core `plan`: which cases open, wait, get cancelled, and the application's
status; property-tested on random DAGs and random decision orders (hypothesis)."""

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from workflows.constants import FINAL_CASE_STATES, CaseStatus
from workflows.engine import Step, apply_plan, plan

A, B, C, D = "s:a", "s:b", "s:c", "s:d"


def chain():
    # a -> b -> c, and d independent
    return [
        Step(A, "x"),
        Step(B, "y", depends_on=(A,)),
        Step(C, "z", depends_on=(B,)),
        Step(D, "w"),
    ]


def test_first_plan_opens_independent_steps_and_makes_the_rest_wait():
    result = plan(chain(), {}, {})
    assert result.create == {A: "open", B: "pending", C: "pending", D: "open"}
    assert result.status == "in_progress"


def test_approval_opens_the_next_step():
    states = {A: "approved", B: "pending", C: "pending", D: "open"}
    result = plan(chain(), {}, states)
    assert result.transition == {B: "open"}


def test_rejection_cancels_dependents_transitively():
    states = {A: "rejected", B: "pending", C: "pending", D: "open"}
    assert plan(chain(), {}, states).transition == {B: "cancelled", C: "cancelled"}


def test_rejection_with_continue_lets_dependents_proceed():
    steps = [Step(A, "x", on_reject="continue"), Step(B, "y", depends_on=(A,))]
    assert plan(steps, {}, {A: "rejected", B: "pending"}).transition == {B: "open"}


def test_withdrawal_cancels_every_open_case_and_creates_none():
    result = plan(chain(), {}, {A: "approved", B: "open"}, withdrawn=True)
    assert result.transition == {B: "cancelled"}
    assert result.create == {}
    assert result.status == "withdrawn"


def test_conditions_decide_which_steps_apply():
    steps = [Step(A, "x"), Step(B, "y", condition={"field": "has_car", "equals": True})]
    assert set(plan(steps, {"has_car": False}, {}).create) == {A}
    assert set(plan(steps, {"has_car": True}, {}).create) == {A, B}


def test_a_dependency_that_does_not_apply_is_ignored():
    steps = [Step(A, "x", condition={"field": "f", "equals": True}), Step(B, "y", depends_on=(A,))]
    assert plan(steps, {"f": False}, {}).create == {B: "open"}


def test_status_follows_the_cases():
    steps = [Step(A, "x"), Step(B, "y")]
    assert plan(steps, {}, {A: "awaiting_citizen", B: "open"}).status == "action_required"
    assert plan(steps, {}, {A: "approved", B: "rejected"}).status == "completed"
    assert plan(steps, {}, {A: "approved", B: "in_progress"}).status == "in_progress"


def test_no_applicable_step_completes_at_once():
    steps = [Step(A, "x", condition={"field": "f", "equals": True})]
    assert plan(steps, {}, {}).status == "completed"


def test_a_pending_case_cannot_be_skipped_by_an_awaiting_dependency():
    states = {A: "awaiting_citizen", B: "pending", C: "pending", D: "open"}
    assert plan(chain(), {}, states).is_noop


# --- Properties ---


@st.composite
def workflows(draw):
    """A random valid DAG: each step depends only on earlier ones; some conditional steps."""
    n = draw(st.integers(1, 7))
    steps = []
    for i in range(n):
        deps = tuple(f"s:{j}" for j in range(i) if draw(st.booleans()) and draw(st.booleans()))
        condition = {"field": f"q{i}", "equals": True} if draw(st.integers(0, 3)) == 0 else None
        on_reject = draw(st.sampled_from(["cancel_dependents", "continue"]))
        steps.append(
            Step(
                f"s:{i}", f"dept{i % 3}", depends_on=deps, condition=condition, on_reject=on_reject
            )
        )
    answers = {f"q{i}": draw(st.booleans()) for i in range(n)}
    decisions = {s.key: draw(st.sampled_from(["approved", "rejected"])) for s in steps}
    return steps, answers, decisions


def run(steps, answers, decisions, seed):
    """Route, then decide open cases one at a time in a random order until nothing moves."""
    rng = random.Random(seed)
    by_key = {s.key: s for s in steps}
    states: dict[str, str] = {}
    for _ in range(100):
        result = plan(steps, answers, states)
        for key, status in {**result.create, **result.transition}.items():
            if status == CaseStatus.OPEN:
                # Never opened before every applicable dependency is settled favourably.
                for dep in by_key[key].depends_on:
                    if dep in states:
                        assert states[dep] == "approved" or (
                            states[dep] == "rejected" and by_key[dep].on_reject == "continue"
                        )
        states = apply_plan(states, result)
        assert plan(steps, answers, states).is_noop  # a fixed point: advancing twice does nothing
        open_cases = sorted(k for k, s in states.items() if s == CaseStatus.OPEN)
        if not open_cases:
            return states, plan(steps, answers, states).status
        key = rng.choice(open_cases)
        states[key] = decisions[key]
    raise AssertionError("routing did not end")


@settings(max_examples=300, deadline=None)
@given(workflows(), st.integers(0, 10_000), st.integers(0, 10_000))
def test_outcome_is_independent_of_decision_order_and_every_path_ends(workflow, seed1, seed2):
    steps, answers, decisions = workflow
    first, status1 = run(steps, answers, decisions, seed1)
    second, status2 = run(steps, answers, decisions, seed2)
    assert first == second
    assert status1 == status2 == "completed"
    assert all(s in FINAL_CASE_STATES for s in first.values())
    applicable = {s.key for s in steps if s.condition is None or answers[s.condition["field"]]}
    # Exactly the applicable steps have cases (created at once; cancelled ones included).
    assert set(first) == applicable


@settings(max_examples=200, deadline=None)
@given(workflows())
def test_withdrawal_at_any_point_leaves_no_active_case(workflow):
    steps, answers, decisions = workflow
    states = apply_plan({}, plan(steps, answers, {}))
    for key in sorted(states):
        if states[key] == "open":
            states[key] = decisions[key]
            break
    states = apply_plan(states, plan(steps, answers, states))
    result = plan(steps, answers, states, withdrawn=True)
    after = apply_plan(states, result)
    assert all(s in FINAL_CASE_STATES for s in after.values())
    assert result.status == "withdrawn"

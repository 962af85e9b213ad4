"""Validation of a service version: its field list and its workflow definition (a DAG of steps).

Pure: given the dictionary and the department slugs, return every problem in words an
administrator can act on. Used by the publish action and the admin.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from django.utils.translation import gettext as _

from core.translations import problems as translation_problems

from .constants import RejectEffect
from .fields import kind_for

STEP_KEYS = {
    "id",
    "department",
    "fields",
    "depends_on",
    "condition",
    "sla_days",
    "on_reject",
    "name",
    "translations",
}


def _check_condition(condition: Any, field_keys: Mapping[str, Any], where: str) -> list[str]:
    if condition is None:
        return []
    if not isinstance(condition, Mapping) or set(condition) != {"field", "equals"}:
        return [_('%(where)s: a condition is {"field": key, "equals": value}.') % {"where": where}]
    source = condition["field"]
    if source not in field_keys:
        return [
            _("%(where)s: the condition uses “%(key)s”, which this version does not ask.")
            % {"where": where, "key": source}
        ]
    definition = field_keys[source]
    error = kind_for(definition.type).condition_error(
        definition, condition["equals"], where=where, key=source
    )
    return [error] if error else []


def validate_fields(fields: Any, dictionary: Mapping[str, Any]) -> tuple[list[str], dict[str, Any]]:
    """Problems of a version's field list, and the definitions of the keys it asks."""
    errors: list[str] = []
    asked: dict[str, Any] = {}
    if not isinstance(fields, list) or not fields:
        return [_("A version asks at least one field, as a list.")], asked
    for index, item in enumerate(fields, start=1):
        if not isinstance(item, Mapping) or "key" not in item:
            errors.append(_("Field %(n)d: give at least its “key”.") % {"n": index})
            continue
        unknown = set(item) - {"key", "required", "condition"}
        if unknown:
            errors.append(
                _("Field %(n)d: unknown settings %(names)s.")
                % {"n": index, "names": ", ".join(sorted(unknown))}
            )
        key = item["key"]
        if key not in dictionary:
            errors.append(
                _("Field %(n)d: “%(key)s” is not in the data dictionary.")
                % {"n": index, "key": key}
            )
        elif key in asked:
            errors.append(_("Field “%(key)s” is listed twice.") % {"key": key})
        else:
            asked[key] = dictionary[key]
    for item in fields:
        if isinstance(item, Mapping) and item.get("key") in asked:
            where = _("Field “%(key)s”") % {"key": item["key"]}
            if item.get("condition") and item["condition"].get("field") == item["key"]:
                errors.append(_("%(where)s: a field cannot depend on itself.") % {"where": where})
                continue
            errors += _check_condition(item.get("condition"), asked, where)
    return errors, asked


def _find_cycle(edges: Mapping[str, list[str]]) -> list[str] | None:
    """A cycle in the depends_on graph, as a list of step ids, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for dep in edges.get(node, []):
            if state.get(dep) == 1:
                return [*stack[stack.index(dep) :], dep]
            if dep not in state and (cycle := visit(dep)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in edges:
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def validate_workflow(
    workflow: Any, asked: Mapping[str, Any], departments: Collection[str]
) -> list[str]:
    """Problems of a workflow definition: shape, departments, fields, dependencies, cycles."""
    if (
        not isinstance(workflow, Mapping)
        or not isinstance(workflow.get("steps"), list)
        or not workflow["steps"]
    ):
        return [_('The workflow is {"steps": [...]} with at least one step.')]
    errors: list[str] = []
    ids: list[str] = []
    for index, step in enumerate(workflow["steps"], start=1):
        if not isinstance(step, Mapping):
            errors.append(_("Step %(n)d is not an object.") % {"n": index})
            continue
        step_id = step.get("id")
        where = _("Step “%(id)s”") % {"id": step_id or index}
        if not isinstance(step_id, str) or not step_id:
            errors.append(_("Step %(n)d has no id.") % {"n": index})
        elif step_id in ids:
            errors.append(_("Two steps have the id “%(id)s”.") % {"id": step_id})
        ids.append(step_id)
        unknown = set(step) - STEP_KEYS
        if unknown:
            errors.append(
                _("%(where)s: unknown settings %(names)s.")
                % {"where": where, "names": ", ".join(sorted(unknown))}
            )
        if step.get("department") not in departments:
            errors.append(
                _("%(where)s: unknown department “%(dept)s”.")
                % {"where": where, "dept": step.get("department")}
            )
        for key in step.get("fields", []):
            if key not in asked:
                errors.append(
                    _("%(where)s: the field “%(key)s” is not asked by this version.")
                    % {"where": where, "key": key}
                )
        sla = step.get("sla_days", 5)
        if not isinstance(sla, int) or isinstance(sla, bool) or not 1 <= sla <= 365:
            errors.append(
                _("%(where)s: sla_days is a whole number of business days from 1 to 365.")
                % {"where": where}
            )
        if step.get("on_reject", RejectEffect.CANCEL_DEPENDENTS) not in RejectEffect.values:
            errors.append(
                _("%(where)s: on_reject is one of %(values)s.")
                % {"where": where, "values": ", ".join(RejectEffect.values)}
            )
        errors += translation_problems(step.get("translations"), attrs=["name"], where=where)
        errors += _check_condition(step.get("condition"), asked, where)
    known = set(ids)
    edges: dict[str, list[str]] = {}
    for step in workflow["steps"]:
        if not isinstance(step, Mapping):
            continue
        deps = step.get("depends_on", [])
        if not isinstance(deps, list):
            errors.append(
                _("Step “%(id)s”: depends_on is a list of step ids.") % {"id": step.get("id")}
            )
            continue
        for dep in deps:
            if dep not in known:
                errors.append(
                    _("Step “%(id)s” depends on “%(dep)s”, which is not a step.")
                    % {"id": step.get("id"), "dep": dep}
                )
        edges[str(step.get("id"))] = [d for d in deps if d in known]
    cycle = _find_cycle(edges)
    if cycle:
        errors.append(
            _("The steps depend on each other in a cycle: %(cycle)s.")
            % {"cycle": " → ".join(cycle)}
        )
    return errors


def validate_version(
    *, fields: Any, workflow: Any, dictionary: Mapping[str, Any], departments: Collection[str]
) -> dict[str, list[str]]:
    """Every problem of a version, under "fields" and "workflow"; empty when it can be published."""
    field_errors, asked = validate_fields(fields, dictionary)
    workflow_errors = validate_workflow(workflow, asked, departments)
    return {k: v for k, v in (("fields", field_errors), ("workflow", workflow_errors)) if v}

"""The demo departments and citizens of `seed_demo`, read from `demo/data/demo.json`."""

from __future__ import annotations

from typing import Any

from .data import load


def __getattr__(name: str) -> Any:
    # Read on first use (the check needs the models), not when the module is imported.
    if name == "DEPARTMENTS":
        return [(d["slug"], d["name"], d["email"]) for d in load()["departments"]]
    if name == "DEPARTMENT_TRANSLATIONS":  # {slug: {"zh-hans": {"name": …}}}
        return {d["slug"]: d.get("translations", {}) for d in load()["departments"]}
    if name == "CITIZENS":
        return [(c["email"], c["full_name"]) for c in load()["citizens"]]
    raise AttributeError(name)

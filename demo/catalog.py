"""The demo catalog of `seed_demo`: the data dictionary and three life events, read from
`demo/data/demo.json` and checked by the catalog's rules when loaded (`demo.data`)."""

from __future__ import annotations

from typing import Any

from .data import load


def __getattr__(name: str) -> Any:
    # Read on first use (the check needs the models), not when the module is imported.
    if name == "FIELDS":
        return load()["fields"]
    if name == "SERVICES":
        return load()["services"]
    raise AttributeError(name)

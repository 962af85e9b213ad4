"""The repository stands on its own: no file points at a folder outside it (a sibling checkout,
a machine's absolute path) or at tracker items instead of saying what the code does."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
THIS = Path(__file__).resolve()
_SKIP_DIRS = {".git", ".venv", "var", "build", "node_modules", "__pycache__"}
_TEXT = {".py", ".md", ".html", ".txt", ".css", ".toml", ".cfg", ".sh", ".json", ".yml"}

FORBIDDEN = {
    "a sibling folder": re.compile(r"\.\./(?:shared|main|wt)\b"),
    "an absolute path of a machine": re.compile(r"(?<![\w.])/(?:work|home|root|Users)/\w"),
    "a tracker item": re.compile(
        r"\b(?:issue|ticket|task|item|story|pull request|PR)s?\s*\(?#?\d+\b\)?(?!\s*(?:s|ms|%|/))"
        r"|(?<![&\w/#])#\d{1,5}\b",
        re.IGNORECASE,
    ),
}


def _files() -> list[Path]:
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=30
        ).stdout.decode()
        paths = [ROOT / name for name in listed.split("\0") if name]
    except (OSError, subprocess.CalledProcessError):  # not a git checkout: walk the tree
        paths = [p for p in ROOT.rglob("*") if p.is_file() and not _SKIP_DIRS & set(p.parts)]
    return [
        p
        for p in paths
        if p.exists()
        and p != THIS
        and (p.suffix in _TEXT or p.name in {"Makefile", "Procfile", "run"})
    ]


def test_no_file_points_outside_the_repository_or_at_tracker_items():
    found = []
    for path in _files():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for what, pattern in FORBIDDEN.items():
                if path.suffix == ".css" and what == "a tracker item":
                    continue  # colours (#fff) are not issue numbers
                if pattern.search(line):
                    found.append(f"{path.relative_to(ROOT)}:{number}: {what}: {line.strip()}")
    assert found == []


def test_the_patterns_catch_what_they_are_for():
    lines = {
        "see " + "../" + "shared/notes.md": "a sibling folder",
        "cd /work/main && make": "an absolute path of a machine",
        "fixed in issue" + " 12": "a tracker item",
        "comes with the audit issue (6)": "a tracker item",
        "see #42": "a tracker item",
    }
    for line, what in lines.items():
        assert FORBIDDEN[what].search(line), line
    for harmless in [
        "issue_token clerk@demo.gov",
        "a task 5 s later",
        "tasks 50 ms",
        "&#123;",
        "step 1 of 3",
    ]:
        assert not any(p.search(harmless) for p in FORBIDDEN.values()), harmless

"""The built wheel is a complete site: every template, static file and translation ships inside
the `config` package, with the licence that pyproject.toml declares."""

from __future__ import annotations

import email
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {
    *("config", "core", "privacy", "accounts", "audit", "services", "workflows"),
    *("receipts", "oversight", "opendata", "integrations", "backups", "demo"),
}
# The first line of each licence's standard text, by SPDX identifier.
LICENCE_TITLES = {"EUPL-1.2": "EUROPEAN UNION PUBLIC LICENCE v. 1.2"}
_SKIP = shutil.ignore_patterns(
    ".git",
    ".venv",
    "var",
    "build",
    "results",
    "test-results",
    "*.egg-info",
    "__pycache__",
    ".*_cache",
    ".hypothesis",
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    """Build the wheel from a copy of the tree (the checkout is left untouched), with the
    environment's own setuptools: no download."""
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "src"
    shutil.copytree(ROOT, source, ignore=_SKIP)
    out = tmp / "dist"
    result = subprocess.run(
        [
            *(sys.executable, "-m", "pip", "wheel", str(source), "-w", str(out)),
            *("--no-deps", "--no-build-isolation", "--no-index", "-q"),
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (built,) = out.glob("citizen_portal-*.whl")
    with zipfile.ZipFile(built) as archive:
        yield archive


def _data_files(folder: str) -> set[str]:
    base = ROOT / "config" / folder
    if not base.exists():
        return set()
    return {
        path.relative_to(ROOT).as_posix()
        for path in base.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_the_wheel_carries_every_template_static_file_and_translation(wheel):
    names = set(wheel.namelist())
    expected = _data_files("templates") | _data_files("static") | _data_files("locale")
    assert any(name.startswith("config/templates/") for name in expected)
    assert any(name.startswith("config/static/") for name in expected)
    assert sorted(expected - names) == []


def test_the_wheel_holds_only_the_portal_packages(wheel):
    top = {name.split("/", 1)[0] for name in wheel.namelist()}
    assert {t for t in top if not t.endswith(".dist-info")} == PACKAGES


def test_the_licence_file_is_the_declared_licence_and_ships_in_the_wheel(wheel):
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"]
    licence = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert licence.strip().splitlines()[0].strip() == LICENCE_TITLES[declared]
    assert len(licence) > 10_000  # the full text, not a notice pointing elsewhere
    dist_info = next(n.split("/")[0] for n in wheel.namelist() if ".dist-info/" in n)
    assert wheel.read(f"{dist_info}/licenses/LICENSE").decode() == licence
    metadata = email.message_from_bytes(wheel.read(f"{dist_info}/METADATA"))
    assert metadata["License-Expression"] == declared

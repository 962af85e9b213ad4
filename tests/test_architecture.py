"""The layers of docs/architecture.md hold, including where import-linter does not look.

`make lint` runs import-linter's layers contract (pyproject.toml). These tests add what it
cannot see or does not forbid: an import of another of the portal's apps made inside a
function (which hides a dependency until the function runs), and the demo app in production.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The portal's apps: the packages import-linter checks, but for the project's wiring.
APPS = tuple(
    package
    for package in tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"][
        "root_packages"
    ]
    if package != "config"
)


def _modules():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield app, path


def _local_imports(tree: ast.AST):
    """Imports inside a function body, with the app they import (absolute imports only).
    `AppConfig.ready()` is the one place made for them: it runs once the models are loaded, and
    it is where an app plugs itself into the layers below."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) or node.name == "ready":
            continue
        for inner in ast.walk(node):
            if isinstance(inner, ast.ImportFrom) and inner.level == 0 and inner.module:
                yield inner.lineno, inner.module.split(".")[0]
            elif isinstance(inner, ast.Import):
                for alias in inner.names:
                    yield inner.lineno, alias.name.split(".")[0]


def test_no_app_imports_another_app_inside_a_function():
    found = [
        f"{path.relative_to(ROOT)}:{line} imports {target}"
        for app, path in _modules()
        for line, target in _local_imports(ast.parse(path.read_text(), str(path)))
        if target in APPS and target != app
    ]
    assert found == [], "cross-app imports belong at the top of the module:\n" + "\n".join(found)


def test_the_check_sees_a_function_local_import():
    source = "def f():\n    from workflows.models import Case\n    import services.models\n"
    assert list(_local_imports(ast.parse(source))) == [(2, "workflows"), (3, "services")]


def test_the_import_layers_hold():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    if not lint_imports.exists():
        pytest.fail("lint-imports is missing: install the project's dev dependencies")
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout[-3000:]


# A module that grows past this many lines is split by concern, or says at the top of its
# docstring why it is not ("Over 400 lines: ...").
LONG_MODULE = 400


def _long_without_reason(path: Path) -> bool:
    source = path.read_text()
    if source.count("\n") <= LONG_MODULE:
        return False
    docstring = ast.get_docstring(ast.parse(source, str(path))) or ""
    return f"Over {LONG_MODULE} lines" not in docstring


def test_every_long_module_says_why():
    paths = [path for _app, path in _modules()]
    paths += [
        p for folder in ("config", "bench", "tools") for p in sorted((ROOT / folder).rglob("*.py"))
    ]
    found = [
        f"{path.relative_to(ROOT)} ({path.read_text().count(chr(10))} lines)"
        for path in paths
        if "migrations" not in path.parts and _long_without_reason(path)
    ]
    assert found == [], "split these by concern, or say why not at the top:\n" + "\n".join(found)


def test_the_check_sees_a_long_module(tmp_path):
    long = tmp_path / "long.py"
    long.write_text('"""A module."""\n' + "x = 1\n" * LONG_MODULE)
    assert _long_without_reason(long)
    long.write_text('"""A module.\n\nOver 400 lines: a reason."""\n' + "x = 1\n" * LONG_MODULE)
    assert not _long_without_reason(long)
    long.write_text('"""A module."""\n' + "x = 1\n" * (LONG_MODULE - 1))
    assert not _long_without_reason(long)


def test_production_settings_install_no_demo_app():
    from config.settings import base

    assert "demo" not in base.INSTALLED_APPS
    prod = (ROOT / "config" / "settings" / "prod.py").read_text()
    assert '"demo"' not in prod


# Where memberships may be read: the model, its admin and its serializer, the writes that keep
# the departments' groups in step (`department_groups_sync`), the list of a user's memberships
# shown on their home page and `/me` (`memberships_for_user`), and the demo data. Every access
# decision reads object permissions instead (docs/permissions.md).
MEMBERSHIP_READERS = {
    "accounts/models.py",
    "accounts/admin.py",
    "accounts/serializers.py",
    "accounts/actions.py",
    "accounts/selectors.py",
}


def _membership_reads(tree: ast.AST):
    """Lines that name the `Membership` model or follow a `memberships` relation."""
    for node in ast.walk(tree):
        named = isinstance(node, ast.Name) and node.id == "Membership"
        if named or (isinstance(node, ast.Attribute) and node.attr == "memberships"):
            yield node.lineno
        elif isinstance(node, ast.keyword) and (node.arg or "").startswith("memberships__"):
            yield node.value.lineno


def test_no_access_decision_reads_memberships():
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for app, path in _modules()
        if app != "demo" and str(path.relative_to(ROOT)) not in MEMBERSHIP_READERS
        for line in _membership_reads(ast.parse(path.read_text()))
    ]
    assert found == [], "read the object permissions (workflows.permissions) instead"


def test_the_check_sees_a_membership_read():
    code = (
        "Membership.objects.filter(user=u)\n"
        "u.memberships.all()\n"
        "User.objects.filter(memberships__role='lead')\n"
    )
    assert sorted(_membership_reads(ast.parse(code))) == [1, 2, 3]

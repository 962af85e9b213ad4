"""The documentation matches the code: docs/api.md lists every operation of the OpenAPI schema
with its pagination, and docs/operations.md every variable the code reads from the environment
(and no variable that nothing reads)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
API_DOC = ROOT / "docs" / "api.md"
OPERATIONS_DOC = ROOT / "docs" / "operations.md"

# --- docs/api.md against the OpenAPI schema ---------------------------------------------------

_METHODS = ("get", "post", "put", "patch", "delete")
_ENDPOINT_ROW = re.compile(
    r"^\| `(GET|POST|PUT|PATCH|DELETE) (/api/\S+)` \| (page|cursor|capped|none) \|", re.M
)


def _schema() -> dict:
    """The schema `manage.py spectacular` prints and /api/schema/ serves."""
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def _pagination(schema: dict, operation: dict) -> str:
    """How an operation's answer is paged, from the schema alone: a page number, a cursor, a
    list in one answer (`results` without either), or a single object."""
    query = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
    if "page" in query:
        return "page"
    if "cursor" in query:
        return "cursor"
    body = operation["responses"].get("200", {}).get("content", {}).get("application/json", {})
    shape = body.get("schema", {})
    if "$ref" in shape:
        shape = schema["components"]["schemas"][shape["$ref"].rsplit("/", 1)[-1]]
    if shape.get("properties", {}).get("results", {}).get("type") == "array":
        return "capped"
    return "none"


def _documented_endpoints() -> dict[tuple[str, str], str]:
    text = API_DOC.read_text(encoding="utf-8")
    section = text[text.index("\n## Endpoints\n") :]
    rows = [(m[1], m[2], m[3]) for m in _ENDPOINT_ROW.finditer(section)]
    found = {(method, path): pagination for method, path, pagination in rows}
    assert len(found) == len(rows), "an endpoint is listed twice in docs/api.md"
    return found


def test_api_doc_lists_every_endpoint_of_the_schema_with_its_pagination():
    schema = _schema()
    in_schema = {
        (method.upper(), path): _pagination(schema, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in _METHODS
    }
    documented = _documented_endpoints()
    assert sorted(set(in_schema) - set(documented)) == [], "in the schema, not in docs/api.md"
    assert sorted(set(documented) - set(in_schema)) == [], "in docs/api.md, not in the schema"
    wrong = {k: (documented[k], v) for k, v in in_schema.items() if documented[k] != v}
    assert wrong == {}, "pagination in docs/api.md (documented, actual)"


def test_the_pagination_classes_are_what_the_schema_says():
    """The words of the table mean what the API does: a page-number list has a count, a cursor
    list none, and each is read with its own parameter."""
    schema = _schema()
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            kind = _pagination(schema, operation)
            if kind not in ("page", "cursor"):
                continue
            body = operation["responses"]["200"]["content"]["application/json"]["schema"]
            shape = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[-1]]
            fields = set(shape["properties"])
            assert {"next", "results"} <= fields, (method, path)
            assert ("count" in fields) == (kind == "page"), (method, path)


# --- docs/operations.md against the environment variables the code reads ---------------------

# Where the portal reads its configuration: the settings and entry points, the apps (keys, demo
# accounts), and the Procfile's shell expansions.
SCANNED = [
    "config",
    "core",
    "privacy",
    "accounts",
    "services",
    "workflows",
    "audit",
    "demo",
    "backups",
    "integrations",
]
# The helpers that read a variable named by their caller (whose calls are scanned instead).
HELPERS = {"env_str", "env_int", "env_bool", "env_list"}
HELPER_MODULE = ROOT / "config" / "settings" / "env.py"
_VAR = re.compile(r"^[A-Z][A-Z0-9_]*$")


def _is_environ(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "environ"
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    )


def _env_name_args(tree: ast.Module) -> Iterator[ast.AST]:
    """Every expression that names a variable read from the environment."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            from_environ = isinstance(func, ast.Attribute) and (
                (_is_environ(func.value) and func.attr in ("get", "setdefault", "pop"))
                or (func.attr == "getenv" and getattr(func.value, "id", "") == "os")
            )
            if name in HELPERS or from_environ:
                yield node.args[0]
        elif isinstance(node, ast.Subscript) and _is_environ(node.value):
            yield node.slice
        elif isinstance(node, ast.Compare) and any(_is_environ(c) for c in node.comparators):
            yield node.left


def _constants(tree: ast.Module) -> dict[str, list[str]]:
    """Names that stand for variable names: module constants (`ENV_KEYS = "..."`) and the
    targets of loops over a literal tuple of them (`for name in ("A", ENV_B): ...`)."""
    known: dict[str, list[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name) and isinstance(node.value.value, str):
                    known[target.id] = [node.value.value]
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.For)
            and isinstance(node.target, ast.Name)
            and isinstance(node.iter, ast.Tuple | ast.List)
        ):
            values: list[str] = []
            for item in node.iter.elts:
                if isinstance(item, ast.Constant) and isinstance(item.value, str):
                    values.append(item.value)
                elif isinstance(item, ast.Name) and item.id in known:
                    values.extend(known[item.id])
                else:
                    break
            else:
                known[node.target.id] = values
    return known


def variables_read_by_the_code() -> dict[str, set[str]]:
    """Each variable the code reads, with the files that read it. A read whose variable cannot
    be told from the source fails the test: say it with a literal or a module constant."""
    found: dict[str, set[str]] = {}
    unknown: list[str] = []
    for package in SCANNED:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path == HELPER_MODULE:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            known = _constants(tree)
            where = path.relative_to(ROOT).as_posix()
            for arg in _env_name_args(tree):
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    names = [arg.value]
                elif isinstance(arg, ast.Name) and arg.id in known:
                    names = known[arg.id]
                else:
                    unknown.append(f"{where}:{arg.lineno}")
                    continue
                for name in names:
                    found.setdefault(name, set()).add(where)
    procfile = (ROOT / "Procfile").read_text()
    for name in re.findall(r"\$\{?([A-Z][A-Z0-9_]*)", procfile):
        found.setdefault(name, set()).add("Procfile")
    assert unknown == [], "environment reads whose variable the test cannot tell"
    return found


def _table_rows(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("|")]


def _backticked(text: str) -> set[str]:
    return {name for name in re.findall(r"`([^`\s]+)`", text) if _VAR.match(name)}


def test_the_scan_finds_reads_of_every_form():
    code = (
        "import os\n"
        "KEY = 'V_CONSTANT'\n"
        "env_str('V_HELPER', '')\n"
        "os.environ.get('V_GET')\n"
        "os.environ['V_ITEM']\n"
        "os.environ.setdefault('V_DEFAULT', 'x')\n"
        "os.getenv(KEY)\n"
        "'V_IN' in os.environ\n"
        "for n in ('V_LOOP', KEY):\n"
        "    os.environ.get(n)\n"
    )
    tree = ast.parse(code)
    known = _constants(tree)
    names = set()
    for arg in _env_name_args(tree):
        names.update([arg.value] if isinstance(arg, ast.Constant) else known[arg.id])
    assert names == {
        "V_CONSTANT",
        "V_HELPER",
        "V_GET",
        "V_ITEM",
        "V_DEFAULT",
        "V_IN",
        "V_LOOP",
    }


def test_operations_doc_lists_every_environment_variable_the_code_reads():
    read = variables_read_by_the_code()
    assert {"DATABASE_URL", "PORTAL_BASE_URL", "PORTAL_ENCRYPTION_KEYS", "WORKER_QUEUES"} <= set(
        read
    )
    documented = _backticked("\n".join(_table_rows(OPERATIONS_DOC.read_text(encoding="utf-8"))))
    missing = {name: sorted(read[name]) for name in sorted(set(read) - documented)}
    assert missing == {}, "read from the environment but not in a table of docs/operations.md"


def test_operations_doc_configuration_names_only_variables_the_code_reads():
    text = OPERATIONS_DOC.read_text(encoding="utf-8")
    start = text.index("\n## Configuration (environment)\n")
    section = text[start : text.index("\n## ", start + 1)]
    first_cells = [row.split("|")[1] for row in _table_rows(section)]
    listed = set().union(*(_backticked(cell) for cell in first_cells))
    assert len(listed) > 40
    stale = sorted(listed - set(variables_read_by_the_code()))
    assert stale == [], "documented in docs/operations.md but read nowhere"


@pytest.mark.parametrize("doc", [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"])
def test_docs_link_only_to_files_that_exist(doc):
    text = doc.read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if "://" in target:
            continue
        assert (doc.parent / target).exists(), f"{doc.name} links to {target}"

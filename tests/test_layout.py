"""The house's layout (issue #15): apps meet through their public modules only, and
`relations/` stays a set of rooms a newcomer can scan, not an attic."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APPS = (
    "accounts",
    "connections",
    "dashboards",
    "demo",
    "metrics",
    "networks",
    "relations",
    "reviews",
)
# Where one app may not reach into another: its pages and forms are its own.
PRIVATE_MODULES = ("views", "forms")
RELATIONS_TOP_LEVEL_MODULES_MAX = 15


def _imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, module, imported names) of every absolute import in a file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            found.extend((node.lineno, a.name, []) for a in node.names)
    return found


def _crossings(app: str) -> list[str]:
    crossings = []
    for path in sorted((ROOT / app).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for line, module, names in _imports(path):
            parts = module.split(".")
            if parts[0] not in APPS or parts[0] == app:
                continue
            where = f"{path.relative_to(ROOT)}:{line}"
            if any(part in PRIVATE_MODULES for part in parts[1:]):
                crossings.append(f"{where} imports {module}")
            private = [n for n in names if n.startswith("_")]
            if private or any(part.startswith("_") for part in parts[1:]):
                crossings.append(f"{where} imports private {module} {private}")
    return crossings


def test_no_app_imports_another_apps_views_forms_or_private_names():
    crossings = [c for app in APPS for c in _crossings(app)]
    assert crossings == []


def test_the_scan_finds_a_crossing(tmp_path, monkeypatch):
    # The scan must see what it forbids, or the test above could never fail.
    app = tmp_path / "dashboards"
    app.mkdir()
    (app / "pages.py").write_text("from relations.views import stakeholder_detail\n")
    (app / "other.py").write_text("from relations.services import _audit\n")
    monkeypatch.setattr(__import__(__name__, fromlist=["ROOT"]), "ROOT", tmp_path)
    assert len(_crossings("dashboards")) == 2


def test_relations_has_few_top_level_modules():
    modules = sorted(p.name for p in (ROOT / "relations").glob("*.py") if p.name != "__init__.py")
    assert len(modules) <= RELATIONS_TOP_LEVEL_MODULES_MAX, modules

"""Dependencies point one way: `feedback` → `delegation` → `empower`.

The organization knows nothing of authority, authority knows nothing of surveys. This walks every
module of the three apps (migrations and management commands included) and reads its imports at
any depth, function-level ones too, so a late `from feedback import …` inside a function is caught
as well. The project package `config/` knows every app and is not checked.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# app → the apps it must never import
FORBIDDEN = {
    "empower": {"delegation", "feedback"},
    "delegation": {"feedback"},
    "feedback": set(),
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module) of every import in the file, relative ones resolved."""
    module = _module_name(path)
    # A package's own name is the base of its relative imports; a module's, its package's.
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.append((node.lineno, target))
    return found


def _violations(app: str) -> list[str]:
    forbidden = FORBIDDEN[app]
    found = []
    for path in sorted((ROOT / app).rglob("*.py")):
        for line, target in _imports(path):
            if target.split(".")[0] in forbidden:
                found.append(f"{_module_name(path)} (line {line}) imports {target}")
    return found


@pytest.mark.parametrize("app", sorted(FORBIDDEN))
def test_apps_depend_one_way_only(app):
    assert (ROOT / app / "models.py").exists()  # the walk looks where the app is
    assert _violations(app) == [], f"{app} must not import {sorted(FORBIDDEN[app])}"


def test_the_walk_sees_every_kind_of_import(tmp_path, monkeypatch):
    """The checker itself: plain, from-, relative and function-level imports are all found."""
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    app = tmp_path / "empower"
    (app / "sub").mkdir(parents=True)
    (app / "models.py").write_text("")
    (app / "sub" / "__init__.py").write_text("")
    (app / "plain.py").write_text("import os\nimport delegation.models\n")
    (app / "sub" / "late.py").write_text(
        "def f():\n    from feedback.services import survey_token\n    from .. import models\n"
    )
    (app / "sub" / "relative.py").write_text("from ...delegation import selectors\n")
    assert _violations("empower") == [
        "empower.plain (line 2) imports delegation.models",
        "empower.sub.late (line 2) imports feedback.services",
        "empower.sub.relative (line 1) imports delegation",
    ]


def test_the_contracts_entry_points_are_thin_aliases_of_the_project_package():
    """`empower.wsgi:application` and `celery -A empower` (which resolves the app as `find_app` does)."""
    from celery.app.utils import find_app
    from django.core.handlers.wsgi import WSGIHandler

    import config.celery
    import config.wsgi
    import empower.wsgi

    assert isinstance(empower.wsgi.application, WSGIHandler)
    assert empower.wsgi.application is config.wsgi.application
    assert find_app("empower") is config.celery.app

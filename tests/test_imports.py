"""conversations/ is the pure core: it imports no channel, web, database or image library, nor the outer layers."""

import ast
from pathlib import Path

import pytest

import conversations

FORBIDDEN = {"aiohttp", "telegram", "sqlalchemy", "openpyxl", "asyncpg", "aiosqlite", "PIL", "bot", "storage",
             "exports", "alembic", "requests", "httpx"}
MODULES = sorted(Path(conversations.__file__).parent.rglob("*.py"))


def imported_packages(path: Path) -> set[str]:
    """The top-level package of every import in a module (relative imports stay inside the package)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_modules__conversations_package__found():
    assert {"engine.py", "form.py", "answers.py", "parsers.py", "texts.py"} <= {p.name for p in MODULES}


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_imports__conversations_module__no_io_library_nor_outer_layer(path):
    assert set() == imported_packages(path) & FORBIDDEN


def test_imported_packages__forbidden_import_in_a_function__is_found(tmp_path):
    """The check also sees imports hidden inside functions."""
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from storage.models import Report\n    import PIL.Image\n")
    assert {"storage", "PIL"} == imported_packages(module)

"""The import rules: conversations/ is the pure core (no channel, web, database or image library, nor the outer
layers); bot/ has no import cycle between its modules, and each of its modules is short and says what it is."""

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


# --- bot/: no import cycle between its modules ---------------------------------------------------------------
#
# Every import counts as an edge, wherever it stands: at the top of a module, inside a function (a lazy import
# still ties the two modules together; it only hides the cycle until the function runs) or under
# `if TYPE_CHECKING:`. An edge may be left out of the check only by naming it in LAZY_EDGES_ALLOWED with the
# reason it is safe; the list is empty and should stay so. Importing `bot.a.b` is an edge to `bot.a.b` itself (a
# package's __init__ only holds its docstring, so the parent packages are not counted as edges).

BOT_ROOT = Path(conversations.__file__).parent.parent / "bot"
LAZY_EDGES_ALLOWED: dict[tuple[str, str], str] = {}


def module_name(path: Path, root: Path = BOT_ROOT) -> str:
    parts = [root.name, *path.relative_to(root).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def bot_modules(root: Path = BOT_ROOT) -> dict[str, Path]:
    return {module_name(p, root): p for p in sorted(root.rglob("*.py"))}


def import_edges(path: Path, name: str, known: set[str]) -> set[str]:
    """The modules of `known` that the module imports, anywhere in its text (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def add(target: str) -> None:
        while target and target not in known:  # `import bot.x.y.Thing` style: the longest known module
            target = target.rpartition(".")[0]
        if target and target != name:
            found.add(target)

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for alias in node.names:  # `from bot import reminders` imports the module bot.reminders
                if f"{module}.{alias.name}" in known:
                    add(f"{module}.{alias.name}")
                else:
                    add(module)
    return found


def import_graph(root: Path = BOT_ROOT) -> dict[str, set[str]]:
    modules = bot_modules(root)
    graph = {name: import_edges(path, name, set(modules)) for name, path in modules.items()}
    for (importer, imported) in LAZY_EDGES_ALLOWED:
        graph[importer].discard(imported)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a path whose first and last module are the same, or None."""
    done: set[str] = set()
    stack: list[str] = []
    on_stack: set[str] = set()

    def visit(node: str) -> list[str] | None:
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt in on_stack:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in done:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        stack.pop()
        on_stack.discard(node)
        done.add(node)
        return None

    for start in sorted(graph):
        if start not in done:
            cycle = visit(start)
            if cycle:
                return cycle
    return None


def test_import_graph__bot_package__modules_and_edges_found():
    graph = import_graph()
    assert {"bot.cli", "bot.service", "bot.channels.telegram", "bot.channels.zalo"} <= set(graph)
    assert "bot.service" in graph["bot.channels.telegram"]
    assert "bot.channels.telegram" in graph["bot.runner"]  # a lazy import inside a function counts


def test_import_graph__bot_package__no_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle in bot/: " + " -> ".join(cycle)


def test_find_cycle__lazy_and_relative_imports__cycle_found(tmp_path):
    """A cycle closed by a function-level `from . import` is found and printed as a path."""
    root = tmp_path / "bot"
    (root / "sub").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "sub" / "__init__.py").write_text("")
    (root / "a.py").write_text("from bot.sub import b\n")
    (root / "sub" / "b.py").write_text("from . import c\n")
    (root / "sub" / "c.py").write_text("def f():\n    from ..a import thing\n")
    assert ["bot.a", "bot.sub.b", "bot.sub.c", "bot.a"] == find_cycle(import_graph(root))


def test_find_cycle__no_cycle__none(tmp_path):
    root = tmp_path / "bot"
    root.mkdir()
    (root / "__init__.py").write_text("")
    (root / "a.py").write_text("import bot.b\n")
    (root / "b.py").write_text("import os\n")
    assert find_cycle(import_graph(root)) is None


MAX_LINES = 500


@pytest.mark.parametrize("path", sorted(BOT_ROOT.rglob("*.py")), ids=lambda p: str(p.relative_to(BOT_ROOT)))
def test_bot_module__opens_with_a_docstring_and_stays_short(path):
    text = path.read_text(encoding="utf-8")
    docstring = ast.get_docstring(ast.parse(text))
    assert docstring and docstring.splitlines()[0].strip(), "a module opens with a one-line docstring"
    assert len(text.splitlines()) <= MAX_LINES

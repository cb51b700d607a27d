"""The rooms' imports point one way (``hooks → sync_queue ← worker → plex``, all may use ``validation``) and no
module imports itself back through others, counting every import, in functions and type-only ones included.

A circle drawn only for the type checker is still a circle to a reader."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ROOMS = ("hooks", "sync_queue", "worker", "plex", "validation", "emulators")
# What each room may import besides itself and the standard library and its dependencies. The emulators stand in
# for Plex and Stash and run the plugin as Stash does; the product never imports them.
MAY_IMPORT = {
    "hooks": {"sync_queue", "validation"},
    "sync_queue": {"validation"},
    "worker": {"sync_queue", "plex", "validation"},
    "plex": {"validation"},
    "validation": set(),
    "emulators": {"sync_queue", "plex", "validation"},
}


def _modules() -> dict[str, Path]:
    found = {"PlexSync": REPO / "PlexSync.py"}
    for room in ROOMS:
        for path in (REPO / room).rglob("*.py"):
            parts = path.relative_to(REPO).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _imports(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project's modules ``module`` imports (``from a import b`` names a.b when b is a module)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    named: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            named.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            named.add(base)
            named.update(f"{base}.{alias.name}" for alias in node.names)
    found = set()
    for name in named:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        if name and name != module:
            found.add(name)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {module: _imports(module, path, modules) for module, path in modules.items()}


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                circles.append(sorted(group))

    for node in graph:
        if node not in index:
            visit(node)
    return circles


def test_no_module_imports_itself_back_through_others():
    assert _circles(_graph()) == []


def test_each_room_imports_only_the_rooms_it_may():
    wrong = sorted(f"{module} → {target}" for module, targets in _graph().items() for target in targets
                   if module != "PlexSync" and target.split(".")[0] != module.split(".")[0]
                   and target.split(".")[0] not in MAY_IMPORT[module.split(".")[0]])
    assert wrong == []


def test_the_checks_see_a_circle_and_a_wrong_way_import():
    """The graph is read right: a planted circle and an import against the rooms' direction are both found."""
    graph = {"worker.a": {"worker.b"}, "worker.b": {"worker.a", "plex.c"}, "plex.c": set()}
    assert _circles(graph) == [["worker.a", "worker.b"]]
    assert "plex.library_index" in _graph()["worker.sync.index_refresh"]

"""The package's shape, checked: stages import downwards only (no cycles), the lowest layers
know nothing of rendering, process plumbing lives in workers.py, and no module grows past
what one sitting can read."""

from __future__ import annotations

import ast
from pathlib import Path

from support import REPO

PACKAGE = REPO / "generator"
MAX_LINES = 400


def imports() -> dict[str, set[str]]:
    """Module -> the generator modules it imports, at the top or inside functions."""
    graph: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.glob("*.py")):
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                if node.module == "generator":
                    found.update(alias.name for alias in node.names if (PACKAGE / f"{alias.name}.py").is_file())
                elif node.module.startswith("generator."):
                    found.add(node.module.split(".")[1])
            elif isinstance(node, ast.Import):
                found.update(alias.name.split(".")[1] for alias in node.names if alias.name.startswith("generator."))
        graph[path.stem] = found - {path.stem}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import cycle, as the path that closes it (depth-first search)."""
    found, state = [], {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for other in sorted(graph.get(module, ())):
            if state.get(other) == "open":
                found.append(path[path.index(other):] + [other])
            elif other not in state:
                visit(other, path + [other])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    return found


def test_the_cycle_check_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_imports_itself_back():
    graph = imports()
    assert {"parse", "catalog", "render", "write", "build", "cli", "serve"} <= set(graph)
    assert cycles(graph) == []


def test_the_lowest_layers_know_nothing_above_them():
    graph = imports()
    assert "render" not in graph["write"] and "render" not in graph["search"]
    assert "cli" not in graph["serve"] and "build" not in graph["serve"]
    for low in ("reading", "metadata", "diagnostics", "output", "workers"):
        assert not graph[low] - {"diagnostics", "metadata"}, (low, graph[low])


def test_process_plumbing_lives_in_workers():
    for path in sorted(PACKAGE.glob("*.py")):
        if path.stem == "workers":
            continue
        text = path.read_text(encoding="utf-8")
        assert "import multiprocessing" not in text and "os.fork(" not in text, path.name
        assert "sched_getaffinity" not in text, path.name


def test_no_module_is_longer_than_one_sitting():
    long = {path.name: count for path in PACKAGE.glob("*.py")
            if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}

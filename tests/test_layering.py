"""The house's shape: imports run one way (core -> doors -> cli), never in a cycle, no door
reaches into another door's private names, and no source file grows past about 500 lines.

Imports are read from the source (``ast``), lazy ones inside functions included: a lazy
import still ties two modules together, it only defers the cost.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "langlock"
MAX_LINES = 520

#: Each top-level part of the package and its layer: a module may import its own part and
#: parts of a lower layer only, so doors of one layer do not import each other. The core
#: (layer 0) is one unit: its parts may import each other (the cycle test still holds).
LAYERS: dict[str, float] = {
    "policy": 0,
    "io": 0,
    "text": 0,
    "decoding": 1,
    "guarding": 2,
    "clean": 2,
    # The package root: the core's API and, lazily, ``lock``, ``guard`` and ``aguard``.
    "": 2.5,
    "eval": 3,
    # Pairs come from the eval's backends and remedies; the trained adapter goes back to eval.
    "training": 3.5,
    "cli": 4,
    "__main__": 5,
}


def module_name(path: Path, src: Path = SRC) -> str:
    parts = path.relative_to(src).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(package: Path = PACKAGE) -> dict[str, Path]:
    return {module_name(p, package.parent): p for p in sorted(package.rglob("*.py"))}


def part_of(module: str) -> str:
    """``langlock.text.check`` -> ``text``; the package itself -> ``""``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def imports(module: str, path: Path, known: set[str]) -> Iterator[tuple[str, set[str]]]:
    """Every langlock module that ``module`` imports, with the names it takes from it."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_package = path.name == "__init__.py"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("langlock"):
                    yield alias.name, set()
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if not target.startswith("langlock"):
                continue
            names = {alias.name for alias in node.names}
            submodules = {n for n in names if f"{target}.{n}" in known}
            if submodules:
                for name in submodules:
                    yield f"{target}.{name}", set()
            if names - submodules:
                yield target, names - submodules


def import_graph(package: Path = PACKAGE) -> dict[str, dict[str, set[str]]]:
    found = modules(package)
    known = set(found)
    graph: dict[str, dict[str, set[str]]] = {}
    for module, path in found.items():
        edges: dict[str, set[str]] = {}
        for target, names in imports(module, path, known):
            if target != module:
                edges.setdefault(target, set()).update(names)
        graph[module] = edges
    return graph


def test_every_part_has_a_layer() -> None:
    parts = {part_of(m) for m in modules()}
    assert parts <= set(LAYERS), f"give these a layer: {sorted(parts - set(LAYERS))}"


def against_layers(graph: dict[str, dict[str, set[str]]]) -> list[str]:
    wrong = []
    for module, edges in graph.items():
        source = LAYERS[part_of(module)]
        for target in edges:
            if part_of(target) == part_of(module):
                continue
            dest = LAYERS[part_of(target)]
            if dest > source or (dest == source and source > 0):
                wrong.append(f"{module} -> {target}")
    return sorted(wrong)


def first_cycle(graph: dict[str, dict[str, set[str]]]) -> list[str] | None:
    edges_of = {m: set(edges) for m, edges in graph.items()}
    # Importing ``a.b.c`` runs ``a/__init__`` and ``a.b/__init__`` first.
    for module, edges in edges_of.items():
        for target in list(edges):
            parts = target.split(".")
            edges.update(".".join(parts[:i]) for i in range(2, len(parts)))
        edges.discard(module)
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges_of.get(node, ())):
            # A package's own __init__ importing its submodules is how packages work.
            if nxt.startswith(node + "."):
                continue
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt in edges_of and not state.get(nxt) and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges_of):
        if not state.get(node) and (cycle := visit(node)):
            return cycle
    return None


def private_takes(graph: dict[str, dict[str, set[str]]]) -> list[str]:
    wrong = []
    for module, edges in graph.items():
        for target, names in edges.items():
            if part_of(target) == part_of(module):
                continue
            private = sorted(n for n in names if n.startswith("_"))
            hidden_module = any(p.startswith("_") for p in target.split(".")[1:])
            if private or hidden_module:
                wrong.append(f"{module} -> {target}: {', '.join(private) or 'private module'}")
    return wrong


def test_imports_run_one_way() -> None:
    wrong = against_layers(import_graph())
    assert not wrong, "imports against the layers:\n" + "\n".join(wrong)


def test_no_import_cycle() -> None:
    cycle = first_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_no_door_takes_another_doors_private_names() -> None:
    wrong = private_takes(import_graph())
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("root", ["src", "tests", "benchmarks", "scripts"])
def test_no_source_file_over_about_500_lines(root: str) -> None:
    folder = SRC.parent / root
    long = {
        str(p.relative_to(SRC.parent)): n
        for p in sorted(folder.rglob("*.py"))
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, f"split these: {long}"


def test_the_graph_sees_lazy_and_relative_imports() -> None:
    """The walker itself: a lazy import inside a function is an edge too."""
    graph = import_graph()
    assert "langlock.policy" in graph["langlock.text.check"]
    lazy = graph["langlock"]
    assert any(t.startswith("langlock.decoding") for t in lazy), lazy


def test_the_rules_catch_what_they_forbid(tmp_path: Path) -> None:
    """A made-up package with one of each fault: every rule reports its own."""
    files = {
        "__init__.py": "",
        "text/__init__.py": "",
        "text/a.py": "from langlock.eval.b import run\n",
        "eval/__init__.py": "",
        "eval/b.py": "def run():\n    from langlock.text.a import run\n",
        "cli/__init__.py": "from langlock.clean.c import _secret\n",
        "clean/__init__.py": "",
        "clean/c.py": "from ..guarding import x\n",
        "guarding/__init__.py": "",
    }
    for name, text in files.items():
        (tmp_path / "langlock" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "langlock" / name).write_text(text)
    graph = import_graph(tmp_path / "langlock")
    assert against_layers(graph) == [
        "langlock.clean.c -> langlock.guarding",
        "langlock.text.a -> langlock.eval.b",
    ]
    assert first_cycle(graph) == ["langlock.eval.b", "langlock.text.a", "langlock.eval.b"]
    assert private_takes(graph) == ["langlock.cli -> langlock.clean.c: _secret"]

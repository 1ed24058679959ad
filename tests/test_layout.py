"""The shape of the package: stages in pipeline order, imports pointing one way, no cycles.

Read from the source with ``ast`` (nothing is imported), so a change that breaks the layout
fails here with the offending import named, before it becomes a tangle.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest
from setuptools import find_packages

from assistant.config import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "assistant"
MAX_LINES = 400

# The pipeline, first stage first. A module may import from its own stage and earlier ones;
# a stage is a module or a whole subpackage (matched by the longest dotted prefix).
LAYERS = [
    ["assistant.errors", "assistant.text", "assistant.config"],
    ["assistant.markup", "assistant.tables"],
    ["assistant.documents"],
    ["assistant.chunking"],
    ["assistant.embeddings", "assistant.keywords", "assistant.vectors", "assistant.keyterms"],
    ["assistant.database"],
    ["assistant.store"],
    ["assistant.sync"],
    ["assistant.retrieval"],
    ["assistant.llm"],
    ["assistant.prompts", "assistant.citations"],
    ["assistant.grounding"],
    ["assistant.answer"],
    ["assistant.highlights"],
    ["assistant.conversation"],
    ["assistant.pipeline", "assistant.uploads"],
    ["assistant.api"],
    ["assistant.evaluation"],
    ["assistant.cli"],
]
# What the app, its pages and the scripts may import: the public API, not the internals.
PUBLIC = {"assistant", "assistant.evaluation", "ui_common"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def first_party(node: ast.AST) -> list[str]:
    """The assistant modules an import statement names (``from pkg import module`` resolved)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] == "assistant"]
    if not isinstance(node, ast.ImportFrom) or not (node.module or "").startswith("assistant"):
        return []
    names = [f"{node.module}.{alias.name}" for alias in node.names]
    return [name if name in MODULES else node.module for name in names]


def module_level_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        found.update(first_party(node))
    return found


def imports_inside_functions(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    hidden = []
    for function in ast.walk(tree):
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in ast.walk(function):
                hidden += [f"{function.name}() imports {name}" for name in first_party(node)]
    return hidden


GRAPH = {name: module_level_imports(path) for name, path in MODULES.items()}


def layer(module: str) -> int:
    matches = [
        (len(stage), number)
        for number, stages in enumerate(LAYERS)
        for stage in stages
        if module == stage or module.startswith(stage + ".")
    ]
    if not matches:
        raise AssertionError(f"{module} is in no layer of tests/test_layout.py: place it there")
    return max(matches)[1]


def test_every_module_has_a_place_in_the_pipeline():
    for module in MODULES:
        if module != "assistant":  # the package itself is the public API over all stages
            layer(module)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_first_party_import_is_hidden_inside_a_function(module):
    assert imports_inside_functions(MODULES[module]) == []


def test_dependencies_point_one_way():
    backwards = [
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        if module != "assistant"
        for target in targets
        if target != "assistant" and layer(target) > layer(module)
    ]
    assert backwards == []
    inside = [module for module, targets in GRAPH.items() if "assistant" in targets]
    assert inside == [], "modules of the package import the public API (assistant/__init__.py)"


def test_no_import_cycles():
    visiting: list[str] = []
    done: set[str] = set()

    def visit(module: str) -> None:
        if module in visiting:
            cycle = visiting[visiting.index(module) :] + [module]
            raise AssertionError("import cycle: " + " -> ".join(cycle))
        if module in done:
            return
        visiting.append(module)
        for target in sorted(GRAPH.get(module, ())):
            visit(target)
        visiting.pop()
        done.add(module)

    for module in sorted(GRAPH):
        visit(module)


def test_the_app_pages_and_scripts_use_the_public_api():
    files = [PROJECT_ROOT / "streamlit_app.py", PROJECT_ROOT / "ui_common.py"]
    files += sorted((PROJECT_ROOT / "pages").glob("*.py"))
    files += sorted((PROJECT_ROOT / "scripts").glob("*.py"))
    private = []
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            private += [f"{path.name} imports {m}" for m in first_party(node) if m not in PUBLIC]
    assert private == []


def test_no_module_is_over_the_size_limit():
    long = {
        name: count
        for name, path in MODULES.items()
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_the_wheel_holds_every_subpackage():
    config = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    include = config["tool"]["setuptools"]["packages"]["find"]["include"]
    packaged = set(find_packages(str(PROJECT_ROOT), include=include))
    on_disk = {module_name(p.parent / "__init__.py") for p in PACKAGE.rglob("__init__.py")}
    assert on_disk <= packaged

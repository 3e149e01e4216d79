"""The package's import graph, read with ast (imports inside functions count): no cycles, no module outside a
layer folder, and no import from a higher layer (data → models → training → evaluation → application → cli,
shared/ARCHITECTURE.md)."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "rewardkit"

LAYERS = (
    # shaping: pure functions of floats (rewardkit.shaping), usable from every layer above.
    ("rewardkit.errors", "rewardkit.atomic", "rewardkit.version", "rewardkit.shaping"),
    ("rewardkit.data",),
    ("rewardkit.synth",),
    # export writes a scalar model's ONNX form, which models/onnx_scalar.py runs: one layer with the models; and
    # machine, which records what a model was made or checked on.
    ("rewardkit.models", "rewardkit.export", "rewardkit.machine"),
    ("rewardkit.training",),
    # a family record joins a model (models) with its objectives (training); the package itself sits here
    # since `rewardkit.load` reads the family registry.
    ("rewardkit.families", "rewardkit"),
    ("rewardkit.evaluation",),
    ("rewardkit.scale",),
    # rerank, annotate and their adaptive Best-of-N budget: they write through scale's resumable output.
    ("rewardkit.application",),
    ("rewardkit.serving", "rewardkit.client", "rewardkit.integrations"),
    ("rewardkit.cli",),
)
"""Lowest first. A module is in the layer of the longest prefix that names it."""


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, known: set[str]) -> set[str]:
    """Every rewardkit module `path` imports, at module level or inside functions."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for alias in node.names:  # `from rewardkit.synth import quality` imports the module quality
                found.add(f"{module}.{alias.name}" if f"{module}.{alias.name}" in known else module)
    return {module for module in found if module in known and module != name}


def graph() -> dict[str, set[str]]:
    files = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    return {name: imported_modules(path, set(files)) for name, path in files.items()}


def layer_of(module: str) -> int | None:
    matches = [(len(prefix), rank) for rank, prefixes in enumerate(LAYERS) for prefix in prefixes
               if module == prefix or module.startswith(prefix + ".") and prefix != "rewardkit"]
    return max(matches)[1] if matches else None


def test_every_module_is_in_a_layer():
    assert [name for name in graph() if layer_of(name) is None] == []


def test_no_module_imports_from_a_higher_layer():
    upward = [f"{name} → {target}" for name, targets in graph().items() for target in targets
              if layer_of(target) > layer_of(name)]
    assert upward == []


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles():
    assert cycles(graph()) == []


def test_layer_of_reads_the_longest_prefix():
    assert layer_of("rewardkit.data.schemas") < layer_of("rewardkit.models.scalar") < layer_of("rewardkit.cli.app")
    assert layer_of("rewardkit.export.folder") == layer_of("rewardkit.models.scalar") < layer_of("rewardkit")
    assert layer_of("rewardkit.training.loop") < layer_of("rewardkit.families.scalar") == layer_of("rewardkit")
    assert layer_of("rewardkit.quickstart") is None  # a root module outside every layer folder

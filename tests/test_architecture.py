"""The package's shape: no import cycles, no module reading another module's private names,
lower layers free of presentation."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "hwcost"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, ast.Module]:
    return {_module_name(p): ast.parse(p.read_text(), str(p)) for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(modules: dict[str, ast.Module]):
    """(importer, imported module, names, node) for every import of a hwcost module, anywhere."""
    packages = {m for m in modules if (PACKAGE.parent / m.replace(".", "/") / "__init__.py").exists()}
    for name, tree in modules.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("hwcost"):
                        yield name, alias.name, (), node
            elif isinstance(node, ast.ImportFrom):
                target = _resolve(name, name in packages, node)
                if not target.startswith("hwcost"):
                    continue
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    if sub in modules:  # "from hwcost import perf": the submodule itself
                        yield name, sub, (), node
                    else:
                        yield name, target, (alias.name,), node


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for importer, imported, _, _ in _imports(modules):
        # importing a.b.c runs a and a.b first; an edge to the module itself is what matters
        if imported in modules and imported != importer:
            graph[importer].add(imported)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_inside_hwcost():
    # Imports inside functions count too: a lazy import only hides a cycle.
    assert _cycles(_graph()) == []


def test_no_module_imports_a_private_name_of_another():
    modules = _modules()
    problems = []
    for importer, imported, names, node in _imports(modules):
        for n in names:
            if n.startswith("_") and not n.startswith("__") and imported != importer:
                problems.append(f"{importer} imports {imported}.{n} (line {node.lineno})")
    # attribute access on an imported hwcost module: perf._logit(...)
    for name, tree in modules.items():
        aliases = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("hwcost")):
                for a in node.names:
                    aliases[a.asname or a.name] = a.name
            elif isinstance(node, ast.Import):
                for a in node.names:
                    if a.name.startswith("hwcost"):
                        aliases[a.asname or a.name.split(".")[0]] = a.name
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in aliases and node.attr.startswith("_")
                    and not node.attr.startswith("__")):
                problems.append(f"{name} reads {node.value.id}.{node.attr} (line {node.lineno})")
    assert problems == []


def test_lower_layers_do_not_import_presentation():
    graph = _graph()
    presentation = {"hwcost.report", "hwcost.notebook", "hwcost.cli", "hwcost.charts"}
    for low in ("hwcost.catalog", "hwcost.requirements", "hwcost.scenario", "hwcost.economics",
                "hwcost.recommend", "hwcost.perf.api", "hwcost.serving.simulator"):
        assert not graph[low] & presentation, (low, graph[low] & presentation)
    for base in ("hwcost.errors", "hwcost.units"):
        assert graph[base] == set()

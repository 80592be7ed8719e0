"""Data flows one way: bundle -> sources -> parsers -> model -> combine -> graph/trace -> rules ->
findings -> renderers. Read from the source with `ast`: no module imports a higher layer, and the
module import graph has no cycle (imports under `if TYPE_CHECKING:` count for neither: they are
types only)."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parents[1]

# lowest first; a module may import its own layer and the ones before it
LAYERS: list[tuple[str, ...]] = [
    ("netsnap.sources", "netsnap.source_docs", "netsnap.model", "netsnap.__init__"),
    ("netsnap.bundle",),
    ("netsnap.parsers", "netsnap.flannel", "netsnap.secgroups"),
    ("netsnap.load",),
    ("netsnap.combine",),
    ("netsnap.trace",),
    ("netsnap.graph",),
    ("netsnap.engine", "netsnap.builtin_rules"),
    ("netsnap.diff", "netsnap.report"),
    ("netsnap.cli", "netsnap.__main__"),
]


def _module_of(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[0] == "rules":
        parts[0:1] = ["netsnap", "builtin_rules"]
    if parts[-1] == "__init__" and len(parts) > 2:
        parts = parts[:-1]
    return ".".join(parts)


def _layer(module: str) -> int:
    for n, prefixes in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return n
    raise AssertionError(f"{module} is in no layer: add it to LAYERS")


def _runtime_imports(tree: ast.Module, module: str) -> set[str]:
    out: set[str] = set()

    def visit(node: ast.AST, typing_only: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                for sub in child.body:
                    visit(sub, True)
                for sub in child.orelse:
                    visit(sub, typing_only)
                continue
            if not typing_only:
                if isinstance(child, ast.Import):
                    out.update(a.name for a in child.names)
                elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                    out.add(child.module)
                    out.update(f"{child.module}.{a.name}" for a in child.names)
            visit(child, typing_only)

    visit(tree, False)
    return {m for m in out if m.startswith("netsnap")}


def _graph() -> tuple[nx.DiGraph, dict[str, set[str]]]:
    files = [*ROOT.glob("netsnap/**/*.py"), *ROOT.glob("rules/*.py")]
    modules = {_module_of(f): f for f in files}
    g = nx.DiGraph()
    edges: dict[str, set[str]] = {}
    for mod, path in modules.items():
        g.add_node(mod)
        targets = set()
        for imp in _runtime_imports(ast.parse(path.read_text(encoding="utf-8")), mod):
            target = imp
            while target not in modules and "." in target:
                target = target.rsplit(".", 1)[0]
            if target in modules and target != mod and not mod.startswith(target + "."):
                targets.add(target)
        edges[mod] = targets
        g.add_edges_from((mod, t) for t in targets)
    return g, edges


def test_no_upward_import() -> None:
    _, edges = _graph()
    upward = sorted(f"{m} (layer {_layer(m)}) imports {t} (layer {_layer(t)})"
                    for m, ts in edges.items() for t in ts if _layer(t) > _layer(m))
    assert upward == []


def test_no_import_cycle() -> None:
    g, _ = _graph()
    assert list(nx.simple_cycles(g)) == []


def test_every_module_has_a_layer() -> None:
    g, _ = _graph()
    for mod in g.nodes:
        _layer(mod)

"""The package's import structure follows DESIGN.md section 2.

Every ``import`` statement in ``skelbehave/`` is parsed with :mod:`ast` (at
module level, inside functions and classes, under ``if TYPE_CHECKING``,
relative and absolute) and checked against the layer order

    errors, _util -> layouts -> poses -> io, datasets, pose -> temporal -> features
    -> encoding -> models -> pipeline -> batch, evaluation, ablation, plots
    -> workflows -> cli

The tests fail on (a) an import cycle between modules, (b) an import that goes
up the layer order, (c) a private name (``_x``, or a private module such as
``features._kernels``) imported from another package, and on modules longer
than 600 lines. The top package's ``__init__.py`` is the public face: it may
import from every layer (it is not part of the graph). Standard library only.
"""

from __future__ import annotations

import ast
from pathlib import Path

PKG = "skelbehave"
ROOT = Path(__file__).resolve().parents[1] / PKG
MAX_LINES = 600

#: DESIGN.md section 2, bottom to top; modules of one entry share a layer
LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors", "_util", "_version", "_data"),
    ("layouts",),
    ("poses",),
    ("io", "datasets", "pose"),
    ("temporal",),
    ("features",),
    ("encoding",),
    ("models",),
    ("pipeline",),
    ("batch", "evaluation", "ablation", "plots"),
    ("workflows", "demo"),
    ("cli", "__main__"),
)
LAYER = {name: k for k, names in enumerate(LAYERS) for name in names}
#: private top-level modules shared by design (the bottom layer), not "private names"
SHARED_PRIVATE = {"_util", "_version", "_data"}


# ----------------------------------------------------------------------------- graph
def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _is_package(mods: dict[str, Path], name: str) -> bool:
    return name in mods and mods[name].name == "__init__.py"


def _resolve_relative(mods: dict[str, Path], src: str, level: int, module: str | None) -> str:
    base = src.split(".")
    if not _is_package(mods, src):
        base = base[:-1]  # a module's relative imports start at its package
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join([*base, *([module] if module else [])])


def _imports(mods: dict[str, Path]) -> list[tuple[str, str, str | None, int]]:
    """(importing module, imported module, imported name or None, line) for every import."""
    out = []
    for src, path in mods.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    if a.name == PKG or a.name.startswith(PKG + "."):
                        out.append((src, a.name, None, node.lineno))
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    target = _resolve_relative(mods, src, node.level, node.module)
                elif node.module and (node.module == PKG or node.module.startswith(PKG + ".")):
                    target = node.module
                else:
                    continue
                for a in node.names:
                    sub = f"{target}.{a.name}"
                    if sub in mods:  # ``from pkg import module``
                        out.append((src, sub, None, node.lineno))
                    else:
                        out.append((src, target, a.name, node.lineno))
    return out


def _edges(mods: dict[str, Path]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in mods if m != PKG}
    for src, dst, _name, _line in _imports(mods):
        if src == PKG or dst == PKG or src == dst:
            continue  # the public face is not part of the graph
        graph[src].add(dst)
    return graph


def _top(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _package_of(mods: dict[str, Path], name: str) -> str:
    return name if _is_package(mods, name) else name.rsplit(".", 1)[0]


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    comps: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in graph:
                    continue
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        comps.append(sorted(comp))
    return comps


# ----------------------------------------------------------------------------- tests
def test_graph_sees_imports_inside_functions():
    mods = _modules()
    found = {(s, d) for s, d, _n, _l in _imports(mods)}
    # cli/ablate_cmd.py imports the ablation inside its ``run`` function
    assert ("skelbehave.cli.ablate_cmd", "skelbehave.ablation") in found
    assert len(found) > 100


def test_every_module_has_a_layer():
    unknown = sorted(m for m in _modules() if m != PKG and _top(m) not in LAYER)
    assert not unknown, f"modules outside the layer order of DESIGN.md section 2: {unknown}"


def test_no_import_cycles():
    mods = _modules()
    graph = _edges(mods)
    comps = _cycles(graph)
    lines = []
    for comp in comps:
        members = set(comp)
        edges = sorted(f"{a} -> {b}" for a in comp for b in graph[a] if b in members)
        lines.append(f"cycle among {comp}:\n    " + "\n    ".join(edges))
    assert not comps, f"{len(comps)} import cycle(s):\n" + "\n".join(lines)


def test_no_import_goes_up_the_layers():
    mods = _modules()
    bad = set()
    for src, dst, _name, line in _imports(mods):
        if src == PKG or dst == PKG:
            continue
        a, b = LAYER.get(_top(src)), LAYER.get(_top(dst))
        if a is not None and b is not None and b > a:
            bad.add(f"{src} (layer {_top(src)}) -> {dst} (layer {_top(dst)}), line {line}")
    assert not bad, f"{len(bad)} import(s) up the layer order:\n  " + "\n  ".join(sorted(bad))


def test_no_private_names_across_packages():
    mods = _modules()
    bad = set()
    for src, dst, name, line in _imports(mods):
        if src == PKG or dst == PKG:
            continue
        if _package_of(mods, src) == _package_of(mods, dst):
            continue  # inside one package, private names are fine
        rel = dst.split(".")[1:]
        private_mod = [p for p in rel if p.startswith("_") and not p.startswith("__")]
        private_mod = [p for p in private_mod if not (p == rel[0] and p in SHARED_PRIVATE)]
        private_name = name is not None and name.startswith("_") and not name.startswith("__")
        if private_mod or private_name:
            what = f"{dst}.{name}" if name else dst
            bad.add(f"{src} imports {what}, line {line}")
    assert not bad, f"{len(bad)} private name(s) imported across packages:\n  " + "\n  ".join(sorted(bad))


def test_no_module_over_600_lines():
    long = {
        str(p.relative_to(ROOT.parent)): n
        for p in ROOT.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines: {dict(sorted(long.items()))}"


def test_checker_finds_a_planted_cycle_and_upward_edge():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]
    assert LAYER["cli"] > LAYER["pipeline"] > LAYER["features"] > LAYER["poses"] > LAYER["errors"]

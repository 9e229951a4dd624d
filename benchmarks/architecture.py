"""Structure figures of the ``nasbench`` package: layers, cycles, files per algorithm, repeats.

Reads the source as text (``ast``), so it measures any checkout without importing
torch. Every ``import`` statement counts, the ones inside functions (lazy imports)
included; registries that name built-in modules as strings do not import them,
so those strings are not edges (that is how a low registry lists high modules).

Figures:

- layer violations: imports between two packages that do not point down the order
  ``nasbench.LAYERS`` declares (upward, or sideways within one layer);
- import cycles: strongly connected components of the package graph (a package is
  a ``LAYERS`` entry: ``nasbench.<name>``, the longest entry that prefixes a module);
- files to read per algorithm: the module that defines a registered strategy plus the
  algorithm modules (``strategies``/``evaluation``) it imports directly;
- repeated blocks: pairs of places sharing six or more lines (``duplicates --most 200``);
- ``Any`` for the core nouns: parameters named genotype/space/supernet/method/run typed ``Any``.

Usage:
    python benchmarks/architecture.py             # this checkout
    python benchmarks/architecture.py --json a.json
"""

from __future__ import annotations

import argparse
import ast
import re
import shutil
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from _script import output_file, run_main, write_json

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "nasbench"
ALGORITHM_PACKAGES = ("nasbench.strategies", "nasbench.evaluation")
CORE_NOUNS = ("genotype", "space", "supernet", "method", "run")


@dataclass(frozen=True)
class Edge:
    """One import statement from ``source`` (a module) of ``target`` (a module)."""

    source: str
    target: str
    line: int


def module_name(path: Path, root: Path = ROOT) -> str:
    """Dotted module name of a file below ``root`` (``pkg/__init__.py`` -> ``pkg``)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_modules(package: Path = PACKAGE) -> dict[str, Path]:
    """Every module of the package, by dotted name."""
    return {module_name(p, package.parent): p for p in sorted(package.rglob("*.py"))}


def import_edges(modules: dict[str, Path], prefix: str = "nasbench") -> list[Edge]:
    """Imports of ``prefix`` modules anywhere in each file (lazy imports included).

    ``from a.b import c`` is an edge to ``a.b.c`` when that is a module, else to ``a.b``.
    """
    edges = []
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                subs = [f"{node.module}.{a.name}" for a in node.names]
                targets = [s for s in subs if s in modules] or [node.module]
            else:
                continue
            for target in targets:
                if target == prefix or target.startswith(prefix + "."):
                    edges.append(Edge(name, _known(target, modules), node.lineno))
    return edges


def _known(target: str, modules: dict[str, Path]) -> str:
    while target not in modules and "." in target:
        target = target.rsplit(".", 1)[0]
    return target


def read_layers(package: Path = PACKAGE) -> tuple[tuple[str, ...], ...]:
    """The ``LAYERS`` tuple written in the package's ``__init__.py`` (bottom first)."""
    tree = ast.parse((package / "__init__.py").read_text())
    for node in tree.body:
        target = getattr(node, "target", None) or (getattr(node, "targets", None) or [None])[0]
        if isinstance(target, ast.Name) and target.id == "LAYERS":
            return ast.literal_eval(node.value)
    raise SystemExit(f"{package / '__init__.py'} declares no LAYERS tuple.")


def unit_of(module: str, layers: Sequence[Sequence[str]], prefix: str = "nasbench") -> str:
    """The ``LAYERS`` entry a module belongs to: the longest entry prefixing it."""
    if module == prefix:
        return "__init__"
    best = ""
    for layer in layers:
        for entry in layer:
            full = f"{prefix}.{entry}"
            if (module == full or module.startswith(full + ".")) and len(entry) > len(best):
                best = entry
    return best or module.split(".")[1]


def layer_index(layers: Sequence[Sequence[str]]) -> dict[str, int]:
    """Layer number of every entry (0 = bottom)."""
    return {entry: i for i, layer in enumerate(layers) for entry in layer}


def layer_violations(
    edges: Iterable[Edge], layers: Sequence[Sequence[str]]
) -> list[tuple[Edge, str, str]]:
    """Edges between two units that do not point to a lower layer: (edge, from, to)."""
    index = layer_index(layers)
    bad = []
    for edge in edges:
        a, b = unit_of(edge.source, layers), unit_of(edge.target, layers)
        if a == b:
            continue
        if a not in index or b not in index:
            bad.append((edge, a, b))  # a package the order does not name is a violation
        elif index[b] >= index[a]:
            bad.append((edge, a, b))
    return bad


def unit_graph(edges: Iterable[Edge], layers: Sequence[Sequence[str]]) -> dict[str, set[str]]:
    """Package-level import graph (self-edges dropped)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for edge in edges:
        a, b = unit_of(edge.source, layers), unit_of(edge.target, layers)
        if a != b:
            graph[a].add(b)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    nodes = set(graph) | {n for targets in graph.values() for n in targets}
    for node in sorted(nodes):
        if node not in index:
            visit(node)
    return found


def mutual_pairs(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    """Package pairs that import each other directly."""
    return sorted((a, b) for a in graph for b in graph[a] if a < b and a in graph.get(b, ()))


def strategy_modules() -> dict[str, str]:
    """Registered strategy name -> module that defines its class (imports nasbench)."""
    sys.path.insert(0, str(ROOT))
    from nasbench.strategies import get_strategy, strategy_names

    return {name: get_strategy(name).cls.__module__ for name in strategy_names()}


def files_per_algorithm(
    algorithms: dict[str, str], edges: Iterable[Edge], modules: dict[str, Path]
) -> dict[str, list[str]]:
    """For each algorithm: its module plus the algorithm modules it imports directly.

    Package ``__init__`` modules (re-exports, registries) are not counted.
    """
    packages = {m for m, p in modules.items() if p.name == "__init__.py"}
    by_source: dict[str, set[str]] = defaultdict(set)
    for edge in edges:
        if edge.target.startswith(ALGORITHM_PACKAGES) and edge.target not in packages:
            by_source[edge.source].add(edge.target)
    return {
        name: sorted({module} | by_source.get(module, set()))
        for name, module in sorted(algorithms.items())
    }


def repeated_blocks(folder: Path = PACKAGE) -> int | None:
    """Pairs of places sharing six or more lines, by ``duplicates --most 200`` (None: no tool)."""
    tool = shutil.which("duplicates")
    if tool is None:
        return None
    out = subprocess.run(
        [tool, "--most", "200", "--repo", str(folder), "--seconds", "120"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    match = re.match(r"(\d+) pairs", out)
    return int(match.group(1)) if match else 0


def any_nouns(modules: dict[str, Path]) -> dict[str, int]:
    """Parameters named after a core noun and annotated ``Any``, per noun."""
    counts = dict.fromkeys(CORE_NOUNS, 0)
    for path in modules.values():
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            args = node.args
            for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs]:
                if arg.arg in counts and ast.unparse(arg.annotation or ast.Constant(None)) == "Any":
                    counts[arg.arg] += 1
    return counts


def measure() -> dict:
    """Every figure of this module for the checkout it lives in."""
    modules = package_modules()
    layers = read_layers()
    edges = import_edges(modules)
    graph = unit_graph(edges, layers)
    violations = layer_violations(edges, layers)
    per_algorithm = files_per_algorithm(strategy_modules(), edges, modules)
    sizes = [len(files) for files in per_algorithm.values()]
    return {
        "modules": len(modules),
        "lines": sum(len(p.read_text().splitlines()) for p in modules.values()),
        "layer_violations": len(violations),
        "violating_package_pairs": sorted({f"{a} -> {b}" for _, a, b in violations}),
        "cycles": cycles(graph),
        "mutual_pairs": [f"{a} <-> {b}" for a, b in mutual_pairs(graph)],
        "files_per_algorithm": per_algorithm,
        "files_per_algorithm_max": max(sizes),
        "files_per_algorithm_mean": round(sum(sizes) / len(sizes), 2),
        "repeated_blocks": repeated_blocks(),
        "any_core_nouns": any_nouns(modules),
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=output_file, help="also write the figures to this file")
    args = parser.parse_args(argv)
    figures = measure()
    print(f"modules {figures['modules']}, lines {figures['lines']}")
    print(f"layer violations (upward or sideways imports): {figures['layer_violations']}")
    for pair in figures["violating_package_pairs"]:
        print(f"  {pair}")
    print(f"import cycles between packages: {len(figures['cycles'])}")
    for component in figures["cycles"]:
        print(f"  {len(component)} packages: {', '.join(component)}")
    print(f"packages importing each other: {len(figures['mutual_pairs'])}")
    for pair in figures["mutual_pairs"]:
        print(f"  {pair}")
    print(
        f"files to read per algorithm: max {figures['files_per_algorithm_max']}, "
        f"mean {figures['files_per_algorithm_mean']}"
    )
    for name, files in figures["files_per_algorithm"].items():
        print(f"  {name:<14} {len(files)}  {' '.join(f.removeprefix('nasbench.') for f in files)}")
    print(f"repeated blocks (duplicates --most 200, nasbench/): {figures['repeated_blocks']}")
    print(f"parameters typed Any, by noun: {figures['any_core_nouns']}")
    if args.json:
        write_json(args.json, figures)


if __name__ == "__main__":
    raise SystemExit(run_main(main))

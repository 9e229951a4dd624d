"""Imports point down the layer order ``nasbench.LAYERS`` declares, lazy ones included."""

from __future__ import annotations

import pytest

import nasbench


@pytest.fixture(scope="module")
def arch(load_benchmark):
    return load_benchmark("architecture")


def test_no_import_points_up_or_sideways(arch):
    layers = arch.read_layers()
    assert layers == nasbench.LAYERS
    edges = arch.import_edges(arch.package_modules())
    bad = [
        f"{e.source}:{e.line} imports {e.target} ({a} -> {b})"
        for e, a, b in arch.layer_violations(edges, layers)
    ]
    assert not bad, "imports against nasbench.LAYERS:\n" + "\n".join(bad)


def test_every_package_is_placed_in_a_layer(arch):
    placed = arch.layer_index(nasbench.LAYERS)
    for module in arch.package_modules():
        assert arch.unit_of(module, nasbench.LAYERS) in placed, module


def test_the_checker_sees_lazy_upward_imports(arch, tmp_path):
    pkg = tmp_path / "nasbench"
    (pkg / "spaces").mkdir(parents=True)
    (pkg / "models").mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "models" / "__init__.py").write_text("from nasbench.spaces import grid\n")
    (pkg / "spaces" / "__init__.py").write_text("")
    (pkg / "spaces" / "grid.py").write_text(
        "def build():\n    from nasbench.models import net\n    return net\n"
    )
    (pkg / "models" / "net.py").write_text("")
    layers = (("spaces",), ("models",))
    edges = arch.import_edges(arch.package_modules(pkg))
    bad = arch.layer_violations(edges, layers)
    assert [(e.source, e.target, e.line, a, b) for e, a, b in bad] == [
        ("nasbench.spaces.grid", "nasbench.models.net", 2, "spaces", "models")
    ]
    graph = arch.unit_graph(edges, layers)
    assert arch.cycles(graph) == [["models", "spaces"]]
    assert arch.mutual_pairs(graph) == [("models", "spaces")]


def widget_imports(modules) -> list[str]:
    """``module:line`` of each import of ``widgets`` or ``ipywidgets`` (lazy ones too)."""
    import ast

    found = []
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                targets = [node.module]
            else:
                continue
            if any(t.split(".")[0] in ("widgets", "ipywidgets") for t in targets):
                found.append(f"{name}:{node.lineno}")
    return found


def test_the_engine_never_imports_the_widgets(arch, tmp_path):
    """`widgets` sits on top: what the Runs tab and the CLI both read (a Launcher's folder
    before its store, nasbench.runs.launched) lives in the engine, never the other way."""
    assert widget_imports(arch.package_modules()) == []
    pkg = tmp_path / "nasbench"
    (pkg / "runs").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "runs" / "__init__.py").write_text("")
    (pkg / "runs" / "peek.py").write_text("def f():\n    from widgets.monitor import x\n")
    assert widget_imports(arch.package_modules(pkg)) == ["nasbench.runs.peek:2"]

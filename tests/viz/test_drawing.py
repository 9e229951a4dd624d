"""Tests for nasbench.viz graphviz drawings and their rendering without a system Graphviz."""

from __future__ import annotations

import dataclasses
import importlib
import re
from xml.etree import ElementTree

import pytest

from nasbench.spaces.cell import CellSpace
from nasbench.spaces.genotype import ChainGenotype, ChainLayer, NB201Genotype
from nasbench.spaces.nb201 import NB201Space
from nasbench.spaces.skeleton import Skeleton
from nasbench.spaces.zoo import zoo
from nasbench.viz import (
    GraphvizError,
    diff_edges,
    draw_chain,
    draw_genotype,
    draw_nb201,
    draw_network,
    draw_supernet,
    render,
    save,
)
from nasbench.viz.palette import HIGHLIGHT_COLOR, op_color

# The package exports the function render(), which hides the submodule of the same name.
render_module = importlib.import_module("nasbench.viz.render")

EDGE_RE = re.compile(r"^\s*(\w+) -> (\w+)(?: \[(.*)\])?$", re.M)
NODE_RE = re.compile(r"^\s*(\w+) \[label=", re.M)


def edges(source: str) -> list[tuple[str, str, str]]:
    """(tail, head, attributes) of every edge statement in DOT source."""
    return [(a, b, attrs or "") for a, b, attrs in EDGE_RE.findall(source)]


@pytest.fixture
def no_system_dot(monkeypatch, tmp_path):
    """A PATH with no `dot` on it, so the engine must be graphviz-pure from PyPI."""
    monkeypatch.setenv("PATH", str(tmp_path))
    engine = render_module.find_engine()
    assert engine.name == "graphviz-pure"
    return engine


@pytest.fixture(scope="module")
def darts_v2():
    return zoo["DARTS_V2"]


def test_darts_v2_renders_svg_without_system_graphviz(no_system_dot, darts_v2):
    svg = render(draw_genotype(darts_v2), "svg")
    root = ElementTree.fromstring(svg)  # well-formed SVG; entities such as &#45; decoded
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    for text in ("normal cell", "reduction cell"):
        assert texts.count(text) == 1
    # c_{k-2}, c_{k-1}, c_k with real subscripts (Graphviz HTML labels), once per cell.
    subscripts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")
                  if t.get("baseline-shift") == "sub"]  # fmt: skip
    assert sorted(subscripts) == sorted(["k−2", "k−1", "k"] * 2)
    assert texts.count("c") == 6 and not any("{" in (t or "") for t in texts)
    ops = [op for op, _ in darts_v2.normal + darts_v2.reduce]
    assert sorted(t for t in texts if t in set(ops)) == sorted(ops)


def test_notebook_display_uses_our_engine(no_system_dot, darts_v2):
    bundle = draw_genotype(darts_v2, cell="normal")._repr_mimebundle_()
    assert sorted(bundle) == ["image/svg+xml", "text/html"]
    assert "sep_conv_3x3" in bundle["image/svg+xml"]
    # JupyterLab shows the HTML: the same SVG inline, where its max-width rule applies.
    assert bundle["text/html"].startswith('<svg style="max-width: 100%; height: auto"')
    assert bundle["image/svg+xml"].endswith(bundle["text/html"])
    only_svg = draw_genotype(darts_v2, cell="normal")._repr_mimebundle_(include=["image/svg+xml"])
    assert list(only_svg) == ["image/svg+xml"]


@pytest.mark.parametrize("cell", ["normal", "reduce", "both"])
def test_genotype_source_matches_the_cells(darts_v2, cell):
    source = draw_genotype(darts_v2, cell=cell, stacked=False).source
    cells = ("normal", "reduce") if cell == "both" else (cell,)
    for cell_type in cells:
        pairs, concat = darts_v2.cell(cell_type)
        mine = [e for e in edges(source) if e[1].startswith(cell_type)]
        op_edges = [e for e in mine if "label=" in e[2]]
        assert len(op_edges) == len(pairs) == 8
        drawn = sorted(re.search(r"label=(\w+)", e[2]).group(1) for e in op_edges)
        assert drawn == sorted(op for op, _ in pairs)
        assert len([e for e in mine if e[1] == f"{cell_type}_out"]) == len(concat)
        nodes = [n for n in NODE_RE.findall(source) if n.startswith(cell_type)]
        assert len(nodes) == 2 + darts_v2.n_nodes + 1
    # The one edge between the clusters is invisible (it only keeps them side by side).
    cross = [e for e in edges(source) if e[0].split("_")[0] != e[1].split("_")[0]]
    assert [e[2] for e in cross] == (["style=invis"] if cell == "both" else [])


def test_edge_colour_follows_op_family(darts_v2):
    source = draw_genotype(darts_v2, cell="reduce").source
    for _, _, attrs in edges(source):
        op = re.search(r"label=(\w+)", attrs)
        if op:
            assert f'color="{op_color(op.group(1))}"' in attrs
    assert op_color("sep_conv_3x3") == op_color("sep_conv_5x5") != op_color("max_pool_3x3")


def test_unknown_cell_is_a_one_line_error(darts_v2):
    with pytest.raises(Exception, match="Unknown cell 'normall'") as info:
        draw_genotype(darts_v2, cell="normall")
    assert "\n" not in str(info.value)


def _changed(g):
    """DARTS_V2 with normal node 3's dil_conv edge turned into sep_conv_5x5 and reduce node 0
    reading c_{k-1} twice."""
    normal = list(g.normal)
    normal[7] = ("sep_conv_5x5", 2)
    reduce = list(g.reduce)
    reduce[0] = ("max_pool_3x3", 1)
    return dataclasses.replace(g, normal=tuple(normal), reduce=tuple(reduce))


def test_diff_edges_and_highlight_mark_exactly_the_differences(darts_v2):
    other = _changed(darts_v2)
    assert diff_edges(darts_v2, darts_v2) == set()
    assert diff_edges(darts_v2, other) == {("normal", 3, 2), ("reduce", 0, 0)}
    assert diff_edges(other, darts_v2) == {("normal", 3, 2), ("reduce", 0, 1)}
    source = draw_genotype(other, highlight=diff_edges(other, darts_v2)).source
    marked = [(a, b) for a, b, attrs in edges(source) if HIGHLIGHT_COLOR in attrs]
    # Reduce node 0 now reads c_{k-1} twice; both edges share the key (reduce, 0, 1), so a
    # 3-tuple highlight marks both, and a 4-tuple (with the op) marks one edge only.
    assert sorted(marked) == [
        ("normal_n0", "normal_n3"),
        ("reduce_in1", "reduce_n0"),
        ("reduce_in1", "reduce_n0"),
    ]
    exact = draw_genotype(other, highlight={("normal", 3, 2, "sep_conv_5x5")}).source
    assert [(a, b) for a, b, attrs in edges(exact) if HIGHLIGHT_COLOR in attrs] == [
        ("normal_n0", "normal_n3")
    ]


def test_diff_ignores_the_order_of_a_nodes_inputs(darts_v2):
    normal = list(darts_v2.normal)
    normal[0], normal[1] = normal[1], normal[0]
    swapped = dataclasses.replace(darts_v2, normal=tuple(normal))
    assert diff_edges(darts_v2, swapped) == set()


@pytest.mark.parametrize("n_nodes", [4, 3])
def test_supernet_draws_every_candidate_edge(n_nodes):
    space = CellSpace(n_nodes=n_nodes)
    source = draw_supernet(space).source
    into_nodes = {(a, b) for a, b, _ in edges(source) if b.startswith("n")}
    expected = {
        (f"in{j}" if j < 2 else f"n{j - 2}", f"n{node}")
        for node in range(n_nodes)
        for j in range(2 + node)
    }
    assert into_nodes == expected
    assert len(expected) == {4: 14, 3: 9}[n_nodes]
    for op in space.ops:
        assert op in source  # the legend lists every candidate op
    assert len([e for e in edges(source) if e[1] == "out"]) == n_nodes


def test_nb201_supernet_has_six_edges():
    source = draw_supernet(NB201Space()).source
    assert {(a, b) for a, b, _ in edges(source)} == {
        (f"n{i}", f"n{j}") for j in range(1, 4) for i in range(j)
    }


def test_supernet_rejects_a_chain_space():
    from nasbench.spaces.chain import ChainSpace

    with pytest.raises(Exception, match="draw_supernet draws cell spaces"):
        draw_supernet(ChainSpace())


def test_network_shows_cells_with_reductions_and_skips(darts_v2):
    skeleton = Skeleton(n_cells=8, channels=16, auxiliary=True)
    source = draw_network(darts_v2, skeleton).source
    labels = dict(re.findall(r'^\s*(cell\d+) \[label="([NR]) ', source, re.M))
    assert len(labels) == skeleton.n_cells
    assert {int(c[4:]) for c, letter in labels.items() if letter == "R"} == set(
        skeleton.reductions()
    )
    into_cells = [e for e in edges(source) if e[1].startswith("cell")]
    skips = [e for e in into_cells if "dashed" in e[2]]
    assert len(into_cells) == 2 * skeleton.n_cells and len(skips) == skeleton.n_cells
    assert ("cell3", "cell5") in {(a, b) for a, b, _ in skips}
    assert "C=64" in source and "aux" in source  # channels double at each reduction


def test_nb201_cell_draws_every_edge_and_none_dotted():
    g = NB201Genotype.from_string(
        "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_1x1~1|none~2|"
    )
    drawn = edges(draw_nb201(g).source)
    assert len(drawn) == 6
    assert sum("dotted" in attrs for _, _, attrs in drawn) == 2
    assert len(edges(draw_nb201(g, show_none=False).source)) == 4
    assert draw_genotype(g).source == draw_nb201(g).source


def test_chain_is_a_vertical_stack():
    g = ChainGenotype(
        (ChainLayer("conv", 3, 5, 1, 32), ChainLayer("max_pool", 2, 2, 2, 0)),
    )
    source = draw_chain(g).source
    assert "rankdir=TB" in source
    assert [(a, b) for a, b, _ in edges(source)] == [
        ("input", "layer0"),
        ("layer0", "layer1"),
        ("layer1", "output"),
    ]
    assert "conv 3x5, stride 1, 32 filters" in source


def test_png_pdf_svg_export(no_system_dot, darts_v2, tmp_path):
    graph = draw_genotype(darts_v2, cell="normal")
    assert render(graph, "png").startswith(b"\x89PNG\r\n\x1a\n")
    pdf = render(graph, "pdf")
    assert pdf.startswith(b"%PDF") and pdf.rstrip().endswith(b"%%EOF")
    for suffix in ("svg", "png", "pdf"):
        path = save(graph, tmp_path / f"cell.{suffix}")
        assert path.stat().st_size > 1000
    assert graph.render(outfile=tmp_path / "again.svg").endswith("again.svg")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "again.svg",
        "cell.pdf",
        "cell.png",
        "cell.svg",
    ]  # no temp files left behind


def test_bad_suffix_is_a_one_line_error(darts_v2, tmp_path):
    with pytest.raises(GraphvizError, match=r"end the name with \.svg, \.png or \.pdf"):
        save(draw_genotype(darts_v2), tmp_path / "cell.gif")
    assert list(tmp_path.iterdir()) == []


def test_missing_engine_is_a_one_line_error(monkeypatch, tmp_path, darts_v2):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(render_module, "_pure_candidates", lambda: [])
    with pytest.raises(GraphvizError, match="pip install graphviz-pure") as info:
        render(draw_genotype(darts_v2), "svg")
    assert "\n" not in str(info.value)


def test_no_two_ops_of_a_space_share_colour_and_dash():
    from nasbench.spaces.ops import OP_SETS
    from nasbench.viz.palette import op_line, op_symbol

    assert OP_SETS  # the registry's own sets: DARTS, NAS-Bench-201, U-Net, DiNTS, ...
    for name, ops in OP_SETS.items():
        looks = [tuple(op_line(op, ops).values()) for op in ops]
        assert len(set(looks)) == len(ops), f"{name}: two ops look alike: {looks}"
        marks = [(op_line(op, ops)["color"], op_symbol(op, ops)) for op in ops]
        assert len(set(marks)) == len(ops), f"{name}: two ops share a marker: {marks}"
    darts = OP_SETS["darts"]
    assert op_line("max_pool_3x3", darts)["color"] == op_line("avg_pool_3x3", darts)["color"]
    assert op_line("max_pool_3x3", darts)["dash"] != op_line("avg_pool_3x3", darts)["dash"]


def test_a_darts_size_pair_is_stacked_normal_on_top_and_small_cells_sit_side_by_side(darts_v2):
    import re

    from nasbench.spaces import parse_genotype

    def size_and_title_heights(genotype, **options):
        svg = draw_genotype(genotype, **options).pipe(format="svg", encoding="utf-8")
        size = re.search(r'width="([\d.]+)pt" height="([\d.]+)pt"', svg)
        width, height = map(float, size.groups())
        titles = {m.group(2): float(m.group(1)) for m in re.finditer(
            r'y="(-?[\d.]+)"[^>]*>(normal cell|reduction cell)<', svg)}  # fmt: skip
        return width, height, titles

    wide, _, _ = size_and_title_heights(darts_v2, stacked=False)
    width, height, titles = size_and_title_heights(darts_v2)
    assert width < 0.6 * wide and height > width  # one above the other, half as wide
    assert titles["normal cell"] < titles["reduction cell"]  # SVG y grows downwards
    tiny = parse_genotype(
        "Genotype(normal=[('skip_connect', 0), ('sep_conv_3x3', 1), ('max_pool_3x3', 0), "
        "('sep_conv_3x3', 2)], normal_concat=range(2, 4), reduce=[('skip_connect', 0), "
        "('sep_conv_3x3', 1), ('max_pool_3x3', 0), ('sep_conv_3x3', 2)], "
        "reduce_concat=range(2, 4))"
    )
    width, height, _ = size_and_title_heights(tiny)
    assert width > height  # two small cells side by side


def test_draw_genotype_reads_a_genotype_text_and_names_what_is_not_one():
    from nasbench.errors import SpaceError
    from nasbench.spaces.zoo import zoo
    from nasbench.viz import draw_genotype

    genotype = zoo["DARTS_V2"]
    drawn = draw_genotype(genotype).pipe(format="svg", encoding="utf-8")
    for text in (genotype.to_json(), genotype.to_darts_text()):
        assert draw_genotype(text).pipe(format="svg", encoding="utf-8") == drawn
    for wrong in (None, 3):
        with pytest.raises(SpaceError, match="draw_genotype needs a genotype or its text"):
            draw_genotype(wrong)


def _contrast_on_white(color: str) -> float:
    """WCAG 2 contrast of a #RRGGBB colour on white (written out here, not imported)."""
    rgb = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 1.05 / (0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2] + 0.05)


def _label_drawings(darts_v2):
    """Every drawing with coloured edge labels, highlights and none edges included."""
    import numpy as np

    from nasbench.spaces import NasUnetSpace, NB101Genotype
    from nasbench.spaces.dints import DintsSpace
    from nasbench.spaces.recon import ReconGenotype
    from nasbench.spaces.trellis import TrellisGenotype, trellis_mask
    from nasbench.viz import draw_dints, draw_nb101, draw_trellis, draw_unet_cells, draw_unrolled

    nb201 = NB201Genotype.from_string(
        "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_1x1~1|none~2|"
    )
    trellis = TrellisGenotype((1, 0, 1), [("sep_conv_3x3", 0), ("skip_connect", 1)], [2], 3)
    weights = trellis_mask(3, 3) * 0.5
    dints = DintsSpace(num_blocks=3, skeleton={"depth": 3}).sample(np.random.default_rng(0))
    return {
        "darts": draw_genotype(
            _changed(darts_v2), highlight=diff_edges(_changed(darts_v2), darts_v2)
        ),
        "nb201": draw_nb201(nb201, highlight=[(1, 0)]),
        "trellis": draw_trellis(trellis, weights),
        "dints": draw_dints(dints),
        "recon": draw_unrolled(ReconGenotype([("conv_3x3", 0), ("res_conv_3x3", 1)], [2])),
        "unet": draw_unet_cells(NasUnetSpace(n_nodes=2).sample(np.random.default_rng(0))),
        "nb101": draw_nb101(
            NB101Genotype(
                [[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0]],
                ["conv3x3_bn_relu", "maxpool3x3"],
            )
        ),
    }


def test_every_edge_label_colour_has_4_5_to_1_contrast_on_white(darts_v2):
    for name, graph in _label_drawings(darts_v2).items():
        colours = re.findall(r'fontcolor="?([^",\]\s]+)', graph.source)
        assert colours, name
        for colour in colours:
            assert re.fullmatch(r"#[0-9A-Fa-f]{6}", colour), (name, colour)
            assert _contrast_on_white(colour) >= 4.5, (name, colour)
    # Every colour a drawing can put on an edge: the families, the extra hues, highlights.
    from nasbench.viz.genotype_graph import label_color
    from nasbench.viz.palette import _EXTRA, FAMILY_COLORS
    from nasbench.viz.trellis_graph import PATH_COLORS

    lines = [*FAMILY_COLORS.values(), *_EXTRA, "#000000", HIGHLIGHT_COLOR, *PATH_COLORS.values()]
    for line in lines:
        assert _contrast_on_white(label_color(line)) >= 4.5, line
    # The line keeps the op's colour; only the label text is darkened (#E69F00 is 2.25:1).
    source = draw_nb201(
        NB201Genotype.from_string("|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|")
    ).source
    (conv,) = [attrs for _, _, attrs in edges(source) if "nor_conv_3x3" in attrs]
    assert f'color="{op_color("nor_conv_3x3")}"' in conv
    assert f'fontcolor="{op_color("nor_conv_3x3")}"' not in conv


def test_graph_drawings_use_the_cell_drawings_font_sizes(darts_v2):
    drawings = {**_label_drawings(darts_v2), "network": draw_network(darts_v2, Skeleton(n_cells=5))}
    for name, graph in drawings.items():
        sizes = [float(s) for s in re.findall(r'fontsize="?([\d.]+)', graph.source)]
        assert sizes and min(sizes) >= 20, (name, sizes)


def test_a_drawing_shown_inline_shrinks_to_the_notebooks_width_and_stays_valid_svg():
    # At its natural size a two-cell genotype (about 2,000 px) ran past the output area.
    import xml.dom.minidom

    import numpy as np

    from nasbench.spaces import create_space
    from nasbench.viz import draw_genotype

    space = create_space("darts", n_nodes=4)
    bundle = draw_genotype(space.sample(np.random.default_rng(0)))._repr_mimebundle_()
    svg = bundle["image/svg+xml"]
    root = xml.dom.minidom.parseString(svg.encode()).documentElement
    assert root.getAttribute("style") == "max-width: 100%; height: auto"
    assert root.getAttribute("viewBox") and root.getAttribute("width").endswith("pt")
    assert draw_genotype(space.sample(np.random.default_rng(0)))._repr_mimebundle_(
        include=["image/png"]
    ).keys() <= {"image/png"}

"""Genotypes: frozen values, canonical JSON, DARTS/NB201 text, one-line errors."""

from __future__ import annotations

import dataclasses
import json

import pytest

from nasbench.errors import SpaceError
from nasbench.spaces.genotype import (
    ChainGenotype,
    ChainLayer,
    Genotype,
    NB201Genotype,
    genotype_from_dict,
    parse_genotype,
)

DARTS_V2_TEXT = (
    "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), "
    "('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), "
    "('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), "
    "('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), "
    "('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])"
)
NB201_TEXT = (
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|none~1|skip_connect~2|"
)


def small(**overrides):
    kw = dict(
        normal=[("sep_conv_3x3", 0), ("skip_connect", 1)],
        normal_concat=[2],
        reduce=[("max_pool_3x3", 0), ("max_pool_3x3", 1)],
        reduce_concat=[2],
    )
    kw.update(overrides)
    return Genotype(**kw)


def one_line_error(fn, *args, match: str | None = None, **kwargs) -> str:
    with pytest.raises(SpaceError, match=match) as info:
        fn(*args, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_darts_text_parses_with_lists_range_and_assignment():
    g = parse_genotype(DARTS_V2_TEXT)
    assert isinstance(g, Genotype)
    assert g.n_nodes == 4 and g.normal_concat == (2, 3, 4, 5)
    ranged = DARTS_V2_TEXT.replace("[2, 3, 4, 5]", "range(2, 6)")
    assert parse_genotype(ranged) == g
    assert parse_genotype("DARTS_V2 = " + ranged) == g
    assert parse_genotype("genotypes." + ranged) == g


def test_darts_text_round_trip_uses_range_when_contiguous():
    g = parse_genotype(DARTS_V2_TEXT)
    text = g.to_darts_text()
    assert "normal_concat=range(2, 6)" in text
    assert parse_genotype(text) == g
    odd = small(normal=[("sep_conv_3x3", 0), ("skip_connect", 1)] * 1, normal_concat=[2])
    assert parse_genotype(odd.to_darts_text()) == odd


def test_darts_text_accepts_gdas_style_nested_nodes_and_positional_fields():
    nested = (
        "Genotype([(('skip_connect', 0), ('skip_connect', 1)), (('skip_connect', 0), "
        "('sep_conv_5x5', 2))], [2, 3], [(('sep_conv_5x5', 0), ('sep_conv_3x3', 1)), "
        "(('sep_conv_5x5', 2), ('sep_conv_5x5', 1))], range(2, 4))"
    )
    g = parse_genotype(nested)
    assert g.normal[:3] == (("skip_connect", 0), ("skip_connect", 1), ("skip_connect", 0))
    assert g.reduce_concat == (2, 3) and g.inputs_per_node == 2


def test_non_default_inputs_per_node_round_trips():
    g = Genotype(
        normal=[("sep_conv_3x3", 0), ("sep_conv_3x3", 2)],
        normal_concat=[2, 3],
        reduce=[("max_pool_3x3", 1), ("skip_connect", 2)],
        reduce_concat=[2, 3],
        inputs_per_node=1,
    )
    assert g.n_nodes == 2
    assert "inputs_per_node=1" in g.to_darts_text()
    assert parse_genotype(g.to_darts_text()) == g
    assert parse_genotype(g.to_json()) == g


def test_genotype_is_frozen_hashable_and_normalised():
    a = small()
    b = small(normal=(("sep_conv_3x3", 0), ("skip_connect", 1)), normal_concat=range(2, 3))
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert isinstance(a.normal, tuple) and isinstance(a.normal[0], tuple)
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.normal = ()  # type: ignore[misc]


def test_canonical_json_is_sorted_compact_and_has_kind():
    g = parse_genotype(DARTS_V2_TEXT)
    text = g.to_json()
    assert " " not in text
    d = json.loads(text)
    assert d["kind"] == "darts"
    assert text == json.dumps(d, sort_keys=True, separators=(",", ":"))
    assert genotype_from_dict(d) == g == parse_genotype(text)
    assert Genotype.from_dict(g.to_dict()) == g


def test_cell_and_nodes_accessors():
    g = parse_genotype(DARTS_V2_TEXT)
    pairs, concat = g.cell("reduce")
    assert pairs == g.reduce and concat == (2, 3, 4, 5)
    assert g.nodes("normal")[3] == (("skip_connect", 0), ("dil_conv_3x3", 2))
    assert "skip_connect" in g.ops()
    one_line_error(g.cell, "middle", match="normal")


@pytest.mark.parametrize(
    "overrides, match",
    [
        ({"normal": [("sep_conv_3x3", 0), ("skip_connect", 2)]}, "cycle"),
        ({"normal": [("sep_conv_3x3", 0), ("skip_connect", 7)]}, "only has nodes"),
        ({"normal": [("sep_conv_3x3", 0)]}, "exactly 2"),
        ({"normal": [("sep_conv_3x3", 0), ("skip_connect", 1), ("sep_conv_3x3", 0)]}, "exactly 2"),
        ({"normal": []}, "exactly 2"),
        ({"normal_concat": [3]}, "intermediate nodes are 2..2"),
        ({"normal_concat": []}, "empty"),
        ({"normal_concat": [2, 2]}, "repeats"),
        ({"normal": [("sep conv", 0), ("skip_connect", 1)]}, "not an op name"),
        ({"normal": [("sep_conv_3x3", -1), ("skip_connect", 1)]}, "input index"),
        ({"normal": [("sep_conv_3x3", True), ("skip_connect", 1)]}, "input index"),
        ({"normal": [("sep_conv_3x3", 0, "x"), ("skip_connect", 1)]}, "pair"),
        ({"normal": [("sep_conv_3x3", 0, True), ("skip_connect", 1)]}, "pair"),
        ({"normal": [("sep_conv_3x3", 0, 0.5, 1), ("skip_connect", 1)]}, "pair"),
        ({"inputs_per_node": 0}, "inputs_per_node"),
    ],
)
def test_bad_cells_give_one_line_errors(overrides, match):
    one_line_error(small, match=match, **overrides)


def test_forward_reference_is_a_cycle_and_unused_node_is_dangling():
    # Node 2 takes node 3 as input: with node 3 taking node 2 that is a cycle.
    one_line_error(
        small,
        normal=[("sep_conv_3x3", 3), ("skip_connect", 1), ("sep_conv_3x3", 2), ("skip_connect", 0)],
        normal_concat=[2, 3],
        match="cycle",
    )
    one_line_error(
        small,
        normal=[("sep_conv_3x3", 0), ("skip_connect", 1), ("sep_conv_3x3", 0), ("skip_connect", 1)],
        normal_concat=[3],
        match="dangling",
    )


@pytest.mark.parametrize(
    "text, match",
    [
        ("Genotype(normal=[('sep_conv_3x3', 0)", "syntax"),
        ("Genotype(normal=__import__('os').system('true'), normal_concat=[2])", "only call range"),
        ("Genotype(normal=[x for x in 'ab'], normal_concat=[2])", "not a literal"),
        ("Genotype(normal=[], normal_concat=range(n), reduce=[], reduce_concat=[])", "range"),
        (
            "Genotype(normal=[('a', 0), ('b', 1)], normal_concat=[2], reduce=[('a', 0), ('b', 1)])",
            "missing reduce_concat",
        ),
        (
            "Genotype(normal=[('a', 0), ('b', 1)], normal_concat=[2], reduce=[('a', 0), ('b', 1)], "
            "reduce_concat=[2], colour='red')",
            "unknown field",
        ),
        ("Network(normal=[])", "cannot read"),
        ("print('x'); Genotype()", "exactly one"),
        ("{not json", "malformed"),
        ('{"kind": "dartz", "normal": []}', "Did you mean 'darts'"),
        ('{"normal": []}', "kind"),
        ('{"kind": "darts", "normal": [["a", 0], ["b", 1]], "normal_concat": [2]}', "missing"),
        ('{"kind": "darts", "nromal": []}', "Did you mean 'normal'"),
        ("|nor_conv_3x3~0|+|nor_conv_3x3~0|", "every earlier node"),
        ("|nor_conv_3x3~1|", "every earlier node"),
        ("|nor_conv_3x3|", "op~input"),
        ("|nor_conv_3x3~0|+", "node 2"),
        ("hello", "cannot read"),
    ],
)
def test_bad_text_gives_one_line_errors(text, match):
    one_line_error(parse_genotype, text, match=match)


def test_parse_genotype_rejects_non_text_and_passes_genotypes_through():
    g = small()
    assert parse_genotype(g) is g
    one_line_error(parse_genotype, 42, match="needs text")


def test_nb201_string_round_trip_and_edge_order():
    g = parse_genotype(NB201_TEXT)
    assert isinstance(g, NB201Genotype)
    assert g.to_string() == NB201_TEXT
    assert g.n_nodes == 4 and g.op(2, 1) == "avg_pool_3x3" and g.op(3, 1) == "none"
    assert len(g.edges()) == 6
    assert parse_genotype(g.to_json()) == g
    assert NB201Genotype.from_dict({"kind": "nb201", "arch": NB201_TEXT}) == g
    # Edges listed out of input order describe the same cell.
    shuffled = NB201Genotype(
        nodes=[
            [("nor_conv_3x3", 0)],
            [("avg_pool_3x3", 1), ("nor_conv_3x3", 0)],
            [("skip_connect", 2), ("none", 1), ("skip_connect", 0)],
        ]
    )
    assert shuffled == g and hash(shuffled) == hash(g)


def test_chain_genotype_round_trip_and_validation():
    g = ChainGenotype((ChainLayer("conv", 3, 5, 1, 36), ChainLayer("max_pool", 3, 3, 2, 0)))
    assert g.depth == 2
    assert parse_genotype(g.to_json()) == g and hash(g) == hash(ChainGenotype(list(g.layers)))
    assert json.loads(g.to_json())["kind"] == "chain"
    one_line_error(ChainGenotype, (), match="at least one layer")
    one_line_error(ChainGenotype, ("conv",), match="not a ChainLayer")
    one_line_error(ChainLayer, "conv", 0, 3, 1, 36, match="kernel_h")
    one_line_error(ChainLayer, "conv", 3, 3, 1, -1, match="filters")
    one_line_error(ChainLayer.from_dict, {"layer_type": "conv"}, match="missing")
    one_line_error(genotype_from_dict, {"kind": "chain", "layers": "conv"}, match="layers")


def test_kind_mismatch_is_reported():
    g = small()
    one_line_error(NB201Genotype.from_dict, g.to_dict(), match="kind 'nb201'")


_DARTS_TEXT = (
    'Genotype(normal=[("sep_conv_3x3", 0), ("sep_conv_3x3", 1)], normal_concat={}, '
    'reduce=[("max_pool_3x3", 0), ("max_pool_3x3", 1)], reduce_concat=[2])'
)


@pytest.mark.parametrize(
    "text, said",
    [
        (_DARTS_TEXT.format("range(2, 3, 0)"), "step of 0"),
        (_DARTS_TEXT.format("range(2, 10**12)"), "range"),
        (_DARTS_TEXT.format("range(2, 1000000000000)"), "999,999,999,998 members"),
        ("|nor_conv_3x3~\u00b2|+|none~0|none~1|+|none~0|none~1|none~2|", "is not 'op~input'"),
        ('{"a":' * 100_000 + "1" + "}" * 100_000, "nested too deeply"),
        ("Genotype(normal=" + "[" * 100_000, "Genotype"),
        (_DARTS_TEXT.format("[2]") + "\x00", "NUL byte|not valid Python"),
    ],
)
def test_hostile_genotype_text_is_a_one_line_space_error(text, said):
    with pytest.raises(SpaceError, match=said) as err:
        parse_genotype(text)
    assert "\n" not in str(err.value)


# Verbatim from D-X-Y/AutoDL-Projects, lib/nas_infer_model/DXYs/genotypes.py (its trailing
# space after the first reduce node included): every cell there ends "connectN=None,
# connects=None".
GDAS_V1_AUTODL = """GDAS_V1 = Genotype(
  normal=[
    (('skip_connect', 0), ('skip_connect', 1)),
    (('skip_connect', 0), ('sep_conv_5x5', 2)),
    (('sep_conv_3x3', 3), ('skip_connect', 0)),
    (('sep_conv_5x5', 4), ('sep_conv_3x3', 3))],
  normal_concat=[2, 3, 4, 5],
  reduce=[
    (('sep_conv_5x5', 0), ('sep_conv_3x3', 1)), \n    (('sep_conv_5x5', 2), ('sep_conv_5x5', 1)),
    (('dil_conv_5x5', 2), ('sep_conv_3x3', 1)),
    (('sep_conv_5x5', 0), ('sep_conv_5x5', 1))],
  reduce_concat=[2, 3, 4, 5],
  connectN=None, connects=None
)"""

# Verbatim from D-X-Y/NAS-Projects (GDAS's first release): (op, input, weight) triples.
GDAS_V1_WEIGHTS = """GDAS_V1 = Genotype(
  normal=[('skip_connect', 0, 0.13017432391643524), ('skip_connect', 1, 0.12947972118854523), \
('skip_connect', 0, 0.13062666356563568), ('sep_conv_5x5', 2, 0.12980839610099792), \
('sep_conv_3x3', 3, 0.12923765182495117), ('skip_connect', 0, 0.12901571393013), \
('sep_conv_5x5', 4, 0.12938997149467468), ('sep_conv_3x3', 3, 0.1289220005273819)],
  normal_concat=range(2, 6),
  reduce=[('sep_conv_5x5', 0, 0.12862831354141235), ('sep_conv_3x3', 1, 0.12783904373645782), \
('sep_conv_5x5', 2, 0.12725995481014252), ('sep_conv_5x5', 1, 0.12705285847187042), \
('dil_conv_5x5', 2, 0.12797553837299347), ('sep_conv_3x3', 1, 0.12737272679805756), \
('sep_conv_5x5', 0, 0.12833961844444275), ('sep_conv_5x5', 1, 0.12758426368236542)],
  reduce_concat=range(2, 6)
)"""

GDAS_V1_NORMAL = (
    ("skip_connect", 0), ("skip_connect", 1), ("skip_connect", 0), ("sep_conv_5x5", 2),
    ("sep_conv_3x3", 3), ("skip_connect", 0), ("sep_conv_5x5", 4), ("sep_conv_3x3", 3),
)  # fmt: skip


def test_gdas_printed_text_pastes_in_both_releases():
    a, b = parse_genotype(GDAS_V1_AUTODL), parse_genotype(GDAS_V1_WEIGHTS)
    assert a == b  # the same cell: the weights and the None fields are not architecture
    assert a.normal == GDAS_V1_NORMAL and a.normal_concat == (2, 3, 4, 5)
    assert a.reduce[4] == ("dil_conv_5x5", 2)
    assert parse_genotype(a.to_darts_text()) == a


@pytest.mark.parametrize(
    "tail, said",
    [
        ("connectN=2, connects=None", "sets connectN"),
        ("connectN=None, connects=[(0, 1)]", "sets connects"),
        ("colour=None", "unknown field 'colour'"),
    ],
)
def test_gdas_connect_fields_must_be_none(tail, said):
    text = GDAS_V1_AUTODL.replace("connectN=None, connects=None", tail)
    message = one_line_error(parse_genotype, text, match=said)
    assert "connectN" not in message or "None" in message


def test_gdas_positional_connect_fields_are_read_when_none():
    args = "[('a', 0), ('b', 1)], [2], [('a', 0), ('b', 1)], [2]"
    assert parse_genotype(f"Genotype({args}, None, None)") == parse_genotype(f"Genotype({args})")
    one_line_error(parse_genotype, f"Genotype({args}, 3, None)", match="sets connectN")


NB101_SPEC = {
    "matrix": [[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]],
    "ops": ["input", "conv3x3-bn-relu", "maxpool3x3", "output"],
}


def test_nb101_spec_without_kind_pastes_in_as_text_and_dict():
    from nasbench.spaces import NB101Space

    g = parse_genotype(json.dumps(NB101_SPEC))
    assert g.kind == "nb101" and g.ops == ("conv3x3_bn_relu", "maxpool3x3")
    assert genotype_from_dict(NB101_SPEC) == g
    assert NB101Space().validate(json.dumps(NB101_SPEC)).ops_used() == g.ops_used()
    # Only exactly matrix + ops is the spec; anything else still needs a kind.
    one_line_error(parse_genotype, json.dumps({**NB101_SPEC, "x": 1}), match="'kind' key")


def test_missing_kind_lists_every_registered_kind():
    message = one_line_error(genotype_from_dict, {"normal": []}, match="'kind' key")
    for kind in ("darts", "nb201", "chain", "nb101", "nasunet", "trellis", "dints", "morph"):
        assert repr(kind) in message


@pytest.mark.parametrize("kind", [["darts"], {"a": 1}, 3, None])
def test_a_kind_that_is_not_text_is_one_line(kind):
    # A list or dict kind is unhashable: it must not reach the kind table's lookup.
    text = json.dumps({"kind": kind, "normal": []})
    message = one_line_error(parse_genotype, text, match="unknown genotype kind")
    assert "Did you mean" not in message


@pytest.mark.parametrize("arch", [5, ["x"], None, {"a": 1}])
def test_nb201_arch_that_is_not_text_is_a_space_error(arch):
    text = json.dumps({"kind": "nb201", "arch": arch})
    one_line_error(parse_genotype, text, match="NB201 arch must be")


def chain_cell(n: int) -> list[list]:
    """A cell of ``n`` intermediate nodes, each on c_{k-2} and the node before it."""
    return [pair for k in range(n) for pair in (["sep_conv_3x3", 0], ["skip_connect", k + 1])]


def chain_nb201(n: int) -> str:
    return "+".join("|" + "|".join(f"none~{i}" for i in range(j)) + "|" for j in range(1, n))


def chain_nb101(n: int) -> str:
    matrix = [[int(j == i + 1) for j in range(n)] for i in range(n)]
    ops = ["input", *["conv3x3-bn-relu"] * (n - 2), "output"]
    return json.dumps({"matrix": matrix, "ops": ops})


def darts_json(n: int, kind: str = "darts") -> str:
    cell = {"normal": chain_cell(n), "normal_concat": [n + 1]}
    if kind == "darts":
        cell |= {"reduce": chain_cell(n), "reduce_concat": [n + 1]}
    return json.dumps({"kind": kind, **cell})


def darts_text(n: int) -> str:
    cell = [tuple(p) for p in chain_cell(n)]
    concat = [n + 1]
    return f"Genotype(normal={cell}, normal_concat={concat}, reduce={cell}, reduce_concat={concat})"


@pytest.mark.parametrize(
    ("write", "said"),
    [
        (darts_json, "normal cell has 33 intermediate nodes"),
        (darts_text, "normal cell has 33 intermediate nodes"),
        (lambda n: darts_json(n, "recon"), "normal cell has 33 intermediate nodes"),
        (chain_nb201, "NB201 cell has 33 nodes"),
        (chain_nb101, "nb101 cell has 33 vertices"),
    ],
    ids=["darts-json", "darts-text", "recon", "nb201", "nb101"],
)
def test_a_genotype_with_more_nodes_than_any_space_searches_is_refused(write, said):
    from nasbench.spaces.base import MAX_NODES

    assert MAX_NODES == 32  # the counts above sit just past the cap
    assert parse_genotype(write(MAX_NODES)) is not None
    message = one_line_error(parse_genotype, write(MAX_NODES + 1), match=said)
    assert f"at most {MAX_NODES}" in message


def test_a_huge_handed_cell_is_refused_at_once():
    # 2000 nodes used to pass and then build a network for 40 s before failing.
    one_line_error(parse_genotype, darts_text(2000), match="2,000 intermediate nodes")
    one_line_error(genotype_from_dict, json.loads(darts_json(2000)), match="2,000 intermediate")


@pytest.mark.parametrize(
    "space",
    ["darts", "nb201", "nb101", "nasunet", "unrolled", "chain", "alb", "trellis", "dints",
     "c2fnas", "vnas"],
)  # fmt: skip
def test_a_genotype_as_python_prints_it_pastes_back_in(space):
    # What a notebook shows for print(result.genotype): NB101Genotype(matrix=..., ops=...).
    import numpy as np

    from nasbench.spaces import create_space

    genotype = create_space(space).sample(np.random.default_rng(0))
    assert parse_genotype(repr(genotype)) == genotype
    assert parse_genotype(str(genotype)) == genotype
    assert parse_genotype(f"# from a notebook\nBEST = {genotype!r}") == genotype


def test_a_nb101_spec_pastes_in_as_a_dict_or_as_python_prints_one():
    spec = {
        "matrix": [[0, 1, 1], [0, 0, 1], [0, 0, 0]],
        "ops": ["input", "conv3x3-bn-relu", "output"],
    }
    assert parse_genotype(spec).kind == "nb101"
    assert parse_genotype(str(spec)) == parse_genotype(spec)  # single quotes: not JSON


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("NB101Genotype(matrix=(", r"NB101Genotype\(\.\.\.\) text is not valid Python syntax"),
        ("NB201Genotype(nodes=x)", r"holds a value that is not a plain literal; paste the "),
        ("ChainGenotype(layers=(Other(a=1),))", r"not a plain literal"),
        ("NB101Genotype(((0,),))", r"one call of field=value arguments"),
        ("{'matrix': [[0]]", r"genotype JSON is malformed"),
        # A set's order is hashing's: a different cell in each process.
        ("NB101Genotype(matrix=((0,),), ops={'input'})", r"not a plain literal"),
        ("{'matrix': {(0, 1)}, 'ops': ['input']}", r"genotype JSON is malformed"),
        ("NB101Genotype(matrix=((0,),), matrix=((0,),), ops=('input',))", r"field=value"),
    ],
)
def test_printed_text_that_does_not_read_is_named_in_one_line(text, said):
    with pytest.raises(SpaceError, match=said) as err:
        parse_genotype(text)
    assert "\n" not in str(err.value) and "DARTS" not in str(err.value)

"""The NAS-Bench-101 cell space: validity, pruning, the graph hash, moves, encodings."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from nasbench.errors import SpaceError
from nasbench.protocols import Space as SpaceProtocol
from nasbench.spaces import (
    NB101Genotype,
    NB101Space,
    create_space,
    genotype_from_dict,
    parse_genotype,
    space_from_dict,
)
from nasbench.spaces.nb101 import INCEPTION_LIKE_CELL, cell_hash, live_vertices
from nasbench.strategies.discrete.decisions import decisions
from nasbench.strategies.discrete.evolution import crossover

C3, C1, MP = "conv3x3_bn_relu", "conv1x1_bn_relu", "maxpool3x3"


def one_line_error(fn, *args, match: str) -> str:
    with pytest.raises(SpaceError, match=match) as info:
        fn(*args)
    assert "\n" not in str(info.value)
    return str(info.value)


def relabel(g: NB101Genotype, rng: np.random.Generator) -> NB101Genotype:
    """The same cell with its interior vertices renumbered in a random topological order."""
    n = g.n_vertices
    order, placed = [0], {0}
    while len(order) < n - 1:
        ready = [
            v
            for v in range(1, n - 1)
            if v not in placed and all(u in placed for u in range(n) if g.matrix[u][v])
        ]
        v = ready[int(rng.integers(len(ready)))]
        order.append(v)
        placed.add(v)
    order.append(n - 1)
    new = {old: k for k, old in enumerate(order)}
    matrix = [[0] * n for _ in range(n)]
    for i, j in itertools.product(range(n), repeat=2):
        if g.matrix[i][j]:
            matrix[new[i]][new[j]] = 1
    labels = g.labels()
    return NB101Genotype(matrix, [labels[order[k]] for k in range(1, n - 1)])


def brute_force_class(g: NB101Genotype) -> tuple:
    """A canonical form of the pruned cell: the least relabelling over all interior orders."""
    p = g.pruned()
    n, labels = p.n_vertices, p.labels()
    forms = []
    for perm in itertools.permutations(range(1, n - 1)):
        order = (0, *perm, n - 1)
        pos = {old: k for k, old in enumerate(order)}
        pairs = itertools.product(range(n), repeat=2)
        edges = tuple(sorted((pos[i], pos[j]) for i, j in pairs if p.matrix[i][j]))
        forms.append((tuple(labels[v] for v in order), edges))
    return min(forms)


def test_space_is_registered_round_trips_and_meets_the_protocol():
    space = create_space("nb101")
    assert isinstance(space, SpaceProtocol) and space.ops == (C3, C1, MP)
    assert space_from_dict(json.loads(json.dumps(space.to_dict()))) == space
    assert space.skeleton.n_cells == 9 and space.skeleton.channels == 128


@pytest.mark.parametrize(("n", "max_edges"), [(3, 3), (4, 2), (4, 6), (5, 4), (5, 10)])
def test_size_counts_exactly_what_enumerate_yields(n, max_edges):
    space = NB101Space(ops=[C3, MP], n_vertices=n, max_edges=max_edges)
    members = list(space.enumerate())
    assert len(members) == len(set(members)) == space.size()
    assert all(g.n_edges <= max_edges and live_vertices(g.matrix) for g in members)
    # Brute force over every upper-triangular matrix gives the same count.
    edges = [(i, j) for i in range(n) for j in range(i + 1, n)]
    connected = 0
    for bits in itertools.product((0, 1), repeat=len(edges)):
        m = [[0] * n for _ in range(n)]
        for (i, j), b in zip(edges, bits, strict=True):
            m[i][j] = b
        connected += sum(bits) <= max_edges and bool(live_vertices(tuple(map(tuple, m))))
    assert space.size() == connected * 2 ** (n - 2)


def test_pruning_drops_vertices_off_every_input_output_path():
    # 1 feeds nothing, 2 is fed by nothing: both are pruned; 3 is live.
    g = NB101Genotype(
        [[0, 1, 0, 1, 0], [0, 0, 0, 0, 0], [0, 0, 0, 1, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0]],
        [C3, C1, MP],
    )
    assert live_vertices(g.matrix) == (0, 3, 4)
    p = g.pruned()
    assert p.matrix == ((0, 1, 0), (0, 0, 1), (0, 0, 0)) and p.ops == (MP,)
    assert g.hash() == p.hash() and g.ops_used() == {MP}


def test_hash_is_invariant_to_renumbering_and_to_pruned_parts():
    space, rng = NB101Space(), np.random.default_rng(0)
    for _ in range(30):
        g = space.sample(rng)
        assert relabel(g, rng).hash() == g.hash()
    spec = space.validate(INCEPTION_LIKE_CELL)
    assert space.canonical(relabel(spec, rng)) == space.canonical(spec)
    # A dangling vertex with any op changes nothing.
    dead = NB101Genotype([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0]], [C3, C1])
    other = NB101Genotype([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0]], [C3, MP])
    assert dead.hash() == other.hash() == space.validate("nb101|010,001,000|" + C3).hash()
    assert dead.hash() != space.validate("nb101|011,001,000|" + C3).hash()


def test_hash_classes_are_exactly_the_isomorphism_classes_of_a_small_space():
    space = NB101Space(ops=[C3, MP], n_vertices=5, max_edges=6)
    by_hash: dict[str, set] = {}
    by_class: dict[tuple, set] = {}
    for g in space.enumerate():
        by_hash.setdefault(g.hash(), set()).add(brute_force_class(g))
        by_class.setdefault(brute_force_class(g), set()).add(g.hash())
    # One class per hash and one hash per class: no collision, no split.
    assert all(len(v) == 1 for v in by_hash.values())
    assert all(len(v) == 1 for v in by_class.values())
    assert len(by_hash) == len(by_class) > 50


def test_hash_tells_apart_ops_direction_and_wiring():
    chain = ((0, 1, 0, 0), (0, 0, 1, 0), (0, 0, 0, 1), (0, 0, 0, 0))
    fork = ((0, 1, 1, 0), (0, 0, 0, 1), (0, 0, 0, 1), (0, 0, 0, 0))
    labels = ["input", C3, MP, "output"]
    assert cell_hash(chain, labels) != cell_hash(chain, ["input", MP, C3, "output"])
    assert cell_hash(chain, labels) != cell_hash(fork, labels)
    assert cell_hash(fork, labels) == cell_hash(fork, ["input", MP, C3, "output"])


def test_text_dict_and_benchmark_spec_round_trip():
    space = NB101Space()
    g = space.sample(np.random.default_rng(4))
    assert parse_genotype(g.to_string()) == g == parse_genotype(g.to_json())
    assert genotype_from_dict(json.loads(g.to_json())) == g
    spec = NB101Genotype.from_dict(INCEPTION_LIKE_CELL)
    assert spec.ops == (C1, C3, C3, C3, MP) and spec.n_edges == 9
    assert space.validate(INCEPTION_LIKE_CELL) == spec


def test_a_pruned_cell_is_padded_to_the_space_and_keeps_its_hash():
    small = NB101Genotype([[0, 1, 1], [0, 0, 1], [0, 0, 0]], [C1])
    g = NB101Space().validate(small)
    assert g.n_vertices == 7 and g.pruned() == small and g.hash() == small.hash()


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ({"matrix": [[0, 1], [1, 0]], "ops": []}, "on or below the diagonal"),
        ({"matrix": [[0, 0, 0], [0, 0, 1], [0, 0, 0]], "ops": [C3]}, "not reachable"),
        ({"matrix": [[0, 1, 0], [0, 0, 1], [0, 0, 0]], "ops": [C3, C1]}, "needs 1 interior op"),
        ({"matrix": [[0, 2], [0, 0]], "ops": []}, r"entry \[0\]\[1\] is 2"),
        ({"matrix": [[0, 1, 1], [0, 0, 1]], "ops": [C3]}, "must be square"),
        ("nb101|01a,001,000|x", "0/1 digits"),
        ("nb101|0110,001|x", r"got row lengths \[4, 3\]"),
        ("nb101|011,001,000", "is not 'nb101"),
    ],
)
def test_malformed_cells_give_one_line_errors(value, match):
    one_line_error(NB101Space().validate, value, match=match)


def test_space_limits_give_one_line_errors():
    space = NB101Space(n_vertices=4, max_edges=2)
    full = NB101Genotype([[0, 1, 1, 1], [0, 0, 1, 1], [0, 0, 0, 1], [0, 0, 0, 0]], [C3, C3])
    one_line_error(space.validate, full, match="6 edges; this space allows at most 2")
    one_line_error(space.validate, NB101Space().sample(np.random.default_rng(0)), match="7 vert")
    wrong_op = NB101Genotype([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["maxpool_3x3"])
    msg = one_line_error(space.validate, wrong_op, match="op 'maxpool_3x3' is not in op set")
    assert "Did you mean 'maxpool3x3'" in msg
    one_line_error(NB101Space, "nb101", 1, match="n_vertices must be an integer >= 2")


def test_sampling_is_seeded_and_stays_in_the_space():
    space = NB101Space()
    a = [space.sample(np.random.default_rng(7)) for _ in range(2)]
    assert a[0] == a[1]
    cells = [space.sample(np.random.default_rng(s)) for s in range(40)]
    assert all(space.contains(g) and g.n_edges <= 9 for g in cells)
    assert len({g.hash() for g in cells}) > 30


def test_mutation_is_the_papers_and_neighbours_are_one_change_away():
    space, rng = NB101Space(), np.random.default_rng(1)
    parent = space.sample(rng)
    children = [space.mutate(parent, np.random.default_rng(s)) for s in range(20)]
    assert all(c != parent and space.contains(c) for c in children)
    assert space.mutate(parent, np.random.default_rng(3)) == children[3]
    near = space.neighbours(parent)
    assert len(near) == len(set(near)) and all(space.contains(n) for n in near)
    for n in near:
        edge_changes = (
            space.encoding_length()
            - 15
            - sum(n.matrix[i][j] == parent.matrix[i][j] for i, j in space.edges)
        )
        op_changes = sum(a != b for a, b in zip(n.ops, parent.ops, strict=True))
        assert edge_changes + op_changes == 1
    assert sum(n.ops == parent.ops for n in near) <= 21
    assert sum(n.matrix == parent.matrix for n in near) == 5 * 2


def test_encodings_describe_the_live_cell():
    space = NB101Space()
    assert space.encoding_length() == 21 + 5 * 3 and space.encoding_length("path") == 364
    # input -> conv3x3 -> output plus input -> output: two paths, of ops () and (conv3x3,)
    g = space.validate("nb101|011,001,000|" + C3)
    path = space.encode(g, "path")
    assert path.dtype == np.float32 and path[0] == 1 and path[1 + space.ops.index(C3)] == 1
    assert path.sum() == 2
    onehot = space.encode(g)
    assert onehot.sum() == 3 + 1 and onehot.shape == (36,)
    # Cells that differ only in pruned parts encode alike; different cells do not.
    a = NB101Genotype([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0]], [C3, C1])
    b = NB101Genotype([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0]], [C3, MP])
    for encoding in ("onehot", "path"):
        inception = space.encode(INCEPTION_LIKE_CELL, encoding)
        assert np.array_equal(space.encode(a, encoding), space.encode(b, encoding))
        assert not np.array_equal(space.encode(a, encoding), inception)
    one_line_error(space.encode, g, "paths", match="unknown encoding")


def test_decisions_round_trip_and_masks_keep_every_sequence_a_member():
    space = NB101Space()
    d, rng = decisions(space), np.random.default_rng(0)
    assert len(d.sizes()) == 5 + 21
    for _ in range(30):
        choices: list[int] = []
        while (step := d.next(choices)) is not None:
            key, mask = step
            allowed = [c for c in range(d.sizes()[key]) if mask is None or mask[c]]
            choices.append(int(rng.choice(allowed)))
        g = d.from_decisions(choices)
        assert space.contains(g) and d.to_decisions(g) == choices
    # After nine edges, no more may be added.
    nine = [0] * 5 + [1] * 9
    assert d.next(nine)[1].tolist() == [True, False]


def test_crossover_children_are_members_mixing_both_parents():
    space, rng = NB101Space(), np.random.default_rng(2)
    a, b = space.sample(rng), space.sample(rng)
    children = [crossover(space, a, b, rng) for _ in range(20)]
    assert all(space.contains(c) for c in children)
    assert any(c not in (a, b) for c in children)


def test_a_cell_whose_dangling_edges_prune_within_the_limit_is_taken_pruned():
    # Ten edges as written, two of them into vertex 5, which reaches no output: the
    # benchmark counts the eight left after pruning, so the cell is valid there.
    matrix = [[0] * 7 for _ in range(7)]
    for i, j in [(0, 1), (1, 2), (2, 3), (3, 4), (4, 6), (0, 6), (0, 2), (1, 3), (0, 5), (1, 5)]:
        matrix[i][j] = 1
    cell = NB101Genotype(matrix, ["conv3x3_bn_relu"] * 5)
    assert (cell.n_edges, cell.pruned().n_edges) == (10, 8)
    space = NB101Space()
    taken = space.validate(cell)
    assert taken.n_edges == 8 and space.contains(taken)
    assert space.canonical(taken) == space.canonical(cell.pruned())
    over = [row[:] for row in matrix]
    over[2][4] = over[1][4] = 1  # twelve edges, ten of them live: over the limit either way
    with pytest.raises(SpaceError, match="edges; this space allows at most 9"):
        space.validate(NB101Genotype(over, ["conv3x3_bn_relu"] * 5))

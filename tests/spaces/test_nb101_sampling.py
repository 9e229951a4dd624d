"""NAS-Bench-101 sampling where members are rare: quick, and still uniform."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from nasbench.errors import SpaceError
from nasbench.spaces import nb101
from nasbench.spaces.nb101 import NB101Space


@pytest.mark.parametrize(("vertices", "edges"), [(9, 4), (8, 1), (9, 8), (7, 1)])
def test_rare_members_are_drawn_at_once(vertices, edges, monkeypatch):
    space = NB101Space(n_vertices=vertices, max_edges=edges, ops=["conv3x3_bn_relu"])
    # Counted tries, not seconds: a try of the edge-count-first draw succeeds with
    # probability >= 1 / len(edges), so 20 draws need about 20 * len(edges) tries at most;
    # the plain redraw needs 1 / (share of members) a draw (3,000 to 10^8 here). Past the
    # cap the test fails at once instead of redrawing for minutes.
    cap = 3 * 20 * len(space.edges)
    tries = []
    make = space._make

    def counted(bits, ops):
        tries.append(1)
        if len(tries) > cap:
            raise AssertionError(f"more than {cap} tries for 20 draws: the plain redraw?")
        return make(bits, ops)

    monkeypatch.setattr(space, "_make", counted)
    rng = np.random.default_rng(0)
    drawn = [space.sample(rng) for _ in range(20)]
    assert all(space.contains(g) and g.n_edges <= edges for g in drawn)


def test_the_edge_count_first_draw_is_uniform_over_members(monkeypatch):
    monkeypatch.setattr(nb101, "_DIRECT_DRAW_BELOW", 2.0)  # force it on a small space
    space = NB101Space(n_vertices=4, max_edges=2, ops=["conv3x3_bn_relu"])
    members = space.size()
    rng = np.random.default_rng(1)
    counts = Counter(space.sample(rng).to_json() for _ in range(members * 400))
    assert len(counts) == members
    # 400 draws a member: a uniform draw keeps every count within 400 +- 5 sigma (~100).
    assert min(counts.values()) > 300 and max(counts.values()) < 500


def test_the_benchmark_space_keeps_its_seeded_draws():
    a = [NB101Space().sample(np.random.default_rng(3)).to_json() for _ in range(2)]
    assert a[0] == a[1]
    assert NB101Space().sample(np.random.default_rng(3)).to_json() == a[0]


def test_mutating_the_only_member_is_refused():
    space = NB101Space(n_vertices=2, max_edges=1)
    only = space.sample(np.random.default_rng(0))
    with pytest.raises(SpaceError, match="one member"):
        space.mutate(only, np.random.default_rng(0))

"""The synthetic NB-201 table: built once per set of arguments, each caller's its own."""

from __future__ import annotations

from nasbench.bench.synthetic import synthetic_nb201_table
from nasbench.spaces import NB201Space


def test_a_table_asked_for_again_is_equal_and_its_own():
    first = synthetic_nb201_table(seed=7, epochs=3)
    first.frame.loc[0, "val_acc"] = -1.0  # a caller's edit stays in its own table
    again = synthetic_nb201_table(seed=7, epochs=3)
    assert again.frame.loc[0, "val_acc"] != -1.0 and again.frame is not first.frame
    fresh = synthetic_nb201_table(seed=7, epochs=3, space=NB201Space())
    assert again.frame.equals(fresh.frame)
    other = synthetic_nb201_table(seed=7, epochs=3, space=NB201Space(n_nodes=3))
    assert len(other) < len(again)  # another space is another table, not the one built

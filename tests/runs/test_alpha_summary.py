"""The alpha summaries and the collapse rule every viewer shares (nasbench.runs.alpha_summary)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from nasbench.runs.alpha_summary import (
    alpha_cube,
    alphas_decided,
    collapse_threshold,
    collapse_warnings,
    deviation_from_uniform,
)
from nasbench.spaces import parse_genotype

OPS = ["skip_connect", "max_pool_3x3", "sep_conv_3x3"]
EDGES = ["0->2", "1->2", "0->3", "1->3"]
# Three of four normal-cell edges parameter-free: the DARTS collapse pattern.
COLLAPSED = parse_genotype(
    "Genotype(normal=[('skip_connect', 0), ('skip_connect', 1), ('max_pool_3x3', 0), "
    "('sep_conv_3x3', 2)], normal_concat=range(2, 4), reduce=[('sep_conv_3x3', 0), "
    "('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 2)], reduce_concat=range(2, 4))"
)


def alphas_frame(weights_per_step: list[np.ndarray]) -> pd.DataFrame:
    rows = [
        {"step": step, "kind": "alpha", "cell_type": "normal", "edge": edge, "op": op,
         "weight": float(weights[e, o])}
        for step, weights in enumerate(weights_per_step)
        for e, edge in enumerate(EDGES)
        for o, op in enumerate(OPS)
    ]  # fmt: skip
    return pd.DataFrame(rows)


def fake_run(alphas: pd.DataFrame, eigen: list[float] = ()) -> SimpleNamespace:
    history = pd.DataFrame({"name": ["hessian_eigenvalue"] * len(eigen), "value": list(eigen)})
    return SimpleNamespace(
        events=pd.DataFrame({"kind": [], "payload": []}),
        genotypes=pd.DataFrame({"genotype": [COLLAPSED]}),
        history=history,
        alphas=alphas,
    )


def test_cube_and_deviation_read_zero_while_uniform():
    uniform = np.full((4, 3), 1 / 3)
    steps, edges, ops, cube = alpha_cube(alphas_frame([uniform, uniform]), "normal")
    assert list(steps) == [0, 1] and edges == EDGES and ops == OPS
    assert cube.shape == (2, 4, 3)
    assert np.allclose(deviation_from_uniform(cube), 0.0)
    assert not alphas_decided(cube[-1])


def test_a_collapsed_cell_warns_only_once_the_alphas_have_decided():
    uniform = np.full((4, 3), 1 / 3)
    assert collapse_warnings(fake_run(alphas_frame([uniform]))) == []  # a coin toss yet
    decided = np.tile([0.8, 0.1, 0.1], (4, 1))
    (warning,) = collapse_warnings(fake_run(alphas_frame([uniform, decided])))
    assert "3 of 4 normal-cell edges are parameter-free" in warning


def test_the_eigenvalue_rule_is_robustdartss_windowed_one():
    uniform = [np.full((4, 3), 1 / 3)]
    # Two values growing fivefold are not enough: the rule compares means of 5 and 5.
    assert collapse_warnings(fake_run(alphas_frame(uniform), [0.1, 0.5])) == []
    (warning,) = collapse_warnings(fake_run(alphas_frame(uniform), [1.0] * 5 + [1.4] * 5))
    assert "rising Hessian eigenvalue" in warning and "1.3 x" in warning
    assert collapse_warnings(fake_run(alphas_frame(uniform), [1.0] * 5 + [1.2] * 5)) == []
    local, threshold = collapse_threshold([1.0] * 5 + [1.4] * 5)
    assert np.isclose(local[-1], 1.4) and np.isclose(threshold[-1], 1.3)

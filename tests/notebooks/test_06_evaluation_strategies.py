"""Lesson 06: partial training, successive halving, weight sharing and zero-cost proxies."""

from __future__ import annotations

import ast

import pytest

from tests.notebooks.conftest import (
    PLOTLY_MIME,
    count_mime,
    outputs,
    reference_answers,
    text_output,
)

STEM = "06_evaluation_strategies"


def test_reference_answers_assign_an_answer():
    answers = reference_answers(STEM)
    assert set(answers) == {"enough_epochs", "sh_budget", "best_estimator"}
    for source in answers.values():
        assigned = {
            target.id
            for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Assign)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        assert "answer" in assigned, source


def _figure_metas(nb) -> list[dict]:
    return [
        out["data"][PLOTLY_MIME]["layout"].get("meta")
        for out in outputs(nb)
        if PLOTLY_MIME in out.get("data", {})
    ]


@pytest.mark.slow
def test_evaluation_lesson_ranks_every_estimator(run_lesson):
    nb = run_lesson(STEM)
    assert not [o for o in outputs(nb) if o.get("output_type") == "error"]
    text = text_output(nb)
    assert "Traceback" not in text
    assert text.count("correct.") == len(reference_answers(STEM)), text
    # Successive halving spends exactly what it plans: 81 x 1 + 27 x 3 + 9 x 9 epochs.
    assert "planned epochs: 243" in text
    for estimator in (
        "partial (1 epoch)",
        "weight sharing",
        "synflow",
        "naswot",
        "grad_norm",
        "snip",
        "jacob_cov",
        "params",
    ):
        assert estimator in text
    assert count_mime(nb, PLOTLY_MIME) >= 4  # tau per epoch, epoch-1 scatter, two proxy scatters
    # plot_proxy_vs_true puts its rank correlations in layout.meta.
    metas = [m for m in _figure_metas(nb) if isinstance(m, dict) and "kendall_tau" in m]
    assert len(metas) >= 3
    assert all(-1.0 <= m["kendall_tau"] <= 1.0 for m in metas)

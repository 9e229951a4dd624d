"""Discrete searches that would fail mid-run, or ignore a setting, are refused up front."""

from __future__ import annotations

import pytest

from nasbench.config import DatasetConfig, SearchConfig
from nasbench.errors import ConfigError

RECON = {"name": "synthetic-recon", "size": 28, "limit": 32}
UNROLLED = {"name": "unrolled", "n_nodes": 2, "skeleton": {"cascades": 2, "channels": 8}}
CHAIN = {"name": "chain"}


def _config(**fields) -> SearchConfig:
    dataset = fields.pop("dataset", {"name": "synthetic", "limit": 32})
    return SearchConfig(dataset=DatasetConfig(**dataset), device="cpu", **fields)


def test_nash_on_reconstruction_data_is_refused_naming_the_task():
    config = _config(dataset=RECON, space=UNROLLED, strategy="nash", max_evaluations=9)
    with pytest.raises(ConfigError, match="NASH grows classifiers .* cannot search reconstruction"):
        config.validate()


@pytest.mark.parametrize("strategy, setting", [("genetic", "crossover_rate"),
                                               ("nsga2", "crossover_prob")])  # fmt: skip
def test_a_crossover_search_of_a_space_without_crossover_is_refused(strategy, setting):
    config = _config(dataset=RECON, space=UNROLLED, strategy=strategy, max_evaluations=40)
    with pytest.raises(ConfigError) as err:
        config.validate()
    said = str(err.value)
    assert "no crossover is defined for the 'unrolled' space's ReconGenotype" in said
    assert "('evolution')" in said and f"{setting} to 0" in said and "\n" not in said
    # With crossover off the search needs none, and is accepted.
    _config(dataset=RECON, space=UNROLLED, strategy=strategy, max_evaluations=40,
            strategy_config={setting: 0.0}).validate()  # fmt: skip


@pytest.mark.parametrize("strategy, space", [("nash", CHAIN), ("enas", {"name": "darts"}),
                                             ("autohas", {"name": "nb201"})])  # fmt: skip
@pytest.mark.parametrize("given, named", [({"evaluator": "smash"}, "evaluator 'smash'"),
                                          ({"evaluator_config": {"epochs": 50}},
                                           "evaluator_config {'epochs': 50}")])  # fmt: skip
def test_an_evaluator_given_to_a_strategy_that_scores_its_own_is_refused(
    strategy, space, given, named
):
    config = _config(strategy=strategy, space=space, max_evaluations=40, **given)
    with pytest.raises(ConfigError, match=f"{named} would be ignored: strategy '{strategy}' "
                                          "trains and scores its candidates itself"):  # fmt: skip
        config.validate()
    _config(strategy=strategy, space=space, max_evaluations=40).validate()  # the default


@pytest.mark.parametrize("dataset, metric, known", [
    ({"name": "synthetic", "limit": 32}, "val_psnr", "val_acc, val_auc"),
    (RECON, "val_acc", "val_psnr, val_ssim"),
])  # fmt: skip
def test_a_score_metric_the_task_does_not_report_is_refused(dataset, metric, known):
    space = UNROLLED if dataset is RECON else {"name": "nb201"}
    config = _config(dataset=dataset, space=space, strategy="random", max_evaluations=2,
                     evaluator_config={"metric": metric, "epochs": 1})  # fmt: skip
    with pytest.raises(ConfigError, match=f"metric '{metric}' is not reported .* {known}"):
        config.validate()
    # The default (val_auc), left out or named (as the launcher's form names every
    # setting), is the task's own score where it has no AUC.
    for settings in ({"epochs": 1}, {"epochs": 1, "metric": "val_auc"}):
        _config(dataset=dataset, space=space, strategy="random", max_evaluations=2,
                evaluator_config=settings).validate()  # fmt: skip


def test_the_cli_refuses_them_before_the_run_folder_exists(tmp_path, capsys):
    from nasbench.cli import main

    config = _config(dataset=RECON, space=UNROLLED, strategy="nsga2", max_evaluations=40)
    path = tmp_path / "c.json"
    config.save(path)
    assert main(["search", "--config", str(path), "--run-dir", str(tmp_path / "run")]) == 2
    assert "no crossover is defined" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()

"""The launcher lists ``unnas`` from the registry and launches it with its pretext task."""

from __future__ import annotations

import json

from nasbench.config import SearchConfig
from widgets.launcher import CONFIG_NAME, SearchLauncher, runnable_strategies

TINY_SPACE = {"name": "darts", "n_nodes": 2, "skeleton": {"n_cells": 3, "channels": 4}}


def test_unnas_is_listed_and_launches_with_its_pretext_task(tmp_path, started):
    assert "unnas" in runnable_strategies()
    launcher = SearchLauncher(tmp_path / "runs", dataset={"name": "synthetic", "size": 28},
                              space_config=TINY_SPACE)  # fmt: skip
    assert "unnas" in launcher.strategy.options
    launcher.strategy.value = "unnas"
    assert {"pretext", "jigsaw_permutations", "order"} <= set(launcher.form.controls)
    launcher.form.controls["pretext"].value = "jigsaw"
    launcher.run_button.click()
    ((args, run_dir),) = started
    written = json.loads((run_dir / CONFIG_NAME).read_text())
    config = SearchConfig.from_dict(written).validate()
    assert config.strategy == "unnas" and config.strategy_config["pretext"] == "jigsaw"
    assert args[0] == "search"


def test_colourisation_of_grey_images_is_an_inline_error(tmp_path, started):
    launcher = SearchLauncher(tmp_path / "runs", dataset={"name": "synthetic", "size": 28},
                              space_config=TINY_SPACE)  # fmt: skip
    launcher.strategy.value = "unnas"
    launcher.form.controls["pretext"].value = "colourisation"
    assert launcher.run() is None and started == []
    assert "colourisation needs colour" in launcher.message.value

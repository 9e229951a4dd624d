"""The launcher lists ``marl-gdas`` (kind multi-agent) and launches it on landmark volumes."""

from __future__ import annotations

import json

from nasbench.config import SearchConfig
from widgets.launcher import CONFIG_NAME, SearchLauncher, runnable_strategies


def test_marl_gdas_is_listed_last_and_launches_on_landmark_volumes(tmp_path, started):
    names = runnable_strategies()
    assert "marl-gdas" in names and names[-1] == "marl-gdas"
    dataset = {"name": "synthetic-landmarks3d", "size": 16, "limit": 4}
    launcher = SearchLauncher(tmp_path / "runs", dataset=dataset)
    assert "marl-gdas" in launcher.strategy.options
    launcher.strategy.value = "marl-gdas"
    launcher.run_button.click()
    ((args, run_dir),) = started
    written = json.loads((run_dir / CONFIG_NAME).read_text())
    config = SearchConfig.from_dict(written).validate()
    assert config.strategy == "marl-gdas"
    assert config.dataset.name == "synthetic-landmarks3d"
    assert args[0] == "search"

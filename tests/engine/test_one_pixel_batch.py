"""A network whose deepest feature map is one pixel, trained one image at a time: torch's
BatchNorm refuses it inside the first step; the search says so in one line instead."""

from __future__ import annotations

import pytest

from nasbench.config import DatasetConfig, SearchConfig
from nasbench.engine.bilevel import time_estimate
from nasbench.engine.run_setup import network_must_fit
from nasbench.engine.search import search
from nasbench.errors import ConfigError
from nasbench.models.memory import one_value_per_channel
from nasbench.runs import load


def one_pixel_config(batch_size: int) -> SearchConfig:
    # 28 px halved at each of 6 levels ends at 1x1.
    return SearchConfig(
        dataset=DatasetConfig(name="synthetic-seg", size=28, limit=16, batch_size=batch_size),
        space={"name": "nasunet", "skeleton": {"depth": 6, "channels": 2}},
        strategy="darts",
        epochs=1,
        max_steps_per_epoch=1,
        seed=0,
    )


def test_the_search_fails_in_one_line_naming_the_batch_and_records_it(tmp_path):
    with pytest.raises(ConfigError) as refused:
        search(one_pixel_config(1), tmp_path / "run")
    message = str(refused.value)
    assert "\n" not in message and "one value per channel" in message
    assert "dataset.batch_size is 1" in message and "2 or more" in message
    run = load(tmp_path / "run")
    assert run.status == "failed" and run.message == message
    run.close()


def test_the_estimate_says_the_same(tmp_path):
    with pytest.raises(ConfigError, match="one value per channel"):
        with network_must_fit(one_pixel_config(1), estimate_hint=False):
            time_estimate(one_pixel_config(1))


def test_two_images_per_batch_train():
    # The same network at batch 2: BatchNorm has two values per channel, and it runs.
    assert time_estimate(one_pixel_config(2))["step_s"] > 0


def test_other_errors_are_not_taken_for_it():
    assert one_value_per_channel(ValueError("another shape problem"), 1) is None
    assert one_value_per_channel(RuntimeError("Expected more than 1 value per channel when "
                                              "training"), 1) is None  # fmt: skip

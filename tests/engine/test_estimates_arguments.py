"""memory_estimate and time_estimate take what nasbench.search takes: a SearchConfig or a dict."""

from __future__ import annotations

import pytest

from nasbench.engine.bilevel import memory_estimate, time_estimate
from nasbench.errors import ConfigError


def test_estimates_take_the_dict_form_of_a_config(tiny):
    config = tiny("darts", epochs=1, max_steps_per_epoch=1)
    as_dict = config.to_dict()
    assert memory_estimate(as_dict)["total_mb"] == pytest.approx(
        memory_estimate(config)["total_mb"]
    )
    estimate = time_estimate(as_dict, probe_steps=1)
    assert (estimate["epochs"], estimate["steps_per_epoch"]) == (1, 1)


@pytest.mark.parametrize("estimate", [memory_estimate, time_estimate])
def test_estimates_refuse_other_types_as_search_does(estimate):
    for bad, kind in ((None, "NoneType"), ("darts", "str"), (5, "int")):
        with pytest.raises(ConfigError, match=rf"^{estimate.__name__} needs a SearchConfig or a "
                           rf"dict, got {kind}\.$"):  # fmt: skip
            estimate(bad)
    with pytest.raises(
        ConfigError, match="unknown search config key 'epoch'.*Did you mean 'epochs'"
    ):
        estimate({"epoch": 1})

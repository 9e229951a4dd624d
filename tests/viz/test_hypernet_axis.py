"""The SMASH hypernetwork curve's accuracy axis spans [0, 1], not an auto-range."""

import pandas as pd
import pytest

from nasbench.viz.hypernet_curve import plot_hypernet_curve


@pytest.mark.parametrize("acc", [0.47, 1.0, 0.0])
def test_train_accuracy_axis_is_zero_to_one(acc):
    curve = pd.DataFrame(
        {"epoch": [0.0, 1.0, 2.0], "train_loss": [0.7, 0.69, 0.69], "train_acc": [acc] * 3}
    )
    fig = plot_hypernet_curve(curve)
    assert fig.data[1].name == "train_acc" and fig.data[1].yaxis == "y2"
    assert tuple(fig.layout.yaxis2.range) == (0, 1)
    assert fig.layout.yaxis2.title.text == "train accuracy"
    assert fig.layout.yaxis.range is None  # the loss axis keeps auto-ranging

"""Drawings and figures given the wrong thing say so in one line, naming the function and
the argument called (not an AttributeError, a KeyError or another function's TypeError)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nasbench.errors import ConfigError, SpaceError
from nasbench.runs import RunStore, load
from nasbench.spaces.zoo import zoo
from nasbench.viz import (
    GraphvizError,
    draw_chain,
    draw_genotype,
    draw_nb201,
    plot_detections,
    plot_history,
    plot_trellis_betas,
    render,
    write_report,
)

NB201_TEXT = "|nor_conv_3x3~0|+|skip_connect~0|none~1|+|none~0|none~1|none~2|"


def one_line(err: pytest.ExceptionInfo) -> str:
    assert "\n" not in str(err.value)
    return str(err.value)


def test_draw_nb201_reads_text_as_draw_genotype_does():
    assert draw_nb201(NB201_TEXT).source == draw_genotype(NB201_TEXT).source


@pytest.mark.parametrize(
    ("draw", "given", "said"),
    [
        (draw_nb201, zoo["DARTS_V2"], "draw_nb201 draws nb201 genotypes"),
        (draw_nb201, None, "draw_nb201 draws nb201 genotypes, not None"),
        (draw_chain, NB201_TEXT, "draw_chain draws chain genotypes"),
        (draw_chain, "x", "cannot read 'x' as a genotype"),
    ],
)
def test_drawing_the_wrong_genotype_is_a_space_error(draw, given, said):
    with pytest.raises(SpaceError, match=said) as err:
        draw(given)
    one_line(err)


@pytest.mark.parametrize(
    ("draw", "genotype"), [(draw_genotype, zoo["DARTS_V2"]), (draw_nb201, NB201_TEXT)]
)
def test_highlight_of_bare_numbers_is_a_space_error(draw, genotype):
    with pytest.raises(SpaceError, match=r"highlight must be a list of .* tuples, got \[1, 2\]"):
        draw(genotype, highlight=[1, 2])


@pytest.mark.parametrize(
    ("graph", "fmt", "said"),
    [(None, "svg", "got NoneType"), (zoo["DARTS_V2"], None, "format 'None'")],
)
def test_render_of_no_graph_or_no_format_is_a_graphviz_error(graph, fmt, said):
    graph = draw_genotype(graph) if graph is not None else None
    with pytest.raises(GraphvizError, match=said) as err:
        render(graph, format=fmt)
    one_line(err)


def test_a_detection_without_scores_names_the_image_and_the_key():
    images = np.zeros((2, 1, 8, 8))
    with pytest.raises(ConfigError, match=r"detections\[1\] has no 'scores'") as err:
        plot_detections(images, [{"boxes": [], "scores": []}, {"boxes": [[0, 0, 1, 1]]}])
    one_line(err)
    with pytest.raises(ConfigError, match=r"truths\[0\] has no 'boxes'"):
        plot_detections(images, [{"boxes": [], "scores": []}] * 2, truths=[{}, {}])


def test_a_misspelt_keyword_of_plot_trellis_betas_is_named_there():
    with pytest.raises(ConfigError, match="plot_trellis_betas has no argument 'colz'") as err:
        plot_trellis_betas(pd.DataFrame(), colz=3)
    assert "Did you mean 'cols'?" in one_line(err) and "plot_alphas" not in str(err.value)


def history() -> pd.DataFrame:
    rows = [(s, 0, "train", "loss", 1.0 / s) for s in (1, 2)] + [(2, 0, "val", "val_acc", 0.7)]
    return pd.DataFrame(rows, columns=["step", "epoch", "phase", "name", "value"])


def test_an_unknown_phase_is_named_rather_than_the_metrics_it_lacks():
    with pytest.raises(ConfigError, match="no phase 'Train'; pass phases from train, val") as err:
        plot_history(history(), phases=["Train"])
    assert "Did you mean 'train'?" in one_line(err)
    with pytest.raises(ConfigError, match="phases is empty"):
        plot_history(history(), phases=[])
    assert [t.name for t in plot_history(history(), phases=["train"]).data] == ["train loss"]


def test_write_report_takes_a_loaded_run_and_refuses_none(tmp_path):
    with RunStore.create(tmp_path / "run", {"strategy": {"name": "darts"}}, environment={}) as s:
        s.set_status("finished")
    with load(tmp_path / "run") as run:
        assert write_report(run) == tmp_path / "run" / "report.html"
    with pytest.raises(ConfigError, match="got NoneType") as err:
        write_report(None)
    one_line(err)

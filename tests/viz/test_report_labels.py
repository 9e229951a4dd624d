"""What the report's labels say: an UnNAS run's pretext metrics, one marker per op in every
run of a space, the baseline named only where it is drawn, the resume line of a stopped run."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from nasbench.errors import NasbenchError
from nasbench.runs import RunStore, load
from nasbench.spaces import space_from_dict
from nasbench.spaces.zoo import zoo
from nasbench.viz import plot_best_so_far
from nasbench.viz.palette import op_symbol
from nasbench.viz.report import write_report
from nasbench.viz.timeline import plot_genotype_timeline

OPS = ("max_pool_3x3", "skip_connect", "sep_conv_3x3")
UNNAS = {"strategy": "unnas", "strategy_config": {"pretext": "rotation"}}


def _trained_run(run_dir, config):
    """A finished run with train and val metrics and one genotype, under ``config``."""
    with RunStore.create(run_dir, config, environment={}) as store:
        store.set_status("running")
        for step in (1, 2):
            store.log_metrics(step, 0, "train", {"loss": 1.2, "acc": 0.3})
        val = {"val_loss": 1.38, "val_acc": 0.25, "parameter_free_ops": 2.0}
        store.log_metrics(2, 0, "val", val)
        store.log_genotype(0, 2, zoo["DARTS_V2"].to_json(), val)
        store.set_status("finished")
    return run_dir


def _section(text: str, title: str) -> str:
    start = text.index(f"<h2>{title}</h2>")
    return text[start : text.index("</section>", start)]


def test_an_unnas_report_says_its_accuracy_is_the_pretext_tasks(tmp_path):
    text = write_report(_trained_run(tmp_path / "unnas", UNNAS)).read_text(encoding="utf-8")
    run = _section(text, "Run")
    assert "without labels" in run and "rotation pretext task" in run
    assert "4 classes, chance accuracy 0.25" in run and "not the labelled task" in run
    history = _section(text, "Training history")
    assert "Training history on the rotation pretext task (no labels)" in history
    assert "acc (rotation pretext)" in history
    assert "parameter_free_ops (rotation pretext)" not in history  # counts ops, no score


def test_a_jigsaw_run_names_its_permutation_classes_and_a_darts_run_no_pretext(tmp_path):
    jigsaw = {"strategy": "unnas", "strategy_config": {"pretext": "jigsaw",
                                                       "jigsaw_permutations": 10}}  # fmt: skip
    text = write_report(_trained_run(tmp_path / "jigsaw", jigsaw)).read_text(encoding="utf-8")
    assert "jigsaw pretext task&#x27;s (10 classes, chance accuracy 0.1)" in text
    text = write_report(_trained_run(tmp_path / "darts", {"strategy": "darts"})).read_text()
    assert "pretext" not in text


def _timeline_run(run_dir, genotype):
    with RunStore.create(run_dir, {"strategy": "darts", "space": {"name": "darts"}},
                         environment={}) as store:  # fmt: skip
        store.log_genotype(0, 1, genotype.to_json(), {})
    return load(run_dir)


def _symbols(fig) -> dict[str, str]:
    return {t.name: t.marker.symbol for t in fig.data if t.name not in ("changed", "not chosen")}


def test_an_op_keeps_its_timeline_marker_whichever_ops_a_run_chose(tmp_path):
    base = zoo["DARTS_V2"]  # its only pool is max_pool_3x3
    assert "avg_pool_3x3" not in {op for op, _ in base.reduce}
    other = dataclasses.replace(base, reduce=(("avg_pool_3x3", 0),) + base.reduce[1:])
    one = _symbols(plot_genotype_timeline(_timeline_run(tmp_path / "a", base)))
    two = _symbols(plot_genotype_timeline(_timeline_run(tmp_path / "b", other)))
    space = list(space_from_dict({"name": "darts"}).ops)
    for op in set(one) & set(two):
        assert one[op] == two[op] == op_symbol(op, space), op
    assert "max_pool_3x3" in set(one) & set(two)
    # Given the ops, a bare frame draws them so too.
    frame = plot_genotype_timeline(load(tmp_path / "a").genotypes, ops=space)
    assert _symbols(frame) == one


def _best_so_far_frames(strategies) -> dict[str, list[pd.DataFrame]]:
    return {s: [pd.DataFrame({"metrics.score": [0.5, 0.6, 0.7]})] for s in strategies}


def test_the_best_so_far_title_names_a_dashed_baseline_only_where_it_is_drawn():
    alone = plot_best_so_far(_best_so_far_frames(["evolution"]))
    assert "dashed" not in alone.layout.title.text
    assert alone.layout.title.text == "Best so far (one seed)"
    both = plot_best_so_far(_best_so_far_frames(["random", "evolution"]))
    assert both.layout.title.text == "Best so far (one seed; dashed: random baseline)"


def _stopped_run(run_dir, strategy, refusal=None):
    with RunStore.create(run_dir, {"strategy": strategy}, environment={}) as store:
        store.set_status("running")
        if refusal:
            store.log_event("not_resumable", {"message": refusal})
        store.set_status("stopped")
    return run_dir


def test_a_stopped_run_gets_the_resume_line_a_killed_one_has(tmp_path):
    run_dir = _stopped_run(tmp_path / "stopped run", "darts")
    text = write_report(run_dir).read_text(encoding="utf-8")
    assert '<b class="status-stopped">stopped</b>' in text
    assert f"continue it with <code>nasbench resume &#x27;{run_dir}&#x27;</code>" in text


def test_the_resume_line_imports_the_modules_the_run_needs(tmp_path):
    # As `nasbench stop` and `runs` give it: without --import the run's own strategy is unknown.
    from nasbench.engine.commands import run_command

    environment = {"user_code": {"modules": ["myext"]}}
    with RunStore.create(tmp_path / "run", {"strategy": "walk"}, environment=environment) as s:
        s.set_status("stopped")
    text = write_report(tmp_path / "run").read_text(encoding="utf-8")
    assert f"<code>{run_command('resume', tmp_path / 'run')}</code>" in text
    assert "nasbench --import myext resume" in text


def test_an_html_name_in_any_case_inside_the_run_folder_is_a_report(tmp_path):
    run_dir = _stopped_run(tmp_path / "run", "darts")
    for name in ("REPORT.HTML", "page.htm"):
        assert write_report(run_dir, run_dir / name).read_text().startswith("<!DOCTYPE")


def test_a_stopped_run_that_cannot_be_resumed_says_why_and_no_command(tmp_path):
    refusal = "a search with strategy 'nash' cannot be resumed: it trains networks it keeps"
    text = write_report(_stopped_run(tmp_path / "nash", "nash", refusal)).read_text()
    assert "cannot be resumed: it trains networks it keeps" in text
    assert "nasbench resume" not in _section(text, "Run")


def test_memory_and_time_have_no_best_in_the_run_table(tmp_path):
    with RunStore.create(tmp_path / "run", {"strategy": "darts"}, environment={}) as store:
        for epoch, (loss, memory) in enumerate(((0.9, 475.9), (1.1, 478.4))):
            val = {"val_loss": loss, "peak_memory_mb": memory, "epoch_wall_seconds": 3.0}
            store.log_metrics(epoch + 1, epoch, "val", val)
        store.set_status("finished")
    run = _section(write_report(tmp_path / "run").read_text(encoding="utf-8"), "Run")
    assert "<th>val_loss</th><td><b>1.1</b> (best 0.9)</td>" in run
    assert "<th>peak_memory_mb</th><td><b>478.4</b></td>" in run
    assert "<th>epoch_wall_seconds</th><td><b>3</b></td>" in run


def test_a_temperature_schedule_has_no_op_legend_title(tmp_path):
    from nasbench.viz.alphas import plot_alphas

    with RunStore.create(tmp_path / "run", {"strategy": "gdas"}, environment={}) as store:
        for step in (0, 1, 2):
            raw = np.full((1, 1), 10.0 - step)
            store.log_alphas(step, 0, "global", raw, ["tau"], ["tau"], kind="tau")
            store.log_alphas(step, 0, "normal", np.zeros((1, 2)), OPS[:2], ["0->2"])
    run = load(tmp_path / "run")
    assert plot_alphas(run, cell_type="global", kind="tau").layout.legend.title.text is None
    assert plot_alphas(run, cell_type="normal").layout.legend.title.text == "op"


@pytest.mark.parametrize("name", ["x", "notes.txt", "other/checkpoints/last.pt"])
def test_a_report_out_that_names_no_html_file_is_refused_in_one_line(tmp_path, capsys, name):
    from nasbench.cli import main

    run_dir = _stopped_run(tmp_path / "run", "darts")
    out = tmp_path / name
    with pytest.raises(NasbenchError, match=r"does not end in \.html or \.htm.*--out"):
        write_report(run_dir, out)
    assert main(["report", str(run_dir), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--out" in err and ".html" in err
    assert not out.exists()
    assert write_report(run_dir, tmp_path / "page.htm").read_text().startswith("<!DOCTYPE")

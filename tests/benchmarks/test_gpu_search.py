"""benchmarks/gpu.sh and its search part (benchmarks/gpu_search.py), checked without a GPU."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_the_search_config_is_the_darts_papers(load_benchmark, tmp_path):
    bench = load_benchmark("gpu_search")
    path = bench.write_config(tmp_path, "some/data", 50)
    config = json.loads(path.read_text())
    assert config["strategy"] == "darts" and config["strategy_config"] == {"order": 1}
    assert config["space"]["skeleton"] == {"n_cells": 8, "channels": 16}
    assert config["epochs"] == 50 and config["device"] == "cuda"
    dataset = config["dataset"]
    assert dataset["name"] == "pneumoniamnist" and dataset["batch_size"] == 64
    assert dataset["download"] is False and Path(dataset["root"]).is_absolute()


def test_the_report_reads_the_epochs_a_stopped_search_finished(load_benchmark, tmp_path, capsys):
    from nasbench import search
    from nasbench.config import DatasetConfig, SearchConfig

    config = SearchConfig(
        dataset=DatasetConfig(name="synthetic", limit=32, batch_size=8),
        space={"name": "darts", "n_nodes": 2, "skeleton": {"n_cells": 3, "channels": 4}},
        epochs=2,
        max_steps_per_epoch=2,
        device="cpu",
        seed=0,
    )
    search(config, tmp_path / "search")
    load_benchmark("gpu_search").report(tmp_path, 50, 120.0)
    out = capsys.readouterr().out
    assert "epochs done 2 of 50" in out and "wall time: 2.0 min in all" in out
    assert "step time:" in out and "peak memory:" in out


def test_the_projection_leaves_out_the_epoch_the_time_limit_cut_short(
    load_benchmark, monkeypatch, capsys
):
    import pandas as pd

    bench = load_benchmark("gpu_search")
    rows = [  # two epochs done 30 s and 70 s after the run was created (at t = 1000)
        {"phase": "val", "epoch": e, "name": n, "value": v, "time": 1000.0 + t}
        for e, t in ((0, 30.0), (1, 70.0))
        for n, v in (("images_per_s", 640.0), ("peak_memory_mb", 900.0), ("val_acc", 0.5))
    ]

    class Run:
        status, created = "stopped", 1000.0
        history = pd.DataFrame(rows)
        genotypes = pd.DataFrame({"genotype": []})

    monkeypatch.setattr(bench, "load", lambda path: Run())
    bench.report(Path("unused"), 50, 120.0)  # 120 s of wall time: 50 s in a cut-short epoch
    out = capsys.readouterr().out
    assert "2 epochs finished 1.2 min after the run was created = 35.0 s/epoch" in out
    assert "50 epochs: 29.2 min" in out
    assert "step time: 100.0 ms" in out  # batch 64 at 640 images per second


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal without a GPU")
def test_gpu_sh_refuses_in_one_line_without_a_gpu():
    done = subprocess.run(
        ["bash", str(REPO_ROOT / "benchmarks" / "gpu.sh")],
        capture_output=True,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip().startswith("benchmarks/gpu.sh: error: no CUDA GPU is visible")
    assert len(done.stderr.strip().splitlines()) == 1


def test_every_row_gpu_sh_asks_for_is_a_benchmark_variant(load_benchmark):
    import re

    script = (REPO_ROOT / "benchmarks" / "gpu.sh").read_text()
    method_lists = re.findall(r"METHODS=(\S+)", script)
    assert len(method_lists) == 2  # the full check's and QUICK=1's
    asked = [name for listed in method_lists for name in listed.split(",")]
    assert all("darts-1st+recompute-convs" in listed.split(",") for listed in method_lists)
    unknown = set(asked) - set(load_benchmark("supernet").VARIANTS)
    assert not unknown, f"gpu.sh names rows supernet.py lacks: {sorted(unknown)}"


def test_gpu_search_without_arguments_prints_its_usage():
    done = subprocess.run(
        [sys.executable, str(REPO_ROOT / "benchmarks" / "gpu_search.py")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 1 and done.stderr.startswith("usage: gpu_search.py config")


def test_gpu_search_help_prints_its_usage_and_succeeds():
    done = subprocess.run(
        [sys.executable, str(REPO_ROOT / "benchmarks" / "gpu_search.py"), "--help"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0 and done.stdout.startswith("usage: gpu_search.py config")
    assert done.stderr == ""


WALL_S_MUST = "WALL_S must be seconds (a finite number >= 0),"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["config", "{out}", "data", "ten"], "EPOCHS must be a whole number >= 1, got 'ten'"),
        (["config", "{out}", "data", "-5"], "EPOCHS must be a whole number >= 1, got -5"),
        (["config", "{out}", "data", "0"], "EPOCHS must be a whole number >= 1, got 0"),
        (["report", "{out}", "x", "60"], "EPOCHS must be a whole number >= 1, got 'x'"),
        (["report", "{out}", "50", "nan"], f"{WALL_S_MUST} got nan"),
        (["report", "{out}", "50", "-1"], f"{WALL_S_MUST} got -1"),
        (["fetch", "{out}"], "unknown verb 'fetch'; use 'config' or 'report'."),
    ],
)
def test_gpu_search_refuses_a_bad_argument_in_one_line(
    load_benchmark, capsys, tmp_path, argv, message
):
    bench = load_benchmark("gpu_search")
    out = tmp_path / "out"
    assert bench.main([a.format(out=out) for a in argv]) == 2
    assert capsys.readouterr().err == f"gpu_search.py: error: {message}\n"
    assert not out.exists()


def test_gpu_search_config_makes_its_out_folder_or_says_why_not(load_benchmark, capsys, tmp_path):
    bench = load_benchmark("gpu_search")
    out = tmp_path / "new" / "out"
    assert bench.main(["config", str(out), "data", "2"]) == 0
    assert (out / "search.json").is_file()
    a_file = tmp_path / "file"
    a_file.write_text("")
    capsys.readouterr()
    assert bench.main(["config", str(a_file / "out"), "data", "2"]) == 2
    assert capsys.readouterr().err == (
        f"gpu_search.py: error: cannot make the folder OUT {a_file / 'out'} (Not a directory)\n"
    )

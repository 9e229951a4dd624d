"""benchmarks/reconstruction.py: the verdicts read the per-seed table right."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.benchmarks.conftest import main_block_error, usage_error


@pytest.fixture(scope="module")
def bench(load_benchmark):
    return load_benchmark("reconstruction")


def _rows(seed, searched, zero_filled, unet_ssim, searched_ssim):
    models = {
        "searched (unrolled)": (searched, searched_ssim),
        "MONAI BasicUNet": (20.0, unet_ssim),
        "MONAI VarNet": (18.0, 0.6),
        "zero-filled": (zero_filled, 0.5),
    }
    return [
        {"seed": seed, "model": m, "params": 1, "test_psnr": p, "test_ssim": s, "test_nmse": 0.1,
         "train_s": 1.0, "search_s": 0.0}
        for m, (p, s) in models.items()
    ]  # fmt: skip


def test_verdicts_take_the_mean_over_seeds(bench):
    table = pd.DataFrame(_rows(0, 23.0, 18.0, 0.70, 0.72) + _rows(1, 21.0, 18.0, 0.70, 0.69))
    summary, verdicts = bench.summarise(table)
    assert summary.loc["searched (unrolled)", "psnr_mean"] == pytest.approx(22.0)
    assert "4.00 dB" in verdicts[0] and "met" in verdicts[0] and "NOT" not in verdicts[0]
    assert "+0.0050" in verdicts[1] and "NOT" not in verdicts[1]
    _, verdicts = bench.summarise(pd.DataFrame(_rows(0, 20.0, 18.0, 0.7, 0.6)))
    assert "NOT met" in verdicts[0] and "NOT met" in verdicts[1]


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--dataset", "bogus"], "error: --dataset: Unknown dataset 'bogus'"),
        (["--device", "gpu"], "error: --device: device must be \"auto\", \"cpu\" or \"cuda\""),
        (["--limit", "0"], "error: argument --limit: must be at least 1, got 0"),
        (["--size", "33"], "--size 33 is not offered by mni152-recon; use one of [32, 64, 128]"),
        (["--batch-size", "0"], "error: argument --batch-size: must be at least 1, got 0"),
        (["--search-epochs", "0"], "error: argument --search-epochs: must be at least 1, got 0"),
    ],
)  # fmt: skip
def test_bad_names_and_sizes_are_one_line_before_any_search(load_benchmark, capsys, argv, says):
    bench = load_benchmark("reconstruction")
    assert says in usage_error(capsys, lambda: bench.parse_args(argv))


def test_a_project_error_while_running_is_one_line(monkeypatch, capsys):
    """The __main__ block: a NasbenchError from the search is `reconstruction.py: error: ...`."""
    argv = [
        "--search-limit",
        "4",
        "--limit",
        "4",
        "--search-epochs",
        "1",
        "--train-epochs",
        "1",
        "--seeds",
        "0",
        "--device",
        "cpu",
    ]
    err = main_block_error(
        monkeypatch, capsys, "reconstruction.py", [*argv], "nasbench.engine.search.search"
    )
    assert err.splitlines()[-1] == ("reconstruction.py: error: the data went missing mid-run")


def test_json_is_strict_and_written_whole(bench, monkeypatch, tmp_path, capsys):
    import json

    def rows(args, seed):
        found = _rows(seed, 23.0, 18.0, 0.70, 0.72)
        found[0]["test_nmse"] = float("nan")  # a NaN score is null in the file, not NaN
        return pd.DataFrame(found)

    monkeypatch.setattr(bench, "run_seed", rows)
    out = tmp_path / "sub" / "recon.json"
    assert bench.main(["--seeds", "0", "1", "--device", "cpu", "--json", str(out)]) == 0

    def refuse(token):
        raise AssertionError(f"not strict JSON: {token}")

    saved = json.loads(out.read_text(), parse_constant=refuse)
    assert len(saved) == 8 and saved[0]["test_nmse"] is None
    assert [p.name for p in out.parent.iterdir()] == ["recon.json"]  # no temporary left

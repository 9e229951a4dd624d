"""benchmarks/detection.py: the summary reads the per-seed table right; --quick runs."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.benchmarks.conftest import main_block_error, usage_error


@pytest.fixture(scope="module")
def bench(load_benchmark):
    return load_benchmark("detection")


def _rows(seed, searched_ap50, fixed_ap50, searched_froc, fixed_froc):
    scores = {
        bench_names()[0]: (searched_ap50, searched_froc),
        bench_names()[1]: (fixed_ap50, fixed_froc),
    }
    common = {"seed": seed, "params": 100, "train_s": 1.0, "search_s": 0.0}
    return [
        {**common, "model": m, "test_ap50": a, "test_map": a / 2, "test_froc": f}
        for m, (a, f) in scores.items()
    ]


def bench_names():
    return "ALB (searched)", "ResNet backbone (fixed)"


def test_summary_takes_means_over_seeds_and_verdicts_compare_them(bench):
    assert (bench.SEARCHED, bench.FIXED) == bench_names()
    table = pd.DataFrame(_rows(0, 0.6, 0.5, 0.7, 0.8) + _rows(1, 0.4, 0.3, 0.5, 0.4))
    summary, verdicts = bench.summarise(table)
    assert summary.loc[bench.SEARCHED, "test_ap50_mean"] == pytest.approx(0.5)
    assert summary.loc[bench.SEARCHED, "test_ap50_std"] == pytest.approx(0.1)
    assert "+0.100" in verdicts[0] and "is higher over 2 seed(s)" in verdicts[0]
    # FROC means 0.6 vs 0.6: not higher.
    assert "NOT higher" in verdicts[1]


def test_quick_flag_shrinks_everything(bench):
    args = bench.parse_args(["--quick", "--seeds", "3", "4"])
    assert (args.size, args.limit, args.search_epochs, args.seeds) == (32, 16, 1, [3])


@pytest.mark.slow
def test_quick_run_prints_both_models_and_verdicts(bench, capsys):
    assert bench.main(["--quick"]) == 0
    out = capsys.readouterr().out
    assert bench.SEARCHED in out and bench.FIXED in out and "AP50: searched" in out


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--strategy", "bogus"], "error: --strategy: Unknown strategy 'bogus'"),
        (["--device", "gpu"], "error: --device: device must be \"auto\", \"cpu\" or \"cuda\""),
        (["--limit", "0"], "error: argument --limit: must be at least 1, got 0"),
        (["--size", "33"], "--size 33 is not offered by synthetic-lesions; use one of [32, 64,"),
        (["--quick", "--size", "33"], "error: --quick sets --size itself; drop one"),
        (["--batch-size", "0"], "error: argument --batch-size: must be at least 1, got 0"),
    ],
)  # fmt: skip
def test_bad_names_and_sizes_are_one_line_before_any_search(load_benchmark, capsys, argv, says):
    bench = load_benchmark("detection")
    assert says in usage_error(capsys, lambda: bench.parse_args(argv))


def test_a_project_error_while_running_is_one_line(monkeypatch, capsys):
    """The __main__ block: a NasbenchError from the search is `detection.py: error: ...`."""
    err = main_block_error(
        monkeypatch, capsys, "detection.py", ["--quick"], "nasbench.engine.search.search"
    )
    assert err.splitlines()[-1] == ("detection.py: error: the data went missing mid-run")


def test_json_is_strict_and_written_whole(bench, monkeypatch, tmp_path, capsys):
    import json

    def rows(args, seed):
        found = _rows(seed, 0.6, 0.5, 0.7, 0.8)
        found[0]["test_map"] = float("nan")  # a NaN score is null in the file, not NaN
        return found

    monkeypatch.setattr(bench, "run_seed", rows)
    out = tmp_path / "sub" / "det.json"
    assert bench.main(["--seeds", "0", "1", "--device", "cpu", "--json", str(out)]) == 0

    def refuse(token):
        raise AssertionError(f"not strict JSON: {token}")

    saved = json.loads(out.read_text(), parse_constant=refuse)
    assert len(saved) == 4 and saved[0]["test_map"] is None
    assert [p.name for p in out.parent.iterdir()] == ["det.json"]  # no temporary left

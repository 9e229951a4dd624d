"""benchmarks/segmentation.py: every searched row next to MONAI's U-Net, at a tiny size."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from tests.benchmarks.conftest import main_block_error, usage_error


def test_volume_rows_refuse_2d_in_one_line(load_benchmark):
    bench = load_benchmark("segmentation")
    args = bench.parse_args(["--vnas"])
    with pytest.raises(SystemExit, match="--vnas searches 3D volumes; add --dims 3"):
        bench.volume_row(args, None, "V-NAS", {"name": "vnas"}, "darts")


@pytest.mark.slow
def test_3d_table_has_the_vnas_dints_and_c2fnas_rows_beside_the_unet(load_benchmark):
    bench = load_benchmark("segmentation")
    args = bench.parse_args(
        ["--dims", "3", "--size", "32", "--limit", "4", "--search-epochs", "1",
         "--train-epochs", "1", "--batch-size", "2", "--channels", "2", "--depth", "1",
         "--trellis-layers", "0", "--c2fnas", "--c2fnas-cells", "3",
         "--c2fnas-candidates", "2", "--vnas", "--dints", "--device", "cpu",
         "--retrain-channels", "0", "--retrain-depth", "0"]
    )  # fmt: skip
    table = bench.run(args).set_index("model")
    searched = ["NAS-Unet (searched)", "C2FNAS (searched)", "V-NAS (searched)", "DiNTS (searched)"]
    assert set(searched) | {"MONAI UNet", "threshold"} == set(table.index)
    for model in searched:
        row = table.loc[model]
        assert row.params > 0 and row.search_s > 0 and row.train_s > 0
        assert 0.0 <= row.test_dice <= 1.0 and math.isfinite(row.dice_vs_unet)
    assert table.loc["MONAI UNet", "dice_vs_unet"] == 1.0


def test_seeds_default_to_seed_and_bad_flags_fail_in_one_line(load_benchmark, capsys):
    bench = load_benchmark("segmentation")
    assert bench.parse_args([]).seeds == [0]
    defaults = bench.parse_args([])
    assert (defaults.stem_kernel, defaults.stem_convs, defaults.seg_loss) == (3, 3, "dicece")
    assert bench.parse_args(["--seed", "4"]).seeds == [4]
    assert bench.parse_args(["--seeds", "0", "1", "2"]).seeds == [0, 1, 2]
    for argv, message in (
        (["--seeds", "1", "1"], "--seeds must differ"),
        (["--retrain-channels", "-2"], "--retrain-channels must be -1"),
        (["--retrain-depth", "-1"], "--retrain-depth must be 0"),
    ):
        with pytest.raises(SystemExit):
            bench.parse_args(argv)
        assert message in capsys.readouterr().err


def test_params_check_says_ok_or_exceeds(load_benchmark):
    bench = load_benchmark("segmentation")
    models = [bench.SEARCHED_MODEL, bench.UNET_MODEL, "threshold"]
    under = pd.DataFrame({"model": models, "params": [300, 400, 0]})
    assert bench.params_check(under) == ("params check: NAS-Unet 300 <= MONAI UNet 400 (0.75x): ok")
    over = pd.DataFrame({"model": models, "params": [500, 400, 0]})
    assert bench.params_check(over).endswith("500 > MONAI UNet 400 (1.25x): EXCEEDS the U-Net")


def _seed_table(bench, seed, ours, unet, params=(300, 400)):
    return pd.DataFrame({
        "model": [bench.SEARCHED_MODEL, bench.UNET_MODEL],
        "params": list(params),
        "test_dice": [ours, unet],
        "dice_vs_unet": [ours / unet, 1.0],
        "params_vs_unet": [params[0] / params[1], 1.0],
        "train_s": [2.0 + seed, 4.0],
        "search_s": [1.0, 0.0],
        "seed": seed,
    })  # fmt: skip


def test_summary_is_the_mean_and_std_over_seeds_of_each_seeds_ratio(load_benchmark):
    bench = load_benchmark("segmentation")
    tables = [_seed_table(bench, 0, 0.4, 0.5), _seed_table(bench, 1, 0.6, 0.4)]
    summary = bench.summarise(tables).set_index("model")
    ours = summary.loc[bench.SEARCHED_MODEL]
    assert ours.dice_mean == pytest.approx(0.5)
    assert ours.dice_std == pytest.approx(np.std([0.4, 0.6], ddof=1))
    # the ratio is averaged per seed (0.8 and 1.5), not the ratio of the means (0.5/0.45)
    assert ours.ratio_mean == pytest.approx(1.15)
    assert ours.test_dice == "0.500 ± 0.141" and ours.seeds == 2
    assert ours.train_s == 2.5 and ours.params == 300
    assert summary.loc[bench.UNET_MODEL, "dice_vs_unet"] == "1.000 ± 0.000"
    assert bench.verdict(bench.summarise(tables)).startswith(
        "verdict: met: NAS-Unet Dice 0.500 vs MONAI UNet 0.450 (ratio 1.150 ± 0.495 over 2"
    )
    single = bench.summarise(tables[:1]).set_index("model")
    assert single.loc[bench.SEARCHED_MODEL, "dice_std"] == 0.0


def test_verdict_is_not_met_below_the_unets_dice_or_above_its_params(load_benchmark):
    bench = load_benchmark("segmentation")
    lower = bench.summarise([_seed_table(bench, 0, 0.3, 0.5)])
    assert bench.verdict(lower).startswith("verdict: not met: NAS-Unet Dice 0.300")
    larger = bench.summarise([_seed_table(bench, 0, 0.6, 0.5, params=(500, 400))])
    assert bench.verdict(larger).startswith("verdict: not met")
    assert bench.verdict(larger).endswith("params 500 vs 400")


def test_fit_channels_is_the_widest_nasunet_under_the_unets_params(load_benchmark):
    from nasbench.models import build
    from nasbench.spaces import space_from_dict
    from nasbench.spaces.skeleton import UNetSkeleton

    bench = load_benchmark("segmentation")
    space = space_from_dict({"name": "nasunet", "n_nodes": 2})
    genotype = space.sample(np.random.default_rng(0))
    limit = bench.unet_params("synthetic-seg", 16)
    channels = bench.fit_channels(genotype, "synthetic-seg", 16, depth=2, start=2)

    def params(c):
        skeleton = UNetSkeleton(depth=2, channels=c, num_classes=3)
        return bench.count_params(build(genotype, skeleton, seed=0))

    assert channels > 2 and params(channels) <= limit < params(channels + 1)
    plain = ["--stem-kernel", "1", "--stem-convs", "1"]  # NAS-Unet's stems, as fitted above
    args = bench.parse_args(["--size", "16", "--retrain-depth", "2", "--channels", "2", *plain])
    assert bench.retrain_skeleton(args, genotype, "synthetic-seg") == {
        "channels": channels, "depth": 2,
    }  # fmt: skip
    # The stem options count: a deeper stem leaves no more room than a plain one.
    deep = bench.parse_args(["--size", "16", "--retrain-depth", "2", "--channels", "2",
                             "--stem-kernel", "3", "--stem-convs", "2"])  # fmt: skip
    wide = bench.retrain_skeleton(deep, genotype, "synthetic-seg")["channels"]
    stem = {"stem_kernel": 3, "stem_convs": 2}
    deep_net = build(genotype, UNetSkeleton(depth=2, channels=wide, num_classes=3, **stem), seed=0)
    assert wide <= channels and bench.count_params(deep_net) <= limit
    as_searched = bench.parse_args(["--retrain-channels", "0", "--retrain-depth", "0"])
    assert bench.retrain_skeleton(as_searched, genotype, "synthetic-seg") == {}


@pytest.mark.slow
def test_two_seeds_print_the_mean_table_the_params_check_and_the_verdict(
    load_benchmark, tmp_path, capsys
):
    bench = load_benchmark("segmentation")
    out = tmp_path / "seg.json"
    bench.main(
        ["--size", "28", "--limit", "4", "--search-epochs", "1", "--train-epochs", "1",
         "--batch-size", "2", "--channels", "2", "--depth", "1", "--retrain-depth", "2",
         "--trellis-layers", "0", "--device", "cpu", "--seeds", "0", "1", "--json", str(out)]
    )  # fmt: skip
    text = capsys.readouterr().out
    assert text.count("params check: NAS-Unet") == 2 and text.count(": ok") == 2
    assert "mean ± std over seeds [0, 1]" in text and "verdict: " in text
    saved = json.loads(out.read_text())
    assert {r["seed"] for r in saved["runs"]} == {0, 1}
    ours = [r for r in saved["runs"] if r["model"] == "NAS-Unet (searched)"]
    assert all(r["params_vs_unet"] <= 1.0 for r in ours)
    summary = {r["model"]: r for r in saved["summary"]}
    ratios = [r["dice_vs_unet"] for r in ours]
    assert summary["NAS-Unet (searched)"]["ratio_mean"] == pytest.approx(np.mean(ratios))
    assert summary["NAS-Unet (searched)"]["seeds"] == 2


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--strategy", "bogus"], "error: --strategy: Unknown strategy 'bogus'"),
        (["--device", "gpu"], "error: --device: device must be \"auto\", \"cpu\" or \"cuda\""),
        (["--limit", "0"], "error: argument --limit: must be at least 1, got 0"),
        (["--batch-size", "0"], "error: argument --batch-size: must be at least 1, got 0"),
        (["--train-epochs", "-1"], "error: argument --train-epochs: must be at least 1, got -1"),
        (["--lr", "nan"], "error: argument --lr: must be a finite number above 0, got nan"),
    ],
)  # fmt: skip
def test_bad_names_and_sizes_are_one_line_before_any_search(load_benchmark, capsys, argv, says):
    bench = load_benchmark("segmentation")
    assert says in usage_error(capsys, lambda: bench.parse_args(argv))


def test_a_project_error_while_running_is_one_line(monkeypatch, capsys):
    """The __main__ block: a NasbenchError from the search is `segmentation.py: error: ...`."""
    argv = [
        "--size",
        "28",
        "--limit",
        "4",
        "--search-epochs",
        "1",
        "--train-epochs",
        "1",
        "--batch-size",
        "2",
        "--channels",
        "2",
        "--depth",
        "1",
        "--trellis-layers",
        "0",
        "--device",
        "cpu",
    ]
    err = main_block_error(
        monkeypatch, capsys, "segmentation.py", [*argv], "nasbench.engine.search.search"
    )
    assert err.splitlines()[-1] == ("segmentation.py: error: the data went missing mid-run")

"""The NAS-Bench-201 importer on a tiny fake file in the official layout, and CSV/JSON records."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import torch

from nasbench.bench import import_nb201, import_records
from nasbench.errors import ConfigError
from nasbench.spaces import NB201Space

CONV = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|none~1|nor_conv_1x1~2|"
POOL = "|avg_pool_3x3~0|+|none~0|skip_connect~1|+|nor_conv_1x1~0|none~1|skip_connect~2|"
# Node 1 feeds only a 'none' edge, so its op does not matter: isomorphic to POOL's sibling.
DEAD_A = "|nor_conv_3x3~0|+|skip_connect~0|none~1|+|nor_conv_1x1~0|none~1|none~2|"
DEAD_B = "|avg_pool_3x3~0|+|skip_connect~0|none~1|+|nor_conv_1x1~0|none~1|none~2|"


def _run(seed: int, offset: float, names: tuple[str, ...], epochs: int = 3) -> dict:
    """A ResultsCount state dict as nas_201_api stores it."""
    acc = {
        f"{n}@{e}": 50.0 + 10 * e + offset + (1.0 if n == "x-test" else 0.0)
        for n in names
        for e in range(epochs)
    }
    return {
        "name": "fake",
        "net_state_dict": None,
        "train_acc1es": {e: 60.0 + e for e in range(epochs)},
        "train_acc5es": None,
        "train_losses": {e: 1.0 / (e + 1) for e in range(epochs)},
        "train_times": {e: 2.0 for e in range(epochs)},
        "arch_config": {"channel": 16, "num_cells": 5},
        "params": 0.5,
        "flop": 80.0,
        "seed": seed,
        "epochs": epochs,
        "latency": [0.004, 0.006],
        "eval_names": list(names),
        "eval_acc1es": acc,
        "eval_times": {},
        "eval_losses": {k: 0.5 for k in acc},
    }


def _arch_results(index: int, arch: str, offset: float) -> dict:
    return {
        "arch_index": index,
        "arch_str": arch,
        "all_results": {
            ("cifar10-valid", 777): _run(777, offset, ("x-valid", "ori-test")),
            ("cifar10-valid", 888): _run(888, offset + 2.0, ("x-valid", "ori-test")),
            ("cifar100", 777): _run(777, offset, ("x-valid", "x-test", "ori-test")),
        },
        "dataset_seed": {"cifar10-valid": [777, 888], "cifar100": [777]},
        "clear_net_done": True,
    }


@pytest.fixture
def fake_pth(tmp_path):
    archs = [CONV, POOL, DEAD_A, DEAD_B]
    data = {
        "meta_archs": archs,
        "arch2infos": {
            i: {"less": _arch_results(i, a, i), "full": _arch_results(i, a, 10.0 * i)}
            for i, a in enumerate(archs)
        },
        "evaluated_indexes": list(range(len(archs))),
        "total_archs": len(archs),
    }
    path = tmp_path / "NAS-Bench-201-v1_1-fake.pth"
    torch.save(data, path)
    return path


def test_import_reads_epochs_seeds_costs(fake_pth):
    table = import_nb201(fake_pth, "cifar10-valid")
    space = NB201Space()
    assert space.canonical(DEAD_A) == space.canonical(DEAD_B)
    assert len(table) == 3  # DEAD_B is isomorphic to DEAD_A: the first index wins
    assert table.max_epoch == 3 and table.seeds == [777, 888]
    row = table.query(CONV, epoch=1, seed=777)
    assert row["val_acc"] == pytest.approx(0.50) and row["test_acc"] == pytest.approx(0.50)
    assert table.query(CONV, epoch=3)["val_acc"] == pytest.approx((0.70 + 0.72) / 2)
    assert row["params"] == pytest.approx(5e5) and row["macs"] == pytest.approx(8e7)
    assert row["latency_ms"] == pytest.approx(5.0) and row["train_seconds_per_epoch"] == 2.0
    assert row["train_loss"] == pytest.approx(1.0)
    pd.testing.assert_series_equal(
        pd.Series(table.query(DEAD_B)), pd.Series(table.query(DEAD_A))
    )  # NaN AUCs (NB201 records none) compare equal here
    assert table.query(POOL, epoch=2, seed=777)["val_acc"] == pytest.approx(0.70)


def test_import_uses_x_test_when_present_and_less_setting(fake_pth):
    c100 = import_nb201(fake_pth, "cifar100")
    assert c100.query(CONV, epoch=1)["test_acc"] == pytest.approx(0.51)
    less = import_nb201(fake_pth, "cifar10-valid", setting="less")
    assert less.query(POOL, epoch=1, seed=777)["val_acc"] == pytest.approx(0.51)


def test_import_errors_are_one_line(fake_pth, tmp_path):
    with pytest.raises(ConfigError, match="Did you mean 'cifar100'"):
        import_nb201(fake_pth, "cifar1000")
    with pytest.raises(ConfigError, match="does not exist"):
        import_nb201(tmp_path / "nope.pth")
    torch.save({"something": 1}, tmp_path / "other.pth")
    with pytest.raises(ConfigError, match="not a NAS-Bench-201"):
        import_nb201(tmp_path / "other.pth")
    with pytest.raises(ConfigError, match="setting"):
        import_nb201(fake_pth, setting="half")


def test_records_from_csv_and_json(tmp_path):
    rows = [
        {"arch": CONV, "dataset": "breast", "epoch": 1, "accuracy": 80.0},
        {"arch": CONV, "dataset": "breast", "epoch": 2, "accuracy": 85.0},
        {"arch": POOL, "dataset": "breast", "epoch": 1, "accuracy": 70.0},
        {"arch": POOL, "dataset": "pneumonia", "epoch": 1, "accuracy": 60.0},
    ]
    pd.DataFrame(rows).to_csv(tmp_path / "r.csv", index=False)
    (tmp_path / "r.json").write_text(json.dumps(rows))
    for name in ("r.csv", "r.json"):
        table = import_records(tmp_path / name, dataset="breast")
        assert len(table) == 2
        assert table.query(CONV)["val_acc"] == pytest.approx(0.85)
        assert table.query(POOL, epoch=1)["val_acc"] == pytest.approx(0.70)
    with pytest.raises(ConfigError, match="Did you mean 'breast'"):
        import_records(tmp_path / "r.csv", dataset="breest")
    with pytest.raises(ConfigError, match="need columns"):
        import_records(pd.DataFrame({"arch": [CONV]}))


@pytest.mark.parametrize(
    ("records", "message"),
    [
        ({"epoch": [1, 1], "accuracy": [80.0, 90.0]}, "at epoch 1 appears more than once"),
        ({"epoch": [1], "accuracy": [150.0]}, "val_acc of row 0 is 150; accuracies are"),
        ({"epoch": [0], "accuracy": [0.5]}, "row 0 has epoch 0; epochs count"),
        ({"epoch": ["one"], "accuracy": [0.5]}, "'epoch' of row 0 is 'one', not a whole number"),
        ({"epoch": [1], "accuracy": ["91%"]}, "'val_acc' of row 0 is '91%', not a number"),
        ({"epoch": [1], "accuracy": [0.5], "seed": ["a"]}, "'seed' of row 0 is 'a'"),
        ({"epoch": [1], "accuracy": [0.5], "train_acc": ["n/a"]}, "'train_acc' of row 0 is 'n/a'"),
        ({"epoch": [1, 1], "accuracy": [0.5, 0.6], "dataset": ["a", "b"]}, "several datasets"),
    ],
)
def test_records_that_would_read_wrong_are_refused_in_one_line(records, message):
    frame = pd.DataFrame({"arch": [CONV] * len(records["epoch"]), **records})
    with pytest.raises(ConfigError, match=message) as err:
        import_records(frame)
    assert "\n" not in str(err.value)


def test_a_percent_column_is_read_as_percent_whole_and_repeats_with_seeds_are_kept():
    # NAS-Bench-201's worst cells score under 1 %: the column, not the value, sets the unit.
    table = import_records(
        pd.DataFrame({"arch": [CONV, POOL, CONV], "epoch": [1, 1, 1],
                      "accuracy": [91.0, 0.9, 93.0], "seed": [0, 0, 1]})
    )  # fmt: skip
    assert table.query(POOL, epoch=1)["val_acc"] == pytest.approx(0.009)
    assert table.query(CONV, epoch=1)["val_acc"] == pytest.approx(0.92)
    assert table.seeds == [0, 1]


@pytest.mark.parametrize(("name", "text"), [("r.json", '[{"arch": 1,'), ("r.csv", 'a,b\n"x,1\n')])
def test_a_records_file_that_does_not_parse_is_one_line(tmp_path, name, text):
    (tmp_path / name).write_text(text)
    with pytest.raises(ConfigError, match=f"{name}' does not parse as"):
        import_records(tmp_path / name)


def test_an_nb201_file_of_another_layout_names_the_entry(fake_pth, tmp_path):
    data = torch.load(fake_pth, weights_only=True)
    data["meta_archs"] = data["meta_archs"][:1]  # an index points past the arch list
    torch.save(data, tmp_path / "short.pth")
    with pytest.raises(ConfigError, match="arch2infos entry 1 .* not in the NAS-Bench-201 layout"):
        import_nb201(tmp_path / "short.pth")


@pytest.mark.parametrize("column", ["epoch", "seed"])
def test_records_with_an_epoch_or_seed_past_what_a_table_holds_are_refused(column):
    # 1e30 once wrapped to a negative epoch in the table's 64-bit column.
    records = {"arch": [CONV], "epoch": [1], "accuracy": [0.5], "seed": [0], column: [1e30]}
    with pytest.raises(ConfigError, match=f"row 0 has {column} 1e\\+30, above the largest") as err:
        import_records(pd.DataFrame(records))
    assert "\n" not in str(err.value)


def test_records_with_a_negative_seed_are_refused():
    records = {"arch": [CONV, CONV], "epoch": [1, 1], "accuracy": [0.5, 0.6], "seed": [0, -3]}
    with pytest.raises(ConfigError, match="row 1 has seed -3; seeds are whole numbers from 0"):
        import_records(pd.DataFrame(records))
    assert import_records(pd.DataFrame({**records, "seed": [0, 3]})).seeds == [0, 3]


@pytest.mark.parametrize(
    ("data", "named"),
    [
        ({"meta_archs": "x", "arch2infos": 5}, "'meta_archs' is of type str, not a list"),
        ({"meta_archs": [CONV], "arch2infos": 5}, "'arch2infos' is of type int, not a dict"),
        ({"meta_archs": [CONV], "arch2infos": {0: {}, "1": {}}}, "'arch2infos' has keys of"),
    ],
)
def test_an_nb201_file_whose_entries_have_other_types_is_one_line(tmp_path, data, named):
    torch.save(data, tmp_path / "odd.pth")
    with pytest.raises(ConfigError, match="is not in the NAS-Bench-201 layout") as err:
        import_nb201(tmp_path / "odd.pth")
    assert named in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("limit", [0, -1, True, 1.5, "2"])
def test_an_import_limit_below_one_or_not_a_count_is_refused(fake_pth, limit):
    with pytest.raises(ConfigError, match="limit must be None .* or a whole number >= 1") as err:
        import_nb201(fake_pth, limit=limit)
    assert "no 'full' results" not in str(err.value)
    assert len(import_nb201(fake_pth, limit=1)) == 1  # the smallest limit still imports


def test_an_nb201_path_that_is_a_folder_says_so(tmp_path):
    with pytest.raises(ConfigError, match="is a folder, not a file; pass the .pth file") as err:
        import_nb201(tmp_path)
    assert "does not exist" not in str(err.value)
    with pytest.raises(ConfigError, match="records file .* is a folder, not a file"):
        import_records(tmp_path)

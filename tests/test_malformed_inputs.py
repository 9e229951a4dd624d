"""Malformed inputs, table-driven: every one ends in exit status 2 and exactly one line
``nasbench: error: ...`` that names the bad value and what to do, with no traceback and
nothing written (for a run already under way: status ``failed`` with that message and
its completed steps kept).

Most cases run the CLI's ``main`` in-process (or call the API); a handful go through
real subprocesses, as a person types them.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nasbench.cli import main
from nasbench.errors import NasbenchError

# Words of advice: every message says what to do, not only what is wrong.
ADVICE = (
    "use", "set", "choose", "pass", "add", "delete", "lower", "fix", "write", "start",
    "free", "rename", "remove", "resume", "download", "fetch", "put", "see", "give",
    "search", "raise", "leave", "drop", "make", "pick", "try", "stop", "name",
    "must be", "one of", "known", "did you mean", "options:", "expected", "needs", "paste",
)  # fmt: skip

BASE = {
    "dataset": {"name": "synthetic", "limit": 16, "batch_size": 4},
    "space": {"name": "darts", "n_nodes": 2, "skeleton": {"n_cells": 2, "channels": 2}},
    "epochs": 1,
    "max_steps_per_epoch": 1,
    "device": "cpu",
}


@dataclass
class Case:
    """One malformed input: the argv (``{tmp}`` is the case's folder), what to set up
    first, and a fragment the error line must contain (the bad value)."""

    id: str
    argv: list[str]
    names: str
    setup: Callable[[Path], None] = lambda tmp: None
    run_under_way: bool = False  # a resume of a finished run: it stays finished, rows kept
    extra: dict = field(default_factory=dict)


def write_config(text_or_dict) -> Callable[[Path], None]:
    def setup(tmp: Path) -> None:
        data = text_or_dict
        if isinstance(data, dict):
            data = json.dumps(data, allow_nan=True)
        if isinstance(data, str):
            data = data.encode()
        (tmp / "c.json").write_bytes(data)

    return setup


def search_argv() -> list[str]:
    return ["search", "--config", "{tmp}/c.json", "--run-dir", "{tmp}/run"]


def with_key(key: str, value) -> dict:
    """BASE with ``key`` (dotted for nested) set to ``value``."""
    config = json.loads(json.dumps(BASE))
    target = config
    *parents, last = key.split(".")
    for parent in parents:
        target = target.setdefault(parent, {})
    target[last] = value
    return config


NAN, INF = float("nan"), float("inf")

# (key, value, fragment the message must hold)
CONFIG_VALUES = [
    ("w_lr", "fast", "'fast'"), ("w_lr", None, "None"), ("w_lr", NAN, "nan"),
    ("w_lr", INF, "inf"), ("w_lr", -INF, "-inf"), ("w_lr", -1, "-1"),
    ("w_lr", True, "True"), ("w_lr", [0.1], "[0.1]"), ("w_lr", {"v": 1}, "{'v': 1}"),
    ("w_lr", 0, "w_lr must be > 0"),
    ("w_momentum", 5, "w_momentum must be below 1"),
    ("w_lr_min", "x", "'x'"), ("w_lr_min", -0.5, "-0.5"), ("w_momentum", None, "None"),
    ("w_momentum", NAN, "nan"), ("w_weight_decay", "3e-4", "'3e-4'"),
    ("w_weight_decay", -1, "-1"), ("grad_clip", INF, "inf"), ("grad_clip", "5", "'5'"),
    ("epochs", 0, "0"), ("epochs", -3, "-3"), ("epochs", 1.5, "1.5"), ("epochs", "2", "'2'"),
    ("epochs", None, "None"), ("epochs", True, "True"), ("max_steps_per_epoch", 0, "0"),
    ("max_steps_per_epoch", "a", "'a'"), ("max_steps_per_epoch", 2.5, "2.5"),
    ("seed", -1, "-1"), ("seed", "0", "'0'"), ("seed", 1.5, "1.5"), ("seed", True, "True"),
    ("seed", None, "None"), ("deterministic", "yes", "'yes'"), ("deterministic", 1, "1"),
    ("deterministic", None, "None"), ("early_stop", "no", "'no'"), ("early_stop", 0, "0"),
    ("early_stop", True, "eigen_every"), ("alpha_every", -1, "-1"), ("alpha_every", "1", "'1'"),
    ("eigen_every", -2, "-2"), ("checkpoint_every", -1, "-1"), ("checkpoint_every", 1.5, "1.5"),
    ("checkpoint_every", "1", "'1'"), ("max_alpha_snapshots", -5, "-5"),
    ("early_stop_window", 0, "0"), ("early_stop_factor", 1.0, "1.0"),
    ("early_stop_factor", NAN, "nan"), ("early_stop_start", -1, "-1"), ("device", "gpu", "'gpu'"),
    ("device", 5, "5"), ("precision", "fp16", "'fp16'"), ("precision", None, "None"),
    ("strategy", "dartz", "dartz"), ("strategy", 5, "5"), ("strategy", None, "None"),
    ("roi_size", 8, "roi_size"), ("roi_size", 0, "0"), ("roi_size", "8", "'8'"),
    ("dataset", 5, "5"), ("dataset", [1], "[1]"), ("dataset", None, "None"),
    ("dataset", "nonexistent", "nonexistent"), ("dataset.name", 5, "5"),
    ("dataset.name", "breastmnst", "breastmnst"), ("dataset.size", 29, "29"),
    ("dataset.size", "28", "'28'"), ("dataset.size", 0, "0"), ("dataset.batch_size", 0, "0"),
    ("dataset.batch_size", -4, "-4"), ("dataset.batch_size", 2.5, "2.5"),
    ("dataset.limit", 0, "0"), ("dataset.limit", "x", "'x'"), ("dataset.augment", "yes", "'yes'"),
    ("dataset.download", "no", "'no'"), ("dataset.root", 5, "5"), ("dataset.colour", 1, "colour"),
    ("space", 5, "5"), ("space", "darts", "'darts'"), ("space.name", "nope", "nope"),
    ("space.n_nodes", 0, "n_nodes"), ("space.skeleton.channels", 0, "channels"),
    ("space.skeleton", "big", "skeleton"), ("strategy_config", 5, "5"),
    ("strategy_config", {"arch_lr": NAN}, "arch_lr"),
    ("strategy_config", {"arch_lr": "x"}, "arch_lr"),
    ("strategy_config", {"arch_lrr": 1e-3}, "arch_lrr"), ("w_lrr", 0.1, "w_lrr"),
    ("epoch", 3, "'epoch'"), ("evaluator_config", [1], "[1]"), ("executor_config", 3, "3"),
    ("max_seconds", "ten", "'ten'"), ("max_seconds", INF, "inf"),
    ("max_evaluations", 1.5, "1.5"), ("space.skeleton.n_cells", -1, "n_cells"),
    ("evaluator_config", {"epochs": 3}, "evaluator_config {'epochs': 3}"),
    ("evaluator", "proxy", "evaluator 'proxy'"),
    ("epochs", 10**20, "epochs 100000000000000000000"), ("seed", 2**40, "seed 1099511627776"),
    ("dataset.limit", 10**20, "dataset.limit 100000000000000000000"),
    ("dataset.batch_size", 2**31, "dataset.batch_size 2147483648"),
]  # fmt: skip

# A discrete search refuses the supernet's epochs, steps and batch size: it keeps BASE's
# data and space only.
DISCRETE = {
    "dataset": {"name": "synthetic", "limit": 16}, "space": BASE["space"], "device": "cpu",
    "strategy": "random", "evaluator": "proxy", "max_evaluations": 4,
}  # fmt: skip
DISCRETE_VALUES = [
    ("executor", "threads", "'threads'"), ("evaluator", "nope", "nope"),
    ("max_evaluations", 0, "0"), ("evaluator_config", {"proxy": "nope"}, "nope"),
    ("executor_config", {"workers": 0}, "workers must be an integer >= 1, got 0"),
    ("executor_config", {"wrkers": 2}, "'wrkers'"),
]  # fmt: skip

RAW_CONFIGS = [
    ("empty-file", "", "not valid JSON"), ("open-brace", "{", "not valid JSON"),
    ("list", "[]", "list"), ("null", "null", "NoneType"), ("number", "5", "int"),
    ("string", '"darts"', "str"), ("nan-literal", '{"w_lr": NaN}', "nan"),
    ("infinity-literal", '{"seed": Infinity}', "inf"),
    ("minus-infinity", '{"grad_clip": -Infinity}', "-inf"),
    ("trailing-comma", '{"epochs": 1,}', "not valid JSON"),
    ("not-utf8", b"\xff\xfe\x00{", "cannot be read as text"),
    ("repeated-key", '{"epochs": 1, "epochs": 2}', "'epochs' twice (1 and 2)"),
    ("repeated-nested-key", '{"dataset": {"name": "synthetic", "limit": 16, "limit": 8}}',
     "'limit' twice"),
    ("number-of-5000-digits", '{"epochs": 1' + "0" * 5000 + "}", "a number too long to read"),
    ("nested-too-deep", '{"epochs": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested too deeply"),
]  # fmt: skip


def config_cases() -> list[Case]:
    cases = []
    for key, value, names in CONFIG_VALUES:
        cases.append(Case(f"config-{key}={value!r}", search_argv(), names,
                          write_config(with_key(key, value))))  # fmt: skip
    for key, value, names in DISCRETE_VALUES:
        config = {**DISCRETE, key: value}
        cases.append(Case(f"discrete-{key}={value!r}", search_argv(), names, write_config(config)))
    process = {**DISCRETE, "executor": "process", "executor_config": {"wrkers": 2}}
    cases.append(Case("discrete-process-executor-typo", search_argv(), "'wrkers'",
                      write_config(process)))  # fmt: skip
    nsga = {**DISCRETE, "strategy": "nsga2", "strategy_config": {"population_size": 9}}
    cases.append(Case("nsga2-population-over-budget", search_argv(), "9", write_config(nsga)))
    nsga = {**DISCRETE, "strategy": "nsga2", "strategy_config": {"objectives": ["nope"]}}
    cases.append(Case("nsga2-unknown-objective", search_argv(), "nope", write_config(nsga)))
    for name, text, names in RAW_CONFIGS:
        cases.append(Case(f"raw-config-{name}", search_argv(), names, write_config(text)))
    cases.append(Case("config-missing", search_argv(), "c.json"))
    cases.append(Case("config-is-a-folder", search_argv(), "c.json",
                      lambda tmp: (tmp / "c.json").mkdir()))  # fmt: skip
    return cases


def flag_cases() -> list[Case]:
    good = write_config(BASE)
    run = ["search", "--config", "{tmp}/c.json", "--run-dir", "{tmp}/run"]
    return [
        Case("flag-no-run-dir", ["search", "--config", "{tmp}/c.json"], "--run-dir", good),
        Case("flag-epochs-text", [*run, "--epochs", "x"], "'x'", good),
        Case("flag-epochs-zero", [*run, "--epochs", "0"], "0", good),
        Case("flag-seed-negative", [*run, "--seed", "-1"], "-1", good),
        Case("flag-seed-float", [*run, "--seed", "1.5"], "'1.5'", good),
        Case("flag-device", [*run, "--device", "tpu"], "'tpu'", good),
        Case("flag-limit-zero", [*run, "--limit", "0"], "0", good),
        Case("flag-limit-text", [*run, "--limit", "many"], "'many'", good),
        Case(
            "flag-epochs-huge",
            [*run, "--epochs", "99999999999999999999"],
            "99999999999999999999",
            good,
        ),
        Case("flag-seed-huge", [*run, "--seed", str(2**40)], str(2**40), good),
        Case(
            "flag-root-a-file",
            [*run, "--root", "{tmp}/c.json", "--dataset", "breastmnist"],
            "c.json",
            good,
        ),
        Case("flag-dataset-unknown", [*run, "--dataset", "breastmnst"], "breastmnst", good),
        Case("flag-strategy-unknown", [*run, "--strategy", "dartz"], "dartz", good),
        Case("flag-unknown", [*run, "--fast"], "--fast", good),
        Case("flag-unknown-command", ["serach"], "serach"),
        Case("flag-top-level-unknown", ["--verbose"], "--verbose"),
        Case("flag-resume-no-folder", ["resume"], "run_dir"),
        Case("flag-stop-two-folders", ["stop", "a", "b"], "b"),
        Case("flag-datasets-dims", ["datasets", "--dims", "4"], "4"),
        Case("flag-datasets-task", ["datasets", "--task", "forecasting"], "forecasting"),
        Case("flag-datasets-unknown-name", ["datasets", "pneumoniamnst"], "pneumoniamnst"),
        Case("flag-runs-missing-folder", ["runs", "{tmp}/nope"], "nope"),
        Case("flag-runs-file", ["runs", "{tmp}/c.json"], "c.json", good),
        Case("flag-retrain-missing-run", ["retrain", "{tmp}/nope"], "nope"),
        Case("flag-retrain-epochs", ["retrain", "{tmp}/nope", "--epochs", "x"], "'x'"),
        Case("flag-bench-no-action", ["bench"], "ACTION"),
        Case("flag-quickstart-seed", ["quickstart", "--seed", "x"], "'x'"),
    ]


def run_dir_cases() -> list[Case]:
    good = write_config(BASE)

    def file_at(name: str) -> Callable[[Path], None]:
        def setup(tmp: Path) -> None:
            good(tmp)
            (tmp / name).write_text("not a folder")

        return setup

    def existing_run(tmp: Path) -> None:
        good(tmp)
        shutil.copytree(FINISHED_RUN, tmp / "run")

    return [
        Case(
            "run-dir-is-a-file",
            ["search", "--config", "{tmp}/c.json", "--run-dir", "{tmp}/afile"],
            "afile",
            file_at("afile"),
        ),  # fmt: skip
        Case(
            "run-dir-inside-a-file",
            ["search", "--config", "{tmp}/c.json", "--run-dir", "{tmp}/afile/run"],
            "afile",
            file_at("afile"),
        ),  # fmt: skip
        Case("run-dir-holds-a-run", search_argv(), "already holds a run", existing_run),
        Case("resume-missing", ["resume", "{tmp}/nope"], "nope"),
        Case("resume-a-file", ["resume", "{tmp}/afile"], "afile", file_at("afile")),
        Case("resume-not-a-run", ["resume", "{tmp}"], "not a run folder"),
        Case("report-missing", ["report", "{tmp}/nope"], "nope"),
        Case("report-not-a-run", ["report", "{tmp}"], "not a run folder"),
        Case("stop-missing", ["stop", "{tmp}/nope"], "nope"),
        Case("stop-not-a-run", ["stop", "{tmp}"], "not a run folder"),
        Case("stop-a-file", ["stop", "{tmp}/afile"], "afile", file_at("afile")),
        # A refused retrain reads the run first: its folder must not gain -wal/-shm files.
        Case("retrain-refused-recipe", ["retrain", "{tmp}/run", "--seg-loss", "dicece_batch"],
             "seg_loss", existing_run),
        Case("retrain-bad-genotype", ["retrain", "{tmp}/run", "--genotype", "nope"], "'nope'",
             existing_run),
        Case("retrain-cells-zero", ["retrain", "{tmp}/run", "--cells", "0"], "n_cells",
             existing_run),
        Case("retrain-a-file", ["retrain", "{tmp}/afile"], "is a file", file_at("afile")),
        Case("retrain-seed-huge", ["retrain", "{tmp}/run", "--seed", str(10**20)], str(10**20),
             existing_run),
        Case("retrain-epochs-huge", ["retrain", "{tmp}/run", "--epochs", str(10**20)],
             str(10**20), existing_run),
        Case("retrain-not-a-run", ["retrain", "{tmp}"], "not a run folder"),
        # Batch norm of one image: torch raised from inside the auxiliary head.
        Case("retrain-batch-of-one", ["retrain", "{tmp}/run", "--batch-size", "1"],
             "batches of 1 image", existing_run),
        Case("retrain-limit-of-one", ["retrain", "{tmp}/run", "--limit", "1"],
             "batches of 1 image", existing_run),
        Case("runs-a-file", ["runs", "{tmp}/afile"], "afile is a file", file_at("afile")),
        Case("stop-a-finished-run", ["stop", "{tmp}/run"], "is finished", existing_run),
        Case("report-out-a-folder", ["report", "{tmp}/run", "--out", "{tmp}/run/checkpoints"],
             "checkpoints is a folder", existing_run),
        Case("bench-table-not-parquet", ["bench", "generate", "--out", "{tmp}/c.json"],
             "c.json", good),
        Case("bench-out-a-folder", ["bench", "generate", "--out", "{tmp}/run"],
             "run is a folder", existing_run),
        Case("bench-out-inside-a-file", ["bench", "generate", "--out", "{tmp}/afile/t.parquet"],
             "afile is a file", file_at("afile")),
        # A space of another task: built with a classifier's skeleton, trained on labels.
        Case("bench-segmentation-space", ["bench", "generate", "--out", "{tmp}/t.parquet",
                                          "--space", "nasunet"], "nasunet is a segmentation"),
        Case("bench-segmentation-space-json", ["bench", "generate", "--out", "{tmp}/t.parquet",
                                               "--space", '{"name": "dints"}'],
             "dints is a segmentation"),
        Case("bench-reconstruction-space", ["bench", "generate", "--out", "{tmp}/t.parquet",
                                            "--space", "unrolled"], "unrolled is a reconstruction"),
        Case("bench-seed-huge", ["bench", "generate", "--out", "{tmp}/t.parquet", "--seeds",
                                 str(10**20)], str(10**20)),
        Case("report-a-finished-run-out-in-a-file",
             ["report", "{tmp}/run", "--out", "{tmp}/afile/r.html"], "afile",
             lambda tmp: (existing_run(tmp), file_at("afile")(tmp))),
    ]  # fmt: skip


# ---- datasets: .npz files and folders ---------------------------------------------------


def npz_bytes(**changes) -> bytes:
    rng = np.random.default_rng(0)
    arrays = {}
    for split, n in (("train", 12), ("val", 4), ("test", 4)):
        arrays[f"{split}_images"] = rng.integers(0, 255, (n, 28, 28), dtype=np.uint8)
        arrays[f"{split}_labels"] = (np.arange(n) % 2).reshape(n, 1).astype(np.uint8)
    arrays.update(changes)
    arrays = {k: v for k, v in arrays.items() if v is not None}
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def flip_zip_version(data: bytes) -> bytes:
    # "version needed to extract" of the central directory entries: 23.5, as the issue saw.
    out = bytearray(data)
    start = 0
    while (start := out.find(b"PK\x01\x02", start)) != -1:
        out[start + 6 : start + 8] = (235).to_bytes(2, "little")
        start += 4
    return bytes(out)


NPZ_DAMAGE = {
    "truncated": lambda: npz_bytes()[:300],
    "empty": lambda: b"",
    "garbage": lambda: os.urandom(2000),
    "zip-version-flipped": lambda: flip_zip_version(npz_bytes()),
    "crc-flipped": lambda: (
        npz_bytes()[:100] + bytes(b ^ 0x55 for b in npz_bytes()[100:140]) + npz_bytes()[140:]
    ),
    "missing-keys": lambda: npz_bytes(test_images=None, test_labels=None),
    "wrong-shape": lambda: npz_bytes(train_images=np.zeros((12, 32, 32), np.uint8)),
    "wrong-dtype": lambda: npz_bytes(train_images=np.zeros((12, 28, 28), np.float32)),
    "labels-mismatch": lambda: npz_bytes(train_labels=np.zeros((5, 1), np.uint8)),
    "a-zip-of-text": lambda: _zip_of_text(),
}


def _zip_of_text() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    return buffer.getvalue()


def npz_config(tmp: Path) -> dict:
    return with_key("dataset", {"name": "breastmnist", "root": str(tmp / "data"),
                                "download": False, "limit": 16, "batch_size": 4})  # fmt: skip


def npz_case(kind: str) -> Case:
    def setup(tmp: Path) -> None:
        (tmp / "data").mkdir()
        (tmp / "data" / "breastmnist.npz").write_bytes(NPZ_DAMAGE[kind]())
        write_config(npz_config(tmp))(tmp)

    return Case(f"npz-{kind}", search_argv(), "breastmnist.npz", setup)


def png(path: Path, value: int = 0) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((8, 8), value, np.uint8)).save(path)


def _mask(path: Path, edge: int) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray((np.arange(edge * edge).reshape(edge, edge) % 2).astype(np.uint8)).save(path)


def _float_mask(path: Path) -> None:
    import nibabel

    path.parent.mkdir(parents=True, exist_ok=True)
    mask = np.full((8, 8), -1.5, np.float32)
    nibabel.save(nibabel.Nifti1Image(mask, np.eye(4)), str(path))


FOLDER_LAYOUTS = {
    "one-class": lambda root: [png(root / "only" / f"{i}.png", i) for i in range(4)],
    "empty": lambda root: root.mkdir(),
    "images-without-classes": lambda root: [png(root / f"{i}.png") for i in range(3)],
    "class-without-images": lambda root: (png(root / "a" / "0.png"), (root / "b").mkdir()),
    "unreadable-image": lambda root: (  # every split holds one of b's unreadable files
        [png(root / "a" / f"{i}.png", i) for i in range(3)],
        (root / "b").mkdir(parents=True),
        [(root / "b" / f"bad{i}.png").write_bytes(b"not a png") for i in range(3)],
    ),
    "missing": lambda root: None,
    "mask-size-differs": lambda root: [
        (png(root / "images" / f"{i}.png", i), _mask(root / "labels" / f"{i}.png", 6))
        for i in range(4)
    ],
    "mask-labels-negative-float": lambda root: [
        (png(root / "images" / f"{i}.png", i), _float_mask(root / "labels" / f"{i}.nii.gz"))
        for i in range(4)
    ],
    "a-file": lambda root: root.write_text("x"),
}


def folder_case(kind: str) -> Case:
    def setup(tmp: Path) -> None:
        FOLDER_LAYOUTS[kind](tmp / "imgs")
        config = with_key("dataset", {"name": f"folder:{tmp / 'imgs'}", "batch_size": 4})
        if kind.startswith("mask-"):  # a segmentation folder: search a U-Net on it
            config["space"] = {"name": "nasunet", "skeleton": {"depth": 1, "channels": 2}}
        write_config(config)(tmp)

    names = {"mask-size-differs": "its mask", "mask-labels-negative-float": "class"}
    return Case(f"folder-{kind}", search_argv(), names.get(kind, "imgs"), setup)


# ---- checkpoints and databases of an existing run ---------------------------------------

CHECKPOINT_DAMAGE = {
    "empty": lambda good: b"",
    "truncated": lambda good: good[: len(good) // 3],
    "garbage": lambda good: b"\x00garbage" * 100,
    "foreign-pickle": lambda good: _torch_bytes([1, 2, 3]),
    "no-step": lambda good: _torch_bytes({"supernet": {}}),
}


def _torch_bytes(obj) -> bytes:
    import torch

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def checkpoint_case(kind: str) -> Case:
    def setup(tmp: Path) -> None:
        shutil.copytree(FINISHED_RUN, tmp / "run")
        last = tmp / "run" / "checkpoints" / "last.pt"
        last.write_bytes(CHECKPOINT_DAMAGE[kind](last.read_bytes()))
        (tmp / "run" / "checkpoints" / "prev.pt").unlink(missing_ok=True)

    return Case(f"checkpoint-{kind}", ["resume", "{tmp}/run"], "last.pt", setup,
                run_under_way=True)  # fmt: skip


DATABASE_DAMAGE = {
    "zero-bytes": lambda good: b"",
    "garbage": lambda good: b"garbage!" * 512,
    "truncated": lambda good: good[:1024],
    "torn-pages": lambda good: good[:100] + b"\xff" * 4000 + good[4100:],
    "other-sqlite": None,
}


def _other_sqlite(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (text)")
    conn.commit()
    conn.close()


def database_case(kind: str, command: str) -> Case:
    def setup(tmp: Path) -> None:
        shutil.copytree(FINISHED_RUN, tmp / "run")
        db = tmp / "run" / "run.sqlite"
        damage = DATABASE_DAMAGE[kind]
        if damage is None:
            db.unlink()
            _other_sqlite(db)
        else:
            db.write_bytes(damage(db.read_bytes()))

    argv = [command, "{tmp}/run"] if command != "report" else ["report", "{tmp}/run"]
    return Case(f"database-{kind}-{command}", argv, "run.sqlite", setup)


# A run database edited by hand or by another program: readable, but not as a run wrote it.
DATABASE_EDITS = {
    "config-a-list": "UPDATE meta SET value = '[1, 2]' WHERE key = 'config'",
    "metrics-dropped": "DROP TABLE metrics",
}


def edited_database_case(kind: str, command: str) -> Case:
    def setup(tmp: Path) -> None:
        shutil.copytree(FINISHED_RUN, tmp / "run")
        conn = sqlite3.connect(tmp / "run" / "run.sqlite")
        conn.execute(DATABASE_EDITS[kind])
        conn.commit()
        conn.close()
        for side in ("run.sqlite-wal", "run.sqlite-shm"):
            (tmp / "run" / side).unlink(missing_ok=True)

    return Case(f"edited-database-{kind}-{command}", [command, "{tmp}/run"],
                "is damaged or not a run database", setup)  # fmt: skip


# ---- the newer systems: localisation, detection, reconstruction, meta and joint search ----

MARL = {
    "strategy": "marl-gdas",
    "dataset": {"name": "synthetic-landmarks3d", "size": 16, "limit": 4},
    "strategy_config": {"channels": 2, "n_nodes": 1, "patch": 5, "episode_steps": 2,
                        "coarse_step": 2, "envs": 2, "batch_size": 4, "buffer_size": 64},
    "epochs": 1, "max_steps_per_epoch": 1, "device": "cpu",
}  # fmt: skip
AUTOHAS = {
    "dataset": {"name": "synthetic", "limit": 32}, "space": {"name": "nb201"},
    "strategy": "autohas", "max_evaluations": 2, "device": "cpu",
    "strategy_config": {"n_cells": 1, "channels": 2, "batch_size": [8], "val_batch_size": 8},
}  # fmt: skip
SMASH = {**DISCRETE, "evaluator": "smash", "space": {"name": "nb201"},
         "evaluator_config": {"epochs": 1, "limit": 16}}  # fmt: skip
LESIONS = {"name": "synthetic-lesions", "size": 32, "limit": 16}
ALB = {"name": "alb", "n_nodes": 2, "skeleton": {"channels": 4}, "head_width": 8}
RECON = {"name": "synthetic-recon", "size": 28, "limit": 8}
UNROLLED = {"name": "unrolled", "n_nodes": 1, "skeleton": {"cascades": 1, "channels": 2}}


def _changed(config: dict, **changes) -> dict:
    """``config`` with dotted keys (``a__b`` for ``a.b``) set."""
    config = json.loads(json.dumps(config))
    for key, value in changes.items():
        target = config
        *parents, last = key.split("__")
        for parent in parents:
            target = target.setdefault(parent, {})
        target[last] = value
    return config


# (id, config, fragment the message must hold)
NEWER_CONFIGS = [
    ("pcdarts-k-not-dividing-channels",
     _changed(BASE, strategy="pcdarts", strategy_config={"k": 4}, space__skeleton__channels=6),
     "divisible by k (4)"),
    ("enas-without-a-cell-supernet",
     {**DISCRETE, "strategy": "enas", "space": {"name": "nb201", "n_nodes": 3}}, "'nb201'"),
    ("marl-coarse-step-over-volume", _changed(MARL, strategy_config__coarse_step=100),
     "coarse_step 100"),
    ("marl-tau-min-over-max", _changed(MARL, strategy_config__tau_min=20.0), "tau_min 20.0"),
    ("marl-roi-size", _changed(MARL, roi_size=8), "roi_size"),
    ("marl-max-seconds", _changed(MARL, max_seconds=5), "max_seconds"),
    ("marl-unknown-option", _changed(MARL, strategy_config__patchh=5), "'patchh'"),
    ("marl-evaluator-config", _changed(MARL, evaluator_config={"epochs": 2}),
     "evaluator_config {'epochs': 2}"),
    ("unnas-evaluator", _changed(BASE, strategy="unnas", evaluator="table"), "'table'"),
    ("darts-nodes-over-cap", _changed(BASE, space__n_nodes=33), "n_nodes 33"),
    ("nb201-nodes-over-cap", {**DISCRETE, "space": {"name": "nb201", "n_nodes": 33}},
     "n_nodes 33"),
    ("autohas-relax-null", _changed(AUTOHAS, strategy_config__relax=None), "None"),
    ("autohas-scalar-choice", _changed(AUTOHAS, strategy_config__lr=0.1), "0.1"),
    ("autohas-repeated-choice", _changed(AUTOHAS, strategy_config__lr=[0.1, 0.1]), "[0.1, 0.1]"),
    ("smash-skeleton-text", _changed(SMASH, evaluator_config__skeleton="big"), "'big'"),
    ("smash-skeleton-bad-cells", _changed(SMASH, evaluator_config__skeleton={"n_cells": -1}),
     "n_cells"),
    ("smash-device", _changed(SMASH, evaluator_config__device="gpu"), "'gpu'"),
    ("train-evaluator-device", {**DISCRETE, "evaluator": "train",
                                "evaluator_config": {"device": "gpu"}}, "'gpu'"),
    ("proxy-on-detection", {**DISCRETE, "dataset": LESIONS, "space": ALB}, "synthetic-lesions"),
    ("proxy-on-reconstruction", {**DISCRETE, "dataset": RECON, "space": UNROLLED},
     "synthetic-recon"),
    ("alb-unknown-setting", {**BASE, "dataset": LESIONS, "space": {**ALB, "head_wdth": 8}},
     "'head_wdth'"),
    # Non-text where a path or an op name goes; a depth that built lists of 3 * depth paths.
    ("table-path-a-number", {**DISCRETE, "space": {"name": "nb201"}, "evaluator": "table",
                             "evaluator_config": {"path": 5}}, "TableEvalConfig.path must be text"),
    ("table-path-a-folder", {**DISCRETE, "space": {"name": "nb201"}, "evaluator": "table",
                             "evaluator_config": {"path": "/"}}, "'/' is a folder, not a table"),
    ("c2fnas-proxy-op-a-number",
     {**BASE, "dataset": {"name": "synthetic-seg3d", "limit": 8},
      "space": {"name": "c2fnas", "proxy_op": 3}}, "op 3 is not in"),
    ("dints-depth-huge",
     {**BASE, "dataset": {"name": "synthetic-seg3d", "limit": 8},
      "space": {"name": "dints", "skeleton": {"depth": 100_000_000}}}, "depth 100000000 is past"),
    ("c2fnas-depth-huge",
     {**BASE, "dataset": {"name": "synthetic-seg3d", "limit": 8},
      "space": {"name": "c2fnas", "skeleton": {"depth": 100_000_000}}}, "depth 100000000 is past"),
    ("trellis-depth-huge",
     {**BASE, "dataset": {"name": "synthetic-seg", "limit": 8},
      "space": {"name": "trellis", "skeleton": {"depth": 10**20}}}, "is past 16"),
    ("metanas-shots-over-images", {
        "dataset": {"name": "synthetic-multiclass", "limit": 5}, "strategy": "metanas",
        "space": {"name": "darts", "n_nodes": 1, "skeleton": {"n_cells": 2, "channels": 2}},
        "epochs": 1, "device": "cpu"}, "k_shot + n_query"),
]  # fmt: skip


def coco_folder(change: Callable[[dict, Path], object] | None = None, raw: bytes | None = None):
    """A setup writing a COCO detection folder of six 32x32 PNGs (one box each), changed by
    ``change(annotations, folder)`` or replaced by ``raw`` bytes, and a search config on it."""

    def setup(tmp: Path) -> None:
        folder = tmp / "lesions"
        for i in range(6):
            png(folder / f"{i}.png", 10 * i)
        data = {
            "images": [{"id": i, "file_name": f"{i}.png", "width": 8, "height": 8}
                       for i in range(6)],
            "annotations": [{"id": i, "image_id": i, "category_id": 1, "bbox": [1, 1, 4, 4]}
                            for i in range(6)],
            "categories": [{"id": 1, "name": "lesion"}],
        }  # fmt: skip
        if change is not None:
            change(data, folder)
        text = raw if raw is not None else json.dumps(data, allow_nan=True).encode()
        (folder / "annotations.json").write_bytes(text)
        dataset = {"name": f"folder:{folder}", "size": 32, "batch_size": 2}
        write_config({**BASE, "dataset": dataset, "space": ALB})(tmp)

    return setup


COCO_DAMAGE = {
    "nan-box": lambda d, f: d["annotations"][0].update(bbox=[1, 1, float("nan"), 4]),
    "annotation-not-an-object": lambda d, f: d["annotations"].append(5),
    "two-images-one-id": lambda d, f: d["images"][1].update(id=0),
    "category-true": lambda d, f: d["annotations"][0].update(category_id=True),
    "category-unknown": lambda d, f: d["annotations"][0].update(category_id=7),
    "image-id-a-list": lambda d, f: d["annotations"][0].update(image_id=[0]),
    "width-text-without-boxes": lambda d, f: (
        d["images"][5].update(width="8px"),
        d["annotations"].pop(5),
    ),
}


def landmark_folder_as_folder(tmp: Path) -> None:
    import nibabel

    folder = tmp / "volumes"
    folder.mkdir()
    for i in range(3):
        nibabel.save(nibabel.Nifti1Image(np.zeros((4, 4, 4), np.float32), np.eye(4)),
                     str(folder / f"case{i}.nii.gz"))  # fmt: skip
        (folder / f"case{i}.json").write_text('{"landmarks": {"apex": [1, 1, 1]}}')
    write_config(_changed(MARL, dataset__name=f"folder:{folder}"))(tmp)


def newer_cases() -> list[Case]:
    cases = [Case(f"newer-{name}", search_argv(), names, write_config(config))
             for name, config, names in NEWER_CONFIGS]  # fmt: skip
    cases += [Case(f"coco-{kind}", search_argv(), "annotations.json", coco_folder(change))
              for kind, change in COCO_DAMAGE.items()]  # fmt: skip
    cases.append(Case("coco-not-utf8", search_argv(), "annotations.json",
                      coco_folder(raw=b"\xff\xfe{}")))  # fmt: skip
    cases.append(Case("landmark-folder-as-folder", search_argv(), "register_landmark_folder",
                      landmark_folder_as_folder))  # fmt: skip
    cases.append(Case("estimate-marl", [*search_argv(), "--estimate"], "marl-gdas",
                      write_config(MARL)))  # fmt: skip
    cases.append(Case("estimate-metanas", [*search_argv(), "--estimate"], "metanas",
                      write_config(_changed(BASE, strategy="metanas"))))  # fmt: skip
    return cases


def all_cli_cases() -> list[Case]:
    cases = config_cases() + flag_cases() + run_dir_cases()
    cases += [npz_case(kind) for kind in NPZ_DAMAGE]
    cases += [folder_case(kind) for kind in FOLDER_LAYOUTS]
    cases += [checkpoint_case(kind) for kind in CHECKPOINT_DAMAGE]
    cases += [database_case(kind, cmd) for kind in DATABASE_DAMAGE
              for cmd in ("resume", "report", "stop")]  # fmt: skip
    cases += [edited_database_case(kind, cmd) for kind in DATABASE_EDITS
              for cmd in ("report", "retrain")]  # fmt: skip
    cases += newer_cases()
    return cases


CASES = all_cli_cases()
FINISHED_RUN: Path = Path()


@pytest.fixture(scope="module", autouse=True)
def finished_run(tmp_path_factory):
    """One tiny finished search the run-folder cases copy (a second or two)."""
    global FINISHED_RUN
    from nasbench.engine.search import search

    FINISHED_RUN = tmp_path_factory.mktemp("finished") / "run"
    search({**BASE, "epochs": 1}, FINISHED_RUN)
    return FINISHED_RUN


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every path under ``folder`` with its size and mtime (folders: presence only)."""
    return {
        str(p.relative_to(folder)): None if p.is_dir() else (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
    }


def rows(run_dir: Path) -> dict[str, list]:
    conn = sqlite3.connect(run_dir / "run.sqlite")
    try:
        return {
            table: conn.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()
            for table in ("metrics", "alpha_snapshots", "genotypes")
        }
    finally:
        conn.close()


def gives_advice(message: str) -> bool:
    """True when ``message`` holds one of the ADVICE words as a word ("set", not "dataset")."""
    import re

    return any(re.search(rf"(?<![a-z]){re.escape(word)}(?![a-z])", message.lower())
               for word in ADVICE)  # fmt: skip


def assert_one_error_line(code: int, err: str, names: str) -> str:
    lines = err.splitlines()
    assert code == 2, err
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith("nasbench: error: "), line
    assert "Traceback" not in err
    assert names in line, f"{names!r} not named in: {line}"
    assert gives_advice(line), f"no advice in: {line}"
    return line


def test_at_least_150_cases():
    assert len(CASES) + len(API_CASES) >= 150
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_malformed_cli_input(case: Case, tmp_path, capsys):
    case.setup(tmp_path)
    before = snapshot(tmp_path)
    kept = rows(tmp_path / "run") if case.run_under_way else None
    argv = [arg.replace("{tmp}", str(tmp_path)) for arg in case.argv]
    code = main(argv)
    out, err = capsys.readouterr()
    line = assert_one_error_line(code, err, case.names)
    if case.run_under_way:
        from nasbench.runs import load

        run = load(tmp_path / "run")
        # Refused before anything was written: complete results are not marked failed.
        assert run.status == "finished" and "results are complete" in line
        assert rows(tmp_path / "run") == kept  # every completed step is still there
    else:
        assert snapshot(tmp_path) == before, "the command wrote files"
        assert not (tmp_path / "run").exists() or (tmp_path / "run").exists() == ("run" in before)


@pytest.mark.parametrize("kind", DATABASE_EDITS)
def test_resume_of_an_edited_database_says_damaged_and_changes_no_row(kind, tmp_path, capsys):
    """Resume opens the file to write (its mtime moves as SQLite folds its log back in),
    so here the rows are compared, not the file's stamp."""
    edited_database_case(kind, "resume").setup(tmp_path)
    db = tmp_path / "run" / "run.sqlite"
    conn = sqlite3.connect(db)
    before = list(conn.iterdump())
    conn.close()
    code = main(["resume", str(tmp_path / "run")])
    assert_one_error_line(code, capsys.readouterr().err, "is damaged or not a run database")
    conn = sqlite3.connect(db)
    assert list(conn.iterdump()) == before
    conn.close()


# ---- API arguments --------------------------------------------------------------------------


def _api(call: Callable[[], object]) -> Callable[[], object]:
    return call


def api_cases() -> list[tuple[str, Callable[[Path], object], str]]:
    import nasbench
    from nasbench.config import SearchConfig
    from nasbench.runs import load, load_checkpoint, request_stop
    from nasbench.spaces.genotype import parse_genotype

    genotype_texts = [
        ("nb201-unknown-op", "|nor_conv_9x9~0|+|none~0|skip_connect~1|+|skip_connect~0|"
         "skip_connect~1|skip_connect~2|", "nor_conv_9x9"),
        ("nb201-not-op-input", "|nor_conv_3x3|+|none~0|none~1|", "nor_conv_3x3"),
        ("nb201-bad-index", "|nor_conv_3x3~x|", "nor_conv_3x3~x"),
        ("nb201-skips-a-node", "|nor_conv_3x3~0|+|none~0|none~2|", "every earlier node"),
        ("nb201-empty-node", "|nor_conv_3x3~0|+||", "node 2"),
        ("darts-unclosed", "Genotype(normal=[('sep_conv_3x3', 0)", "genotype text"),
        ("json-unknown-kind", '{"kind": "nope"}', "nope"),
        ("empty", "", "genotype"),
        ("blank", "   ", "genotype"),
        ("json-list", "[1, 2]", "genotype"),
        ("plain-word", "resnet", "resnet"),
    ]  # fmt: skip
    cases = [
        (f"genotype-{name}", lambda tmp, text=text: parse_genotype(text), names)
        for name, text, names in genotype_texts
    ]
    cases += [
        ("search-config-int", lambda tmp: nasbench.search(5, tmp / "run"), "int"),
        ("search-config-list", lambda tmp: nasbench.search([], tmp / "run"), "list"),
        ("search-dict-bad-key", lambda tmp: nasbench.search({"epochz": 1}, tmp / "run"), "epochz"),
        ("searchconfig-dataset-int", lambda tmp: SearchConfig(dataset=5).validate(), "5"),
        (
            "searchconfig-dataset-dict-bad-key",
            lambda tmp: SearchConfig(dataset={"nme": "synthetic"}),
            "nme",
        ),  # fmt: skip
        ("searchconfig-w-lr-nan", lambda tmp: SearchConfig(w_lr=NAN).validate(), "nan"),
        ("searchconfig-from-dict-list", lambda tmp: SearchConfig.from_dict([]), "list"),
        ("resume-missing", lambda tmp: nasbench.resume(tmp / "nope"), "nope"),
        ("load-missing", lambda tmp: load(tmp / "nope"), "nope"),
        ("load-a-file", lambda tmp: (tmp / "f").write_text("x") and load(tmp / "f"), "f"),
        ("request-stop-missing", lambda tmp: request_stop(tmp / "nope"), "nope"),
        (
            "load-checkpoint-unkept-step",
            lambda tmp: load_checkpoint(FINISHED_RUN, step=3),
            "step 3",
        ),  # fmt: skip
        (
            "memory-estimate-bad",
            lambda tmp: nasbench.memory_estimate(SearchConfig(epochs=0)),
            "epochs",
        ),  # fmt: skip
    ]
    for kind in DATABASE_DAMAGE:

        def damaged(tmp, kind=kind):
            database_case(kind, "resume").setup(tmp)
            return load(tmp / "run")

        cases.append((f"load-database-{kind}", damaged, "run.sqlite"))
    return cases + newer_api_cases()


def landmark_folder(tmp: Path, volume=None, annotation: dict[int, object] | None = None) -> Path:
    """Three 6^3 NIfTI volumes with landmark JSON files; ``annotation[i]`` (a dict, or bytes
    written as they are) replaces case ``i``'s, ``volume`` every volume's array."""
    import nibabel

    folder = tmp / "volumes"
    folder.mkdir()
    for i in range(3):
        array = np.full((6, 6, 6), float(i), np.float32) if volume is None else volume
        nibabel.save(nibabel.Nifti1Image(array, np.eye(4)), str(folder / f"case{i}.nii.gz"))
        marks = (annotation or {}).get(i, {"landmarks": {"apex": [1, 2, 3], "base": [4, 4, 4]}})
        path = folder / f"case{i}.json"
        if isinstance(marks, bytes):
            path.write_bytes(marks)
        else:
            path.write_text(json.dumps(marks, allow_nan=True))
    return folder


def newer_api_cases() -> list[tuple[str, Callable[[Path], object], str]]:
    """The localisation, detection and reconstruction loaders and TrainConfig."""
    from nasbench import data
    from nasbench.data.kspace import draw_mask
    from nasbench.data.landmarks import register_landmark_folder
    from nasbench.data.mri import register_recon_folder
    from nasbench.evaluation.train_loop import TrainConfig

    def landmarks(name: str, size: int = 8, **folder) -> Callable[[Path], object]:
        return lambda tmp: register_landmark_folder(landmark_folder(tmp, **folder), name, size)

    def nan_recon_folder(tmp: Path) -> object:
        import nibabel

        (tmp / "mr").mkdir()
        for i in range(3):
            array = np.full((4, 8, 8), np.nan if i == 1 else 1.0, np.float32)
            nibabel.save(nibabel.Nifti1Image(array, np.eye(4)), str(tmp / "mr" / f"{i}.nii.gz"))
        return register_recon_folder(tmp / "mr", name="nan-slices")

    def recon_folder_with_option(tmp: Path) -> object:
        import nibabel

        (tmp / "mr").mkdir()
        for i in range(3):
            array = np.zeros((4, 8, 8), np.float32)
            array[:, 2:6, 2:6] = i + 1.0  # content: blank slices are left out
            nibabel.save(nibabel.Nifti1Image(array, np.eye(4)), str(tmp / "mr" / f"{i}.nii.gz"))
        info = register_recon_folder(tmp / "mr", name="option-slices")
        return data.load(info.name, size=32, acceleration=4)

    moved = {"landmarks": {"apex": [1, 2, 9], "base": [4, 4, 4]}}
    fewer = {"landmarks": {"apex": [1, 2, 3]}}
    return [
        ("landmarks-json-not-utf8", landmarks("lm-a", annotation={1: b"\xff\xfe{"}), "UTF-8"),
        ("landmarks-outside", landmarks("lm-b", annotation={2: moved}), "[1, 2, 9]"),
        ("landmarks-k-mismatch", landmarks("lm-c", annotation={1: fewer}), "['apex']"),
        ("landmarks-nan-voxels", landmarks("lm-d", volume=np.full((6,) * 3, np.nan, np.float32)),
         "NaN"),
        ("landmarks-size-zero", landmarks("lm-e", size=0), "got 0"),
        ("landmarks-builtin-name", landmarks("synthetic"), "'synthetic'"),
        ("landmarks-missing-folder", lambda tmp: register_landmark_folder(tmp / "nope", "x"),
         "nope"),
        ("landmarks-option-typo", lambda tmp: data.load("synthetic-landmarks3d", size=16,
                                                        n_landmark=2), "'n_landmark'"),
        ("landmarks-n-text", lambda tmp: data.load("synthetic-landmarks3d", size=16,
                                                   n_landmarks="3"), "'3'"),
        ("landmarks-length-zero", lambda tmp: data.load("synthetic-landmarks3d", size=16,
                                                        length=0), "got 0"),
        ("recon-acceleration-zero", lambda tmp: data.load("synthetic-recon", acceleration=0),
         "got 0"),
        ("recon-option-typo", lambda tmp: data.load("synthetic-recon", acceleraton=8),
         "'acceleraton'"),
        ("mni-recon-acceleration-zero", lambda tmp: data.load("mni152-recon", size=32,
                                                              acceleration=0), "got 0"),
        ("mni-recon-option-typo", lambda tmp: data.load("mni152-recon", size=32, mask_kind="x"),
         "'mask_kind'"),
        ("medmnist-option-typo", lambda tmp: data.load("breastmnist", root=tmp, download=False,
                                                       verfy=True), "'verfy'"),
        ("mednist-option", lambda tmp: data.load("mednist", root=tmp, size=64, download=False,
                                                 cache_rate=1.0), "'cache_rate'"),
        ("decathlon-option", lambda tmp: data.load("msd-spleen", root=tmp, size=32,
                                                   download=False, fold=2), "'fold'"),
        ("folder-option-typo", lambda tmp: data.load("folder", path=tmp, num_class=2),
         "'num_class'"),
        ("landmark-folder-option", lambda tmp: data.load(
            register_landmark_folder(landmark_folder(tmp), "lm-f", 8).name, size=8, length=3),
         "'length'"),
        ("recon-mask-centre-text", lambda tmp: draw_mask(32, 4, "x"), "'x'"),
        ("recon-mask-no-columns", lambda tmp: draw_mask(0, 4), "got 0"),
        ("recon-folder-nan-slices", nan_recon_folder, "1.nii.gz"),
        ("recon-folder-option", recon_folder_with_option, "'acceleration'"),
        ("trainconfig-drop-path-text", lambda tmp: TrainConfig(drop_path_prob="x").validate(),
         "'x'"),
        ("trainconfig-lr-bool", lambda tmp: TrainConfig(lr=True).validate(), "True"),
        ("trainconfig-seg-loss", lambda tmp: TrainConfig(seg_loss="dice").validate(), "'dice'"),
    ] + notebook_api_cases() + figure_api_cases()  # fmt: skip


def figure_api_cases() -> list[tuple[str, Callable[[Path], object], str]]:
    """Figures and views called with a thing of the wrong kind or a bad option."""
    import pandas as pd

    from nasbench import viz
    from nasbench.spaces import NB201Space
    from nasbench.spaces.zoo import zoo
    from nasbench.viz.trellis_graph import trellis_weights

    def history(*rows) -> pd.DataFrame:
        return pd.DataFrame(list(rows), columns=["step", "epoch", "phase", "name", "value"])

    curve = history((1, 0, "val", "hessian_eigenvalue", 0.1))
    cell = NB201Space().sample(np.random.default_rng(0))
    candidates = pd.DataFrame({"params": [1.0], "val_acc": [0.5], "status": ["ok"]})
    return [
        ("diff-edges-nb201", lambda tmp: viz.diff_edges(cell, cell), "got nb201 and nb201"),
        ("draw-network-int-skeleton", lambda tmp: viz.draw_network(zoo["DARTS_V2"], 8),
         "got int"),
        ("trellis-weights-none", lambda tmp: trellis_weights(None), "got NoneType"),
        ("froc-of-a-frame", lambda tmp: viz.plot_froc(pd.DataFrame()), "got DataFrame"),
        ("froc-curve-not-a-pair", lambda tmp: viz.plot_froc({"a": 3}), "got int"),
        ("evaluator-table-object", lambda tmp: viz.plot_evaluator_correlations(object()),
         "got object"),
        ("agent-rewards-of-a-path", lambda tmp: viz.plot_agent_rewards("runs/x"), "got str"),
        ("history-no-metrics", lambda tmp: viz.plot_history(curve, metrics=[]), "metrics is empty"),
        ("eigenvalues-window", lambda tmp: viz.plot_eigenvalues(curve, window=-1), "got -1"),
        ("eigenvalues-stop-list", lambda tmp: viz.plot_eigenvalues(curve, early_stop=[3]),
         "got list"),
        ("pareto-text-column", lambda tmp: viz.plot_pareto(candidates, x="status"), "'status'"),
    ]  # fmt: skip


def notebook_api_cases() -> list[tuple[str, Callable[[Path], object], str]]:
    """Functions the few-shot, detection and reconstruction lessons call with their data."""
    import torch

    from nasbench import data
    from nasbench.data.fewshot import ClassSubset, EpisodeSampler
    from nasbench.evaluation.detection import coco_map, froc
    from nasbench.evaluation.reconstruction import reconstruction_scores

    def four_classes() -> object:
        return data.load("synthetic-multiclass", "train", limit=40)

    truth = {"boxes": torch.tensor([[1.0, 1.0, 5.0, 5.0]]), "labels": torch.tensor([0])}
    found = {**truth, "scores": torch.tensor([0.9])}
    return [
        ("episodes-n-way-text", lambda tmp: EpisodeSampler("synthetic", n_way="x"), "'x'"),
        ("episodes-n-query-null", lambda tmp: EpisodeSampler("synthetic", n_way=2, n_query=None),
         "None"),
        ("class-subset-unknown-class", lambda tmp: ClassSubset(four_classes(), [0, 9]), "[9]"),
        ("class-subset-empty", lambda tmp: ClassSubset(four_classes(), []), "[]"),
        ("class-subset-null", lambda tmp: ClassSubset(four_classes(), None), "None"),
        ("froc-missing-scores", lambda tmp: froc([truth], [truth]), "scores"),
        ("froc-nan-score", lambda tmp: froc([{**found, "scores": torch.tensor([float("nan")])}],
                                            [truth]), "NaN"),
        ("froc-flat-boxes", lambda tmp: froc([{**found, "boxes": torch.ones(4)}], [truth]),
         "(4,)"),
        ("froc-iou-over-one", lambda tmp: froc([found], [truth], iou_threshold=2), "2"),
        ("coco-map-count-mismatch", lambda tmp: coco_map([found, found], [truth], (8, 8)),
         "2 detection lists for 1 images"),
        ("recon-scores-2d", lambda tmp: reconstruction_scores(torch.rand(8, 8), torch.rand(8, 8)),
         "(8, 8)"),
    ]  # fmt: skip


API_CASES = api_cases()


@pytest.mark.parametrize(("name", "call", "names"), API_CASES, ids=[c[0] for c in API_CASES])
def test_malformed_api_argument(name, call, names, tmp_path):
    with pytest.raises(NasbenchError) as err:
        call(tmp_path)
    message = str(err.value)
    assert "\n" not in message and names in message, message
    assert gives_advice(message), f"no advice in: {message}"
    if not name.startswith("load-database"):  # those set up a (damaged) run folder first
        assert not (tmp_path / "run").exists()


# ---- faults of the disk -----------------------------------------------------------------


def test_disk_full_while_creating_the_run_leaves_nothing(tmp_path, capsys, monkeypatch):
    from nasbench.runs import store

    write_config(BASE)(tmp_path)
    before = snapshot(tmp_path)

    def full(*args, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(store.sqlite3, "connect", full)
    code = main(search_argv()[:2] + [f"{tmp_path}/c.json", "--run-dir", f"{tmp_path}/run"])
    line = assert_one_error_line(code, capsys.readouterr().err, "disk is full")
    assert "run" in line and snapshot(tmp_path) == before


def test_read_only_folder_is_refused_before_anything_loads(tmp_path, capsys, monkeypatch):
    write_config(BASE)(tmp_path)
    before = snapshot(tmp_path)
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: False if Path(path) == tmp_path
                        else real_access(path, mode))  # fmt: skip
    code = main(["search", "--config", f"{tmp_path}/c.json", "--run-dir", f"{tmp_path}/run"])
    assert_one_error_line(code, capsys.readouterr().err, "permission denied")
    assert snapshot(tmp_path) == before


def test_disk_full_while_writing_a_report_is_one_line(tmp_path, capsys, monkeypatch):
    import tempfile

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device", str(tmp_path / "report.html"))

    monkeypatch.setattr(tempfile, "NamedTemporaryFile", full)
    code = main(["report", str(FINISHED_RUN), "--out", str(tmp_path / "report.html")])
    assert_one_error_line(code, capsys.readouterr().err, "No space left on device")
    assert not (tmp_path / "report.html").exists()


# ---- through real processes, as typed ---------------------------------------------------


def cli(*argv: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *argv],
        capture_output=True,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE", **env},
        timeout=120,
    )


@pytest.mark.parametrize(
    ("argv", "names"),
    [
        (["-m", "nasbench", "resume", "{tmp}/nope"], "nope"),
        (
            ["-m", "nasbench", "search", "--config", "{tmp}/c.json", "--run-dir", "{tmp}/run"],
            "'yes'",
        ),  # fmt: skip
        (["-m", "nasbench", "--bogus"], "--bogus"),
        (["-m", "nasbench", "report", "{tmp}/run"], "run.sqlite"),
    ],
    ids=["resume-missing", "search-bad-config", "bad-flag", "report-damaged-db"],
)
def test_malformed_input_in_a_real_process(argv, names, tmp_path):
    write_config(with_key("deterministic", "yes"))(tmp_path)
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "run.sqlite").write_bytes(b"garbage" * 100)
    before = snapshot(tmp_path)
    done = cli(*[a.replace("{tmp}", str(tmp_path)) for a in argv])
    assert_one_error_line(done.returncode, done.stderr, names)
    assert snapshot(tmp_path) == before


@pytest.mark.slow
@pytest.mark.parametrize("command", ["search", "estimate", "retrain"])
def test_a_network_too_large_for_memory_is_one_line(command, tmp_path):
    """Widths pass validation (it cannot know the machine); allocating them fails in torch.
    Under a 6 GiB address-space limit the network's first convolution cannot be allocated:
    one line says how much it asked for and which sizes to lower, and nothing is written
    (no run folder; a retrained run records nothing)."""
    import resource

    write_config(with_key("space.skeleton", {"n_cells": 2, "channels": 100_000}))(tmp_path)
    shutil.copytree(FINISHED_RUN, tmp_path / "finished")
    before = snapshot(tmp_path)
    argv = {
        "search": search_argv(),
        "estimate": [*search_argv(), "--estimate"],
        "retrain": ["retrain", "{tmp}/finished", "--channels", "100000", "--no-baseline"],
    }[command]
    limit = 6 * 2**30
    done = subprocess.run(
        [sys.executable, "-m", "nasbench", *[a.replace("{tmp}", str(tmp_path)) for a in argv]],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE"},
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (limit, limit)),
    )  # fmt: skip
    line = assert_one_error_line(done.returncode, done.stderr, "'channels': 100000")
    assert "does not fit in memory" in line and "GiB" in line and "batch" in line
    assert snapshot(tmp_path) == before


def test_a_folder_error_in_a_real_process_is_one_line(tmp_path):
    """MONAI's image readers warn on stderr (no nvImageCodec, read-only arrays): a person
    typing the command still sees the one error line alone."""
    folder_case("unreadable-image").setup(tmp_path)
    before = snapshot(tmp_path)
    argv = [a.replace("{tmp}", str(tmp_path)) for a in search_argv()]
    done = cli("-m", "nasbench", *argv)
    assert_one_error_line(done.returncode, done.stderr, "bad")
    assert snapshot(tmp_path) == before


def test_stop_imports_no_torch(tmp_path):
    """`nasbench stop` answers without torch (or pandas): it must land while a search runs."""
    done = cli("-X", "importtime", "-m", "nasbench", "stop", str(tmp_path / "nope"))
    assert done.returncode == 2
    imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if "|" in line}
    assert "nasbench.cli" in imported
    assert "torch" not in imported and "pandas" not in imported
    for argv in (["--help"], ["runs", str(tmp_path)]):
        done = cli("-X", "importtime", "-m", "nasbench", *argv)
        assert done.returncode == 0
        assert "torch" not in {line.split("|")[-1].strip() for line in done.stderr.splitlines()}


# ---- property-based: any JSON value in any config field ---------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
FIELDS = [
    "w_lr", "w_lr_min", "w_momentum", "w_weight_decay", "grad_clip", "epochs", "seed",
    "max_steps_per_epoch", "deterministic", "early_stop", "alpha_every", "eigen_every",
    "checkpoint_every", "device", "precision", "strategy", "dataset", "dataset.name",
    "dataset.size", "dataset.batch_size", "dataset.limit", "dataset.augment", "space",
    "strategy_config", "roi_size", "max_seconds", "early_stop_factor",
]  # fmt: skip


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(key=st.sampled_from(FIELDS), value=json_values)
def test_any_json_value_in_a_config_field_is_accepted_or_one_line(key, value):
    """Validation never lets a Python error through: a value is valid, or one line says why."""
    from nasbench.config import SearchConfig

    text = json.dumps(with_key(key, value), allow_nan=True)
    try:
        SearchConfig.from_json(text).validate()
    except NasbenchError as err:
        assert "\n" not in str(err) and str(err)


# Settings of the newer strategies and evaluators: (search config, "strategy_config" or
# "evaluator_config", its field names).
NEWER_SETTINGS = [
    (MARL, "strategy_config", "marl-gdas"),
    (AUTOHAS, "strategy_config", "autohas"),
    (
        {**BASE, "strategy": "metanas", "dataset": {"name": "synthetic-multiclass", "limit": 200}},
        "strategy_config",
        "metanas",
    ),
    ({**BASE, "strategy": "unnas"}, "strategy_config", "unnas"),
    (SMASH, "evaluator_config", "smash"),
    ({**DISCRETE, "evaluator": "proxy"}, "evaluator_config", "proxy"),
]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(which=st.integers(0, len(NEWER_SETTINGS) - 1), field_index=st.integers(0, 40),
       value=json_values)  # fmt: skip
def test_any_json_value_in_a_newer_strategy_setting_is_accepted_or_one_line(
    which, field_index, value
):
    """The same for every setting of marl-gdas, AutoHAS, METANAS, UnNAS, SMASH and the proxy
    evaluator (an AutoHAS choice given as one number once raised a TypeError)."""
    import dataclasses

    from nasbench import registry
    from nasbench.config import SearchConfig

    base, where, name = NEWER_SETTINGS[which]
    kind = "strategy" if where == "strategy_config" else "evaluator"
    fields = [f.name for f in dataclasses.fields(registry.get(kind, name).config_cls)]
    config = json.loads(json.dumps(base))
    config[where] = {**config.get(where, {}), fields[field_index % len(fields)]: value}
    try:
        SearchConfig.from_json(json.dumps(config, allow_nan=True)).validate()
    except NasbenchError as err:
        assert "\n" not in str(err) and str(err)


# ---- the notebook launcher's run name ----------------------------------------------------


@pytest.mark.parametrize(
    "name", ["../../../tmp/escape", "/tmp/abs", "a/b", "..", ".hidden", "-rf", "a\\b", "x" * 101]
)
def test_launcher_refuses_a_run_name_that_leaves_the_runs_folder(name, tmp_path, monkeypatch):
    from widgets import launcher as launcher_module

    started = []
    monkeypatch.setattr(launcher_module, "start_process", lambda *args: started.append(args))
    launcher = launcher_module.SearchLauncher(
        tmp_path / "runs", dataset={"name": "synthetic", "size": 28}, space_config=BASE["space"]
    )
    launcher.run_name.value = name
    launcher.run_button.click()
    assert started == [] and list(tmp_path.iterdir()) == []
    fix = "shorten it to at most 100" if len(name) > 100 else "rename it"
    assert "run name" in launcher.message.value and fix in launcher.message.value


@pytest.mark.parametrize(
    "space, said",
    [
        ({"name": "chain", "skeleton": {"channels": 32}}, "space.skeleton.channels 32"),
        ({"name": "chain", "skeleton": {"n_cells": 20, "reduction_at": [3]}}, "n_cells 20 and"),
        ({"name": "nb201", "skeleton": {"stem_multiplier": 1}}, "stem_multiplier 1"),
        ({"name": "nb101", "skeleton": {"stem_multiplier": 2}}, "stem_multiplier 2"),
    ],
)
def test_skeleton_fields_a_space_never_reads_are_refused(space, said):
    from nasbench.config import SearchConfig
    from nasbench.errors import ConfigError
    from nasbench.spaces import space_from_dict

    config = SearchConfig(strategy="random", evaluator="proxy", space=space)
    with pytest.raises(ConfigError, match=f"{said}.* would be ignored by the {space['name']}"):
        config.validate()
    # A space's own to_dict() (every field at its default) is still accepted.
    plain = space_from_dict({"name": space["name"]}).to_dict()
    SearchConfig(strategy="random", evaluator="proxy", space=plain).validate()


@pytest.mark.parametrize(
    "name, dataset, strategy",
    [
        ("vnas", "synthetic-seg3d", "darts"),
        ("c2fnas", "synthetic-seg3d", "darts"),
        ("dints", "synthetic-seg3d", "dints"),
        ("trellis", "synthetic-seg", "darts"),
    ],
)
def test_nasunet_stem_fields_are_refused_by_the_u_shaped_spaces_that_build_their_own(
    name, dataset, strategy
):
    from nasbench.config import DatasetConfig, SearchConfig
    from nasbench.errors import ConfigError

    def config(**stem):
        skeleton = {"depth": 2, "channels": 4, **stem}
        return SearchConfig(
            dataset=DatasetConfig(name=dataset, size=64 if name == "trellis" else 32),
            space={"name": name, "skeleton": skeleton},
            strategy=strategy,
        )

    with pytest.raises(ConfigError, match=f"stem_convs 3 would be ignored by the {name} space"):
        config(stem_convs=3).validate()
    with pytest.raises(ConfigError, match="stem_kernel 5 and .*stem_convs 2 would be ignored"):
        config(stem_kernel=5, stem_convs=2).validate()
    config(stem_kernel=1, stem_convs=1).validate()  # the defaults change nothing: accepted


def test_a_run_stored_with_skeleton_fields_its_space_never_read_still_resumes_its_config():
    from nasbench.config import SearchConfig

    stored = SearchConfig(strategy="random", evaluator="proxy",
                          space={"name": "chain"}).to_dict()  # fmt: skip
    stored["space"] = {"name": "chain", "skeleton": {"n_cells": 20, "channels": 32}}
    config = SearchConfig.from_stored(stored, "runs/old").validate()
    assert "n_cells" not in (config.space.get("skeleton") or {})

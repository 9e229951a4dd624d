"""Build a tabular benchmark by training every (or a sample of) architecture of a space.

:func:`generate_table` trains each architecture of a small cell space with the
shared training loop (:func:`nasbench.evaluation.train_loop.train_model`) and records,
per epoch, the training loss and validation and test ACC/AUC of the weights *at
that epoch* (the epoch-``e`` row is what ``e`` epochs of the recipe's schedule
give, as in NAS-Bench-201), plus the network's parameters, MACs, latency on the
device and seconds per training epoch.

Only one architecture per canonical key is trained (isomorphic cells share it).
The table is written atomically every ``every`` architectures and when the run stops
(Ctrl-C, an error), and a run pointed at an existing file skips the (key, seed) pairs
it already holds, so a stopped generation resumes where it stopped. The table records
how many architectures the generation intends, so one that was stopped says so
(:attr:`~nasbench.bench.table.BenchmarkTable.complete`). It runs on the GPU when there
is one (``device="auto"``).

CLI (wired into ``nasbench`` as ``bench generate``)::

    nasbench bench generate --out nb201_breast.parquet --dataset breastmnist \\
        --ops none,skip_connect,nor_conv_3x3 --epochs 12 --sample 200
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from nasbench.bench.table import BenchmarkTable
from nasbench.errors import ConfigError, NasbenchError
from nasbench.options import MAX_INT, plain_numbers
from nasbench.protocols import Space
from nasbench.spaces.base import ENUMERATE_LIMIT

ProgressFn = Callable[[int, int, str], Any]


def _unique_members(space: Space) -> list[Any]:
    from nasbench.bench.table import genotype_key

    seen, out = set(), []
    for g in space.enumerate():
        key = genotype_key(g, space)
        if key not in seen:
            seen.add(key)
            out.append(g)
    return out


def _drawn_members(space: Space, count: int, seed: int) -> list[Any]:
    """``count`` members of a space too large to list, each a distinct architecture (by
    canonical key), drawn uniformly with ``seed``."""
    from nasbench.bench.table import genotype_key

    rng = np.random.default_rng(seed)
    seen, out = set(), []
    for _ in range(100 * count):  # duplicates are rare in a space too large to list
        g = space.sample(rng)
        key = genotype_key(g, space)
        if key not in seen:
            seen.add(key)
            out.append(g)
            if len(out) == count:
                break
    return out


@torch.no_grad()
def _metrics(model: torch.nn.Module, images: torch.Tensor, targets: torch.Tensor, task: str):
    from nasbench.evaluation.metrics import classification_metrics

    device = next(model.parameters()).device
    model.eval()
    logits = torch.cat(
        [model(images[s : s + 256].to(device)).float().cpu() for s in range(0, len(images), 256)]
    )
    return classification_metrics(logits, targets, task)


def _stack(ds: Any, task: str) -> tuple[torch.Tensor, torch.Tensor]:
    items = [ds[i] for i in range(len(ds))]
    x = torch.stack([torch.as_tensor(a) for a, _ in items])
    y = torch.stack([torch.as_tensor(b) for _, b in items])
    return x, (y.float() if task == "multi-label" else y.long().view(-1))


def _check_resume(
    existing: BenchmarkTable, space: Space, dataset: str, recipe: dict, out: Path
) -> None:
    same = (
        existing.dataset == dataset
        and existing.recipe == recipe
        and (existing.space is None or existing.space.to_dict() == space.to_dict())
    )
    if not same:
        raise ConfigError(
            f"{str(out)!r} holds a table for another space, dataset or recipe "
            f"(dataset {existing.dataset!r}); pick another --out or delete it."
        )


def generate_table(
    space: Space,
    dataset: str = "synthetic",
    recipe: Any = None,
    sample: int | None = None,
    seeds: Sequence[int] = (0,),
    device: str = "auto",
    out: str | os.PathLike | None = None,
    every: int = 10,
    size: int = 28,
    root: str | None = None,
    latency_repeats: int = 5,
    progress: ProgressFn | None = None,
) -> BenchmarkTable:
    """Train architectures of ``space`` and record per-epoch metrics and costs.

    Args:
        space: a small space with ``enumerate()`` (e.g. ``NB201Space(ops=[...])``).
        dataset: a dataset name (default the offline ``"synthetic"``).
        recipe: a :class:`~nasbench.evaluation.train_loop.TrainConfig` (its ``limit`` caps
            every split; its ``seed`` and ``device`` are replaced per run).
        sample: train only this many architectures, chosen with ``seeds[0]``; None: all.
        seeds: training seeds; each architecture is trained once per seed.
        device: ``"auto"`` (CUDA when present), ``"cpu"`` or ``"cuda"``.
        out: Parquet file to write every ``every`` architectures, at the end and when
            the run stops (Ctrl-C, an error); an existing file is resumed (its (key, seed)
            pairs are skipped).
        every: architectures between atomic writes.
        size: image edge length.
        root: data folder.
        latency_repeats: timed forward passes of one image for ``latency_ms`` (0: skip).
        progress: called as ``progress(done, total, key)`` after each architecture.

    Returns:
        The :class:`BenchmarkTable` (also written to ``out`` when given).

    Example:
        >>> from nasbench.spaces import NB201Space
        >>> from nasbench.evaluation.train_loop import TrainConfig
        >>> table = generate_table(NB201Space(ops=["none", "nor_conv_3x3"]), "synthetic",
        ...                        TrainConfig(epochs=1, limit=32), sample=2)  # doctest: +SKIP
    """
    from nasbench.bench.table import genotype_key
    from nasbench.device import resolve_device
    from nasbench.evaluation.train_evaluator import DataSpec, load_evaluation_data, skeleton_for
    from nasbench.evaluation.train_loop import TrainConfig, train_model
    from nasbench.models import build, count_macs, count_parameters, measure_latency

    if not isinstance(space, Space):
        raise ConfigError(
            f"space must be a search space such as NB201Space(), got {type(space).__name__}."
        )
    _refuse_a_space_of_another_task(space.name, space.task)
    recipe = TrainConfig() if recipe is None else recipe
    if not isinstance(recipe, TrainConfig):
        raise ConfigError(f"recipe must be a TrainConfig, got {type(recipe).__name__}.")
    recipe.validate()
    listed = not isinstance(seeds, (str, bytes)) and isinstance(seeds, Iterable)
    seeds = [plain_numbers(s) for s in seeds] if listed else seeds
    # int() would truncate 1.5 into seed 1, and a lone 0 is not a list.
    if (
        not listed
        or not seeds
        or any(isinstance(s, bool) or not isinstance(s, int) or not 0 <= s < MAX_INT for s in seeds)
    ):
        raise ConfigError(
            f"seeds must be a list of one or more integers in [0, 2**31) such as [0, 1], "
            f"got {seeds!r}."
        )
    if len(set(seeds)) < len(seeds):
        # A repeated seed trains the same run twice and weighs it twice in every mean.
        raise ConfigError(f"seeds {seeds!r} repeat a seed; give each seed once.")
    every, sample = plain_numbers(every), plain_numbers(sample)
    if isinstance(every, bool) or not isinstance(every, int) or every < 1:
        raise ConfigError(f"every must be an integer >= 1, got {every!r}.")
    if sample is not None and (
        isinstance(sample, bool) or not isinstance(sample, int) or sample < 1
    ):
        raise ConfigError(f"sample must be None or an integer >= 1, got {sample!r}.")
    listable = space.size() <= ENUMERATE_LIMIT
    if not listable and sample is None:
        raise ConfigError(
            f"the {space.name} space has {space.size():.3e} members, too many to train every "
            "one; give sample=N (--sample N) to train N of them drawn at random."
        )
    from nasbench.data import get_info
    from nasbench.evaluation.final_evaluation import check_recipe_fits
    from nasbench.evaluation.metrics import CLASSIFICATION_TASKS

    info = get_info(str(dataset))
    if info.task not in CLASSIFICATION_TASKS:
        raise ConfigError(
            f"a benchmark table scores classifiers (val_acc, test_acc), but {dataset} is a "
            f"{info.task} set; pick a classification dataset."
        )
    check_recipe_fits(recipe, info.task, info.spatial_dims)  # before the first training
    dev = resolve_device(device)
    recipe_dict = {k: v for k, v in recipe.to_dict().items() if k not in ("seed", "device")}
    recipe_dict["size"] = size

    out_path = _output_path(out)
    if out_path is not None:
        _check_writable(out_path)
    # One process at a time: each saves the table it loaded plus its own rows, so a
    # second one writing beside it would drop the first one's rows when it saves.
    with _table_lock(out_path):
        table = BenchmarkTable(
            pd.DataFrame(columns=["key", "genotype_json", "epoch"]),
            space,
            dataset,
            recipe_dict,
            seeds,
        )
        if out_path is not None and out_path.exists():
            table = BenchmarkTable.load(out_path)
            _check_resume(table, space, dataset, recipe_dict, out_path)
        # The table's first seed draws a sample, so a run adding seeds to an existing table
        # trains the same architectures again, not a new draw.
        draw = table.seeds[0] if len(table.frame) else seeds[0]
        if not listable:  # too many to list: distinct members drawn from the space itself
            members = _drawn_members(space, sample, draw)
        else:
            members = _unique_members(space)
            if sample is not None:
                picks = np.random.default_rng(draw).permutation(len(members))
                members = [members[int(i)] for i in sorted(picks[: min(sample, len(members))])]
        done = set(zip(table.frame["key"], table.frame["seed"], strict=True))
        # What the table should hold once finished, so a stopped run's table says it is not.
        plan = (len(members), [int(s) for s in seeds])
        outdated = (
            out_path is not None
            and out_path.exists()
            and (table.planned, table.planned_seeds) != plan
        )
        table.planned, table.planned_seeds = plan

        train, val, test, info = load_evaluation_data(
            DataSpec(dataset, size, recipe.limit, root), seed=0
        )
        test_x, test_y = _stack(test, info.task)
        skeleton = skeleton_for(space, info)
        shape = (1, info.in_channels, *(size,) * info.spatial_dims)
        pending: list[dict[str, Any]] = []

        def flush() -> None:
            nonlocal table, pending
            if pending:
                table, pending = table.with_rows(pending), []
            if out_path is not None:
                table.save(out_path)

        try:
            for count, g in enumerate(members, start=1):
                key = genotype_key(g, space)
                for seed in seeds:
                    if (key, seed) in done:
                        continue
                    model = build(g, skeleton, seed=seed)
                    run = dataclasses.replace(
                        recipe,
                        seed=seed,
                        device=str(dev),
                        batch_size=min(recipe.batch_size, len(train)),
                    )
                    tests: list[dict[str, float]] = []

                    def record_test(
                        _record: dict[str, Any], m: torch.nn.Module = model, out: list = tests
                    ) -> None:
                        out.append(_metrics(m, test_x, test_y, info.task))

                    history = train_model(
                        model, train, val, test, info.task, run, on_epoch=record_test
                    ).history
                    # train_model keeps the best epoch's weights at the end; costs do not
                    # depend on them.
                    cpu_model = model.cpu()
                    params, macs = count_parameters(cpu_model), count_macs(cpu_model, shape)
                    latency = float("nan")
                    if latency_repeats > 0:
                        timed = measure_latency(
                            cpu_model, shape, repeats=latency_repeats, device=dev
                        )
                        latency = timed["median_ms"]
                    pending += [
                        {
                            "key": key,
                            "genotype_json": g.to_json(),
                            "seed": seed,
                            "epoch": rec["epoch"] + 1,
                            "train_loss": rec["train_loss"],
                            "val_acc": rec["val_acc"],
                            "val_auc": rec["val_auc"],
                            "test_acc": t["acc"],
                            "test_auc": t["auc"],
                            "params": float(params),
                            "macs": float(macs),
                            "latency_ms": latency,
                            "train_seconds_per_epoch": float(
                                np.mean([r["seconds"] for r in history])
                            ),
                        }
                        for rec, t in zip(history, tests, strict=True)
                    ]
                if progress is not None:
                    progress(count, len(members), key)
                if pending and (count % every == 0 or count == len(members)):
                    flush()
        except BaseException:
            # Ctrl-C (or a kill the CLI turns into one), an error: keep what was trained.
            if pending:
                flush()
            raise
        if pending or outdated:
            flush()
        return table


# ---- command line ----------------------------------------------------------------------------
def add_cli_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``nasbench bench generate`` options to ``parser``.

    Example:
        >>> p = argparse.ArgumentParser(); add_cli_arguments(p)
        >>> p.parse_args(["--out", "t.parquet"]).epochs
        12
    """
    parser.add_argument("--out", required=True, help="Parquet file to write (resumed if present)")
    parser.add_argument("--dataset", default="synthetic", help="dataset name")
    parser.add_argument(
        "--space",
        default="nb201",
        help="space name, or a JSON space dict as space.to_dict() writes it",
    )
    parser.add_argument("--ops", help="comma-separated op names of an nb201 space")
    parser.add_argument("--n-cells", type=int, default=5, help="cells of the macro skeleton")
    parser.add_argument("--channels", type=int, default=8, help="channels of the first stage")
    parser.add_argument("--epochs", type=int, default=12, help="training epochs per architecture")
    parser.add_argument("--batch-size", type=int, default=64, help="images per step")
    parser.add_argument("--lr", type=float, default=0.025, help="initial learning rate")
    parser.add_argument("--limit", type=int, help="stratified cap on the images of every split")
    parser.add_argument(
        "--sample",
        type=int,
        help="train only this many architectures, drawn at random (required for a space "
        "too large to list, e.g. nb101 or darts)",
    )
    parser.add_argument("--seeds", default="0", help="comma-separated training seeds")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    parser.add_argument("--every", type=int, default=10, help="architectures between writes")
    parser.add_argument("--size", type=int, default=28, help="image edge length")
    parser.add_argument("--root", help="data folder")


def space_from_cli(args: argparse.Namespace) -> Any:
    """Build the space the CLI options describe."""
    from nasbench.spaces import create_space, space_from_dict
    from nasbench.spaces.skeleton import Skeleton

    text = str(args.space).strip()
    if text.startswith("{"):
        try:
            described = json.loads(text)
        except json.JSONDecodeError as err:
            raise ConfigError(f"--space is not valid JSON ({err.msg}).") from None
        if isinstance(described, dict) and isinstance(described.get("name"), str):
            _refuse_a_named_space_of_another_task(described["name"])
        return space_from_dict(described)
    _refuse_a_named_space_of_another_task(text)
    kwargs: dict[str, Any] = {"skeleton": Skeleton(n_cells=args.n_cells, channels=args.channels)}
    if args.ops:
        kwargs["ops"] = [op.strip() for op in args.ops.split(",") if op.strip()]
    return create_space(text, **kwargs)


def _refuse_a_named_space_of_another_task(name: str) -> None:
    """:func:`_refuse_a_space_of_another_task` by the space's registered name, before it
    is built with a classifier's skeleton (its own error would name the skeleton)."""
    from nasbench import registry

    try:
        task = registry.get("space", name).obj.task
    except NasbenchError:
        return  # an unknown name: create_space says so, with the names it knows
    _refuse_a_space_of_another_task(name, task)


def _refuse_a_space_of_another_task(name: str, task: str) -> None:
    """Refuse a space whose networks do not classify (NAS-Unet's, DiNTS's, an unrolled
    reconstruction's): a table trains classifiers, and training one of its networks on
    class labels fails inside torch."""
    from nasbench import registry

    if task == "classification":
        return
    classifying = sorted(
        n for n in registry.names("space") if registry.get("space", n).obj.task == "classification"
    )
    raise ConfigError(
        f"space {name}: a benchmark table trains classifiers, and {name} is a {task} space; "
        f"use a classification space: {', '.join(classifying)}."
    )


def _output_path(out: str | os.PathLike | None) -> Path | None:
    """``out`` as the path of the file it names, refusing empty or blank text: ``Path("")``
    is the current folder and ``Path(" ")`` a file without a suffix, so either would be
    refused for what it is not, with a nonsense suggestion, when what went wrong is an
    unset value. A link is followed: a generation through it takes the lock of the file it
    names (a second one, through the link or not, is refused) and writes that file, keeping
    the link."""
    if isinstance(out, str) and not out.strip():
        raise ConfigError(
            "--out is empty; give it a value such as bench.parquet (is a shell variable unset?)."
        )
    if out is None:
        return None
    try:
        return Path(out).resolve()
    except (RuntimeError, OSError):  # a link loop (RuntimeError before Python 3.13)
        raise ConfigError(
            f"--out {out} is a symbolic link that loops (it leads back to itself); remove "
            "the link, or give another --out."
        ) from None


def _table_lock(out: Path | None) -> Any:
    """The lock held while a table is generated into ``out`` (none without a file)."""
    if out is None:
        return contextlib.nullcontext()
    from nasbench.bench.table import generation_lock
    from nasbench.runs.store import exclusive_lock

    out.parent.mkdir(parents=True, exist_ok=True)  # as saving the table would
    return exclusive_lock(
        generation_lock(out),
        f"{out} is being written by another live process (a bench generate into the same "
        "file); wait for it to end, or give another --out.",
    )


def _check_writable(path: Path) -> None:
    """Refuse, before hours of training, an output path that can never be written."""
    if path.is_dir():
        raise ConfigError(
            f"--out {path} is a folder; give a Parquet file path such as {path / 'bench.parquet'}."
        )
    if path.suffix.lower() != ".parquet":  # the table is written as Parquet, whatever its name
        raise ConfigError(
            f"--out {path} would hold a Parquet table under a {path.suffix or 'bare'} name; "
            f"give a .parquet path such as {path.with_suffix('.parquet')}."
        )
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise ConfigError(
            f"--out {path} cannot be written: {folder} is a file, not a folder; choose "
            "another path."
        )
    try:  # permissions say little to root or on special file systems: try a real write
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        raise ConfigError(
            f"--out {path} cannot be written: {folder} refuses new files ({err.strerror or err}); "
            "choose another path."
        ) from None


def cli_main(args: argparse.Namespace) -> int:
    """Run ``nasbench bench generate``; prints one line per architecture.

    Returns:
        The exit status (0).
    """
    from nasbench.evaluation.train_loop import TrainConfig, validated_as_flags

    try:
        seeds = [int(s) for s in str(args.seeds).split(",") if s.strip()]
    except ValueError:
        raise ConfigError(
            f"--seeds must be comma-separated integers, got {args.seeds!r}."
        ) from None
    recipe = validated_as_flags(
        TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, limit=args.limit)
    )

    def report(done: int, total: int, key: str) -> None:
        print(f"[{done}/{total}] {key}", flush=True)

    from nasbench.data.registry import dataset_key

    try:
        table = generate_table(
            space_from_cli(args),
            dataset=dataset_key(args.dataset),  # a folder's path absolute, as a search stores it
            recipe=recipe,
            sample=args.sample,
            seeds=seeds,
            device=args.device,
            out=args.out,
            every=args.every,
            size=args.size,
            root=args.root,
            progress=report,
        )
    except KeyboardInterrupt:
        print(_stopped_note(Path(args.out)), file=sys.stderr, flush=True)
        raise
    print(f"wrote {args.out}: {table}")
    return 0


def _stopped_note(out: Path) -> str:
    """What a stopped ``bench generate`` kept in ``out``, and how to go on."""
    again = "run the same command again to continue"
    try:
        table = BenchmarkTable.load(out)
    except ConfigError:  # stopped before the first write (or the file is unreadable)
        return f"{out} holds no finished architecture yet; {again}."
    kept = f"{table.covered} of {table.planned}" if table.planned else str(len(table))
    return f"{out} keeps the {kept} architectures trained so far; {again}."

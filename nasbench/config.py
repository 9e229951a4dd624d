"""``SearchConfig``: the one description of a search, shared by CLI, widgets and tests.

A config is a dataclass tree that round-trips through JSON. ``validate`` checks
every value with one-line messages before anything is built, so a bad config
fails in milliseconds, not inside torch.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nasbench import registry
from nasbench.errors import ConfigError, NasbenchError, closest_name
from nasbench.options import MAX_INT, Budget, plain_numbers
from nasbench.protocols import Space, carries_weights
from nasbench.runs.alpha_summary import COLLAPSE_FACTOR, COLLAPSE_START_EPOCH, COLLAPSE_WINDOW
from nasbench.runs.checkpoint_schedule import AUTO
from nasbench.tempfiles import write_atomically

DEVICES = ("auto", "cpu", "cuda")
# Strategy kinds whose search trains a supernet in the bilevel loop.
BILEVEL_KINDS = ("differentiable", "topology", "self-supervised")
# Strategy kinds whose loops compute on the CPU only (METANAS's episodes, MARL-GDAS's agents);
# "auto" means the CPU for them.
CPU_ONLY_KINDS = ("meta", "multi-agent")
PRECISIONS = ("auto", "fp32", "bf16")


def _refuse_unknown_keywords(cls: type) -> type:
    """Make ``cls(epoch=1)`` a one-line ConfigError naming the keyword, the fields and the
    closest one, as :meth:`SearchConfig.from_dict` does, rather than a TypeError.

    The dataclass ``__init__`` stays the one that runs, so positional arguments, defaults,
    ``dataclasses.replace`` and pickling work as before.
    """
    init = cls.__init__

    @functools.wraps(init)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        known = [f.name for f in dataclasses.fields(cls) if f.init]
        for key in kwargs:
            if key not in known:
                raise ConfigError(
                    f"{cls.__name__} has no setting {key!r}; its settings: {', '.join(known)}."
                    f"{closest_name(str(key), known)}"
                )
        init(self, *args, **kwargs)

    cls.__init__ = __init__
    return cls


def _store_plain_numbers(config: Any) -> None:
    """Replace numpy numbers in the fields of ``config`` (nested dicts too) by plain ones,
    so that checks accept them and the JSON config records plain numbers."""
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        plain = plain_numbers(value)
        if plain is not value:
            setattr(config, f.name, plain)


def default_space() -> dict[str, Any]:
    """The small DARTS cell space the quickstart and the tests search."""
    return {
        "name": "darts",
        "n_nodes": 4,
        "skeleton": {"n_cells": 5, "channels": 8},
    }


@_refuse_unknown_keywords
@dataclass
class DatasetConfig:
    """Which data a search reads.

    Attributes:
        name: a registry name (``nasbench datasets`` lists them).
        size: image edge length.
        limit: stratified subsample of the training split, for quick runs.
        root: folder of the data cache (default ``NASBENCH_DATA`` or ~/.cache/nasbench).
        download: fetch missing files.
        batch_size: images per step, for weights and for alphas.
        augment: light augmentation on the training half.
    """

    name: str = "synthetic"
    size: int = 28
    limit: int | None = None
    root: str | None = None
    download: bool = True
    batch_size: int = 16
    augment: bool = False

    def __post_init__(self) -> None:
        _store_plain_numbers(self)


@_refuse_unknown_keywords
@dataclass
class SearchConfig:
    """Everything needed to run and reproduce one search.

    Attributes:
        dataset: the data (see :class:`DatasetConfig`).
        space: a search-space dict as ``space.to_dict()`` writes it.
        strategy: a registered strategy name: differentiable (``darts``, ``gdas``,
            ``pcdarts``, ``proxyless``), self-supervised (``unnas``: DARTS on a pretext
            task), topology (``dints``, for the ``dints`` space), discrete
            (``random``, ``evolution``, ...), meta (``metanas``: ``epochs`` are
            meta-epochs, ``dataset`` the meta-training set) or multi-agent (``marl-gdas``,
            for a localisation dataset; its settings are all in ``strategy_config``,
            ``epochs`` counts rounds of episodes and ``max_steps_per_epoch`` updates per
            round).
        strategy_config: that strategy's hyperparameters (its config dataclass fields).
        evaluator: discrete search only: the evaluator name (``train``, ``table``, ...).
        evaluator_config: that evaluator's settings.
        max_evaluations: discrete search only: evaluator calls allowed (None: no limit).
        max_seconds: wall time allowed (None: no limit). A discrete search stops when
            it is spent; a differentiable one times its first steps and a validation
            batch, then runs fewer epochs (or, when one epoch does not fit, fewer steps)
            so that it fits, says so, and derives the cell at the end as usual.
        executor: discrete search only: ``sequential``, ``process`` or ``ray``.
        executor_config: that executor's settings (``workers``, ``num_cpus``, ``address``).
        epochs: passes over the search half of the training data.
        max_steps_per_epoch: cap on steps per epoch (None: the whole half).
        w_lr, w_lr_min, w_momentum, w_weight_decay, grad_clip: the weight optimiser
            (SGD with cosine annealing, as in DARTS); grad_clip 0 turns clipping off.
        alpha_every: record alphas every N steps; 0 picks N so a run keeps about
            ``max_alpha_snapshots`` snapshots.
        max_alpha_snapshots: the target for ``alpha_every=0``.
        eigen_every: record the dominant Hessian eigenvalue every E epochs (0: never).
        early_stop: stop when the eigenvalue grows (RobustDARTS rule) and return the
            cell of the epoch ``early_stop_window`` measurements back.
        early_stop_window, early_stop_factor, early_stop_start: the rule: stop when the
            mean of the last ``window`` eigenvalues exceeds ``factor`` times the mean of
            the ``window`` before, from epoch ``start`` on (RobustDARTS: 5, 1.3, 10).
        checkpoint_every: also checkpoint every N steps (0: at epoch ends only), or
            ``"auto"`` (the default): after a step once the time since the last write is
            20x what that write took, so writes cost ~5% of the run at most: every step
            where a step takes 20 writes or more, every few where it is shorter (a
            quickstart search on a quiet CPU, a GPU, a tiny supernet). A kill loses the
            steps since the last write; ``resume`` redoes them
            (:mod:`nasbench.runs.checkpoint_schedule`).
        roi_size: segmentation only: validate with MONAI's sliding-window inference over
            windows of this edge (None: one window, the whole image; 3D volumes always
            go through the sliding-window inferer).
        device: ``auto`` (CUDA when present), ``cpu`` or ``cuda``. METANAS and MARL-GDAS
            run on the CPU only: ``auto`` means the CPU for them, ``cuda`` is refused.
        precision: ``auto`` (bf16 autocast on a CUDA GPU that has it for images over
            32x32, fp32 for smaller ones and on the CPU), ``fp32`` or ``bf16``.
        seed: the only source of randomness.
        deterministic: ask torch for deterministic kernels.

    Example:
        >>> cfg = SearchConfig(epochs=1)
        >>> SearchConfig.from_json(cfg.to_json()) == cfg
        True
    """

    dataset: DatasetConfig = field(default_factory=DatasetConfig)  # a dict or a name is read as one
    space: dict[str, Any] = field(default_factory=default_space)
    strategy: str = "darts"
    strategy_config: dict[str, Any] = field(default_factory=dict)
    evaluator: str = "train"
    evaluator_config: dict[str, Any] = field(default_factory=dict)
    max_evaluations: int | None = 100
    max_seconds: float | None = None
    executor: str = "sequential"
    executor_config: dict[str, Any] = field(default_factory=dict)
    epochs: int = 2
    max_steps_per_epoch: int | None = None
    w_lr: float = 0.025
    w_lr_min: float = 0.001
    w_momentum: float = 0.9
    w_weight_decay: float = 3e-4
    grad_clip: float = 5.0
    alpha_every: int = 0
    max_alpha_snapshots: int = 2000
    eigen_every: int = 0
    early_stop: bool = False
    early_stop_window: int = COLLAPSE_WINDOW
    early_stop_factor: float = COLLAPSE_FACTOR
    early_stop_start: int = COLLAPSE_START_EPOCH
    checkpoint_every: int | str = AUTO
    roi_size: int | None = None
    device: str = "auto"
    precision: str = "auto"
    seed: int = 0
    deterministic: bool = True

    def __post_init__(self) -> None:
        _store_plain_numbers(self)
        # SearchConfig(dataset={"name": ...}) or dataset="breastmnist" mean what they say.
        if isinstance(self.dataset, str):
            self.dataset = {"name": self.dataset}
        if isinstance(self.dataset, dict):
            _reject_unknown(self.dataset, DatasetConfig, "dataset")
            self.dataset = DatasetConfig(**self.dataset)

    def with_absolute_paths(self) -> SearchConfig:
        """A copy whose data paths are absolute: ``dataset.root``, a ``folder:<path>``
        dataset (also as a strategy setting, e.g. METANAS's ``meta_test_dataset``) and
        the table evaluator's ``path``, a relative one read against the current folder,
        a leading ``~`` the home folder (:func:`~nasbench.data.registry.dataset_key`).

        A search runs on this copy and stores it, so ``resume``, ``retrain`` and a
        notebook started in another folder read the same files.

        Returns:
            The copy (this config is left as it is).

        Example:
            >>> import os
            >>> cfg = SearchConfig(dataset={"name": "folder:scans", "root": "data"})
            >>> absolute = cfg.with_absolute_paths().dataset
            >>> absolute.name == "folder:" + os.path.abspath("scans"), cfg.dataset.root
            (True, 'data')
        """
        from nasbench.data.registry import absolute_path, dataset_key

        dataset = self.dataset
        if not isinstance(dataset, DatasetConfig):
            return dataclasses.replace(self)  # not a dataset config: validate() says why
        name, root = dataset_key(dataset.name), dataset.root
        if isinstance(root, (str, Path)) and str(root):
            root = absolute_path(root)
        evaluator_config = self.evaluator_config
        table = evaluator_config.get("path") if isinstance(evaluator_config, dict) else None
        if self.evaluator == "table" and isinstance(table, str) and table:
            evaluator_config = {**evaluator_config, "path": absolute_path(table)}
        strategy_config = self.strategy_config
        if isinstance(strategy_config, dict):  # METANAS's meta_test_dataset, a folder too
            strategy_config = {key: dataset_key(value) for key, value in strategy_config.items()}
        return dataclasses.replace(
            self,
            dataset=dataclasses.replace(dataset, name=name, root=root),
            evaluator_config=evaluator_config,
            strategy_config=strategy_config,
        )

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        """Return the config as indented JSON."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SearchConfig:
        """Build a config from a dict, rejecting unknown keys with a suggestion."""
        if not isinstance(data, dict):
            raise ConfigError(f"a search config is a JSON object, got {type(data).__name__}.")
        data = dict(data)
        _reject_unknown(data, cls, "search config")
        dataset = data.pop("dataset", {})
        if not isinstance(dataset, (dict, str)):
            raise ConfigError(
                f"dataset must be a name or a JSON object, got {dataset!r}; "
                'write e.g. "dataset": {"name": "synthetic"}.'
            )
        return cls(dataset=dataset, **data)

    @classmethod
    def from_stored(cls, data: Any, run_dir: Any = "") -> SearchConfig:
        """The config a run stored, for a resume: :meth:`from_dict`, after checking that
        the settings every run has always stored are there. A missing one would be
        filled with its default, and the resume would run another search without a word.
        Settings an earlier version stored but never read are dropped
        (:func:`_as_read_by_discrete`), so its runs resume as they ran.

        Args:
            data: the run store's config dict.
            run_dir: the run folder, for the message.

        Returns:
            The config (not yet validated).

        Example:
            >>> SearchConfig.from_stored(SearchConfig().to_dict()).strategy
            'darts'
        """
        if not isinstance(data, dict):
            raise ConfigError(f"run '{run_dir}' stores no search config; start a new run.")
        dataset = data.get("dataset")
        missing = [k for k in STORED_KEYS if k not in data]
        if isinstance(dataset, dict):
            missing += [f"dataset.{k}" for k in STORED_DATASET_KEYS if k not in dataset]
        elif "dataset" not in missing:
            missing.append("dataset")
        if missing:
            raise ConfigError(
                f"run '{run_dir}' stores a config without {', '.join(missing)} (damaged or "
                "edited); a resume would search with the default instead, so it is refused. "
                "Start a new run."
            )
        space = data.get("space")
        names = UNREAD_MACRO.get(space.get("name"), ((), ""))[0] if isinstance(space, dict) else ()
        if names and isinstance(space.get("skeleton"), dict):
            # Fields its network never read: an earlier version stored them; they change
            # nothing, so the run resumes without them rather than being refused.
            skeleton = {k: v for k, v in space["skeleton"].items() if k not in names}
            data = {**data, "space": {**space, "skeleton": skeleton}}
        return cls.from_dict(_as_read_by_discrete(data))

    @classmethod
    def from_json(cls, text: str) -> SearchConfig:
        """Parse a config from JSON text."""
        try:
            # NaN and Infinity parse; validate() names where they are.
            data = json.loads(text, object_pairs_hook=_object_without_repeats)
        except json.JSONDecodeError as err:
            raise ConfigError(f"config is not valid JSON: {err}; fix the file.") from None
        except RecursionError:
            raise ConfigError(
                "config is nested too deeply to read (brackets within brackets); fix the file."
            ) from None
        except ConfigError:
            raise  # a key given twice (_object_without_repeats), named there
        except ValueError:  # an integer of thousands of digits, which Python won't convert
            raise ConfigError(
                "config holds a number too long to read (thousands of digits); fix the file."
            ) from None
        return cls.from_dict(data)

    @classmethod
    def load(cls, path: str | Path) -> SearchConfig:
        """Read a config file written by :meth:`save` (or by hand)."""
        path = Path(path)
        if not path.is_file():
            problem = (
                "is a folder" if path.is_dir()
                else "is not a regular file" if path.exists()
                else "does not exist"
            )  # fmt: skip
            raise ConfigError(f"config file {path} {problem}; pass a SearchConfig JSON file.")
        try:
            text = path.read_text(encoding="utf-8-sig")  # a byte-order mark is no error
        except (OSError, UnicodeDecodeError) as err:
            raise ConfigError(f"config file {path} cannot be read as text ({err}).") from None
        try:
            return cls.from_json(text)
        except ConfigError as err:
            raise ConfigError(f"config file {path}: {err}") from None

    def save(self, path: str | Path) -> None:
        """Write the config as JSON, atomically: a temp file in the same folder, then
        ``os.replace``, so a kill mid-write leaves the previous file whole, never half of one.

        Args:
            path: the JSON file to write (its folder must exist).

        Example:
            >>> SearchConfig().save(tmp_path / "search.json")  # doctest: +SKIP
        """
        write_atomically(path, lambda handle: handle.write(self.to_json() + "\n"), text=True)

    def validate(self) -> SearchConfig:
        """Check every value; raise a one-line ConfigError on the first bad one.

        Returns:
            ``self``, so ``SearchConfig(...).validate()`` chains.
        """
        if not isinstance(self.dataset, DatasetConfig):
            raise ConfigError(
                f"dataset must be a DatasetConfig, a dict or a name, got {self.dataset!r}."
            )
        _check_types(self, "")
        _check_types(self.dataset, "dataset.")
        _check_positive("epochs", self.epochs)
        _check_positive("dataset.batch_size", self.dataset.batch_size)
        _check_positive("dataset.size", self.dataset.size)
        if self.dataset.limit is not None:
            _check_positive("dataset.limit", self.dataset.limit)
        if self.max_steps_per_epoch is not None:
            _check_positive("max_steps_per_epoch", self.max_steps_per_epoch)
        if self.max_seconds is not None and self.max_seconds <= 0:
            raise ConfigError(
                f"max_seconds must be a positive number of seconds, got {self.max_seconds}; "
                "use null for no limit."
            )
        if self.roi_size is not None:
            _check_positive("roi_size", self.roi_size)
        for name in ("alpha_every", "eigen_every", "checkpoint_every", "max_alpha_snapshots"):
            if getattr(self, name) != AUTO and getattr(self, name) < 0:
                raise ConfigError(f"{name} must be >= 0, got {getattr(self, name)}.")
        for name in ("w_lr", "w_lr_min", "w_momentum", "w_weight_decay", "grad_clip"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must be >= 0, got {getattr(self, name)}.")
        if self.w_lr == 0:  # no step size: the weights would never move
            raise ConfigError("w_lr must be > 0 (0 trains nothing), got 0.")
        if self.w_lr_min > self.w_lr:  # the cosine schedule would raise the rate
            raise ConfigError(
                f"w_lr_min {self.w_lr_min} exceeds w_lr {self.w_lr}: the cosine schedule "
                "would raise the learning rate; set w_lr_min to w_lr or less."
            )
        if self.w_momentum >= 1:
            raise ConfigError(
                f"w_momentum must be below 1 (at 1 or more SGD's velocity grows without "
                f"bound), got {self.w_momentum}; the DARTS paper uses 0.9."
            )
        _check_positive("early_stop_window", self.early_stop_window)
        if not self.early_stop_factor > 1.0:
            raise ConfigError(
                f"early_stop_factor must be > 1 (a growth factor), got {self.early_stop_factor}."
            )
        if self.early_stop_start < 0:
            raise ConfigError(f"early_stop_start must be >= 0, got {self.early_stop_start}.")
        if self.early_stop and not self.eigen_every:
            raise ConfigError(
                "early_stop watches the Hessian eigenvalue, which is never computed with "
                "eigen_every = 0; set eigen_every = 1 (or more)."
            )
        _check_choice("device", self.device, DEVICES)
        _check_choice("precision", self.precision, PRECISIONS)
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ConfigError(f"seed must be a non-negative integer, got {self.seed!r}.")
        self._validate_parts()
        # Last: a key the search would not read matters less than a search that cannot run.
        kind = registry.get("strategy", self.strategy).kind
        if kind != "discrete":
            self._refuse_evaluator_settings()
        self._refuse_unread_settings(kind)
        return self

    def _validate_parts(self) -> None:
        # Imported here: validating the parts needs the registries, building them does not.
        from nasbench.data import get_info
        from nasbench.spaces import space_from_dict

        info = get_info(self.dataset.name)
        if self.dataset.size not in info.sizes:
            raise ConfigError(
                f"dataset {info.name} has sizes {list(info.sizes)}, not {self.dataset.size}; "
                "set dataset.size to one of them."
            )
        _refuse_other_kinds_of_name(self.strategy)
        entry = registry.get("strategy", self.strategy)
        if entry.kind in CPU_ONLY_KINDS and self.device == "cuda":
            raise ConfigError(
                f'strategy {self.strategy!r} runs on the CPU only; set device to "cpu" or '
                '"auto" (which means the CPU for it).'
            )
        if entry.kind == "multi-agent":  # its own network and loop: no space to check
            self._validate_localisation(info)
            return
        if info.task == "localisation":
            raise ConfigError(
                f"dataset {info.name} is a landmark localisation set; search it with strategy "
                '"marl-gdas".'
            )
        space = space_from_dict(self.space)
        dims = space.skeleton.spatial_dims
        if dims != info.spatial_dims:
            self._refuse_dims(info, space)
        check_task(info, space)
        _refuse_unread_skeleton(space.skeleton, entry.kind)
        _refuse_unread_macro(space.name, space.skeleton)
        check_size = getattr(space, "check_input_size", None)
        if check_size is not None:
            check_size(self.dataset.size, offered=info.sizes)
        _check_strategy(space, entry)
        _check_supernet(space, entry)
        # A strategy's own demands on the space (ENAS: a cell supernet; PC-DARTS: channels
        # divisible by k), checked here so a launch does not fail a second in.
        strategy_config = registry.make_config(
            "strategy", self.strategy, {**self.strategy_config, **self.strategy_budget_changes()}
        )
        check_space = getattr(strategy_config, "check_space", None)
        if check_space is not None:
            check_space(space)
        if self.roi_size is not None and info.task != "segmentation":
            raise ConfigError("roi_size is for segmentation; leave it None for classification.")
        if self.roi_size is not None and self.roi_size > self.dataset.size:
            raise ConfigError(
                f"roi_size {self.roi_size} exceeds the image size {self.dataset.size}; "
                "use at most the image size."
            )
        kind = entry.kind
        if kind == "discrete":
            self._validate_discrete(info)
            return
        if kind == "meta":
            meta_config = registry.make_config("strategy", self.strategy, self.strategy_config)
            entry.cls.check_search(self, meta_config)
            return
        if kind not in BILEVEL_KINDS:
            raise ConfigError(
                f"strategy {self.strategy!r} is neither differentiable nor discrete; a search "
                "runs darts, gdas, pcdarts, proxyless, dints, unnas, metanas or a discrete "
                "strategy."
            )
        if kind == "topology" and self.eigen_every:
            raise ConfigError(
                f"strategy {self.strategy!r} has no alpha Hessian to watch; set eigen_every = 0."
            )
        strategy_config = registry.make_config("strategy", self.strategy, self.strategy_config)
        check_dataset = getattr(entry.cls, "check_dataset", None)
        if check_dataset is not None:  # UnNAS: can its pretext task be made from this data?
            check_dataset(strategy_config, info, self.dataset.size)
        if self.dataset.augment and callable(getattr(entry.cls, "search_data", None)):
            # Batches are augmented after the pretext task is made: a turn would then
            # contradict a rotation label, a flip a jigsaw order.
            raise ConfigError(
                f"dataset.augment cannot be used with strategy {self.strategy!r}: its pretext "
                "task transforms the images itself, and a random flip or turn would change "
                "what the task asks; remove it."
            )

    def _refuse_dims(self, info: Any, space: Any) -> None:
        """A space of other dims than the data: say how to change the space, or, for a
        space of one kind of data only (V-NAS, C2FNAS: volumes), to pick other data."""
        from nasbench.spaces import space_from_dict
        from nasbench.spaces.skeleton import skeleton_overrides

        want, dims = info.spatial_dims, space.skeleton.spatial_dims
        skeleton = {**skeleton_overrides(self.space), "spatial_dims": want}
        try:
            space_from_dict({**self.space, "skeleton": skeleton})
        except NasbenchError:
            raise ConfigError(
                f"dataset {info.name} is {want}D but space {space.name!r} searches {dims}D data "
                f"only; pick a {dims}D dataset (`nasbench datasets --dims {dims}`)."
            ) from None
        raise ConfigError(
            f"dataset {info.name} is {want}D but the space is {dims}D; "
            f'set space["skeleton"]["spatial_dims"] = {want}.'
        )

    def _refuse_unread_settings(self, kind: str) -> None:
        """Refuse, naming them, the changed keys a search of this kind never reads: a
        discrete strategy trains each candidate with its evaluator's settings, METANAS and
        MARL-GDAS take theirs from strategy_config; either would ignore them without a word."""
        changed = _changed_fields(self, IGNORED_BY_KIND.get(kind, ()))
        if kind in IGNORED_BY_KIND and self.dataset.batch_size != DatasetConfig.batch_size:
            changed.append(f"dataset.batch_size {self.dataset.batch_size!r}")
        if kind in ("meta", "multi-agent") and self.dataset.augment:
            changed.append("dataset.augment True")
        if changed:
            raise ConfigError(
                f"{' and '.join(changed)} would be ignored: strategy {self.strategy!r} "
                f"{UNREAD_BECAUSE[kind]}; remove {'it' if len(changed) == 1 else 'them'}."
            )
        if kind == "discrete":
            self._refuse_augment_no_evaluator_reads()

    def _refuse_augment_no_evaluator_reads(self) -> None:
        # NASH and ENAS train their own candidates on the search data (augmented if asked);
        # other discrete strategies augment only through an evaluator that trains.
        strategy_cls = registry.get("strategy", self.strategy).cls
        if self.dataset.augment and getattr(strategy_cls, "searches_augment", False):
            raise ConfigError(
                f"dataset.augment would be ignored: strategy {self.strategy!r} searches the "
                "augmentation strength as a hyper-parameter; remove it (the choices are "
                "strategy_config's 'augment' values)."
            )
        evaluator_fields = {
            f.name for f in dataclasses.fields(registry.get("evaluator", self.evaluator).config_cls)
        }
        if (
            self.dataset.augment
            and "augment" not in evaluator_fields
            and not carries_weights(strategy_cls)
        ):
            raise ConfigError(
                f"dataset.augment would be ignored: the {self.evaluator!r} evaluator trains "
                "nothing it could augment; remove it, or use the 'train' evaluator."
            )

    def _refuse_evaluator_settings(self) -> None:
        """Only a discrete strategy scores candidates with an evaluator; any other would
        silently ignore ``evaluator``/``evaluator_config``, ``max_evaluations`` and the
        executor, so a changed one is refused."""
        changed = self._evaluator_changes()
        changed += _changed_fields(self, ("max_evaluations", "executor"))
        if self.executor_config:
            changed.append(f"executor_config {self.executor_config!r}")
        if changed:
            discrete = ", ".join(registry.names("strategy", kind="discrete"))
            raise ConfigError(
                f"{' and '.join(changed)} would be ignored: strategy {self.strategy!r} trains "
                "its supernet (or networks) itself for its epochs and uses no evaluator; "
                f"remove {'it' if len(changed) == 1 else 'them'}, or pick a discrete strategy "
                f"({discrete})."
            )

    def _evaluator_changes(self) -> list[str]:
        """The evaluator and its settings, where changed from the defaults, as named in a
        refusal ("evaluator 'smash'", "evaluator_config {...}")."""
        changed = [f"evaluator {self.evaluator!r}"] if self.evaluator != "train" else []
        if self.evaluator_config:
            changed.append(f"evaluator_config {self.evaluator_config!r}")
        return changed

    def _refuse_evaluator_a_strategy_replaces(self) -> None:
        """NASH, ENAS and AutoHAS score candidates with networks they keep between them,
        trained by their own strategy_config: an evaluator or its settings would be
        ignored without a word, so a changed one is refused."""
        changed = self._evaluator_changes()
        if changed:
            raise ConfigError(
                f"{' and '.join(changed)} would be ignored: strategy {self.strategy!r} trains "
                "and scores its candidates itself (their weights carry over from one to the "
                f"next); remove {'it' if len(changed) == 1 else 'them'}, and set its training "
                "in strategy_config."
            )

    def _validate_localisation(self, info: Any) -> None:
        """A multi-agent localisation search (``marl-gdas``): its data and settings."""
        if info.task != "localisation":
            raise ConfigError(
                f"strategy {self.strategy!r} localises landmarks but dataset {info.name} is a "
                f"{info.task} set; use a localisation dataset such as synthetic-landmarks3d."
            )
        m = registry.make_config("strategy", self.strategy, self.strategy_config)
        if m.patch % 2 == 0:
            raise ConfigError(f"strategy_config patch must be odd (a centre voxel), got {m.patch}.")
        if m.patch > self.dataset.size:
            raise ConfigError(
                f"strategy_config patch {m.patch} exceeds the volume size {self.dataset.size}; "
                "use a smaller patch."
            )
        if m.shared_normal + m.shared_reduce < 1:
            raise ConfigError("the agents need at least one shared cell; raise shared_normal.")
        if m.tau_min > m.tau_max:
            raise ConfigError(
                f"strategy_config tau_min {m.tau_min} exceeds tau_max {m.tau_max}; lower tau_min "
                "or raise tau_max."
            )
        if m.coarse_step >= self.dataset.size:
            # The first steps look at the volume averaged over about coarse_step voxels.
            raise ConfigError(
                f"strategy_config coarse_step {m.coarse_step} must be smaller than the volume "
                f"size {self.dataset.size}; lower coarse_step."
            )
        if self.eigen_every or self.early_stop:
            raise ConfigError(
                f"strategy {self.strategy!r} has no Hessian watch; set eigen_every = 0 and "
                "early_stop = false."
            )
        if self.roi_size is not None:
            raise ConfigError("roi_size is for segmentation; leave it null for localisation.")
        if self.max_seconds is not None:
            raise ConfigError(
                f"strategy {self.strategy!r} runs a fixed number of rounds (epochs) and has no "
                "time budget; set max_seconds = null and bound the run with epochs."
            )

    def strategy_budget_changes(self) -> dict[str, Any]:
        """The strategy settings a discrete search changes to fit ``max_evaluations``:
        population-based strategies shrink a default population the budget would mostly
        spend on random members; settings named in ``strategy_config`` stay as given.

        Returns:
            Setting name -> value (empty when nothing changes); the search runs with
            ``{**strategy_config, **changes}`` and records them (a ``strategy_fitted`` event).

        Example:
            >>> SearchConfig(strategy="evolution", max_evaluations=30).strategy_budget_changes()
            {'population_size': 7}
        """
        config = registry.make_config("strategy", self.strategy, self.strategy_config)
        fit = getattr(config, "fit_to_budget", None)
        return {} if fit is None else fit(self.max_evaluations, given=self.strategy_config)

    def evaluator_settings(self) -> dict[str, Any]:
        """``evaluator_config`` with the search's own image size and device filled in.

        An evaluator also runs on its own, so its config has ``size``, ``limit`` and
        ``device`` fields; in a search, ``dataset.size``, ``dataset.limit`` and ``device``
        are the ones that count. A differing value in ``evaluator_config`` would be
        overruled without a word, so it is refused instead.

        Returns:
            The evaluator's settings as a dict (the fields its config class has).

        Raises:
            ConfigError: ``evaluator_config`` names a size, limit or device that differs
                from the search's.

        Example:
            >>> SearchConfig(strategy="random", device="cpu").evaluator_settings()["device"]
            'cpu'
        """
        fields = {
            f.name for f in dataclasses.fields(registry.get("evaluator", self.evaluator).config_cls)
        }
        settings = dict(self.evaluator_config)
        searched = {"size": ("dataset.size", self.dataset.size), "device": ("device", self.device)}
        if self.dataset.limit is not None:
            searched["limit"] = ("dataset.limit", self.dataset.limit)
        if self.dataset.augment:  # asked for by the search: the evaluator augments too
            searched["augment"] = ("dataset.augment", True)
        for key, (where, value) in searched.items():
            if key not in fields:
                continue
            given = settings.get(key, value)
            if given != value:
                raise ConfigError(
                    f"evaluator_config {key} {given!r} differs from the search's {where} "
                    f"{value!r}, which is the one a search uses; set {where} instead and "
                    f"remove {key} from evaluator_config."
                )
            settings[key] = value
        return settings

    def _validate_discrete(self, info: Any) -> None:
        from nasbench.spaces import space_from_dict
        from nasbench.spaces.skeleton import skeleton_overrides

        budget = Budget(self.max_evaluations, self.max_seconds)
        fitted = {**self.strategy_config, **self.strategy_budget_changes()}
        strategy_config = registry.make_config("strategy", self.strategy, fitted)
        strategy_config.check_budget(budget.max_evaluations)
        owned = getattr(strategy_config, "OWN_SKELETON_FIELDS", ())
        clash = [k for k in owned if k in skeleton_overrides(self.space)]
        if clash:  # the strategy builds its own network: space.skeleton would be ignored
            raise ConfigError(
                f"strategy {self.strategy!r} builds its network from strategy_config "
                f"{' and '.join(owned)}, not from space.skeleton; move {', '.join(clash)} "
                "to strategy_config."
            )
        # Each value checked on its own first, so a typo is named as one.
        registry.make_config("evaluator", self.evaluator, self.evaluator_config)
        evaluator_config = registry.make_config(
            "evaluator", self.evaluator, self.evaluator_settings()
        )
        skeleton = getattr(evaluator_config, "skeleton", None)
        if skeleton:  # an override of the space's skeleton: check it before the run starts
            override = type(space_from_dict(self.space).default_skeleton()).from_dict(skeleton)
            _refuse_unread_skeleton(override, "discrete", "evaluator_config.skeleton")
            _refuse_unread_macro(self.space.get("name"), override, "evaluator_config.skeleton")
        evaluator_cls = registry.get("evaluator", self.evaluator).cls
        check_given = getattr(evaluator_cls, "check_given", None)
        if check_given is not None:  # settings named in evaluator_config (a score metric)
            check_given(evaluator_config, self.evaluator_config, info)
        check_space = getattr(evaluator_cls, "check_space", None)
        if check_space is not None:  # an evaluator for some spaces only (e.g. "smash")
            check_space(space_from_dict(self.space))
        check_data = getattr(evaluator_cls, "check_data", None)
        if check_data is not None:  # an evaluator for some tasks only (e.g. "proxy")
            check_data(info)
        check_search = getattr(evaluator_cls, "check_search", None)
        if check_search is not None:  # a table: are its results of this data and space?
            check_search(evaluator_config, self.dataset.name, self.space)
        strategy_cls = registry.get("strategy", self.strategy).cls
        if callable(getattr(strategy_cls, "race", None)):
            _check_race(self.strategy, strategy_config, self.evaluator, evaluator_config)
        _check_choice("executor", self.executor, registry.names("executor"))
        self_evaluating = carries_weights(strategy_cls)  # NASH, ENAS, AutoHAS
        if self_evaluating:
            self._refuse_evaluator_a_strategy_replaces()
        if self_evaluating and self.executor != "sequential":
            raise ConfigError(
                f"strategy {self.strategy!r} trains networks it keeps between candidates, so "
                f'it runs with executor "sequential", not {self.executor!r}.'
            )
        if not isinstance(self.executor_config, dict):
            raise ConfigError(
                f"executor_config must be a dict, got {type(self.executor_config).__name__}."
            )
        check_executor_settings(self.executor, self.executor_config)
        if self.executor != "sequential" and self.evaluator != "table":
            # A table's workers read its pickled results, never the dataset.
            _refuse_data_workers_lack(self.dataset.name, self.executor)


def _refuse_data_workers_lack(name: str, executor: str) -> None:
    """Refuse a user folder registered under a name in this process only: the workers of
    a process or Ray executor start with the built-in registry, so each evaluation would
    fail on the unknown name after the run folder was made. A ``folder:<path>`` name
    registers itself in any process."""
    from nasbench.data.registry import FOLDER_PREFIX, get_entry

    entry = get_entry(name)
    if entry.info.source != "folder" or name == "folder" or name.startswith(FOLDER_PREFIX):
        return
    path = getattr(entry.loader, "keywords", {}).get("path")  # register_folder's loader
    instead = ""
    if path:  # absolute: the run's config then names the same folder from any directory
        folder = Path(path).expanduser().resolve()
        instead = f'name it "{FOLDER_PREFIX}{folder}" instead, or '
    raise ConfigError(
        f"dataset {name!r} is registered in this process only, and the {executor} "
        f"executor's workers start without it; {instead}use the sequential executor."
    )


def check_executor_settings(name: str, settings: dict[str, Any]) -> None:
    """Refuse, in one line, a setting the executor ``name`` does not take.

    Args:
        name: a registered executor (``sequential``, ``process``, ``ray``).
        settings: its ``executor_config``.

    Example:
        >>> check_executor_settings("process", {"workers": 2})
        >>> check_executor_settings("process", {"wrkers": 2})
        Traceback (most recent call last):
        ...
        nasbench.errors.ConfigError: executor_config has no setting 'wrkers' for the 'process' executor; its settings: workers. Did you mean 'workers'?
    """  # noqa: E501
    import inspect

    known = tuple(inspect.signature(registry.get("executor", name).obj).parameters)
    for key in settings:
        if key not in known:
            listing = f"its settings: {', '.join(known)}" if known else "it takes none; remove it"
            raise ConfigError(
                f"executor_config has no setting {key!r} for the {name!r} executor; "
                f"{listing}.{closest_name(str(key), known)}"
            )


def _object_without_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose keys are all different: with a key given twice, one of the two
    values would be silently ignored."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ConfigError(
                f"config gives the key {key!r} twice ({out[key]!r} and {value!r}); delete one "
                "of them."
            )
        out[key] = value
    return out


def _refuse_other_kinds_of_name(strategy: str) -> None:
    """A strategy name that is an evaluator's or a space's gets a hint about where it goes,
    not a 'did you mean' to an unrelated strategy whose name is a letter away."""
    if not isinstance(strategy, str) or strategy in registry.names("strategy"):
        return
    if strategy in registry.names("evaluator"):
        raise ConfigError(
            f"{strategy!r} is an evaluator, not a strategy: it scores the candidates of a "
            f'discrete search, e.g. strategy "random" with evaluator "{strategy}".'
        )
    if strategy in registry.names("space"):
        from nasbench.spaces import space_from_dict

        try:
            searched_by = (space_from_dict({"name": strategy}).strategies or ("random",))[0]
        except NasbenchError:  # a space that needs more than its name to build
            searched_by = "darts"
        raise ConfigError(
            f"{strategy!r} is a search space, not a strategy: set space "
            f'{{"name": "{strategy}"}} and a strategy that searches it, e.g. "{searched_by}".'
        )


# What the loop of each kind of search never reads: a discrete search trains candidates with
# its evaluator's settings; METANAS (meta) and MARL-GDAS (multi-agent) run loops of their own.
_NEVER_READ = (
    "w_lr", "w_lr_min", "w_momentum", "w_weight_decay", "grad_clip", "alpha_every",
    "max_alpha_snapshots", "roi_size", "precision",
)  # fmt: skip
_COLLAPSE_WATCH = (
    "eigen_every", "early_stop", "early_stop_window", "early_stop_factor", "early_stop_start",
)  # fmt: skip
IGNORED_BY_KIND = {
    "discrete": (
        "epochs", "max_steps_per_epoch", *_NEVER_READ, *_COLLAPSE_WATCH, "checkpoint_every",
    ),
    "meta": ("max_steps_per_epoch", *_NEVER_READ),
    "multi-agent": (*_NEVER_READ, *_COLLAPSE_WATCH, "checkpoint_every"),
}  # fmt: skip
UNREAD_BECAUSE = {
    "discrete": "trains each candidate with its evaluator (epochs, batch_size, lr in "
    "evaluator_config) and stops at max_evaluations or max_seconds",
    "meta": "takes its training settings from strategy_config",
    "multi-agent": "takes its training settings from strategy_config",
}


# What every run has stored since the first version (later keys may be absent from old
# runs, and take their defaults); a resume refuses a stored config without one of them.
STORED_KEYS = ("strategy", "space", "dataset", "seed", "epochs", "strategy_config")
STORED_DATASET_KEYS = ("name", "size", "batch_size")


def _refuse_unread_skeleton(skeleton: Any, kind: str, where: str = "space.skeleton") -> None:
    """Refuse a skeleton's training-only settings that a search of ``kind`` never reads.

    Candidates train with the DARTS drop-path schedule of their recipe, and a supernet
    has neither drop path nor an auxiliary head, so both would pass without effect.
    """
    changed = []
    if getattr(skeleton, "drop_path_prob", 0.0):
        changed.append(f"{where}.drop_path_prob {skeleton.drop_path_prob!r}")
    if getattr(skeleton, "auxiliary", False) and kind != "discrete":
        changed.append(f"{where}.auxiliary True")
    if changed:
        raise ConfigError(
            f"{' and '.join(changed)} would be ignored: a search's supernet has no drop path "
            "or auxiliary head, and its candidates train with the DARTS drop-path schedule; "
            "remove it, and set drop_path_prob and auxiliary_weight in the retrain recipe "
            "(TrainConfig)."
        )


# Skeleton fields a space's network never reads, and why: a chain network is its layers
# alone (their filters set its widths), and the NAS-Bench networks' stems output
# ``channels`` channels, as the benchmarks' do.
UNREAD_MACRO = {
    "chain": (
        ("n_cells", "channels", "reduction_at", "stem_multiplier"),
        "a chain network is its layers alone, their filters setting its widths",
    ),
    "nb201": (("stem_multiplier",), "its stem outputs `channels` channels, as NAS-Bench-201's"),
    "nb101": (("stem_multiplier",), "its stem outputs `channels` channels, as NAS-Bench-101's"),
}
# The U-Net skeleton's stem fields shape NAS-Unet's stems only; the other U-shaped spaces
# build stems of their own.
_NASUNET_STEM = (("stem_kernel", "stem_convs"), "only the nasunet space's stems read them")
UNREAD_MACRO.update({name: _NASUNET_STEM for name in ("vnas", "trellis", "dints", "c2fnas")})


def _refuse_unread_macro(space_name: Any, skeleton: Any, where: str = "space.skeleton") -> None:
    """Refuse skeleton fields, changed from their defaults, that the space's network
    never reads (they would change nothing without a word)."""
    from nasbench.spaces.skeleton import Skeleton

    names, why = UNREAD_MACRO.get(space_name, ((), ""))
    if not names:
        return
    # Each skeleton class's own defaults: a U-Net skeleton's stem fields are no Skeleton's.
    default = type(skeleton)() if dataclasses.is_dataclass(skeleton) else Skeleton()
    changed = [
        f"{where}.{name} {getattr(skeleton, name)!r}"
        for name in names
        if getattr(skeleton, name, None) != getattr(default, name)
    ]
    if changed:
        raise ConfigError(
            f"{' and '.join(changed)} would be ignored by the {space_name} space: {why}; "
            f"remove {'it' if len(changed) == 1 else 'them'}."
        )


def _as_read_by_discrete(data: dict[str, Any]) -> dict[str, Any]:
    """A stored discrete search's config as this version reads it: without the settings
    no discrete search ever read (an earlier version stored its defaults, e.g.
    ``checkpoint_every`` 1, and accepted changed ones), and without an ``evaluator_config``
    size or limit that differs from the dataset's: every version's evaluator read the
    dataset's (``data_spec``), so dropping them keeps the data the run trained on."""
    try:
        kind = registry.get("strategy", str(data.get("strategy"))).kind
    except NasbenchError:  # validate() names the unknown strategy
        return data
    if kind != "discrete":
        return data
    data = {k: v for k, v in data.items() if k not in IGNORED_BY_KIND[kind]}
    dataset, evaluator = data.get("dataset"), data.get("evaluator_config")
    if isinstance(dataset, dict):
        data["dataset"] = {**dataset, "batch_size": DatasetConfig.batch_size}
        if isinstance(evaluator, dict):
            data["evaluator_config"] = {
                k: v
                for k, v in evaluator.items()
                if k not in ("size", "limit") or dataset.get(k) in (None, v)
            }
    return data


def _changed_fields(config: SearchConfig, names: tuple[str, ...]) -> list[str]:
    """``"name value"`` for each of ``names`` whose value differs from its default."""
    defaults = {f.name: f.default for f in dataclasses.fields(SearchConfig)}
    return [
        f"{name} {getattr(config, name)!r}"
        for name in names
        if getattr(config, name) != defaults[name]
    ]


def _check_race(strategy: str, race: Any, evaluator: str, evaluator_config: Any) -> None:
    """Successive halving and Hyperband race over epochs: the evaluator must have them."""
    if not hasattr(registry.get("evaluator", evaluator).cls, "max_budget"):
        raise ConfigError(
            f'strategy {strategy!r} races over epochs and needs the evaluator "train" or '
            f'"table"; {evaluator!r} scores without an epoch budget.'
        )
    epochs = getattr(evaluator_config, "epochs", None)  # the table's last epoch is checked later
    if evaluator == "train" and race.max_budget > epochs:
        raise ConfigError(
            f"max_budget {race.max_budget} exceeds the train evaluator's epochs {epochs}; "
            "lower max_budget or raise evaluator_config epochs."
        )


def check_task(info: Any, space: Space) -> None:
    """Raise a one-line ConfigError unless the space's networks fit the dataset's task:
    segmentation data needs a segmentation space (a U-Net), detection data the ``alb``
    space, reconstruction data the ``unrolled`` space, classification data a classifier.

    Args:
        info: a :class:`~nasbench.data.DatasetInfo`.
        space: a search space.
    """
    space_task = getattr(space, "task", "classification")
    own_tasks = ("segmentation", "detection", "reconstruction")
    data_task = info.task if info.task in own_tasks else "classification"
    if space_task == data_task:
        return
    if "detection" in (space_task, data_task):
        raise ConfigError(
            f"dataset {info.name} is a {info.task} set and space {space.name!r} builds "
            f"{space_task} networks; detection data (such as synthetic-lesions) goes with "
            'space "alb" and the other way round.'
        )
    if "reconstruction" in (space_task, data_task):
        raise ConfigError(
            f"dataset {info.name} is a {info.task} set and space {space.name!r} builds "
            f'{space_task} networks; reconstruction data goes with space "unrolled" and '
            "the other way round."
        )
    if data_task == "segmentation":
        raise ConfigError(
            f"dataset {info.name} is a segmentation set but space {space.name!r} builds "
            'classifiers; use space "nasunet", "trellis", "vnas" (3D), "dints" (3D) or '
            '"c2fnas" (3D).'
        )
    raise ConfigError(
        f"space {space.name!r} builds segmentation networks but dataset {info.name} is "
        f"{info.task} classification; use a segmentation dataset such as synthetic-seg."
    )


def _check_strategy(space: Space, entry: Any) -> None:
    """A space may limit the strategies that search it, and a strategy the spaces it searches."""
    allowed = getattr(space, "strategies", None)
    if allowed is not None and entry.name not in allowed:
        raise ConfigError(
            f"space {space.name!r} is searched by {', '.join(allowed)}, not {entry.name!r}."
        )
    spaces = getattr(entry.cls, "spaces", None)
    if spaces is not None and space.name not in spaces:
        raise ConfigError(
            f"strategy {entry.name!r} searches the {', '.join(spaces)} space, not "
            f'{space.name!r}; set space["name"] = "{spaces[0]}".'
        )


def _check_supernet(space: Space, entry: Any) -> None:
    """A differentiable search trains a supernet: the space must have one."""
    from nasbench.models.supernet import has_supernet

    if entry.kind in BILEVEL_KINDS and not has_supernet(space):
        raise ConfigError(
            f"space {space.name!r} has no supernet, so {entry.name!r} cannot search it; "
            "search it with a discrete strategy (random, evolution, ...) or pick a DARTS "
            "cell, NAS-Unet or V-NAS space."
        )


def _check_types(config: Any, prefix: str) -> None:
    """Check each field of a config dataclass against its annotation (int, float, bool, str,
    dict, optionally None), and that every number, nested ones too, is finite."""
    _store_plain_numbers(config)  # numpy numbers set since construction
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        allowed = [part.strip() for part in str(f.type).split("|")]
        if value is None and "None" in allowed:
            continue
        takes_auto = f.name in _AUTO_FIELDS
        if takes_auto and value == AUTO:
            continue
        kind = allowed[0].split("[")[0]
        checker = _TYPE_CHECKS.get(kind)
        if checker is None or checker(value):
            if isinstance(value, dict):
                _check_finite_numbers(value, prefix + f.name)
            if kind == "int" and abs(value) >= MAX_INT:
                # Seeds are mixed into 64-bit generator seeds and counts are multiplied
                # (epochs x steps) into the run store's 64-bit integers.
                raise ConfigError(
                    f"{prefix}{f.name} {value} is too large; use a number below 2**31 ({MAX_INT})."
                )
            continue
        optional = " (or null)" if "None" in allowed else ""
        optional += f' or "{AUTO}"' if takes_auto else ""
        raise ConfigError(
            f"{prefix}{f.name} must be {_TYPE_NAMES[kind]}{optional}, got {value!r}; "
            f"fix it in the config."
        )


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


# Fields that take the text "auto" beside the type their annotation names first.
_AUTO_FIELDS = ("checkpoint_every",)

_TYPE_CHECKS = {
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "float": _is_number,
    "bool": lambda v: isinstance(v, bool),
    "str": lambda v: isinstance(v, str),
    "dict": lambda v: isinstance(v, dict),
}
_TYPE_NAMES = {
    "int": "an integer",
    "float": "a finite number",
    "bool": "true or false",
    "str": "text",
    "dict": "a JSON object",
}


def _check_finite_numbers(value: Any, where: str) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{where} is {value}; every number must be finite, so write a number.")
    if isinstance(value, dict):
        for key, item in value.items():
            _check_finite_numbers(item, f"{where}.{key}")
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _check_finite_numbers(item, f"{where}[{index}]")


def _reject_unknown(data: dict[str, Any], cls: type, what: str) -> None:
    known = [f.name for f in dataclasses.fields(cls)]
    for key in data:
        if key not in known:
            hint = closest_name(key, known)
            raise ConfigError(f"unknown {what} key {key!r}; use one of {', '.join(known)}.{hint}")


def _check_positive(name: str, value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(f"{name} must be a positive integer, got {value!r}.")


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {value!r}.")

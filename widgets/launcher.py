"""Launch a search: strategy, its hyperparameter form, budget, device, seed; Run/Stop/Resume.

Run writes the :class:`~nasbench.config.SearchConfig` as JSON into a new run
folder ``<runs>/<name>-<time>`` and starts ``python -m nasbench search`` as a
subprocess (stdout and stderr go to ``stdout.log`` / ``stderr.log`` there), so
the kernel stays free and a crash of the search cannot take the notebook down.
Stop writes a stop request into the run store; Resume starts ``python -m
nasbench resume`` on the run folder. Both pass ``--import`` for the modules that register
the strategy, space, ops or dataset a run uses outside nasbench, so the subprocess finds
them; a name registered by the notebook itself (``__main__``) cannot be imported by another
process, so such a strategy is not offered and a config naming one is refused.
"""

from __future__ import annotations

import errno
import html
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import traitlets

from nasbench.config import IGNORED_BY_KIND, DatasetConfig, SearchConfig, default_space
from nasbench.errors import ConfigError, NasbenchError
from nasbench.runs import launched
from nasbench.runs.launched import (  # the folder's files, named where the CLI reads them
    CONFIG_NAME,
    PROC,
    PROCESS_NAME,  # noqa: F401 - code and tests name it from here
    STDERR_NAME,
    STDOUT_NAME,
    process_start,
    record_process,
)
from nasbench.runs.schema import DB_NAME
from nasbench.runs.store import run_folder
from widgets._layout import wrapping_row
from widgets._number_box import NumberBox
from widgets._svg import message_html
from widgets._tasks import Debouncer, Poller
from widgets.forms import ConfigForm

# Seconds between looks at the search process (Run comes back this soon after it exits).
PROCESS_WATCH_S = 0.5
# Quiet seconds after an edit of the form or budget before Run is checked again: a
# check validates the whole config (a few ms), once per burst of typing, not per key.
RECHECK_S = 0.25
_PROC = PROC  # where _process_start reads process starts (a test points it elsewhere)
# Strategy kinds a search runs, in the order the dropdown lists them.
RUNNABLE_KINDS = (
    "differentiable",
    "self-supervised",
    "topology",
    "discrete",
    "meta",
    "multi-agent",
)
# Evaluator settings the launcher's own controls hold for the whole search.
SEARCH_OWNED_FIELDS = ("size", "limit", "device")
# METANAS and MARL-GDAS run a fixed count of meta-steps or rounds: no time budget.
FIXED_LENGTH_KINDS = ("meta", "multi-agent")
# Why a run folder cannot be made where "pass another runs_folder" is the fix: no rights,
# a file in the way, a read-only disk, a place no folder can be made in (/proc); not a
# full disk or a machine out of memory, which another folder would not cure.
RUNS_FOLDER_ERRNOS = (errno.EACCES, errno.EPERM, errno.ENOTDIR, errno.EROFS, errno.ENOENT)


def available_devices() -> list[str]:
    """``auto`` and ``cpu``, plus ``cuda`` when torch sees a GPU.

    Example:
        >>> available_devices()[:2]
        ['auto', 'cpu']
    """
    import torch

    return ["auto", "cpu", *(["cuda"] if torch.cuda.is_available() else [])]


def runnable_strategies() -> list[str]:
    """Registered strategies a search can run: differentiable first, then the topology
    search (DiNTS), then the discrete ones, then the meta-learning ones (METANAS), then
    the multi-agent landmark search (MARL-GDAS).

    Example:
        >>> "darts" in runnable_strategies()
        True
    """
    from nasbench.strategies import strategy_names

    names = [name for kind in RUNNABLE_KINDS for name in strategy_names(kind)]
    return [name for name in names if name not in notebook_strategies()]


def notebook_strategies() -> list[str]:
    """Strategies the notebook registered itself (in ``__main__``): a search subprocess
    cannot import them, so the launcher does not offer them.

    Example:
        >>> notebook_strategies()
        []
    """
    from nasbench import registry

    return [e.name for e in registry.entries("strategy") if _module_of(e.obj) == "__main__"]


def _module_of(obj: Any) -> str | None:
    module = getattr(obj, "__module__", None)
    return module if isinstance(module, str) else None


def subprocess_imports(config: SearchConfig) -> tuple[SearchConfig, list[str]]:
    """What a search subprocess needs to find the user's code ``config`` uses.

    Args:
        config: a validated search.

    Returns:
        ``(config, options)``: the config with each op set of the user's written out as
        its op list (a set records no module the subprocess could import), and the
        ``--import`` options of the modules that register the rest.

    Raises:
        ConfigError: a name the notebook registered itself (``__main__``), in one line.

    Example:
        >>> subprocess_imports(SearchConfig())[1]
        []
    """
    from nasbench.engine.run_setup import space_ops, user_code

    code = user_code(config)
    space = dict(config.space)
    for item in code["names"]:
        kind, name, module = item["kind"], item["name"], item["module"]
        if kind == "op set":
            ops = space_ops(space)
            for key, value in space.items():
                if value == name and (key == "ops" or key.endswith("_ops")):
                    space[key] = ops[key[: -len("_ops")]] if isinstance(ops, dict) else ops
        elif module == "__main__" or module not in sys.modules:
            raise ConfigError(
                f"{kind} '{name}' is registered in this notebook, and the search runs in "
                "another process that cannot import it; move the registration into a .py "
                "module, import that module here, and run again."
            )
    modules = [m for m in code["modules"] if m in sys.modules and m != "__main__"]
    options = [word for module in modules for word in ("--import", module)]
    return replace(config, space=space), options


def _import_folder(module: str) -> str | None:
    """The folder ``module`` was imported from: on the subprocess's path, it imports
    there too (a notebook that put it on ``sys.path`` itself)."""
    top = sys.modules.get(module.split(".")[0])
    paths = list(getattr(top, "__path__", []) or [])  # a package: its folder
    if paths:
        return str(Path(paths[0]).resolve().parent)
    file = getattr(top, "__file__", None)
    return str(Path(file).resolve().parent) if file else None


def search_env(folders: Sequence[str] = ()) -> dict[str, str]:
    """The environment of a search subprocess.

    Passive OpenMP waiting keeps a search from starving the kernel (and other
    searches) of CPU; the folder holding ``nasbench`` goes on ``PYTHONPATH`` so the
    subprocess imports the same code as the kernel, installed or not, and so do
    ``folders`` (those of the user's modules it imports).
    """
    import nasbench

    env = dict(os.environ)
    env["OMP_WAIT_POLICY"] = "PASSIVE"
    package_parent = str(Path(nasbench.__file__).resolve().parents[1])
    pythonpath = filter(None, env.get("PYTHONPATH", "").split(os.pathsep))
    paths = [package_parent, *folders, *pythonpath]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _process_start(pid: int) -> str | None:
    """:func:`nasbench.runs.launched.process_start` from :data:`_PROC`."""
    return process_start(pid, _PROC)


def dead_search_process(run_dir: str | os.PathLike) -> int | None:
    """The pid of the search process recorded for ``run_dir`` (:func:`record_process`)
    when that process no longer runs: :func:`nasbench.runs.launched.dead_search_process`,
    which ``nasbench runs`` uses too, reading process starts with :func:`_process_start`.

    Args:
        run_dir: a run folder.

    Returns:
        The pid, or None while the process runs or where that cannot be told.

    Example:
        >>> dead_search_process("runs/darts-1")  # doctest: +SKIP
        4242
    """
    return launched.dead_search_process(run_dir, _process_start)


def start_process(args: list[str], run_dir: Path) -> subprocess.Popen:
    """Start ``python -m nasbench <args>`` with its output appended to the run folder's logs.

    The folders this kernel imported the ``--import`` modules of ``args`` from go on the
    subprocess's ``PYTHONPATH``, so a module the notebook found through ``sys.path`` is
    found there too.

    Args:
        args: the CLI arguments after ``nasbench``.
        run_dir: the run folder (holds stdout.log and stderr.log).

    Returns:
        The process (in its own session, so a kernel interrupt does not reach it),
        recorded in the folder (:func:`record_process`).
    """
    modules = [m for flag, m in zip(args, args[1:], strict=False) if flag == "--import"]
    folders = [f for m in modules if m in sys.modules and (f := _import_folder(m))]
    run_dir.mkdir(parents=True, exist_ok=True)
    with open(run_dir / STDOUT_NAME, "ab") as out, open(run_dir / STDERR_NAME, "ab") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "nasbench", *args],
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            env=search_env(folders),
            start_new_session=True,
        )
    try:
        record_process(process, run_dir)
    except OSError:
        # Unrecorded, no view could find or stop it, and Run removes the folder it writes.
        process.kill()
        process.wait()
        raise
    return process


RUN_NAME_MAX = 100  # characters: the folder name adds a time stamp, and file systems cap it
RUN_NAME = re.compile(rf"[A-Za-z0-9_][A-Za-z0-9._-]{{0,{RUN_NAME_MAX - 1}}}")


def run_name_problem(name: str) -> str:
    """Why ``name`` cannot name a run folder (a one-line reason), or "".

    Example:
        >>> run_name_problem("x" * 101)
        'run name is 101 characters long; shorten it to at most 100.'
    """
    if len(name) > RUN_NAME_MAX:
        return f"run name is {len(name)} characters long; shorten it to at most {RUN_NAME_MAX}."
    if not RUN_NAME.fullmatch(name):
        # The name becomes a folder name: '../x' or '/tmp/x' would write outside runs_folder.
        return (
            f"run name {name!r} may hold only ASCII letters (a-z, A-Z), digits, '.', '_' "
            "and '-' (not starting with '.' or '-'); rename it."
        )
    return ""


def new_run_dir(folder: Path, name: str) -> Path:
    """A fresh folder ``<folder>/<name>-<YYYYmmdd-HHMMSS>`` (suffixed when taken)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = folder / f"{name}-{stamp}"
    candidate, k = base, 1
    while candidate.exists():
        k += 1
        candidate = base.with_name(f"{base.name}-{k}")
    return candidate


# The config's words for "none" and where to fix a value, and the form's (0 in a box
# means no limit; the fix is in the form, not a config file).
_FORM_WORDS = (
    ("; fix it in the config.", "."),
    (" (or null)", ""),
    ("use null for no limit", "use 0 for no limit"),
)


def _as_a_word(name: str) -> str:
    """A pattern of ``name`` (itself a pattern) where it stands as a word of the message's
    prose, not inside a path or a quoted value (``/data/max_seconds/x``, ``'max_seconds'``):
    after a space or "(" and before a space, punctuation or the end.

    Example:
        >>> re.sub(_as_a_word("max_seconds"), "X", "max_seconds. /a/max_seconds/b (max_seconds)")
        'X. /a/max_seconds/b (X)'
    """
    return rf"(?<![^\s(]){name}(?=[\s,;:)]|\.(?:\s|$)|$)"


class SearchLauncher(widgets.VBox):
    """Configure and start searches.

    Args:
        runs_folder: where run folders are created (a leading ``~`` is the home folder).
        dataset: the ``dataset`` part of the config (a registry name, a dict or a
            DatasetConfig); see :meth:`set_dataset`.
        space_config: a space dict (``space.to_dict()``); the quickstart space when None.

    Attributes:
        run_dir: the folder of the last run started (a traitlet; "" before the first).
        launches: counts Run and Resume starts (observe it to follow every new process).
        ends: counts the ends of those processes, once each (observe it to follow a search
            that ends while another run is shown).
        process: the last search subprocess (or None).

    Example:
        >>> launcher = SearchLauncher("runs")
        >>> launcher.strategy.value = "gdas"
        >>> launcher.build_config().strategy
        'gdas'
    """

    run_dir = traitlets.Unicode("")
    launches = traitlets.Int(0)
    ends = traitlets.Int(0)

    def __init__(
        self,
        runs_folder: str | os.PathLike = "runs",
        dataset: str | dict[str, Any] | DatasetConfig | None = None,
        space_config: dict[str, Any] | None = None,
    ) -> None:
        if not isinstance(runs_folder, (str, os.PathLike)):
            raise ConfigError(
                f'runs_folder must be a folder, got {runs_folder!r}; pass e.g. runs_folder="runs".'
            )
        self.runs_folder = run_folder(runs_folder)  # "~/runs": the home folder's
        self.dataset = DatasetConfig()
        self.space_config: dict[str, Any] = dict(space_config or default_space())
        self.space_error = ""
        self.process: subprocess.Popen | None = None
        # The folder self.process writes: run_dir may name a run adopted since it exited.
        self._process_dir = ""
        self._ended: subprocess.Popen | None = None  # the process ``ends`` last counted
        # Stop pressed while the search still loads (no run store to write the request to):
        # written by check_process as soon as the store opens.
        self._stop_pending = False
        # Stop pressed for the running process: Run and Resume say it is stopping.
        self._stop_requested = False
        # Watches the search process on the kernel loop: Run comes back however it ends.
        self._process_watch = Poller(self.check_process, PROCESS_WATCH_S)
        style = {"description_width": "160px"}
        self.strategy = widgets.Dropdown(
            options=runnable_strategies(), value="darts", description="strategy", style=style
        )
        self.strategy.add_class("nasbench-strategy")
        self.form_box = widgets.VBox()
        self.form: ConfigForm = ConfigForm(self._config_cls())
        self._typed: dict[str, Any] = {}  # strategy settings typed, kept across strategies
        self._carried: list[str] = []  # the typed settings the current form took
        self.form_box.children = [self.form]
        # Number boxes check their range when read: an ipywidgets int box would edit what
        # was typed (1e9 -> 19) and a bounded one clamp it, both without a word.
        self.epochs = NumberBox(2, min=1, max=10_000, whole=True, description="epochs",
                                style=style)  # fmt: skip
        self.max_steps = NumberBox(
            0, min=0, max=10**9, whole=True, description="max steps / epoch", style=style,
            tooltip="0: the whole search half each epoch",
        )  # fmt: skip
        self.limit = NumberBox(
            0, min=0, max=10**9, whole=True, description="image limit", style=style,
            tooltip="stratified subsample of the training split; 0: all images",
        )  # fmt: skip
        self.batch_size = NumberBox(
            16, min=1, max=4096, whole=True, description="batch size", style=style
        )
        self.device = widgets.Dropdown(
            options=available_devices(), value="auto", description="device", style=style
        )
        self.seed = NumberBox(0, min=0, max=2**31 - 1, whole=True, description="seed",
                              style=style)  # fmt: skip
        # Discrete strategies: the evaluator (an evaluation strategy of its own), the
        # budget in evaluations and wall time, and where the evaluations run.
        from nasbench.evaluation import evaluator_names
        from nasbench.strategies.discrete import EXECUTORS

        self.evaluator = widgets.Dropdown(
            options=list(evaluator_names()), value="train", description="evaluator", style=style
        )
        self.evaluator.add_class("nasbench-evaluator")
        self.evaluator_form_box = widgets.VBox()
        self.evaluator_form: ConfigForm = self._evaluator_form()
        self.evaluator_form_box.children = [self.evaluator_form]
        self.max_evaluations = NumberBox(
            100, min=0, max=10**9, whole=True, description="max evaluations", style=style,
            tooltip="evaluator calls allowed (cache hits are free); 0: no limit (then set "
            "max seconds)",
        )  # fmt: skip
        self.max_seconds = NumberBox(
            0.0, min=0.0, max=1e9, description="max seconds", style=style,
            tooltip="wall time allowed (a differentiable search fits its epochs to it after "
            "probing a few steps); 0: no limit",
        )  # fmt: skip
        self.executor = widgets.Dropdown(
            options=list(EXECUTORS), value="sequential", description="executor", style=style
        )
        self.workers = NumberBox(
            2, min=1, max=1024, whole=True, description="workers", style=style,
            tooltip="processes (or Ray CPUs) evaluating at once",
        )  # fmt: skip
        self.bilevel_budget = widgets.VBox([self.epochs, self.max_steps])
        self.discrete_budget = widgets.VBox(
            [
                self.evaluator,
                self.evaluator_form_box,
                self.max_evaluations,
                self.executor,
                self.workers,
            ]
        )
        self.run_name = widgets.Text(value="", placeholder="strategy name",
                                     description="run name", style=style)  # fmt: skip
        self.run_button = widgets.Button(description="Run", icon="play", button_style="success")
        self.run_button.add_class("nasbench-run")
        self.stop_button = widgets.Button(description="Stop", icon="stop", button_style="danger",
                                          disabled=True)  # fmt: skip
        self.stop_button.add_class("nasbench-stop")
        self.resume_button = widgets.Button(description="Resume", icon="repeat", disabled=True)
        self.resume_button.add_class("nasbench-resume")
        self.summary = widgets.HTML()
        self.summary.add_class("nasbench-launcher-summary")
        self.message = widgets.HTML()
        self.message.add_class("nasbench-launcher-message")
        # Why Run is disabled, also at the top: a long strategy form pushes the message
        # under Run below the fold, and the edit that disabled Run was made up here.
        self.blocker_note = widgets.HTML()
        self.blocker_note.add_class("nasbench-launcher-blocker")

        # Run follows every edit that can make the config valid or invalid, not only a
        # strategy, dataset or space change.
        self._recheck = Debouncer(self._check_run, RECHECK_S)
        # The error _check_run showed last, and the "cannot resume" refusal: each is
        # cleared once what it names is resolved, any other message is left alone.
        self._shown_blocker = ""
        self._refusal = ""
        self.strategy.observe(self._on_strategy, "value")
        self.evaluator.observe(self._on_evaluator, "value")
        self.executor.observe(lambda _: self._show_budget(), "value")
        self._watch([self.epochs, self.max_steps, self.limit, self.batch_size, self.device])
        self._watch([self.seed, self.max_evaluations, self.max_seconds, self.executor])
        self._watch([self.workers, self.run_name, *self.form.controls.values()])
        self._watch(self.evaluator_form.controls.values())
        self.run_button.on_click(lambda _: self.run())
        self.stop_button.on_click(lambda _: self.stop())
        self.resume_button.on_click(lambda _: self.resume())
        super().__init__(
            children=[
                self.summary,
                self.strategy,
                self.blocker_note,
                widgets.HTML("<b>strategy hyperparameters</b>"),
                self.form_box,
                widgets.HTML("<b>budget</b>"),
                self.bilevel_budget,
                self.discrete_budget,
                self.max_seconds,  # every kind of search but meta and multi-agent
                self.limit,
                self.batch_size,
                self.device,
                self.seed,
                self.run_name,
                wrapping_row([self.run_button, self.stop_button, self.resume_button]),
                self.message,
            ]
        )
        self.add_class("nasbench-launcher")
        if dataset is not None:
            self.set_dataset(dataset)
        self._show_budget()
        self._refresh_summary()

    # ----------------------------------------------------------------- inputs
    def _config_cls(self) -> type:
        from nasbench.strategies import get_strategy

        return get_strategy(self.strategy.value).config_cls

    def _evaluator_config_cls(self) -> type:
        from nasbench.evaluation import get_evaluator

        return get_evaluator(self.evaluator.value).config_cls

    def _evaluator_form(self) -> ConfigForm:
        # The picked dataset's size, and the limit and device controls above, are the
        # ones a search uses (SearchConfig.evaluator_settings), so the form leaves out
        # the evaluator's own fields for them.
        return ConfigForm(self._evaluator_config_cls(), exclude=SEARCH_OWNED_FIELDS)

    @property
    def kind(self) -> str:
        """The chosen strategy's kind (``differentiable``, ``discrete``, ``meta``, ...)."""
        from nasbench.strategies import get_strategy

        return get_strategy(self.strategy.value).kind

    @property
    def discrete(self) -> bool:
        """True when the chosen strategy is discrete (ask/tell with an evaluator)."""
        return self.kind == "discrete"

    def _reads(self, setting: str) -> bool:
        """Whether the chosen kind of search reads this SearchConfig setting: the config
        refuses a changed one it would ignore (``IGNORED_BY_KIND``), so the form neither
        shows nor sends it."""
        if setting == "batch_size":  # refused changed for every kind listed there
            return self.kind not in IGNORED_BY_KIND
        if setting == "max_seconds":
            return self.kind not in FIXED_LENGTH_KINDS
        return setting not in IGNORED_BY_KIND.get(self.kind, ())

    @property
    def self_evaluating(self) -> bool:
        """True when the chosen strategy scores its candidates itself (NASH, ENAS,
        AutoHAS: networks kept between candidates), so no evaluator applies."""
        from nasbench.protocols import carries_weights
        from nasbench.strategies import get_strategy

        return carries_weights(get_strategy(self.strategy.value).cls)

    def _on_strategy(self, _: Any) -> None:
        # What was typed into any strategy's form so far (a field set back to its default
        # no longer counts): a strategy with a field of that name starts from it, so
        # darts -> metanas -> darts keeps arch_lr.
        edited = self.form.edited()
        for name in self._carried:  # carried here, then set back to its default
            if name not in edited:
                self._typed.pop(name, None)
        self._typed.update(edited)
        self.form = ConfigForm(self._config_cls())
        # Only what this form took counts as seen: a field of the same name and another
        # kind (AutoHAS's lr choices against REINFORCE's lr) leaves the typed value alone.
        self._carried = self.form.carry(self._typed)
        self.form_box.children = [self.form]
        self._watch(self.form.controls.values())
        self._show_budget()
        self._refresh_summary()

    def _on_evaluator(self, _: Any) -> None:
        self.evaluator_form = self._evaluator_form()
        self.evaluator_form_box.children = [self.evaluator_form]
        self._watch(self.evaluator_form.controls.values())
        self._recheck()

    def _watch(self, controls: Any) -> None:
        for control in controls:
            control.observe(lambda _: self._recheck(), "value")

    def _check_run(self) -> None:
        """Enable Run and say why not after an edit of the form or the budget.

        An edit that clears the error shown replaces it (with the note on unlisted
        strategies); one that changes nothing keeps a message of another kind (the
        started run, how the last process ended).
        """
        if self.comm is None:
            return  # closed while the check waited for its quiet time
        blocker = self._blocker()
        self.run_button.disabled = bool(blocker) or self.running
        if blocker:
            self.message.value = message_html(blocker, "error")
        elif self.message.value == self._shown_blocker:
            self.message.value = self._unlisted()
        self._show_blocker(blocker)

    def _show_blocker(self, blocker: str) -> None:
        """Remember the blocker shown under Run (an edit that clears it clears the message),
        and show it at the top of the form too."""
        self._shown_blocker = message_html(blocker, "error") if blocker else ""
        self.blocker_note.value = (
            message_html(f"Run is disabled: {blocker}", "error") if blocker else ""
        )

    def _show_budget(self) -> None:
        """Epochs and steps for a bilevel search; evaluator, evaluations, executor for a
        discrete one (workers only when the executor has more than one)."""
        discrete = self.discrete
        self.bilevel_budget.layout.display = "none" if discrete else None
        # A discrete search's candidates train in the evaluator's batches (its form);
        # METANAS and MARL-GDAS take their batches and steps from their own form, and run
        # a fixed count of meta-steps or rounds. Hidden values are kept, not sent.
        shown = {
            self.epochs: "epochs",
            self.max_steps: "max_steps_per_epoch",
            self.batch_size: "batch_size",
            self.max_seconds: "max_seconds",
        }
        for control, setting in shown.items():
            control.layout.display = None if self._reads(setting) else "none"
        self.discrete_budget.layout.display = None if discrete else "none"
        # NASH, ENAS and AutoHAS train and score their own candidates: no evaluator to pick.
        own = "none" if discrete and self.self_evaluating else None
        self.evaluator.layout.display = self.evaluator_form_box.layout.display = own
        parallel = self.executor.value != "sequential"
        self.workers.layout.display = None if parallel else "none"

    def set_dataset(self, dataset: str | dict[str, Any] | DatasetConfig) -> None:
        """Search this dataset: a registry name, a DatasetConfig or its dict (name, size, ...).

        Args:
            dataset: e.g. ``"breastmnist"`` or ``{"name": "breastmnist", "size": 64}``; a
                dict without ``batch_size`` leaves the batch size box as it is.

        Raises:
            ConfigError: a dict key DatasetConfig does not have (with the closest one), or
                a value that is none of the three.

        Example:
            >>> launcher = SearchLauncher("runs")
            >>> launcher.set_dataset("breastmnist")
            >>> launcher.dataset.name, launcher.dataset.size
            ('breastmnist', 28)
        """
        given_dict = dataset if isinstance(dataset, dict) else None
        if isinstance(dataset, (str, dict)):
            # Read as a search config reads its dataset: a name, or a dict whose misspelt
            # key is refused with the closest field (a search run later would refuse it).
            dataset = SearchConfig(dataset=dataset).dataset
        if not isinstance(dataset, DatasetConfig):
            raise ConfigError(
                f"dataset must be a registry name, a dict or a DatasetConfig, got {dataset!r}; "
                'pass e.g. dataset="synthetic".'
            )
        self.dataset = dataset
        if given_dict is None or "batch_size" in given_dict:
            self.batch_size.value = dataset.batch_size if dataset.batch_size else 16
        if dataset.limit:
            self.limit.value = dataset.limit
        self._refresh_summary()

    def set_space(self, space_config: dict[str, Any], valid: bool = True, error: str = "") -> None:
        """Search this space; an invalid one disables Run and shows ``error``.

        Args:
            space_config: ``space.to_dict()`` of the space.
            valid: False when the space builder rejects the current choices.
            error: the builder's message.
        """
        self.space_config = dict(space_config)
        self.space_error = "" if valid else (error or "the search space is not valid.")
        self._refresh_summary()

    def _blocker(self) -> str:
        """Why Run is not possible now ('' when it is): the builder's complaint, or the
        config's one-line error (a space the strategy cannot search, a bad value)."""
        if self.space_error:
            return f"search space: {self.space_error}"
        classless = _classless(self.dataset.name)
        if classless:
            return classless
        try:
            subprocess_imports(self.build_config())
        except NasbenchError as err:
            return self._in_form_words(str(err))
        return run_name_problem(self.run_name.value.strip()) if self.run_name.value.strip() else ""

    def _in_form_words(self, message: str) -> str:
        """``message`` (the config's one line) with the settings named as this form shows
        them: the config speaks of a config file (``max_seconds``, ``DartsConfig.arch_lr``,
        "use null"), while the person at the form sees labels and boxes where 0 means none.

        Example:
            >>> launcher = SearchLauncher("runs")
            >>> launcher._in_form_words("a budget needs max_evaluations or max_seconds.")
            "a budget needs 'max evaluations' or 'max seconds'."
        """
        # A quoted value (a dataset path, a name) is the person's own text: left as it is.
        parts = re.split(r"((?<!\w)'[^']*'(?!\w))", message)
        return "".join(
            part if index % 2 else self._form_words(part) for index, part in enumerate(parts)
        )

    def _form_words(self, message: str) -> str:
        """:meth:`_in_form_words` of a part of a message outside quotes."""
        # Settings whose label differs from their name (epochs and seed read the same).
        labels = {
            "max_evaluations": self.max_evaluations,
            "max_seconds": self.max_seconds,
            "max_steps_per_epoch": self.max_steps,
            "dataset.batch_size": self.batch_size,
            "dataset.limit": self.limit,
        }
        for setting, control in labels.items():
            message = re.sub(_as_a_word(setting), f"'{control.description}'", message)
        # The strategy's and the evaluator's forms label each field by its name.
        message = re.sub(rf"(?<![\w.]){self._config_cls().__name__}\.(\w+)", r"'\1'", message)
        if self.discrete and not self.self_evaluating:
            evaluator = self._evaluator_config_cls().__name__
            message = re.sub(rf"(?<![\w.]){evaluator}\.(\w+)", r"evaluator '\1'", message)
        # Fields of the strategy's own form, then the form itself; and the space the Space
        # tab picks.
        for field in self.form.controls:
            message = re.sub(_as_a_word(f"strategy_config[. ]{field}"), f"'{field}'", message)
        message = re.sub(r"(?<![^\s(])strategy_config's", "the strategy hyperparameters'", message)
        message = re.sub(_as_a_word("strategy_config"), "the strategy hyperparameters", message)
        message = re.sub(r'set space\["name"\] = "(\w+)"', r"pick the '\1' space", message)
        for config_words, form_words in _FORM_WORDS:
            message = message.replace(config_words, form_words)
        return message

    def _refresh_summary(self) -> None:
        space = self._searched_space()
        skeleton = space.get("skeleton", {})
        details = [
            f"ops {space['ops']}" if "ops" in space else "",
            f"{space['n_nodes']} nodes" if "n_nodes" in space else "",
            f"{space['num_layers']} layers" if "num_layers" in space else "",
            f"{space['num_cells']} cells" if "num_cells" in space else "",
            f"{space['n_vertices']} vertices" if "n_vertices" in space else "",
            f"{skeleton['n_cells']} cells" if "n_cells" in skeleton else "",
            f"C={skeleton['channels']}" if "channels" in skeleton else "",
        ]
        # Names come from people (a folder dataset is named after its folder): text, not HTML.
        self.summary.value = " · ".join(
            [
                f"<b>dataset</b>: {html.escape(f'{self.dataset.name} ({self.dataset.size}px)')}",
                f"<b>space</b>: {html.escape(str(space.get('name')))}",
                *map(html.escape, filter(None, details)),
            ]
        )
        blocker = self._blocker()
        self.run_button.disabled = bool(blocker) or self.running
        self.message.value = message_html(blocker, "error") if blocker else self._unlisted()
        self._show_blocker(blocker)

    def _unlisted(self) -> str:
        """Why a strategy the notebook registered is not in the list ('' when none is)."""
        names = ", ".join(notebook_strategies())
        if not names:
            return ""
        return message_html(
            f"not offered: {names} (registered in this notebook, which the search process "
            "cannot import; move the registration into a .py module and import it here).",
            "info",
        )

    # ----------------------------------------------------------------- config
    def build_config(self) -> SearchConfig:
        """The validated SearchConfig the controls describe.

        Raises:
            NasbenchError: a value is out of range, or a ``folder:`` dataset's folder is
                gone (one line naming it).
        """
        discrete = self.discrete
        _check_folder(self.dataset.name)
        # A setting this kind of search never reads (the config refuses it changed) keeps
        # its default, whatever its hidden control holds.
        batch = self.batch_size.read() if self._reads("batch_size") else DatasetConfig.batch_size
        dataset = DatasetConfig(
            **{**self.dataset.__dict__, "batch_size": batch, "limit": self.limit.read() or None}
        )
        config = SearchConfig(
            dataset=dataset,
            space=self._searched_space(),
            strategy=self.strategy.value,
            strategy_config=self.form.values(),
            device=self.device.value,
            seed=self.seed.read(),
            max_seconds=(self.max_seconds.read() or None) if self._reads("max_seconds") else None,
        )
        if self._reads("epochs"):
            config.epochs = self.epochs.read()
        if self._reads("max_steps_per_epoch"):
            config.max_steps_per_epoch = self.max_steps.read() or None
        if discrete and not self.self_evaluating:  # the others refuse an evaluator
            config.evaluator = self.evaluator.value
            config.evaluator_config = self.evaluator_form.values()
        if discrete:
            config.max_evaluations = self.max_evaluations.read() or None
            config.executor = self.executor.value
            parallel = self.executor.value != "sequential"
            key = "num_cpus" if self.executor.value == "ray" else "workers"
            config.executor_config = {key: self.workers.read()} if parallel else {}
        return config.validate()

    def _searched_space(self) -> dict[str, Any]:
        """The space as the chosen strategy searches it: without the skeleton settings a
        strategy builds from its own form (AutoHAS's cells and channels), which the Space
        tab always sends and the config refuses as ignored."""
        owned = getattr(self._config_cls(), "OWN_SKELETON_FIELDS", ())
        space = dict(self.space_config)
        skeleton = space.get("skeleton")
        if owned and isinstance(skeleton, dict):
            kept = {k: v for k, v in skeleton.items() if k not in owned}
            space = {k: v for k, v in space.items() if k != "skeleton"}
            if kept:
                space["skeleton"] = kept
        return space

    # ---------------------------------------------------------------- actions
    @property
    def running(self) -> bool:
        """True while the last search subprocess is alive."""
        return self.process is not None and self.process.poll() is None

    def run(self) -> Path | None:
        """Write the config into a new run folder and start the search subprocess.

        Returns:
            The run folder, or None when the inputs are invalid (the message says why).
        """
        blocker = self._blocker()
        if blocker:
            self.message.value = message_html(blocker, "error")
            return None
        if self.running:
            busy = (
                "the search is still stopping (it saves a checkpoint first); Run once it has "
                "stopped."
                if self._stop_requested
                else "a search is already running; stop it first."
            )
            self.message.value = message_html(busy)
            return None
        try:
            config, imports = subprocess_imports(self.build_config())
        except NasbenchError as err:
            self.message.value = message_html(str(err), "error")
            return None
        name = self.run_name.value.strip() or config.strategy
        problem = run_name_problem(name)
        if problem:
            self.message.value = message_html(problem, "error")
            return None
        made = False  # whether this click made run_dir: only then is it removed on failure
        try:
            run_dir = new_run_dir(self.runs_folder, name)
            run_dir.mkdir(parents=True)
            made = True
            tmp = run_dir / f".{CONFIG_NAME}.tmp"
            config.save(tmp)
            os.replace(tmp, run_dir / CONFIG_NAME)
            self.process = start_process(
                [*imports, "search", "--config", str(run_dir / CONFIG_NAME), "--run-dir",
                 str(run_dir)],
                run_dir,
            )  # fmt: skip
        except (NasbenchError, OSError) as err:
            if made:  # no search runs in it: a folder left would be listed as starting forever
                shutil.rmtree(run_dir, ignore_errors=True)
            self.message.value = message_html(self._start_failure(err), "error")
            return None
        self._process_dir = str(run_dir)
        self.message.value = message_html(f"started {run_dir} (pid {self.process.pid})", "info")
        self.stop_button.disabled = False
        self.resume_button.disabled = True
        self.run_button.disabled = True
        self.run_dir = str(run_dir)
        self.launches += 1
        self._stop_pending = self._stop_requested = False
        self._process_watch.start()
        return run_dir

    def _start_failure(self, err: NasbenchError | OSError) -> str:
        """The one line a Run that could not start shows: why, and the runs_folder advice
        only where another folder is the fix (no rights, a file in the way, read-only)."""
        reason = str(err) if isinstance(err, NasbenchError) else (err.strerror or str(err))
        where = f" ({err.filename})" if getattr(err, "filename", None) else ""
        said = f"cannot start a run in {self.runs_folder}{where}: {reason}"
        if isinstance(err, OSError) and err.errno in RUNS_FOLDER_ERRNOS:
            return f"{said}; pass runs_folder= a folder you can write to."
        return f"{said}; nothing was kept, so click Run again once that is resolved."

    def stop(self) -> bool:
        """Ask the current search to stop (it checkpoints first).

        Returns:
            True when the request was written.
        """
        from nasbench.runs import request_stop

        if not self.run_dir:
            return False
        self._stop_requested = self.running
        try:
            request_stop(self.run_dir)
        except NasbenchError:
            if not self.running:
                return False
            # Still loading: remembered, and written once the store opens (check_process).
            self._stop_pending = True
            self.message.value = message_html(
                "stop requested: the search is still loading, and stops at its first step.",
                "info",
            )
            return False
        self._stop_pending = False
        # Resume comes back once the process has exited (process_ended), not before.
        self.message.value = message_html(f"stop requested for {self.run_dir}", "info")
        return True

    def resume(self, run_dir: str | os.PathLike | None = None) -> bool:
        """Continue a stopped or killed run from its last checkpoint (a new subprocess).

        Args:
            run_dir: the run folder; the last one started when None.

        Returns:
            True when the subprocess started.
        """
        if self.running:
            self.message.value = message_html(
                "the search is still running (or stopping); Resume once it has stopped.", "warning"
            )
            return False
        if run_dir is not None:
            self.run_dir = str(run_dir)
        if not self.run_dir:
            return False
        folder = Path(self.run_dir)
        problem = _unresumable(folder)
        if problem:  # said here, before a process (and its log files) would be started
            self.message.value = self._refusal = message_html(f"cannot resume: {problem}", "error")
            return False
        from nasbench.engine.commands import recorded_environment
        from nasbench.engine.run_setup import import_options

        # The modules the run recorded it needs, from where this kernel imported them.
        imports = import_options(recorded_environment(folder))
        try:
            self.process = start_process([*imports, "resume", str(folder)], folder)
        except OSError as err:  # its log files cannot be written (no rights, a full disk)
            where = f" ({err.filename})" if err.filename else ""
            self.message.value = message_html(
                f"cannot resume {folder}{where}: {err.strerror or err}", "error"
            )
            return False
        self._process_dir = str(folder)
        self.message.value = message_html(f"resumed {folder} (pid {self.process.pid})", "info")
        self.stop_button.disabled = False
        self.resume_button.disabled = True
        self.run_button.disabled = True
        self.launches += 1
        self._stop_pending = self._stop_requested = False
        self._process_watch.start()
        return True

    def stop_watching(self) -> None:
        """Stop polling the search process (it goes on running)."""
        self._process_watch.stop()

    def close(self) -> None:
        """Stop watching the search process (it goes on running) and close every widget
        of the launcher (idempotent)."""
        if self.comm is None:
            return  # closed already (ipywidgets' __del__ calls close again)
        try:
            from widgets._figures import close_widgets
        except ImportError:  # Python exits (this is ipywidgets' __del__): nothing to free
            return
        self.stop_watching()
        close_widgets(self)

    def adopt(self, run_dir: str | os.PathLike) -> bool:
        """Make ``run_dir`` (opened from the Runs tab) the run Resume continues.

        Resume is offered only for a folder that holds a run store: a search that failed
        its checks before creating one has nothing to continue (the Monitor tab says why).

        Args:
            run_dir: a run folder no search of this launcher is writing.

        Returns:
            False while this launcher's own search runs (it keeps that run; the workbench
            adopts the run opened meanwhile once that search ends, see ``ends``).
        """
        if self.running:
            return False
        self.run_dir = str(run_dir)
        self.resume_button.disabled = not _holds_store(self.run_dir)
        return True

    def check_process(self) -> bool:
        """Re-enable the controls once the search process has exited, however it ended.

        Runs every ``PROCESS_WATCH_S`` on the kernel loop while a search runs; call it
        yourself without one. The workbench calls it when the run shown ends: a "cannot
        resume" refusal of that run (another process was writing it) no longer holds.

        Returns:
            True while the process is still running.
        """
        if self.running:
            if self._stop_pending:
                self.stop()  # the store may have opened since Stop was pressed
            return True
        self._stop_pending = False
        if self.process is not None:
            self.process_ended()
        if self._refusal and self.message.value == self._refusal:
            self._refresh_summary()  # Run's own blocker, or the note on unlisted strategies
        self._refusal = ""
        return False

    def process_ended(self) -> None:
        """Re-enable Run and Resume once the search process has exited.

        Says how the process ended when it failed or was killed (the monitor explains
        why from the run store), then counts the end in ``ends`` (once per process).
        """
        self._process_watch.stop()
        self.stop_button.disabled = True
        # A search that failed its checks before creating its store has nothing to resume.
        self.resume_button.disabled = not _holds_store(self.run_dir)
        code = None if self.process is None else self.process.poll()
        self._refresh_summary()
        if code:
            # The Monitor may show another run by now (one opened from the Runs tab): name
            # this process's run, and where its own log says why.
            folder = Path(self._process_dir or self.run_dir)
            # The CLI's one line (a dataset not on disk, offline) is said here; anything
            # else (a traceback) is in the log.
            error = launched.last_error(folder)
            said = f"the search process of {folder} exited with code {code}"
            self.message.value = message_html(
                f"{said}: {error}"
                if error
                else f"{said}; read why in {folder / STDERR_NAME}, or open the run from the "
                "Runs tab.",
                "warning",
            )
        # Last, so an observer's adopt() is not undone above. check_process calls this on
        # every look after the exit: count each process once.
        if self.process is not None and self._ended is not self.process:
            self._ended = self.process
            self.ends += 1


def _classless(name: str) -> str:
    """Why dataset ``name`` cannot be searched for lack of classes (one line), or "": the
    path-less ``folder`` entry has none until a folder is named, and a search would fail
    on it after making its run folder. Reconstruction sets have none by design."""
    from nasbench import data

    try:
        info = data.get_info(name)
    except NasbenchError:
        return ""  # an unknown name: the config's own check says so
    if info.num_classes >= 1 or info.task == "reconstruction":
        return ""
    return (
        f"dataset {name!r} has no classes (no image folder is named); pick another dataset, "
        "or give your image folder as the dataset 'folder:<path>'."
    )


def _check_folder(name: str) -> None:
    """Raise the one-line DatasetError a search would end with when dataset ``name`` is
    ``folder:<path>`` and that path is gone or a file (moved or deleted since it was
    picked), before Run makes a run folder for it."""
    from nasbench.data.folder_layout import check_folder_path
    from nasbench.data.registry import FOLDER_PREFIX

    if name.startswith(FOLDER_PREFIX) and len(name) > len(FOLDER_PREFIX):
        check_folder_path(name[len(FOLDER_PREFIX) :])


def _holds_store(run_dir: str | None) -> bool:
    """Whether ``run_dir`` holds a run store: a search that failed before one has none."""
    return bool(run_dir) and (Path(run_dir) / DB_NAME).is_file()


def _unresumable(folder: Path) -> str:
    """Why ``folder`` holds no run a resume could read (a one-line reason), or ""."""
    from nasbench.runs import load
    from nasbench.runs.store import announced_writer

    try:
        with load(folder) as run:  # the folder exists, holds a run store, and that store reads
            if run.writer_alive():  # another process (a CLI search, another kernel) writes it
                return (
                    f"{folder} is being written by another live process; stop it first, or "
                    "watch it in the Monitor tab."
                )
            # One loading torch before it writes: a second resume would fail at its lock.
            starting = announced_writer(folder)
            if starting:
                return (
                    f"a `nasbench {starting}` is starting on {folder}; wait for it (watch it "
                    "in the Monitor tab), or stop it first."
                )
            return ""
    except NasbenchError as err:
        return str(err)

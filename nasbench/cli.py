"""The ``nasbench`` command line (also ``python -m nasbench``).

Each subcommand is one small function registered in ``COMMANDS`` with the
``@command`` decorator, together with a function that adds its arguments. A
:class:`~nasbench.errors.NasbenchError` (and any usage error) ends the command
with ``nasbench: error: <message>`` on stderr and exit status 2.

``--import MODULE`` (before the subcommand, repeatable) imports a module of the user's
first, so the strategies, spaces, ops and datasets it registers are found by name. Nothing
a run folder or config names is ever imported by itself: their files may come from others.

Example:
    $ nasbench datasets --task binary --dims 3
    $ nasbench --import my_strategies search --config walk.json --run-dir runs/walk
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import shlex
import signal
import sqlite3
import sys
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from nasbench import __version__
from nasbench.errors import ConfigError, NasbenchError

PROG = "nasbench"


class UsageError(ConfigError):
    """A command line that argparse rejected."""


class Parser(argparse.ArgumentParser):
    """An ArgumentParser that raises instead of printing usage and exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `{self.prog} --help`)")


@dataclass(frozen=True)
class Command:
    """A subcommand: its name, one-line help, argument set-up and body."""

    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


COMMANDS: dict[str, Command] = {}


def command(
    name: str, help: str, configure: Callable[[argparse.ArgumentParser], None] | None = None
) -> Callable[[Callable[[argparse.Namespace], int]], Callable[[argparse.Namespace], int]]:
    """Register the decorated ``run(args) -> exit status`` as subcommand ``name``.

    Args:
        name: the subcommand (``nasbench <name>``).
        help: one line shown by ``nasbench --help``.
        configure: adds the subcommand's arguments to its parser.

    Returns:
        the decorator; it returns the function unchanged.

    Example:
        >>> @command("hello", "say hello")  # doctest: +SKIP
        ... def run_hello(args):
        ...     print("hello")
        ...     return 0
    """

    def register(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
        COMMANDS[name] = Command(name, help, configure or (lambda parser: None), run)
        return run

    return register


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """Return the parser with every registered subcommand.

    Args:
        only: configure the arguments of this subcommand alone; the others keep their
            name and help line. Arguments of some commands come from modules that import
            torch, so ``nasbench stop`` configuring only ``stop`` answers in a blink.

    Returns:
        The parser.
    """
    parser = Parser(prog=PROG, description="Neural architecture search on medical images.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument(
        "--import",
        dest="imports",
        action="append",
        default=[],
        metavar="MODULE",
        help="import this module first, so the strategies, spaces, ops and datasets it "
        "registers can be named (repeatable; give it before the command)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for cmd in COMMANDS.values():
        subparser = sub.add_parser(cmd.name, help=cmd.help, description=cmd.help)
        if only is None or cmd.name == only:
            cmd.configure(subparser)
    return parser


def _command_named(argv: Sequence[str]) -> str | None:
    """The subcommand ``argv`` runs: its first word that is not an option (nor the
    module of an ``--import``)."""
    return next((word for word in _global_words(argv)[1] if not word.startswith("-")), None)


def _global_words(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    """The modules of the ``--import`` options before the subcommand, and ``argv`` without
    them."""
    modules: list[str] = []
    rest: list[str] = []
    in_command = False  # past the subcommand: the words are its own arguments
    words = iter(argv)
    for word in words:
        if in_command or not word.startswith("--import"):
            rest.append(word)
            in_command = in_command or not word.startswith("-")
        elif word == "--import":
            module = next(words, None)
            if module is None:
                rest.append(word)  # argparse names the missing value
            else:
                modules.append(module)
        elif word.startswith("--import="):
            modules.append(word.partition("=")[2])
        else:
            rest.append(word)
    return modules, rest


def import_user_modules(modules: Sequence[str]) -> None:
    """Import the modules named by ``--import``, so what they register can be named.

    Args:
        modules: importable module names (a folder on ``PYTHONPATH``, or installed).

    Raises:
        ConfigError: one line naming a module that is not there, or why its import failed.

    Example:
        >>> import_user_modules(["my_strategies"])  # doctest: +SKIP
    """
    for module in modules:
        _refuse_a_file_name(module)
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as err:
            if err.name is not None and module.startswith(err.name):  # the module itself
                raise ConfigError(
                    f"--import {module}: no module named {module!r} on the Python path; "
                    "check PYTHONPATH (the folder that holds it, e.g. `PYTHONPATH=.`), or "
                    "install it."
                ) from None
            raise ConfigError(f"importing {module} failed: {err}") from None
        except NasbenchError as err:
            raise ConfigError(f"importing {module} failed: {err}") from None
        except Exception as err:  # the user's code: any error, said in one line
            raise ConfigError(f"importing {module} failed: {type(err).__name__}: {err}") from None
        except SystemExit as err:  # the module ran as a script would: nasbench would just end
            raise ConfigError(
                f"importing {module} failed: it called sys.exit({err.code!r}); keep script code "
                'under `if __name__ == "__main__":`.'
            ) from None
        if module not in _imported_modules():
            _imported_modules().append(module)


def _refuse_a_file_name(module: str) -> None:
    """Refuse a file name or path where a module name goes (``my_ops.py``, ``../my_ops``):
    Python would import ``my_ops`` and then fail on ``.py``, or take ``..`` for a relative
    import, and neither error says what to type instead."""
    path = Path(module)
    if module.endswith(".py") or "/" in module or "\\" in module or module.startswith("."):
        name = path.stem if path.suffix == ".py" else path.name
        folder = str(path.parent) if str(path.parent) not in ("", ".") else "."
        raise ConfigError(
            f"--import {module}: give a module name, not a file: --import {name}, with the "
            f"folder that holds it on the Python path (e.g. PYTHONPATH={folder})."
        )


def _imported_modules() -> list[str]:
    """The run setup's list of ``--import`` modules: a new run records them."""
    from nasbench.engine.run_setup import IMPORTED_MODULES

    return IMPORTED_MODULES


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit status.

    Args:
        argv: the arguments after the program name; ``sys.argv[1:]`` by default.

    Returns:
        0 on success, 2 on a usage or input error.

    Example:
        >>> main(["datasets", "--dims", "3"])  # doctest: +SKIP
        0
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    args = None
    announced = None
    try:
        # First: `nasbench stop` and `runs` see a resume or retrain from its first moment.
        announced = _announce_early(argv)
        # Before the parser is built: a subcommand's arguments may list registered names.
        import_user_modules(_global_words(argv)[0])
        parser = build_parser(only=_command_named(argv) or "")
        args, extra = parser.parse_known_args(argv)
        if any(word == "--import" or word.startswith("--import=") for word in extra):
            raise UsageError(
                f"--import goes before the command: `{PROG} --import MODULE "
                f"{args.command or 'COMMAND'} ...`."
            )
        if extra:  # named here, so the hint is the subcommand's own --help
            where = f"{PROG} {args.command}" if args.command else PROG
            raise UsageError(f"unrecognized arguments: {' '.join(extra)} (see `{where} --help`)")
        if args.command is None:
            parser.print_help()
            return 2
        _refuse_empty_arguments(parser, args)
        with _termination_as_interrupt(), _one_line_warnings():
            return COMMANDS[args.command].run(args)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted{_interrupt_hint(args, argv)}", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `nasbench runs | head -1`: the reader left; nothing is wrong, so say nothing.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 128 + getattr(signal, "SIGPIPE", 13)  # 13 where the signal is unknown
    except NasbenchError as exc:
        return _fail(str(exc))
    except (OSError, sqlite3.Error) as exc:
        damaged = _damaged_run_database(exc, args)
        if damaged is not None:
            return _fail(str(damaged))
        # Disk full, a read-only folder, a vanished file: say which and what to do.
        return _fail(f"{_describe_os_error(exc)}; free some space, fix the permissions or "
                     "choose another folder, then run the command again.")  # fmt: skip
    except SystemExit as exc:  # --help and --version exit through argparse
        return exc.code if isinstance(exc.code, int) else 0
    finally:
        if announced is not None:  # the command itself withdraws it once it is done
            from nasbench.runs.store import withdraw_writer

            withdraw_writer()


def _announce_early(argv: Sequence[str]) -> float | None:
    """Announce the run a ``resume`` or ``retrain`` in ``argv`` takes over
    (:func:`nasbench.runs.store.announce_writer`), before the user modules, torch or the
    retrain's arguments load: the one run folder among the words after the command.
    Unclear words announce nothing; the command announces its parsed run folder itself.

    Returns:
        When it was announced, or None.
    """
    from nasbench.runs.schema import DB_NAME
    from nasbench.runs.store import ANNOUNCING, announce_writer

    command, words = _command_named(argv), _global_words(argv)[1]
    if command not in ANNOUNCING:
        return None
    after = words[words.index(command) + 1 :]
    runs = {word for word in after if not word.startswith("-") and _holds_run(word, DB_NAME)}
    return announce_writer(runs.pop(), command) if len(runs) == 1 else None


def _holds_run(word: str, db_name: str) -> bool:
    try:
        return bool(word.strip()) and (Path(word).expanduser() / db_name).is_file()
    except (OSError, RuntimeError, ValueError):  # "~nobody", a NUL: not a run folder
        return False


def _refuse_empty_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse an empty or blank text argument (an unset shell variable, ``--run-dir ""``).

    Taken as given, an empty run folder is the current folder and an empty config file is
    no config at all, so the command would do something nobody asked for.
    """
    for action in _actions_of_chosen_commands(parser, args):
        value = getattr(args, action.dest, None)
        if isinstance(value, str) and not value.strip():
            name = action.option_strings[-1] if action.option_strings else action.dest
            raise UsageError(f"{name} is empty; give it a value (is a shell variable unset?).")


def _actions_of_chosen_commands(
    parser: argparse.ArgumentParser, args: argparse.Namespace
) -> Iterator[argparse.Action]:
    """The arguments of the subcommand ``args`` chose, and of the action it chose in turn
    (``bench generate``'s own options belong to the nested ``generate`` parser, not to
    ``bench``), however deep the commands nest."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            chosen = action.choices.get(getattr(args, action.dest, None))
            if chosen is not None:
                yield from chosen._actions
                yield from _actions_of_chosen_commands(chosen, args)


@contextlib.contextmanager
def _termination_as_interrupt() -> Iterator[None]:
    """Let SIGTERM and SIGHUP (``kill``, a closed terminal or ssh session) stop a command
    the way Ctrl-C does, so a search records itself as stopped instead of staying
    "running" with no process behind it."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return
    hangup = getattr(signal, "SIGHUP", None)  # absent on Windows
    wanted = [sig for sig in (signal.SIGTERM, hangup) if sig is not None]
    previous = {sig: signal.signal(sig, interrupt) for sig in wanted}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _interrupt_hint(args: argparse.Namespace | None, argv: Sequence[str] = ()) -> str:
    """What to do after Ctrl-C: resume a search that made its run folder (the store has
    recorded it as stopped, "interrupted"), or run a retrain again (the command as typed,
    ``argv``, so its recipe flags are kept); nothing otherwise."""
    from nasbench.engine.commands import resume_refused, run_command
    from nasbench.runs.schema import DB_NAME

    command, run_dir = getattr(args, "command", None), getattr(args, "run_dir", None)
    if not run_dir or not (Path(run_dir) / DB_NAME).is_file():
        return ""  # stopped before its run folder was made: there is nothing to continue
    # With the --import options of the user modules the run recorded it needs.
    if command in ("search", "resume", "quickstart"):
        refused = resume_refused(run_dir)  # its strategy cannot be continued: say why
        if refused:
            return f"; {refused}"
        return f"; continue it with `{run_command('resume', run_dir)}`"
    if command == "retrain":
        again = shlex.join([PROG, *argv]) if argv else run_command("retrain", run_dir)
        return f"; the search in {run_dir} is unchanged: run `{again}` again"
    return ""


@contextlib.contextmanager
def _one_line_warnings() -> Iterator[None]:
    """Print a warning as ``nasbench: warning: <message>``: Python's default shows the
    warning's source file and line of code, which tell a command-line user nothing."""

    def show(message: Warning | str, category: type[Warning], *args: object, **kw: object) -> None:
        print(f"{PROG}: warning: {' '.join(str(message).split())}", file=sys.stderr)

    previous = warnings.showwarning
    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = previous


def _fail(message: str) -> int:
    print(f"{PROG}: error: {' '.join(message.split())}", file=sys.stderr)
    return 2


# What sqlite says of a run database whose tables were dropped or altered (by hand, by
# another program): no disk or permission fault, so that advice would mislead.
_ALTERED_DATABASE = ("no such table", "no such column", "has no column", "malformed",
                     "not a database")  # fmt: skip


def _damaged_run_database(
    exc: OSError | sqlite3.Error, args: argparse.Namespace | None
) -> Exception | None:
    """The damaged-run-database error for an sqlite error that means the run's tables are
    not what a run writes; None for any other fault (a full disk, a read-only folder)."""
    from nasbench.runs.schema import DB_NAME, damaged_database

    run_dir = getattr(args, "run_dir", None)
    if not isinstance(exc, sqlite3.DatabaseError) or not run_dir:
        return None
    if not any(words in str(exc) for words in _ALTERED_DATABASE):
        return None
    return damaged_database(Path(run_dir).expanduser() / DB_NAME, exc)


def _describe_os_error(exc: OSError | sqlite3.Error) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        where = f" ({exc.filename})" if exc.filename else ""
        return f"cannot read or write a file{where}: {exc.strerror}"
    return f"cannot read or write a file: {exc}"


# ---------------------------------------------------------------- datasets


def _configure_datasets(parser: argparse.ArgumentParser) -> None:
    from nasbench.data.registry import TASKS

    parser.add_argument("name", nargs="?", help="show the details of one dataset")
    parser.add_argument("--task", choices=TASKS, help="only datasets of this task")
    parser.add_argument("--dims", type=int, choices=(2, 3), help="only 2D or 3D datasets")
    parser.add_argument("--root", help="data folder (default $NASBENCH_DATA or ~/.cache/nasbench)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


@command("datasets", "list the registered datasets", _configure_datasets)
def run_datasets(args: argparse.Namespace) -> int:
    """Print the dataset registry as a table (or JSON), or one dataset's details."""
    from nasbench import data
    from nasbench.data.medmnist import split_sizes

    root = data.data_root(args.root)
    if root.exists() and not root.is_dir():
        # Else every dataset would read "cached: no", as if a download were all it took.
        if args.root is not None:
            named = f"--root {args.root}"
        elif os.environ.get("NASBENCH_DATA"):
            named = f"$NASBENCH_DATA ({root})"
        else:
            named = f"the default data folder {root}"
        raise ConfigError(f"{named} is a file; give the folder that holds the data.")
    if args.name is not None:
        infos = [data.get_info(args.name)]
        _refuse_filters_the_dataset_fails(infos[0], args.task, args.dims)
    else:
        infos = data.list_datasets(task=args.task, spatial_dims=args.dims)
    rows = [
        {**info.to_dict(), "cached": data.is_cached(info.name, args.root, min(info.sizes))}
        for info in infos
    ]
    if args.name is not None and not args.json:
        # A person's own file in the MedMNIST layout holds its own split sizes.
        rows[0]["splits"] = split_sizes(infos[0], rows[0]["cached"], args.root)
    if args.json:
        print(json.dumps(rows if args.name is None else rows[0], indent=2))
    elif args.name is not None:
        print(_details(rows[0]))
    else:
        print(_table(rows))
    return 0


def _refuse_filters_the_dataset_fails(info: object, task: str | None, dims: int | None) -> None:
    """``datasets NAME --task/--dims`` shows one dataset: a filter it fails is refused,
    not silently ignored (the details shown would not be of such a dataset)."""
    wrong = []
    if task is not None and info.task != task:
        wrong.append(f"--task {task}")
    if dims is not None and info.spatial_dims != dims:
        wrong.append(f"--dims {dims}")
    if wrong:
        raise ConfigError(
            f"{info.name} is a {info.spatial_dims}D {info.task} dataset, so {' and '.join(wrong)} "
            f"leave{'s' if len(wrong) == 1 else ''} nothing to show; drop "
            f"{'it' if len(wrong) == 1 else 'them'}, or list the datasets that fit "
            f"(`{PROG} datasets {' '.join(wrong)}`)."
        )


def _table(rows: list[dict]) -> str:
    header = ("name", "task", "dims", "sizes", "licence", "cached")
    lines = [
        (
            r["name"],
            r["task"],
            f"{r['spatial_dims']}D",
            ",".join(map(str, r["sizes"])),
            r["licence"] or "-",
            "yes" if r["cached"] else "no",
        )
        for r in rows
    ]
    widths = [max(len(str(c)) for c in col) for col in zip(header, *lines, strict=True)]
    return "\n".join(
        "  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)).rstrip()
        for line in [header, *lines]
    )


def _details(row: dict) -> str:
    splits = row["splits"]
    fields = [
        ("name", row["name"]),
        ("task", row["task"]),
        ("modality", row["modality"]),
        ("dims", f"{row['spatial_dims']}D, {row['in_channels']} channel(s)"),
        ("classes", f"{row['num_classes']}: " + "; ".join(row["class_names"])),
        ("splits", splits),
        ("sizes", ", ".join(map(str, row["sizes"]))),
        ("licence", row["licence"] or "-"),
        ("cached", "yes" if row["cached"] else "no"),
        ("homepage", row["homepage"] or "-"),
        ("citation", row["citation"] or "-"),
        ("about", row["description"] or "-"),
    ]
    return "\n".join(f"{k + ':':<10} {v}" for k, v in fields)


# ---------------------------------------------------------------- search side


def _register_search_commands() -> None:
    from nasbench.engine import commands as c

    for name, help_text, configure, run in (
        (
            "quickstart",
            "run a short DARTS search on the offline default and write its report",
            c.configure_quickstart,
            c.run_quickstart_command,
        ),
        (
            "search",
            "run a search described by a config file",
            c.configure_search,
            c.run_search_command,
        ),
        ("resume", "continue a stopped or killed search", c.configure_resume, c.run_resume_command),
        (
            "stop",
            "ask a running search to checkpoint and stop",
            c.configure_run_dir,
            c.run_stop_command,
        ),
        (
            "report",
            "write a run's self-contained HTML report",
            c.configure_report,
            c.run_report_command,
        ),
        ("runs", "list the runs in a folder", c.configure_runs, c.run_runs_command),
    ):
        command(name, help_text, configure)(run)


_register_search_commands()


def _configure_retrain(parser: argparse.ArgumentParser) -> None:
    from nasbench.evaluation.final_evaluation import add_cli_arguments

    add_cli_arguments(parser)


@command(
    "retrain",
    "train a run's derived genotype from scratch; test figures next to baselines (--baselines)",
    _configure_retrain,
)
def run_retrain(args: argparse.Namespace) -> int:
    """Retrain the searched cell and the chosen baselines with one recipe."""
    from nasbench.runs.store import announce_writer, withdraw_writer

    # Before torch loads, so that the run reads as retraining from now on, not as its
    # search left it (`main` has announced it already unless its arguments were unclear).
    announce_writer(args.run_dir, "retrain")
    try:
        from nasbench.engine.commands import check_run_code
        from nasbench.evaluation.final_evaluation import cli_main

        check_run_code(args.run_dir, "retrain")
        return cli_main(args)
    finally:
        withdraw_writer()


def _configure_bench(parser: argparse.ArgumentParser) -> None:
    from nasbench.bench.generate import add_cli_arguments

    actions = parser.add_subparsers(dest="bench_command", metavar="ACTION", required=True)
    generate = actions.add_parser(
        "generate",
        help="train every architecture of a space (or --sample N of them) into a Parquet "
        "table; every NB201 cell by default, hours on a CPU",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add_cli_arguments(generate)


@command("bench", "build tabular benchmarks (bench generate --out table.parquet ...)",
         _configure_bench)  # fmt: skip
def run_bench(args: argparse.Namespace) -> int:
    """``nasbench bench generate``: a table for the table evaluator and the benchmarks."""
    from nasbench.bench.generate import cli_main

    return cli_main(args)

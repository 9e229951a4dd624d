"""Where evaluations run: in this process, in a local process pool, or on Ray.

An executor takes a batch of jobs ``(candidate_id, genotype, fidelity)`` and returns
one :class:`Outcome` per job, in the order of the jobs. Workers only evaluate; the
results flow back to the loop, the single writer of the run store. Which executor
runs a batch never changes the results: they depend on the loop's batch size only,
which is ``workers`` (how many candidates a strategy proposes before it hears back), so
``sequential`` with ``workers=2`` finds what ``process`` with 2 workers finds.

A candidate whose evaluation raises :class:`~nasbench.errors.DivergenceError` comes back
as a failed outcome (:func:`failed_result`), in the worker, so one diverging candidate
does not take the rest of its batch, or the search, with it.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import pickle
import signal
import socket
import sys
import threading
import time
import types
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from nasbench import registry
from nasbench.config import check_executor_settings
from nasbench.errors import ConfigError, DivergenceError, closest_name
from nasbench.evaluation.base import Result
from nasbench.protocols import Genotype


@dataclass(frozen=True)
class Job:
    """One evaluation to run.

    Attributes:
        candidate_id: the loop's id for the candidate.
        genotype: what to evaluate.
        fidelity: the evaluator's budget (epochs, ...); None for its full budget.
    """

    candidate_id: int
    genotype: Genotype
    fidelity: float | None = None


@dataclass(frozen=True)
class Outcome:
    """What a worker sends back for one job.

    Attributes:
        result: the evaluator's :class:`~nasbench.evaluation.base.Result`.
        worker: which worker ran it (``"main"``, ``"pid-123"``, ``"host:pid-123"``).
        seconds: wall time of the evaluation inside the worker.
    """

    result: Result
    worker: str
    seconds: float


# The info key of a failed candidate's result: it holds the one-line reason.
FAILED = "diverged"


def failed_result(message: str, seconds: float = 0.0) -> Result:
    """The result of a candidate whose evaluation diverged: the worst score there is.

    Its score is ``-inf``, so a strategy that compares scores (evolution, hill climbing,
    halving) never keeps or breeds from it; its cost is the time it took.

    Args:
        message: the one-line reason (the DivergenceError's message).
        seconds: wall time spent on it.

    Returns:
        A :class:`~nasbench.evaluation.base.Result` that :func:`failure` recognises.

    Example:
        >>> failed_result("diverged at epoch 1", 2.0).score
        -inf
    """
    return Result({"score": -math.inf}, {"wall_s": float(seconds)}, {FAILED: str(message)})


def failure(result: Result) -> str | None:
    """The reason a candidate failed, or None for one that was evaluated.

    Args:
        result: a result from an executor, the cache or a run store.

    Returns:
        The message :func:`failed_result` recorded, or None.

    Example:
        >>> failure(failed_result("diverged")), failure(Result({"score": 0.5}))
        ('diverged', None)
    """
    # Only the result failed_result made: an evaluator may report its own "diverged"
    # flag (False) beside a real score.
    message = result.info.get(FAILED)
    if not isinstance(message, str) or result.metrics.get("score") != -math.inf:
        return None
    return message


def _run_job(evaluator: Any, job: Job, worker: str) -> Outcome:
    start = time.perf_counter()
    try:
        result = evaluator.evaluate(job.genotype, job.fidelity)
    except DivergenceError as err:
        # A failed trial, as NNI and NASLib record one; any other error is a bug or a bad
        # setting that every candidate would hit, so it still ends the search.
        message = " ".join(str(err).split()) or type(err).__name__
        seconds = time.perf_counter() - start
        return Outcome(failed_result(message, seconds), worker, seconds)
    if not isinstance(result, Result):
        raise ConfigError(
            f"{type(evaluator).__name__}.evaluate returned {type(result).__name__}, not a Result."
        )
    return Outcome(result, worker, time.perf_counter() - start)


class Executor(ABC):
    """Runs batches of evaluations. Use as a context manager, or call open/close.

    Example:
        >>> with SequentialExecutor() as ex:  # doctest: +SKIP
        ...     ex.open(evaluator)
        ...     outcomes = ex.evaluate([Job(0, g)])
    """

    name: str = "base"
    workers: int = 1

    def open(self, evaluator: Any) -> None:
        """Ship ``evaluator`` to the workers (once, not per job)."""
        if not callable(getattr(evaluator, "evaluate", None)):
            raise ConfigError(
                f"an evaluator needs an evaluate(genotype, budget) method; "
                f"{type(evaluator).__name__} has none."
            )
        self.evaluator = evaluator

    @abstractmethod
    def evaluate(self, jobs: Sequence[Job]) -> list[Outcome]:
        """Evaluate ``jobs``; return their outcomes in the same order."""

    def close(self) -> None:  # noqa: B027 - most executors hold nothing to release
        """Release the workers (idempotent)."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class SequentialExecutor(Executor):
    """Evaluate one job after the other in this process (the default).

    Args:
        workers: candidates asked per round, as a pool of that many workers would take
            them (1: each result is told before the next ask). An adaptive strategy
            (evolution, REINFORCE, Bayesian optimisation) proposes differently in rounds,
            so this reproduces a parallel run's results here, one evaluation at a time.

    Example:
        >>> SequentialExecutor(workers=2).workers
        2
    """

    name = "sequential"

    def __init__(self, workers: int = 1) -> None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ConfigError(
                f"sequential executor workers must be an integer >= 1, got {workers!r}."
            )
        self.workers = workers

    def evaluate(self, jobs: Sequence[Job]) -> list[Outcome]:
        """Evaluate ``jobs`` here, in order."""
        return [_run_job(self.evaluator, job, "main") for job in jobs]


# The evaluator of a pool worker process: set once by the pool's initializer so that
# it is unpickled once per worker, not once per job.
_WORKER_EVALUATOR: Any = None


def _init_worker(payload: bytes, parent: int | None = None) -> None:
    global _WORKER_EVALUATOR
    _WORKER_EVALUATOR = pickle.loads(payload)
    if parent is not None:
        threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()


def _exit_with_parent(parent: int, every_s: float = 1.0) -> None:
    """End this worker once the search process that started it is gone.

    A killed search (SIGKILL, the out-of-memory killer) cannot shut its pool down; its
    workers would otherwise wait for jobs that never come, holding their memory.
    """
    while os.getppid() == parent:
        time.sleep(every_s)
    os._exit(0)


def _pool_job(job: Job) -> Outcome:
    return _run_job(_WORKER_EVALUATOR, job, f"pid-{os.getpid()}")


class _MainNoting(pickle.Pickler):
    """A pickler that notes the classes and functions of ``__main__`` it pickles: pickle
    stores them by name, and a spawned worker may have no such ``__main__``."""

    def __init__(self, file: io.BytesIO) -> None:
        super().__init__(file)
        self.in_main: list[str] = []

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, (type, types.FunctionType)) and obj.__module__ == "__main__":
            self.in_main.append(obj.__qualname__)
        return NotImplemented  # pickle it as usual


def _pickled(evaluator: Any, executor: str) -> tuple[bytes, list[str]]:
    """The pickled evaluator, and the names of what in it is defined in ``__main__``."""
    buffer = io.BytesIO()
    pickler = _MainNoting(buffer)
    try:
        pickler.dump(evaluator)
    except (pickle.PicklingError, TypeError, AttributeError) as err:
        raise ConfigError(
            f"the {executor} executor needs a picklable evaluator; "
            f"{type(evaluator).__name__} is not ({err}). Use the sequential executor."
        ) from None
    return buffer.getvalue(), pickler.in_main


def _main_rerun_by_spawn() -> bool:
    """Whether a spawned process re-runs this process's ``__main__`` (a .py script, or a
    module run with ``python -m``), and so has the classes defined there; a notebook's,
    a REPL's or ``python -c``'s ``__main__`` has no file to re-run (``python -`` names
    ``<stdin>``)."""
    main = sys.modules.get("__main__")
    name = getattr(getattr(main, "__spec__", None), "name", None)
    if name is not None:  # multiprocessing skips a package's __main__ (``python -m pkg``)
        return name != "__main__" and not name.endswith(".__main__")
    path = getattr(main, "__file__", None)
    return path is not None and os.path.isfile(path)


class ProcessPoolExecutor(Executor):
    """Evaluate jobs in local worker processes (``concurrent.futures``, spawn context).

    Spawned workers start clean (no forked torch or CUDA state); the evaluator is
    pickled once and unpickled once per worker, so it must be picklable and its class
    importable.

    Args:
        workers: number of worker processes.

    Example:
        >>> with ProcessPoolExecutor(workers=2) as ex:  # doctest: +SKIP
        ...     ex.open(evaluator); ex.evaluate(jobs)
    """

    name = "process"
    # Spawned, not forked: a forked worker would inherit torch's threads and CUDA state.
    start_method = "spawn"

    def __init__(self, workers: int = 2) -> None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ConfigError(f"process executor workers must be an integer >= 1, got {workers!r}.")
        self.workers = workers
        self._pool: Any = None
        self._context: _RecordingContext | None = None

    def open(self, evaluator: Any) -> None:
        """Start the workers with a copy of ``evaluator``."""
        import concurrent.futures
        import multiprocessing

        super().open(evaluator)
        payload, in_main = _pickled(evaluator, "process")
        if in_main and self.start_method != "fork" and not _main_rerun_by_spawn():
            # Otherwise each worker fails to unpickle it, and the reason reaches only the
            # terminal of the Jupyter server, not the notebook.
            raise ConfigError(
                f"the process executor's workers cannot load {in_main[0]}: it is defined in "
                "__main__ (a notebook or an interactive session), which they do not have; "
                "define the evaluator class in an importable .py module, or use the "
                "sequential executor."
            )
        self.close()
        self._context = _RecordingContext(multiprocessing.get_context(self.start_method))
        self._pool = concurrent.futures.ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=self._context,
            initializer=_init_worker,
            initargs=(payload, os.getpid()),
        )

    def evaluate(self, jobs: Sequence[Job]) -> list[Outcome]:
        """Evaluate ``jobs`` on the workers; outcomes come back in job order."""
        if self._pool is None:
            raise ConfigError("the process executor is not open; call open(evaluator) first.")
        from concurrent.futures.process import BrokenProcessPool

        try:
            return list(self._pool.map(_pool_job, jobs))
        except KeyboardInterrupt:
            # Ctrl-C (a kernel interrupt): close() would wait for the running evaluations,
            # and then throw their results away; end the workers now instead.
            self._terminate()
            raise
        except BrokenProcessPool:
            # Most often a script without a main guard: each spawned worker re-runs the
            # script, so it starts the search again and dies on the run folder.
            raise ConfigError(
                "the process executor's workers died; in a .py script run the search under "
                '`if __name__ == "__main__":` (spawned workers re-run the script), and check '
                "that each worker has the memory to evaluate a candidate."
            ) from None

    def close(self) -> None:
        """Shut the workers down."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _terminate(self) -> None:
        """End the workers without waiting for the evaluations they run.

        ``concurrent.futures`` has no public way to do this before Python 3.14
        (``terminate_workers``): the pool's processes are terminated, as the pool does
        itself when it breaks. They are the ones its context made, not the pool's own
        list, which gains a worker only once its start returns: an interrupt that lands
        in between (the first worker evaluating while a busy machine still starts the
        second) would leave that worker behind. ``shutdown(wait=False)`` cancels the
        pending jobs, and its manager thread then sees the workers gone and cleans up.
        """
        pool, self._pool = self._pool, None
        if pool is None or self._context is None:
            return
        processes = [process for process in self._context.processes if process.pid is not None]
        manager = getattr(pool, "_executor_manager_thread", None)
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.terminate()
        # A worker still starting (importing torch from a busy disk) can outlive a short
        # wait; one that ignores SIGTERM is killed rather than left behind. Whether a
        # worker is gone is read from its sentinel, not from waitpid: the manager thread
        # reaps the workers too, and a waitpid racing it fails as if the worker lived.
        survivors = _still_running(processes, timeout=10)
        for process in survivors:
            process.kill()
        _still_running(survivors, timeout=5)
        if manager is not None:
            # It reaps the pool's workers and records their exit codes; until it has,
            # they show as running in multiprocessing.active_children().
            manager.join(timeout=5)
        for process in processes:  # reaps those the pool never recorded
            process.join(timeout=0.5)


def _still_running(processes: Sequence[Any], timeout: float) -> list[Any]:
    """The ``processes`` still running after waiting up to ``timeout`` s for them to end."""
    from multiprocessing.connection import wait

    deadline = time.monotonic() + timeout
    running = list(processes)
    while running and time.monotonic() < deadline:
        ended = wait([process.sentinel for process in running], deadline - time.monotonic())
        running = [process for process in running if process.sentinel not in ended]
    return running


class _RecordingContext:
    """A multiprocessing context that keeps every process it makes for a pool.

    ``concurrent.futures`` takes any context; all but ``Process`` pass through to the
    real one, so queues and locks are made as the pool expects.

    Args:
        context: the real context (spawn or fork).
    """

    def __init__(self, context: Any) -> None:
        self._context = context
        self.processes: list[Any] = []

    def Process(self, *args: Any, **kwargs: Any) -> Any:  # noqa: N802 (the context's name)
        process = self._context.Process(*args, **kwargs)
        self.processes.append(process)
        return process

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)


def _ray_job(evaluator: Any, job: Job) -> Outcome:
    return _run_job(evaluator, job, f"{socket.gethostname()}:pid-{os.getpid()}")


class RayExecutor(Executor):
    """Evaluate jobs as Ray tasks: locally by default, or on a cluster with ``address``.

    Ray is imported only here. Without an ``address`` a local Ray is started with
    ``num_cpus`` CPUs (and shut down on close); with one, the running cluster is joined.

    Args:
        num_cpus: CPUs of the local Ray (ignored with ``address``).
        address: a cluster address such as ``"ray://head:10001"`` or ``"auto"``.
        cpus_per_job: CPUs each evaluation reserves.
        gpus_per_job: GPUs each evaluation reserves (e.g. 1 for training evaluators).

    Example:
        >>> with RayExecutor(num_cpus=2) as ex:  # doctest: +SKIP
        ...     ex.open(evaluator); ex.evaluate(jobs)
    """

    name = "ray"

    def __init__(
        self,
        num_cpus: int | None = 2,
        address: str | None = None,
        cpus_per_job: float = 1.0,
        gpus_per_job: float = 0.0,
    ) -> None:
        if num_cpus is not None and (
            isinstance(num_cpus, bool) or not isinstance(num_cpus, int) or num_cpus < 1
        ):
            raise ConfigError(f"ray executor num_cpus must be an integer >= 1, got {num_cpus!r}.")
        self.num_cpus, self.address = num_cpus, address
        self.cpus_per_job, self.gpus_per_job = float(cpus_per_job), float(gpus_per_job)
        self.workers = num_cpus or 1
        self._ray: Any = None
        self._started = False

    def open(self, evaluator: Any) -> None:
        """Start (or join) Ray and put ``evaluator`` in its object store once."""
        super().open(evaluator)
        _pickled(evaluator, "ray")
        try:
            import ray
        except ImportError:
            raise ConfigError('the ray executor needs Ray: pip install "ray>=2.10"') from None
        self._ray = ray
        if not ray.is_initialized():
            options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
            if self.address is None:
                options["num_cpus"] = self.num_cpus
            else:
                options["address"] = self.address
            self._started = True  # before the start: close() then ends a half-started Ray
            _start_ray(ray, options)
        self._evaluator_ref = ray.put(evaluator)
        self._remote = ray.remote(num_cpus=self.cpus_per_job, num_gpus=self.gpus_per_job)(_ray_job)

    def evaluate(self, jobs: Sequence[Job]) -> list[Outcome]:
        """Evaluate ``jobs`` as Ray tasks; outcomes come back in job order."""
        if self._ray is None:
            raise ConfigError("the ray executor is not open; call open(evaluator) first.")
        refs = [self._remote.remote(self._evaluator_ref, job) for job in jobs]
        return list(self._ray.get(refs))

    def close(self) -> None:
        """Shut down the local Ray this executor started (a joined cluster keeps running)."""
        if self._ray is not None and self._started:
            self._ray.shutdown()
        self._ray, self._started = None, False


# Ray gives its local node 30 s to register; a busy machine can miss that once.
RAY_START_ATTEMPTS = 3


def _start_ray(ray: Any, options: dict[str, Any]) -> None:
    """``ray.init(**options)``, tried again when a local node is slow to start."""
    for attempt in range(1, RAY_START_ATTEMPTS + 1):
        try:
            with _interrupt_held():
                ray.init(**options)
            return
        except Exception as err:  # noqa: BLE001 - Ray raises a bare Exception here
            ray.shutdown()
            if "timed out during startup" not in str(err) or attempt == RAY_START_ATTEMPTS:
                first = str(err).splitlines()[0] if str(err) else type(err).__name__
                raise ConfigError(
                    f"Ray did not start ({first}); check `ray status`, or use the "
                    '"process" executor.'
                ) from None
        except BaseException:
            ray.shutdown()  # an interrupt: Ray started, or gave up; end its processes
            raise


@contextlib.contextmanager
def _interrupt_held() -> Iterator[None]:
    """Hold a Ctrl-C (a kernel interrupt) back until the block ends, then raise it.

    Interrupted halfway, ``ray.init`` leaves the processes it started (gcs_server,
    raylet) running for the rest of the kernel, out of ``ray.shutdown``'s reach; held
    back, the interrupt comes once Ray is up, and the caller shuts it down. A second
    Ctrl-C is not held. Signals reach the main thread only: elsewhere, nothing is held.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []

    def hold(signum: int, frame: Any) -> None:
        if held:
            raise KeyboardInterrupt
        held.append(signum)
        print("Ray is starting; it will be shut down once started.", file=sys.stderr)

    previous = signal.signal(signal.SIGINT, hold)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler if previous is None else previous)
        if held:
            raise KeyboardInterrupt


EXECUTORS: dict[str, type[Executor]] = {
    "sequential": SequentialExecutor,
    "process": ProcessPoolExecutor,
    "ray": RayExecutor,
}
for _name, _cls in EXECUTORS.items():
    registry.register("executor", _name, _cls)


def create_executor(name: str = "sequential", config: dict[str, Any] | None = None) -> Executor:
    """Create an executor by name.

    Args:
        name: "sequential", "process" or "ray".
        config: constructor arguments, e.g. ``{"workers": 2}`` or ``{"address": "auto"}``.

    Returns:
        The executor (not yet open).

    Example:
        >>> create_executor("process", {"workers": 2}).workers
        2
    """
    if name not in EXECUTORS:
        raise ConfigError(
            f"unknown executor {name!r}; use one of {', '.join(EXECUTORS)}."
            f"{closest_name(str(name), list(EXECUTORS))}"
        )
    check_executor_settings(name, config or {})
    return EXECUTORS[name](**(config or {}))

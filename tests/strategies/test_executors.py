"""Executors: where evaluations run never changes what a search finds."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from nasbench.errors import ConfigError
from nasbench.evaluation import create_evaluator
from nasbench.spaces import NB201Space
from nasbench.strategies import create_strategy
from nasbench.strategies.discrete import (
    Budget,
    Job,
    ProcessPoolExecutor,
    RayExecutor,
    SequentialExecutor,
    create_executor,
    run_discrete,
)


@pytest.fixture(scope="module")
def table_evaluator():
    # The synthetic NB201 table: a real, picklable evaluator from nasbench.evaluation.
    return create_evaluator("table", seed=0, space=NB201Space())


def search(evaluator, executor, seed):
    strategy = create_strategy(
        "evolution", {"population_size": 6, "sample_size": 3}, space=NB201Space(), seed=seed
    )
    out = run_discrete(strategy, evaluator, Budget(max_evaluations=12), executor=executor,
                       batch_size=2)  # fmt: skip
    return [(t.genotype, t.result.score, t.cached) for t in out.history], out


@pytest.mark.slow
def test_process_pool_matches_sequential(table_evaluator):
    expected, _ = search(table_evaluator, SequentialExecutor(), 3)
    got, out = search(table_evaluator, ProcessPoolExecutor(workers=2), 3)
    assert got == expected
    workers = {t.worker for t in out.history if not t.cached}
    assert workers and all(w.startswith("pid-") for w in workers)


@pytest.mark.slow
@pytest.mark.skipif(
    importlib.util.find_spec("ray") is None,
    reason='ray is not installed (pip install "ray>=2.10")',
)
def test_ray_matches_sequential(table_evaluator):
    expected, _ = search(table_evaluator, SequentialExecutor(), 0)
    got, out = search(table_evaluator, RayExecutor(num_cpus=2), 0)
    assert got == expected
    assert all(":pid-" in t.worker for t in out.history if not t.cached)


@pytest.mark.slow
def test_a_search_config_finds_the_same_on_either_executor_with_the_same_workers(tmp_path):
    from nasbench import search as run_search
    from nasbench.config import SearchConfig
    from nasbench.runs import load

    def config(executor: str, workers: int) -> SearchConfig:
        return SearchConfig(strategy="evolution", evaluator="table", space={"name": "nb201"},
                            strategy_config={"population_size": 6, "sample_size": 3},
                            max_evaluations=14, seed=5, executor=executor,
                            executor_config={"workers": workers})  # fmt: skip

    def found(name: str, executor: str, workers: int) -> list:
        run_search(config(executor, workers), tmp_path / name)
        frame = load(tmp_path / name).candidates
        return list(zip(frame.genotype_json, frame.status, strict=True))

    parallel = found("process", "process", 2)
    assert found("sequential-2", "sequential", 2) == parallel


def test_sequential_keeps_job_order(table_evaluator):
    space = NB201Space()
    jobs = [Job(k, g) for k, g in enumerate(space.enumerate()) if k < 5]
    with SequentialExecutor() as ex:
        ex.open(table_evaluator)
        outcomes = ex.evaluate(jobs)
    assert [o.result.score for o in outcomes] == [
        table_evaluator.evaluate(j.genotype).score for j in jobs
    ]
    assert {o.worker for o in outcomes} == {"main"}


def test_ray_missing_gives_the_install_line(monkeypatch, table_evaluator):
    monkeypatch.setitem(sys.modules, "ray", None)  # makes `import ray` fail
    with pytest.raises(ConfigError, match=r'pip install "ray>=2\.10"'):
        RayExecutor().open(table_evaluator)


def test_bad_executor_settings_are_refused():
    with pytest.raises(ConfigError, match="Did you mean 'process'"):
        create_executor("proces")
    with pytest.raises(ConfigError, match="workers"):
        create_executor("process", {"workers": 0})
    with pytest.raises(ConfigError, match="no setting 'wrkers' for the 'sequential' executor"):
        create_executor("sequential", {"wrkers": 2})
    with pytest.raises(ConfigError, match="sequential executor workers must be an integer"):
        create_executor("sequential", {"workers": 0})
    assert create_executor("process", {"workers": 3}).workers == 3

    class Local:
        def __init__(self):
            self.fn = lambda g: 0.0  # lambdas cannot be pickled

        def evaluate(self, g, budget=None):
            raise AssertionError

    with pytest.raises(ConfigError, match="picklable"):
        ProcessPoolExecutor(workers=1).open(Local())
    with pytest.raises(ConfigError, match="evaluate"):
        SequentialExecutor().open(object())


def test_ray_that_is_slow_to_start_is_tried_again(monkeypatch):
    from nasbench.strategies.discrete import executors

    class SlowRay:
        def __init__(self, failures: int, message: str) -> None:
            self.failures, self.message, self.inits, self.shutdowns = failures, message, 0, 0

        def init(self, **options):
            self.inits += 1
            if self.inits <= self.failures:
                raise Exception(self.message)

        def shutdown(self):
            self.shutdowns += 1

    slow = SlowRay(2, "The current node timed out during startup. This could happen ...")
    executors._start_ray(slow, {"num_cpus": 2})
    assert (slow.inits, slow.shutdowns) == (3, 2)
    never = SlowRay(9, "The current node timed out during startup.")
    with pytest.raises(ConfigError, match=r"Ray did not start \(The current node timed out"):
        executors._start_ray(never, {})
    assert never.inits == executors.RAY_START_ATTEMPTS
    broken = SlowRay(1, "address 1.2.3.4:6379 is unreachable")
    with pytest.raises(ConfigError, match="unreachable.*process"):
        executors._start_ray(broken, {"address": "1.2.3.4:6379"})
    assert broken.inits == 1  # only a slow start is worth another try


def test_workers_that_die_give_one_line_naming_the_main_guard():
    from concurrent.futures.process import BrokenProcessPool

    from nasbench.strategies.discrete.executors import ProcessPoolExecutor

    class DeadPool:
        def map(self, fn, jobs):
            raise BrokenProcessPool("A process in the process pool was terminated abruptly")

        def shutdown(self, **_):
            pass

    executor = ProcessPoolExecutor(workers=2)
    executor._pool = DeadPool()
    with pytest.raises(ConfigError, match='if __name__ == "__main__":') as err:
        executor.evaluate([])
    assert "\n" not in str(err.value)


def _running(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie that no init has reaped yet does not)."""
    from pathlib import Path

    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\tZ" not in next(line for line in status.splitlines() if line.startswith("State"))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_pool_workers_end_when_their_search_process_is_killed(tmp_path):
    import os
    import signal
    import subprocess
    import time
    from pathlib import Path

    script = tmp_path / "search.py"
    script.write_text(
        "import os, sys, time\n"
        "from nasbench.strategies.discrete.executors import ProcessPoolExecutor\n"
        "class Pid:\n"
        "    def evaluate(self, g, budget=None):\n"
        "        return os.getpid()\n"
        "if __name__ == '__main__':\n"
        "    ex = ProcessPoolExecutor(workers=1)\n"
        "    ex.open(Pid())\n"
        "    print(ex._pool.submit(os.getpid).result(), flush=True)\n"
        "    time.sleep(60)\n"
    )
    repo = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([repo, os.environ.get("PYTHONPATH", "")])}
    search = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True,
                              env=env)  # fmt: skip
    worker = int(search.stdout.readline())
    search.send_signal(signal.SIGKILL)  # no shutdown of the pool: as the OOM killer does
    search.wait()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if not _running(worker):
            break
        time.sleep(0.2)
    else:
        os.kill(worker, signal.SIGKILL)
        raise AssertionError("the pool worker outlived its killed search process")


class FakeRay:
    """Ray's start and shutdown, with a kernel interrupt in ``init`` or ``put``."""

    def __init__(self, interrupted_in: str) -> None:
        self.interrupted_in, self.up, self.started, self.shutdowns = interrupted_in, False, False, 0

    def is_initialized(self) -> bool:
        return self.up

    def init(self, **options):
        self.up = True  # Ray's processes run from here on
        if self.interrupted_in == "init":
            raise KeyboardInterrupt
        if self.interrupted_in == "ctrl-c":  # as a kernel interrupt: SIGINT, mid-start
            import signal

            signal.raise_signal(signal.SIGINT)
            self.started = True

    def put(self, obj):
        if self.interrupted_in == "put":
            raise KeyboardInterrupt
        return obj

    def shutdown(self):
        self.up, self.shutdowns = False, self.shutdowns + 1


def test_an_interrupt_while_ray_starts_shuts_ray_down(monkeypatch, table_evaluator):
    ray = FakeRay("init")
    monkeypatch.setitem(sys.modules, "ray", ray)
    with pytest.raises(KeyboardInterrupt):
        RayExecutor(num_cpus=1).open(table_evaluator)
    assert ray.shutdowns == 1 and not ray.up


def test_ctrl_c_while_ray_starts_lets_it_start_then_shuts_it_down(monkeypatch, table_evaluator):
    import signal

    handler = signal.getsignal(signal.SIGINT)
    ray = FakeRay("ctrl-c")
    monkeypatch.setitem(sys.modules, "ray", ray)
    with pytest.raises(KeyboardInterrupt):
        RayExecutor(num_cpus=1).open(table_evaluator)
    # Halfway, ray.init would leave processes that ray.shutdown cannot reach.
    assert ray.started and ray.shutdowns == 1 and not ray.up
    assert signal.getsignal(signal.SIGINT) is handler


def test_the_loop_closes_an_executor_interrupted_while_it_opens(monkeypatch, table_evaluator):
    ray = FakeRay("put")  # Ray started, then the interrupt
    monkeypatch.setitem(sys.modules, "ray", ray)
    strategy = create_strategy("random", {}, space=NB201Space(), seed=0)
    with pytest.raises(KeyboardInterrupt):
        run_discrete(strategy, table_evaluator, Budget(max_evaluations=2),
                     executor=RayExecutor(num_cpus=1))  # fmt: skip
    assert ray.shutdowns >= 1 and not ray.up


SLEEPY = """
import os, time
from pathlib import Path
from nasbench.evaluation.base import Result

class Sleepy:
    def __init__(self, started):
        self.started = started

    def evaluate(self, genotype, budget=None):
        Path(self.started, str(os.getpid())).touch()
        time.sleep(30)
        return Result({"score": 1.0})
"""


def _interrupt_a_busy_pool(tmp_path, monkeypatch) -> float:
    """Search on a 2-worker pool of 30 s evaluations and send SIGINT (a Ctrl-C) once one
    evaluates; returns the seconds from the signal to the KeyboardInterrupt."""
    import os
    import signal
    import threading
    import time

    (tmp_path / "sleepy_evaluator.py").write_text(SLEEPY)
    monkeypatch.syspath_prepend(str(tmp_path))  # spawned workers get this sys.path too
    started = tmp_path / "started"
    started.mkdir()
    evaluator = importlib.import_module("sleepy_evaluator").Sleepy(str(started))
    strategy = create_strategy("random", {}, space=NB201Space(), seed=0)
    done, sent = threading.Event(), []

    def interrupt_once_evaluating() -> None:
        deadline = time.monotonic() + 120
        while not done.is_set() and time.monotonic() < deadline:
            if any(started.iterdir()):
                sent.append(time.monotonic())
                os.kill(os.getpid(), signal.SIGINT)
                return
            time.sleep(0.05)

    thread = threading.Thread(target=interrupt_once_evaluating, daemon=True)
    thread.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            run_discrete(strategy, evaluator, Budget(max_evaluations=4),
                         executor=ProcessPoolExecutor(workers=2))  # fmt: skip
        surfaced = time.monotonic()
    finally:
        done.set()
        thread.join()
    assert sent
    return surfaced - sent[0]


@pytest.mark.skipif(sys.platform == "win32", reason="sends SIGINT")
def test_an_interrupt_ends_the_running_evaluations_of_a_process_pool(tmp_path, monkeypatch):
    import multiprocessing

    # Children of earlier tests in this worker (a view's measuring process, say) are not
    # this pool's: only the processes this search starts must be gone.
    earlier = {child.pid for child in multiprocessing.active_children()}
    assert _interrupt_a_busy_pool(tmp_path, monkeypatch) < 8  # not after the evaluations
    assert [c for c in multiprocessing.active_children() if c.pid not in earlier] == []


@pytest.mark.skipif(sys.platform == "win32", reason="sends SIGINT")
def test_an_interrupted_pool_s_workers_show_ended_though_its_own_thread_reaped_them(
    tmp_path, monkeypatch
):
    """The pool's manager thread waits for its workers too. Where it reaps one first (a
    busy machine), this process's waitpid fails as if the worker ran on, until that
    thread records the exit code: the interrupt must not return before it has."""
    import multiprocessing
    import os
    import threading
    import time

    earlier = {child.pid for child in multiprocessing.active_children()}
    waitpid = os.waitpid

    def reaped_slowly_off_the_main_thread(pid, options):
        if threading.current_thread() is threading.main_thread():
            return waitpid(pid, options)
        reaped = waitpid(pid, options)
        if reaped[0]:  # a descheduled thread: the exit code is recorded only later
            time.sleep(1.5)
        return reaped

    def main_waits_last(pid, options):  # the main thread's waitpid loses the race
        if threading.current_thread() is threading.main_thread() and options == 0:
            time.sleep(0.3)
        return reaped_slowly_off_the_main_thread(pid, options)

    monkeypatch.setattr(os, "waitpid", main_waits_last)
    assert _interrupt_a_busy_pool(tmp_path, monkeypatch) < 8
    running = [c for c in multiprocessing.active_children() if c.pid not in earlier]
    assert running == []


def test_an_interrupt_as_a_worker_starts_ends_that_worker_too(tmp_path, monkeypatch):
    import multiprocessing
    from multiprocessing.context import SpawnProcess

    (tmp_path / "sleepy_evaluator.py").write_text(SLEEPY)
    monkeypatch.syspath_prepend(str(tmp_path))
    evaluator = importlib.import_module("sleepy_evaluator").Sleepy(str(tmp_path))
    start, starts = SpawnProcess.start, []

    def start_then_interrupt(process):  # Ctrl-C after the second worker started,
        start(process)  # before the pool has recorded it
        starts.append(process)
        if len(starts) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(SpawnProcess, "start", start_then_interrupt)
    strategy = create_strategy("random", {}, space=NB201Space(), seed=0)
    with pytest.raises(KeyboardInterrupt):
        run_discrete(strategy, evaluator, Budget(max_evaluations=4),
                     executor=ProcessPoolExecutor(workers=2))  # fmt: skip
    assert len(starts) == 2 and not any(process.is_alive() for process in starts)
    assert multiprocessing.active_children() == []


@pytest.fixture
def notebook_main(monkeypatch):
    """A ``__main__`` as a notebook has: no file a spawned worker could re-run."""
    import types

    main = types.ModuleType("__main__")
    monkeypatch.setitem(sys.modules, "__main__", main)
    return main


def _notebook_scorer(main):
    def evaluate(self, genotype, budget=None):
        from nasbench.evaluation.base import Result

        return Result({"score": 0.5})

    cls = type("NotebookScorer", (), {"evaluate": evaluate, "__module__": "__main__"})
    main.NotebookScorer = cls
    return cls()


def test_an_evaluator_defined_in_a_notebook_is_refused_before_workers_start(notebook_main):
    import types

    executor = ProcessPoolExecutor(workers=1)
    with pytest.raises(ConfigError, match="NotebookScorer.*importable .py module") as err:
        executor.open(_notebook_scorer(notebook_main))
    assert "\n" not in str(err.value) and executor._pool is None

    def score(genotype, budget=None):
        raise AssertionError

    score.__module__, score.__qualname__ = "__main__", "score"  # a notebook function
    notebook_main.score = score
    with pytest.raises(ConfigError, match="cannot load score"):
        executor.open(types.SimpleNamespace(evaluate=score))


def test_a_main_class_still_works_from_a_script_or_a_forked_pool(notebook_main):
    notebook_main.__file__ = __file__  # a script: spawned workers re-run it
    executor = ProcessPoolExecutor(workers=1)
    executor.open(_notebook_scorer(notebook_main))
    executor.close()
    del notebook_main.__file__
    executor.start_method = "fork"  # a forked worker has this __main__
    with executor:
        executor.open(_notebook_scorer(notebook_main))
        genotype = next(iter(NB201Space().enumerate()))
        assert [o.result.score for o in executor.evaluate([Job(0, genotype)])] == [0.5]


def test_a_folder_registered_in_process_is_refused_for_pool_workers(tmp_path, monkeypatch):
    import numpy as np
    from PIL import Image

    from nasbench import registry
    from nasbench import search as run_search
    from nasbench.config import SearchConfig
    from nasbench.data.folder import register_folder

    # Registered for this test only: the registry is shared by the whole session.
    reg = registry._registry("dataset")
    monkeypatch.setattr(reg, "entries", dict(reg.entries))
    for label in ("a", "b"):
        (tmp_path / "scans" / label).mkdir(parents=True)
        for k in range(10):
            pixels = np.full((16, 16), 10 * k + (120 if label == "b" else 0), np.uint8)
            Image.fromarray(pixels).save(tmp_path / "scans" / label / f"{k}.png")
    register_folder(tmp_path / "scans", name="mine")

    def config(executor: str, dataset: str) -> SearchConfig:
        return SearchConfig(
            strategy="random",
            evaluator="train",
            space={"name": "nb201"},
            dataset={"name": dataset},
            max_evaluations=2,
            executor=executor,
        )

    folder = f"folder:{(tmp_path / 'scans').resolve()}"
    with pytest.raises(ConfigError, match=f'process executor.*name it "{folder}"') as err:
        run_search(config("process", "mine"), tmp_path / "run")
    assert "\n" not in str(err.value) and not (tmp_path / "run").exists()
    with pytest.raises(ConfigError, match="ray executor's workers start without it"):
        config("ray", "mine").validate()
    config("sequential", "mine").validate()
    config("process", folder).validate()  # what the message suggests


def test_a_table_search_may_use_a_folder_registered_in_process(tmp_path):
    # The table's workers read its pickled results, never the dataset: nothing to refuse.
    import numpy as np
    from PIL import Image

    from nasbench.bench.synthetic import synthetic_nb201_table
    from nasbench.bench.table import BenchmarkTable
    from nasbench.config import SearchConfig
    from nasbench.data.folder import register_folder

    for label in ("a", "b"):
        (tmp_path / "scans" / label).mkdir(parents=True)
        for i in range(3):
            image = np.full((28, 28), 60 * i, np.uint8)
            Image.fromarray(image).save(tmp_path / "scans" / label / f"{i}.png")
    register_folder(tmp_path / "scans", name="inprocess-scans")
    landscape = synthetic_nb201_table(seed=0)
    table = BenchmarkTable(landscape.frame, landscape.space, dataset="inprocess-scans")
    table.save(tmp_path / "t.parquet")
    config = SearchConfig(strategy="random", evaluator="table", executor="process",
                          evaluator_config={"path": str(tmp_path / "t.parquet")},
                          space={"name": "nb201"}, max_evaluations=4,
                          dataset={"name": "inprocess-scans"})  # fmt: skip
    assert config.validate() is config

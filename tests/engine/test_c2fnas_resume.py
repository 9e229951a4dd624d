"""C2FNAS resumed after a kill: stage 1 runs again to the same topology, and the search ends
with the genotype and metrics of an uninterrupted run."""

from __future__ import annotations

import pytest

from nasbench.engine.search import search
from nasbench.runs import load

from .test_c2fnas_search import _stage_one, _without_seconds, c2fnas_config


@pytest.fixture
def one_torch_thread():
    """A forked child must not wait on the parent's OpenMP thread team (see the
    kill-anywhere tests): torch runs on one thread around the fork."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.slow
def test_a_killed_search_resumes_to_the_same_topology_and_genotype(tmp_path, one_torch_thread):
    import os
    import signal

    from nasbench.engine.search import resume
    from nasbench.runs.faults import ENV

    config = c2fnas_config()
    config.epochs = 2
    whole = search(config, tmp_path / "whole")
    pid = os.fork()
    if pid == 0:  # the child dies at the first epoch end, after stage 1 was recorded
        code = 1
        try:
            os.environ[ENV] = "epoch_end:1"
            search(config, tmp_path / "killed")
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    resumed = resume(tmp_path / "killed")
    assert resumed.status == "finished" and resumed.genotype == whole.genotype
    assert resumed.metrics == whole.metrics
    runs = [load(tmp_path / name) for name in ("whole", "killed")]
    stage1 = [_without_seconds(_stage_one(run)) for run in runs]
    assert stage1[0] == stage1[1]
    for run in runs:
        run.close()

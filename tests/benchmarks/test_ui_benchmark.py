"""benchmarks/ui.py: its options are checked before the browser test starts."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def bench(load_benchmark):
    return load_benchmark("ui")


def test_the_documented_commands_parse(bench):
    args = bench.parse_args(["--searches", "3", "--load", "6"])
    assert (args.searches, args.repeats, args.load) == (3, 1, 6)
    assert bench.parse_args([]).load == 0


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--searches", "0"], "argument --searches: must be at least 1, got 0"),
        (["--repeats", "0"], "argument --repeats: must be at least 1, got 0"),
        (["--load", "-1"], "argument --load: must be at least 0, got -1"),
        (["--searches", "abc"], "argument --searches: expected a whole number, got 'abc'"),
    ],
)
def test_bad_counts_are_one_line_before_any_browser(bench, monkeypatch, capsys, argv, says):
    started = []
    monkeypatch.setattr(bench, "busy_loops", lambda n: started.append(n) or [])
    monkeypatch.setattr(bench, "run_browser_test", lambda *a: started.append(a) or {})
    with pytest.raises(SystemExit) as stop:
        bench.main(argv)
    assert stop.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].endswith(says)
    assert started == []  # neither busy loops nor a browser session


def test_ctrl_c_kills_the_busy_loops_and_exits_130(bench, monkeypatch, capsys):
    killed = []

    class Loop:
        def kill(self):
            killed.append("kill")

        def wait(self):
            killed.append("wait")

    def interrupt(searches, artifacts):
        raise KeyboardInterrupt

    monkeypatch.setattr(bench, "busy_loops", lambda n: [Loop() for _ in range(n)])
    monkeypatch.setattr(bench, "run_browser_test", interrupt)
    assert bench.run_main(lambda: bench.main(["--load", "2"])) == 130
    assert killed == ["kill", "wait", "kill", "wait"]
    assert capsys.readouterr().err.strip().endswith("interrupted")

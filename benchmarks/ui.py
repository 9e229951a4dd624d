"""Time to Workbench and time to first figure in a real browser, idle and under load.

Runs the browser acceptance test (``tests/browser``: JupyterLab + headless Chromium) that
drives consecutive tiny searches from one ``Workbench``, reads the timings it writes
(``ui-timings.json``) and prints median and worst:

- time to Workbench: from Run All to the tabs on the page, against the same notebook's
  first cell (a print: JupyterLab, the kernel's start and Run All, the baseline), then to
  the Dataset tab's content, and the kernel's own build time;
- time to first figure: from the Run click to the first alpha snapshot on the page;
- store to page: how long after the run store holds a row the figure shows it (first
  alpha row, first loss row, final rows), the quantity issue 12 bounds by 3 s.

``--load N`` starts N busy-loop processes beside it (killed at the end), as a machine
shared with other jobs is.

Usage:
    python benchmarks/ui.py --searches 3 --load 0
    python benchmarks/ui.py --searches 3 --load 6
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _script import count, run_main

REPO = Path(__file__).resolve().parents[1]
TEST = "tests/browser/test_workbench_browser.py"
DELAYS = ("first figure after Run", "first alpha", "first loss", "final rows",
          "Run back after the store's end")  # fmt: skip


def busy_loops(n: int) -> list[subprocess.Popen]:
    """Start ``n`` processes that spin a CPU each."""
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]


def run_browser_test(searches: int, artifacts: Path) -> dict:
    """Run the workbench browser test once; return the timings it wrote."""
    path = os.pathsep.join(filter(None, (str(REPO), os.environ.get("PYTHONPATH"))))
    env = {**os.environ, "NASBENCH_BROWSER_SEARCHES": str(searches),
           "NASBENCH_TEST_ARTIFACTS": str(artifacts), "PYTHONPATH": path}  # fmt: skip
    command = [sys.executable, "-m", "pytest", TEST, "-k", "consecutive", "-q",
               "-p", "no:cacheprovider"]  # fmt: skip
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
    path = artifacts / "browser" / "ui-timings.json"
    if not path.is_file():
        tail = (done.stdout + done.stderr)[-3000:]
        raise SystemExit(f"the browser test wrote no timings (exit {done.returncode}):\n{tail}")
    timings = json.loads(path.read_text())
    timings["test passed"] = done.returncode == 0
    return timings


def summary(values: list[float]) -> str:
    """``median / worst`` of ``values`` in seconds."""
    if not values:
        return "-"
    return f"{statistics.median(values):6.2f} / {max(values):6.2f}"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The options, checked before the browser starts (a session takes over a minute)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--searches", type=count(1), default=3, help="searches per browser session")
    parser.add_argument("--repeats", type=count(1), default=1, help="browser sessions")
    parser.add_argument("--load", type=count(0), default=0, help="busy-loop processes beside it")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    loops = busy_loops(args.load)
    sessions = []
    try:
        for _ in range(args.repeats):
            with tempfile.TemporaryDirectory() as tmp:
                sessions.append(run_browser_test(args.searches, Path(tmp)))
    finally:
        for loop in loops:
            loop.kill()
            loop.wait()
    searches = [s for session in sessions for s in session["searches"]]
    print(f"load average {os.getloadavg()[0]:.1f} (1 min) with {args.load} busy loops; "
          f"{len(sessions)} session(s), {len(searches)} searches; "
          f"test passed: {[s['test passed'] for s in sessions]}")  # fmt: skip
    print(f"{'seconds':42s} median / worst")
    print(f"{'first cell on the page (the baseline)':42s} "
          f"{summary([s['first cell on the page (s)'] for s in sessions])}")  # fmt: skip
    print(f"{'workbench on the page (Run All to tabs)':42s} "
          f"{summary([s['workbench on the page (s)'] for s in sessions])}")  # fmt: skip
    print(f"{'dataset tab filled (Run All to its card)':42s} "
          f"{summary([s['dataset tab filled (s)'] for s in sessions])}")  # fmt: skip
    print(f"{'workbench built in the kernel':42s} "
          f"{summary([s['workbench built in the kernel (s)'] for s in sessions])}")  # fmt: skip
    for name in DELAYS:
        print(f"{name:42s} {summary([s[name] for s in searches if name in s])}")


def _cli() -> int:
    started = time.monotonic()
    main()
    print(f"benchmark took {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(_cli))

"""What describing and loading a user folder costs, next to a first (uncached) reading.

Writes, in a temporary folder, a classification folder of ``--images`` grey PNGs
(``--size`` pixels square, two classes) and a segmentation folder of ``--volumes`` NIfTI
volumes with their masks, then times in one process, in CPU seconds, the best of
``--repeats``:

- ``listing``: ``os.walk`` over the folder, the least any scan of it does (the floor);
- ``scan_folder``: the layout (classes, split files, patients);
- ``folder_info``: the layout and every header a description reads, ``cold`` (every
  cached fact forgotten first: :func:`nasbench.data.folder.clear_file_caches`, what each
  description cost before the caches, and what the first costs now) and ``warm``;
- ``load x3``: ``nasbench.data.load`` of train, val and test of the registered folder
  (a search start loads all three): ``uncached`` forgets every fact before each split, as
  every split read every file before the caches; ``cold`` once before the three (a
  fresh process); ``warm`` not at all.

``ratio`` is a row's time over the first row of its kind (``folder_info cold``, ``load x3
uncached``), measured in the same run; ``headers`` the picture headers a call examined.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/folder_scan.py
    OMP_NUM_THREADS=1 python benchmarks/folder_scan.py --images 20000 --repeats 3
"""

from __future__ import annotations

import os

# Before torch starts OpenMP: spinning worker threads make every process on a shared
# CPU several times slower.
os.environ["OMP_WAIT_POLICY"] = "PASSIVE"

import argparse  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from _script import count, run_main  # noqa: E402

import nasbench.data  # noqa: E402
from nasbench.data import folder, image_files  # noqa: E402
from nasbench.data.folder_layout import scan_folder  # noqa: E402

# The automatic 70/10/20 split needs 3 images per class (two classes) and 3 volumes.
MIN_IMAGES, MIN_VOLUMES = 6, 3


def write_pngs(root: Path, count: int, size: int) -> None:
    """``count`` grey PNGs of ``size`` x ``size`` in two class folders."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for i in range(count):
        label = ("benign", "malignant")[i % 2]
        (root / label).mkdir(parents=True, exist_ok=True)
        pixels = rng.integers(0, 256, (size, size), dtype=np.uint8)
        Image.fromarray(pixels).save(root / label / f"{i:06d}.png")


def write_volumes(root: Path, count: int) -> None:
    """``count`` NIfTI volumes on a scanner grid in images/, their masks in labels/."""
    import nibabel as nib

    affine = np.diag([-1.0, 1, 1, 1])
    affine[:3, 3] = (-8, -8, -4)
    for sub in ("images", "labels"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for i in range(count):
        image = np.zeros((16, 16, 8), np.float32)
        image[4:10, 2:8, 2:6] = 100 + i
        nib.save(nib.Nifti1Image(image, affine), root / "images" / f"c{i:04d}.nii.gz")
        mask = (image > 0).astype(np.float32)
        nib.save(nib.Nifti1Image(mask, affine), root / "labels" / f"c{i:04d}.nii.gz")


HEADERS = [0]  # picture headers examined so far


def _count_headers() -> None:
    examine = image_files._picture_problem

    def counted(image: object) -> str | None:
        HEADERS[0] += 1
        return examine(image)

    image_files._picture_problem = counted


def best_seconds(action: Callable[[], object], repeats: int, cold: bool) -> tuple[float, int]:
    """The least CPU seconds of ``repeats`` calls, and the headers examined by the last;
    ``cold`` forgets every cached fact before each call (untimed)."""
    best, headers = float("inf"), 0
    for _ in range(repeats):
        if cold:
            folder.clear_file_caches()
        before, start = HEADERS[0], time.process_time()
        action()
        best = min(best, time.process_time() - start)
        headers = HEADERS[0] - before
    return best, headers


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--images", type=count(MIN_IMAGES), default=2000, help="PNGs, two classes")
    p.add_argument("--size", type=count(1), default=32, help="the PNGs' side in pixels")
    p.add_argument("--volumes", type=count(MIN_VOLUMES), default=50, help="NIfTI pairs")
    p.add_argument("--repeats", type=count(1), default=5, help="the best of this many")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), load average "
        f"{os.getloadavg()[0]:.2f}; {args.images} PNGs of {args.size}x{args.size}, "
        f"{args.volumes} NIfTI pairs, best of {args.repeats}, CPU seconds"
    )
    with tempfile.TemporaryDirectory() as tmp:
        pngs, nifti = Path(tmp) / "pngs", Path(tmp) / "nifti"
        write_pngs(pngs, args.images, args.size)
        write_volumes(nifti, args.volumes)
        _count_headers()
        folder.register_folder(pngs, name="bench_pngs")
        folder.register_folder(nifti, name="bench_nifti")

        def loads(name: str, uncached: bool = False) -> Callable[[], object]:
            def load_splits() -> None:
                for split in ("train", "val", "test"):
                    if uncached:  # each split reads every file again, as before the caches
                        folder.clear_file_caches()
                    nasbench.data.load(name, split, size=28)

            return load_splits

        rows = []
        for kind, path, files in (("png", pngs, args.images), ("nifti", nifti, args.volumes)):
            name = f"bench_{'pngs' if kind == 'png' else 'nifti'}"
            cases = [
                ("listing", lambda p=path: list(os.walk(p)), False, None),
                ("scan_folder", lambda p=path: scan_folder(p), False, None),
                ("folder_info cold", lambda p=path: folder.folder_info(p), True, "info"),
                ("folder_info warm", lambda p=path: folder.folder_info(p), False, "info"),
                ("load x3 uncached", loads(name, uncached=True), True, "load"),
                ("load x3 cold", loads(name), True, "load"),
                ("load x3 warm", loads(name), False, "load"),
            ]
            cold: dict[str, float] = {}
            for label, action, clear, group in cases:
                seconds, headers = best_seconds(action, args.repeats, clear)
                cold.setdefault(group, seconds)  # the first row of its group
                ratio = f"{seconds / cold[group]:.2f}" if group else "-"
                rows.append((kind, label, seconds, 1e6 * seconds / files, ratio, headers))
    print(f"{'folder':>6}  {'what':<17} {'s':>8} {'us/file':>8} {'ratio':>6} {'headers':>8}")
    for kind, label, seconds, per_file, ratio, headers in rows:
        print(f"{kind:>6}  {label:<17} {seconds:8.4f} {per_file:8.1f} {ratio:>6} {headers:8d}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    raise SystemExit(run_main(main))

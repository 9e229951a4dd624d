"""The item transforms: the default normalisation without MONAI, the same numbers as MONAI's."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
from monai.transforms import NormalizeIntensity

from nasbench.data.transforms import Normalize


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 17, 9), (1, 8, 8, 8)])
@pytest.mark.parametrize("kind", ["float32", "float64", "uint8", "numpy64", "numpy8"])
def test_normalize_equals_monais_normalize_intensity_bit_for_bit(shape, kind):
    generator = torch.Generator().manual_seed(len(shape) * 10 + len(kind))
    unit = torch.rand(shape, generator=generator, dtype=torch.float64)
    image = {
        "float32": unit.float(),
        "float64": unit,
        "uint8": (unit * 255).to(torch.uint8),
        "numpy64": unit.numpy(),
        "numpy8": (unit * 255).to(torch.uint8).numpy(),
    }[kind]
    ours, target = Normalize()(image, 7)
    theirs = NormalizeIntensity(subtrahend=0.5, divisor=0.5)(image)
    assert target == 7
    assert type(ours) is torch.Tensor and ours.dtype == torch.float32 and ours.shape == shape
    assert torch.equal(ours, theirs.as_tensor())


def test_normalize_maps_the_unit_range_onto_minus_one_to_one_and_leaves_its_input():
    image = torch.tensor([[[0.0, 0.5, 1.0]]])
    out, _ = Normalize()(image, 0)
    assert out.tolist() == [[[-1.0, 0.0, 1.0]]]
    out += 1
    assert image.tolist() == [[[0.0, 0.5, 1.0]]]  # a new tensor, not the dataset's


_PLAIN_THEN_AUGMENTED = """
import sys
from nasbench.data import load

ds = load("synthetic", "search_train", limit=16, transform="default"); ds[0]
print("monai" in sys.modules)

class Asked(Exception):
    pass

class RecordMonai:  # importing MONAI takes ~10 s: stop at the request, which is the point
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "monai":
            raise Asked(name)

sys.meta_path.insert(0, RecordMonai())
try:
    ds = load("synthetic", "search_train", limit=16, transform="augment"); ds[0]
    print("monai" in sys.modules)
except Asked:
    print(True)
"""


def test_a_plain_search_dataset_does_not_import_monai_and_augmentation_does():
    # One fresh process (whether MONAI is imported is a whole-process fact) asks both in
    # turn: the plain dataset first, then the augmented one, whose MONAI import is caught
    # as it is asked for rather than paid for.
    run = [sys.executable, "-c", _PLAIN_THEN_AUGMENTED]
    out = subprocess.run(run, capture_output=True, text=True, check=True)
    plain, augmented = out.stdout.split()
    assert plain == "False"
    assert augmented == "True"  # its flips and turns are MONAI's

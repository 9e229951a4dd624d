"""Few-shot episodes: shapes, relabelling, disjoint support/query, determinism, errors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import torch

from nasbench.data.fewshot import EpisodeSampler
from nasbench.errors import DatasetError


@dataclass(frozen=True)
class _Info:
    name: str
    class_names: tuple[str, ...]


class _Toy(torch.utils.data.Dataset):
    """Images whose every pixel encodes (dataset id, index), so tests can trace samples."""

    def __init__(self, name: str, targets, dataset_id: int, shape=(1, 4, 4)) -> None:
        self.targets = np.asarray(targets)
        self.info = _Info(name, tuple(f"c{v}" for v in range(int(self.targets.max()) + 1)))
        self.dataset_id = dataset_id
        self.shape = shape
        self.length = len(self.targets)

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, i):
        image = torch.full(self.shape, float(self.dataset_id * 1000 + i))
        return image, torch.tensor(int(self.targets[i]))


def _toy(name="a", n_classes=4, per_class=6, dataset_id=0, **kwargs) -> _Toy:
    return _Toy(name, np.repeat(np.arange(n_classes), per_class), dataset_id, **kwargs)


def test_episode_shapes_and_labels():
    sampler = EpisodeSampler(_toy(), n_way=3, k_shot=2, n_query=3, seed=0, episodes=5)
    episodes = list(sampler)
    assert len(episodes) == len(sampler) == 5
    e = episodes[0]
    assert tuple(e.support_images.shape) == (6, 1, 4, 4)
    assert tuple(e.query_images.shape) == (9, 1, 4, 4)
    assert e.support_labels.tolist() == [0, 0, 1, 1, 2, 2]
    assert e.query_labels.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert e.support_labels.dtype == torch.int64
    assert len(e.classes) == 3 and len(set(e.classes)) == 3


def test_support_and_query_are_disjoint_and_consistent():
    ds = _toy()
    sampler = EpisodeSampler(ds, n_way=4, k_shot=2, n_query=4, seed=3, episodes=10)
    for e in sampler:
        assert not set(e.support_index) & set(e.query_index)
        # Samples of one episode label share one original class, which matches e.classes.
        for images, labels in (
            (e.support_images, e.support_labels),
            (e.query_images, e.query_labels),
        ):
            for image, label in zip(images, labels, strict=True):
                original = ds.targets[int(image[0, 0, 0])]
                assert e.classes[int(label)] == ("a", f"c{original}")


def test_deterministic_per_seed():
    a = EpisodeSampler(_toy(), 3, 1, 2, seed=7)
    b = EpisodeSampler(_toy(), 3, 1, 2, seed=7)
    c = EpisodeSampler(_toy(), 3, 1, 2, seed=8)
    assert a.episode(4).support_index == b.episode(4).support_index
    assert torch.equal(a.episode(4).query_images, b.episode(4).query_images)
    assert [a.episode(i).query_index for i in range(5)] != [
        c.episode(i).query_index for i in range(5)
    ]
    assert a.episode(0).query_index != a.episode(1).query_index


def test_classes_pooled_over_several_datasets():
    first, second = _toy("a", 2, dataset_id=0), _toy("b", 2, dataset_id=1)
    sampler = EpisodeSampler([first, second], n_way=4, k_shot=1, n_query=1, seed=0)
    e = sampler.episode(0)
    assert {name for name, _ in e.classes} == {"a", "b"}
    assert {p for p, _ in e.support_index} == {0, 1}


def test_errors():
    with pytest.raises(DatasetError, match="n_way=5 but a offer only 4 classes"):
        EpisodeSampler(_toy(), n_way=5, k_shot=1, n_query=1)
    with pytest.raises(DatasetError, match="class 'c0' has 6 samples but k_shot \\+ n_query = 7"):
        EpisodeSampler(_toy(), n_way=2, k_shot=2, n_query=5)
    with pytest.raises(DatasetError, match="shapes"):
        EpisodeSampler([_toy(), _toy("b", shape=(3, 4, 4))], n_way=2, k_shot=1, n_query=1)
    with pytest.raises(DatasetError, match="k_shot must be at least 1"):
        EpisodeSampler(_toy(), n_way=2, k_shot=0, n_query=1)
    sampler = EpisodeSampler(_toy(), n_way=2, k_shot=1, n_query=1)
    for index in (-1, 1.5):  # numpy's "expected non-negative integer", or a float seed
        with pytest.raises(DatasetError, match="episode index must be a whole number >= 0"):
            sampler.episode(index)
    assert sampler.episode(np.int64(3)).classes == sampler.episode(3).classes
    segmentation = _toy()
    segmentation.targets = None
    with pytest.raises(DatasetError, match="no class labels"):
        EpisodeSampler(segmentation, n_way=2, k_shot=1, n_query=1)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda t: EpisodeSampler(t, n_way=1, k_shot=1, n_query=1), "n_way must be at least 2"),
        (lambda t: EpisodeSampler(t, 2, 1, 1, seed=-1), "seed must be a non-negative integer"),
        (lambda t: EpisodeSampler(t, 2, 1, 1, seed=1.5), "got 1.5"),
        (lambda t: EpisodeSampler(t, 2, 1, 1, seed="a"), "got 'a'"),
        (lambda t: EpisodeSampler([t, t], 2, 1, 1), r"a is listed twice \(positions 0 and 1\)"),
        (
            lambda t: EpisodeSampler(["synthetic-multiclass"] * 2, 2, 1, 1),
            "'synthetic-multiclass' is listed twice",
        ),
    ],
)
def test_samplers_that_would_leak_or_mislead_are_refused(call, message):
    # A dataset listed twice pools its classes twice under two labels: an episode could
    # then draw one image as support of one class and query of the other.
    with pytest.raises(DatasetError, match=message) as err:
        call(_toy())
    assert "\n" not in str(err.value)


def test_seeds_past_64_bits_give_episodes():
    sampler = EpisodeSampler(_toy(), n_way=2, k_shot=1, n_query=1, seed=2**70)
    assert sampler.episode(0).classes == sampler.episode(0).classes


def test_registry_names():
    pytest.importorskip("nasbench.data")
    sampler = EpisodeSampler("synthetic-multiclass", n_way=4, k_shot=1, n_query=2, seed=0)
    e = sampler.episode(0)
    assert tuple(e.support_images.shape) == (4, 1, 28, 28)
    assert {name for name, _ in e.classes} == {"synthetic-multiclass"}

"""The CUDA code paths checked on the CPU, with stand-ins for the GPU.

``meta`` stands in for ``cuda``: like CUDA, it refuses an op that mixes its tensors with a
non-scalar CPU tensor. :class:`MetaAsGpu` answers what meta cannot (reads back to the
host), and the CUDA runtime calls are recorded where torch would make them. Each test
here fails on the code before its fix; ``tests/test_cuda.py`` runs the same paths on a
real GPU.
"""

from __future__ import annotations

import copy
import types

import numpy as np
import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

META = torch.device("meta")
aten = torch.ops.aten


class MetaAsGpu(TorchDispatchMode):
    """Meta tensors read back to the host as a GPU's would: :meth:`to_gpu` remembers the
    values of a tensor it puts on meta (and of its detached views), so ``.cpu()`` gives
    them back; other meta tensors read back as zeros, ``.item()`` as a placeholder."""

    def __init__(self) -> None:
        super().__init__()
        self._values: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}

    def to_gpu(self, t: torch.Tensor) -> torch.Tensor:
        on_meta = t.to(META)
        self._values[id(on_meta)] = (on_meta, t.clone())
        return on_meta

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        src = args[0] if args and isinstance(args[0], torch.Tensor) and args[0].is_meta else None
        if src is not None and func is aten._local_scalar_dense.default:
            return True if src.dtype == torch.bool else (0.5 if src.is_floating_point() else 1)
        to_cpu = torch.device(kwargs.get("device") or META).type == "cpu"
        if src is not None and func is aten._to_copy.default and to_cpu:
            known = self._values.get(id(src))
            value = known[1] if known is not None else torch.zeros(src.shape)
            return value.to(kwargs.get("dtype") or src.dtype)
        out = func(*args, **kwargs)
        if src is not None and func is aten.detach.default and id(src) in self._values:
            self._values[id(out)] = (out, self._values[id(src)][1])
        return out


# --- models/morphism.py: widen -----------------------------------------------------------


def test_widen_a_network_on_the_gpu_splits_its_weights_there():
    from nasbench.models.morphism import MorphGenotype, MorphLayer, MorphNet, widen

    genotype = MorphGenotype((MorphLayer(3, 1, 4), MorphLayer(3, 2, 8)), ((0, 2),), 1)
    torch.manual_seed(0)
    net = MorphNet(genotype, num_classes=2)
    for layer, channels in ((0, 6), (1, 12)):
        on_cpu = widen(net, layer, channels, np.random.default_rng(0))
        on_gpu = widen(copy.deepcopy(net).to(META), layer, channels, np.random.default_rng(0))
        assert on_gpu.genotype == on_cpu.genotype
        for name, value in on_gpu.state_dict().items():
            assert value.is_meta and value.shape == on_cpu.state_dict()[name].shape, name


# --- evaluation/detection.py: froc_curve and DetectionTask.batch_metrics -----------------


def _one_image(device) -> tuple[list[dict], list[dict]]:
    detections = [
        {
            "boxes": torch.tensor([[0.0, 0, 4, 4]], device=device),
            "scores": torch.tensor([0.9], device=device),
            "labels": torch.tensor([0], device=device),
        }
    ]
    truths = [
        {
            "boxes": torch.tensor([[0.0, 0, 4, 4], [8, 8, 12, 12]], device=device),
            "labels": torch.tensor([0, 0], device=device),
        }
    ]
    return detections, truths


def test_froc_of_detections_on_the_gpu_matches_the_cpu(monkeypatch):
    import nasbench.evaluation.detection as det

    expected = det.froc(*_one_image("cpu"))
    # check_detections only validates; its any()/all() cannot be answered on meta.
    monkeypatch.setattr(det, "check_detections", lambda d, t: (d, t))
    with MetaAsGpu():
        # one hit of two lesions: the placeholder reads (score 0.5, "any hit") agree
        assert det.froc(*_one_image(META)) == expected == {k: 0.5 for k in expected}


def test_detection_batch_metrics_scores_a_gpu_step_on_the_cpu(monkeypatch):
    import nasbench.evaluation.detection as det
    from nasbench.data import load
    from nasbench.models.detector import DetectionHead

    data = load("synthetic-lesions", "train", size=32, limit=2)
    y = torch.stack([torch.as_tensor(data[i][1]) for i in range(2)])
    head = DetectionHead(4, 1, 4)
    features = torch.randn(2, 4, 8, 8, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        out = head(features, stride=4)
    task = det.DetectionTask()
    expected = task.batch_metrics(out, y)
    devices = []
    decode = det.decode_detections
    monkeypatch.setattr(
        det, "decode_detections", lambda o, **kw: devices.append(o.device.type) or decode(o, **kw)
    )
    with MetaAsGpu() as gpu:
        assert task.batch_metrics(gpu.to_gpu(out), gpu.to_gpu(y)) == expected
    assert devices == ["cpu"]


# --- strategies/differentiable/proxyless.py: load_state_dict ------------------------------


def test_proxyless_state_loaded_onto_the_gpu_keeps_its_pairs_on_the_cpu():
    import torch.nn.functional as F

    from nasbench.models.supernet import build_supernet
    from nasbench.spaces.cell import CellSpace
    from nasbench.spaces.skeleton import Skeleton

    space = CellSpace(n_nodes=2, skeleton=Skeleton(n_cells=3, channels=4, num_classes=2))
    net = build_supernet(space, "proxyless", seed=0)
    gen = torch.Generator().manual_seed(0)
    batch = (torch.randn(4, 1, 8, 8, generator=gen), torch.tensor([0, 1, 0, 1]))
    opt = torch.optim.SGD(net.weight_parameters(), lr=0.1)
    net.method.arch_step(net, batch, batch, F.cross_entropy, 0.1, opt)
    expected = net.method.alpha_records(net)
    state = net.method.state_dict()
    with MetaAsGpu() as gpu:  # what load_checkpoint(map_location=<GPU>) hands over
        for sample in state["samples"].values():
            sample["gates"], sample["pairs"] = (
                gpu.to_gpu(sample["gates"]),
                gpu.to_gpu(sample["pairs"]),
            )
        net.method.load_state_dict(state)
        records = net.method.alpha_records(net)
    assert {s.pairs.device.type for s in net.method._samples.values()} == {"cpu"}
    for got, want in zip(records, expected, strict=True):
        np.testing.assert_array_equal(got.weights, want.weights)
        np.testing.assert_array_equal(got.raw, want.raw)


# --- runs/checkpoint.py: restore_rng -------------------------------------------------------


def test_restore_rng_of_a_checkpoint_loaded_onto_the_gpu(monkeypatch):
    from nasbench.runs import capture_rng, restore_rng

    sampler = torch.Generator().manual_seed(1)
    torch.manual_seed(5)
    state = capture_rng({"sampler": sampler})
    expected = torch.rand(3), torch.rand(3, generator=sampler)
    cuda_states = [torch.arange(8, dtype=torch.uint8), torch.arange(8, 16, dtype=torch.uint8)]
    handed = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "set_rng_state_all", handed.extend)
    with MetaAsGpu() as gpu:  # what load_checkpoint(map_location=<GPU>) hands over
        state["torch"] = gpu.to_gpu(state["torch"])
        state["cuda"] = [gpu.to_gpu(s) for s in cuda_states]
        sampler_state = state["generators"]["sampler"]
        sampler_state["state"] = gpu.to_gpu(sampler_state["state"])
        restore_rng(state, {"sampler": sampler})
    got = torch.rand(3), torch.rand(3, generator=sampler)
    assert all(torch.equal(a, b) for a, b in zip(got, expected, strict=True))
    assert [s.device.type for s in handed] == ["cpu", "cpu"]
    assert all(torch.equal(a, b) for a, b in zip(handed, cuda_states, strict=True))


# --- device.py: resolve_precision and seeded ----------------------------------------------


@pytest.mark.parametrize(
    ("major", "name", "expected"), [(7, "Tesla T4", "fp32"), (8, "A100", "bf16")]
)
def test_auto_precision_takes_bf16_only_where_the_gpu_has_it_natively(
    monkeypatch, major, name, expected
):
    from nasbench.device import resolve_precision

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    props = types.SimpleNamespace(major=major, minor=5, name=name)
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda device: props)
    # a T4 creates bf16 tensors fine: is_bf16_supported() counts that emulation
    monkeypatch.setattr(torch.cuda, "_check_bf16_tensor_supported", lambda device: True)
    cuda = torch.device("cuda")
    assert resolve_precision(cuda, "auto", 64 * 64) == expected
    assert resolve_precision(cuda, "auto") == expected
    assert resolve_precision(cuda, "bf16") == "bf16"  # asked for: emulated or not
    assert resolve_precision(cuda, "auto", 28 * 28) == "fp32"


@pytest.mark.parametrize(("major", "expected"), [(7, "fp32"), (8, "bf16")])
def test_auto_precision_on_a_torch_without_the_emulation_argument(monkeypatch, major, expected):
    # torch 2.2 and 2.3 (which pyproject allows) take no including_emulation argument.
    from nasbench.device import resolve_precision

    def is_bf16_supported():
        return True  # as those versions say wherever a bf16 tensor can be made

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    props = types.SimpleNamespace(major=major, minor=5, name="gpu")
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda device: props)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", is_bf16_supported)
    assert resolve_precision(torch.device("cuda"), "auto", 64 * 64) == expected


def test_seeded_draws_as_manual_seed_and_leaves_the_callers_stream():
    from nasbench.device import seeded

    torch.manual_seed(123)
    torch.rand(1)
    state = torch.get_rng_state()
    callers_next = torch.rand(3)
    torch.set_rng_state(state)
    with seeded(7):
        inside = torch.rand(4)
    assert torch.equal(torch.rand(3), callers_next)
    torch.manual_seed(7)
    assert torch.equal(inside, torch.rand(4))
    torch.set_rng_state(state)
    with seeded(None):  # no seed: the block draws on the caller's stream
        assert torch.equal(torch.rand(3), callers_next)


def _record_cuda_rng(monkeypatch, initialised: bool) -> list[tuple]:
    calls = []
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: initialised)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "manual_seed_all", lambda seed: calls.append(("seed", seed)))
    monkeypatch.setattr(
        torch.cuda,
        "get_rng_state",
        lambda device: calls.append(("get", device)) or f"state{device}",
    )
    monkeypatch.setattr(
        torch.cuda, "set_rng_state", lambda state, device: calls.append(("set", device, state))
    )
    return calls


def test_seeded_before_cuda_starts_leaves_no_cuda_seeding_queued(monkeypatch):
    from nasbench.device import seeded

    calls = _record_cuda_rng(monkeypatch, initialised=False)
    with seeded(7):
        torch.rand(1)
    assert calls == []  # torch.manual_seed would have queued manual_seed_all(7)


def test_seeded_once_cuda_runs_forks_and_seeds_every_gpu(monkeypatch):
    from nasbench.device import seeded

    calls = _record_cuda_rng(monkeypatch, initialised=True)
    with seeded(7):
        assert calls == [("get", 0), ("get", 1), ("seed", 7)]
    assert calls[3:] == [("set", 0, "state0"), ("set", 1, "state1")]


# --- models/costs.py: measure_latency -----------------------------------------------------


def test_latency_on_a_second_gpu_waits_for_that_gpu(monkeypatch):
    from torch import nn

    from nasbench.models import costs

    waited = []
    monkeypatch.setattr(costs, "_model_device", lambda model: torch.device("cuda", 1))
    monkeypatch.setattr(costs, "_example_input", lambda model, shape: torch.zeros(shape))
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: waited.append(device))
    costs.measure_latency(nn.Linear(3, 2), (1, 3), repeats=2, warmup=1, device="cuda:1")
    assert waited == [torch.device("cuda", 1)] * 6

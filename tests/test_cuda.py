"""The CUDA-only code paths: run where a GPU is visible, skipped everywhere else.

``pytest -m cuda`` selects them (``benchmarks/gpu.sh`` does). What only CUDA exercises:
the device choice, bf16 autocast (``nasbench.device.autocast``: the search loop, the
training loop), channels-last by default on CUDA (``wants_channels_last``), the CUDA
peak-memory figures (``reset_peak_memory`` / ``peak_memory_mb``, the benchmark's
``max_memory_allocated``), the CUDA RNG state in checkpoints (``capture_rng``), a
checkpoint loaded back onto the GPU by ``resume``, latency with synchronisation, the
recomputing and the fused mixed edge on the GPU, the cost term beside GPU alphas, the
depthwise convs keeping cuDNN's backward, and the three-pass second-order step.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from nasbench.config import DatasetConfig, SearchConfig

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
]

CUDA = torch.device("cuda")


def tiny_cuda_config(**overrides) -> SearchConfig:
    """Three DARTS cells of two nodes on the GPU, two epochs of three steps."""
    config = SearchConfig(
        dataset=DatasetConfig(name="synthetic", limit=64, batch_size=8),
        space={"name": "darts", "n_nodes": 2, "skeleton": {"n_cells": 3, "channels": 4}},
        strategy="darts",
        epochs=2,
        max_steps_per_epoch=3,
        device="cuda",
        precision="fp32",
        checkpoint_every=1,
        seed=3,
    )
    for key, value in overrides.items():
        setattr(config, key, value)
    return config


def _history(run_dir: Path):
    from nasbench.runs import load

    history = load(run_dir).history
    history = history[~history.name.isin({"images_per_s", "peak_memory_mb"})]
    return history.sort_values(["step", "phase", "name"])[["step", "phase", "name", "value"]]


def _tiny_supernet(method: str = "darts", method_config: dict | None = None):
    from nasbench.models.supernet import build_supernet
    from nasbench.spaces.cell import CellSpace
    from nasbench.spaces.skeleton import Skeleton

    space = CellSpace(n_nodes=2, skeleton=Skeleton(n_cells=3, channels=4))
    return build_supernet(space, method, method_config, seed=0)


def test_device_choice_and_precision_on_cuda():
    from nasbench.device import resolve_device, resolve_precision, wants_channels_last

    assert resolve_device("auto").type == "cuda"
    assert resolve_device("cuda").type == "cuda"
    # Native bf16 only: a V100 or T4 emulates it and "auto" keeps fp32 there.
    expected = "bf16" if torch.cuda.is_bf16_supported(including_emulation=False) else "fp32"
    assert resolve_precision(CUDA, "auto") == expected
    assert resolve_precision(CUDA, "auto", 64 * 64) == expected
    assert resolve_precision(CUDA, "auto", 28 * 28) == "fp32"  # launch-bound: no casts
    assert resolve_precision(CUDA, "fp32") == "fp32"
    assert wants_channels_last(CUDA, False) is True
    assert wants_channels_last(CUDA, False, 28 * 28) is False


def test_tiny_darts_search_on_cuda_records_gpu_figures(tmp_path):
    from nasbench.engine.search import search
    from nasbench.runs import load

    result = search(tiny_cuda_config(), tmp_path / "run")
    assert result.status == "finished" and result.steps == 6
    run = load(tmp_path / "run")
    assert run.environment["cuda"]["available"] is True
    assert run.environment["cuda"]["device_name"]
    val = run.history[run.history.phase == "val"]
    peaks = val[val.name == "peak_memory_mb"].value.to_numpy()
    assert len(peaks) == 2 and np.all(peaks > 0)
    losses = run.history[(run.history.phase == "train") & (run.history.name == "loss")]
    assert len(losses) == 6 and np.isfinite(losses.value.to_numpy()).all()


def test_cost_weighted_search_on_cuda_logs_the_same_share_as_the_cpu(tmp_path):
    from nasbench.engine.search import search
    from nasbench.runs import load

    shares = {}
    for device in ("cpu", "cuda"):
        config = tiny_cuda_config(device=device, strategy_config={"cost_weight": 1.0})
        search(config, tmp_path / device)
        history = load(tmp_path / device).history
        shares[device] = history[history.name == "arch_cost_share"].value.to_numpy()
    assert len(shares["cuda"]) == 6 and np.all((shares["cuda"] > 0) & (shares["cuda"] < 1))
    # The op costs live on the CPU; the share is computed beside the alphas on the GPU.
    assert np.allclose(shares["cuda"][0], shares["cpu"][0], atol=1e-6)


def test_bf16_search_on_cuda_finishes_with_finite_losses(tmp_path):
    if not torch.cuda.is_bf16_supported():
        pytest.skip("this GPU has no bf16")
    from nasbench.engine.search import search
    from nasbench.runs import load

    result = search(tiny_cuda_config(precision="bf16"), tmp_path / "run")
    assert result.status == "finished"
    history = load(tmp_path / "run").history
    assert np.isfinite(history.value.to_numpy()).all()
    assert load(tmp_path / "run").config["precision"] == "bf16"


def test_bf16_autocast_step_computes_in_bf16_and_keeps_fp32_gradients():
    if not torch.cuda.is_bf16_supported():
        pytest.skip("this GPU has no bf16")
    from nasbench.device import autocast

    net = _tiny_supernet().to(CUDA)
    x = torch.randn(4, 1, 16, 16, device=CUDA)
    y = torch.tensor([0, 1, 0, 1], device=CUDA)
    with autocast(CUDA, "bf16"):
        logits = net(x)
        loss = nn.functional.cross_entropy(logits, y)
    assert logits.dtype == torch.bfloat16
    loss.backward()
    grads = [p.grad for p in net.weight_parameters() if p.grad is not None]
    assert grads and all(g.dtype == torch.float32 and torch.isfinite(g).all() for g in grads)
    assert all(torch.isfinite(a.grad).all() for a in net.arch_parameters())


def test_recomputed_edges_match_the_stored_graph_on_cuda_and_run_in_bf16():
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    x = torch.randn(4, 1, 16, 16, device=CUDA)
    y = torch.tensor([0, 1, 0, 1], device=CUDA)
    grads = []
    for memory in ("store", "recompute-edge", "recompute-convs"):
        net = _tiny_supernet("darts", {"memory": memory}).to(CUDA)
        nn.functional.cross_entropy(net(x), y).backward()
        grads.append([p.grad for p in net.parameters()])
    for recomputed in grads[1:]:
        for a, b in zip(grads[0], recomputed, strict=True):
            torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-6)
    if torch.cuda.is_bf16_supported():
        from nasbench.device import autocast

        net = _tiny_supernet("darts", {"memory": "recompute-edge"}).to(CUDA)
        with autocast(CUDA, "bf16"):
            loss = nn.functional.cross_entropy(net(x), y)
        loss.backward()  # the backward recomputes the ops under the forward's autocast
        assert all(torch.isfinite(a.grad).all() for a in net.arch_parameters())


def test_fused_convolutions_match_the_unfused_supernet_on_cuda():
    """``fuse_ops`` cuts the kernel launches of an edge, which is what binds a GPU step."""
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    x = torch.randn(4, 1, 16, 16, device=CUDA)
    y = torch.tensor([0, 1, 0, 1], device=CUDA)
    grads = []
    for config in ({}, {"fuse_ops": True}, {"fuse_ops": True, "memory": "recompute-edge"}):
        net = _tiny_supernet("darts", config).to(CUDA)
        nn.functional.cross_entropy(net(x), y).backward()
        grads.append([p.grad for p in net.parameters()])
    for fused in grads[1:]:
        for a, b in zip(grads[0], fused, strict=True):
            torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-6)


def test_depthwise_convs_keep_pytorchs_backward_on_cuda_and_the_cpus_numbers():
    """The own depthwise backward is CPU-only: on the GPU cuDNN's runs, same gradients."""
    from nasbench.spaces.depthwise import DepthwiseConv2d

    torch.backends.cudnn.allow_tf32 = False
    conv = DepthwiseConv2d(4, 5, 1, 4, 2)
    x = torch.randn(2, 4, 12, 12)
    grads = {}
    for device in ("cpu", "cuda"):
        module = conv.to(device)
        xd = x.to(device).requires_grad_()
        out = module(xd)
        expected = "ConvolutionBackward0" if device == "cuda" else "_FlippedBackwardConvBackward"
        assert type(out.grad_fn).__name__ == expected
        grads[device] = [
            g.cpu() for g in torch.autograd.grad(out.square().sum(), (xd, module.weight))
        ]
    for a, b in zip(grads["cpu"], grads["cuda"], strict=True):
        torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-5)


def test_second_order_forward_difference_step_on_cuda():
    """``unrolled_difference="forward"``: three passes on the GPU, alphas move, weights kept."""
    net = _tiny_supernet("darts", {"order": 2, "unrolled_difference": "forward"}).to(CUDA)
    net.method.setup(net)
    opt = torch.optim.SGD(net.weight_parameters(), lr=0.025, momentum=0.9)
    x, y = torch.randn(4, 1, 16, 16, device=CUDA), torch.tensor([0, 1, 0, 1], device=CUDA)
    weights = [p.detach().clone() for p in net.weight_parameters()]
    alphas = [a.detach().clone() for a in net.arch_parameters()]
    metrics = net.method.arch_step(net, (x, y), (x, y), nn.functional.cross_entropy, 0.025, opt)
    assert math.isfinite(metrics["arch_loss"])
    assert all(torch.equal(p, w) for p, w in zip(net.weight_parameters(), weights, strict=True))
    assert any(not torch.equal(a, b) for a, b in zip(net.arch_parameters(), alphas, strict=True))


def test_channels_last_supernet_gives_the_same_logits_on_cuda():
    from nasbench.device import to_channels_last

    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    plain = _tiny_supernet().to(CUDA).eval()
    fast = _tiny_supernet().to(CUDA).eval()
    fast.channels_last = True
    to_channels_last(fast, 2)
    x = torch.randn(4, 1, 16, 16, device=CUDA)
    with torch.no_grad():
        torch.testing.assert_close(fast(x), plain(x), rtol=1e-4, atol=1e-5)


def test_global_average_pool_keeps_channels_last_gradients_on_cuda():
    from nasbench.device import memory_format_of
    from nasbench.spaces.blocks import GlobalAvgPool

    x = torch.randn(4, 8, 7, 7, device=CUDA).contiguous(memory_format=torch.channels_last)
    x.requires_grad_()
    pooled = GlobalAvgPool()(x)
    torch.testing.assert_close(pooled, x.mean((2, 3), keepdim=True), rtol=0, atol=0)
    (grad,) = torch.autograd.grad(pooled, x, torch.ones_like(pooled))
    assert memory_format_of(grad) == torch.channels_last
    torch.testing.assert_close(grad, torch.full_like(x, 1 / 49), rtol=1e-6, atol=0)


def test_peak_memory_figures_on_cuda():
    from nasbench.device import peak_memory_mb, reset_peak_memory

    # Earlier tests in this process may still hold GPU memory: count from what is in use.
    in_use_mb = torch.cuda.memory_allocated(CUDA) / 2**20
    reset_peak_memory(CUDA)
    block = torch.empty(64 * 2**20, dtype=torch.uint8, device=CUDA)
    assert peak_memory_mb(CUDA) - in_use_mb >= 64
    del block
    torch.cuda.synchronize()
    reset_peak_memory(CUDA)
    assert peak_memory_mb(CUDA) - in_use_mb < 64


def test_cuda_rng_state_round_trips_through_a_checkpoint(tmp_path):
    from nasbench.runs import capture_rng, load_checkpoint, restore_rng, save_checkpoint

    torch.cuda.manual_seed_all(11)
    state = capture_rng()
    assert "cuda" in state
    save_checkpoint(tmp_path, {"rng": state}, step=1)
    first = torch.randn(5, device=CUDA)
    restore_rng(load_checkpoint(tmp_path, map_location="cpu")["rng"])
    torch.testing.assert_close(torch.randn(5, device=CUDA), first, rtol=0, atol=0)


def test_killed_cuda_search_resumes_to_the_same_rows(tmp_path):
    from nasbench.engine.search import resume, search
    from nasbench.runs import load

    config = tiny_cuda_config()
    reference = search(config, tmp_path / "reference")
    config_path = tmp_path / "config.json"
    config.save(config_path)
    env = {**os.environ, "NASBENCH_FAULT": "step:4", "OMP_NUM_THREADS": "1"}
    killed = tmp_path / "killed"
    cmd = [sys.executable, "-m", "nasbench", "search", "--config", str(config_path)]
    done = subprocess.run(
        [*cmd, "--run-dir", str(killed)], env=env, capture_output=True, check=False
    )
    assert done.returncode != 0, "the fault point should have killed the search"
    assert load(killed).progress["step"] == 4

    resumed = resume(killed)
    assert resumed.status == "finished" and resumed.steps == reference.steps
    assert resumed.genotype == reference.genotype
    got, want = _history(killed), _history(tmp_path / "reference")
    assert got[["step", "phase", "name"]].to_numpy().tolist() == (
        want[["step", "phase", "name"]].to_numpy().tolist()
    )
    # GPU kernels may sum in another order from one process to the next.
    np.testing.assert_allclose(
        got.value.to_numpy(float), want.value.to_numpy(float), rtol=1e-4, atol=1e-5
    )


def test_bf16_training_loop_on_cuda():
    if not torch.cuda.is_bf16_supported():
        pytest.skip("this GPU has no bf16")
    from nasbench.data import load
    from nasbench.evaluation.train_loop import TrainConfig, train_model

    datasets = [load("synthetic", split, limit=32) for split in ("train", "val", "test")]
    model = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten()
    )
    model.append(nn.Linear(8, datasets[0].info.num_classes))
    config = TrainConfig(epochs=1, batch_size=8, device="cuda", precision="bf16", augment=False)
    result = train_model(model, *datasets, task=datasets[0].info.task, config=config)
    assert result.epochs_run == 1
    assert math.isfinite(result.history[0]["train_loss"]) and math.isfinite(result.test["loss"])


def test_latency_on_cuda_synchronises():
    from nasbench.models.costs import measure_latency

    row = measure_latency(nn.Linear(64, 64), (32, 64), repeats=5, device="cuda")
    assert row["median_ms"] > 0 and row["p90_ms"] >= row["median_ms"]


def test_supernet_benchmark_measures_on_cuda(load_benchmark):
    bench = load_benchmark("supernet")
    tiny = bench.BenchConfig("tiny", n_cells=3, channels=4, size=8, batch=4)
    for precision in ("fp32", "bf16"):
        row = bench.measure(tiny, bench.VARIANTS["darts-1st"], 1, 0, "cuda", precision=precision)
        assert row["device"].startswith("cuda") and row["peak_mb"] > 0
        assert row["precision"] == precision


def test_graphed_search_step_replays_and_moves_weights_and_alphas(load_benchmark):
    bench = load_benchmark("supernet")
    tiny = bench.BenchConfig("tiny", n_cells=3, channels=4, size=8, batch=4)
    row = bench.measure(tiny, bench.VARIANTS["darts-1st+graph"], 2, 1, "cuda")
    assert math.isfinite(row["s_per_step"]) and row["peak_mb"] > 0

    net = bench.build_variant(tiny, bench.VARIANTS["darts-1st"]).to(CUDA)
    net.method.setup(net)
    w_optimizer = torch.optim.SGD(net.weight_parameters(), lr=0.025, momentum=0.9)
    x = torch.randn(4, 1, 8, 8, device=CUDA)
    y = torch.tensor([0, 1, 0, 1], device=CUDA)
    step = bench.graphed_first_order_step(net, w_optimizer, nn.CrossEntropyLoss(), (x, y), (x, y))
    alphas = [a.detach().clone() for a in net.arch_parameters()]
    weights = [w.detach().clone() for w in net.weight_parameters()]
    step()
    torch.cuda.synchronize()
    assert any(not torch.equal(a, b) for a, b in zip(alphas, net.arch_parameters(), strict=True))
    assert any(not torch.equal(w, v) for w, v in zip(weights, net.weight_parameters(), strict=True))


def _search_step_figures(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> dict[str, list]:
    """One search step of ``net`` in float64 (the method's architecture step, then a weight
    forward and backward): the alphas it moved to, the logits, every weight gradient and
    every BatchNorm buffer, all on the CPU."""
    net.method.setup(net)  # the architecture optimizer must hold this device's tensors
    w_optimizer = torch.optim.SGD(net.weight_parameters(), lr=0.025, momentum=0.9)
    net.train()
    net.method.arch_step(net, (x, y), (x, y), nn.functional.cross_entropy, 0.025, w_optimizer)
    w_optimizer.zero_grad(set_to_none=True)
    logits = net(x)
    nn.functional.cross_entropy(logits, y).backward()
    return {
        "alphas": [a.detach().cpu() for a in net.arch_parameters()],
        "logits": [logits.detach().cpu()],
        "weight grads": [
            torch.zeros(0) if p.grad is None else p.grad.cpu() for p in net.weight_parameters()
        ],
        "buffers": [b.cpu() for b in net.buffers() if b.is_floating_point()],
    }


# Every supernet the benchmark times, but the original code's and the graph-captured step.
_CROSS_DEVICE_VARIANTS = (
    "textbook", "textbook-2nd", "darts-1st", "darts-1st+cl", "darts-1st+cl+ckpt",
    "darts-1st+recompute", "darts-1st+cl+recompute-convs", "darts-1st+cl+fused+recompute",
    "darts-2nd+cl+fwd+recompute", "darts-2nd+cl", "gdas+cl", "pcdarts+cl", "proxyless+cl",
)  # fmt: skip


@pytest.mark.parametrize("variant", _CROSS_DEVICE_VARIANTS)
def test_every_supernet_variant_takes_the_cpus_search_step_on_cuda(load_benchmark, variant):
    """Whatever a variant runs on the GPU (cuDNN's depthwise backward, channels-last, the
    gathered GDAS weights, FactorizedReduce's even and odd grids, recomputed edges, the
    second-order passes) gives the CPU's numbers, in float64 where both are exact to
    rounding; the sampled variants draw on the CPU generator, so the same ops."""
    import copy

    bench = load_benchmark("supernet")
    tiny = bench.BenchConfig("tiny", n_cells=3, channels=4, size=13, batch=4)
    net = bench.build_variant(tiny, bench.VARIANTS[variant]).double()
    on_cuda = copy.deepcopy(net).to(CUDA)
    x = torch.randn(4, 1, 13, 13, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    y = torch.tensor([0, 1, 0, 1])
    expected = _search_step_figures(net, x, y)
    found = _search_step_figures(on_cuda, x.to(CUDA), y.to(CUDA))
    for name, tensors in expected.items():
        assert len(found[name]) == len(tensors), name
        for index, (cpu, cuda) in enumerate(zip(tensors, found[name], strict=True)):
            torch.testing.assert_close(cuda, cpu, rtol=1e-7, atol=1e-9, msg=f"{name} {index}")


# One tiny search of every kind the bilevel loop runs besides DARTS cells on classification
# (tested above): (dataset, size, space, strategy, strategy_config).
_SEARCH_KINDS = {
    "nasunet-2d-proxyless": (
        "synthetic-seg", 64,
        {"name": "nasunet", "n_nodes": 2, "skeleton": {"depth": 2, "channels": 4}},
        "proxyless", {},
    ),
    "vnas-3d-darts": (
        "synthetic-seg3d", 32, {"name": "vnas", "skeleton": {"depth": 2, "channels": 4}},
        "darts", {},
    ),
    "dints-3d": (
        "synthetic-seg3d", 32,
        {"name": "dints", "num_blocks": 2, "skeleton": {"depth": 2, "channels": 4}},
        "dints", {},
    ),
    "trellis-pcdarts": (
        "synthetic-seg", 28,
        {"name": "trellis", "num_layers": 2, "ops": ["skip_connect", "sep_conv_3x3"],
         "n_nodes": 1, "skeleton": {"depth": 1, "channels": 4}},
        "pcdarts", {"k": 2},
    ),
    "c2fnas-3d": (
        "synthetic-seg3d", 32,
        {"name": "c2fnas", "num_cells": 4, "candidates": 2, "proxy_steps": 1,
         "skeleton": {"depth": 1, "channels": 2}},
        "darts", {},
    ),
    "unrolled-reconstruction-gdas": (
        "synthetic-recon", 28,
        {"name": "unrolled", "n_nodes": 1, "skeleton": {"cascades": 2, "channels": 4}},
        "gdas", {},
    ),
    "alb-detection-gdas": (
        "synthetic-lesions", 32,
        {"name": "alb", "n_nodes": 2, "skeleton": {"channels": 4}, "head_width": 8},
        "gdas", {},
    ),
    "unnas-rotation": (
        "synthetic", 28,
        {"name": "darts", "n_nodes": 2, "skeleton": {"n_cells": 2, "channels": 2}},
        "unnas", {"pretext": "rotation"},
    ),
}  # fmt: skip


@pytest.mark.parametrize("kind", sorted(_SEARCH_KINDS))
def test_every_search_kind_runs_on_cuda(tmp_path, kind):
    """Segmentation 2D/3D, topology, two-stage, reconstruction, detection and pretext
    searches: each finishes on the GPU with finite training losses and moved alphas."""
    from nasbench.engine.search import search
    from nasbench.runs import load

    name, size, space, strategy, strategy_config = _SEARCH_KINDS[kind]
    config = SearchConfig(
        dataset=DatasetConfig(name=name, size=size, limit=8, batch_size=2),
        space=space,
        strategy=strategy,
        strategy_config=strategy_config,
        epochs=1,
        max_steps_per_epoch=2,
        device="cuda",
        seed=0,
    )
    result = search(config, tmp_path / "run")
    assert result.status == "finished" and result.steps == 2
    run = load(tmp_path / "run")
    losses = run.history[(run.history.phase == "train") & (run.history.name == "loss")]
    assert len(losses) == 2 and np.isfinite(losses.value).all()
    alphas = run.alphas
    first, last = alphas[alphas.step == alphas.step.min()], alphas[alphas.step == alphas.step.max()]
    assert alphas.step.max() > alphas.step.min()
    assert not np.array_equal(first.raw.to_numpy(), last.raw.to_numpy())
    assert run.environment["device"].startswith("cuda")


def test_widened_network_on_cuda_matches_the_cpus_child():
    from nasbench.models.morphism import MorphGenotype, MorphLayer, MorphNet, widen

    genotype = MorphGenotype((MorphLayer(3, 1, 4), MorphLayer(3, 2, 8)), ((0, 2),), 1)
    net = MorphNet(genotype, num_classes=2)
    on_cpu = widen(net, 1, 12, np.random.default_rng(0))
    on_cuda = widen(net.to(CUDA), 1, 12, np.random.default_rng(0))  # shares built on the CPU
    for name, value in on_cuda.state_dict().items():
        assert value.device.type == CUDA.type
        torch.testing.assert_close(value.cpu(), on_cpu.state_dict()[name], rtol=0, atol=0)


def test_detection_batch_metrics_and_froc_of_a_cuda_step_match_the_cpu():
    from nasbench.data import load
    from nasbench.evaluation.detection import DetectionTask, decode_detections, froc, truths_of
    from nasbench.models.detector import DetectionHead

    data = load("synthetic-lesions", "train", size=32, limit=4)
    y = torch.stack([torch.as_tensor(data[i][1]) for i in range(4)])
    head = DetectionHead(4, 1, 4)
    features = torch.randn(4, 4, 8, 8, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        out = head(features, stride=4)
    task = DetectionTask()
    assert task.batch_metrics(out.to(CUDA), y.to(CUDA)) == task.batch_metrics(out, y)
    truths = truths_of(y)
    found = decode_detections(out, image_size=(32, 32))
    on_cuda = [{k: v.to(CUDA) for k, v in d.items()} for d in found]
    truths_on_cuda = [{k: v.to(CUDA) for k, v in t.items()} for t in truths]
    assert froc(on_cuda, truths_on_cuda) == froc(found, truths)


def test_proxyless_state_loaded_onto_cuda_records_its_alphas(tmp_path):
    import torch.nn.functional as F

    from nasbench.runs import load_checkpoint, save_checkpoint

    net = _tiny_supernet("proxyless").to(CUDA)
    net.method.setup(net)
    x, y = torch.randn(4, 1, 8, 8, device=CUDA), torch.tensor([0, 1, 0, 1], device=CUDA)
    opt = torch.optim.SGD(net.weight_parameters(), lr=0.1)
    net.method.arch_step(net, (x, y), (x, y), F.cross_entropy, 0.1, opt)
    expected = net.method.alpha_records(net)
    save_checkpoint(tmp_path, {"method": net.method.state_dict()}, step=1)
    net.method.load_state_dict(load_checkpoint(tmp_path, map_location=CUDA)["method"])
    for got, want in zip(net.method.alpha_records(net), expected, strict=True):
        np.testing.assert_array_equal(got.weights, want.weights)


def test_rng_state_of_a_checkpoint_loaded_onto_cuda_restores(tmp_path):
    from nasbench.runs import capture_rng, load_checkpoint, restore_rng, save_checkpoint

    sampler = torch.Generator().manual_seed(1)
    torch.manual_seed(11)
    save_checkpoint(tmp_path, {"rng": capture_rng({"sampler": sampler})}, step=1)
    first = torch.randn(3), torch.randn(3, device=CUDA), torch.randn(3, generator=sampler)
    restore_rng(load_checkpoint(tmp_path, map_location=CUDA)["rng"], {"sampler": sampler})
    again = torch.randn(3), torch.randn(3, device=CUDA), torch.randn(3, generator=sampler)
    for a, b in zip(again, first, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_seeded_block_seeds_the_gpu_and_leaves_the_callers_gpu_stream():
    from nasbench.device import seeded

    torch.randn(1, device=CUDA)  # CUDA initialised
    state = torch.cuda.get_rng_state()
    callers_next = torch.randn(3, device=CUDA)
    torch.cuda.set_rng_state(state)
    with seeded(7):
        inside = torch.randn(4, device=CUDA)
    torch.testing.assert_close(torch.randn(3, device=CUDA), callers_next, rtol=0, atol=0)
    torch.manual_seed(7)
    torch.testing.assert_close(inside, torch.randn(4, device=CUDA), rtol=0, atol=0)


def test_latency_on_another_gpu_waits_for_that_gpu():
    if torch.cuda.device_count() < 2:
        pytest.skip("needs two GPUs")
    from nasbench.models.costs import measure_latency

    row = measure_latency(nn.Linear(64, 64), (32, 64), repeats=5, device="cuda:1")
    assert row["median_ms"] > 0

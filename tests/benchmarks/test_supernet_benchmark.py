"""benchmarks/supernet.py: the table at a tiny size, and the options it measures are exact."""

from __future__ import annotations

import json
import math
import sys

import pytest
import torch
from torch import nn


@pytest.fixture(scope="module")
def bench(load_benchmark):
    return load_benchmark("supernet")


@pytest.fixture(scope="module")
def tiny(bench):
    return bench.BenchConfig("tiny", n_cells=3, channels=4, size=8, batch=4)


@pytest.mark.slow
def test_isolated_table_has_finite_ratios(bench, tiny):
    rows = bench.run_benchmark(tiny, ["darts-1st", "pcdarts+cl+ckpt"], steps=1, warmup=0)
    assert [r["variant"] for r in rows] == ["textbook", "darts-1st", "pcdarts+cl+ckpt"]
    for row in rows:
        assert "error" not in row, row
        for key in ("s_per_step", "steps_per_s", "images_per_s", "speedup", "memory_ratio"):
            assert math.isfinite(row[key]) and row[key] > 0, (key, row)
        assert row["peak_mb"] > 0 and row["device"] == "cpu" and row["threads"] >= 1
        assert row["steps_per_s"] == pytest.approx(1.0 / row["s_per_step"])
        # the architecture step is part of the step, timed on the same clock
        assert 0 < row["arch_s_per_step"] < row["s_per_step"], row
    textbook = rows[0]
    assert textbook["speedup"] == 1.0 and textbook["memory_ratio"] == 1.0
    assert textbook["textbook_step_per_arch_step"] == pytest.approx(
        textbook["s_per_step"] / textbook["arch_s_per_step"]
    )
    table = bench.format_table(rows).splitlines()
    assert table[0].split()[:10] == [
        "variant",
        "s/step",
        "arch",
        "s",
        "tb/arch",
        "steps/s",
        "peak",
        "MiB",
        "speedup",
        "memory",
    ]
    assert len(table) == 1 + len(rows) and table[2].startswith("darts-1st")


def test_ratios_and_target_against_the_rows_baseline(bench):
    rows = [
        {
            "variant": "textbook",
            "baseline": "textbook",
            "steps_per_s": 1.0,
            "s_per_step": 1 / 1.0,
            "peak_mb": 900.0,
        },
        {
            "variant": "textbook-2nd",
            "baseline": "textbook",
            "steps_per_s": 0.5,
            "s_per_step": 1 / 0.5,
            "peak_mb": 900.0,
        },
        {
            "variant": "fast",
            "baseline": "textbook",
            "steps_per_s": 2.5,
            "s_per_step": 1 / 2.5,
            "peak_mb": 300.0,
        },
        {
            "variant": "two",
            "baseline": "textbook-2nd",
            "steps_per_s": 0.75,
            "s_per_step": 1 / 0.75,
            "arch_s_per_step": 0.8,
            "peak_mb": 450.0,
        },
        {"variant": "broken", "baseline": "textbook", "error": "killed"},
    ]
    out = {r["variant"]: r for r in bench.add_ratios(rows)}
    assert out["fast"]["speedup"] == 2.5 and out["fast"]["memory_ratio"] == pytest.approx(1 / 3)
    assert out["fast"]["meets_target"] is True
    assert out["two"]["speedup"] == 1.5 and out["two"]["meets_target"] is False
    assert math.isnan(out["broken"]["speedup"]) and out["broken"]["meets_target"] is False
    # a second-order arch step of 0.8 s against the textbook's whole 1 s first-order step
    assert out["two"]["textbook_step_per_arch_step"] == pytest.approx(1.25)
    assert math.isnan(out["fast"]["textbook_step_per_arch_step"])  # no arch time: no ratio
    table = bench.format_table(rows)
    assert "failed: killed" in table
    assert "1.25x" in table.splitlines()[4]  # header, textbook, textbook-2nd, fast, two


def test_baselines_are_added_first_and_unknown_names_rejected(bench):
    assert bench._with_baselines(["darts-2nd", "gdas"]) == [
        "textbook",
        "textbook-2nd",
        "darts-2nd",
        "gdas",
    ]
    with pytest.raises(SystemExit, match="Unknown variant"):
        bench._with_baselines(["dartz"])


def test_textbook_edge_computes_none_and_darts_does_not(bench, tiny):
    from nasbench.strategies.differentiable import MixedEdge

    def none_calls(variant: str) -> int:
        net = bench.build_variant(tiny, bench.VARIANTS[variant])
        calls = []
        for module in net.modules():
            if isinstance(module, MixedEdge):
                zero = module.ops[module.op_names.index("none")]
                zero.register_forward_hook(lambda *_: calls.append(1))
        net(torch.randn(2, 1, 8, 8))
        return len(calls)

    assert none_calls("textbook") == 3 * 14  # every edge of every cell
    assert none_calls("darts-1st") == 0


@pytest.mark.parametrize("method", ["darts", "pcdarts", "proxyless"])
def test_checkpoint_and_channels_last_give_the_same_step(bench, tiny, method):
    """The speed/memory options change how, not what: same loss, gradients, BN statistics."""
    from nasbench.models.supernet import build_supernet
    from nasbench.spaces import create_space
    from nasbench.spaces.skeleton import Skeleton

    space = create_space("darts", skeleton=Skeleton(n_cells=3, channels=4))
    gen = torch.Generator().manual_seed(0)
    x, y = torch.randn(4, 1, 8, 8, generator=gen), torch.randint(0, 2, (4,), generator=gen)

    def step(**options):
        net = build_supernet(space, method, seed=0, **options)
        with net.forward_mode("arch" if method == "proxyless" else "train"):
            loss = torch.nn.functional.cross_entropy(net(x), y)
        loss.backward()
        grads = [p.grad for p in net.parameters() if p.grad is not None]
        return loss, grads, [b.clone() for b in net.buffers()]

    loss, grads, buffers = step()
    for options in ({"checkpoint_cells": True}, {"channels_last": True}):
        other_loss, other_grads, other_buffers = step(**options)
        torch.testing.assert_close(other_loss, loss)
        assert len(other_grads) == len(grads)
        for a, b in zip(other_grads, grads, strict=True):
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)
        for a, b in zip(other_buffers, buffers, strict=True):
            torch.testing.assert_close(a, b)  # running stats moved once, not twice


def test_checkpointed_second_order_hypergradient_matches(bench, tiny):
    from nasbench.strategies.differentiable import Darts

    grads = []
    for options in ({}, {"checkpoint_cells": True}):
        variant = bench.Variant("v", "darts", {"order": 2}, **options)
        net = bench.build_variant(tiny, variant)
        method: Darts = net.method
        w_opt = torch.optim.SGD(net.weight_parameters(), lr=0.025, momentum=0.9)
        gen = torch.Generator().manual_seed(1)
        train, val = _batch(gen), _batch(gen)
        loss_fn = torch.nn.CrossEntropyLoss()
        grads.append(method.hypergradient(net, train, val, loss_fn, 0.025, w_opt)[1])
    for a, b in zip(*grads, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-7)


def _batch(gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.randn(4, 1, 8, 8, generator=gen), torch.randint(0, 2, (4,), generator=gen)


def test_config_flags_reach_the_supernet():
    from nasbench.errors import ConfigError
    from nasbench.models.supernet import build_supernet
    from nasbench.spaces import create_space
    from nasbench.spaces.skeleton import Skeleton
    from nasbench.strategies import create_strategy

    space = create_space("darts", skeleton=Skeleton(n_cells=3, channels=4))
    net = build_supernet(space, "pcdarts", {"checkpoint_cells": True, "channels_last": True})
    assert net.checkpoint_cells and net.channels_last
    plain = build_supernet(space, "gdas")
    assert not plain.checkpoint_cells and not plain.channels_last
    with pytest.raises(ConfigError, match="checkpoint_cells must be true or false"):
        create_strategy("darts", {"checkpoint_cells": "yes"})


def test_recomputed_edges_give_the_textbook_step(bench, tiny):
    """The row the issue's target is about: recompute-edge against the textbook op itself."""
    gen = torch.Generator().manual_seed(2)
    x, y = _batch(gen)

    def step(name: str):
        net = bench.build_variant(tiny, bench.VARIANTS[name])
        loss = torch.nn.functional.cross_entropy(net(x), y)
        loss.backward()
        grads = {n: p.grad for n, p in net.named_parameters()}
        return loss.detach(), grads, {n: b.clone() for n, b in net.named_buffers()}

    loss, grads, buffers = step("textbook")
    for name in (
        "darts-1st+recompute",
        "darts-1st+cl+recompute",
        "darts-1st+cl+fused",
        "darts-1st+cl+fused+recompute",
    ):
        other_loss, other_grads, other_buffers = step(name)
        torch.testing.assert_close(other_loss, loss, rtol=1e-6, atol=1e-7)
        assert other_grads.keys() == grads.keys()
        for key, grad in grads.items():
            # float32 sums in another order: within 1e-6 of the tensor's largest entry
            # (float64 agrees to 1e-12: tests/models/test_recompute_edge.py).
            atol = 1e-6 * float(grad.abs().max())
            torch.testing.assert_close(other_grads[key], grad, rtol=1e-5, atol=atol, msg=key)
        for key, value in buffers.items():
            torch.testing.assert_close(other_buffers[key], value, rtol=1e-6, atol=1e-7, msg=key)


def test_sweep_changes_one_axis_at_a_time_and_reports_growth(bench, tiny):
    points = bench.sweep_configs(tiny, {"batch": (2, 4), "channels": (4, 8)})
    assert [(axis, v) for axis, v, _ in points] == [
        ("batch", 2),
        ("batch", 4),
        ("channels", 4),
        ("channels", 8),
    ]
    assert points[1][2].batch == 4 and points[1][2].channels == tiny.channels
    assert points[3][2].channels == 8 and points[3][2].batch == tiny.batch
    rows = bench.run_sweep(
        tiny, {"batch": (2, 4)}, ["darts-1st+recompute"], steps=1, warmup=0, isolate=False
    )
    assert [r["value"] for r in rows] == [2, 4]
    first = rows[0]  # in one process a later point may find its peak already reached
    assert first["time_growth"] == 1.0
    assert first["memory_growth"] == 1.0 or math.isnan(first["memory_growth"])
    assert rows[1]["expected_growth"] == 2.0 and rows[1]["time_growth"] > 0
    table = bench.format_sweep(rows).splitlines()
    assert len(table) == 3 and table[2].split()[:3] == ["batch", "4", "darts-1st+recompute"]
    with pytest.raises(SystemExit, match="Unknown sweep axis 'depth'"):
        bench.sweep_configs(tiny, {"depth": (1,)})
    assert bench._parse_ranges(["size=28,32"]) == {"size": (28, 32)}
    with pytest.raises(SystemExit, match="write AXIS=N,N"):
        bench._parse_ranges(["size=big"])


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal without a GPU")
def test_graph_variant_is_a_failed_row_without_a_gpu_and_the_others_still_measure(bench, tiny):
    rows = bench.run_benchmark(
        tiny, ["darts-1st+graph", "gdas"], steps=1, warmup=0, device="cpu", isolate=False
    )
    by_name = {row["variant"]: row for row in rows}
    assert "needs a CUDA GPU" in by_name["darts-1st+graph"]["error"]
    assert "error" not in by_name["gdas"] and by_name["gdas"]["steps_per_s"] > 0
    assert "darts-1st+graph" in bench.format_table(rows)


@pytest.mark.parametrize("name", ["darts-1st+cl+fused", "darts-1st+cl+fused+recompute"])
def test_fused_convolutions_give_the_textbook_step_in_float64(bench, tiny, name):
    """Issue 19's rows against the textbook op itself: loss, every gradient, BN buffers."""
    gen = torch.Generator().manual_seed(4)
    x, y = _batch(gen)

    def step(variant: str):
        net = bench.build_variant(tiny, bench.VARIANTS[variant]).double()
        loss = torch.nn.functional.cross_entropy(net(x.double()), y)
        loss.backward()
        grads = {n: p.grad for n, p in net.named_parameters()}
        return loss.detach(), grads, {n: b.clone() for n, b in net.named_buffers()}

    loss, grads, buffers = step("textbook")
    other_loss, other_grads, other_buffers = step(name)
    torch.testing.assert_close(other_loss, loss, rtol=1e-12, atol=1e-12)
    assert other_grads.keys() == grads.keys()
    assert grads["arch.alpha_normal"].abs().max() > 0
    assert grads["arch.alpha_reduce"].abs().max() > 0
    for key, grad in grads.items():
        torch.testing.assert_close(other_grads[key], grad, rtol=1e-10, atol=1e-10, msg=key)
    for key, value in buffers.items():
        torch.testing.assert_close(other_buffers[key], value, rtol=1e-12, atol=1e-12, msg=key)


def test_forward_difference_row_runs_one_pass_fewer_in_its_arch_step(bench, tiny):
    """`darts-2nd+cl+fwd` is second-order DARTS with three passes in its arch step, not four."""
    gen = torch.Generator().manual_seed(3)
    train, val = _batch(gen), _batch(gen)

    def arch_step_passes(name: str) -> int:
        net = bench.build_variant(tiny, bench.VARIANTS[name])
        net.method.setup(net)
        w_opt = torch.optim.SGD(net.weight_parameters(), lr=0.025, momentum=0.9)
        calls = []
        net.register_forward_hook(lambda *_: calls.append(1))
        metrics = net.method.arch_step(net, train, val, torch.nn.functional.cross_entropy,
                                       0.025, w_opt)  # fmt: skip
        assert math.isfinite(metrics["arch_loss"])
        return len(calls)

    assert arch_step_passes("darts-2nd+cl") == 4  # w, w', w+, w-
    assert arch_step_passes("darts-2nd+cl+fwd") == 3  # w, w', w+
    row = bench.measure(tiny, bench.VARIANTS["darts-2nd+cl+fwd"], steps=1, warmup=0)
    assert 0 < row["arch_s_per_step"] < row["s_per_step"]


@pytest.mark.parametrize(
    "name,ours", [("textbook", False), ("darts-1st+cl/torch-dw", False), ("darts-1st+cl", True)]
)
def test_the_textbook_row_runs_dartss_own_ops(bench, tiny, name, ours):
    """The baseline is DARTS's MixedOp: PyTorch's depthwise backward and one ReLU per op."""
    from nasbench.models.mixed_edge import MixedEdge
    from nasbench.spaces.depthwise import DepthwiseConv2d

    net = bench.build_variant(tiny, bench.VARIANTS[name])
    edges = [m for m in net.modules() if isinstance(m, MixedEdge)]
    convs = [m for m in net.modules() if isinstance(m, DepthwiseConv2d)]
    assert edges and convs
    assert {edge.share_relu for edge in edges} == {name != "textbook"}
    assert net.share_relu == (name != "textbook")
    assert {conv.fast_backward for conv in convs} == {ours}


def test_rounds_report_the_median_of_each_rounds_own_ratios(bench):
    """Each round's ratio is against that round's baseline; the figure is their median."""
    rounds = [
        [
            {"variant": "textbook", "s_per_step": t, "speedup": 1.0, "memory_ratio": 1.0},
            {"variant": "x", "s_per_step": t / s, "speedup": s, "memory_ratio": m},
        ]
        for t, s, m in ((3.0, 1.9, 0.30), (3.6, 2.2, 0.25), (3.3, 2.05, 0.40))
    ]
    rows = bench.combine_rounds(rounds)
    x = rows[1]
    assert x["speedup"] == 2.05 and x["speedup_rounds"] == [1.9, 2.2, 2.05]
    assert x["memory_ratio"] == 0.30 and x["s_per_step"] == pytest.approx(3.3 / 2.05)
    assert x["meets_target"] and x["rounds"] == 3
    failed = [[{"variant": "y", "error": "out of memory"}], [{"variant": "y", "error": "oom"}]]
    assert bench.combine_rounds(failed)[0]["error"] == "out of memory"
    partly = [[{"variant": "y", "error": "oom"}], [{"variant": "y", "speedup": 3.0}]]
    assert bench.combine_rounds(partly)[0]["rounds"] == 1


def test_run_benchmark_measures_each_row_once_per_round(bench, tiny):
    rows = bench.run_benchmark(tiny, ["gdas"], steps=1, warmup=0, isolate=False, rounds=2)
    assert [r["variant"] for r in rows] == ["textbook", "gdas"]
    assert all(r["rounds"] == 2 and len(r["speedup_rounds"]) == 2 for r in rows)
    assert rows[0]["speedup_rounds"] == [1.0, 1.0]


# A stand-in for the original code's folder: its module names, constructor and Architect
# interface, a stem that reads 3 channels and alphas made with ``.cuda()``, as the originals.
_FAKE_MODEL_SEARCH = """
import torch
import torch.nn as nn
import torch.nn.functional as F

class Network(nn.Module):
    def __init__(self, C, num_classes, layers, criterion):
        super().__init__()
        self._criterion = criterion
        self.stem = nn.Sequential(nn.Conv2d(3, C, 3, padding=1, bias=False), nn.BatchNorm2d(C))
        self.cells = nn.ModuleList(nn.Conv2d(C, C, 3, padding=1) for _ in range(layers))
        self.classifier = nn.Linear(C, num_classes)
        self.alphas = torch.zeros(layers, 2).cuda().requires_grad_()

    def arch_parameters(self):
        return [self.alphas]

    def forward(self, x):
        s = self.stem(x)
        for cell, w in zip(self.cells, F.softmax(self.alphas, dim=-1)):
            s = w[0] * s + w[1] * F.relu(cell(s))
        return self.classifier(s.mean(dim=(2, 3)))

    def _loss(self, x, y):
        return self._criterion(self(x), y)
"""
_FAKE_ARCHITECT = """
import torch

class Architect:
    def __init__(self, model, args):
        self.model = model
        self.optimizer = torch.optim.Adam(model.arch_parameters(), lr=args.arch_learning_rate)

    def step(self, xt, yt, xv, yv, eta, network_optimizer, unrolled):
        assert not unrolled
        self.optimizer.zero_grad()
        self.model._loss(xv, yv).backward()
        self.optimizer.step()
"""


@pytest.mark.slow
def test_the_original_code_is_a_row_and_our_rows_of_its_method_are_compared_with_it(
    bench, tiny, tmp_path
):
    (tmp_path / "model_search.py").write_text(_FAKE_MODEL_SEARCH)
    (tmp_path / "architect.py").write_text(_FAKE_ARCHITECT)
    original = bench.original_variant("original-pcdarts", tmp_path)
    assert original.source == str(tmp_path.resolve())
    rows = bench.run_benchmark(
        tiny, ["pcdarts", "darts-2nd", "gdas"], steps=1, warmup=0, originals=[original]
    )
    names = [row["variant"] for row in rows]
    assert names == ["textbook", "textbook-2nd", "original-pcdarts", "pcdarts", "darts-2nd", "gdas"]
    by_name = {row["variant"]: row for row in rows}
    # the stand-in ran on the CPU (.cuda() harmless while built) with 1-channel images
    assert "error" not in by_name["original-pcdarts"], by_name["original-pcdarts"]
    assert by_name["original-pcdarts"]["arch_s_per_step"] > 0
    ours, theirs = by_name["pcdarts"], by_name["original-pcdarts"]
    assert ours["original"] == "original-pcdarts"
    assert ours["speedup_vs_original"] == pytest.approx(ours["steps_per_s"] / theirs["steps_per_s"])
    assert ours["memory_vs_original"] == pytest.approx(ours["peak_mb"] / theirs["peak_mb"])
    # no original for GDAS, nor for a second-order row (the originals run first order)
    assert by_name["gdas"]["original"] == by_name["darts-2nd"]["original"] == ""
    assert math.isnan(by_name["gdas"]["speedup_vs_original"])
    assert math.isnan(by_name["darts-2nd"]["speedup_vs_original"])
    lines = bench.format_against_originals(rows).splitlines()
    assert len(lines) == 2 and lines[1].split()[:2] == ["pcdarts", "original-pcdarts"]


def test_original_search_runs_the_originals_step_and_puts_cuda_back(
    bench, tiny, tmp_path, monkeypatch
):
    (tmp_path / "model_search.py").write_text(_FAKE_MODEL_SEARCH)
    (tmp_path / "architect.py").write_text(_FAKE_ARCHITECT)
    original = bench.original_variant("original-darts", tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    before = torch.Tensor.cuda, nn.Module.cuda
    try:
        net, arch_step, weights = bench.original_search(
            tiny, original, torch.device("cpu"), 0, nn.CrossEntropyLoss()
        )
    finally:
        for name in ("model_search", "architect"):
            sys.modules.pop(name, None)
    assert (torch.Tensor.cuda, nn.Module.cuda) == before
    assert net.stem[0].in_channels == tiny.in_channels and net.stem[0].out_channels == 4
    x = torch.randn(tiny.batch, tiny.in_channels, tiny.size, tiny.size)
    y = torch.arange(tiny.batch) % tiny.num_classes
    alphas = net.alphas.detach().clone()
    arch_step((x, y), (x, y), None)
    assert not torch.equal(net.alphas.detach(), alphas)  # the Architect's Adam stepped
    assert all(p is not net.alphas for p in weights()) and len(list(weights())) > 0


def test_an_original_folder_without_the_code_is_refused_in_one_line(bench, tmp_path):
    (tmp_path / "model_search.py").write_text("")
    with pytest.raises(SystemExit, match=r"no architect\.py there; give the folder"):
        bench.original_variant("original-darts", tmp_path)
    with pytest.raises(SystemExit, match="Unknown original 'original-gdas'"):
        bench.original_variant("original-gdas", tmp_path)


def test_combined_rounds_keep_each_rounds_ratio_against_the_original(bench):
    rounds = [
        [
            {
                "variant": "pcdarts+cl",
                "speedup": 3.0,
                "memory_ratio": 0.3,
                "original": "original-pcdarts",
                "speedup_vs_original": s,
                "memory_vs_original": 0.9,
            }
        ]
        for s in (1.5, 1.7, 1.6)
    ]
    row = bench.combine_rounds(rounds)[0]
    assert row["speedup_vs_original"] == 1.6
    assert row["speedup_vs_original_rounds"] == [1.5, 1.7, 1.6]
    assert (
        "speedup_vs_original_rounds"
        not in bench.combine_rounds(
            [[{"variant": "gdas", "speedup": 9.0, "speedup_vs_original": math.nan}]]
        )[0]
    )


def supernet_refusal(bench, argv, monkeypatch, capsys) -> str:
    """The one line ``main(argv)`` exits with (status 2), nothing measured."""
    monkeypatch.setattr(sys, "argv", ["supernet.py"])
    for name in ("run_benchmark", "run_sweep", "measure", "measure_isolated"):
        monkeypatch.setattr(bench, name, lambda *_, **__: pytest.fail("measured"))
    with pytest.raises(SystemExit) as exc:
        bench.main(argv)
    assert exc.value.code == 2
    return capsys.readouterr().err.splitlines()[-1]


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal without a GPU")
def test_bf16_on_the_cpu_is_refused_as_cuda_without_a_gpu_is(bench, monkeypatch, capsys):
    line = supernet_refusal(bench, ["--precision", "bf16"], monkeypatch, capsys)
    assert line == (
        "supernet.py: error: --precision bf16 is CUDA only and this run is on the CPU; "
        "use --precision fp32."
    )
    line = supernet_refusal(bench, ["--sweep", "--precision", "bf16"], monkeypatch, capsys)
    assert "--precision bf16 is CUDA only" in line
    line = supernet_refusal(bench, ["--device", "cuda"], monkeypatch, capsys)
    assert line.endswith("error: --device cuda: no CUDA device here; use --device cpu or auto.")


@pytest.mark.parametrize("methods", ["", ",", " , "])
def test_an_empty_method_list_is_refused(bench, monkeypatch, capsys, methods):
    line = supernet_refusal(bench, ["--methods", methods], monkeypatch, capsys)
    assert line.startswith("supernet.py: error: --methods is empty; give comma-separated variants")


def test_an_unknown_method_is_refused_before_anything_is_measured(bench, monkeypatch, capsys):
    line = supernet_refusal(bench, ["--methods", "gdas,dartz"], monkeypatch, capsys)
    assert line.startswith("supernet.py: error: unknown variant(s) ['dartz'] in --methods")


@pytest.mark.parametrize(
    ("ranges", "message"),
    [
        (["batch=0"], "--sweep-range 'batch=0': every value must be at least 1."),
        (["batch=8,-4"], "--sweep-range 'batch=8,-4': every value must be at least 1."),
        (["size=28", "batch="], "--sweep-range 'batch=': no values; write AXIS=N,N,... "
                                "(integers)."),
        (["size=big"], "--sweep-range 'size=big': write AXIS=N,N,... (integers)."),
        (["depth=2"], "Unknown sweep axis 'depth'; use one of batch, channels, in_channels, "
                      "n_cells, num_classes, size."),
    ],
)  # fmt: skip
def test_every_sweep_value_is_checked_before_the_first_measurement(
    bench, monkeypatch, capsys, ranges, message
):
    argv = ["--sweep", *(a for r in ranges for a in ("--sweep-range", r))]
    assert supernet_refusal(bench, argv, monkeypatch, capsys) == f"supernet.py: error: {message}"


def test_a_json_folder_is_refused_up_front_and_the_json_is_strict(
    bench, monkeypatch, capsys, tmp_path
):
    line = supernet_refusal(bench, ["--json", str(tmp_path)], monkeypatch, capsys)
    assert line == (
        f"supernet.py: error: argument --json: {tmp_path} is a folder; give a file name in it"
    )
    assert list(tmp_path.iterdir()) == []
    path = tmp_path / "new" / "rows.json"
    bench._write_json(path, {"rows": [{"speedup": math.nan}]})
    assert json.loads(path.read_text()) == {"rows": [{"speedup": None}]}
    assert [p.name for p in path.parent.iterdir()] == ["rows.json"]

"""benchmarks/fused_edge.py: the edge timings run and leave the padding switch alone."""

from __future__ import annotations

import nasbench.models.fused_edge as fused_edge


def test_edge_and_depthwise_timings_at_a_tiny_size(load_benchmark):
    bench = load_benchmark("fused_edge")
    before = fused_edge.PAD_KERNELS
    times = bench.edge_times(batch=2, channels=4, size=8, stride=2, repeats=1)
    assert set(times) == {"unfused", "fused", "fused+padded kernels"}
    assert all(ms > 0 for ms in times.values())
    assert fused_edge.PAD_KERNELS == before
    depthwise = bench.depthwise_times(batch=2, channels=4, size=8, repeats=1)
    assert "5x5 dil 2, 8 channels" in depthwise and all(ms > 0 for ms in depthwise.values())

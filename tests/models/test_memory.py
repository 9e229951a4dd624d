"""Memory before launch: the estimate grows with the batch; DiNTS adds MONAI's."""

from __future__ import annotations

from nasbench.models.memory import supernet_memory
from nasbench.spaces import DintsSpace, NasUnetSpace


def test_supernet_memory_of_unet_spaces():
    space = NasUnetSpace(n_nodes=1, skeleton={"depth": 1, "channels": 2})
    small = supernet_memory(space, (1, 16, 16), 1, "proxyless")
    large = supernet_memory(space, (1, 16, 16), 8, "proxyless")
    assert large["activations_mb"] > small["activations_mb"] > 0
    assert large["weights_mb"] == small["weights_mb"]
    dints = DintsSpace(num_blocks=1, skeleton={"depth": 1, "channels": 2})
    assert {"monai_mb", "monai_full_mb"} <= set(supernet_memory(dints, (1, 16, 16, 16), 1, "dints"))

"""Function-preserving network morphisms (Net2Net, NASH) on a plain convolutional network.

NASH (Elsken et al., 2017, "Simple and efficient architecture search for CNNs") climbs
a hill of networks: every child is its parent changed by a few *network morphisms*,
operations that change the architecture but not the function, so the child starts
from the parent's weights and only needs a short training. This module holds the
network those operations act on and the operations themselves:

- :class:`MorphNet`: conv-BN-ReLU layers, then global average pooling and a linear
  classifier, plus additive skip connections ``i -> j`` (activation ``i`` added,
  through a 1x1 convolution, to activation ``j``); activation 0 is the input image.
- :func:`widen` (Net2WiderNet): duplicate filters of a layer, split the outgoing
  weights of each duplicated filter among its copies;
- :func:`deepen` (Net2DeeperNet): insert an identity-initialised conv-BN-ReLU; its
  BatchNorm is made the identity through its running statistics and affine
  parameters, and the ReLU is the identity because its input already passed a ReLU;
- :func:`add_skip`: add a skip connection whose 1x1 convolution starts at zero.

Every operation returns a new network; the parent is left untouched. In eval mode
the child computes the parent's outputs (up to float rounding, about 1e-6).

Example:
    >>> net = MorphNet(MorphGenotype.plain(in_channels=1, channels=(8, 16)), num_classes=2)
    >>> child = add_skip(deepen(widen(net, 0, 12), 1), 0, 2)
    >>> x = torch.randn(2, 1, 16, 16)
    >>> bool(torch.allclose(net.eval()(x), child.eval()(x), atol=1e-5))
    True
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from nasbench import registry
from nasbench.device import seeded
from nasbench.errors import ConfigError, SpaceError
from nasbench.models.cells import refuse_auxiliary
from nasbench.spaces.blocks import GlobalAvgPool, bn_cls, conv_cls

# The genotype sits in the spaces layer, where it is registered as kind "morph" so that the
# run reader (below this layer) parses a NASH run's genotypes; re-exported here.
from nasbench.spaces.morph import MorphGenotype, MorphLayer

MORPHISMS = ("widen", "deepen", "add_skip")


class ConvBNReLU(nn.Sequential):
    """Convolution (no bias), BatchNorm, ReLU; padding ``kernel // 2``."""

    def __init__(self, spatial_dims: int, C_in: int, C_out: int, kernel: int, stride: int):
        super().__init__(
            conv_cls(spatial_dims)(C_in, C_out, kernel, stride, kernel // 2, bias=False),
            bn_cls(spatial_dims)(C_out),
            nn.ReLU(),
        )


def _skip_name(i: int, j: int) -> str:
    return f"{i}_{j}"


class MorphNet(nn.Module):
    """A plain conv network that the morphisms act on: layers, skips, GAP, linear head.

    Args:
        genotype: its :class:`MorphGenotype`.
        num_classes: outputs of the classifier.
        spatial_dims: 2 or 3.
        seed: seeds the initial weights (the global RNG is untouched). Skip convolutions
            always start at zero, so adding a skip never changes the function.

    Example:
        >>> net = MorphNet(MorphGenotype.plain(channels=(8,)), num_classes=3)
        >>> net(torch.zeros(2, 1, 8, 8)).shape
        torch.Size([2, 3])
    """

    def __init__(
        self, genotype: MorphGenotype, num_classes: int = 2, spatial_dims: int = 2, seed: int = 0
    ) -> None:
        super().__init__()
        self.genotype = genotype.validate()
        self.num_classes = int(num_classes)
        self.spatial_dims = int(spatial_dims)
        with seeded(seed):
            self.layers = nn.ModuleList(
                ConvBNReLU(spatial_dims, genotype.channels_at(k), la.channels, la.kernel, la.stride)
                for k, la in enumerate(genotype.layers)
            )
            self.skips = nn.ModuleDict(
                {_skip_name(i, j): self._skip_conv(i, j) for i, j in genotype.skips}
            )
            self.global_pooling = GlobalAvgPool()
            self.classifier = nn.Linear(genotype.layers[-1].channels, num_classes)

    def _skip_conv(self, i: int, j: int) -> nn.Module:
        g = self.genotype
        conv = conv_cls(self.spatial_dims)(
            g.channels_at(i), g.channels_at(j), 1, g.stride_between(i, j), bias=False
        )
        nn.init.zeros_(conv.weight)  # zero contribution: adding a skip preserves the function
        return conv

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(N, num_classes)``."""
        starts = {i for i, _ in self.genotype.skips}
        incoming: dict[int, list[int]] = {}
        for i, j in self.genotype.skips:
            incoming.setdefault(j, []).append(i)
        kept = {0: x} if 0 in starts else {}
        h = x
        for k, layer in enumerate(self.layers):
            h = layer(h)
            for i in sorted(incoming.get(k + 1, ())):
                h = h + self.skips[_skip_name(i, k + 1)](kept[i])
            if k + 1 in starts:
                kept[k + 1] = h
        return self.classifier(self.global_pooling(h).flatten(1))


@registry.register("network", "morph")
def morph_network(genotype: MorphGenotype, skeleton: Any) -> MorphNet:
    """The :class:`MorphNet` of a NASH genotype, freshly initialised, for a skeleton's data.

    This is what :func:`nasbench.models.build` calls for kind ``"morph"`` (retraining a NASH
    run's final network from scratch); the weights come from the global torch RNG, which
    ``build(..., seed=...)`` seeds.

    Args:
        genotype: a :class:`MorphGenotype`.
        skeleton: a ``Skeleton``; only in_channels, num_classes and spatial_dims are used.

    Returns:
        The network.

    Example:
        >>> from nasbench.spaces.skeleton import Skeleton
        >>> net = morph_network(MorphGenotype.plain(channels=(4,)), Skeleton(num_classes=3))
        >>> net(torch.zeros(2, 1, 8, 8)).shape
        torch.Size([2, 3])
    """
    refuse_auxiliary(skeleton, "A NASH (morph) network")
    if genotype.in_channels != skeleton.in_channels:
        raise SpaceError(
            f"the morph genotype reads {genotype.in_channels}-channel images but the data has "
            f"{skeleton.in_channels}; use a genotype searched on this dataset."
        )
    seed = int(torch.randint(0, 2**31 - 1, ()))  # MorphNet seeds itself: draw it from torch
    return MorphNet(genotype, skeleton.num_classes, skeleton.spatial_dims, seed=seed)


def _rebuilt(net: MorphNet, genotype: MorphGenotype) -> MorphNet:
    """A network of ``genotype`` with the same head settings (weights set by the caller)."""
    return MorphNet(genotype, net.num_classes, net.spatial_dims).to(net.classifier.weight.device)


def _split_fractions(
    mapping: np.ndarray, noise: float, rng: np.random.Generator | None
) -> np.ndarray:
    """Per new channel, its share of the source channel's outgoing weight (shares sum to 1)."""
    counts = np.bincount(mapping)
    shares = 1.0 / counts[mapping]
    if noise > 0 and rng is not None:
        # Unequal shares break the symmetry of the copies (identical shares would get
        # identical gradients forever); zero-mean per source keeps the sum at 1.
        jitter = rng.normal(0.0, noise, size=len(mapping))
        for g in np.flatnonzero(counts > 1):
            members = mapping == g
            jitter[members] -= jitter[members].mean()
        jitter[counts[mapping] == 1] = 0.0
        shares = shares * (1.0 + jitter)
    return shares


def widen(
    net: MorphNet,
    layer: int,
    channels: int,
    rng: np.random.Generator | None = None,
    noise: float = 0.0,
) -> MorphNet:
    """Net2WiderNet: give ``layer`` more filters without changing the network's function.

    The new filters copy randomly chosen old ones (weights, BatchNorm affine parameters
    and running statistics); every consumer of the widened activation (the next layer,
    skip convolutions that start there, the classifier) splits the outgoing weights of
    each copied filter among its copies. Skip convolutions that end there get their
    output rows copied, so the widened activation holds exact copies.

    Args:
        net: the parent.
        layer: index of the layer to widen (0-based).
        channels: the new number of filters (> the current one).
        rng: draws which filters are copied and the split noise; None copies
            filters in order (0, 1, ...).
        noise: relative spread of the unequal split among copies (0: equal split).

    Returns:
        A new :class:`MorphNet`; ``net`` is unchanged.

    Example:
        >>> child = widen(net, 0, 24, np.random.default_rng(0))  # doctest: +SKIP
    """
    g = net.genotype
    if not 0 <= layer < len(g.layers):
        raise ConfigError(f"layer {layer} does not exist; the network has {len(g.layers)} layers.")
    old = g.layers[layer].channels
    if channels <= old:
        raise ConfigError(f"widen layer {layer}: {channels} channels must exceed the {old} it has.")
    extra = (
        rng.integers(old, size=channels - old)
        if rng is not None
        else np.arange(channels - old) % old
    )
    mapping = np.concatenate([np.arange(old), extra]).astype(np.int64)
    shares = torch.as_tensor(_split_fractions(mapping, noise, rng), dtype=torch.float32)
    idx = torch.as_tensor(mapping)
    layers = list(g.layers)
    layers[layer] = MorphLayer(g.layers[layer].kernel, g.layers[layer].stride, channels)
    child = _rebuilt(net, MorphGenotype(tuple(layers), g.skips, g.in_channels))
    child.load_state_dict(_widened_state(net, layer + 1, idx, shares))
    return child


def _widened_state(
    net: MorphNet, act: int, idx: torch.Tensor, shares: torch.Tensor
) -> dict[str, torch.Tensor]:
    """The parent's state dict with activation ``act`` widened by ``idx`` (copy map)."""
    state = {k: v.clone() for k, v in net.state_dict().items()}
    conv, bn = f"layers.{act - 1}.0", f"layers.{act - 1}.1"
    state[f"{conv}.weight"] = state[f"{conv}.weight"][idx]
    for name in ("weight", "bias", "running_mean", "running_var"):
        state[f"{bn}.{name}"] = state[f"{bn}.{name}"][idx]

    def split_inputs(key: str) -> None:
        w = state[key][:, idx]
        shape = (1, -1) + (1,) * (w.dim() - 2)
        # shares are built on the CPU; the parent's weights may live on a GPU.
        state[key] = w * shares.to(w.device, w.dtype).view(shape)

    for i, j in net.genotype.skips:
        if j == act:
            key = f"skips.{_skip_name(i, j)}.weight"
            state[key] = state[key][idx]
        if i == act:
            split_inputs(f"skips.{_skip_name(i, j)}.weight")
    if act < len(net.genotype.layers):
        split_inputs(f"layers.{act}.0.weight")
    else:
        split_inputs("classifier.weight")
    return state


def deepen(net: MorphNet, layer: int, kernel: int = 3) -> MorphNet:
    """Net2DeeperNet: insert an identity-initialised conv-BN-ReLU after ``layer``.

    The new convolution is a Dirac (identity) kernel; its BatchNorm gets running mean 0,
    running variance ``1 - eps`` and affine weight 1, bias 0, so in eval mode it passes
    its input through unchanged; the ReLU is the identity on the ReLU output it receives.
    Skip connections that ended at ``layer``'s output now end after the new layer (so
    the new layer still sees a non-negative input) and indices after it shift by one.

    Args:
        net: the parent.
        layer: the new layer goes right after this one (0-based).
        kernel: odd kernel size of the new layer.

    Returns:
        A new :class:`MorphNet` with one more layer; ``net`` is unchanged.

    Example:
        >>> deeper = deepen(net, 0)  # doctest: +SKIP
    """
    g = net.genotype
    if not 0 <= layer < len(g.layers):
        raise ConfigError(f"layer {layer} does not exist; the network has {len(g.layers)} layers.")
    if kernel < 1 or kernel % 2 == 0:
        raise ConfigError(f"deepen: kernel {kernel} must be odd and >= 1.")
    C = g.layers[layer].channels
    layers = list(g.layers)
    layers.insert(layer + 1, MorphLayer(kernel, 1, C))

    def shift(index: int) -> int:
        return index + 1 if index > layer else index

    skips = tuple((shift(i), shift(j)) for i, j in g.skips)
    child = _rebuilt(net, MorphGenotype(tuple(layers), skips, g.in_channels))
    state = {}
    for key, value in net.state_dict().items():
        parts = key.split(".")
        if parts[0] == "layers" and int(parts[1]) > layer:
            parts[1] = str(int(parts[1]) + 1)
        elif parts[0] == "skips":
            i, j = map(int, parts[1].split("_"))
            parts[1] = _skip_name(shift(i), shift(j))
        state[".".join(parts)] = value.clone()
    new = child.layers[layer + 1]
    conv, bn = new[0], new[1]
    with torch.no_grad():
        weight = torch.zeros_like(conv.weight)
        centre = (slice(None), slice(None)) + (kernel // 2,) * (weight.dim() - 2)
        weight[centre] = torch.eye(C, dtype=weight.dtype)
        state[f"layers.{layer + 1}.0.weight"] = weight
        state[f"layers.{layer + 1}.1.weight"] = torch.ones(C)
        state[f"layers.{layer + 1}.1.bias"] = torch.zeros(C)
        state[f"layers.{layer + 1}.1.running_mean"] = torch.zeros(C)
        state[f"layers.{layer + 1}.1.running_var"] = torch.full((C,), 1.0 - bn.eps)
        state[f"layers.{layer + 1}.1.num_batches_tracked"] = torch.zeros((), dtype=torch.long)
    child.load_state_dict(state)
    return child


def add_skip(net: MorphNet, i: int, j: int) -> MorphNet:
    """Add the skip connection ``i -> j``, initialised to contribute zero.

    Args:
        net: the parent.
        i: source activation (0 = the input image, k = output of layer k - 1).
        j: target activation, ``i < j <= len(layers)``.

    Returns:
        A new :class:`MorphNet`; ``net`` is unchanged.

    Example:
        >>> child = add_skip(net, 1, 3)  # doctest: +SKIP
    """
    g = net.genotype
    if (i, j) in g.skips:
        raise ConfigError(f"the network already has the skip {i}->{j}; pick another pair.")
    genotype = MorphGenotype(g.layers, g.skips + ((i, j),), g.in_channels).validate()
    child = _rebuilt(net, genotype)
    state = child.state_dict()  # keeps the new zero skip convolution
    state.update({k: v.clone() for k, v in net.state_dict().items()})
    child.load_state_dict(state)
    return child


def possible_morphisms(
    net: MorphNet, max_channels: int = 256, max_layers: int = 12
) -> list[tuple[str, tuple[int, ...]]]:
    """Every morphism that applies to ``net``, as ``(name, args)``.

    Widening doubles a layer (capped at ``max_channels``); deepening inserts a 3x3 layer
    after any layer (up to ``max_layers``); a skip may join any two activations not yet
    joined (its strided 1x1 convolution matches any change of resolution).

    Args:
        net: the network.
        max_channels: no layer grows past this.
        max_layers: no network grows past this.

    Returns:
        The list of ``(name, args)``, in a fixed order.
    """
    g = net.genotype
    out: list[tuple[str, tuple[int, ...]]] = []
    for k, layer in enumerate(g.layers):
        wider = min(2 * layer.channels, max_channels)
        if wider > layer.channels:
            out.append(("widen", (k, wider)))
    if len(g.layers) < max_layers:
        out.extend(("deepen", (k,)) for k in range(len(g.layers)))
    n = len(g.layers)
    out.extend(
        ("add_skip", (i, j)) for i in range(n) for j in range(i + 1, n + 1) if (i, j) not in g.skips
    )
    return out


def apply_morphism(
    net: MorphNet, name: str, args: Sequence[int], rng: np.random.Generator | None = None
) -> MorphNet:
    """Apply one morphism by name (``"widen"``, ``"deepen"``, ``"add_skip"``).

    Args:
        net: the parent.
        name: the morphism.
        args: its positional arguments after ``net`` (see :func:`possible_morphisms`).
        rng: passed to :func:`widen` (copy choice, split noise).

    Returns:
        The child network.
    """
    if name == "widen":
        return widen(net, *args, rng=rng, noise=0.05 if rng is not None else 0.0)
    if name == "deepen":
        return deepen(net, *args)
    if name == "add_skip":
        return add_skip(net, *args)
    raise ConfigError(f"unknown morphism {name!r}; use one of {', '.join(MORPHISMS)}.")


def random_morphisms(
    net: MorphNet,
    n: int,
    rng: np.random.Generator,
    max_channels: int = 256,
    max_layers: int = 12,
) -> tuple[MorphNet, list[str]]:
    """Apply ``n`` random morphisms in a row (NASH's child generation).

    The morphism type is drawn uniformly first, then its arguments, so the many skip
    pairs of a deep network do not crowd out widening and deepening.

    Args:
        net: the parent (unchanged).
        n: number of morphisms.
        rng: the random generator (same state, same child).
        max_channels: cap for widening.
        max_layers: cap for deepening.

    Returns:
        ``(child, steps)``: the child network and a text per applied morphism.

    Example:
        >>> child, steps = random_morphisms(net, 3, np.random.default_rng(0))  # doctest: +SKIP
    """
    child, steps = copy.deepcopy(net), []
    for _ in range(n):
        options = possible_morphisms(child, max_channels, max_layers)
        kinds = sorted({name for name, _ in options}, key=MORPHISMS.index)
        if not kinds:
            break
        kind = kinds[int(rng.integers(len(kinds)))]
        of_kind = [args for name, args in options if name == kind]
        args = of_kind[int(rng.integers(len(of_kind)))]
        child = apply_morphism(child, kind, args, rng)
        steps.append(f"{kind}{args}")
    return child, steps

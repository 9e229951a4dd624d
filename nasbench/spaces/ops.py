"""The operation registry: every candidate op of every cell space, by name, in 2D and 3D.

One table (:func:`_builtin_ops`) holds the ops, as DARTS's ``OPS`` dict does, and one
(:func:`_builtin_sets`) the published op sets in their canonical order, as DARTS's
``PRIMITIVES`` does. An op name means the same module in every set. Every factory has
the signature ``(spatial_dims, C_in, C_out, stride, affine=True) -> nn.Module``.

Stride semantics: 1 keeps the spatial size, 2 halves every spatial dim (``ceil(n/2)``);
the NAS-Unet ``up_*`` ops double every spatial dim at stride 2 (transposed convs) and
keep it at stride 1. The ``down_*`` ops are the NAS-Unet names for the ops placed on
down-sampling edges; the stride a cell passes decides what they do.

3D tensors are laid out ``(N, C, D, H, W)``, as ``nasbench.data`` gives them. The V-NAS
"k x k x 1" kernels are ``(1, k, k)``: in-plane ``k x k``, 1 along depth. The V-NAS 3D
and pseudo-3D ops exist only for ``spatial_dims=3``; asking for them in 2D raises a
SpaceError (in 2D they would collapse to the plain 3x3 conv, ``vnas_2d_3x3``, and a
search would see three copies of one op).

Example:
    >>> op = create_op("sep_conv_3x3", spatial_dims=3, C_in=8, C_out=8, stride=2)
    >>> op(torch.zeros(2, 8, 8, 8, 8)).shape
    torch.Size([2, 8, 4, 4, 4])
    >>> op_names("nb201")
    ('none', 'skip_connect', 'nor_conv_1x1', 'nor_conv_3x3', 'avg_pool_3x3')
"""

from __future__ import annotations

import functools
import inspect
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import torch
from torch import nn

from nasbench import registry
from nasbench.errors import SpaceError, closest_name
from nasbench.options import plain_numbers
from nasbench.spaces.blocks import (
    CWeight,
    DilConv,
    FactorizedConv,
    FactorizedReduce,
    Identity,
    NonLocalBlock,
    PreprocessedPool,
    ReLUConvBN,
    ResidualConv,
    SepConv,
    Zero,
    bn_cls,
    check_spatial_dims,
    conv_cls,
)

__all__ = [
    "FAMILIES",
    "OP_SETS",
    "OpFactory",
    "OpSpec",
    "create_op",
    "is_parameter_free",
    "op_family",
    "op_names",
    "op_spatial_dims",
    "op_upsamples",
    "register_op",
    "register_op_set",
]

OpFactory = Callable[..., nn.Module]
"""``factory(spatial_dims, C_in, C_out, stride, affine=True) -> nn.Module``."""

FAMILIES = ("none", "skip", "pool", "conv", "sep_conv", "dil_conv", "attention")
"""Op families: drawings colour edges by family; supernets treat pools specially."""


@dataclass(frozen=True)
class OpSpec:
    """What the registry knows about one op.

    Args:
        name: the op name, e.g. ``"sep_conv_3x3"``.
        family: one of :data:`FAMILIES`.
        factory: builds the module.
        spatial_dims: the spatial dims the op supports.
    """

    name: str
    family: str
    factory: OpFactory
    spatial_dims: tuple[int, ...] = (2, 3)


# Ops are entries of the "op" registry (nasbench.registry), their OpSpec the object;
# op sets are named orderings of them: set name -> op names in canonical order.
_SETS: dict[str, tuple[str, ...]] = {}
_BUILTIN_SETS: set[str] = set()
OP_SETS: Mapping[str, tuple[str, ...]] = MappingProxyType(_SETS)
"""Read-only view: op-set name -> op names in canonical order."""


def register_op(
    name: str,
    family: str,
    sets: Sequence[str] = (),
    spatial_dims: Sequence[int] = (2, 3),
) -> Callable[[OpFactory], OpFactory]:
    """Register an op factory under ``name`` (a decorator).

    Args:
        name: the new op's name; must not be registered yet, unless by this same
            definition (a notebook cell run again replaces it).
        family: one of :data:`FAMILIES`.
        sets: op sets to append the op to (created when new).
        spatial_dims: the spatial dims the op supports.

    Returns:
        A decorator that registers the factory and returns it unchanged.

    Example:
        >>> @register_op("my_conv_3x3", "conv", sets=("my_set",))
        ... def my_conv(spatial_dims, C_in, C_out, stride, affine=True):
        ...     return ReLUConvBN(spatial_dims, C_in, C_out, 3, stride, 1, affine)
        >>> op_names("my_set")
        ('my_conv_3x3',)
    """
    if not isinstance(name, str) or not name.strip():
        raise SpaceError(f"An op name must be a non-empty string, got {name!r}.")
    if registry.is_registered("op", name) and registry.is_builtin(_spec(name).factory):
        raise SpaceError(registry.taken_message("op", name, _spec(name).factory))
    if family not in FAMILIES:
        raise SpaceError(
            f"Unknown op family {family!r} for op {name!r}.{closest_name(str(family), FAMILIES)}"
            f" Valid families: {', '.join(FAMILIES)}."
        )
    dims = tuple(check_spatial_dims(d) for d in spatial_dims)
    if not dims:
        raise SpaceError(f"Op {name!r} must support spatial_dims 2 or 3 (got none).")
    sets = (sets,) if isinstance(sets, str) else tuple(sets)

    def decorator(factory: OpFactory) -> OpFactory:
        if registry.is_registered("op", name):
            old = _spec(name).factory
            if not registry.redefines(old, factory):
                raise SpaceError(registry.taken_message("op", name, old))
            # The cell that defines it ran again: forget what was learnt of the old factory.
            op_upsamples.cache_clear()
            _PROBED.difference_update({key for key in _PROBED if key[0] == name})
        if not registry.is_builtin(factory):
            _check_factory(name, factory)
        spec = OpSpec(name, family, factory, dims)
        registry.register("op", name, spec, kind=family, replace=True)
        for op_set in sets:
            if name not in _SETS.get(op_set, ()):
                _SETS[op_set] = (*_SETS.get(op_set, ()), name)
        return factory

    return decorator


def register_op_set(name: str, ops: Sequence[str]) -> None:
    """Register a named op set (the canonical order is the order given).

    Args:
        name: the set's name; must not be registered yet, unless with these same ops
            (a notebook cell run again).
        ops: registered op names, no repeats.

    Example:
        >>> register_op_set("tiny", ["none", "skip_connect"])
        >>> OP_SETS["tiny"]
        ('none', 'skip_connect')
    """
    ops = tuple(ops)
    if name in _BUILTIN_SETS:
        raise SpaceError(
            f"Op set {name!r} is already registered as a built-in op set; pick another name."
        )
    if name in _SETS and _SETS[name] != ops:
        # The same list again is a cell run twice; another list would change what a run
        # recorded under this name searched.
        raise SpaceError(
            f"Op set {name!r} is already registered as {list(_SETS[name])}; pick another "
            "name for a different list."
        )
    for op in ops:
        _spec(op)
    if len(set(ops)) != len(ops) or not ops:
        raise SpaceError(f"Op set {name!r} must list at least one op, each once; got {ops}.")
    _SETS[name] = ops


def _spec(name: str) -> OpSpec:
    return registry.get("op", name).obj


def op_names(op_set: str | None = None) -> tuple[str, ...]:
    """Names of the ops in ``op_set`` (canonical order), or of every registered op.

    Args:
        op_set: a key of :data:`OP_SETS`, or ``None`` for all ops in registration order.

    Returns:
        A tuple of op names.

    Example:
        >>> op_names("darts")[:3]
        ('none', 'max_pool_3x3', 'avg_pool_3x3')
    """
    if op_set is None:
        return tuple(entry.name for entry in registry.entries("op"))
    try:
        return _SETS[op_set]
    except (KeyError, TypeError):
        valid = tuple(_SETS)
        raise SpaceError(
            f"Unknown op set {op_set!r}.{closest_name(str(op_set), valid)}"
            f" Valid op sets: {', '.join(valid)}."
        ) from None


def op_family(name: str) -> str:
    """The family of an op (one of :data:`FAMILIES`).

    Args:
        name: a registered op name.

    Returns:
        The family, e.g. ``"sep_conv"``.

    Example:
        >>> op_family("dil_conv_5x5")
        'dil_conv'
    """
    return _spec(name).family


def op_spatial_dims(name: str) -> tuple[int, ...]:
    """The spatial dims an op supports.

    Args:
        name: a registered op name.

    Returns:
        ``(2, 3)`` for most ops, ``(3,)`` for the V-NAS 3D and pseudo-3D convs.

    Example:
        >>> op_spatial_dims("vnas_p3d_3x3")
        (3,)
    """
    return _spec(name).spatial_dims


def is_parameter_free(name: str) -> bool:
    """Whether the op has no learnable parameters (at stride 1 with C_in == C_out).

    Decided by building the op, so it cannot disagree with the module. At stride 2
    ``skip_connect`` gains a FactorizedReduce, and a channel change gives pools a
    1x1 preprocess; those have parameters.

    Args:
        name: a registered op name.

    Returns:
        True for ``none``, ``skip_connect``, ``identity`` and the pools.

    Example:
        >>> is_parameter_free("max_pool_3x3"), is_parameter_free("sep_conv_3x3")
        (True, False)
    """
    spec = _spec(name)
    # Building it initialises weights: on a fork of the RNG, so asking (every epoch of a
    # search) leaves the caller's random stream where it was.
    with torch.random.fork_rng(devices=[]):
        op = create_op(name, spatial_dims=spec.spatial_dims[0], C_in=4, C_out=4, stride=1)
    return not any(True for _ in op.parameters())


@functools.cache
def op_upsamples(name: str) -> bool:
    """Whether the op doubles the spatial size at stride 2 (the NAS-Unet ``up_*`` ops)
    instead of halving it, as every other op does.

    Decided by building and running the op once on a tiny input, so it cannot disagree
    with the module; cached per name (a registered name never changes its op).

    Args:
        name: a registered op name.

    Returns:
        True for the up ops.

    Example:
        >>> op_upsamples("up_conv"), op_upsamples("sep_conv_3x3")
        (True, False)
    """
    spec = _spec(name)
    dims = spec.spatial_dims[0]
    with torch.random.fork_rng(devices=[]), torch.no_grad():
        try:
            op = create_op(name, spatial_dims=dims, C_in=4, C_out=4, stride=2).eval()
            out = op(torch.zeros((1, 4) + (8,) * dims))
        except SpaceError as err:
            # A user op that builds but gives the wrong shape (raised with no cause): say
            # so when its space is made. One whose factory or forward fails at stride 2
            # (raised from that failure) is for stride 1 only: not an up op.
            if err.__cause__ is None and not registry.is_builtin(spec.factory):
                raise
            return False
        except Exception:  # a user op for other sizes: not an up op
            return False
    return out.shape[-1] > 8


def create_op(
    name: str,
    spatial_dims: int = 2,
    C_in: int = 16,
    C_out: int | None = None,
    stride: int = 1,
    affine: bool = True,
) -> nn.Module:
    """Build the op ``name``.

    Args:
        name: a registered op name (see :func:`op_names`).
        spatial_dims: 2 (images) or 3 (volumes).
        C_in: input channels.
        C_out: output channels; ``None`` means ``C_in``.
        stride: 1 keeps the size; 2 halves every spatial dim (``up_*`` ops: doubles).
        affine: learn the batch-norm scale and shift (DARTS search uses False).

    Returns:
        An ``nn.Module`` mapping ``(N, C_in, *S)`` to ``(N, C_out, *S')``.

    Example:
        >>> create_op("skip_connect", 2, 8, 16, stride=2)(torch.zeros(1, 8, 6, 6)).shape
        torch.Size([1, 16, 3, 3])
    """
    spec = _spec(name)
    check_spatial_dims(spatial_dims)
    if spatial_dims not in spec.spatial_dims:
        raise SpaceError(
            f"Op {name!r} needs spatial_dims in {spec.spatial_dims}, got {spatial_dims}; "
            "use 3D data or a 2D op."
        )
    C_in, C_out = plain_numbers(C_in), plain_numbers(C_in if C_out is None else C_out)
    stride = plain_numbers(stride)
    for label, value in (("C_in", C_in), ("C_out", C_out)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise SpaceError(f"{label} must be a positive int, got {value!r}.")
    if isinstance(stride, bool) or stride not in (1, 2):
        raise SpaceError(f"stride must be 1 or 2, got {stride!r}.")
    if not isinstance(affine, bool):
        raise SpaceError(f"affine must be True or False, got {affine!r}.")
    if registry.is_builtin(spec.factory):  # tested in tests/spaces/test_ops.py, not probed
        return spec.factory(spatial_dims, C_in, C_out, stride, affine=affine)
    try:
        op = spec.factory(spatial_dims, C_in, C_out, stride, affine=affine)
    except Exception as err:  # raised from it: op_upsamples reads that as "stride 1 only"
        raise SpaceError(
            f"Op {name!r} failed to build (spatial_dims={spatial_dims}, C_in={C_in}, "
            f"C_out={C_out}, stride={stride}): {_brief(err)}"
        ) from err
    _probe(name, op, spatial_dims, C_in, C_out, stride)
    return op


# (name, spatial_dims, stride, C_in == C_out) of the user ops whose module was probed
_PROBED: set[tuple[str, int, int, bool]] = set()


def _brief(err: BaseException, limit: int = 200) -> str:
    text = f"{type(err).__name__}: {' '.join(str(err).split())}"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _check_factory(name: str, factory: OpFactory) -> None:
    """Refuse a factory that cannot be called as ``create_op`` calls it."""
    if not callable(factory):
        raise SpaceError(f"Op {name!r}: register_op decorates a function, got {factory!r}.")
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):  # no signature to read (a C callable): the probe checks it
        return
    try:
        signature.bind(2, 4, 4, 1, affine=True)
    except TypeError:
        raise SpaceError(
            f"Op {name!r}: its factory takes {signature}; it must take "
            "(spatial_dims, C_in, C_out, stride, affine=True) and return an nn.Module."
        ) from None


def _probe(name: str, op: nn.Module, dims: int, C_in: int, C_out: int, stride: int) -> None:
    """Run a user op's module once on a tiny input and refuse it, in one line, unless it
    is a module that gives ``(C_out, *S')``: a wrong shape would otherwise surface as a
    size mismatch deep in a supernet, after a run folder exists. Once per name, dims,
    stride and channel change; eval mode, no grad and a forked RNG leave the module, and
    the caller's random stream, as they were."""
    key = (name, dims, stride, C_in == C_out)
    if key in _PROBED:
        return
    if not isinstance(op, nn.Module):
        raise SpaceError(
            f"Op {name!r}: its factory returned {type(op).__name__}, not an nn.Module; "
            "return the module it builds."
        )
    size = 8 if dims == 2 else 4
    first = next(itertools.chain(op.parameters(), op.buffers()), None)
    like = {} if first is None else {"device": first.device}
    if first is not None and first.is_floating_point():
        like["dtype"] = first.dtype
    x = torch.zeros((1, C_in) + (size,) * dims, **like)
    modes = [(module, module.training) for module in op.modules()]
    try:
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            out = op.eval()(x)
    except Exception:
        # Cannot tell: an op may work only at the sizes its network feeds it (a fixed
        # 7x7 window), so a failure on the tiny probe input is no reason to refuse it.
        return
    finally:
        for module, mode in modes:
            module.training = mode
    sides = {(size,) * dims} if stride == 1 else {((size + 1) // 2,) * dims, (2 * size,) * dims}
    shape = tuple(out.shape) if isinstance(out, torch.Tensor) else None
    if shape is None or shape[:2] != (1, C_out) or shape[2:] not in sides:
        axes = "(C, H, W)" if dims == 2 else "(C, D, H, W)"
        got = shape[1:] if shape is not None else type(out).__name__
        want = (C_out, *((size + 1) // 2 if stride == 2 else size,) * dims)
        raise SpaceError(
            f"Op {name!r} maps {axes} = {(C_in, *(size,) * dims)} at stride {stride} to "
            f"{got}; it must give {want}: stride 1 keeps the size, stride 2 halves it, and "
            "the channels go C_in -> C_out. Build its layers with stride=stride, "
            "padding=kernel_size // 2 and C_out output channels."
        )
    _PROBED.add(key)


# ----------------------------------------------------------------------------- the op table


def _skip(sd: int, ci: int, co: int, s: int, affine: bool = True) -> nn.Module:
    """Identity; FactorizedReduce at stride 2; a 1x1 ReLUConvBN when only channels change."""
    if s == 2:
        return FactorizedReduce(sd, ci, co, affine=affine)
    if ci != co:
        return ReLUConvBN(sd, ci, co, 1, 1, 0, affine)
    return Identity()


def _non_local(sd: int, ci: int, co: int, s: int, affine: bool = True) -> nn.Module:
    block = NonLocalBlock(sd, co, affine=affine)
    if s == 1 and ci == co:
        return block
    # Reshape first (as skip_connect would), then attend at the output resolution.
    return nn.Sequential(_skip(sd, ci, co, s, affine), block)


def _vnas_2d(sd: int, ci: int, co: int, s: int, affine: bool = True) -> nn.Module:
    if sd == 2:
        return ReLUConvBN(2, ci, co, 3, s, 1, affine)
    return ReLUConvBN(3, ci, co, (1, 3, 3), s, (0, 1, 1), affine)


def _vnas_p3d(sd: int, ci: int, co: int, s: int, affine: bool = True) -> nn.Module:
    # In-plane 3x3 (carrying the in-plane stride), then 3 along depth (the depth stride).
    return nn.Sequential(
        ReLUConvBN(3, ci, co, (1, 3, 3), (1, s, s), (0, 1, 1), affine),
        ReLUConvBN(3, co, co, (3, 1, 1), (s, 1, 1), (1, 0, 0), affine),
    )


def _conv_bn_relu(kernel: int) -> OpFactory:
    """NAS-Bench-101's ``conv_bn_relu``: convolution, batch norm, ReLU (post-activation)."""

    def factory(sd: int, ci: int, co: int, s: int, affine: bool = True) -> nn.Module:
        return nn.Sequential(
            conv_cls(sd)(ci, co, kernel, stride=s, padding=kernel // 2, bias=False),
            bn_cls(sd)(co, affine=affine),
            nn.ReLU(inplace=False),
        )

    return factory


def _builtin_ops() -> dict[str, tuple[str, OpFactory]]:
    """name -> (family, factory). Lambdas take (spatial_dims, C_in, C_out, stride, affine)."""

    def pool(kernel: int, mode: str) -> OpFactory:
        return lambda sd, ci, co, s, affine=True: PreprocessedPool(
            sd, ci, co, kernel, s, mode, affine
        )

    def sep(kernel: int) -> OpFactory:
        return lambda sd, ci, co, s, affine=True: SepConv(
            sd, ci, co, kernel, s, kernel // 2, affine
        )

    def dil(kernel: int, dilation: int, up: bool = False) -> OpFactory:
        pad = dilation * (kernel - 1) // 2
        return lambda sd, ci, co, s, affine=True: DilConv(
            sd, ci, co, kernel, s, pad, dilation, affine, upsample=up
        )

    def conv(kernel: int, up: bool = False) -> OpFactory:
        return lambda sd, ci, co, s, affine=True: ReLUConvBN(
            sd, ci, co, kernel, s, kernel // 2, affine, upsample=up
        )

    def factorized(kernel: int, depthwise: bool) -> OpFactory:
        return lambda sd, ci, co, s, affine=True: FactorizedConv(
            sd, ci, co, kernel, s, affine, depthwise=depthwise
        )

    def residual(dilation: int) -> OpFactory:
        return lambda sd, ci, co, s, affine=True: ResidualConv(sd, ci, co, s, dilation, affine)

    def cweight(up: bool = False) -> OpFactory:
        return lambda sd, ci, co, s, affine=True: CWeight(sd, ci, co, s, affine, upsample=up)

    return {
        # DARTS (and NASNet, GDAS, ElixirNet, NAS-Bench-201 where the names recur)
        "none": ("none", lambda sd, ci, co, s, affine=True: Zero(s, co)),
        "max_pool_3x3": ("pool", pool(3, "max")),
        "avg_pool_3x3": ("pool", pool(3, "avg")),
        "skip_connect": ("skip", _skip),
        "sep_conv_3x3": ("sep_conv", sep(3)),
        "sep_conv_5x5": ("sep_conv", sep(5)),
        "dil_conv_3x3": ("dil_conv", dil(3, 2)),
        "dil_conv_5x5": ("dil_conv", dil(5, 2)),
        # NASNet search space extras
        "sep_conv_7x7": ("sep_conv", sep(7)),
        "conv_7x1_1x7": ("conv", factorized(7, depthwise=False)),
        "conv_3x1_1x3": ("conv", factorized(3, depthwise=False)),
        "max_pool_5x5": ("pool", pool(5, "max")),
        "max_pool_7x7": ("pool", pool(7, "max")),
        "conv_1x1": ("conv", conv(1)),
        "conv_3x3": ("conv", conv(3)),
        # GDAS extra
        "conv_5x5": ("conv", conv(5)),
        # NAS-Bench-201 (nor_conv = ReLU-Conv-BN, the same module as conv_kxk)
        "nor_conv_1x1": ("conv", conv(1)),
        "nor_conv_3x3": ("conv", conv(3)),
        # NAS-Unet: normal, down and up primitive operations
        "identity": ("skip", _skip),
        "cweight": ("attention", cweight()),
        "dil_conv": ("dil_conv", dil(3, 2)),
        "dep_conv": ("sep_conv", dil(3, 1)),
        "conv": ("conv", conv(3)),
        # NAS-Unet's code builds shuffle_conv as its conv (a 3x3 conv with groups=1, so no
        # channel shuffle happens); the name lets its published genotypes build. Not in the
        # nasunet_normal set: a search would see two copies of one op.
        "shuffle_conv": ("conv", conv(3)),
        "avg_pool": ("pool", pool(3, "avg")),
        "max_pool": ("pool", pool(3, "max")),
        "down_cweight": ("attention", cweight()),
        "down_dil_conv": ("dil_conv", dil(3, 2)),
        "down_dep_conv": ("sep_conv", dil(3, 1)),
        "down_conv": ("conv", conv(3)),
        "up_cweight": ("attention", cweight(up=True)),
        "up_dep_conv": ("sep_conv", dil(3, 1, up=True)),
        "up_conv": ("conv", conv(3, up=True)),
        "up_dil_conv": ("dil_conv", dil(3, 2, up=True)),
        # V-NAS: 2D (1x3x3), 3D (3x3x3), pseudo-3D (1x3x3 then 3x1x1)
        "vnas_2d_3x3": ("conv", _vnas_2d),
        "vnas_3d_3x3": ("conv", conv(3)),
        "vnas_p3d_3x3": ("conv", _vnas_p3d),
        # ElixirNet Auto-lesion Block extras (atrous = depthwise dilated + pointwise)
        "sep_conv_3x1_1x3": ("sep_conv", factorized(3, depthwise=True)),
        "atrous_conv_3x3_r3": ("dil_conv", dil(3, 3)),
        "atrous_conv_5x5_r5": ("dil_conv", dil(5, 5)),
        "non_local": ("attention", _non_local),
        # MRI reconstruction (NAS for reconstruction, EMR-NAS): residual blocks
        "res_conv_3x3": ("conv", residual(1)),
        "res_dil_conv_3x3": ("dil_conv", residual(2)),
        # NAS-Bench-101: post-activation Conv-BN-ReLU (its conv3x3-bn-relu, conv1x1-bn-relu)
        # and a 3x3 max pool (its maxpool3x3; the cell sizes its input, so no 1x1 first)
        "conv3x3_bn_relu": ("conv", _conv_bn_relu(3)),
        "conv1x1_bn_relu": ("conv", _conv_bn_relu(1)),
        "maxpool3x3": ("pool", pool(3, "max")),
    }


def _builtin_sets() -> dict[str, tuple[str, ...]]:
    """The published op sets, each in its paper's / code's canonical order."""
    return {
        "darts": (
            "none",
            "max_pool_3x3",
            "avg_pool_3x3",
            "skip_connect",
            "sep_conv_3x3",
            "sep_conv_5x5",
            "dil_conv_3x3",
            "dil_conv_5x5",
        ),
        # The 13 ops of the NASNet search space (Zoph et al. 2018, in the paper's order);
        # a superset of what the NASNet-A, AmoebaNet-A and ENAS cells use.
        "nasnet": (
            "skip_connect",
            "conv_3x1_1x3",
            "conv_7x1_1x7",
            "dil_conv_3x3",
            "avg_pool_3x3",
            "max_pool_3x3",
            "max_pool_5x5",
            "max_pool_7x7",
            "conv_1x1",
            "conv_3x3",
            "sep_conv_3x3",
            "sep_conv_5x5",
            "sep_conv_7x7",
        ),
        "nb201": ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"),
        "nasunet_down": (
            "avg_pool",
            "max_pool",
            "down_cweight",
            "down_dil_conv",
            "down_dep_conv",
            "down_conv",
        ),
        "nasunet_up": ("up_cweight", "up_dep_conv", "up_conv", "up_dil_conv"),
        "nasunet_normal": ("identity", "cweight", "dil_conv", "dep_conv", "conv"),
        "vnas": ("vnas_2d_3x3", "vnas_3d_3x3", "vnas_p3d_3x3"),
        "elixir": (
            "sep_conv_3x1_1x3",
            "sep_conv_3x3",
            "sep_conv_5x5",
            "atrous_conv_3x3_r3",
            "atrous_conv_5x5_r5",
            "avg_pool_3x3",
            "skip_connect",
            "none",
            "non_local",
        ),
        "gdas": (
            "none",
            "conv_3x3",
            "conv_5x5",
            "dil_conv_3x3",
            "dil_conv_5x5",
            "sep_conv_3x3",
            "sep_conv_5x5",
            "max_pool_3x3",
            "avg_pool_3x3",
            "skip_connect",
        ),
        # NAS-Bench-101's three vertex ops, in its code's order (Ying et al., 2019)
        "nb101": ("conv3x3_bn_relu", "conv1x1_bn_relu", "maxpool3x3"),
        # The unrolled reconstruction cell: plain, residual, dilated and depthwise-separable
        # convolutions (EMR-NAS's efficient ops); no pools, which blur the detail it restores.
        "recon": (
            "none",
            "skip_connect",
            "conv_1x1",
            "conv_3x3",
            "res_conv_3x3",
            "res_dil_conv_3x3",
            "sep_conv_3x3",
            "dil_conv_3x3",
        ),
    }


def _register_builtins() -> None:
    three_d_only = {"vnas_3d_3x3", "vnas_p3d_3x3"}
    for name, (family, factory) in _builtin_ops().items():
        dims = (3,) if name in three_d_only else (2, 3)
        register_op(name, family, spatial_dims=dims)(factory)
    for set_name, ops in _builtin_sets().items():
        register_op_set(set_name, ops)
    _BUILTIN_SETS.update(_builtin_sets())


_register_builtins()

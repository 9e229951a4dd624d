"""Tests for the operation registry nasbench.spaces.ops and its blocks."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from nasbench.errors import SpaceError
from nasbench.spaces import ops
from nasbench.spaces.blocks import (
    FactorizedReduce,
    ReLUConvBN,
    SepConv,
    Zero,
    even_and_odd_voxels,
)
from nasbench.spaces.cell import CellSpace
from nasbench.spaces.nasunet import NasUnetSpace
from nasbench.spaces.nb201 import NB201Space
from nasbench.spaces.ops import OP_SETS

INPUTS = {2: (2, 8, 16, 16), 3: (2, 8, 8, 8, 8)}
EXPECTED_SETS = {
    "darts": (
        "none", "max_pool_3x3", "avg_pool_3x3", "skip_connect",
        "sep_conv_3x3", "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5",
    ),
    "nasnet": (
        "skip_connect", "conv_3x1_1x3", "conv_7x1_1x7", "dil_conv_3x3", "avg_pool_3x3",
        "max_pool_3x3", "max_pool_5x5", "max_pool_7x7", "conv_1x1", "conv_3x3",
        "sep_conv_3x3", "sep_conv_5x5", "sep_conv_7x7",
    ),
    "nb201": ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"),
    "nasunet_down": (
        "avg_pool", "max_pool", "down_cweight", "down_dil_conv", "down_dep_conv", "down_conv",
    ),
    "nasunet_up": ("up_cweight", "up_dep_conv", "up_conv", "up_dil_conv"),
    "nasunet_normal": ("identity", "cweight", "dil_conv", "dep_conv", "conv"),
    "vnas": ("vnas_2d_3x3", "vnas_3d_3x3", "vnas_p3d_3x3"),
    "elixir": (
        "sep_conv_3x1_1x3", "sep_conv_3x3", "sep_conv_5x5", "atrous_conv_3x3_r3",
        "atrous_conv_5x5_r5", "avg_pool_3x3", "skip_connect", "none", "non_local",
    ),
    "gdas": (
        "none", "conv_3x3", "conv_5x5", "dil_conv_3x3", "dil_conv_5x5",
        "sep_conv_3x3", "sep_conv_5x5", "max_pool_3x3", "avg_pool_3x3", "skip_connect",
    ),
    "recon": (
        "none", "skip_connect", "conv_1x1", "conv_3x3", "res_conv_3x3", "res_dil_conv_3x3",
        "sep_conv_3x3", "dil_conv_3x3",
    ),
    "nb101": ("conv3x3_bn_relu", "conv1x1_bn_relu", "maxpool3x3"),
}  # fmt: skip
# Every op the published zoo cells (DARTS genotypes.py, ENAS, GDAS, PC-DARTS) use.
ZOO_OPS = {
    "sep_conv_3x3", "sep_conv_5x5", "sep_conv_7x7", "avg_pool_3x3", "max_pool_3x3",
    "skip_connect", "conv_7x1_1x7", "dil_conv_3x3", "dil_conv_5x5",
}  # fmt: skip


def n_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def expected_shape(name: str, spatial_dims: int, c_out: int, stride: int) -> tuple[int, ...]:
    n, _, *spatial = INPUTS[spatial_dims]
    if stride == 2:
        spatial = [s * 2 if name.startswith("up_") else (s + 1) // 2 for s in spatial]
    return (n, c_out, *spatial)


CASES = [
    (name, dims, stride, c_out)
    for name in ops.op_names()
    for dims in ops.op_spatial_dims(name)
    for stride in (1, 2)
    for c_out in (8, 6)
]


@pytest.mark.parametrize(("name", "spatial_dims", "stride", "c_out"), CASES)
def test_every_op_gives_the_right_shape_and_finite_values(name, spatial_dims, stride, c_out):
    op = ops.create_op(name, spatial_dims, C_in=8, C_out=c_out, stride=stride)
    x = torch.randn(INPUTS[spatial_dims], generator=torch.Generator().manual_seed(0))
    y = op(x.requires_grad_())
    assert tuple(y.shape) == expected_shape(name, spatial_dims, c_out, stride)
    assert torch.isfinite(y).all()
    y.sum().backward()  # every op is differentiable end to end
    assert x.grad is not None


@pytest.mark.parametrize(
    "name", ["skip_connect", "sep_conv_3x3", "max_pool_3x3", "none", "up_conv"]
)
def test_odd_sizes_give_ceil_half_or_double(name):
    y = ops.create_op(name, 2, 8, 8, stride=2)(torch.randn(1, 8, 7, 5))
    assert tuple(y.shape) == ((1, 8, 14, 10) if name.startswith("up_") else (1, 8, 4, 3))


def test_each_set_contains_exactly_the_listed_ops_in_order():
    assert dict(ops.OP_SETS) == EXPECTED_SETS
    for name, expected in EXPECTED_SETS.items():
        assert ops.op_names(name) == expected


def test_zoo_cells_ops_are_all_registered():
    assert ZOO_OPS <= set(ops.op_names("darts")) | set(ops.op_names("nasnet"))


def test_op_sets_are_read_only():
    with pytest.raises(TypeError):
        ops.OP_SETS["darts"] = ("none",)


def test_sep_and_dil_conv_parameter_counts_match_the_darts_formula():
    c, k = 16, 3
    # DARTS SepConv: 2 x (depthwise k*k*C + pointwise C*C + BN 2C); DilConv: one of them.
    half = c * k * k + c * c + 2 * c
    assert n_params(ops.create_op("sep_conv_3x3", 2, c, c)) == 2 * half == 864
    assert n_params(ops.create_op("dil_conv_3x3", 2, c, c)) == half == 432
    assert n_params(ops.create_op("sep_conv_5x5", 2, c, c)) == 2 * (c * 25 + c * c + 2 * c)
    assert n_params(ops.create_op("dil_conv_3x3", 2, c, c, affine=False)) == c * k * k + c * c
    # 3D: the depthwise kernel is k^3.
    assert n_params(ops.create_op("sep_conv_3x3", 3, c, c)) == 2 * (c * 27 + c * c + 2 * c)


def test_factorized_reduce_matches_darts_parameters_and_even_size_values():
    op = FactorizedReduce(2, 8, 16)
    assert n_params(op) == 2 * 8 * 8 + 2 * 16
    x = torch.randn(1, 8, 6, 6)
    y = op.eval()(x)
    r = torch.relu(x)
    w1, w2 = op.conv_1.weight, op.conv_2.weight
    darts = torch.cat([F.conv2d(r, w1, stride=2), F.conv2d(r[:, :, 1:, 1:], w2, stride=2)], 1)
    torch.testing.assert_close(y, op.bn(darts))  # the DARTS forward


def _darts_factorized_reduce(op: FactorizedReduce, x: torch.Tensor) -> torch.Tensor:
    """The stride-2 pair on ``x`` and on ``x`` shifted by one voxel, zero-padded at the end."""
    dims = x.dim() - 2
    conv = {2: F.conv2d, 3: F.conv3d}[dims]
    r = torch.relu(x)
    shifted = F.pad(r, (0, 1) * dims)[(slice(None), slice(None), *[slice(1, None)] * dims)]
    halves = [conv(r, op.conv_1.weight, stride=2), conv(shifted, op.conv_2.weight, stride=2)]
    return op.bn(torch.cat(halves, dim=1))


@pytest.mark.parametrize("shape", [(2, 4, 6, 6), (2, 4, 7, 5), (1, 4, 1, 3), (2, 4, 5, 4, 3)])
@pytest.mark.parametrize("channels_last", [False, True])
def test_factorized_reduce_is_dartss_stride_two_pair_forward_and_backward(shape, channels_last):
    dims = len(shape) - 2
    op = FactorizedReduce(dims, 4, 5).double()
    x = torch.randn(shape, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    if channels_last:
        op = op.to(memory_format={2: torch.channels_last, 3: torch.channels_last_3d}[dims])
        x = x.contiguous(memory_format={2: torch.channels_last, 3: torch.channels_last_3d}[dims])
    x.requires_grad_()
    ours = op(x)
    assert ours.shape == (shape[0], 5, *[(n + 1) // 2 for n in shape[2:]])
    params = [x, op.conv_1.weight, op.conv_2.weight]
    seed = torch.randn(ours.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    grads = torch.autograd.grad(ours, params, seed)
    darts = _darts_factorized_reduce(op, x)
    torch.testing.assert_close(ours, darts)
    for got, want in zip(grads, torch.autograd.grad(darts, params, seed), strict=True):
        torch.testing.assert_close(got, want)


@pytest.mark.parametrize("shape", [(1, 2, 5, 4), (1, 2, 3, 2, 5)])
def test_even_and_odd_voxels_are_differentiable_twice_and_keep_the_format(shape):
    x = torch.randn(shape, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    assert torch.autograd.gradgradcheck(
        lambda t: [g**2 for g in even_and_odd_voxels(t)], (x.requires_grad_(),)
    )
    fmt = {4: torch.channels_last, 5: torch.channels_last_3d}[len(shape)]
    y = x.detach().contiguous(memory_format=fmt).requires_grad_()
    even, odd = even_and_odd_voxels(y)
    assert even.is_contiguous(memory_format=fmt) and odd.is_contiguous(memory_format=fmt)
    (grad,) = torch.autograd.grad(even.sum() + 2 * odd.sum(), y)
    assert grad.is_contiguous(memory_format=fmt)
    # each grid's voxels get its factor, every other voxel none (the grids are disjoint)
    expected = torch.zeros(shape, dtype=torch.float64)
    n = len(shape) - 2
    expected[(slice(None), slice(None), *[slice(None, None, 2)] * n)] += 1
    expected[(slice(None), slice(None), *[slice(1, None, 2)] * n)] += 2
    assert torch.equal(grad, expected)


def test_none_is_parameter_free_and_outputs_zeros():
    assert ops.is_parameter_free("none")
    y = ops.create_op("none", 3, 8, 5, stride=2)(torch.ones(2, 8, 8, 8, 8))
    assert tuple(y.shape) == (2, 5, 4, 4, 4)
    assert torch.count_nonzero(y) == 0
    assert tuple(Zero(1)(torch.ones(1, 3, 4, 4)).shape) == (1, 3, 4, 4)


def test_parameter_free_ops():
    free = {name for name in ops.op_names() if ops.is_parameter_free(name)}
    assert free == {
        "none", "skip_connect", "identity", "max_pool_3x3", "avg_pool_3x3",
        "max_pool_5x5", "max_pool_7x7", "avg_pool", "max_pool", "maxpool3x3",
    }  # fmt: skip


def test_skip_connect_stride_one_is_identity():
    x = torch.randn(2, 8, 5, 5)
    assert torch.equal(ops.create_op("skip_connect", 2, 8, 8)(x), x)
    assert n_params(ops.create_op("skip_connect", 2, 8, 8, stride=2)) > 0


def test_avg_pool_does_not_count_padding():
    y = ops.create_op("avg_pool_3x3", 2, 1, 1)(torch.ones(1, 1, 4, 4))
    torch.testing.assert_close(y, torch.ones(1, 1, 4, 4))


@pytest.mark.parametrize(
    ("name", "same_as"),
    [
        ("nor_conv_3x3", "conv_3x3"),
        ("nor_conv_1x1", "conv_1x1"),
        ("dil_conv", "dil_conv_3x3"),
        ("down_conv", "conv"),
        ("avg_pool", "avg_pool_3x3"),
        # NAS-Unet's code builds both as ConvOps(c, c): groups=1, so nothing is shuffled.
        ("shuffle_conv", "conv"),
    ],
)
def test_names_from_different_papers_for_one_op_build_the_same_module(name, same_as):
    for stride in (1, 2):
        a, b = ops.create_op(name, 2, 8, 6, stride), ops.create_op(same_as, 2, 8, 6, stride)
        assert repr(a) == repr(b)


def test_families():
    assert ops.op_family("sep_conv_3x3") == "sep_conv"
    assert ops.op_family("dil_conv_5x5") == "dil_conv"
    assert ops.op_family("max_pool_3x3") == "pool"
    assert ops.op_family("skip_connect") == "skip"
    assert ops.op_family("none") == "none"
    assert ops.op_family("non_local") == "attention"
    assert all(ops.op_family(n) in ops.FAMILIES for n in ops.op_names())


def conv3d_kernels(name: str) -> list[tuple[int, ...]]:
    op = ops.create_op(name, 3, 4, 4)
    return [m.kernel_size for m in op.modules() if isinstance(m, torch.nn.Conv3d)]


def test_vnas_kernels_and_2d_behaviour():
    # (N, C, D, H, W) layout: "k x k x 1" is in-plane k x k, 1 along depth.
    assert conv3d_kernels("vnas_2d_3x3") == [(1, 3, 3)]
    assert conv3d_kernels("vnas_3d_3x3") == [(3, 3, 3)]
    assert conv3d_kernels("vnas_p3d_3x3") == [(1, 3, 3), (3, 1, 1)]
    assert ops.op_spatial_dims("vnas_2d_3x3") == (2, 3)
    with pytest.raises(SpaceError, match="vnas_p3d_3x3.*spatial_dims"):
        ops.create_op("vnas_p3d_3x3", 2, 4, 4)


def test_non_local_is_residual():
    op = ops.create_op("non_local", 2, 4, 4)
    for p in op.out.parameters():
        torch.nn.init.zeros_(p)  # W(y) = 0 leaves only the residual path
    x = torch.randn(1, 4, 3, 3)
    torch.testing.assert_close(op.eval()(x), x)


def test_residual_convs_add_their_input():
    for name, dilation in (("res_conv_3x3", 1), ("res_dil_conv_3x3", 2)):
        op = ops.create_op(name, spatial_dims=2, C_in=4, C_out=4, stride=1)
        # Two 3x3 convs (no bias) and two batch norms; the shortcut is the identity.
        assert n_params(op) == 2 * (4 * 4 * 9) + 2 * (2 * 4)
        assert op.body[0].op[1].dilation == (dilation, dilation)
        for module in op.body:
            torch.nn.init.zeros_(module.op[2].weight)  # silence the residual branch
        x = torch.randn(2, 4, 6, 6)
        assert torch.equal(op(x), x)


def test_cweight_rescales_channels():
    se = ops.create_op("cweight", 2, 4, 4).se
    x = torch.ones(2, 4, 3, 3)
    y = se(x)
    assert ((y > 0) & (y < 1)).all()  # sigmoid gates in (0, 1)
    assert torch.allclose(y, y[:, :, :1, :1].expand_as(y))  # one weight per channel


def test_unknown_op_names_the_closest_and_the_valid_set():
    with pytest.raises(SpaceError) as info:
        ops.create_op("sep_conv_3x", 2, 8, 8)
    message = str(info.value)
    assert "Did you mean 'sep_conv_3x3'?" in message and "dil_conv_5x5" in message
    assert "\n" not in message
    with pytest.raises(SpaceError, match="Did you mean 'darts'"):
        ops.op_names("dart")
    with pytest.raises(SpaceError, match="Unknown op 'nope'"):
        ops.op_family("nope")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"spatial_dims": 1}, "spatial_dims must be 2"),
        ({"spatial_dims": True}, "spatial_dims must be 2"),
        ({"stride": 3}, "stride must be 1 or 2"),
        ({"C_in": 0}, "C_in must be a positive int"),
        ({"C_out": 2.5}, "C_out must be a positive int"),
        ({"affine": "yes"}, "affine must be True or False"),
    ],
)
def test_bad_arguments_raise_one_line_space_errors(kwargs, match):
    args = {"name": "sep_conv_3x3", "spatial_dims": 2, "C_in": 8, "C_out": 8, "stride": 1}
    with pytest.raises(SpaceError, match=match) as info:
        ops.create_op(**{**args, **kwargs})
    assert "\n" not in str(info.value)


def test_factorized_reduce_needs_two_output_channels():
    with pytest.raises(SpaceError, match="C_out >= 2"):
        ops.create_op("skip_connect", 2, 8, 1, stride=2)


def test_register_op_rejects_duplicates_and_bad_families():
    with pytest.raises(SpaceError, match="already registered"):
        ops.register_op("sep_conv_3x3", "sep_conv")
    with pytest.raises(SpaceError, match="Unknown op family 'sepconv'.*Did you mean 'sep_conv'"):
        ops.register_op("my_new_op", "sepconv")
    with pytest.raises(SpaceError, match="Unknown op 'bogus'"):
        ops.register_op_set("my_new_set", ["none", "bogus"])
    assert "my_new_op" not in ops.op_names() and "my_new_set" not in ops.OP_SETS


@pytest.mark.parametrize("dims", [2, 3])
def test_a_preprocessor_runs_the_same_on_an_input_rectified_outside(dims):
    from nasbench.spaces.blocks import runs_rectified

    torch.manual_seed(0)
    x = torch.randn(2, 6, *[6] * dims, dtype=torch.float64)
    for block in (ReLUConvBN(dims, 6, 4, 1, 1, 0), FactorizedReduce(dims, 6, 4)):
        block = block.double()
        assert runs_rectified(block)
        assert torch.equal(block.forward_rectified(torch.relu(x)), block(x))


def test_a_hooked_or_in_place_relu_is_not_run_outside_its_block():
    from nasbench.spaces.blocks import runs_rectified

    hooked = ReLUConvBN(2, 4, 4, 1, 1, 0)
    hooked.op[0].register_forward_pre_hook(lambda *args: None)
    in_place = FactorizedReduce(2, 4, 4)
    in_place.relu = torch.nn.ReLU(inplace=True)
    block_hooked = FactorizedReduce(2, 4, 4)
    block_hooked.register_forward_hook(lambda *args: None)
    assert not any(runs_rectified(b) for b in (hooked, in_place, block_hooked))
    assert not runs_rectified(SepConv(2, 4, 4, 3, 1, 1))


def test_up_ops_are_found_by_what_they_do():
    from nasbench.spaces.ops import op_names, op_upsamples

    assert [op for op in op_names() if op_upsamples(op)] == list(OP_SETS["nasunet_up"])


@pytest.mark.parametrize(
    "make, said",
    [
        (lambda: CellSpace(ops=["skip_connect", "up_conv"]), "'up_conv', an up-sampling"),
        (lambda: NB201Space(ops=["none", "up_dep_conv"]), "'up_dep_conv', an up-sampling"),
        (lambda: NasUnetSpace(normal_ops=["conv", "up_conv"]), "'up_conv', an up-sampling"),
        (lambda: NasUnetSpace(up_ops=["up_conv", "conv"]), "'conv', which does not up-sample"),
        (lambda: CellSpace(ops="vnas"), "2D .* op 'vnas_3d_3x3' works on 3D data only"),
        (lambda: NasUnetSpace(normal_ops=["conv", "vnas_p3d_3x3"]), "op 'vnas_p3d_3x3' works"),
    ],
)
def test_ops_that_cannot_fit_the_space_are_refused_when_it_is_made(make, said):
    with pytest.raises(SpaceError, match=said) as err:
        make()
    assert "\n" not in str(err.value)


def test_a_search_config_with_up_ops_in_a_darts_space_is_refused_before_it_runs():
    from nasbench.config import SearchConfig
    from nasbench.errors import ConfigError

    config = SearchConfig(space={"name": "darts", "ops": ["skip_connect", "up_conv"]})
    with pytest.raises((SpaceError, ConfigError), match="up_conv"):
        config.validate()


def test_a_user_op_that_cannot_stride_is_not_taken_for_an_up_op():
    from nasbench.spaces.ops import op_upsamples, register_op

    @register_op("stride_one_conv_test", "conv")
    def stride_one(spatial_dims, C_in, C_out, stride, affine=True):
        if stride != 1:
            raise ValueError("stride 1 only")
        return torch.nn.Conv2d(C_in, C_out, 3, padding=1)

    assert op_upsamples("stride_one_conv_test") is False
    NB201Space(ops=["none", "stride_one_conv_test"])  # an NB201 cell never strides


@pytest.fixture
def user_ops():
    """Forget the ops and op sets a test registers, so no other test sees them."""
    from nasbench import registry

    saved, sets = dict(registry._REGISTRIES["op"].entries), dict(ops._SETS)
    yield
    registry._REGISTRIES["op"].entries.clear()
    registry._REGISTRIES["op"].entries.update(saved)
    ops._SETS.clear()
    ops._SETS.update(sets)
    ops.op_upsamples.cache_clear()
    ops._PROBED.clear()


def _conv_op(stride_of=lambda s: s, padding=1, channels_of=lambda ci, co: co):
    """A user op factory: a 3x3 conv, with the mistakes the arguments put in it."""

    def factory(spatial_dims, C_in, C_out, stride, affine=True):
        conv = torch.nn.Conv2d if spatial_dims == 2 else torch.nn.Conv3d
        return conv(C_in, channels_of(C_in, C_out), 3, stride=stride_of(stride), padding=padding)

    return factory


@pytest.mark.parametrize(
    "factory, said",
    [
        (_conv_op(stride_of=lambda s: 1), r"maps \(C, H, W\) = \(4, 8, 8\) at stride 2 to "
         r"\(8, 8, 8\); it must give \(8, 4, 4\)"),
        (_conv_op(padding=0), r"at stride 2 to \(8, 3, 3\); it must give \(8, 4, 4\)"),
        (_conv_op(channels_of=lambda ci, co: ci), r"to \(4, 4, 4\); it must give \(8, 4, 4\)"),
        (lambda spatial_dims, C_in, C_out, stride, affine=True: None,
         "its factory returned NoneType, not an nn.Module"),
    ],
)  # fmt: skip
def test_a_user_op_of_the_wrong_shape_is_refused_in_one_line_when_built(user_ops, factory, said):
    ops.register_op("wrong_op_test", "conv")(factory)
    with pytest.raises(SpaceError, match="Op 'wrong_op_test'.*" + said) as err:
        ops.create_op("wrong_op_test", 2, 4, 8, stride=2)
    assert "\n" not in str(err.value)


def test_an_op_that_ignores_its_stride_is_refused_when_its_space_is_made(user_ops):
    ops.register_op("no_stride_test", "conv", sets=("no_stride_set",))(
        _conv_op(stride_of=lambda s: 1)
    )
    with pytest.raises(SpaceError, match="'no_stride_test' maps .* it must give \\(4, 4, 4\\)"):
        CellSpace(ops="no_stride_set")  # before a search makes a run folder


def test_an_op_factory_with_the_wrong_signature_is_refused_when_registered(user_ops):
    with pytest.raises(SpaceError) as err:

        @ops.register_op("bad_sig_test", "conv")
        def bad_sig(C_in, C_out, stride):
            return torch.nn.Conv2d(C_in, C_out, 3, stride, 1)

    assert str(err.value) == (
        "Op 'bad_sig_test': its factory takes (C_in, C_out, stride); it must take "
        "(spatial_dims, C_in, C_out, stride, affine=True) and return an nn.Module."
    )
    assert "bad_sig_test" not in ops.op_names()


def test_a_good_user_op_is_probed_once_leaving_its_modes_and_the_random_stream_alone(user_ops):
    built = []

    @ops.register_op("good_op_test", "conv", spatial_dims=(2, 3))
    def good(spatial_dims, C_in, C_out, stride, affine=True):
        built.append(ReLUConvBN(spatial_dims, C_in, C_out, 3, stride, 1, affine))
        return built[-1]

    torch.manual_seed(0)
    op = ops.create_op("good_op_test", 3, 4, 6, stride=2)
    after = torch.rand(1)
    torch.manual_seed(0)
    ReLUConvBN(3, 4, 6, 3, 2, 1)
    assert torch.equal(after, torch.rand(1))  # the probe drew no random numbers
    assert all(m.training for m in op.modules())
    assert op.op[2].num_batches_tracked == 0  # run in eval mode: its statistics untouched
    assert op(torch.zeros(2, 4, 6, 6, 6)).shape == (2, 6, 3, 3, 3)
    probes = set(ops._PROBED)
    ops.create_op("good_op_test", 3, 4, 6, stride=2)
    ops.create_op("sep_conv_3x3", 3, 4, 6, stride=2)
    assert ops._PROBED == probes == {("good_op_test", 3, 2, False)}  # built-ins never


def _cell(stride_of):
    """The same notebook cell run twice: one definition, a new function each time."""

    @ops.register_op("cell_op_test", "conv", sets=("cell_set_test",))
    def cell_op(spatial_dims, C_in, C_out, stride, affine=True):
        return torch.nn.Conv2d(C_in, C_out, 3, stride=stride_of(stride), padding=1)

    ops.register_op_set("cell_pair_test", ["none", "cell_op_test"])
    return cell_op


def test_re_running_an_op_cell_replaces_the_op_and_keeps_its_sets(user_ops):
    _cell(stride_of=lambda s: 1)  # the mistake
    with pytest.raises(SpaceError, match="maps"):
        ops.create_op("cell_op_test", 2, 4, 4, stride=2)
    fixed = _cell(stride_of=lambda s: s)  # the cell, corrected and run again
    assert ops.op_family("cell_op_test") == "conv"
    assert registry_factory("cell_op_test") is fixed
    assert ops.create_op("cell_op_test", 2, 4, 4, stride=2)(torch.zeros(1, 4, 8, 8)).shape[-1] == 4
    assert OP_SETS["cell_set_test"] == ("cell_op_test",)
    assert OP_SETS["cell_pair_test"] == ("none", "cell_op_test")


def registry_factory(name):
    from nasbench import registry

    return registry.get("op", name).obj.factory


def test_another_definition_or_list_under_a_taken_name_is_still_refused(user_ops):
    _cell(stride_of=lambda s: s)
    with pytest.raises(SpaceError) as err:
        ops.register_op("cell_op_test", "conv")(_conv_op())
    assert str(err.value) == (
        "Op 'cell_op_test' is already registered by tests.spaces.test_ops._cell.<locals>.cell_op;"
        " pick another name (re-running the cell or module that defined it replaces it)."
    )
    with pytest.raises(SpaceError, match="Op set 'cell_pair_test' is already registered as "):
        ops.register_op_set("cell_pair_test", ["none", "skip_connect"])
    with pytest.raises(SpaceError, match="'darts' is already registered as a built-in op set"):
        ops.register_op_set("darts", OP_SETS["darts"])
    with pytest.raises(SpaceError, match="'sep_conv_3x3' is already registered as a built-in op"):
        ops.register_op("sep_conv_3x3", "sep_conv")

"""Background network: arch bounds, size limits and the multiply-add count."""

import math

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from reviewer.engine.foreground_net import (
    MAX_MULTIPLY_ADDS,
    MAX_PARAMETERS,
    ForegroundArch,
    ForegroundNet,
    check_network_cost,
    network_multiply_adds,
    network_state_shapes,
)

TINY = {"widths": [4, 4, 8, 8], "depths": [1, 1, 1, 1], "decoder_width": 4, "input_size_px": 32}


@pytest.mark.parametrize(
    ("change", "named_value"),
    [
        ({"input_size_px": 4096}, "4096"),
        ({"input_size_px": 16}, "16"),
        ({"widths": [4, 4, 8, 2048]}, "2048"),
        ({"widths": [4, 0, 8, 8]}, "widths"),
        ({"depths": [1, 9, 1, 1]}, "9"),
        ({"decoder_width": 1025}, "1025"),
        ({"widths": [4] * 7, "depths": [1] * 7, "input_size_px": 128}, "7"),
        ({"widths": [4], "depths": [1]}, "stages"),
    ],
)
def test_arch_out_of_bounds(change, named_value):
    with pytest.raises(ValueError, match=named_value):
        ForegroundArch.from_dict({**TINY, **change})


def test_arch_lengths_differ():
    with pytest.raises(ValueError, match="depths"):
        ForegroundArch.from_dict({**TINY, "depths": [1, 1, 1]})


@pytest.mark.parametrize("widths", ["abc", [4, 4, "8", 8], 8])
def test_arch_widths_not_ints(widths):
    with pytest.raises(TypeError, match="list of ints"):
        ForegroundArch.from_dict({**TINY, "widths": widths})


def test_arch_default_within_limits():
    check_network_cost(ForegroundArch())


def test_cost_rejects_parameters():
    # Inside every value bound and the multiply-add limit, but 51 M parameters.
    arch = ForegroundArch(
        widths=(8, 1024, 1024, 1024, 1024, 1024),
        depths=(8,) * 6,
        decoder_width=1024,
        input_size_px=64,
    )
    assert network_multiply_adds(arch) <= MAX_MULTIPLY_ADDS
    with pytest.raises(ValueError, match="parameters"):
        check_network_cost(arch)


def test_cost_rejects_multiply_adds():
    arch = ForegroundArch(widths=(1024, 1024), depths=(1, 1), input_size_px=1024)
    shapes = network_state_shapes(arch)
    assert sum(math.prod(shape) for shape in shapes.values()) <= MAX_PARAMETERS
    with pytest.raises(ValueError, match="multiply-adds"):
        check_network_cost(arch)


def test_state_shapes_match_real_net():
    arch = ForegroundArch.from_dict(TINY)
    real = {key: tuple(value.shape) for key, value in ForegroundNet(arch).state_dict().items()}
    assert network_state_shapes(arch) == real


@pytest.mark.parametrize(
    "arch",
    [
        ForegroundArch(),
        ForegroundArch.from_dict(TINY),
        ForegroundArch(widths=(3, 5), depths=(2, 3), decoder_width=7, input_size_px=64),
        ForegroundArch(widths=(6, 10, 12), depths=(1, 2, 1), decoder_width=5, input_size_px=96),
    ],
)
def test_multiply_adds_match_flop_counter(arch):
    with torch.device("meta"):
        net = ForegroundNet(arch).eval()
    size = arch.input_size_px
    with FlopCounterMode(display=False) as counter:
        net(torch.zeros(1, 3, size, size, device="meta"))
    # torch counts one multiply-add of a convolution as two FLOPs.
    assert counter.get_total_flops() == 2 * network_multiply_adds(arch)

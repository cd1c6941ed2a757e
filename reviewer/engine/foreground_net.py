"""The background network: its shape, its layers and the bounds on its size.

``ForegroundArch`` is stored in each model file as plain ints. Its bounds, and
the limits on the size of the network it describes (``check_network_cost``),
keep a crafted or mistaken model file from making loading or ``predict``
allocate or compute without limit.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional

# Bounds on every ForegroundArch. The default arch is well inside each of them.
INPUT_SIZE_RANGE_PX = (32, 1024)  # chips are 700 px on the longer side by default
WIDTH_RANGE = (1, 1024)  # channels of an encoder stage, and of the decoder
DEPTH_RANGE = (1, 8)  # separable blocks per encoder stage
STAGE_COUNT_RANGE = (2, 6)  # encoder stages; the stride is 2 ** stages
MAX_PARAMETERS = 50_000_000  # values in the state dict, about 200 MB as float32
# Multiply-adds of one network pass on an input_size_px square, the largest
# input predict makes; about 30 times those of the default arch.
MAX_MULTIPLY_ADDS = 5_000_000_000


@dataclass(frozen=True)
class ForegroundArch:
    """Shape of the foreground network, stored in the model file as plain ints.

    Each value must lie within the module's bounds (``INPUT_SIZE_RANGE_PX``,
    ``WIDTH_RANGE``, ``DEPTH_RANGE``, ``STAGE_COUNT_RANGE``); ``check_network_cost``
    checks the size of the network that the values describe.
    """

    widths: tuple[int, ...] = (32, 48, 96, 160, 256)  # channels at stride 2, 4, 8, 16, 32
    depths: tuple[int, ...] = (1, 2, 3, 3, 2)  # separable blocks per encoder stage
    decoder_width: int = 64  # channels of every decoder stage
    input_size_px: int = 256  # longer side of the network input; a multiple of the stride

    def __post_init__(self):
        object.__setattr__(self, "widths", tuple(int(w) for w in self.widths))
        object.__setattr__(self, "depths", tuple(int(d) for d in self.depths))
        if len(self.widths) != len(self.depths):
            raise ValueError(
                f"widths has {len(self.widths)} entries and depths {len(self.depths)}; "
                "they must have one entry per encoder stage each"
            )
        _check_range("the number of encoder stages", len(self.widths), STAGE_COUNT_RANGE)
        for width in self.widths:
            _check_range("widths", width, WIDTH_RANGE)
        for depth in self.depths:
            _check_range("depths", depth, DEPTH_RANGE)
        _check_range("decoder_width", self.decoder_width, WIDTH_RANGE)
        _check_range("input_size_px", self.input_size_px, INPUT_SIZE_RANGE_PX)
        if self.input_size_px < self.stride or self.input_size_px % self.stride:
            raise ValueError(
                f"input_size_px must be a positive multiple of the stride {self.stride}, "
                f"not {self.input_size_px}"
            )

    @property
    def stride(self) -> int:
        """Total downsampling of the encoder, in input pixels per deepest cell."""
        return 2 ** len(self.widths)

    def to_dict(self) -> dict:
        """Plain ints and lists, safe for ``weights_only`` loading."""
        return {key: list(v) if isinstance(v, tuple) else v for key, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict) -> ForegroundArch:
        """Build from ``to_dict`` output; raise ValueError or TypeError on bad fields."""
        if not isinstance(data, dict):
            raise TypeError(f"arch must be a dict, not {type(data).__name__}")
        unknown = set(data) - {"widths", "depths", "decoder_width", "input_size_px"}
        if unknown:
            raise ValueError(f"unknown arch fields {sorted(map(str, unknown))}")
        for key in ("decoder_width", "input_size_px"):
            if key in data and not isinstance(data[key], int):
                raise TypeError(f"arch field {key} must be an int, not {type(data[key]).__name__}")
        for key in ("widths", "depths"):
            values = data.get(key, [])
            if not isinstance(values, list | tuple) or not all(isinstance(v, int) for v in values):
                raise TypeError(f"arch field {key} must be a list of ints")
        return cls(**data)


def _check_range(name: str, value: int, bounds: tuple[int, int]) -> None:
    low, high = bounds
    if not low <= value <= high:
        raise ValueError(f"{name} must be in [{low}, {high}], not {value}")


class SeparableBlock(nn.Module):
    """Depthwise 3x3 then pointwise 1x1 convolution, each with BatchNorm and ReLU."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1):
        super().__init__()
        self.depthwise = nn.Conv2d(
            in_channels, in_channels, 3, stride, padding=1, groups=in_channels, bias=False
        )
        self.depthwise_bn = nn.BatchNorm2d(in_channels)
        self.pointwise = nn.Conv2d(in_channels, out_channels, 1, bias=False)
        self.pointwise_bn = nn.BatchNorm2d(out_channels)
        self.residual = stride == 1 and in_channels == out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = functional.relu(self.depthwise_bn(self.depthwise(x)))
        y = self.pointwise_bn(self.pointwise(y))
        return functional.relu(y + x if self.residual else y)


class ForegroundNet(nn.Module):
    """Compact U-Net that maps a BGR image batch to foreground logits.

    Input: (B, 3, H, W) float32 BGR in [0, 255], H and W multiples of
    ``arch.stride``. Output: (B, 1, H / 4, W / 4) float32 logits.
    """

    def __init__(self, arch: ForegroundArch):
        super().__init__()
        self.arch = arch
        widths = arch.widths

        # Encoder. Two extra input channels carry x and y in [-1, 1], because
        # the chip is the box and the animal tends to sit in its middle.
        self.stem = nn.Sequential(
            nn.Conv2d(5, widths[0], 3, 2, padding=1, bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(inplace=True),
        )
        self.stages = nn.ModuleList()
        for index, (width, depth) in enumerate(zip(widths, arch.depths, strict=True)):
            in_width = widths[max(index - 1, 0)]
            blocks = [SeparableBlock(in_width, width, stride=1 if index == 0 else 2)]
            blocks += [SeparableBlock(width, width) for _ in range(depth - 1)]
            self.stages.append(nn.Sequential(*blocks))

        # Global context: the mean of the deepest features, added back everywhere.
        self.context = nn.Sequential(nn.Conv2d(widths[-1], widths[-1], 1), nn.ReLU(inplace=True))

        # Decoder: upsample, concatenate the skip, one separable block, down to stride 4.
        self.decoder = nn.ModuleList()
        in_width = widths[-1]
        for skip_width in reversed(widths[1:-1]):
            self.decoder.append(SeparableBlock(in_width + skip_width, arch.decoder_width))
            in_width = arch.decoder_width
        self.head = nn.Conv2d(in_width, 1, 1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = torch.cat([images / 127.5 - 1.0, _coordinate_channels(images)], dim=1)
        x = self.stem(x)
        skips = []
        for stage in self.stages:
            x = stage(x)
            skips.append(x)

        x = x + self.context(x.mean(dim=(2, 3), keepdim=True))
        for block, skip in zip(self.decoder, reversed(skips[1:-1]), strict=True):
            x = functional.interpolate(x, size=skip.shape[2:], mode="bilinear", align_corners=False)
            x = block(torch.cat([x, skip], dim=1))
        return self.head(x)


def _coordinate_channels(images: torch.Tensor) -> torch.Tensor:
    batch, _, height, width = images.shape
    ys = torch.linspace(-1.0, 1.0, height, dtype=images.dtype, device=images.device)
    xs = torch.linspace(-1.0, 1.0, width, dtype=images.dtype, device=images.device)
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([grid_x, grid_y]).expand(batch, 2, height, width)


def network_state_shapes(arch: ForegroundArch) -> dict[str, tuple[int, ...]]:
    """Return the shape of each state-dict entry of ``ForegroundNet(arch)``.

    The network is built on torch's meta device, which allocates no memory.
    """
    with torch.device("meta"):
        net = ForegroundNet(arch)
    return {key: tuple(value.shape) for key, value in net.state_dict().items()}


def check_network_cost(arch: ForegroundArch) -> None:
    """Raise ValueError if ``ForegroundNet(arch)`` exceeds MAX_MULTIPLY_ADDS or MAX_PARAMETERS."""
    multiply_adds = network_multiply_adds(arch)
    if multiply_adds > MAX_MULTIPLY_ADDS:
        raise ValueError(
            f"one network pass at input_size_px {arch.input_size_px} needs "
            f"{multiply_adds / 1e9:.1f} G multiply-adds, more than the maximum "
            f"{MAX_MULTIPLY_ADDS / 1e9:.1f} G"
        )
    values = sum(math.prod(shape) for shape in network_state_shapes(arch).values())
    if values > MAX_PARAMETERS:
        raise ValueError(
            f"the network has {values:,} parameters, more than the maximum {MAX_PARAMETERS:,}"
        )


def network_multiply_adds(arch: ForegroundArch) -> int:
    """Count the multiply-adds of ``ForegroundNet(arch)`` on one input_size_px square.

    The count follows the convolutions of ``ForegroundNet`` layer by layer, so it
    must change with that class; a test compares it with torch's FLOP counter.
    BatchNorm, ReLU, sums and resizing are left out, each costs about one
    operation per value.
    """
    widths, decoder_width = arch.widths, arch.decoder_width
    side = arch.input_size_px // 2
    total = side * side * 9 * 5 * widths[0]  # stem

    # Encoder: each block is a depthwise 3x3 and a pointwise 1x1 convolution.
    stage_sides = []
    in_width = widths[0]
    for index, (width, depth) in enumerate(zip(widths, arch.depths, strict=True)):
        side = side if index == 0 else side // 2
        total += side * side * (9 * in_width + in_width * width)
        total += (depth - 1) * side * side * (9 * width + width * width)
        stage_sides.append(side)
        in_width = width
    total += in_width * in_width  # context, on the 1x1 mean

    # Decoder blocks at the sides of the skips, then the head at stride 4.
    for skip_width, skip_side in zip(
        reversed(widths[1:-1]), reversed(stage_sides[1:-1]), strict=True
    ):
        channels = in_width + skip_width
        total += skip_side * skip_side * (9 * channels + channels * decoder_width)
        in_width = decoder_width
    return total + stage_sides[1] * stage_sides[1] * in_width


def net_input_size(chip_size: tuple[int, int], input_size_px: int, stride: int) -> tuple[int, int]:
    """Return the (width, height) of the network input for a chip of (width, height).

    The longer side becomes ``input_size_px``. The shorter side is scaled by the
    same factor and rounded to a multiple of ``stride``, at least one stride.
    """
    width, height = chip_size
    scale = input_size_px / max(width, height, 1)
    net_w = max(stride, int(round(width * scale / stride)) * stride)
    net_h = max(stride, int(round(height * scale / stride)) * stride)
    return (min(net_w, input_size_px), min(net_h, input_size_px))

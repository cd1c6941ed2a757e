"""Background model: a small fully convolutional network that turns a chip into a probchip.

The network is a compact U-Net built from depthwise-separable convolutions. It
takes a BGR chip resized so that its longer side is ``input_size_px`` (both
sides a multiple of the network's stride), adds two coordinate channels, and
returns foreground logits at a quarter of that resolution. ``predict`` runs the
chip and its mirror image in one batch and averages their logits (horizontal
flip test-time averaging), then resizes the logits back to the chip with cv2
and applies the sigmoid.

A model file is a torch checkpoint holding only plain data and tensors::

    {"format": MODEL_FORMAT, "arch": {...}, "state_dict": {...}, "meta": {...}}

It is read with ``torch.load(..., weights_only=True)``, which rejects any pickle
that would import or call code, so a model file never runs code.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn
from torch.nn import functional

from reviewer.engine.errors import ModelLoadError

log = logging.getLogger(__name__)

MODEL_FORMAT = "reviewer-background-model/1"
_FIX_HINT = (
    "Replace it with a file written by 'reviewer train-background', "
    "or restore the bundled one with 'git checkout -- models/'."
)


@dataclass(frozen=True)
class ForegroundArch:
    """Shape of the foreground network, stored in the model file as plain ints."""

    widths: tuple[int, ...] = (32, 48, 96, 160, 256)  # channels at stride 2, 4, 8, 16, 32
    depths: tuple[int, ...] = (1, 2, 3, 3, 2)  # separable blocks per encoder stage
    decoder_width: int = 64  # channels of every decoder stage
    input_size_px: int = 256  # longer side of the network input; a multiple of the stride

    def __post_init__(self):
        object.__setattr__(self, "widths", tuple(int(w) for w in self.widths))
        object.__setattr__(self, "depths", tuple(int(d) for d in self.depths))
        if len(self.widths) < 2 or len(self.widths) != len(self.depths):
            raise ValueError(
                f"widths {list(self.widths)} and depths {list(self.depths)} must have "
                "the same length, at least 2"
            )
        if min(self.widths) < 1 or min(self.depths) < 1 or self.decoder_width < 1:
            raise ValueError("widths, depths and decoder_width must all be >= 1")
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
            raise ValueError(f"unknown arch fields {sorted(unknown)}")
        for key in ("decoder_width", "input_size_px"):
            if key in data and not isinstance(data[key], int):
                raise TypeError(f"arch field {key} must be an int, not {data[key]!r}")
        return cls(**data)


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


def physical_core_count() -> int:
    """Count physical CPU cores available to this process (hyperthreads not counted)."""
    try:
        available = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        available = os.cpu_count() or 1
    cores = set()
    with contextlib.suppress(OSError):
        physical_id = core_id = None
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "physical id":
                physical_id = value.strip()
            elif key.strip() == "core id":
                core_id = value.strip()
                cores.add((physical_id, core_id))
    return max(1, min(available, len(cores) or available))


@contextlib.contextmanager
def torch_threads(count: int):
    """Run the block with ``count`` torch intra-op threads, then restore the old count.

    NOTE: torch's thread count is process-wide, so other torch work running in
    parallel threads also uses ``count`` threads until the block ends.
    """
    previous = torch.get_num_threads()
    if count != previous:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        if count != previous:
            torch.set_num_threads(previous)


@dataclass(frozen=True, eq=False)
class BackgroundModel:
    """A loaded background model, ready to turn chips into probchips."""

    name: str  # file stem, e.g. "background_generic"
    path: Path
    sha256: str  # hex hash of the model file, part of probchip cache keys
    net: ForegroundNet = field(repr=False)
    meta: dict = field(default_factory=dict, repr=False)  # training facts from the file
    num_threads: int = field(default_factory=physical_core_count)  # torch threads in predict
    # Average the logits of the chip and its mirror image. The network is not
    # mirror-symmetric (its x coordinate channel is not), so this halves the
    # variance of the left/right errors at twice the network cost.
    flip_average: bool = True

    def __post_init__(self):
        if self.num_threads < 1:
            raise ValueError(f"num_threads must be >= 1, not {self.num_threads}")

    @property
    def arch(self) -> ForegroundArch:
        return self.net.arch

    @property
    def input_size_px(self) -> int:
        """Longer side, in pixels, of the image the network runs on."""
        return self.net.arch.input_size_px

    def predict(self, chip: np.ndarray) -> np.ndarray:
        """Compute the probchip of one chip.

        Parameters
        ----------
        chip : (H, W, 3) uint8
            BGR chip.

        Returns
        -------
        probchip : (H, W) float32
            Foreground probability in [0, 1]. An empty chip gives an empty probchip.
        """
        _check_chip(chip)
        height, width = chip.shape[:2]
        if height == 0 or width == 0:
            return np.zeros((height, width), dtype=np.float32)

        # Run the network at its own resolution, on the chip and maybe its mirror image.
        net_size = net_input_size((width, height), self.input_size_px, self.arch.stride)
        small = cv2.resize(chip, net_size, interpolation=cv2.INTER_AREA)
        batch = torch.from_numpy(small).permute(2, 0, 1)[None].float()
        if self.flip_average:
            batch = torch.cat([batch, batch.flip(3)])
        self.net.eval()
        with torch_threads(self.num_threads), torch.inference_mode():
            output = self.net(batch)[:, 0]
            if self.flip_average:
                output = (output[:1] + output[1:].flip(2)) / 2.0
            logits = output[0].numpy()

        # Resize logits, not probabilities, so that edges stay sharp.
        logits = cv2.resize(logits, (width, height), interpolation=cv2.INTER_LINEAR)
        return (1.0 / (1.0 + np.exp(-np.clip(logits, -30.0, 30.0)))).astype(np.float32)


def _check_chip(chip: np.ndarray) -> None:
    if not isinstance(chip, np.ndarray) or chip.ndim != 3 or chip.shape[2] != 3:
        shape = getattr(chip, "shape", None)
        raise ValueError(f"chip must be an (H, W, 3) BGR array, got shape {shape}")
    if chip.dtype != np.uint8:
        raise ValueError(f"chip must be uint8, got {chip.dtype}")


def load_background_model(
    path: str | Path, num_threads: int | None = None, flip_average: bool = True
) -> BackgroundModel:
    """Load a background model file safely.

    Parameters
    ----------
    path
        A ``.pt`` file written by ``save_background_model``.
    num_threads
        Torch threads used while predicting; default: the physical core count.
    flip_average
        Average each probchip's logits with those of the mirrored chip.

    Raises
    ------
    ModelLoadError
        The file is missing, empty, unreadable, corrupt, not a background model
        or of a different network architecture.
    """
    path = Path(path)
    data = _read_model_bytes(path)
    checkpoint = _unpickle_weights(path, data)
    arch, state_dict = _checked_parts(path, checkpoint)

    net = ForegroundNet(arch)
    problem = _state_dict_mismatch(net, state_dict)
    if problem:
        raise ModelLoadError(
            f"Background model {path} does not fit the network it describes: {problem}. {_FIX_HINT}"
        )
    net.load_state_dict(state_dict, strict=True)
    net.eval()

    meta = checkpoint.get("meta", {})
    model = BackgroundModel(
        name=path.stem,
        path=path,
        sha256=hashlib.sha256(data).hexdigest(),
        net=net,
        meta=meta if isinstance(meta, dict) else {},
        num_threads=num_threads or physical_core_count(),
        flip_average=flip_average,
    )
    log.info("Loaded background model %s (sha256 %s)", path, model.sha256[:12])
    return model


def _read_model_bytes(path: Path) -> bytes:
    if not path.is_file():
        raise ModelLoadError(f"Background model not found: {path}. {_FIX_HINT}")
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ModelLoadError(f"Cannot read background model {path}: {err.strerror}") from None
    if not data:
        raise ModelLoadError(f"Background model {path} is empty (0 bytes). {_FIX_HINT}")
    return data


def _unpickle_weights(path: Path, data: bytes):
    try:
        return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    # torch.load raises many exception types on damaged or hostile bytes,
    # depending on where they break; every one of them means an unusable file.
    except Exception as err:  # noqa: BLE001
        log.warning("Rejected background model %s: %s: %s", path, type(err).__name__, err)
        raise ModelLoadError(
            f"Background model {path} is corrupt, truncated or not a plain-weights torch "
            f"file ({type(err).__name__}: {_first_line(err)}). {_FIX_HINT}"
        ) from None


def _checked_parts(path: Path, checkpoint) -> tuple[ForegroundArch, dict]:
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != MODEL_FORMAT:
        found = checkpoint.get("format") if isinstance(checkpoint, dict) else None
        raise ModelLoadError(
            f"{path} is not a background model: expected a dict with format "
            f"{MODEL_FORMAT!r}, found {type(checkpoint).__name__} with format {found!r}. "
            f"{_FIX_HINT}"
        )
    try:
        arch = ForegroundArch.from_dict(checkpoint.get("arch"))
    except (TypeError, ValueError) as err:
        raise ModelLoadError(
            f"Background model {path} has an invalid 'arch' entry: {err}. {_FIX_HINT}"
        ) from None
    state_dict = checkpoint.get("state_dict")
    if not isinstance(state_dict, dict) or not all(
        isinstance(v, torch.Tensor) for v in state_dict.values()
    ):
        raise ModelLoadError(
            f"Background model {path} has no valid 'state_dict' of tensors. {_FIX_HINT}"
        )
    return arch, state_dict


def _state_dict_mismatch(net: ForegroundNet, state_dict: dict) -> str:
    """Describe missing keys, unexpected keys and shape mismatches; empty if none."""
    expected = net.state_dict()
    missing = sorted(set(expected) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(expected))
    wrong_shape = [
        f"{key} {tuple(state_dict[key].shape)} instead of {tuple(expected[key].shape)}"
        for key in expected
        if key in state_dict and state_dict[key].shape != expected[key].shape
    ]
    parts = []
    for label, items in (
        ("missing", missing),
        ("unexpected", unexpected),
        ("wrong shape", wrong_shape),
    ):
        if items:
            more = f" and {len(items) - 3} more" if len(items) > 3 else ""
            parts.append(f"{label}: {', '.join(items[:3])}{more}")
    return "; ".join(parts)


def _first_line(err: Exception) -> str:
    text = str(err).strip()
    line = text.splitlines()[0] if text else "no details"
    return line if len(line) <= 160 else line[:157] + "..."


def save_background_model(path: str | Path, net: ForegroundNet, meta: dict) -> Path:
    """Write a model file atomically (a temporary file, then a rename).

    ``meta`` must hold only plain data (str, int, float, bool, lists and dicts
    of them), so that ``weights_only`` loading accepts it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    checkpoint = {
        "format": MODEL_FORMAT,
        "arch": net.arch.to_dict(),
        "state_dict": {
            key: value.detach().cpu().clone() for key, value in net.state_dict().items()
        },
        "meta": meta,
    }
    temporary = path.with_name(path.name + ".tmp")
    torch.save(checkpoint, temporary)
    os.replace(temporary, path)
    return path

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
that would import or call code, so a model file never runs code. Its arch and
the size of its state dict are checked against the bounds in ``foreground_net``
before the network is built.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import pickle
import re
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch

from reviewer.engine.errors import ModelLoadError
from reviewer.engine.foreground_net import (
    MAX_PARAMETERS,
    ForegroundArch,
    ForegroundNet,
    check_network_cost,
    net_input_size,
    network_state_shapes,
)

log = logging.getLogger(__name__)

MODEL_FORMAT = "reviewer-background-model/1"
_FIX_HINT = (
    "Replace it with a file written by 'reviewer train-background', "
    "or restore the bundled one with 'git checkout -- models/'."
)
# Files larger than MAX_PARAMETERS float64 values and 1 MiB of pickle are not read.
MAX_FILE_BYTES = 8 * MAX_PARAMETERS + 2**20


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
        The file is missing, empty, unreadable, corrupt, not a background model,
        of a different network architecture, or describes a network outside the
        bounds of ``ForegroundArch`` and ``check_network_cost``.
    """
    path = Path(path)
    data = _read_model_bytes(path)
    checkpoint = _unpickle_weights(path, data)
    arch, state_dict = _checked_parts(path, checkpoint)

    # Check sizes and shapes before the network allocates any memory.
    try:
        check_network_cost(arch)
    except ValueError as err:
        raise ModelLoadError(
            f"Background model {path} describes a network that is too large: {err}. {_FIX_HINT}"
        ) from None
    problem = _state_dict_mismatch(network_state_shapes(arch), state_dict)
    if problem:
        raise ModelLoadError(
            f"Background model {path} does not fit the network it describes: {problem}. {_FIX_HINT}"
        )

    net = ForegroundNet(arch)
    try:
        net.load_state_dict(state_dict, strict=True)
    except RuntimeError as err:  # e.g. a tensor of a dtype that cannot be copied
        raise ModelLoadError(
            f"Background model {path} has weights that do not load: {_first_line(err)}. {_FIX_HINT}"
        ) from None
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
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ModelLoadError(
                f"Background model {path} is {size / 2**20:.0f} MiB, larger than any valid "
                f"model file ({MAX_FILE_BYTES / 2**20:.0f} MiB at most). {_FIX_HINT}"
            )
        data = path.read_bytes()
    except OSError as err:
        raise ModelLoadError(f"Cannot read background model {path}: {err.strerror}") from None
    if not data:
        raise ModelLoadError(f"Background model {path} is empty (0 bytes). {_FIX_HINT}")
    return data


def _unpickle_weights(path: Path, data: bytes):
    try:
        return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        raise _rejected_pickle_error(path, err) from None
    # torch.load raises many exception types on damaged bytes, depending on
    # where they break; every one of them means an unusable file.
    except Exception as err:  # noqa: BLE001
        log.debug("torch.load failed on %s: %s: %s", path, type(err).__name__, err)
        raise ModelLoadError(
            f"Background model {path} is corrupt, truncated or not a torch weights file "
            f"({_first_line(err)}). {_FIX_HINT}"
        ) from None


def _rejected_pickle_error(path: Path, err: pickle.UnpicklingError) -> ModelLoadError:
    """Describe a pickle that ``weights_only=True`` rejected, without torch's advice.

    torch's text advises loading with weights_only=False, which would run the
    file's code, so at most the name of the rejected global is passed on.
    """
    found = re.search(r"GLOBAL ([\w.]{1,100})(?![\w.])", str(err))
    if found is None:
        # An unsupported pickle instruction: damaged bytes or a hand-made pickle.
        log.debug("torch.load with weights_only=True rejected %s: no global named", path)
        return ModelLoadError(
            f"Background model {path} is corrupt or not a plain weights file: safe "
            f"loading rejected its pickle data, so it was not loaded. {_FIX_HINT}"
        )
    log.debug("torch.load with weights_only=True rejected %s: %s", path, found.group(1))
    return ModelLoadError(
        f"Background model {path} is not a plain weights file: it contains Python objects "
        f"that are not allowed ({found.group(1)}), so it was not loaded. Do not load it with "
        "weights_only=False unless you trust its source. Train a model file with "
        "'reviewer train-background', or download one made by it."
    )


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
    values = sum(tensor.numel() for tensor in state_dict.values())
    if values > MAX_PARAMETERS:
        raise ModelLoadError(
            f"Background model {path} has {values:,} values in its state_dict, more than "
            f"the maximum {MAX_PARAMETERS:,}. {_FIX_HINT}"
        )
    return arch, state_dict


def _state_dict_mismatch(expected: dict[str, tuple[int, ...]], state_dict: dict) -> str:
    """Describe missing keys, unexpected keys and shape mismatches; empty if none."""
    missing = sorted(set(expected) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(expected))
    wrong_shape = [
        f"{key} {tuple(state_dict[key].shape)} instead of {expected[key]}"
        for key in expected
        if key in state_dict and tuple(state_dict[key].shape) != expected[key]
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
    """Return the error type and its first sentence, or the type alone if that is long.

    A sentence is kept whole or left out, never cut, so that messages stay
    complete and on one line.
    """
    text = str(err).strip()
    sentence = re.split(r"(?<=\.)\s|\n", text, maxsplit=1)[0].rstrip(".") if text else ""
    if not sentence or len(sentence) > 120:
        return type(err).__name__
    return f"{type(err).__name__}: {sentence}"


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

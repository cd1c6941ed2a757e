"""Background model: probchip inference and safe loading of model files."""

import hashlib
import pickle

import numpy as np
import pytest
import torch

from reviewer import DEMO_ANNOTATIONS, MODELS_DIR
from reviewer.engine.annotations import load_annotations
from reviewer.engine.chips import extract_chip, load_photo
from reviewer.engine.errors import ModelLoadError
from reviewer.engine.foreground import (
    MODEL_FORMAT,
    ForegroundArch,
    ForegroundNet,
    load_background_model,
    net_input_size,
    save_background_model,
)

BUNDLED_MODEL = MODELS_DIR / "background_generic.pt"
TINY_ARCH = ForegroundArch(
    widths=(4, 4, 8, 8), depths=(1, 1, 1, 1), decoder_width=4, input_size_px=32
)


@pytest.fixture(scope="module")
def tiny_model_path(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("model") / "background_tiny.pt"
    return save_background_model(path, ForegroundNet(TINY_ARCH), meta={"note": "untrained"})


@pytest.fixture(scope="module")
def tiny_model(tiny_model_path):
    return load_background_model(tiny_model_path, num_threads=1)


@pytest.fixture(scope="module")
def demo_chip():
    annots = load_annotations(DEMO_ANNOTATIONS)
    annot = annots.get(3)
    photo = load_photo(annot.image_path, annot.image_size)
    return extract_chip(photo.pixels, annot.bbox, annot.theta).pixels


def _expect_load_error(path):
    with pytest.raises(ModelLoadError) as info:
        load_background_model(path)
    return str(info.value)


# Inference


def test_bundled_model_demo_chip_shape(demo_chip):
    probchip = load_background_model(BUNDLED_MODEL).predict(demo_chip)
    assert probchip.shape == demo_chip.shape[:2]
    assert probchip.dtype == np.float32


def test_bundled_model_demo_chip_range(demo_chip):
    probchip = load_background_model(BUNDLED_MODEL).predict(demo_chip)
    assert probchip.min() >= 0.0
    assert probchip.max() <= 1.0


def test_bundled_model_centre_above_border(demo_chip):
    # The demo box is drawn around one zebra, so its middle is mostly animal.
    probchip = load_background_model(BUNDLED_MODEL).predict(demo_chip)
    height, width = probchip.shape
    centre = probchip[height // 3 : 2 * height // 3, width // 3 : 2 * width // 3].mean()
    border = np.concatenate([probchip[:5].ravel(), probchip[-5:].ravel()]).mean()
    assert centre > border


@pytest.mark.parametrize(
    "shape", [(1, 1), (1, 700), (700, 1), (3, 500), (500, 2), (17, 33), (700, 700), (467, 700)]
)
def test_predict_synthetic_chip_shapes(tiny_model, shape):
    chip = np.random.default_rng(1).integers(0, 256, (*shape, 3), dtype=np.uint8)
    probchip = tiny_model.predict(chip)
    assert probchip.shape == shape
    assert probchip.dtype == np.float32
    assert np.all((probchip >= 0.0) & (probchip <= 1.0))


@pytest.mark.parametrize("shape", [(0, 5), (5, 0), (0, 0)])
def test_predict_empty_chip(tiny_model, shape):
    assert tiny_model.predict(np.zeros((*shape, 3), np.uint8)).shape == shape


@pytest.mark.parametrize(
    "chip",
    [np.zeros((8, 8), np.uint8), np.zeros((8, 8, 4), np.uint8), np.zeros((8, 8, 3), np.float32)],
)
def test_predict_rejects_bad_chip(tiny_model, chip):
    with pytest.raises(ValueError, match="chip"):
        tiny_model.predict(chip)


def test_predict_restores_torch_threads(tiny_model):
    before = torch.get_num_threads()
    tiny_model.predict(np.zeros((40, 60, 3), np.uint8))
    assert torch.get_num_threads() == before


@pytest.mark.parametrize("size", [(700, 467), (467, 700), (700, 1), (1, 1), (700, 700), (50, 30)])
def test_net_input_size_fits_stride(size):
    width, height = net_input_size(size, 256, 32)
    assert width % 32 == 0
    assert height % 32 == 0
    assert max(width, height) == 256


def test_load_records_name_and_hash(tiny_model, tiny_model_path):
    assert tiny_model.name == "background_tiny"
    assert tiny_model.sha256 == hashlib.sha256(tiny_model_path.read_bytes()).hexdigest()
    assert tiny_model.input_size_px == TINY_ARCH.input_size_px


def test_load_keeps_meta(tiny_model):
    assert tiny_model.meta == {"note": "untrained"}


def test_save_load_same_probchip(tmp_path):
    torch.manual_seed(5)
    net = ForegroundNet(TINY_ARCH)
    with torch.no_grad():
        for module in net.modules():  # non-trivial BatchNorm statistics
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.5, 0.5)
    path = save_background_model(tmp_path / "m.pt", net, meta={})
    chip = np.random.default_rng(2).integers(0, 256, (90, 120, 3), dtype=np.uint8)
    first = load_background_model(path).predict(chip)
    second = load_background_model(path).predict(chip)
    assert np.array_equal(first, second)


def test_bundled_model_size_limit():
    assert BUNDLED_MODEL.stat().st_size <= 10 * 1024 * 1024


# Files that must not load


def test_missing_file_raises(tmp_path):
    path = tmp_path / "absent.pt"
    assert str(path) in _expect_load_error(path)


def test_empty_file_raises(tmp_path):
    path = tmp_path / "empty.pt"
    path.write_bytes(b"")
    assert str(path) in _expect_load_error(path)


def test_corrupt_file_raises(tmp_path):
    path = tmp_path / "corrupt.pt"
    path.write_bytes(np.random.default_rng(3).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    assert str(path) in _expect_load_error(path)


def test_truncated_file_raises(tmp_path, tiny_model_path):
    path = tmp_path / "truncated.pt"
    data = tiny_model_path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert str(path) in _expect_load_error(path)


def test_non_dict_file_raises(tmp_path):
    path = tmp_path / "list.pt"
    torch.save([torch.zeros(3)], path)
    assert str(path) in _expect_load_error(path)


def test_wrong_format_raises(tmp_path):
    path = tmp_path / "other.pt"
    torch.save({"format": "something-else", "state_dict": {}}, path)
    assert str(path) in _expect_load_error(path)


def test_wrong_architecture_raises(tmp_path):
    # Weights of a wider network under the tiny network's description: shape mismatch.
    wider = ForegroundArch(
        widths=(8, 8, 8, 8), depths=(1, 1, 1, 1), decoder_width=4, input_size_px=32
    )
    path = tmp_path / "mismatch.pt"
    torch.save(
        {
            "format": MODEL_FORMAT,
            "arch": TINY_ARCH.to_dict(),
            "state_dict": ForegroundNet(wider).state_dict(),
            "meta": {},
        },
        path,
    )
    assert str(path) in _expect_load_error(path)


def test_missing_keys_raise(tmp_path):
    state = ForegroundNet(TINY_ARCH).state_dict()
    state.pop("head.weight")
    path = tmp_path / "missing_key.pt"
    torch.save({"format": MODEL_FORMAT, "arch": TINY_ARCH.to_dict(), "state_dict": state}, path)
    assert "head.weight" in _expect_load_error(path)


def test_bundled_resaved_large_input_raises(tmp_path):
    checkpoint = torch.load(BUNDLED_MODEL, weights_only=True)
    checkpoint["arch"]["input_size_px"] = 4096
    path = tmp_path / "large_input.pt"
    torch.save(checkpoint, path)
    message = _expect_load_error(path)
    assert str(path) in message
    assert "input_size_px must be in [32, 1024], not 4096" in message


def test_oversized_network_raises_unbuilt(tmp_path):
    # 1024 channels at stride 2 of a 1024 px input: within every value bound,
    # but hundreds of G multiply-adds per pass. The state dict is empty, so
    # only the size check can reject it.
    arch = {"widths": [1024, 1024], "depths": [1, 1], "decoder_width": 64, "input_size_px": 1024}
    path = tmp_path / "slow.pt"
    torch.save({"format": MODEL_FORMAT, "arch": arch, "state_dict": {}}, path)
    assert "multiply-adds" in _expect_load_error(path)


def test_state_dict_over_value_limit_raises(tmp_path):
    # An expanded view: 60 M values that share a single stored float.
    state = {"head.weight": torch.zeros(1).expand(60_000_000)}
    path = tmp_path / "many_values.pt"
    torch.save({"format": MODEL_FORMAT, "arch": TINY_ARCH.to_dict(), "state_dict": state}, path)
    assert "60,000,000 values" in _expect_load_error(path)


def test_invalid_arch_raises(tmp_path):
    path = tmp_path / "bad_arch.pt"
    arch = {**TINY_ARCH.to_dict(), "input_size_px": 33}
    torch.save({"format": MODEL_FORMAT, "arch": arch, "state_dict": {}}, path)
    assert str(path) in _expect_load_error(path)


class _Payload:
    """Pickles to a call of ``open(marker, "w")``, which creates the marker file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("writer", ["torch", "pickle"])
def test_code_pickle_rejected_unexecuted(tmp_path, writer):
    marker = tmp_path / "executed"
    path = tmp_path / "hostile.pt"
    checkpoint = {"format": MODEL_FORMAT, "payload": _Payload(marker)}
    if writer == "torch":
        torch.save(checkpoint, path)
    else:
        path.write_bytes(pickle.dumps(checkpoint, protocol=2))
    assert str(path) in _expect_load_error(path)
    assert not marker.exists()


def test_code_pickle_message_own_advice(tmp_path):
    path = tmp_path / "hostile.pt"
    torch.save({"format": MODEL_FORMAT, "payload": _Payload(tmp_path / "executed")}, path)
    message = _expect_load_error(path)
    assert "not a plain weights file" in message
    assert "unless you trust its source" in message
    assert "will likely succeed" not in message


def test_corrupt_pickle_not_called_objects(tmp_path):
    path = tmp_path / "corrupt.pt"
    _random_bytes(path)
    message = _expect_load_error(path)
    assert "corrupt" in message
    assert "Python objects" not in message


def _class_pickle(path):
    torch.save({"format": MODEL_FORMAT, "arch": TINY_ARCH}, path)


def _random_bytes(path):
    path.write_bytes(np.random.default_rng(3).integers(0, 256, 5000, dtype=np.uint8).tobytes())


def _truncated(path):
    data = BUNDLED_MODEL.read_bytes()
    path.write_bytes(data[: len(data) // 3])


@pytest.mark.parametrize("write", [_class_pickle, _random_bytes, _truncated])
def test_error_message_one_complete_line(tmp_path, write):
    path = tmp_path / "bad.pt"
    write(path)
    message = _expect_load_error(path)
    assert "\n" not in message
    assert ".." not in message.replace(str(path), "")


def test_flip_average_mirror_symmetric(tiny_model):
    chip = np.random.default_rng(4).integers(0, 256, (48, 70, 3), dtype=np.uint8)
    mirrored = tiny_model.predict(np.ascontiguousarray(chip[:, ::-1]))
    np.testing.assert_allclose(mirrored, tiny_model.predict(chip)[:, ::-1], atol=1e-5)


def test_flip_average_off_single_pass(tiny_model_path):
    model = load_background_model(tiny_model_path, num_threads=1, flip_average=False)
    chip = np.random.default_rng(4).integers(0, 256, (48, 70, 3), dtype=np.uint8)
    mirrored = model.predict(np.ascontiguousarray(chip[:, ::-1]))
    assert not np.allclose(mirrored, model.predict(chip)[:, ::-1], atol=1e-5)

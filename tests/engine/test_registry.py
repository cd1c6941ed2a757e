"""Species -> background model lookup."""

import json
import shutil

import pytest

from reviewer import MODELS_DIR
from reviewer.engine.registry import ModelRegistry

GENERIC = MODELS_DIR / "background_generic.pt"


@pytest.fixture
def models_dir(tmp_path):
    """A models folder where 'zebra_plains' and the generic entry share the real weights."""
    shutil.copy(GENERIC, tmp_path / "generic.pt")
    shutil.copy(GENERIC, tmp_path / "zebra.pt")
    index = {
        "generic": "generic.pt",
        "species": {"zebra_plains": "zebra.pt", "panthera_pardus": "zebra.pt"},
        "aliases": {"equus_quagga": "zebra_plains", "leopard": "panthera_pardus"},
    }
    (tmp_path / "models.json").write_text(json.dumps(index))
    return tmp_path


def test_exact_code(models_dir):
    choice = ModelRegistry(models_dir).choose("zebra_plains")
    assert choice.model_name == "zebra"
    assert choice.reason == "zebra_plains: model zebra"
    assert choice.warning is None


def test_alias(models_dir):
    choice = ModelRegistry(models_dir).choose("equus_quagga")
    assert choice.model_name == "zebra"
    assert "alias of zebra_plains" in choice.reason


def test_subspecies_falls_back_to_parent(models_dir):
    choice = ModelRegistry(models_dir).choose("panthera_pardus_fusca")
    assert choice.model_name == "zebra"
    assert choice.reason == (
        "panthera_pardus_fusca: no own model, using panthera_pardus (parent taxon)"
    )


def test_shortened_code_tried_as_alias(models_dir):
    choice = ModelRegistry(models_dir).choose("equus_quagga_boehmi")
    assert "using zebra_plains (parent taxon)" in choice.reason


def test_unknown_species_gets_generic(models_dir):
    choice = ModelRegistry(models_dir).choose("okapia_johnstoni")
    assert choice.model_name == "generic"
    assert choice.reason == "okapia_johnstoni: no own model, using the generic model"
    assert choice.fg_weighting


def test_corrupt_own_model_falls_back_with_warning(models_dir):
    (models_dir / "zebra.pt").write_bytes(b"not a torch file")
    choice = ModelRegistry(models_dir).choose("zebra_plains")
    assert choice.model_name == "generic"
    assert "zebra.pt" in choice.warning
    assert choice.reason == "zebra_plains: zebra.pt unusable, using the generic model"


def test_no_usable_model_turns_weighting_off_loudly(models_dir):
    (models_dir / "generic.pt").unlink()
    (models_dir / "zebra.pt").write_bytes(b"")
    choice = ModelRegistry(models_dir).choose("zebra_plains")
    assert not choice.fg_weighting
    assert choice.warning.startswith("Foreground weighting is OFF for zebra_plains")


def test_missing_index_turns_weighting_off_loudly(tmp_path):
    choice = ModelRegistry(tmp_path).choose("zebra_plains")
    assert not choice.fg_weighting
    assert "models.json not found" in choice.warning


def test_load_returns_model(models_dir):
    registry = ModelRegistry(models_dir)
    model = registry.load(registry.choose("giraffe_masai"))
    assert model is not None
    assert model.name == "generic"


def test_shipped_index_serves_demo_species():
    choice = ModelRegistry().choose("zebra_plains")
    assert choice.fg_weighting


REQUIRED_CODES = (
    "zebra_grevys",
    "zebra_plains",
    "giraffe_masai",
    "giraffe_reticulated",
    "panthera_pardus",
    "leopard",
    "snow_leopard",
    "panthera_uncia",
    "panthera_onca",
    "jaguar",
    "acinonyx_jubatus",
    "cheetah",
    "lycaon_pictus",
    "wild_dog",
)


@pytest.mark.parametrize("code", REQUIRED_CODES)
def test_shipped_index_lists_species(code):
    choice = ModelRegistry().choose(code)
    assert choice.fg_weighting
    assert "generic model" not in choice.reason.split("(")[0]


def test_shipped_index_subspecies_reason():
    choice = ModelRegistry().choose("panthera_pardus_fusca")
    assert choice.reason == (
        "panthera_pardus_fusca: no own model, using panthera_pardus (parent taxon)"
    )


def test_note_is_part_of_reason(models_dir):
    index = json.loads((models_dir / "models.json").read_text())
    index["species"]["lycaon_pictus"] = {"model": "generic.pt", "note": "no wild dog masks"}
    (models_dir / "models.json").write_text(json.dumps(index))
    choice = ModelRegistry(models_dir).choose("lycaon_pictus")
    assert choice.reason == "lycaon_pictus: model generic (no wild dog masks)"


def test_lookup_ignores_case(models_dir):
    assert ModelRegistry(models_dir).choose("Zebra_Plains").model_name == "zebra"


def test_alias_of_unknown_species_is_ignored(models_dir):
    index = json.loads((models_dir / "models.json").read_text())
    index["aliases"]["okapi"] = "okapia_johnstoni"
    (models_dir / "models.json").write_text(json.dumps(index))
    choice = ModelRegistry(models_dir).choose("okapi")
    assert choice.reason == "okapi: no own model, using the generic model"


def test_malformed_index_turns_weighting_off(tmp_path):
    (tmp_path / "models.json").write_text("{not json")
    choice = ModelRegistry(tmp_path).choose("zebra_plains")
    assert not choice.fg_weighting
    assert "models.json is unreadable" in choice.warning


def test_file_named_twice_is_reported_once(models_dir):
    (models_dir / "generic.pt").write_bytes(b"broken")
    index = {"generic": "generic.pt", "species": {"zebra_plains": "generic.pt"}}
    (models_dir / "models.json").write_text(json.dumps(index))
    choice = ModelRegistry(models_dir).choose("zebra_plains")
    assert not choice.fg_weighting
    assert choice.warning.count("generic.pt") == 1

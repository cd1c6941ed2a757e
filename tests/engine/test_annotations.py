"""Loading COCO annotation files, their variants and their faults."""

import json

import pytest

from reviewer import DEMO_ANNOTATIONS
from reviewer.engine.annotations import load_annotations
from reviewer.engine.errors import AnnotationFileError


def _write(tmp_path, data, name="annots.json"):
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def _minimal(**annot_fields):
    annot = {"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 20, 30, 40]}
    annot.update(annot_fields)
    return {
        "images": [{"id": 1, "file_name": "a.jpg", "width": 100, "height": 100}],
        "categories": [{"id": 1, "name": "zebra_plains"}],
        "annotations": [annot],
    }


def test_demo_loads_every_annotation():
    annots = load_annotations(DEMO_ANNOTATIONS)
    assert len(annots) == 26
    assert annots.problems == []


def test_demo_fields():
    a = load_annotations(DEMO_ANNOTATIONS).get(3)
    assert a.species == "zebra_plains"
    assert a.name == "IBEIS_PZ_1281"
    assert a.bbox == (3.0, 11.0, 1301.0, 1032.0)
    assert a.viewpoint == "left"
    assert a.capture_time.isoformat() == "2015-03-01T14:15:07"
    assert a.image_path.name == "000000000629.jpg"
    assert a.image_path.is_absolute()


def test_unknown_name_is_none():
    assert load_annotations(DEMO_ANNOTATIONS).get(6).name is None


def test_lookup_by_string_aid():
    annots = load_annotations(DEMO_ANNOTATIONS)
    assert annots.get("5") is annots.get(5)


def test_unknown_aid_message_names_file():
    annots = load_annotations(DEMO_ANNOTATIONS)
    with pytest.raises(KeyError, match="aid 999 is not in"):
        annots.get(999)


def test_variants_individual_ids_string_ids_no_theta(tmp_path):
    data = _minimal(id="a1", image_id="img", individual_ids=["Z1"], segmentation=[[1, 2, 3, 4]])
    data["images"][0]["id"] = "img"
    annots = load_annotations(_write(tmp_path, data))
    a = annots.get("a1")
    assert a.name == "Z1"
    assert a.theta == 0.0
    assert a.capture_time is None
    assert a.segmentation == [[1, 2, 3, 4]]


def test_unknown_fields_are_ignored(tmp_path):
    data = _minimal(note="x", identity_evidence="y")
    data["extra_top_level"] = {"any": 1}
    assert len(load_annotations(_write(tmp_path, data))) == 1


@pytest.mark.parametrize(
    ("fields", "field_name"),
    [
        ({"bbox": None}, "bbox"),
        ({"bbox": [1, 2, 3]}, "bbox"),
        ({"bbox": [1, 2, "w", 4]}, "bbox"),
        ({"bbox": [1, 2, 0, 4]}, "bbox"),
        ({"bbox": [500, 500, 10, 10]}, "bbox"),
        ({"theta": "up"}, "theta"),
        ({"image_id": 42}, "image_id"),
        ({"category_id": 9}, "category_id"),
    ],
)
def test_invalid_annotation_skipped_with_message(tmp_path, fields, field_name):
    data = _minimal(**fields)
    data["annotations"].append({"id": 2, "image_id": 1, "category_id": 1, "bbox": [1, 1, 5, 5]})
    annots = load_annotations(_write(tmp_path, data))
    assert list(annots.annots) == ["2"]
    assert len(annots.problems) == 1
    assert "annots.json" in annots.problems[0]
    assert "aid=1" in annots.problems[0]
    assert f"'{field_name}'" in annots.problems[0]


def test_bbox_outside_image_is_skipped(tmp_path):
    annots = load_annotations(_write(tmp_path, _minimal(bbox=[150, 10, 20, 20])))
    assert len(annots) == 0
    assert "outside the image" in annots.problems[0]


def test_skipped_aid_lookup_gives_reason(tmp_path):
    annots = load_annotations(_write(tmp_path, _minimal(bbox=[150, 10, 20, 20])))
    with pytest.raises(KeyError) as caught:
        annots.get(1)
    message = caught.value.args[0]
    assert "was skipped when the file was loaded" in message
    assert "outside the image" in message


def test_folder_given_as_file(tmp_path):
    with pytest.raises(AnnotationFileError, match="is a folder"):
        load_annotations(tmp_path)


def test_binary_file_is_not_coco(tmp_path):
    path = tmp_path / "photo.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0 not text")
    with pytest.raises(AnnotationFileError, match="is not UTF-8 text"):
        load_annotations(path)


def test_malformed_json_names_file_and_line(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"annotations": [1, 2,,]}')
    with pytest.raises(AnnotationFileError, match=r"broken\.json is not valid JSON \(line 1"):
        load_annotations(path)


def test_missing_file(tmp_path):
    with pytest.raises(AnnotationFileError, match="not found"):
        load_annotations(tmp_path / "nope.json")


def test_not_coco(tmp_path):
    with pytest.raises(AnnotationFileError, match="no 'annotations' list"):
        load_annotations(_write(tmp_path, [1, 2, 3]))


def test_duplicate_aid_skipped(tmp_path):
    data = _minimal()
    data["annotations"].append(dict(data["annotations"][0]))
    annots = load_annotations(_write(tmp_path, data))
    assert len(annots) == 1
    assert "duplicate id" in annots.problems[0]


def test_duplicate_image_id_skips_its_annotations(tmp_path):
    data = _minimal()
    data["images"].append({"id": 1, "file_name": "b.jpg", "width": 100, "height": 100})
    annots = load_annotations(_write(tmp_path, data))
    assert len(annots) == 0
    assert "image id 1 is used by more than one image" in annots.problems[0]
    assert "names more than one image" in annots.problems[1]


def test_images_not_a_list(tmp_path):
    data = _minimal()
    data["images"] = {"id": 1}
    annots = load_annotations(_write(tmp_path, data))
    assert "'images' is missing or not a list" in annots.problems[0]


def test_empty_species_name(tmp_path):
    data = _minimal()
    data["categories"][0]["name"] = " "
    annots = load_annotations(_write(tmp_path, data))
    assert "empty species name" in annots.problems[0]

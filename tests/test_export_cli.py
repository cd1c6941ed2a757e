"""``reviewer export``: figures and sidecars for one pair or a pairs file."""

import json
import xml.etree.ElementTree as ET

import pytest
from PySide6.QtGui import QImage

from reviewer import DEMO_ANNOTATIONS
from reviewer.cli import main


def _texts(svg) -> str:
    root = ET.parse(svg).getroot()
    return " ".join("".join(e.itertext()) for e in root.iter() if e.tag.endswith("text"))


def _broken_annotations(tmp_path):
    """A copy of the demo file with absolute photo paths, the photo of aid 1 missing."""
    data = json.loads(DEMO_ANNOTATIONS.read_text(encoding="utf-8"))
    for image in data["images"]:
        image["file_name"] = str(DEMO_ANNOTATIONS.parent / image["file_name"])
    data["images"][0]["file_name"] = str(tmp_path / "missing.jpg")
    path = tmp_path / "broken.coco.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_svg_with_legend_caption_and_sidecar(tmp_path, capsys):
    out = tmp_path / "figs"
    code = main(["export", str(DEMO_ANNOTATIONS), "3", "5", "--out", str(out), "--format", "svg"])
    assert code == 0
    svg, sidecar = out / "aid3_vs_aid5.svg", out / "aid3_vs_aid5.svg.json"
    text = _texts(svg)
    assert "soft fgweight" in text
    assert "preset vsone" in text
    data = json.loads(sidecar.read_text(encoding="utf-8"))
    assert data["figure"] == "aid3_vs_aid5.svg"
    assert data["correspondences"]
    assert "[1/1] aid 3 vs aid 5: wrote" in capsys.readouterr().err


def test_png_dpi_and_panels(tmp_path):
    out = tmp_path / "figs"
    args = ["--out", str(out), "--dpi", "120", "--panels", "matches,heatmap,mask"]
    assert main(["export", str(DEMO_ANNOTATIONS), "3", "5", *args]) == 0
    image = QImage(str(out / "aid3_vs_aid5.png"))
    assert image.dotsPerMeterX() * 0.0254 == pytest.approx(120, abs=0.013)
    assert image.width() == round(180 / 25.4 * 120)


def test_pdf_format(tmp_path):
    out = tmp_path / "figs"
    assert (
        main(["export", str(DEMO_ANNOTATIONS), "3", "4", "--out", str(out), "--format", "pdf"]) == 0
    )
    assert (out / "aid3_vs_aid4.pdf").read_bytes().startswith(b"%PDF")


def test_threshold_reaches_sidecar(tmp_path):
    out = tmp_path / "figs"
    assert (
        main(["export", str(DEMO_ANNOTATIONS), "3", "5", "--out", str(out), "--threshold", "0.4"])
        == 0
    )
    data = json.loads((out / "aid3_vs_aid5.png.json").read_text(encoding="utf-8"))
    assert data["provenance"]["threshold"] == 0.4


def test_batch_goes_on_past_broken_pairs(tmp_path, capsys):
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("aid_a,aid_b\n1,2\n3,999\n3,5\n", encoding="utf-8")
    out = tmp_path / "figs"
    code = main(
        ["export", str(_broken_annotations(tmp_path)), "--pairs", str(pairs), "--out", str(out)]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert (out / "aid3_vs_aid5.png").is_file()
    assert not (out / "aid1_vs_aid2.png").exists()
    assert "Exported 1 of 3 pairs." in err
    report = err.split("2 failed:", 1)[1]
    assert "aid 1 vs aid 2: Image not found" in report
    assert "missing.jpg" in report
    assert "pairs.csv line 3: aid '999' is not in the annotations" in report


def test_all_pairs_succeed_gives_0(tmp_path):
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("aid_a,aid_b\n3,5\n3,4\n", encoding="utf-8")
    out = tmp_path / "figs"
    assert main(["export", str(DEMO_ANNOTATIONS), "--pairs", str(pairs), "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "aid3_vs_aid4.png",
        "aid3_vs_aid4.png.json",
        "aid3_vs_aid5.png",
        "aid3_vs_aid5.png.json",
    ]


@pytest.mark.parametrize(
    "args",
    [
        ["3"],
        ["3", "5", "--pairs", "pairs.csv"],
        ["3", "5", "--format", "gif"],
    ],
)
def test_usage_errors_exit_2(tmp_path, args):
    with pytest.raises(SystemExit) as exit_info:
        main(["export", str(DEMO_ANNOTATIONS), *args, "--out", str(tmp_path)])
    assert exit_info.value.code == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--panels", "matches,histogram"], "Panels matches,histogram are invalid"),
        (["--dpi", "5"], "dpi 5 is outside"),
        (["--threshold", "2"], "--threshold must be in [0, 1]"),
    ],
)
def test_bad_values_exit_2(tmp_path, capsys, args, message):
    assert main(["export", str(DEMO_ANNOTATIONS), "3", "5", "--out", str(tmp_path), *args]) == 2
    assert message in capsys.readouterr().err


def test_unknown_aid_exits_2(tmp_path, capsys):
    assert main(["export", str(DEMO_ANNOTATIONS), "3", "999", "--out", str(tmp_path)]) == 2
    assert "aid 999 is not in" in capsys.readouterr().err


def test_out_is_file_exits_2(tmp_path, capsys):
    out = tmp_path / "figs"
    out.write_text("not a folder")
    assert main(["export", str(DEMO_ANNOTATIONS), "3", "5", "--out", str(out)]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err


def test_unwritable_out_fails_before_matching(tmp_path, capsys, monkeypatch):
    import reviewer.commands.export as export_command

    def fail_to_open(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(export_command.tempfile, "TemporaryFile", fail_to_open)
    assert main(["export", str(DEMO_ANNOTATIONS), "3", "5", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"Cannot write to the output folder {tmp_path}: Permission denied" in err
    assert "[1/1]" not in err


def test_repeated_pairs_exported_once(tmp_path, capsys, caplog):
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("aid_a,aid_b\n3,5\n5,3\n3,5\n", encoding="utf-8")
    out = tmp_path / "figs"
    assert main(["export", str(DEMO_ANNOTATIONS), "--pairs", str(pairs), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "Exported 1 of 1 pairs." in err
    assert "2 rows repeat a pair" in caplog.text


def test_match_export_writes_sidecar(tmp_path):
    fig = tmp_path / "fig.svg"
    assert main(["match", str(DEMO_ANNOTATIONS), "3", "5", "--export", str(fig)]) == 0
    assert fig.is_file()
    assert (tmp_path / "fig.svg.json").is_file()


def test_formats_keep_their_own_sidecars(tmp_path):
    out = tmp_path / "figs"
    for fmt in ("svg", "png"):
        args = ["export", str(DEMO_ANNOTATIONS), "3", "5", "--out", str(out), "--format", fmt]
        assert main([*args, "--dpi", "72"]) == 0
    svg_side = json.loads((out / "aid3_vs_aid5.svg.json").read_text(encoding="utf-8"))
    png_side = json.loads((out / "aid3_vs_aid5.png.json").read_text(encoding="utf-8"))
    assert svg_side["figure"] == "aid3_vs_aid5.svg"
    assert png_side["figure"] == "aid3_vs_aid5.png"

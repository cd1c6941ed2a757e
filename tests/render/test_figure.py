"""Export of the match figure to PNG, SVG and PDF, without a display."""

import re
import xml.etree.ElementTree as ET
from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtGui import QImage

from reviewer.engine.scoring import ScoreConfig
from reviewer.render.explain import RankInfo
from reviewer.render.figure import (
    FigureExportError,
    FigureOptions,
    export_match_figure,
    figure_layout,
)

#: Small and quick figures; the defaults (300 dpi, 180 mm) are tested for size only.
SMALL = FigureOptions(dpi=100, width_mm=120)


def _local_name(element) -> str:
    return element.tag.rsplit("}", 1)[-1]


def _svg_texts(path) -> list[str]:
    root = ET.parse(path).getroot()
    return ["".join(e.itertext()) for e in root.iter() if _local_name(e) == "text"]


def test_png_width_follows_dpi(zebra_match, tmp_path):
    path = export_match_figure(zebra_match, zebra_match.score(), tmp_path / "fig.png", SMALL)
    image = QImage(str(path))
    assert image.width() == round(120 / 25.4 * 100)
    assert image.height() > image.width() / 3


def test_png_records_dpi(zebra_match, tmp_path):
    options = FigureOptions(dpi=150, width_mm=100)
    path = export_match_figure(zebra_match, zebra_match.score(), tmp_path / "fig.png", options)
    image = QImage(str(path))
    # PNG stores whole dots per metre, so the dpi is exact to 0.5 / 39.37 = 0.0127.
    assert image.dotsPerMeterX() * 0.0254 == pytest.approx(150, abs=0.013)
    assert image.dotsPerMeterY() * 0.0254 == pytest.approx(150, abs=0.013)


def test_png_is_not_blank(zebra_match, tmp_path):
    path = export_match_figure(zebra_match, zebra_match.score(), tmp_path / "fig.png", SMALL)
    image = QImage(str(path)).convertToFormat(QImage.Format.Format_Grayscale8)
    grey = np.frombuffer(image.constBits(), np.uint8, image.sizeInBytes())
    assert grey.std() > 20


def test_default_size_is_300_dpi(zebra_match):
    layout = figure_layout(zebra_match, zebra_match.score())
    assert layout.width_px == round(180 / 25.4 * 300)


def test_svg_has_text_and_vectors(zebra_match, tmp_path):
    path = export_match_figure(zebra_match, zebra_match.score(), tmp_path / "fig.svg", SMALL)
    root = ET.parse(path).getroot()
    names = {_local_name(element) for element in root.iter()}
    assert "text" in names
    assert names & {"path", "polyline", "line", "polygon"}


def test_svg_size_in_mm(zebra_match, tmp_path):
    path = export_match_figure(zebra_match, zebra_match.score(), tmp_path / "fig.svg", SMALL)
    width = ET.parse(path).getroot().get("width")
    assert width.endswith("mm")
    assert float(width[:-2]) == pytest.approx(120, rel=0.01)


def test_svg_title_names_aids_and_gap(zebra_match, tmp_path):
    path = export_match_figure(zebra_match, zebra_match.score(), tmp_path / "fig.svg", SMALL)
    text = " ".join(_svg_texts(path))
    assert "aid 3 (IBEIS_PZ_1281)" in text
    assert "aid 5 (IBEIS_PZ_1281)" in text
    assert "29 min 22 s" in text


def test_svg_caption_has_split_and_provenance(zebra_match, tmp_path):
    path = export_match_figure(zebra_match, zebra_match.score(), tmp_path / "fig.svg", SMALL)
    text = " ".join(_svg_texts(path))
    assert re.search(r"score [\d.]+ = foreground [\d.]+ \+ background [\d.]+", text)
    assert "preset vsone" in text
    assert zebra_match.a.model.model_name in text


def test_svg_has_legend(zebra_match, tmp_path):
    path = export_match_figure(zebra_match, zebra_match.score(), tmp_path / "fig.svg", SMALL)
    text = " ".join(_svg_texts(path))
    assert "soft fgweight" in text
    assert "counted inlier" in text


def test_rank_in_title(zebra_match, tmp_path):
    rank = RankInfo(2, 3, 9)
    path = export_match_figure(zebra_match, zebra_match.score(), tmp_path / "fig.svg", SMALL, rank)
    assert "rank 2 of 9 for query aid 3" in " ".join(_svg_texts(path))


def test_pdf_header(zebra_match, tmp_path):
    path = export_match_figure(zebra_match, zebra_match.score(), tmp_path / "fig.pdf", SMALL)
    assert path.read_bytes().startswith(b"%PDF")


def test_threshold_changes_png(zebra_match, tmp_path):
    plain = export_match_figure(zebra_match, zebra_match.score(), tmp_path / "t0.png", SMALL)
    cut = zebra_match.score(ScoreConfig(threshold=0.9))
    masked = export_match_figure(zebra_match, cut, tmp_path / "t9.png", SMALL)
    assert plain.read_bytes() != masked.read_bytes()


def test_panels_stack(zebra_match):
    one = figure_layout(zebra_match, zebra_match.score(), SMALL)
    three = figure_layout(
        zebra_match, zebra_match.score(), replace(SMALL, panels=("matches", "heatmap", "mask"))
    )
    panels = [block for block in three.blocks if block.kind == "panel"]
    assert [block.panel for block in panels] == ["matches", "heatmap", "mask"]
    assert three.height_px - one.height_px > 2 * panels[0].height_px


def test_all_panels_export(zebra_match, tmp_path):
    options = replace(SMALL, panels=("mask", "heatmap"))
    cut = zebra_match.score(ScoreConfig(threshold=0.5))
    path = export_match_figure(zebra_match, cut, tmp_path / "fig.png", options)
    assert path.stat().st_size > 0


def test_no_inliers_exports(zebra_match, tmp_path):
    empty = np.empty(0, dtype=np.int64)
    sver = replace(zebra_match.sver, inliers=empty, xy_err=np.empty(0), H=None)
    match = replace(zebra_match, sver=sver, counted=np.empty(0, dtype=bool))
    path = export_match_figure(match, match.score(), tmp_path / "empty.png", SMALL)
    assert path.stat().st_size > 0


def test_unknown_suffix_raises(zebra_match, tmp_path):
    with pytest.raises(FigureExportError, match=".png"):
        export_match_figure(zebra_match, zebra_match.score(), tmp_path / "fig.gif")


def test_missing_folder_raises(zebra_match, tmp_path):
    with pytest.raises(FigureExportError, match="does not exist"):
        export_match_figure(zebra_match, zebra_match.score(), tmp_path / "no" / "fig.png")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"panels": ()}, "at least one panel"),
        ({"panels": ("matches", "matches")}, "at most once"),
        ({"panels": ("histogram",)}, "at most once"),
        ({"dpi": 10}, "dpi 10"),
        ({"width_mm": 5.0}, "5.0 mm"),
        ({"dpi": 1200, "width_mm": 900.0}, "lower the dpi"),
        ({"background_warn_share": 1.5}, "background_warn_share"),
    ],
)
def test_bad_options_raise(change, message):
    with pytest.raises(FigureExportError, match=message):
        FigureOptions(**change)

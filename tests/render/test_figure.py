"""Export of the match figure to PNG, SVG and PDF, without a display."""

import xml.etree.ElementTree as ET
from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtGui import QImage

from reviewer.engine.scoring import ScoreConfig
from reviewer.render.figure import FigureExportError, export_match_figure


def _local_names(root) -> set[str]:
    return {element.tag.rsplit("}", 1)[-1] for element in root.iter()}


def test_png_width_and_content(zebra_match, tmp_path):
    path = export_match_figure(zebra_match, zebra_match.score(), tmp_path / "fig.png", 1200)
    image = QImage(str(path)).convertToFormat(QImage.Format.Format_Grayscale8)
    grey = np.frombuffer(image.constBits(), np.uint8, image.sizeInBytes()).copy()
    assert image.width() == 1200
    assert image.height() > 300
    assert grey.std() > 20


def test_svg_is_vector_xml(zebra_match, tmp_path):
    path = export_match_figure(zebra_match, zebra_match.score(), tmp_path / "fig.svg", 1200)
    names = _local_names(ET.parse(path).getroot())
    assert path.stat().st_size > 0
    assert names & {"path", "polyline", "line", "polygon"}


def test_pdf_header(zebra_match, tmp_path):
    path = export_match_figure(zebra_match, zebra_match.score(), tmp_path / "fig.pdf", 1200)
    assert path.read_bytes().startswith(b"%PDF")


def test_threshold_changes_png(zebra_match, tmp_path):
    plain = export_match_figure(zebra_match, zebra_match.score(), tmp_path / "t0.png", 800)
    cut = zebra_match.score(ScoreConfig(threshold=0.9))
    masked = export_match_figure(zebra_match, cut, tmp_path / "t9.png", 800)
    assert plain.read_bytes() != masked.read_bytes()


def test_no_inliers_exports(zebra_match, tmp_path):
    empty = np.empty(0, dtype=np.int64)
    sver = replace(zebra_match.sver, inliers=empty, xy_err=np.empty(0), H=None)
    match = replace(zebra_match, sver=sver, counted=np.empty(0, dtype=bool))
    path = export_match_figure(match, match.score(), tmp_path / "empty.png", 800)
    assert path.stat().st_size > 0


def test_unknown_suffix_raises(zebra_match, tmp_path):
    with pytest.raises(FigureExportError, match=".png"):
        export_match_figure(zebra_match, zebra_match.score(), tmp_path / "fig.gif")


def test_missing_folder_raises(zebra_match, tmp_path):
    with pytest.raises(FigureExportError, match="does not exist"):
        export_match_figure(zebra_match, zebra_match.score(), tmp_path / "no" / "fig.png")


def test_width_out_of_range_raises(zebra_match, tmp_path):
    with pytest.raises(FigureExportError, match="width"):
        export_match_figure(zebra_match, zebra_match.score(), tmp_path / "fig.png", 10)

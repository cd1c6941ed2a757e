"""The command line: ``reviewer match`` and its outputs."""

import json
import subprocess
import sys

import pytest

from reviewer import DEMO_ANNOTATIONS, REPO_ROOT
from reviewer.cli import main

REQUIRED_FIELDS = (
    "aid_a",
    "aid_b",
    "species_a",
    "species_b",
    "model_a",
    "model_b",
    "fg_weighting",
    "threshold",
    "score",
    "score_foreground",
    "score_background",
    "background_share",
    "background_share_unweighted",
    "num_matches",
    "num_inliers",
    "timings_ms",
)


def test_match_json_stdout_is_pure_json(capsys):
    code = main(["match", str(DEMO_ANNOTATIONS), "3", "5", "--json", "-"])
    out, err = capsys.readouterr()
    assert code == 0
    result = json.loads(out)
    for field in REQUIRED_FIELDS:
        assert field in result, field
    assert result["aid_a"] == 3
    assert result["fg_weighting"] is True
    assert err.startswith("aid 3 vs 5 (zebra_plains): score")


def test_match_summary_on_stdout(capsys):
    assert main(["match", str(DEMO_ANNOTATIONS), "3", "5", "--threshold", "0.5"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert "t=0.50" in out


def test_match_json_file_and_export(tmp_path, capsys):
    out_json, fig = tmp_path / "r.json", tmp_path / "fig.png"
    code = main(
        ["match", str(DEMO_ANNOTATIONS), "1", "2", "--json", str(out_json), "--export", str(fig)]
    )
    assert code == 0
    assert json.loads(out_json.read_text())["species_a"] == "giraffe_masai"
    assert fig.stat().st_size > 10_000


def test_unknown_aid_is_a_clear_error(capsys):
    assert main(["match", str(DEMO_ANNOTATIONS), "3", "999"]) == 2
    assert "aid 999 is not in" in capsys.readouterr().err


def test_threshold_out_of_range(capsys):
    assert main(["match", str(DEMO_ANNOTATIONS), "3", "5", "--threshold", "2"]) == 2
    assert "--threshold must be in [0, 1]" in capsys.readouterr().err


def test_malformed_annotations_file(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    assert main(["match", str(bad), "1", "2"]) == 2
    assert "bad.json is not valid JSON" in capsys.readouterr().err


@pytest.mark.parametrize("entry", [["-m", "reviewer"], [str(REPO_ROOT / "main.py")]])
def test_entry_points_show_help(entry):
    out = subprocess.run([sys.executable, *entry, "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    assert "match" in out.stdout


def test_gui_without_display_is_a_clear_error(monkeypatch, capsys):
    monkeypatch.setattr(sys, "platform", "linux")
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    assert main([str(DEMO_ANNOTATIONS)]) == 2
    assert "No display found" in capsys.readouterr().err


def test_json_into_missing_folder_fails_before_matching(tmp_path, capsys):
    target = tmp_path / "missing" / "r.json"
    assert main(["match", str(DEMO_ANNOTATIONS), "3", "5", "--json", str(target)]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err
    assert "Traceback" not in err


def test_weighting_switched_off_by_user(capsys):
    assert main(["match", str(DEMO_ANNOTATIONS), "3", "5", "--no-fg", "--json", "-"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["fg_weighting"] is False
    assert result["fg_weighting_off_reason"] == "switched off by the user"

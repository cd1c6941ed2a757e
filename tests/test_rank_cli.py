"""The command line: ``reviewer rank``, and the flags that ``reviewer match`` reports."""

import contextlib
import io
import json

import pytest

from reviewer import DEMO_ANNOTATIONS
from reviewer.cli import main

CANDIDATE_FIELDS = (
    "aid",
    "name",
    "score",
    "name_score",
    "score_foreground",
    "score_background",
    "num_inliers",
    "num_same_place",
    "flags",
)


def _run(*args) -> tuple[int, str, str]:
    """Run the command line and return its exit code, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def with_same_image():
    """JSON and stderr of the acceptance command, run once for the module."""
    code, out, err = _run(
        "rank", str(DEMO_ANNOTATIONS), "--query", "5", "--include-same-image", "--json", "-"
    )
    assert code == 0, err
    return json.loads(out), err


@pytest.fixture(scope="module")
def default_ranking():
    code, out, err = _run("rank", str(DEMO_ANNOTATIONS), "--query", "5", "--json", "-")
    assert code == 0, err
    return json.loads(out)


def test_rank_acceptance_aid_3_first(with_same_image):
    result, err = with_same_image
    assert result["query"] == 5
    assert result["candidates"][0]["aid"] == 3
    assert err.startswith("query aid 5 (zebra_plains, IBEIS_PZ_1281)")


def test_rank_json_fields(with_same_image):
    for candidate in with_same_image[0]["candidates"]:
        for field in CANDIDATE_FIELDS:
            assert field in candidate, field


def test_rank_order_by_name_score_then_score(with_same_image):
    keys = [(c["name_score"], c["score"]) for c in with_same_image[0]["candidates"]]
    assert keys == sorted(keys, reverse=True)


def test_rank_unnamed_candidates_show_unknown_name(with_same_image):
    assert "____" in [c["name"] for c in with_same_image[0]["candidates"]]


def test_rank_same_image_candidates_are_flagged(with_same_image):
    same = [c for c in with_same_image[0]["candidates"] if c["flags"]["same_image"]]
    assert same
    assert all(c["flags"]["burst"] for c in same)


def test_rank_excludes_same_image_by_default(default_ranking):
    assert not any(c["flags"]["same_image"] for c in default_ranking["candidates"])
    assert default_ranking["candidates"][0]["aid"] == 3


def test_rank_weighting_off():
    code, out, err = _run("rank", str(DEMO_ANNOTATIONS), "--query", "1", "--no-fg", "--json", "-")
    assert code == 0, err
    result = json.loads(out)
    assert result["fg_weighting"] is False
    assert result["fg_weighting_off_reason"] == "switched off by the user"


def test_rank_table_with_top(capsys):
    code = main(
        ["rank", str(DEMO_ANNOTATIONS), "--query", "5", "--include-same-image", "--top", "2"]
    )
    out = capsys.readouterr().out
    assert code == 0
    rows = [line for line in out.splitlines() if line.lstrip()[:1].isdigit()]
    assert len(rows) == 2
    assert "use --top to see more" in out


def test_rank_json_file(tmp_path):
    path = tmp_path / "rank.json"
    code, _, err = _run("rank", str(DEMO_ANNOTATIONS), "--query", "1", "--json", str(path))
    assert code == 0, err
    assert json.loads(path.read_text())["query"] == 1


def test_rank_species_alone_says_why(capsys):
    # aid 16 is the only annotation of its species in the demo.
    assert main(["rank", str(DEMO_ANNOTATIONS), "--query", "16"]) == 0
    out = capsys.readouterr().out
    assert "no annotation other than aid 16" in out
    assert "--all-species" in out


def test_rank_unknown_aid(capsys):
    code = main(["rank", str(DEMO_ANNOTATIONS), "--query", "999"])
    err = capsys.readouterr().err
    assert code == 2
    assert "aid 999 is not in" in err


@pytest.mark.parametrize("option", [["--top", "0"], ["--threshold", "2"]])
def test_rank_bad_option(capsys, option):
    code = main(["rank", str(DEMO_ANNOTATIONS), "--query", "5", *option])
    assert code == 2
    assert "error:" in capsys.readouterr().err


# --- reviewer match ----------------------------------------------------------------------------


def _match_json(capsys, aid_a, aid_b):
    assert main(["match", str(DEMO_ANNOTATIONS), aid_a, aid_b, "--json", "-"]) == 0
    return json.loads(capsys.readouterr().out)


def test_match_reports_flags_and_same_place(capsys):
    result = _match_json(capsys, "3", "4")
    assert result["flags"]["same_image"] is True
    assert result["flags"]["burst"] is True
    assert "num_same_place" in result


def test_match_demo_same_zebra_beats_shared_background(capsys):
    same = _match_json(capsys, "3", "5")["score"]
    assert same > _match_json(capsys, "3", "4")["score"]
    assert same > _match_json(capsys, "5", "7")["score"]

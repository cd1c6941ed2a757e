"""Texts shown with a match: the model line, the warnings and the no-fgweights reason."""

from dataclasses import replace

import pytest

from reviewer.engine.registry import ModelChoice
from reviewer.render.text import model_text, model_warnings, no_fgweights_text, tidy_warning

PROBLEM = "Background model /m/background_generic.pt is truncated. Restore it."
WARNING = f"Foreground weighting is OFF for zebra_plains: {PROBLEM}; {PROBLEM}."


def _no_model(result, warning=WARNING):
    choice = ModelChoice(result.annot.species, None, None, "zebra_plains: no usable model", warning)
    return replace(result, probchip=None, fgweights=None, model=choice)


# Model line -------------------------------------------------------------------------------


def test_model_text_names_model_once():
    reason = "zebra_plains: model background_generic (generic model)"
    choice = ModelChoice("zebra_plains", "background_generic", None, reason)
    text = model_text(choice)
    assert text.count("background_generic") == 1
    assert reason in text


def test_model_text_adds_missing_name():
    reason = "okapi: no own model, using the generic model"
    choice = ModelChoice("okapi", "background_generic", None, reason)
    text = model_text(choice)
    assert "background_generic" in text
    assert reason in text


def test_model_text_name_inside_word():
    # "bg" occurs inside "background", which does not name the model bg.
    choice = ModelChoice("okapi", "bg", None, "okapi: no own model, using the background set")
    assert model_text(choice).startswith("model bg")


def test_model_text_without_model():
    choice = ModelChoice("zebra_plains", None, None, "zebra_plains: no usable model", WARNING)
    text = model_text(choice)
    assert text.startswith("no background model")
    assert "zebra_plains: no usable model" in text


# Warnings ---------------------------------------------------------------------------------


def test_tidy_warning_drops_repeat():
    assert tidy_warning(WARNING).count(PROBLEM) == 1


def test_tidy_warning_single_period():
    assert tidy_warning(WARNING).endswith("Restore it.")


def test_tidy_warning_keeps_distinct():
    other = "Background model /m/background_zebra.pt not found."
    text = tidy_warning(f"Foreground weighting is OFF for zebra_plains: {other}; {PROBLEM}.")
    assert other in text
    assert PROBLEM in text


def test_tidy_warning_keeps_ellipsis():
    assert tidy_warning("the file ends with ...").endswith("...")


def test_same_warning_listed_once(zebra_match):
    match = replace(zebra_match, a=_no_model(zebra_match.a), b=_no_model(zebra_match.b))
    warnings = model_warnings(match)
    assert len(warnings) == 1
    assert warnings[0].startswith("A and B: ")
    assert warnings[0].count(PROBLEM) == 1


def test_different_warnings_listed_apart(zebra_match):
    other = "Foreground weighting is OFF for zebra_plains: model index not found."
    a, b = _no_model(zebra_match.a), _no_model(zebra_match.b, other)
    warnings = model_warnings(replace(zebra_match, a=a, b=b))
    assert len(warnings) == 2
    assert warnings[1] == f"B: {other}"


@pytest.mark.parametrize(("side", "aid"), [("a", "3"), ("b", "5")])
def test_no_fgweights_text_names_chip(zebra_match, side, aid):
    match = replace(zebra_match, **{side: _no_model(getattr(zebra_match, side))})
    text = no_fgweights_text(match)
    assert f"chip {side.upper()} (aid {aid}" in text
    assert " has no fgweights" in text


def test_no_fgweights_text_with_model(zebra_match):
    assert no_fgweights_text(zebra_match) == ""

"""Import rules between layers: the engine and the review state import no Qt."""

import subprocess
import sys

import pytest

QT_MODULES = ("PySide6", "pyqtgraph", "shiboken6")


@pytest.mark.parametrize(
    "package",
    [
        "reviewer.engine.pipeline",
        "reviewer.engine.foreground",
        "reviewer.review.session",
        "reviewer.training.background",
    ],
)
def test_package_imports_no_qt(package):
    code = (
        f"import sys, {package}\n"
        f"loaded = [m for m in sys.modules if m.split('.')[0] in {QT_MODULES!r}]\n"
        "print(','.join(loaded))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""

"""The render package draws with Qt alone, so that export needs no pyqtgraph."""

import subprocess
import sys


def test_render_imports_no_pyqtgraph():
    code = (
        "import sys, reviewer.render.figure, reviewer.render.items\n"
        "print('pyqtgraph' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

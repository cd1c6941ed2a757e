"""Match reviewer for wildlife photo-identification.

The package is layered: ``engine`` (no Qt) computes chips, features, foreground
weights and pair scores; ``review`` holds the Qt-free review state; ``render``
draws match figures; ``gui`` wires Qt widgets to the review state.
"""

from pathlib import Path

__version__ = "0.1.0"

#: Repository root, where ``models/`` and ``resources/`` live in an editable install.
REPO_ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = REPO_ROOT / "models"
RESOURCES_DIR = REPO_ROOT / "resources"
DEMO_ANNOTATIONS = RESOURCES_DIR / "demo" / "annotations.coco.json"

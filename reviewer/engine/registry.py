"""Lookup of the background model for each species, with the reason for each choice.

``models/models.json`` maps Wildbook species codes and their aliases to model
files. A model is a file name, or an object whose note is added to the reason::

    {
      "generic": "background_generic.pt",
      "species": {
        "zebra_plains": "background_zebra.pt",
        "panthera_pardus": {"model": "background_generic.pt", "note": "no leopard masks"}
      },
      "aliases": {"equus_quagga": "zebra_plains", "leopard": "panthera_pardus"}
    }

Codes and aliases are matched case-insensitively.

Lookup order: the exact code, its alias, then the code with trailing taxonomy
parts dropped one at a time (each shortened code tried exactly and as an alias),
then the generic model. When no usable model file remains, foreground weighting
is off and the choice carries a warning; it is never silent.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from reviewer import MODELS_DIR
from reviewer.engine.errors import ReviewerError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Entry:
    """One model file named in models.json, with an optional note for the reason."""

    filename: str
    note: str | None = None

    @property
    def stem(self) -> str:
        """The file name without its suffix: the model's name."""
        return Path(self.filename).stem

    @property
    def note_suffix(self) -> str:
        """The note in brackets, or nothing."""
        return f" ({self.note})" if self.note else ""


def _entry(value) -> _Entry | None:
    """Read a models.json entry: a file name, or {"model": file name, "note": text}."""
    if isinstance(value, str) and value:
        return _Entry(value)
    if isinstance(value, dict) and isinstance(value.get("model"), str) and value["model"]:
        note = value.get("note")
        return _Entry(value["model"], note if isinstance(note, str) and note else None)
    return None


@dataclass(frozen=True)
class ModelChoice:
    """The model used for one species, with the reason in words."""

    species: str
    model_name: str | None  # file stem; None when weighting is off
    path: Path | None
    reason: str  # e.g. "zebra_plains: no own model, using the generic model"
    warning: str | None = None  # set when weighting is off or a model file was unusable

    @property
    def fg_weighting(self) -> bool:
        """True when a model is available, so fgweights exist."""
        return self.model_name is not None


class ModelRegistry:
    """Species -> background model lookup, with loaded models kept in memory."""

    def __init__(self, models_dir: str | Path = MODELS_DIR, index_name: str = "models.json"):
        self.models_dir = Path(models_dir)
        self.index_path = self.models_dir / index_name
        self._species: dict[str, _Entry] = {}
        self._aliases: dict[str, str] = {}  # alias -> species code
        self._generic: _Entry | None = None
        self._index_problem: str | None = None
        self._loaded: dict[Path, object] = {}
        self._failed: dict[Path, str] = {}
        self._choices: dict[str, ModelChoice] = {}
        self._lock = threading.Lock()
        self._read_index()

    def _read_index(self) -> None:
        try:
            data = json.loads(self.index_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            self._index_problem = f"model index {self.index_path} not found"
            log.warning("%s; foreground weighting will be off", self._index_problem)
            return
        except (OSError, json.JSONDecodeError) as err:
            self._index_problem = f"model index {self.index_path} is unreadable ({err})"
            log.warning("%s; foreground weighting will be off", self._index_problem)
            return
        if not isinstance(data, dict):
            self._index_problem = f"model index {self.index_path} is not a JSON object"
            log.warning("%s; foreground weighting will be off", self._index_problem)
            return
        self._generic = _entry(data.get("generic"))
        species = data.get("species") if isinstance(data.get("species"), dict) else {}
        aliases = data.get("aliases") if isinstance(data.get("aliases"), dict) else {}
        for code, value in species.items():
            entry = _entry(value)
            if entry is None:
                log.warning("%s: ignored species %r without a model file", self.index_path, code)
            else:
                self._species[str(code).lower()] = entry
        for alias, target in aliases.items():
            if str(target).lower() in self._species:
                self._aliases[str(alias).lower()] = str(target).lower()
            else:
                log.warning(
                    "%s: ignored alias %r of unknown species %r", self.index_path, alias, target
                )

    def choose(self, species: str) -> ModelChoice:
        """Pick the model for a species code and return it with the reason.

        The choice is made once per code and registry, so its warning is logged once.
        """
        with self._lock:
            if species in self._choices:
                return self._choices[species]
        choice = self._choose(species)
        with self._lock:
            self._choices[species] = choice
        return choice

    def _choose(self, species: str) -> ModelChoice:
        code = species.strip().lower()
        problems: list[str] = []
        failed: list[str] = []
        for entry, reason in self._candidates(code):
            path = self.models_dir / entry.filename
            if path.name in failed:
                continue  # several entries may name one file; report it once
            problem = self._check(path)
            if problem is None:
                if failed:
                    reason = f"{', '.join(failed)} unusable, " + reason.removeprefix(
                        "no own model, "
                    )
                warning = "; ".join(problems) if problems else None
                return ModelChoice(species, path.stem, path, f"{species}: {reason}", warning)
            problems.append(problem)
            failed.append(path.name)

        problems = ([self._index_problem] if self._index_problem else []) + problems
        detail = "; ".join(problems) or "no model is configured"
        warning = f"Foreground weighting is OFF for {species}: {detail}."
        log.warning(warning)
        return ModelChoice(species, None, None, f"{species}: no usable model", warning)

    def load(self, choice: ModelChoice):
        """Return the loaded ``BackgroundModel`` of a choice, or None when weighting is off."""
        if choice.path is None:
            return None
        with self._lock:
            if choice.path not in self._loaded:
                self._check_locked(choice.path)
            return self._loaded.get(choice.path)

    def _candidates(self, code: str) -> list[tuple[_Entry, str]]:
        """Return (entry, reason) pairs in lookup order."""
        out: list[tuple[_Entry, str]] = []
        if code in self._species:
            entry = self._species[code]
            out.append((entry, f"model {entry.stem}{entry.note_suffix}"))
        elif code in self._aliases:
            target = self._aliases[code]
            entry = self._species[target]
            out.append((entry, f"alias of {target}, model {entry.stem}{entry.note_suffix}"))

        parts = code.split("_")
        for n in range(len(parts) - 1, 0, -1):
            parent = "_".join(parts[:n])
            target = parent if parent in self._species else self._aliases.get(parent)
            if target is not None:
                out.append((self._species[target], f"no own model, using {target} (parent taxon)"))
                break

        if self._generic is not None:
            out.append((self._generic, "no own model, using the generic model"))
        return out

    def _check(self, path: Path) -> str | None:
        with self._lock:
            return self._check_locked(path)

    def _check_locked(self, path: Path) -> str | None:
        """Load a model once; return None when usable, else the problem in words."""
        if path in self._loaded:
            return None
        if path in self._failed:
            return self._failed[path]
        from reviewer.engine.foreground import load_background_model

        try:
            self._loaded[path] = load_background_model(path)
            log.info("Loaded background model %s", path)
            return None
        except ReviewerError as err:  # ModelLoadError and any other user-facing load error
            self._failed[path] = str(err)
            log.error("Background model unusable: %s", err)
            return str(err)

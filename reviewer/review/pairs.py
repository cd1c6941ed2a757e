"""The list of annotation pairs to review."""

from __future__ import annotations

import csv
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

from reviewer.engine.annotations import Annotation, AnnotationSet
from reviewer.engine.errors import PairsFileError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pair:
    """Two annotations to compare, in the order ``Matcher.match`` takes them."""

    a: Annotation
    b: Annotation
    source: str  # "named" (same species, both named), "rank" or the CSV file name
    rank: int | None = None  # 1-based rank of b among the candidates of query a
    query_aid: int | str | None = None  # the query that ranked b; None outside a ranking
    num_ranked: int | None = None  # candidates listed for that query

    @property
    def key(self) -> tuple[str, str]:
        """The aids as strings, A first."""
        return (self.a.key, self.b.key)

    @property
    def same_name(self) -> bool | None:
        """True when both names are known and equal, None when either is unknown."""
        if self.a.name is None or self.b.name is None:
            return None
        return self.a.name == self.b.name

    @property
    def same_photo(self) -> bool:
        """True when both annotations come from one photo file."""
        return self.a.image_path == self.b.image_path

    @property
    def label(self) -> str:
        """A one-line description for lists and logs."""
        relation = {True: "same name", False: "different names", None: "name unknown"}
        text = f"{self.a.aid} vs {self.b.aid}  {self.a.species}  {relation[self.same_name]}"
        text += "  same photo" if self.same_photo else ""
        if self.rank is not None:
            text += f"  rank {self.rank} of {self.num_ranked} for query {self.query_aid}"
        return text


def named_pairs(annots: AnnotationSet) -> list[Pair]:
    """Return every pair of named annotations of the same species, ordered by aid."""
    named = sorted((a for a in annots if a.name is not None), key=_sort_key)
    return [Pair(a, b, "named") for a, b in combinations(named, 2) if a.species == b.species]


def ranked_pairs(query: Annotation, candidates: Sequence[Annotation]) -> list[Pair]:
    """Return a (query, candidate) pair per candidate, in rank order, labelled with its rank."""
    return [
        Pair(query, candidate, "rank", rank=rank, query_aid=query.aid, num_ranked=len(candidates))
        for rank, candidate in enumerate(candidates, start=1)
    ]


def load_pairs_csv(path: str | Path, annots: AnnotationSet) -> tuple[list[Pair], list[str]]:
    """Read pairs from a CSV file with columns ``aid_a,aid_b``.

    Rows naming an unknown aid are skipped and reported in the returned problems.

    Raises
    ------
    PairsFileError
        The file is missing, unreadable or lacks the two columns.
    """
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:  # spreadsheets add a BOM
            rows = list(csv.DictReader(fh))
            columns = rows[0].keys() if rows else []
    except FileNotFoundError:
        raise PairsFileError(f"Pairs file not found: {path}. Check the path.") from None
    except UnicodeDecodeError:
        raise PairsFileError(
            f"Pairs file {path} is not UTF-8 text. Save it as a UTF-8 CSV file with the "
            "columns aid_a,aid_b."
        ) from None
    except (OSError, csv.Error) as err:
        raise PairsFileError(f"Cannot read pairs file {path}: {err}") from None
    if rows and not {"aid_a", "aid_b"} <= set(columns):
        raise PairsFileError(
            f"Pairs file {path} needs the columns aid_a,aid_b; it has {','.join(columns)}."
        )

    pairs, problems = [], []
    if not rows:
        problems.append(f"{path.name}: no pairs found; the file needs a header aid_a,aid_b")
    for line, row in enumerate(rows, start=2):
        a_key, b_key = (row.get("aid_a") or "").strip(), (row.get("aid_b") or "").strip()
        if not (a_key and b_key):
            problems.append(
                f"{path.name} line {line}: expected two comma-separated aids (aid_a,aid_b), "
                f"got {a_key or b_key!r}"
            )
            continue
        missing = [k for k in (a_key, b_key) if k not in annots.annots]
        if missing:
            problems.append(
                f"{path.name} line {line}: aid {missing[0]!r} is not in the annotations"
            )
            continue
        if a_key == b_key:
            problems.append(f"{path.name} line {line}: aid_a and aid_b are both {a_key}")
            continue
        pairs.append(Pair(annots.annots[a_key], annots.annots[b_key], path.name))
    for problem in problems:
        log.warning(problem)
    return pairs, problems


def merge_pairs(*lists: list[Pair]) -> list[Pair]:
    """Concatenate pair lists, dropping repeats of the same unordered pair."""
    seen: set[frozenset[str]] = set()
    merged = []
    for pair in (p for lst in lists for p in lst):
        key = frozenset(pair.key)
        if key not in seen:
            seen.add(key)
            merged.append(pair)
    return merged


def _sort_key(annot: Annotation) -> tuple[int, int | str]:
    return (0, annot.aid) if isinstance(annot.aid, int) else (1, str(annot.aid))

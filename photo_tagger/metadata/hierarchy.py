"""Keyword paths for ``lr:hierarchicalSubject`` ("animal|pet|dog"), derived from the shipped ImageNet tag table.

Each row of ``resources/imagenet_tags.json`` holds the tags of one ImageNet class, most specific first: the class
name, its synonyms, its WordNet ancestors named by everyday words, then friendly extras ("pet", "beach"). The rows
are not chains ("tabby" carries cat, animal and pet; "seashore" carries coast, shore, beach, sea), so a parent is
derived from what the whole table implies rather than read off one row:

    B is an ancestor of A when B is carried by more classes than A and by (nearly) every class that carries A:
    at least ``COVERAGE`` (90%) of them, because a few rows tag things by association ("dogsled" carries "dog").
    A's parent is its narrowest ancestor: the one with the fewest classes (ties: the first met in A's rows).

Worked example: "golden retriever" (1 class) has the ancestors retriever (4 classes), dog (118), pet (more: cats and
goldfish too) and animal (nearly 400), so its path is ``animal|pet|dog|retriever|golden retriever``. Tags carried by
exactly the same classes (synonyms such as "seashore" and "coast") are not each other's parent; both hang under
their common ancestor. A tag the table does not know (the detector's "person", a user's "holiday") has no parent
and is written flat.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from photo_tagger.resources import resources_dir

SEPARATOR = "|"
# Share of a tag's classes that must also carry a broader tag for it to count as an ancestor. Not 1.0: the table
# tags a few things by association ("dogsled" carries dog, "birdhouse" bird), which must not cut dog from animal.
COVERAGE = 0.9
MAX_DEPTH = 32  # parents always have more classes, so there is no cycle; this only guards a hand-built map


class KeywordHierarchy:
    """``parent_of`` map and keyword paths. Build with :meth:`from_table` or :func:`default_hierarchy`."""

    def __init__(self, parents: dict[str, str]) -> None:
        self.parents = parents

    @classmethod
    def from_table(cls, class_tags: list[list[str]], coverage: float = COVERAGE) -> KeywordHierarchy:
        masks: dict[str, int] = {}  # tag -> bitset of the classes carrying it
        seen_with: dict[str, dict[str, None]] = {}  # tag -> the tags sharing a row with it, in order (tie-break)
        for index, row in enumerate(class_tags):
            tags = list(dict.fromkeys(row))
            for tag in tags:
                masks[tag] = masks.get(tag, 0) | (1 << index)
                seen_with.setdefault(tag, {}).update(dict.fromkeys(t for t in tags if t != tag))
        counts = {tag: mask.bit_count() for tag, mask in masks.items()}
        parents: dict[str, str] = {}
        for tag, mask in masks.items():
            others = list(seen_with[tag])
            ancestors = [b for b in others
                         if counts[b] > counts[tag] and (masks[b] & mask).bit_count() >= coverage * counts[tag]]
            if ancestors:
                parents[tag] = min(ancestors, key=lambda b: (counts[b], others.index(b)))
        return cls(parents)

    def path(self, tag: str) -> list[str]:
        """The tag's path, root first: ``["animal", "pet", "dog"]`` for "dog"; ``[tag]`` for an unknown tag."""
        chain = [tag]
        while (parent := self.parents.get(chain[-1])) is not None and len(chain) < MAX_DEPTH:
            if parent in chain:
                break
            chain.append(parent)
        return chain[::-1]

    def hierarchical(self, tag: str) -> str:
        """``animal|pet|dog`` for "dog"; a tag with no known parent is its own (flat) path."""
        return SEPARATOR.join(self.path(tag))


@lru_cache(maxsize=4)
def _load(path: Path) -> KeywordHierarchy:
    data = json.loads(path.read_text(encoding="utf-8"))
    return KeywordHierarchy.from_table(data["classes"])


def default_hierarchy(path: Path | None = None) -> KeywordHierarchy:
    """The hierarchy of the shipped ``imagenet_tags.json`` (built once per process)."""
    return _load(Path(path) if path is not None else resources_dir() / "imagenet_tags.json")


def leaf(hierarchical_keyword: str) -> str:
    """The last part of a hierarchical keyword: ``animal|dog`` -> ``dog``."""
    return hierarchical_keyword.rsplit(SEPARATOR, 1)[-1]

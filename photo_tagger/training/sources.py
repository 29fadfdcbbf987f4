"""Which tags of the other sources (ImageNet hierarchy, COCO detector) name which vocabulary tag.

A source's tag is read as a caption word would be: one word goes through the captions' normaliser and concept table
(``person`` -> ``people``; ``skis`` -> ``skiing`` and ``snow``; ``dog`` -> ``dog`` and ``animal``); a phrase is named by
its last word before any "of", the head of an English compound (``golden retriever`` -> dog, ``park bench`` ->
bench, ``mountain bike`` -> bicycle), except for the phrases in :data:`PHRASES` whose head word misleads (a hot dog
is food). The result is stored in the head's model card, so the engine needs neither this module nor the tables.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from photo_tagger.training.captions import IMPLIES, SURFACE_SYNONYMS, SYNONYMS, normalise_word
from photo_tagger.training.concepts import CONCEPTS, concepts_named

PHRASES: dict[str, tuple[str, ...]] = {
    "hot dog": ("food",), "teddy bear": ("toy",), "teddy": ("toy",), "baseball bat": ("baseball", "sport"),
    "baseball glove": ("baseball", "sport"), "tennis racket": ("tennis", "sport"), "sports ball": ("ball",),
    "sea lion": ("animal",), "polar bear": ("animal",), "water bottle": (), "water tower": ("building",),
    # ImageNet senses that differ from the caption sense of the same word
    "boxer": ("dog", "animal"), "pitcher": (), "fan": (), "electric fan": (), "cassette player": (),
    "cd player": (), "tape player": (), "freight car": ("train",), "passenger car": ("train",),
    "hen of the woods": (), "boston bull": ("dog", "animal"),
}  # fmt: skip


def vocabulary_tags_of(name: str, vocabulary: Iterable[str]) -> set[str]:
    """The vocabulary tags a source's tag ``name`` names (empty when none)."""
    vocabulary = set(vocabulary)
    phrase = " ".join(re.findall(r"[a-z]+", name.lower()))
    if phrase in PHRASES:
        return set(PHRASES[phrase]) & vocabulary
    words = phrase.split()
    if "of" in words:  # "hen of the woods" is a hen (of sorts), not woods
        words = words[: words.index("of")]
    word = normalise_word(words[-1]) if words else None
    named = {phrase} if phrase in vocabulary else set()
    if word is not None:
        named |= {word, *IMPLIES.get(word, ())}
    return (named | concepts_named(named)) & vocabulary


def source_map(names: Iterable[str], vocabulary: Iterable[str]) -> dict[str, list[str]]:
    """``{vocabulary tag: [source tag names that name it]}``, only tags that some name maps onto."""
    vocabulary = list(vocabulary)
    out: dict[str, list[str]] = {}
    for name in names:
        for tag in sorted(vocabulary_tags_of(name, vocabulary)):
            out.setdefault(tag, []).append(name)
    return {tag: sorted(set(out[tag])) for tag in vocabulary if tag in out}


def covered_words(vocabulary: Iterable[str]) -> list[str]:
    """Every word that names a vocabulary tag: the tags, their concepts' words and the synonyms leading to them.

    The engine keeps GloVe from adding these: "kid" next to "dog" is the head's call (it judges ``child``), not word
    statistics'.
    """
    words = set(vocabulary)
    for tag in vocabulary:
        words.update(CONCEPTS.get(tag, "").split())
    for table in (SYNONYMS, SURFACE_SYNONYMS):
        words.update(source for source, target in table.items() if target in words)
    return sorted(words)

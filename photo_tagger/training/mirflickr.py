"""MIRFLICKR-25k (Huiskes and Lew, 2008), the paper's dataset, in the layout its two archives unpack to.

::

    mirflickr/im1.jpg ... im25000.jpg              mirflickr25k.zip
    mirflickr/meta/tags/tags1.txt ...               the photo's Flickr user tags, one per line
    mirflickr25k_annotations_v080/animals.txt ...   one image number per line: the concept is visible
    mirflickr25k_annotations_v080/animals_r1.txt    the subset where the concept is *relevant* (salient)

``DIR`` may be the folder holding ``im*.jpg`` or the folder above it; the annotation folder is looked for beside
the images, under ``DIR`` and beside ``DIR`` (any folder whose name contains ``annotation``), or given explicitly.

An image's tags are its concepts (``plant_life`` -> ``plant life``; ``animals`` -> ``animal``) plus, with
``user_tags``, its normalised Flickr tags. The paper's "24 concepts / 1,386 tags" are the concepts plus the user tags
that at least 20 images carry, which is the default ``min_images``; a concept is always in the vocabulary.
"""

from __future__ import annotations

import re
from pathlib import Path

from photo_tagger.training.captions import normalise_tag
from photo_tagger.training.dataset import LabelledImages, build
from photo_tagger.training.loaders import DatasetError

_IMAGE = re.compile(r"^im(\d+)\.jpg$")
_CONCEPT = re.compile(r"^([a-z_]+?)(_r1)?\.txt$")


def _image_folder(root: Path) -> Path:
    for folder in (root, root / "mirflickr"):
        if folder.is_dir() and any(_IMAGE.match(p.name) for p in folder.iterdir()):
            return folder
    raise DatasetError(f"{root}: no im<N>.jpg photos here or in {root / 'mirflickr'} (MIRFLICKR-25k layout)")


def _annotation_folder(root: Path, images: Path) -> Path:
    places = [images, root, *sorted(root.glob("*annotation*")), *sorted(root.parent.glob("*annotation*")),
              *sorted(images.parent.glob("*annotation*"))]
    for folder in places:
        if folder.is_dir() and any(f.name.endswith("_r1.txt") for f in folder.iterdir()):
            return folder
    raise DatasetError(f"{root}: no annotation folder (<concept>.txt and <concept>_r1.txt files) found")


def _numbers(path: Path) -> set[int]:
    return {int(line) for line in path.read_text(encoding="utf-8").split() if line.strip().isdigit()}


def concept_tag(concept: str) -> str:
    """``plant_life`` -> ``plant life``, ``animals`` -> ``animal``, ``clouds`` -> ``cloud``."""
    return normalise_tag(concept.replace("_", " ")) or concept.replace("_", " ")


def load_mirflickr(root: Path, annotations: Path | None = None, limit: int | None = None, min_images: int = 20,
                   relevant_only: bool = False, user_tags: bool = True) -> LabelledImages:
    root = Path(root)
    images = _image_folder(root)
    annotations = Path(annotations) if annotations is not None else _annotation_folder(root, images)
    numbers = sorted(int(m.group(1)) for p in images.iterdir() if (m := _IMAGE.match(p.name)))
    numbers = numbers[:limit] if limit else numbers
    tags: dict[int, set[str]] = {n: set() for n in numbers}
    concepts: set[str] = set()
    for path in sorted(annotations.glob("*.txt")):
        match = _CONCEPT.match(path.name)
        if not match or match.group(1) == "readme" or bool(match.group(2)) != relevant_only:
            continue
        tag = concept_tag(match.group(1))
        concepts.add(tag)
        for number in _numbers(path) & tags.keys():
            tags[number].add(tag)
    if user_tags:
        tag_folder = images / "meta" / "tags"
        for number in numbers:
            path = tag_folder / f"tags{number}.txt"
            if path.is_file():
                lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
                tags[number].update(t for line in lines if (t := normalise_tag(line)))
    return build("mirflickr", images, [images / f"im{n}.jpg" for n in numbers], [tags[n] for n in numbers],
                 min_images, always=concepts)

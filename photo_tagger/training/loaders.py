"""Dataset loaders by layout, and ``--dataset KIND:PATH`` specs that name one.

Layouts:

- ``flickr8k:DIR`` (alias ``captions:DIR``): ``DIR/images/*.jpg`` and ``DIR/captions.csv`` with ``image,caption`` rows,
  several captions per image. Tags come from :mod:`~photo_tagger.training.captions`; a tag counts for an image when
  at least 2 of its captions name it, and the vocabulary keeps tags that at least 20 images carry. With
  ``unknown_single=True`` (the default) a tag that exactly one caption names is *unknown* for that image rather than
  negative: one annotator in five saw it, so it is probably there but not salient. Training leaves such pairs out
  of the loss and evaluation out of the tag's AP; 1.5% of Flickr8k's (image, concept) pairs are unknown.
- ``mirflickr:DIR``: MIRFLICKR-25k as distributed (see :mod:`~photo_tagger.training.mirflickr`).
- ``folders:DIR``: one sub-folder per tag, ``DIR/<tag>/<photo>``; a photo's tag is its folder's name.
- ``csv:FILE``: ``path,tags`` rows, tags separated by ``;``, paths relative to the CSV's folder; a header row whose
  first cell is ``path`` is skipped.

``limit`` keeps the first N images in path order *before* the vocabulary is built, so a quick run sees a consistent
small dataset.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

from photo_tagger.pipeline.images import is_photo_path
from photo_tagger.training.captions import agreed_tags, caption_tags, normalise_tag
from photo_tagger.training.concepts import concepts_named
from photo_tagger.training.dataset import LabelledImages, build

KINDS = ("flickr8k", "captions", "mirflickr", "folders", "csv")
TAG_MODES = ("concepts", "words")
DEFAULT_MIN_IMAGES = {"flickr8k": 20, "captions": 20, "mirflickr": 20, "folders": 1, "csv": 1}


class DatasetError(ValueError):
    """A dataset spec or layout the loaders cannot read; the message says what was expected."""


def parse_spec(spec: str) -> tuple[str, Path]:
    """``"flickr8k:../shared/data/flickr8k"`` -> ``("flickr8k", Path(...))``."""
    kind, sep, path = spec.partition(":")
    if not sep or kind not in KINDS or not path:
        raise DatasetError(f"dataset {spec!r}: expected KIND:PATH with KIND one of {', '.join(KINDS)}")
    return kind, Path(path).expanduser()


def load_dataset(spec: str, limit: int | None = None, min_images: int | None = None,
                 tags: str = "concepts", unknown_single: bool = True) -> LabelledImages:
    """Load the dataset a spec names; ``tags`` picks the captions' vocabulary (concepts or all content words),
    ``unknown_single`` whether a tag one caption names is unknown (True) or negative (False)."""
    kind, path = parse_spec(spec)
    if not path.exists():
        raise DatasetError(f"dataset {spec!r}: {path} does not exist")
    min_images = DEFAULT_MIN_IMAGES[kind] if min_images is None else min_images
    if kind in ("flickr8k", "captions"):
        return load_captions(path, limit=limit, min_images=min_images, tags=tags, unknown_single=unknown_single)
    if kind == "mirflickr":
        from photo_tagger.training.mirflickr import load_mirflickr

        return load_mirflickr(path, limit=limit, min_images=min_images)
    if kind == "folders":
        return load_folders(path, limit=limit, min_images=min_images)
    return load_csv(path, limit=limit, min_images=min_images)


def load_captions(root: Path, limit: int | None = None, min_images: int = 20, min_captions: int = 2,
                  tags: str = "concepts", name: str | None = None, unknown_single: bool = True) -> LabelledImages:
    """Captions -> tags: the concepts (:mod:`~photo_tagger.training.concepts`) or every content word two captions
    agree on; either way every agreed word and concept is kept as an open label."""
    if tags not in TAG_MODES:
        raise DatasetError(f"tags={tags!r}: choose one of {', '.join(TAG_MODES)}")
    root = Path(root)
    table = root / "captions.csv"
    if not table.is_file():
        raise DatasetError(f"{root}: no captions.csv (expected images/ and captions.csv with image,caption rows)")
    captions: dict[str, list[str]] = defaultdict(list)
    with table.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            captions[row["image"]].append(row["caption"])
    images = root / "images"
    names = sorted(name for name in captions if (images / name).is_file())
    if not names:
        raise DatasetError(f"{root}: none of the images named in captions.csv is in {images}")
    names = names[:limit] if limit else names
    labels, open_labels, named_once = [], [], []
    for image in names:
        words = [caption_tags(c) for c in captions[image]]
        concepts = [concepts_named(w) for w in words]
        agreed_words = agreed_tags(words, min_captions)
        agreed_concepts = agreed_tags(concepts, min_captions)
        labels.append(agreed_concepts if tags == "concepts" else agreed_words)
        open_labels.append(agreed_words | agreed_concepts)
        named = agreed_tags(concepts if tags == "concepts" else words, 1)
        named_once.append(frozenset(named - labels[-1]) if unknown_single else frozenset())
    dataset = build(name or root.name, root, [images / n for n in names], labels, min_images)
    kept = frozenset(dataset.vocabulary)
    return replace(dataset, open_labels=tuple(frozenset(t) for t in open_labels),
                   unknown=tuple(t & kept for t in named_once))


def load_folders(root: Path, limit: int | None = None, min_images: int = 1) -> LabelledImages:
    root = Path(root)
    paths, tags = [], []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        tag = normalise_tag(folder.name.replace("_", " ")) or folder.name.lower()
        for photo in sorted(folder.rglob("*")):
            if photo.is_file() and is_photo_path(photo.name):
                paths.append(photo)
                tags.append({tag})
    if not paths:
        raise DatasetError(f"{root}: no photos in sub-folders (expected one folder per tag)")
    order = sorted(range(len(paths)), key=lambda i: paths[i])[:limit] if limit else range(len(paths))
    return build(root.name, root, [paths[i] for i in order], [tags[i] for i in order], min_images)


def load_csv(table: Path, limit: int | None = None, min_images: int = 1) -> LabelledImages:
    table = Path(table)
    rows: list[tuple[Path, set[str]]] = []
    with table.open(newline="", encoding="utf-8") as handle:
        for number, row in enumerate(csv.reader(handle), start=1):
            if not row or (number == 1 and row[0].strip().lower() == "path"):
                continue
            if len(row) < 2:
                raise DatasetError(f"{table}:{number}: expected path,tag1;tag2 but got {row!r}")
            tags = {normalise_tag(t) or t.strip().lower() for t in row[1].split(";") if t.strip()}
            rows.append((table.parent / row[0].strip(), tags))
    missing = [str(p) for p, _ in rows if not p.is_file()]
    if missing:
        raise DatasetError(f"{table}: {len(missing)} photos are missing, e.g. {missing[0]}")
    rows.sort(key=lambda r: r[0])
    rows = rows[:limit] if limit else rows
    return build(table.stem, table.parent, [p for p, _ in rows], [t for _, t in rows], min_images)


def describe(dataset: LabelledImages) -> str:
    positives = sum(len(t) for t in dataset.labels)
    return (f"{dataset.name}: {len(dataset)} images, {len(dataset.vocabulary)} tags, "
            f"{positives / max(1, len(dataset)):.1f} tags per image")

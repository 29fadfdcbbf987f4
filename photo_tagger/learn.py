"""``learn``: a personal TaggerNet head from the library's decisions, written beside the library and made active.

Always learned on top of the *shipped* head (or ``PHOTO_TAGGER_HEAD``), from every decision in the library: learning
again after more decisions replaces the personal head rather than stacking corrections on corrections. The new head is
a new head version; the re-tag (:mod:`photo_tagger.retag`) then shows and applies what it changes, and never touches a
decision.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from photo_tagger.config import Settings
from photo_tagger.heads import activate, heads_dir
from photo_tagger.store import Store, TagSource, TagState
from photo_tagger.training.personal import UNLABELLED_SAMPLE, Labels, LearnedHead, PersonalTrainer, TagReport

MARKDOWN_FILE = "MODEL_CARD.md"


class NothingToLearnError(Exception):
    """The library has no decisions on photos with features yet; the message says what to do."""


@dataclass
class LearnResult:
    head: LearnedHead | None
    folder: Path | None
    decisions: int
    photos: int
    without_features: int  # decisions on photos not tagged yet (no features): not used
    reports: list[TagReport] = field(default_factory=list)

    @property
    def version(self) -> str | None:
        return self.head.version if self.head is not None else None

    def as_dict(self) -> dict:
        return {"version": self.version, "folder": str(self.folder) if self.folder else None,
                "decisions": self.decisions, "photos": self.photos, "without_features": self.without_features,
                "tags": [r.as_dict() for r in self.reports]}


def base_head(settings: Settings):  # noqa: ANN201 - TaggerNetHead, imported lazily
    from photo_tagger.pipeline.taggernet import TaggerNetHead, default_head_dir

    return TaggerNetHead.load(settings.head_path or default_head_dir())


def names_other_stages_make(settings: Settings) -> frozenset[str]:
    """Hierarchy tags and detector classes: a user tag of one of these names stays theirs, never a learned copy."""
    from photo_tagger.pipeline.detector import read_class_names
    from photo_tagger.pipeline.hierarchy import ImageNetHierarchy
    from photo_tagger.pipeline.models import find_model_file, manifest_entry

    names = set(ImageNetHierarchy.load().tag_names)
    classes = find_model_file(manifest_entry("coco_classes"), settings)
    if classes is not None:
        names.update(read_class_names(classes))
    return frozenset(names)


def learn_personal_head(store: Store, settings: Settings, activate_head: bool = True, seed: int = 8,
                        progress: Callable[[int, int], None] | None = None) -> LearnResult:
    """Train, validate and (when anything was learned) write and activate a personal head; ``progress(done, total)``
    counts the tags learned."""
    from photo_tagger.pipeline.backbones.registry import get_backbone_spec
    from photo_tagger.pipeline.backbones.runtime import Backbone

    base = base_head(settings)
    backbone_version = Backbone(get_backbone_spec(settings.backbone), settings).version
    decided = store.decided_tags()
    with_features = store.photos_with_features(backbone_version)
    have = set(with_features)
    decided_photos = sorted({photo_id for photo_id, *_ in decided if photo_id in have})
    without = len({photo_id for photo_id, *_ in decided if photo_id not in have})
    if not decided_photos:
        raise NothingToLearnError(
            "There is nothing to learn from yet: accept or reject suggestions, or add your own tags, on tagged photos.")
    undecided = np.array(sorted(have - set(decided_photos)), dtype=np.int64)
    others = undecided
    rng = np.random.default_rng(seed)
    if len(others) > UNLABELLED_SAMPLE:
        others = np.sort(rng.choice(others, UNLABELLED_SAMPLE, replace=False))
    keys = decided_photos + others.tolist()
    # A sampled undecided photo stands for len(undecided) / len(others) photos of the library when the figures are
    # computed, so a big library's many negatives are not under-counted.
    population = np.ones(len(keys))
    population[len(decided_photos):] = len(undecided) / max(len(others), 1)
    vectors = store.load_features(keys, backbone_version)
    features = np.stack([vectors[k] for k in keys])
    row_of = {k: i for i, k in enumerate(keys)}
    labels = Labels()
    used = 0
    for photo_id, tag, state, source in decided:
        if photo_id in row_of:
            labels.add(row_of[photo_id], tag, state == TagState.ACCEPTED, by_user=source == TagSource.USER)
            used += 1
    for tag, photo_ids in store.suggested_photos(labels.user_tags).items():
        labels.suggested[tag] = {row_of[p] for p in photo_ids if p in row_of}
    trainer = PersonalTrainer(base, features, keys, labels, seed=seed, population=population,
                              reserved=names_other_stages_make(settings))
    head = trainer.train(progress)
    result = LearnResult(None, None, used, len(keys), without, head.reports)
    if not head.learned:
        return result
    folder = heads_dir(settings) / head.version
    write_personal_head(folder, head)
    if activate_head:
        activate(settings, head.version)
    result.head, result.folder = head, folder
    return result


def write_personal_head(folder: Path, head: LearnedHead) -> None:
    from photo_tagger.training.card import _atomic_write, write_head

    write_head(folder, head.weights, head.card)
    _atomic_write(folder / MARKDOWN_FILE, render_personal_card(head).encode())


def render_personal_card(head: LearnedHead) -> str:
    personal = head.card["personal"]
    lines = [f"# Personal TaggerNet head `{head.version}`", "",
             f"Learned {personal['created']} on top of `{personal['base']}` from {personal['decisions']} decisions on "
             f"{personal['photos']} photos; figures from {personal['validation']}.", "",
             "| tag | kind | positives | negatives | used | figures | note |", "|---|---|---:|---:|---|---|---|"]
    for report in head.reports:
        figures = ", ".join(f"{k} {v:.3f}" for k, v in report.figures.items())
        lines.append(f"| {report.tag} | {report.kind} | {report.positives} | {report.negatives} | "
                     f"{'yes' if report.used else 'no'} | {figures} | {report.reason} |")
    return "\n".join(lines) + "\n"

"""What a re-tag changes: per photo (rows to add, rescore, remove) and per tag (photos gaining or losing it).

Only machine suggestions are compared. A tag the user accepted, rejected or added is in ``MachineTags.decided``: a new
suggestion of it is counted as ``kept_decisions`` and changes nothing, so a re-tag can never undo a decision or bring a
rejected tag back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from photo_tagger.pipeline.types import MergedTag
from photo_tagger.store.evidence import MachineTags, SuggestionWrites

# Scores that differ by less than this are the same score: batched and single-photo matrix products round the last
# bits differently, and such a change would only rewrite rows.
SCORE_TOLERANCE = 1e-5


@dataclass
class TagDiff:
    """One tag across the library: photos that gain or lose its suggestion, or keep it with another score."""

    tag: str
    gained: int = 0
    lost: int = 0
    rescored: int = 0
    gained_examples: list[str] = field(default_factory=list)
    lost_examples: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"tag": self.tag, "gained": self.gained, "lost": self.lost, "rescored": self.rescored,
                "gained_examples": self.gained_examples, "lost_examples": self.lost_examples}


@dataclass
class RetagDiff:
    """The whole library's re-tag: counts of photos by what happens to them, and per-tag changes."""

    versions: dict[str, str]
    applied: bool = False
    photos: int = 0  # tagged photos looked at
    up_to_date: int = 0  # already tagged by exactly these model versions
    from_evidence: int = 0  # re-scored from stored features and detections
    changed: int = 0  # of those, photos whose suggestions change
    needs_images: int = 0  # no stored evidence for the current backbone/detector: the CNN must see the photo again
    queued: int = 0  # of those, queued for tagging (apply only)
    kept_decisions: int = 0  # suggestions the new models make for tags the user has decided: left as decided
    old_versions: dict[str, int] = field(default_factory=dict)  # "head=..., glove=..." -> photos, for the summary
    tags: dict[str, TagDiff] = field(default_factory=dict)
    examples: int = 3

    def tag(self, name: str) -> TagDiff:
        entry = self.tags.get(name)
        if entry is None:
            entry = self.tags[name] = TagDiff(name)
        return entry

    @property
    def gained(self) -> int:
        return sum(t.gained for t in self.tags.values())

    @property
    def lost(self) -> int:
        return sum(t.lost for t in self.tags.values())

    def version_changes(self) -> list[tuple[str, str, str, int]]:
        """Which model parts differ from those the photos were tagged with: (part, old, new, photos), e.g.
        ``("head", "taggernet-fb03f23f3326", "taggernet-d21fdb8f7619", 320)``; a part missing on one side is "none".
        """
        changes: dict[tuple[str, str, str], int] = {}
        for described, count in self.old_versions.items():
            old = dict(part.split("=", 1) for part in described.split(", ") if "=" in part)
            for name in sorted(set(old) | set(self.versions)):
                if old.get(name) != self.versions.get(name):
                    key = (name, old.get(name, "none"), self.versions.get(name, "none"))
                    changes[key] = changes.get(key, 0) + count
        return [(name, old, new, count) for (name, old, new), count in changes.items()]

    def ranked_tags(self) -> list[TagDiff]:
        """Tags with a gain or loss, most photos affected first; rescored-only tags last."""
        return sorted(self.tags.values(), key=lambda t: (-(t.gained + t.lost), -t.rescored, t.tag))

    def as_dict(self) -> dict:
        return {
            "versions": self.versions, "applied": self.applied, "photos": self.photos, "up_to_date": self.up_to_date,
            "from_evidence": self.from_evidence, "changed": self.changed, "needs_images": self.needs_images,
            "queued": self.queued, "kept_decisions": self.kept_decisions, "gained": self.gained, "lost": self.lost,
            "old_versions": self.old_versions, "tags": [t.as_dict() for t in self.ranked_tags()],
        }  # fmt: skip


NewTag = tuple[str, float, str, "str | None"]  # (name, score, source, GloVe parent): a merged tag, compactly


def compact(tags: Sequence[MergedTag]) -> list[NewTag]:
    """Merged tags as plain tuples: cheap to send between processes and to compare."""
    return [(t.name, t.score, t.source, t.parent) for t in tags]


def compare(photo_id: int, path: str, current: MachineTags, new: Sequence[NewTag], diff: RetagDiff,
            writes: SuggestionWrites) -> bool:
    """Add one photo's changes to ``diff`` and ``writes``; True when its suggestions change."""
    wanted = {tag[0]: tag for tag in new}
    changed = False
    for name, score, source, parent in wanted.values():
        if name in current.decided:
            diff.kept_decisions += 1
            continue
        old = current.suggested.get(name)
        if old is None:
            writes.added.append((photo_id, name, score, source, parent))
            entry = diff.tag(name)
            entry.gained += 1
            if len(entry.gained_examples) < diff.examples:
                entry.gained_examples.append(path)
            changed = True
        elif abs(old[0] - score) > SCORE_TOLERANCE or old[1] != source or old[2] != parent:
            writes.rescored.append((photo_id, name, score, source, parent))
            diff.tag(name).rescored += 1
            changed = True
    for name in current.suggested:
        if name not in wanted:
            writes.removed.append((photo_id, name))
            entry = diff.tag(name)
            entry.lost += 1
            if len(entry.lost_examples) < diff.examples:
                entry.lost_examples.append(path)
            changed = True
    return changed

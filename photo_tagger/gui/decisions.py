"""What a click on Accept, Reject, Remove or Add does, as functions for the writes pool (never the GUI thread).

Every decision goes through :meth:`Library.decide`. Accept and reject on a selection act on the selected photos
whose tag is in the state the user is looking at ("reject *dog* on the 5 of these 8 photos it was suggested
for"), so they never invent user tags on the other three; Add acts on every selected photo.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from photo_tagger.library import Library
from photo_tagger.store import SearchHit
from photo_tagger.store.query import quote

PAST = {"accept": "Accepted", "reject": "Rejected", "remove": "Removed", "add": "Added"}


@dataclass(frozen=True)
class Outcome:
    action: str
    tag: str
    photos: int

    def message(self) -> str:
        return f"{PAST[self.action]} \u201c{self.tag}\u201d on {self.photos:,} photo{'s' if self.photos != 1 else ''}"


def on_paths(library: Library, action: str, tag: str, paths: Sequence[str]) -> Callable[[], Outcome]:
    """Decide on photos whose paths are known (one photo, a review step, a selection the detail panel listed)."""

    def run() -> Outcome:
        library.decide(action, tag, paths=list(paths))
        return Outcome(action, tag, len(paths))

    return run


def on_selection(library: Library, action: str, tag: str, state: str | None,
                 resolve: Callable[[], list[SearchHit]]) -> Callable[[], Outcome]:
    """Decide on a selection too big for the detail panel to have listed: its hits are resolved here, then kept
    where the tag is in ``state`` (all of them when ``state`` is None, as for Add)."""

    def run() -> Outcome:
        hits = resolve()
        if state is not None:
            having = set(library.query_ids(f"{quote(tag)} state:{state}"))
            hits = [hit for hit in hits if hit.photo_id in having]
        library.decide(action, tag, paths=[hit.path for hit in hits])
        return Outcome(action, tag, len(hits))

    return run

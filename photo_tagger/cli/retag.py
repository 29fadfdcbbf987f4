"""``photo-tagger retag [--json] [--apply [--wait]]``: what a model update changes in the suggestions, then apply it.

Without ``--apply`` nothing is written: the command lists, per tag, how many photos would gain or lose the suggestion,
with examples. Accepted, rejected and your own tags are never changed. Photos whose stored evidence does not fit the
current backbone or detector need the images again; ``--apply`` queues them and ``--wait`` tags them now.
"""

from __future__ import annotations

import argparse
import json

from photo_tagger.config import Settings
from photo_tagger.retag.diff import RetagDiff

TAG_ROWS = 25


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--apply", action="store_true", help="change the suggestions (default: only show the diff)")
    parser.add_argument("--wait", action="store_true",
                        help="with --apply: also re-tag now the photos that need the images again")
    parser.add_argument("--json", action="store_true", help="print the diff as JSON")
    parser.add_argument("--tags", type=int, default=TAG_ROWS, metavar="N", help="list up to N changed tags")
    from photo_tagger.cli.progress import add_progress_flags

    add_progress_flags(parser)


def print_diff(diff: RetagDiff, rows: int) -> None:
    for name, old, new, count in diff.version_changes():
        print(f"{name}: {old} -> {new} ({count} photos)")
    verb = "re-scored" if diff.applied else "to re-score"
    print(f"{diff.photos} tagged photos: {diff.up_to_date} up to date, {diff.from_evidence} {verb} from stored "
          f"features ({diff.changed} change), {diff.needs_images} need the images again")
    if diff.gained or diff.lost:
        print(f"suggestions: +{diff.gained} gained, -{diff.lost} lost")
    changed = [t for t in diff.ranked_tags() if t.gained or t.lost]
    if changed:
        width = max(len(t.tag) for t in changed[:rows])
        print(f"{'tag':<{width}}  {'gain':>6}  {'lose':>6}  examples")
        for t in changed[:rows]:
            examples = [f"+{p}" for p in t.gained_examples[:2]] + [f"-{p}" for p in t.lost_examples[:2]]
            gained, lost = f"+{t.gained}" if t.gained else "0", f"-{t.lost}" if t.lost else "0"
            print(f"{t.tag:<{width}}  {gained:>6}  {lost:>6}  {', '.join(examples)}")
        if len(changed) > rows:
            print(f"... and {len(changed) - rows} more tags")
    rescored = sum(t.rescored for t in diff.tags.values())
    if rescored:
        print(f"{rescored} suggestions keep their tag with a new score")
    if diff.kept_decisions:
        print(f"{diff.kept_decisions} suggestions for tags you already decided: left as you decided them")
    if diff.applied:
        if diff.queued:
            print(f"{diff.queued} photos queued to be tagged from their images")
    elif diff.changed or diff.needs_images:
        print("dry run: nothing changed. Run `photo-tagger retag --apply` to apply it.")
    elif diff.from_evidence:
        print("no suggestion changes. `photo-tagger retag --apply` records that these photos are up to date.")
    else:
        print("nothing to change.")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from photo_tagger.cli import UsageError
    from photo_tagger.cli.common import CommandFailed, open_library, run_worker_with_progress
    from photo_tagger.cli.progress import progress_bar

    if args.wait and not args.apply:
        raise UsageError("--wait goes with --apply")
    from photo_tagger.pipeline.tagger import Tagger
    from photo_tagger.worker import WorkerBusyError

    tagger = Tagger(settings)
    for notice in tagger.notices:
        print(f"note: {notice}")
    with open_library(settings) as library:
        with progress_bar(None, "re-tagging" if args.apply else "comparing", enabled=args.progress) as bar:
            def update(done: int, total: int) -> None:
                bar.total = total
                bar.n = done
                bar.refresh()

            try:
                diff = library.retag(apply=args.apply, progress=update, tagger=tagger)
            except WorkerBusyError as busy:
                raise CommandFailed(f"{busy}; close it (or wait for it) and run this again") from None
        if args.json:
            print(json.dumps(diff.as_dict(), indent=2))
        else:
            print_diff(diff, args.tags)
        if args.wait and library.queued():
            run_worker_with_progress(library, show=args.progress)
    return 0

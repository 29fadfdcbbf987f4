"""``photo-tagger learn [--apply] [--json] [--reset]``: a personal head from your decisions, validated, made active.

It learns from accepted and rejected suggestions and your own tags only, reports cross-validated figures per tag,
writes a new head version beside the library and makes it the library's head. ``--apply`` then re-tags the library
with it (``photo-tagger retag`` shows the changes first); ``--reset`` goes back to the shipped head.
"""

from __future__ import annotations

import argparse
import json

from photo_tagger.config import Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--apply", action="store_true", help="re-tag the library with the new head right away")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--reset", action="store_true", help="go back to the shipped head (re-tag to apply)")
    from photo_tagger.cli.progress import add_progress_flags

    add_progress_flags(parser)


def print_report(result) -> None:  # noqa: ANN001 - LearnResult
    print(f"learned from {result.decisions} decisions on {result.photos} photos "
          f"({result.without_features} decisions on photos not tagged yet were left out)")
    for report in result.reports:
        if report.kind == "custom":
            f = report.figures
            figures = (f"held-out AP {f['ap']:.2f} (base rate {f['base_rate']:.2f}), precision {f['precision']:.2f}, "
                       f"recall {f['recall']:.2f}") if f else ""
        else:
            f = report.figures
            figures = (f"agreement with your held-out decisions {f['agreement_shipped']:.2f} -> "
                       f"{f['agreement_personal']:.2f}") if f else ""
        state = "learned" if report.used else "not learned"
        print(f"  {report.tag} ({'your tag' if report.kind == 'custom' else 'correction'}, {report.positives}+ / "
              f"{report.negatives}-): {state}. {figures}{'; ' + report.reason if report.reason else ''}")
    if result.version:
        print(f"new head {result.version} is now the library's head ({result.folder})")
    else:
        print("nothing was learned; the library's head is unchanged")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from photo_tagger.cli import UsageError
    from photo_tagger.cli.common import open_library
    from photo_tagger.cli.progress import progress_bar
    from photo_tagger.heads import deactivate

    if args.reset:
        deactivate(settings)
        print("the library uses the shipped head again; run `photo-tagger retag --apply` to re-tag with it")
        return 0
    from photo_tagger.learn import NothingToLearnError, learn_personal_head

    with open_library(settings) as library:
        with progress_bar(None, "learning", unit="tag", enabled=args.progress) as bar:
            def update(done: int, total: int) -> None:
                bar.total = total
                bar.n = done
                bar.refresh()

            try:
                result = learn_personal_head(library.store, settings, progress=update)
            except NothingToLearnError as error:
                raise UsageError(str(error)) from None
        if args.json:
            print(json.dumps(result.as_dict(), indent=2))
        else:
            print_report(result)
        if result.version and args.apply:
            from photo_tagger.cli.retag import print_diff

            print_diff(library.retag(apply=True), rows=25)
        elif result.version:
            print("run `photo-tagger retag` to see what it changes, `photo-tagger retag --apply` to apply it")
        if result.version and settings.head_path is not None:
            print(f"note: PHOTO_TAGGER_HEAD names {settings.head_path}, which is used instead until it is unset")
    return 0

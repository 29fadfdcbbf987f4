"""``photo-tagger scan [FOLDER] [--wait]``: bring the library in line with the disk; --wait tags what was queued."""

from __future__ import annotations

import argparse

from photo_tagger.config import Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", nargs="?", metavar="FOLDER", help="one folder of the library (default: all)")
    parser.add_argument("--wait", action="store_true", help="tag the queued photos and return when the queue is empty")


def print_report(report) -> None:  # noqa: ANN001 - ScanReport
    if report.unavailable:
        print(f"{report.folder}: skipped, {report.unavailable}")
        return
    parts = [f"{report.seen} photos", f"{report.new} new", f"{report.changed} changed", f"{report.moved} moved",
             f"{report.missing} missing", f"{report.queued} queued for tagging"]
    print(f"{report.folder}: " + ", ".join(parts))
    for problem in report.unreadable:
        print(f"  cannot read {problem}")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from photo_tagger.cli.common import open_library, run_worker_with_progress
    from photo_tagger.cli.progress import progress_bar

    with open_library(settings) as library:
        with progress_bar(None, "scanning") as bar:
            reports = library.scan(args.folder, progress=bar.update)
        for report in reports:
            print_report(report)
        if args.wait:
            run_worker_with_progress(library)
            from photo_tagger.store import PhotoStatus

            status = library.status()
            print(f"library: {status.photos[PhotoStatus.TAGGED]} photos tagged, {len(status.errors)} failed")
    return 0

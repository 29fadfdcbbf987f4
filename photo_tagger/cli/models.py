"""``photo-tagger models``: which model files are present; ``models fetch`` downloads and verifies them."""

from __future__ import annotations

import argparse

from photo_tagger.cli import UsageError
from photo_tagger.config import Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", nargs="?", choices=["list", "fetch"], default="list")
    parser.add_argument("names", nargs="*", metavar="NAME", help="models to fetch (default: all that are missing)")
    parser.add_argument("--verify", action="store_true", help="check each present file's sha256 while listing")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from photo_tagger.pipeline.models import load_manifest, model_status

    entries = load_manifest()
    known = {e.name for e in entries}
    unknown = [n for n in args.names if n not in known]
    if unknown:
        raise UsageError(f"unknown model {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    if args.action == "fetch":
        return _fetch(entries, args.names, settings)
    print(f"models folder: {settings.models_dir}")
    for entry in entries:
        status = model_status(entry, settings, verify=args.verify)
        mark = "present" if status.present else ("optional" if entry.optional else "MISSING")
        where = status.path if status.path else ""
        print(f"  {entry.name:<20} {mark:<8} {entry.licence:<13} {entry.version:<30} {status.detail}  {where}")
    return 0


def _fetch(entries, names: list[str], settings: Settings) -> int:  # noqa: ANN001
    from photo_tagger.cli.progress import progress_bar
    from photo_tagger.pipeline.models import DownloadError, download_model, model_status

    wanted = [e for e in entries if e.url and (e.name in names if names else not e.optional)]
    failures = 0
    for entry in wanted:
        if model_status(entry, settings, verify=True).present:
            print(f"{entry.name}: already present, sha256 ok")
            continue
        try:
            path = download_model(entry, settings.models_dir,
                                  progress=lambda total, label: progress_bar(total, label, unit="B"))
        except DownloadError as error:
            failures += 1
            print(f"{entry.name}: {error}")
            continue
        print(f"{entry.name}: downloaded to {path}, sha256 ok")
    return 1 if failures else 0

"""``photo-tagger tag``: run the tagging engine on files and folders and print what it found."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from photo_tagger.cli.progress import add_progress_flags
from photo_tagger.config import Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="photo files or folders (searched recursively)")
    parser.add_argument("--json", action="store_true", help="print one JSON array instead of a table")
    parser.add_argument("--no-detector", action="store_true", help="skip the COCO object detector")
    parser.add_argument("--no-glove", action="store_true", help="skip the GloVe neighbour tags")
    parser.add_argument("--min-score", type=_score, metavar="S",
                        help="one threshold for every source, overriding the settings (0.01 lists nearly every tag)")
    add_progress_flags(parser)


def _score(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and 1")
    return value


def expand_paths(paths: list[str]) -> Iterator[Path]:
    """Files as given (whatever their extension, so a bad one is reported); folders walked for photo files.

    Hidden folders and files are skipped while walking, and the order is sorted so runs are repeatable.
    """
    from photo_tagger.pipeline.images import is_photo_path

    for raw in paths:
        path = Path(raw)
        if not path.is_dir():
            yield path
            continue
        for root, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(files):
                if not name.startswith(".") and is_photo_path(name):
                    yield Path(root) / name


def run(args: argparse.Namespace, settings: Settings) -> int:
    from photo_tagger.cli.progress import progress_bar
    from photo_tagger.pipeline.tagger import Tagger

    if args.min_score is not None:
        settings = settings.with_min_score(args.min_score)
    files = list(expand_paths(args.paths))
    tagger = Tagger(settings, use_detector=not args.no_detector, use_glove=not args.no_glove)
    for notice in tagger.notices:
        print(f"photo-tagger: {notice}", file=sys.stderr)
    enabled = args.progress if args.progress is not None else (None if len(files) > 1 else False)
    results = []
    with progress_bar(len(files), "tagging", enabled=enabled) as bar:
        for result in tagger.tag_paths(files, progress=bar.update):
            results.append(result)
            if not args.json:
                bar.write(format_result(result), file=sys.stdout)
    if args.json:
        json.dump([result_to_json(r) for r in results], sys.stdout, indent=1)
        sys.stdout.write("\n")
    failed = sum(1 for r in results if r.error)
    if failed and not args.json:
        print(f"{failed} of {len(results)} photos could not be read", file=sys.stderr)
    return 0


def result_to_json(result) -> dict:  # noqa: ANN001 - PhotoResult
    return {
        "path": result.path,
        "tags": [
            {"name": t.name, "score": round(t.score, 4), "source": t.source, "sources": list(t.sources),
             "parent": t.parent}
            for t in result.tags
        ],
        "detections": [
            {"label": d.label, "score": round(d.score, 4), "box": [round(v, 1) for v in d.box]}
            for d in result.detections
        ],
        "error": result.error,
        "model_versions": result.model_versions,
    }


def format_result(result) -> str:  # noqa: ANN001 - PhotoResult
    """A readable block per photo: the path, then one line per tag with score, sources and parent."""
    if result.error:
        return f"{result.path}\n  error: {result.error}\n"
    lines = [f"{result.path}  ({result.width}x{result.height})"]
    counts: dict[str, int] = {}
    for detection in result.detections:
        counts[detection.label] = counts.get(detection.label, 0) + 1
    for tag in result.tags:
        extra = []
        if tag.name in counts and "detector" in tag.sources:
            extra.append(f"x{counts[tag.name]}")
        if tag.parent:
            extra.append(f"from {tag.parent}")
        note = f"  ({', '.join(extra)})" if extra else ""
        lines.append(f"  {tag.score:5.2f}  {tag.name:<24} {'+'.join(tag.sources):<22}{note}")
    if not result.tags:
        lines.append("  (no tags above the thresholds)")
    return "\n".join(lines) + "\n"

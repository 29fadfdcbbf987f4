"""``photo-tagger show [--json] PATH``: one photo's facts and every tag with source, score and state."""

from __future__ import annotations

import argparse
import json
import sys

from photo_tagger.config import Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path")
    parser.add_argument("--json", action="store_true")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from photo_tagger.cli.common import open_library

    with open_library(settings) as library:
        photo, tags = library.tags_of(args.path)
    data = {
        "path": photo.path, "status": photo.status.value, "error": photo.error, "width": photo.width,
        "height": photo.height, "date_taken": photo.date_taken.isoformat() if photo.date_taken else None,
        "model_versions": photo.model_versions,
        "tags": [{"name": t.name, "score": round(t.score, 4), "source": t.source.value, "state": t.state.value,
                  "parent": t.parent} for t in tags],
    }  # fmt: skip
    if args.json:
        json.dump(data, sys.stdout, indent=1)
        sys.stdout.write("\n")
        return 0
    print(f"{photo.path}  {photo.width}x{photo.height}  {photo.status.value}"
          + (f"  taken {photo.date_taken:%Y-%m-%d}" if photo.date_taken else ""))
    if photo.error:
        print(f"  error: {photo.error}")
    for state in ("accepted", "suggested", "rejected"):
        group = [t for t in data["tags"] if t["state"] == state]
        if group:
            print(f"  {state}:")
        for t in group:
            parent = f"  (from {t['parent']})" if t["parent"] else ""
            print(f"    {t['score']:5.2f}  {t['name']:<24} {t['source']}{parent}")
    return 0

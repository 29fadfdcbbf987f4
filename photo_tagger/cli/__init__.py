"""``photo-tagger``: argparse with one module per command, each imported only when its command runs.

Importing this package imports neither torch nor Qt, so ``photo-tagger --help`` and ``photo-tagger models`` start
instantly; ``tag`` pays for torch and ONNX Runtime when it runs.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from photo_tagger import __version__

# command -> (module under photo_tagger.cli, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "tag": ("tag", "tag photos or folders and print the tags (no library needed)"),
    "add": ("add", "add a folder to the library (watched) and queue its photos for tagging"),
    "scan": ("scan", "rescan folders for new, changed, moved and deleted photos; --wait tags them"),
    "watch": ("watch", "watch the library's folders and tag changes as they happen, until Ctrl-C"),
    "search": ("search", "find photos by tag with the query language"),
    "show": ("show", "show one photo's tags with their source, score and state"),
    "accept": ("decide", "accept a suggested tag on photos"),
    "reject": ("decide", "reject a suggested tag on photos (never suggested again for them)"),
    "tag-add": ("decide", "add your own tag to photos"),
    "untag": ("decide", "remove a tag from photos"),
    "status": ("status", "photos, queue, folders and failures of the library"),
    "remove": ("remove", "remove a folder from the library (the files are not touched)"),
    "purge": ("purge", "forget photos marked missing, with their tags"),
    "retag": ("retag", "show what the current models change in the suggestions; --apply changes them"),
    "learn": ("learn", "learn a personal TaggerNet head from your accepted, rejected and own tags"),
    "gui": ("gui", "open the desktop app"),
    "xmp": ("xmp", "write tags to XMP sidecars / read keywords from photos"),
    "models": ("models", "list the model files and whether they are present; `models fetch` downloads them"),
    "train": ("train", "train a TaggerNet head on a labelled dataset and write it with its model card"),
    "eval": ("eval", "measure a TaggerNet head and each part of the pipeline on a dataset's held-out photos"),
}


class UsageError(Exception):
    """A mistake in how the command was called; printed without a traceback, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="photo-tagger", description="Tag your photos offline and find them by tag.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what the models are doing")
    parser.add_argument("--library", metavar="PATH", help="the library file (default: PHOTO_TAGGER_LIBRARY or the "
                        "user data folder)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        sub = commands.add_parser(name, help=help_text, description=help_text)
        module = importlib.import_module(f"photo_tagger.cli.{module_name}")
        module.add_arguments(sub)
        sub.set_defaults(module=module)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if args.command is None:
        parser.print_help()
        return 2
    from dataclasses import replace
    from pathlib import Path

    from photo_tagger.cli.common import CommandFailed
    from photo_tagger.config import Settings, SettingsError
    from photo_tagger.pipeline.errors import PipelineError

    try:
        settings = Settings.from_env()
        if args.library:
            settings = replace(settings, library_path=Path(args.library).expanduser().absolute())
        return int(args.module.run(args, settings) or 0)
    except (UsageError, SettingsError, PipelineError) as error:  # PipelineError here: a model setting is wrong
        print(f"photo-tagger {args.command}: error: {error}", file=sys.stderr)
        return 2
    except CommandFailed as error:
        print(f"photo-tagger {args.command}: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `photo-tagger search --json dog | head`: the reader left, which is fine
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0

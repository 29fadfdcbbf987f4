"""``photo-tagger train``: train, calibrate and evaluate a TaggerNet head and write it with its model card."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from photo_tagger.cli.progress import add_progress_flags
from photo_tagger.config import Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", required=True, metavar="KIND:PATH",
                        help="flickr8k:DIR (captions), mirflickr:DIR, folders:DIR or csv:FILE")
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for head.safetensors and the model card")
    parser.add_argument("--backbone", metavar="NAME", help="feature extractor (default: the settings' backbone)")
    parser.add_argument("--epochs", type=int, metavar="N", help="most epochs (early stopping may end sooner)")
    parser.add_argument("--limit", type=int, metavar="N", help="use only the first N photos (a quick run)")
    parser.add_argument("--min-images", type=int, metavar="N",
                        help="photos a tag needs to enter the vocabulary (captions and MIRFLICKR: 20)")
    parser.add_argument("--tags", choices=("concepts", "words"), default="concepts",
                        help="captions' vocabulary: concepts with synonyms (default) or every content word")
    parser.add_argument("--single-caption", choices=("unknown", "negative"), default="unknown",
                        help="a tag one caption of five names: left out of the loss and of AP (default) or negative")
    parser.add_argument("--loss", choices=("bce", "asl"), default="bce", help="binary cross-entropy or asymmetric")
    parser.add_argument("--pos-weight", type=float, default=0.0, metavar="P",
                        help="weight positives by (negatives/positives)^P against class imbalance (0: off)")
    parser.add_argument("--hidden", type=int, default=1024, metavar="N", help="hidden units (0: logistic regression)")
    parser.add_argument("--monitor", choices=("top_k", "mAP"), default="top_k",
                        help="early stopping on validation top-3 accuracy (the paper; default) or mAP")
    parser.add_argument("--seed", type=int, default=8, help="split and initialisation seed")
    parser.add_argument("--views", default="centre,flip,full,full_flip",
                        help="training views per photo, comma-separated (centre is always one)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the logistic-regression baseline")
    add_progress_flags(parser)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from dataclasses import replace

    from photo_tagger.cli import UsageError
    from photo_tagger.training.head import HeadConfig
    from photo_tagger.training.loaders import DatasetError
    from photo_tagger.training.trainer import TrainOptions, train

    if args.backbone:
        settings = replace(settings, backbone=args.backbone)
    head = HeadConfig(hidden=args.hidden, loss=args.loss, pos_weight_power=args.pos_weight, seed=args.seed,
                      monitor=args.monitor)
    if args.epochs is not None:
        if args.epochs < 1:
            raise UsageError("--epochs must be at least 1")
        head = replace(head, max_epochs=args.epochs)
    options = TrainOptions(
        dataset=args.dataset, out=Path(args.out), limit=args.limit, min_images=args.min_images, tags=args.tags,
        unknown_single=args.single_caption == "unknown",
        views=tuple(v.strip() for v in args.views.split(",") if v.strip()), seed=args.seed, head=head,
        baseline=not args.no_baseline, progress=args.progress, command=_command(args),
    )
    try:
        card = train(options, settings)
    except (DatasetError, ValueError) as error:
        raise UsageError(str(error)) from None
    from photo_tagger.cli.eval import print_report

    print_report(card, sys.stdout)
    print(f"\nwrote {options.out}/head.safetensors, taggernet.json, MODEL_CARD.md")
    return 0


def _command(args: argparse.Namespace) -> str:
    parts = ["photo-tagger", "train", "--dataset", args.dataset]
    for flag, value, default in (("--backbone", args.backbone, None), ("--epochs", args.epochs, None),
                                 ("--limit", args.limit, None), ("--min-images", args.min_images, None),
                                 ("--tags", args.tags, "concepts"),
                                 ("--single-caption", args.single_caption, "unknown"), ("--loss", args.loss, "bce"),
                                 ("--pos-weight", args.pos_weight, 0.0), ("--hidden", args.hidden, 1024),
                                 ("--monitor", args.monitor, "top_k"), ("--seed", args.seed, 8),
                                 ("--views", args.views, "centre,flip,full,full_flip")):
        if value is not None and value != default:
            parts += [flag, str(value)]
    if args.no_baseline:
        parts.append("--no-baseline")
    parts += ["--out", args.out]
    return " ".join(shlex.quote(p) for p in parts)

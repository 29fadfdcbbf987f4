"""``photo-tagger eval``: measure a trained head, and each part of the pipeline, on a dataset's held-out photos."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TextIO

from photo_tagger.cli.progress import add_progress_flags
from photo_tagger.config import Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", required=True, metavar="KIND:PATH",
                        help="flickr8k:DIR (captions), mirflickr:DIR, folders:DIR or csv:FILE")
    parser.add_argument("--model", metavar="DIR", help="the head's folder (default: the shipped resources/taggernet)")
    parser.add_argument("--limit", type=int, metavar="N", help="use only the first N photos")
    parser.add_argument("--min-images", type=int, metavar="N",
                        help="photos a tag needs to be in the dataset's vocabulary")
    parser.add_argument("--tags", choices=("concepts", "words"), default=None,
                        help="captions' vocabulary (default: the one the head was trained with)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    add_progress_flags(parser)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from dataclasses import replace
    from pathlib import Path

    from photo_tagger.cli import UsageError
    from photo_tagger.pipeline.backbones.runtime import Backbone
    from photo_tagger.pipeline.tagger import Tagger
    from photo_tagger.pipeline.taggernet import TaggerNetHead, default_head_dir
    from photo_tagger.training.evaluate import evaluate_head
    from photo_tagger.training.features import extract_features
    from photo_tagger.training.loaders import DatasetError, load_dataset
    from photo_tagger.training.splits import split_dataset

    folder = Path(args.model) if args.model else default_head_dir()
    try:
        head = TaggerNetHead.load(folder)
    except (OSError, ValueError, KeyError) as error:
        raise UsageError(f"cannot read the head in {folder}: {error}") from None
    settings = replace(settings, backbone=head.backbone)  # the head only understands its own backbone's features
    trained_on = head.card.get("dataset", {})
    split_args = trained_on.get("split", {})
    try:
        tags = args.tags or trained_on.get("tags", "concepts")
        dataset = load_dataset(args.dataset, args.limit, args.min_images, tags,
                               trained_on.get("unknown_single", False))
        split = split_dataset(dataset, split_args.get("seed", 8), split_args.get("test_fraction", 0.2),
                              split_args.get("val_fraction", 0.2))
    except (DatasetError, ValueError) as error:
        raise UsageError(str(error)) from None
    if len(split.val) == 0 or len(split.test) == 0:
        raise UsageError(f"{dataset.name}: too few photos for a validation and a test split")
    backbone = Backbone.from_settings(settings, threads=settings.thread_count())
    features = extract_features(dataset, backbone, settings.cache_dir, ("centre",), args.progress)
    tagger = Tagger(settings, head_path=folder)
    for notice in tagger.notices:
        print(f"photo-tagger: {notice}", file=sys.stderr)
    report = evaluate_head(tagger, dataset, split, features, settings.cache_dir, args.progress)
    result = {"model": head.version, "dataset": args.dataset, "baseline": head.card.get("baseline"),
              "metrics": {k: v for k, v in report.items() if k != "per_tag"}, "per_tag": report["per_tag"]}
    if args.json:
        json.dump(result, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        print_report(result, sys.stdout)
    return 0


def _f(value: float | None) -> str:
    return "    -" if value is None else f"{value:5.3f}"


def print_report(card: dict, out: TextIO) -> None:
    """The metrics, each part alone, the ablation and the per-tag table, as plain-text tables."""
    m = card["metrics"]
    baseline = (card.get("baseline") or {}).get("mAP")
    print(f"test photos: {m['photos']['test']} (validation {m['photos']['validation']}), "
          f"tags measured: {m['tags_measured']}", file=out)
    print(f"mAP  TaggerNet {_f(m['mAP'])}   baseline (logistic regression) {_f(baseline)}   "
          f"whole pipeline {_f(m['mAP_combined'])}   per photo {_f(m['mAP_per_photo'])}", file=out)
    if m.get("unknown_pairs"):
        print(f"     counting the {m['unknown_pairs']} unknown (photo, tag) pairs as negatives: TaggerNet "
              f"{_f(m['mAP_all_pairs'])}   baseline {_f((card.get('baseline') or {}).get('mAP_all_pairs'))}   "
              f"whole pipeline {_f(m['mAP_combined_all_pairs'])}", file=out)
    print("top-k accuracy  " + "  ".join(f"top-{k} {_f(v)}" for k, v in m["top_k_accuracy"].items()), file=out)
    for k, v in m["at_k"].items():
        print(f"at {k}: precision {_f(v['precision'])} recall {_f(v['recall'])} F1 {_f(v['f1'])}", file=out)
    s = m["suggestions"]
    print(f"suggestions (per-tag thresholds): precision {_f(s['precision'])} recall {_f(s['recall'])} "
          f"F1 {_f(s['f1'])} (macro F1 {_f(m['suggestions_macro_f1'])})", file=out)
    print("\neach part alone, on the tags it covers:", file=out)
    for name, part in m["parts"].items():
        if "tags" in part:
            print(f"  {name:<10} {part['tags']:3d} tags  alone {_f(part['mAP'])}  TaggerNet "
                  f"{_f(part['TaggerNet_mAP_same_tags'])}  combined {_f(part['combined_mAP_same_tags'])}  "
                  f"(alone over all tags {_f(part['mAP_all_tags'])})", file=out)
    print("\nablation (same photos)   mAP   sugg/photo extra/photo confirmed precision recall +recall -precision",
          file=out)
    for row in m["ablation"]:
        print(f"  {row['config']:<18} {_f(row['mAP'])}   {row['suggestions_per_photo']:6.2f}     "
              f"{row['extra_per_photo']:6.2f}   {_f(row['extra_confirmed'])}    {_f(row['precision'])}  "
              f"{_f(row['recall'])} {_f(row.get('recall_gained'))}  {_f(row.get('precision_cost'))}", file=out)
    print(f"\nweak tags (AP < 0.3): {', '.join(m['weak_tags']) or 'none'}", file=out)
    print("\ntag               positives  AP(head) AP(all)  threshold  P     R     F1", file=out)
    for row in sorted(card["per_tag"], key=lambda r: -r["positives"]):
        print(f"  {row['tag']:<16} {row['positives']:6d}    {_f(row['AP'])}   {_f(row['AP_combined'])}   "
              f"{row['threshold']:5.2f}   {_f(row['precision'])} {_f(row['recall'])} {_f(row['f1'])}", file=out)

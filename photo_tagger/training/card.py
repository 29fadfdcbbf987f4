"""A trained head on disk: ``head.safetensors``, the model card ``taggernet.json`` and its readable ``MODEL_CARD.md``.

The JSON card is what :class:`~photo_tagger.pipeline.taggernet.TaggerNetHead` loads (vocabulary, thresholds,
calibration, merge, source maps) and what people read for provenance (backbone name and version, dataset and its
content digest, split, settings, timings, metrics with ``mAP`` at the top level, the command that reproduces it).
The head's ``version`` digests the weights and everything in the card that changes its output, so a retrained or
recalibrated head re-tags a library and an unchanged one does not.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
from pathlib import Path

import numpy as np

from photo_tagger.pipeline.taggernet import CARD_FILE, HEAD_FILE
from photo_tagger.training.dataset import LabelledImages

MARKDOWN_FILE = "MODEL_CARD.md"
FORMAT = 1


def assemble_card(dataset: LabelledImages, split, backbone, trained, fitted: dict, source_maps: dict, options,  # noqa: ANN001
                  timings: dict) -> dict:
    """The card's fields known before evaluation (metrics are added after the head is measured)."""
    card = {
        "format": FORMAT,
        "name": "TaggerNet head",
        "created": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "vocabulary": list(dataset.vocabulary),
        "thresholds": fitted["thresholds"],
        "calibration": fitted["calibration"],
        "fusion": fitted["fusion"],
        "sources": source_maps,
        "words": fitted["words"],
        "backbone": {"name": backbone.name, "version": backbone.version, "feature_dim": backbone.spec.feature_dim},
        "dataset": {
            "spec": options.dataset, "name": dataset.name, "photos": len(dataset), "tags": options.tags,
            "unknown_single": options.unknown_single,
            "min_images": options.min_images, "limit": options.limit, "content_digest": dataset.content_key()[:20],
            "split": {"seed": options.seed, "test_fraction": options.test_fraction,
                      "val_fraction": options.val_fraction, "train": len(split.train), "val": len(split.val),
                      "test": len(split.test)},
        },
        "settings": {**options.head.as_dict(), "views": list(options.views)},
        "training": {**timings, "best_epoch": trained.best_epoch, "epochs_run": trained.epochs_run,
                     "history": [{k: round(v, 4) for k, v in h.items()} for h in trained.history]},
        "reproduce": options.command,
    }
    card["version"] = head_version(trained.weights, card)
    return card


def head_version(weights: dict[str, np.ndarray], card: dict) -> str:
    digest = hashlib.sha256()
    for name in sorted(weights):
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(weights[name], dtype=np.float32).tobytes())
    output_fields = {k: card[k] for k in ("vocabulary", "thresholds", "calibration", "fusion", "sources")}
    digest.update(json.dumps(output_fields, sort_keys=True).encode())
    return f"taggernet-{digest.hexdigest()[:12]}"


def _atomic_write(path: Path, data: bytes) -> None:
    partial = path.with_name(f"{path.name}.{os.getpid()}.part")
    partial.write_bytes(data)
    partial.replace(path)


def write_head(folder: Path, weights: dict[str, np.ndarray], card: dict) -> None:
    """Weights as safetensors (float32) and the card as JSON; loading never unpickles anything."""
    from safetensors.numpy import save

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in weights.items()}
    _atomic_write(folder / HEAD_FILE, save(tensors, metadata={"version": card["version"]}))
    write_report(folder, card)


def write_report(folder: Path, card: dict) -> None:
    folder = Path(folder)
    _atomic_write(folder / CARD_FILE, (json.dumps(_rounded(card), indent=1) + "\n").encode())
    _atomic_write(folder / MARKDOWN_FILE, render_markdown(card).encode())


def _rounded(value):  # noqa: ANN001, ANN202
    if isinstance(value, float):
        return None if np.isnan(value) else round(value, 4)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def render_markdown(card: dict) -> str:
    """The human-readable card: what it is, how it was made, how good it is, where it is weak."""
    data, split, training = card["dataset"], card["dataset"]["split"], card["training"]
    lines = [
        f"# {card['name']} `{card['version']}`", "",
        f"An MLP on frozen `{card['backbone']['version']}` features ({card['backbone']['feature_dim']}-d) tagging "
        f"{len(card['vocabulary'])} tags, trained on `{data['spec']}` ({data['photos']} photos, tags: "
        f"{data['tags']}). Created {card['created']}.", "",
        "Reproduce:", "", "```", card.get("reproduce") or "(not recorded)", "```", "",
        f"Split by path hash, seed {split['seed']}: {split['train']} training / {split['val']} validation / "
        f"{split['test']} test photos. Calibration, merge rule (`{card['fusion']['rule']}`) and per-tag thresholds "
        "were fitted on the validation photos; every figure below is on the test photos.", "",
        f"Training: best epoch {training['best_epoch']} of {training['epochs_run']}; features "
        f"{training.get('features_seconds', '-')} s (0 when cached), head {training.get('head_seconds', '-')} s, "
        f"everything {training.get('total_seconds', '-')} s.", "",
    ]
    metrics = card.get("metrics")
    if metrics:
        lines += _metric_lines(card, metrics)
    lines += ["", "## Limits", "",
              "- Labels are what the dataset names. Tags derived from captions count when two of five captions name "
              "them, so a tag present but not named is a false negative: this caps every AP, most for small or "
              "background things (sky, sidewalk, building).",
              "- Calibration, thresholds and these figures come from the training dataset's photos; photos of another "
              "kind (Flickr8k's are 224 px and squashed) may be scored more or less confidently.",
              "- mAP averages tags with at least 5 test positives; a rare tag's AP rests on few photos."]
    return "\n".join(lines) + "\n"


def _metric_lines(card: dict, m: dict) -> list[str]:
    baseline = card.get("baseline") or {}
    lines = [
        "## Results (test photos)", "",
        "| measure | value |", "|---|---:|",
        f"| mAP, TaggerNet alone ({m['tags_measured']} tags with >= 5 positives) | {_pct(m['mAP'])} |",
        f"| mAP, logistic-regression baseline | {_pct(baseline.get('mAP'))} |",
        f"| mAP, whole pipeline (calibrated merge) | {_pct(m['mAP_combined'])} |",
    ]
    if m.get("unknown_pairs"):
        lines += [
            f"| (photo, tag) pairs left out of every AP as unknown (one caption names the tag) | "
            f"{m['unknown_pairs']} |",
            f"| mAP counting them as negatives: TaggerNet / baseline / whole pipeline | {_pct(m['mAP_all_pairs'])} / "
            f"{_pct(baseline.get('mAP_all_pairs'))} / {_pct(m['mAP_combined_all_pairs'])} |",
        ]
    lines += [
        f"| mAP per photo (ranking each photo's tags), TaggerNet | {_pct(m['mAP_per_photo'])} |",
    ]
    lines += [f"| top-{k} accuracy | {_pct(v)} |" for k, v in m["top_k_accuracy"].items()]
    lines += [f"| P / R / F1 at {k} | {_pct(v['precision'])} / {_pct(v['recall'])} / {_pct(v['f1'])} |"
              for k, v in m["at_k"].items()]
    s = m["suggestions"]
    lines += [f"| suggestions (per-tag thresholds): P / R / F1 | {_pct(s['precision'])} / {_pct(s['recall'])} / "
              f"{_pct(s['f1'])} |", f"| suggestions, macro F1 over tags | {_pct(m['suggestions_macro_f1'])} |", ""]
    lines += ["## Each part alone, on the tags it covers", "",
              "| part | tags | its mAP | TaggerNet mAP | combined mAP |", "|---|---:|---:|---:|---:|"]
    for name in ("hierarchy", "detector"):
        part = m["parts"].get(name)
        if part:
            lines.append(f"| {name} | {part['tags']} | {_pct(part['mAP'])} | {_pct(part['TaggerNet_mAP_same_tags'])} "
                         f"| {_pct(part['combined_mAP_same_tags'])} |")
    lines += ["", "## Ablation (same photos)", "",
              "| configuration | mAP | suggestions/photo | extra/photo | extra confirmed | precision | recall | "
              "recall gained | precision cost |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row in m["ablation"]:
        lines.append(
            f"| {row['config']} | {_pct(row['mAP'])} | {row['suggestions_per_photo']:.2f} | "
            f"{row['extra_per_photo']:.2f} | {_pct(row['extra_confirmed'])} | {_pct(row['precision'])} | "
            f"{_pct(row['recall'])} | {_pct(row.get('recall_gained'))} | {_pct(row.get('precision_cost'))} |")
    lines += ["", "Precision judges every suggestion (tags outside the vocabulary against all words two captions agree "
              "on); recall is over the vocabulary's labels.", "",
              f"Weak tags (test AP of the whole pipeline < 0.3): {', '.join(m['weak_tags']) or 'none'}.", "",
              "## Per tag (test)", "",
              "| tag | positives | AP TaggerNet | AP combined | threshold | P | R | F1 |",
              "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for row in sorted(card.get("per_tag", []), key=lambda r: -r["positives"]):
        lines.append(f"| {row['tag']} | {row['positives']} | {_pct(row['AP'])} | {_pct(row['AP_combined'])} | "
                     f"{row['threshold']:.2f} | {_pct(row['precision'])} | {_pct(row['recall'])} | "
                     f"{_pct(row['f1'])} |")
    return lines

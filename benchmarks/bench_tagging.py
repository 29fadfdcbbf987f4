"""Tagging throughput on camera-sized photos: per-stage times and photos/s, against a naive baseline in the same run.

    .venv/bin/python benchmarks/bench_tagging.py [--photos 48] [--skip-accuracy] [--backbone NAME --head DIR]

The photos are 12-megapixel JPEGs (4000x3000, quality 90) made from ../shared/photos by upscaling, so decode cost is
what a camera's files cost. The baseline is what a straightforward implementation does: decode every photo at full
size, eager PyTorch backbone with a batch of one, detector on the full-size image, no overlap of decoding and
inference. Both run the same three stages (EfficientNet-Lite0 + YOLOX-nano + GloVe). Figures are ratios against the
baseline measured in this run, because these machines are noisy. ``--backbone efficientnet_lite2 --head DIR`` measures
another backbone with a head trained on its features (``photo-tagger train --backbone ... --out DIR``).
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
sys.path.insert(0, str(REPO))

from photo_tagger.config import Settings  # noqa: E402
from photo_tagger.pipeline.backbones.runtime import Backbone  # noqa: E402
from photo_tagger.pipeline.detector import preprocess  # noqa: E402
from photo_tagger.pipeline.images import load_image  # noqa: E402
from photo_tagger.pipeline.tagger import Tagger  # noqa: E402


def make_camera_photos(folder: Path, count: int) -> list[Path]:
    sources = sorted(p for p in (SHARED / "photos").iterdir() if p.suffix.lower() in {".jpg", ".bmp"})
    paths = []
    for i in range(count):
        source = sources[i % len(sources)]
        target = folder / f"camera_{i:03d}.jpg"
        if i < len(sources):
            image = ImageOps.exif_transpose(Image.open(source)).convert("RGB")
            image.resize((4000, 3000), Image.Resampling.BICUBIC).save(target, quality=90)
        else:  # the same content again under another name: decode cost is what matters
            target.write_bytes(paths[i % len(sources)].read_bytes())
        paths.append(target)
    return paths


def timed(fn, repeat: int = 1) -> float:  # noqa: ANN001
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat


def run_fast(tagger: Tagger, paths: list[Path]) -> float:
    start = time.perf_counter()
    results = list(tagger.tag_paths(paths))
    elapsed = time.perf_counter() - start
    assert all(r.error is None for r in results), [r.error for r in results if r.error]
    return elapsed


def run_naive(tagger: Tagger, eager, paths: list[Path]) -> float:  # noqa: ANN001
    """Full-size decode, eager backbone one photo at a time, detector on the full image, nothing overlapped."""
    thresholds = tagger.settings.thresholds
    start = time.perf_counter()
    for path in paths:
        image = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
        _, probs = eager.run([eager.prepare(image)])
        tags = tagger.hierarchy.tags_for(probs, min_score=thresholds["tagger"])
        tagger.detector.detect([image])
        tagger.glove.expand_batch(tags)
    return time.perf_counter() - start


def stage_times(tagger: Tagger, eager, paths: list[Path]) -> list[tuple[str, float, float]]:  # noqa: ANN001
    """(stage, ms per photo, photos/s) for each stage alone, one photo at a time on the calling thread."""
    sample = paths[: min(12, len(paths))]
    rows = []
    decode_full = statistics.median(timed(lambda p=p: Image.open(p).convert("RGB")) for p in sample)
    decode_draft = statistics.median(timed(lambda p=p: load_image(p, min_side=tagger.min_side)) for p in sample)
    rows += [("decode, full size (baseline)", decode_full), ("decode, draft", decode_draft)]
    images = [load_image(p, min_side=tagger.min_side).image for p in sample]
    crops = [tagger.backbone.prepare(im) for im in images]
    rows.append(
        (
            "resize + crop for backbone",
            statistics.median(timed(lambda im=im: tagger.backbone.prepare(im)) for im in images),
        )
    )
    rows.append(("letterbox for detector", statistics.median(timed(lambda im=im: preprocess(im)) for im in images)))
    tagger.backbone.run(crops[:1])
    rows.append(("backbone, ONNX Runtime, 1 thread (engine)",
                 statistics.median(timed(lambda c=c: tagger.backbone.run([c])) for c in crops)))
    eager.run(crops[:1])
    rows.append(("backbone, eager PyTorch, all cores (baseline)",
                 statistics.median(timed(lambda c=c: eager.run([c])) for c in crops)))
    letterboxed = [preprocess(im) for im in images]
    one = ([letterboxed[0][0]], [letterboxed[0][1]], [images[0].size], [images[0].size])
    tagger.detector.detect_prepared(*one)
    rows.append(
        (
            "detector, ONNX Runtime, 1 thread",
            statistics.median(
                timed(lambda lb=lb, im=im: tagger.detector.detect_prepared([lb[0]], [lb[1]], [im.size], [im.size]))
                for lb, im in zip(letterboxed, images, strict=True)
            ),
        )
    )
    _, probs = tagger.backbone.run(np.stack(crops))
    tags = tagger.hierarchy.tags_for(probs, min_score=tagger.settings.thresholds["tagger"])
    rows.append(("hierarchy tags", timed(lambda: tagger.hierarchy.tags_for(probs, min_score=0.15), 20) / len(crops)))
    rows.append(("GloVe neighbours", timed(lambda: tagger.glove.expand_batch(tags), 20) / len(crops)))
    return [(name, seconds * 1000, 1 / seconds) for name, seconds in rows]


def imagenet_top1(backbone) -> float:  # noqa: ANN001
    folder = SHARED / "data" / "imagenet-sample"
    rows = list(csv.DictReader((folder / "labels.csv").open()))
    crops = [backbone.prepare(load_image(folder / "images" / r["filename"]).image) for r in rows]
    probs = np.concatenate([backbone.run(crops[i : i + 32])[1] for i in range(0, len(crops), 32)])
    return float((probs.argmax(1) == np.array([int(r["class_index"]) for r in rows])).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=48)
    parser.add_argument("--skip-accuracy", action="store_true")
    parser.add_argument("--backbone", help="backbone name (default: the settings' backbone)")
    parser.add_argument("--head", type=Path, help="TaggerNet head folder trained on that backbone's features")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        settings = Settings.from_env(
            {
                "PHOTO_TAGGER_DATA_DIR": str(tmp_path / "data"),
                "PHOTO_TAGGER_CACHE_DIR": str(tmp_path / "cache"),
                "PHOTO_TAGGER_MODELS_DIR": str(SHARED / "models"),
            }
        )
        if args.backbone:
            settings = replace(settings, backbone=args.backbone)
        print(f"making {args.photos} 12-megapixel JPEGs ...", file=sys.stderr)
        paths = make_camera_photos(tmp_path, args.photos)
        tagger = Tagger(settings, head_path=args.head) if args.head else Tagger(settings)
        for notice in tagger.notices:
            print(f"notice: {notice}", file=sys.stderr)
        eager = Backbone.from_settings(settings, "torch")  # eager PyTorch on every core, as a plain script would
        list(tagger.tag_paths(paths[:4]))  # load every model once, outside the timings
        run_naive(tagger, eager, paths[:2])

        fast = run_fast(tagger, paths)
        naive = run_naive(tagger, eager, paths)
        print(
            f"\nEnd to end, {len(paths)} photos of 4000x3000 ({settings.backbone} + TaggerNet head + YOLOX-nano + "
            f"GloVe), {settings.thread_count()} threads\n"
        )
        print("| pipeline | seconds | photos/s | vs baseline |\n|---|---:|---:|---:|")
        print(f"| naive baseline (full decode, eager batch 1) | {naive:.2f} | {len(paths) / naive:.1f} | 1.0x |")
        print(f"| photo-tagger engine | {fast:.2f} | {len(paths) / fast:.1f} | {naive / fast:.1f}x |")

        print("\nPer stage, one photo at a time on the calling thread\n")
        print("| stage | ms/photo | photos/s |\n|---|---:|---:|")
        for name, ms, rate in stage_times(tagger, eager, paths):
            print(f"| {name} | {ms:.2f} | {rate:.0f} |")

        if not args.skip_accuracy:
            fast_top1, eager_top1 = imagenet_top1(tagger.backbone), imagenet_top1(eager)
            print("\nImageNet sample top-1 (309 photos)\n")
            print("| backbone runtime | top-1 |\n|---|---:|")
            print(f"| eager PyTorch fp32 | {eager_top1:.1%} |\n| engine runtime | {fast_top1:.1%} |")


if __name__ == "__main__":
    main()

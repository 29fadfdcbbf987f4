"""What training and the trained head cost: feature extraction, head training, and the head's share of tagging.

    .venv/bin/python benchmarks/bench_training.py [--photos 400]

Runs on the first ``--photos`` Flickr8k photos with a fresh temporary cache, so extraction is measured, not read
back: photos/s for the centre view alone and for the four training views, one epoch of the head on the training
views, and the trained head's inference per photo (NumPy, with the hierarchy and detector evidence merged), which is
what the engine adds to each photo. Extraction is extrapolated to the 7,063 photos of Flickr8k; the head's full
training time is in the model card (``training.head_seconds``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
sys.path.insert(0, str(REPO))

from photo_tagger.config import Settings  # noqa: E402
from photo_tagger.pipeline.backbones.runtime import Backbone  # noqa: E402
from photo_tagger.pipeline.hierarchy import ImageNetHierarchy  # noqa: E402
from photo_tagger.pipeline.taggernet import TaggerNetHead  # noqa: E402
from photo_tagger.training.features import VIEWS, extract_features  # noqa: E402
from photo_tagger.training.head import HeadConfig, train_head  # noqa: E402
from photo_tagger.training.loaders import load_captions  # noqa: E402
from photo_tagger.training.splits import split_dataset  # noqa: E402

FLICKR8K_PHOTOS = 7063


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=400)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env({"PHOTO_TAGGER_CACHE_DIR": tmp, "PHOTO_TAGGER_DATA_DIR": tmp,
                                      "PHOTO_TAGGER_MODELS_DIR": str(SHARED / "models"), "PHOTO_TAGGER_OFFLINE": "1"})
        dataset = load_captions(SHARED / "data" / "flickr8k", limit=args.photos, min_images=5)
        backbone = Backbone.from_settings(settings, threads=settings.thread_count())
        backbone.load()  # compiling the ONNX graph once is not part of extraction
        rows = []
        for label, views, cache in (("centre view", ("centre",), Path(tmp) / "a"), ("4 views", VIEWS, Path(tmp) / "b")):
            started = time.perf_counter()
            features = extract_features(dataset, backbone, cache, views, progress=False)
            seconds = time.perf_counter() - started
            rows.append((f"features, {label}", seconds, len(dataset) / seconds))
        split = split_dataset(dataset)
        targets = dataset.targets()
        x = np.concatenate([features.views[v][split.train] for v in VIEWS])
        y = np.tile(targets[split.train], (len(VIEWS), 1))
        trained = train_head(x, y, features.centre[split.val], targets[split.val],
                             HeadConfig(max_epochs=3, patience=3), threads=settings.thread_count())
        per_epoch = trained.seconds / trained.epochs_run
        head = TaggerNetHead.load()
        hierarchy = ImageNetHierarchy.load()
        one = features.centre[:1]
        scores = hierarchy.scores(features.probs[:1])
        started, count = time.perf_counter(), 300
        for _ in range(count):
            head.tags_for(one, scores, hierarchy.tag_names, [{"dog": 0.9, "person": 0.8}], detector_threshold=0.4)
        inference_ms = (time.perf_counter() - started) / count * 1000

    print(f"{len(dataset)} Flickr8k photos, {settings.thread_count()} threads\n")
    print("| step | seconds | photos/s | Flickr8k (7,063 photos) |\n|---|---:|---:|---:|")
    for name, seconds, rate in rows:
        print(f"| {name} | {seconds:.1f} | {rate:.1f} | {FLICKR8K_PHOTOS / rate / 60:.1f} min |")
    train_rows = len(x)
    print(f"| head, one epoch on {train_rows} rows (4 views), validation included | {per_epoch:.2f} | - | "
          "see the model card (small runs are mostly overhead) |")
    print(f"\ntrained head in the engine (evidence, merge, tags): {inference_ms:.2f} ms per photo")


if __name__ == "__main__":
    main()

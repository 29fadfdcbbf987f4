"""Re-tagging a library after a head update, from stored evidence, against re-running the CNN on every photo.

    .venv/bin/python benchmarks/bench_retag.py                  # 100,000 photos (about 3 minutes in all)
    .venv/bin/python benchmarks/bench_retag.py --photos 20000   # smaller, quicker

The library is real (``Store.open``, the real schema) with synthetic photos whose evidence is realistic: each photo's
features are one of the real photos in ``../shared/photos`` (tagged by the real engine first) with noise added, and
its detections are that photo's real detections. Head version 1 is the shipped head; version 2 is the shipped head
with some per-tag thresholds moved (as a retrained head would move them), so a re-tag gains and loses suggestions.
5 % of the suggestions are accepted and 1 % rejected before the update, and must come out unchanged.

Rows of the table:

- ``re-tag from evidence, dry run``: ``photo-tagger retag`` (compare only);
- ``re-tag from evidence, apply``: ``photo-tagger retag --apply``; the goal is 100,000 photos in <= 30 s;
- ``nothing changed``: running it again, every photo already up to date;
- baselines measured in the same run: the same from-evidence re-tag one photo per transaction (the naive write
  path), and re-tagging through the CNN (decoding and running the networks on each photo, as tagging does),
  both extrapolated from a sample to the library's size.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from photo_tagger.config import Settings  # noqa: E402
from photo_tagger.pipeline.tagger import Tagger, single_threaded_blas  # noqa: E402
from photo_tagger.pipeline.taggernet import CARD_FILE, default_head_dir  # noqa: E402
from photo_tagger.retag import Retagger  # noqa: E402
from photo_tagger.store import Store  # noqa: E402
from photo_tagger.worker import versions_key  # noqa: E402

SHARED = ROOT.parent / "shared"
EASIER, HARDER = ("grass", "tree", "field", "street", "sand"), ("people", "water", "animal", "child")


def second_head(folder: Path) -> Path:
    for item in default_head_dir().iterdir():
        shutil.copy(item, folder / item.name)
    card = json.loads((folder / CARD_FILE).read_text(encoding="utf-8"))
    thresholds, column = card["thresholds"], card["vocabulary"].index
    for tag in EASIER:
        thresholds[column(tag)] *= 0.5
    for tag in HARDER:
        thresholds[column(tag)] = min(0.95, thresholds[column(tag)] * 1.6)
    card["version"] = "taggernet-bench-v2"
    (folder / CARD_FILE).write_text(json.dumps(card), encoding="utf-8")
    return folder


def real_evidence(tagger: Tagger) -> list[tuple[np.ndarray, list]]:
    photos = sorted(p for p in (SHARED / "photos").iterdir() if p.suffix.lower() in (".jpg", ".bmp", ".png"))
    out = []
    for result in tagger.tag_paths(photos, keep_features=True):
        if result.error is None:
            boxes = [[d.label, float(d.score), *map(float, d.box)] for d in result.found or ()]
            out.append((result.features, boxes))
    return out


def build(path: Path, photos: int, tagger: Tagger, seed: int = 8) -> None:
    """Photos with features + detections at head version 1, then their version-1 suggestions and some decisions."""
    rng = np.random.default_rng(seed)
    evidence = real_evidence(tagger)
    versions = tagger.model_versions
    with Store.open(path) as store:
        folder = store.add_folder("/home/user/Pictures")
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    chunk = 10_000
    for start in range(1, photos + 1, chunk):
        ids = range(start, min(start + chunk, photos + 1))
        picks = rng.integers(0, len(evidence), len(ids))
        db.executemany(
            "INSERT INTO photos (id, path, folder_id, size, mtime_ns, content_hash, status, added_at, tagged_at, "
            "model_versions) VALUES (?, ?, ?, 1000, 0, ?, 'tagged', ?, ?, ?)",
            [(i, f"/home/user/Pictures/{i // 1000:03d}/IMG_{i:06d}.jpg", folder.id, f"{i:064x}", now, now,
              json.dumps(versions)) for i in ids])
        rows = []
        for i, pick in zip(ids, picks, strict=True):
            features = evidence[pick][0] * rng.uniform(0.85, 1.15, evidence[pick][0].shape).astype(np.float32)
            rows.append((i, versions["backbone"], features.size, features.astype("<f4").tobytes(), now))
        db.executemany("INSERT INTO features (photo_id, backbone_version, dim, vector, created_at) VALUES (?,?,?,?,?)",
                       rows)
        db.executemany("INSERT INTO detections (photo_id, detector_version, boxes, created_at) VALUES (?,?,?,?)",
                       [(i, versions["detector"], json.dumps(evidence[p][1]), now) for i, p in zip(ids, picks,
                                                                                                    strict=True)])
        db.commit()
    db.close()
    with Store.open(path) as store:
        Retagger(store, tagger).run(apply=True, force=True)  # version-1 suggestions, as the worker would have left
    db = sqlite3.connect(path)
    db.execute("UPDATE photo_tags SET state = 'accepted', decided_at = ? WHERE abs(random()) % 100 < 5", (now,))
    db.execute("UPDATE photo_tags SET state = 'rejected', decided_at = ? WHERE state = 'suggested' "
               "AND abs(random()) % 100 < 1", (now,))
    db.commit()
    db.close()


def decisions_digest(path: Path) -> tuple[int, int]:
    db = sqlite3.connect(path)
    try:
        count = db.execute("SELECT count(*) FROM photo_tags WHERE state != 'suggested'").fetchone()[0]
        digest = db.execute("SELECT sum(id % 1000003) FROM photo_tags WHERE state != 'suggested'").fetchone()[0]
        return count, digest
    finally:
        db.close()


def per_photo_baseline(path: Path, tagger: Tagger, sample: int) -> float:
    """Seconds per photo for the same re-tag written one photo per transaction (``Store.set_suggestions``)."""
    with Store.open(path) as store, single_threaded_blas():
        ids = [photo_id for photo_id, _ in store.tagged_photo_versions()[:sample]]
        batch = store.read_evidence(ids, tagger.model_versions["backbone"], tagger.model_versions["detector"])
        from photo_tagger.retag.engine import detections_from_boxes

        started = time.perf_counter()
        for photo_id, features, boxes in zip(batch.photo_ids, batch.features, batch.boxes, strict=True):
            tags = tagger.tags_from_evidence(features[None, :], [detections_from_boxes(boxes)])[0]
            store.set_suggestions(photo_id, tags, versions_key(tagger.model_versions))
        return (time.perf_counter() - started) / len(batch)


def cnn_baseline(tagger: Tagger, repeat: int = 3) -> float:
    """Seconds per photo to re-tag through the CNN: decode + backbone + detector + the rest, on the real photos."""
    photos = sorted(p for p in (SHARED / "photos").iterdir() if p.suffix.lower() in (".jpg", ".bmp", ".png"))
    list(tagger.tag_paths(photos[:2]))  # warm
    started = time.perf_counter()
    for _ in range(repeat):
        list(tagger.tag_paths(photos))
    return (time.perf_counter() - started) / (repeat * len(photos))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=1000, help="photos timed for the per-photo baseline")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-retag-"))
    try:
        settings = Settings.from_env({"PHOTO_TAGGER_DATA_DIR": str(work / "data"),
                                      "PHOTO_TAGGER_MODELS_DIR": str(SHARED / "models"), "PHOTO_TAGGER_OFFLINE": "1"})
        v1 = Tagger(settings)
        v2 = Tagger(settings, head_path=second_head(Path(tempfile.mkdtemp(dir=work))))
        library = work / "library.sqlite"
        started = time.perf_counter()
        build(library, args.photos, v1)
        print(f"built {args.photos:,} photos at head version 1 in {time.perf_counter() - started:.0f} s", flush=True)
        before = decisions_digest(library)
        rows = []
        with Store.open(library) as store:
            for label, kwargs in (("re-tag from evidence, dry run", {}), ("re-tag from evidence, apply",
                                                                          {"apply": True})):
                started = time.perf_counter()
                diff = Retagger(store, v2).run(**kwargs)
                rows.append((label, time.perf_counter() - started, diff))
            started = time.perf_counter()
            diff = Retagger(store, v2).run(apply=True)
            rows.append(("nothing changed (run again)", time.perf_counter() - started, diff))
        assert decisions_digest(library) == before, "decisions changed"
        per_photo = per_photo_baseline(library, v2, args.sample) * args.photos
        cnn = cnn_baseline(v2) * args.photos
        apply_s = rows[1][1]
        print(f"\n{'':34} {'seconds':>9} {'photos/s':>10} {'vs apply':>9}  what changed")
        for label, seconds, diff in rows:
            print(f"{label:34} {seconds:9.1f} {args.photos / seconds:10,.0f} {seconds / apply_s:8.2f}x  "
                  f"{diff.changed:,} photos, +{diff.gained:,} / -{diff.lost:,} suggestions, "
                  f"{diff.kept_decisions:,} decisions kept, {diff.up_to_date:,} up to date")
        for label, seconds in (("baseline: one photo per transaction", per_photo), ("baseline: through the CNN", cnn)):
            print(f"{label:34} {seconds:9.1f} {args.photos / seconds:10,.0f} {seconds / apply_s:8.2f}x  "
                  f"(extrapolated from a sample)")
        print(f"\ndecisions before and after: {before[0]:,} rows, identical. Goal: apply <= 30 s for 100,000 photos.")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

"""``photo-tagger tag`` and ``photo-tagger models`` run as a user runs them: the installed entry point, real models."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from photo_tagger.pipeline.models import DownloadError, ModelEntry, download_model, manifest_entry


def run_cli(args, settings, extra_env=None, check_rc=0):
    env = dict(os.environ)
    env.update({
        "PHOTO_TAGGER_DATA_DIR": str(settings.data_dir),
        "PHOTO_TAGGER_CACHE_DIR": str(settings.cache_dir),
        "PHOTO_TAGGER_MODELS_DIR": str(settings.models_dir),
        "PHOTO_TAGGER_OFFLINE": "1",
    })
    env.update(extra_env or {})
    done = subprocess.run([sys.executable, "-m", "photo_tagger", *args], capture_output=True, text=True, env=env,
                          timeout=600)
    assert done.returncode == check_rc, done.stderr
    return done


@pytest.mark.slow
def test_tag_json_on_a_folder_with_a_bad_photo(settings, photos, tmp_path):
    folder = tmp_path / "album"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "dog.jpg").write_bytes((photos / "dog.jpg").read_bytes())
    (folder / "giraffe.jpg").write_bytes((photos / "giraffe.jpg").read_bytes())
    (folder / "broken.jpg").write_bytes((photos / "dog.jpg").read_bytes()[:5000])
    (folder / "notes.txt").write_text("not a photo, not listed")
    (folder / ".hidden").mkdir()
    (folder / ".hidden" / "secret.jpg").write_bytes((photos / "dog.jpg").read_bytes())
    done = run_cli(["tag", "--json", str(folder)], settings)
    results = {os.path.relpath(r["path"], folder): r for r in json.loads(done.stdout)}
    assert set(results) == {"broken.jpg", "giraffe.jpg", os.path.join("sub", "dog.jpg")}
    assert "truncated" in results["broken.jpg"]["error"] and results["broken.jpg"]["tags"] == []
    dog = results[os.path.join("sub", "dog.jpg")]
    assert dog["error"] is None
    assert {"dog", "bicycle", "car"} <= {d["label"] for d in dog["detections"]}
    assert all(set(t) >= {"name", "score", "source", "parent"} for t in dog["tags"])
    assert {t["source"] for t in dog["tags"]} >= {"tagger", "detector", "glove"}
    assert all(len(d["box"]) == 4 for d in dog["detections"])


@pytest.mark.slow
def test_tag_table_flags_and_progress_bar(settings, photos):
    done = run_cli(["tag", "--no-detector", "--no-glove", "--min-score", "0.01", "--progress",
                    str(photos / "dog.jpg"), str(photos / "horses.jpg")], settings)
    assert "dog.jpg" in done.stdout and "horses.jpg" in done.stdout
    assert "detector" not in done.stdout and "glove" not in done.stdout
    assert "2/2" in done.stderr  # the progress bar reached the end
    lines = [line for line in done.stdout.splitlines() if line.startswith("   ")]
    assert len(lines) > 20  # --min-score 0.01 lists many tags


def test_usage_errors_exit_2(settings):
    assert "between 0 and 1" in run_cli(["tag", "--min-score", "7", "x.jpg"], settings, check_rc=2).stderr
    run_cli(["tag"], settings, check_rc=2)
    bad = run_cli(["tag", "x.jpg"], settings, {"PHOTO_TAGGER_THRESHOLD_GLOVE": "lots"}, check_rc=2)
    assert "PHOTO_TAGGER_THRESHOLD_GLOVE" in bad.stderr


def test_missing_detector_is_announced_once(settings, photos, tmp_path):
    env = {"PHOTO_TAGGER_MODELS_DIR": str(tmp_path)}
    done = run_cli(["tag", str(photos / "dog.jpg"), str(photos / "eagle.jpg")], settings, env)
    assert done.stderr.count("object detector off") == 1
    assert "dog" in done.stdout


def test_models_lists_what_is_present(settings, tmp_path):
    done = run_cli(["models", "--verify"], settings)
    lines = {line.split()[0]: line for line in done.stdout.splitlines()[1:]}
    assert "present" in lines["yolox_nano"] and "sha256 ok" in lines["yolox_nano"]
    assert "present" in lines["efficientnet_lite0"] and "present" in lines["glove_6b_50d"]
    assert "optional" in lines["resnet50"]
    empty = run_cli(["models"], settings, {"PHOTO_TAGGER_MODELS_DIR": str(tmp_path)})
    assert "MISSING" in [line for line in empty.stdout.splitlines() if "yolox_nano" in line][0]


def test_cli_help_does_not_import_torch_or_qt():
    code = ("import sys; from photo_tagger.cli import build_parser; build_parser(); "
            "print(sorted(m for m in ('torch', 'PySide6', 'onnxruntime') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_download_checks_sha256_and_installs_atomically(shared, tmp_path):
    entry = manifest_entry("yolox_nano")
    local = ModelEntry(**{**entry.__dict__, "url": (shared / "models" / "yolox_nano.onnx").as_uri()})
    seen = []

    class Bar:
        def update(self, n):
            seen.append(n)

        def close(self):
            seen.append("closed")

    path = download_model(local, tmp_path / "models", progress=lambda total, label: Bar())
    assert path.read_bytes() == (shared / "models" / "yolox_nano.onnx").read_bytes()
    assert sum(n for n in seen if n != "closed") == entry.size and seen[-1] == "closed"

    tampered = ModelEntry(**{**local.__dict__, "file": "other.onnx", "sha256": "0" * 64})
    with pytest.raises(DownloadError, match="expected 0000"):
        download_model(tampered, tmp_path / "models")
    assert not (tmp_path / "models" / "other.onnx").exists()
    assert not list((tmp_path / "models").glob("*.part"))

    unreachable = ModelEntry(**{**local.__dict__, "file": "x.onnx", "url": (tmp_path / "nope.onnx").as_uri()})
    with pytest.raises(DownloadError, match="could not download"):
        download_model(unreachable, tmp_path / "models")


def test_a_missing_glove_file_is_a_clear_error_not_a_traceback(settings, photos, tmp_path):
    done = run_cli(["tag", str(photos / "dog.jpg")], settings, {"PHOTO_TAGGER_GLOVE": str(tmp_path / "nope.txt")},
                   check_rc=2)
    assert "nope.txt" in done.stderr and "PHOTO_TAGGER_GLOVE" in done.stderr
    assert "Traceback" not in done.stderr

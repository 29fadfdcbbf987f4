"""One typed settings object for the whole application.

Settings are read once (from ``PHOTO_TAGGER_*`` environment variables, falling back to platformdirs folders) and
passed down explicitly; nothing reads a global. This module imports neither Qt nor torch so the CLI starts fast.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import platformdirs

APP_NAME = "photo-tagger"
ENV_PREFIX = "PHOTO_TAGGER_"
SOURCES = ("tagger", "detector", "glove")

# Per-source suggestion thresholds. A tag below its source's threshold is not suggested. The hierarchy stage sums
# class probabilities, so its scores are already spread out; detector scores are objectness x class confidence,
# where 0.4 keeps the true objects of the sample photos and drops a dog seen twice as dog and cat; a GloVe tag's
# score is similarity x its parent's score, so a neighbour of a weak tag is not worth showing.
DEFAULT_THRESHOLDS: Mapping[str, float] = {"tagger": 0.15, "detector": 0.4, "glove": 0.2}
SIDECAR_NAMINGS = ("append", "replace")  # photo.jpg.xmp, photo.xmp (see photo_tagger.metadata.sidecar)


class SettingsError(ValueError):
    """A setting has a value the application cannot use; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    """Everything configurable, with defaults that suit a desktop user.

    ``models_dir`` holds downloaded model files (the detector ONNX, ResNet-50 weights); ``cache_dir`` holds derived
    files that can always be rebuilt (compiled ONNX graphs, thumbnails).
    """

    data_dir: Path
    cache_dir: Path
    models_dir: Path
    library_path: Path
    backbone: str = "efficientnet_lite0"
    glove_path: Path | None = None
    head_path: Path | None = None  # a TaggerNet head folder to use instead of the library's (PHOTO_TAGGER_HEAD)
    glove_neighbours: int = 2
    glove_min_similarity: float = 0.6
    thresholds: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    threads: int = 0  # 0: one per CPU core
    batch_size: int = 16
    offline: bool = False  # never download model files (tests, air-gapped machines)
    xmp_sidecar: str = "append"  # sidecar naming: "append" photo.jpg.xmp (darktable, digiKam), "replace" photo.xmp
    xmp_auto_write: bool = False  # write a photo's sidecar after each decision on it
    import_keywords: bool = True  # a new photo's XMP/IPTC keywords become user tags

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``PHOTO_TAGGER_*`` variables; unknown values raise :class:`SettingsError`."""
        env = os.environ if env is None else env

        def get(name: str) -> str | None:
            value = env.get(ENV_PREFIX + name)
            return value if value not in (None, "") else None

        data_dir = Path(get("DATA_DIR") or platformdirs.user_data_dir(APP_NAME, appauthor=False))
        cache_dir = Path(get("CACHE_DIR") or platformdirs.user_cache_dir(APP_NAME, appauthor=False))
        thresholds = dict(DEFAULT_THRESHOLDS)
        for source in SOURCES:
            raw = get(f"THRESHOLD_{source.upper()}")
            if raw is not None:
                thresholds[source] = _parse_float(ENV_PREFIX + f"THRESHOLD_{source.upper()}", raw, 0.0, 1.0)
        glove = get("GLOVE")
        return cls(
            data_dir=data_dir,
            cache_dir=cache_dir,
            models_dir=Path(get("MODELS_DIR") or data_dir / "models"),
            library_path=Path(get("LIBRARY") or data_dir / "library.sqlite"),
            backbone=get("BACKBONE") or "efficientnet_lite0",
            glove_path=Path(glove) if glove else None,
            head_path=Path(get("HEAD")) if get("HEAD") else None,
            thresholds=thresholds,
            threads=int(_parse_float(ENV_PREFIX + "THREADS", get("THREADS") or "0", 0, 256)),
            batch_size=int(_parse_float(ENV_PREFIX + "BATCH_SIZE", get("BATCH_SIZE") or "16", 1, 1024)),
            offline=(get("OFFLINE") or "0").lower() in ("1", "true", "yes", "on"),
            xmp_sidecar=_parse_choice(ENV_PREFIX + "XMP_SIDECAR", get("XMP_SIDECAR") or "append", SIDECAR_NAMINGS),
            xmp_auto_write=(get("XMP_AUTO_WRITE") or "0").lower() in ("1", "true", "yes", "on"),
            import_keywords=(get("IMPORT_KEYWORDS") or "1").lower() in ("1", "true", "yes", "on"),
        )

    def with_min_score(self, min_score: float) -> Settings:
        """The same settings with one threshold for every source (``--min-score``)."""
        return replace(self, thresholds={source: min_score for source in SOURCES})

    def thread_count(self) -> int:
        return self.threads or (os.cpu_count() or 1)


def _parse_float(name: str, raw: str, low: float, high: float) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a number") from None
    if not low <= value <= high:
        raise SettingsError(f"{name}={raw!r} must be between {low:g} and {high:g}")
    return value


def _parse_choice(name: str, raw: str, choices: tuple[str, ...]) -> str:
    if raw.lower() not in choices:
        raise SettingsError(f"{name}={raw!r} must be one of {', '.join(choices)}")
    return raw.lower()

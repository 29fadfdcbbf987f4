"""Typed errors raised by the pipeline.

Each error carries the facts a caller needs to act on it (which model, which file, what to do), so the worker
can turn it into a job error and the GUI into a message without parsing strings.
"""

from __future__ import annotations

from pathlib import Path


class PipelineError(Exception):
    """Base class of every error the pipeline raises on purpose."""


class ModelMissingError(PipelineError):
    """A model file is not where the settings say it is.

    ``hint`` tells the user what to do, e.g. "run `photo-tagger models download`".
    """

    def __init__(self, name: str, path: Path | str, hint: str) -> None:
        self.name = name
        self.path = Path(path)
        self.hint = hint
        super().__init__(f"model {name!r} not found at {self.path}: {hint}")


class ModelLoadError(PipelineError):
    """A model file exists but the runtime cannot load it (corrupt, truncated, or not a model at all).

    The usual cure is to delete the file and download it again; the model cache does that once, then gives up.
    """

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"cannot load model file {self.path}: {reason}")

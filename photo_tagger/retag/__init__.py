"""Re-tagging a library after a model update: the diff, and applying it from stored evidence or through the CNN."""

from .diff import RetagDiff, TagDiff
from .engine import Retagger

__all__ = ["RetagDiff", "Retagger", "TagDiff"]

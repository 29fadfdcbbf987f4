"""photo-tagger: tag personal photos offline and find them again by tag."""

__version__ = "0.1.0"

"""One small hierarchy of typed errors; the CLI maps them to messages and exit codes."""
from __future__ import annotations


class ClairvoyanceError(Exception):
    """Base class of every error Clairvoyance raises on purpose."""


class ImageLoadError(ClairvoyanceError):
    """A file could not be read as an image (corrupt, truncated, unsupported, too large)."""


class UnknownModelError(ClairvoyanceError, ValueError):
    """A model or detector name that is not registered; the message lists the valid names."""

    def __init__(self, kind: str, name: str, valid: list[str]):
        self.kind, self.name, self.valid = kind, name, valid
        super().__init__(f"unknown {kind} {name!r}; choose one of: {', '.join(sorted(valid))}")


class ModelFileError(ClairvoyanceError):
    """A model file exists but cannot be loaded (wrong format, unknown architecture)."""

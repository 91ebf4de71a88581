"""Clairvoyance: identify the people in your photos, score each face's focus, noise and lighting,
keep the photos that pass and correct the ones that fail.

    >>> from clairvoyance import Clairvoyance
    >>> result = Clairvoyance(tolerances=(0.5, 0.5, 0.5), input_dir="shoot/").run()

Nothing heavy happens at import time: models load on first use.
"""
from __future__ import annotations

from .errors import ClairvoyanceError, ImageLoadError, ModelFileError, UnknownModelError
from .types import AXES, Box, Face, FaceResult, ImageResult, Scores, Tolerances

__version__ = "0.1.0"


def __getattr__(name: str):
    # Lazy: importing the package must not import torch or OpenCV.
    if name in ("Clairvoyance", "RunResult"):
        from . import pipeline
        return getattr(pipeline, name)
    if name == "identify":
        from .detection import identify
        return identify
    if name == "read_photo":
        from .images import read_photo
        return read_photo
    raise AttributeError(name)


__all__ = ["Clairvoyance", "RunResult", "identify", "read_photo", "AXES", "Box", "Face", "FaceResult",
           "ImageResult", "Scores", "Tolerances", "ClairvoyanceError", "ImageLoadError", "ModelFileError",
           "UnknownModelError"]

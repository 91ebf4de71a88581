"""The detector contract: RGB uint8 array in, boxes with confidences out."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Detection:
    """A face box in the pixel coordinates of the array given to ``Detector.detect``."""

    x: float
    y: float
    w: float
    h: float
    confidence: float


class Detector:
    """Base class of face detectors. Subclasses set ``name`` and implement ``detect``."""

    name: str = "base"
    #: Confidence below which detections are dropped when the caller gives none.
    default_confidence: float = 0.5

    def detect(self, rgb: np.ndarray, min_confidence: float | None = None) -> list[Detection]:
        raise NotImplementedError

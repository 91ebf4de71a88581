"""OpenCV's Viola-Jones cascade with haarcascade_frontalface_alt, as the 2018 report used."""
from __future__ import annotations

import cv2
import numpy as np

from .base import Detection, Detector


class HaarDetector(Detector):
    """Frontal faces only; fast, but misses profiles and small or dim faces.

    ``min_neighbors`` trades recall for precision (higher = fewer false faces).
    """

    name = "haar"
    default_confidence = 0.0

    def __init__(self, min_neighbors: int = 4, scale_factor: float = 1.1):
        path = cv2.data.haarcascades + "haarcascade_frontalface_alt.xml"
        self._cascade = cv2.CascadeClassifier(path)
        if self._cascade.empty():
            raise RuntimeError(f"cannot load Haar cascade from {path}")
        self.min_neighbors, self.scale_factor = min_neighbors, scale_factor

    def detect(self, rgb: np.ndarray, min_confidence: float | None = None) -> list[Detection]:
        gray = cv2.equalizeHist(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
        min_side = max(20, min(gray.shape) // 40)
        boxes, _, weights = self._cascade.detectMultiScale3(
            gray, scaleFactor=self.scale_factor, minNeighbors=self.min_neighbors,
            minSize=(min_side, min_side), outputRejectLevels=True)
        out = []
        for (x, y, w, h), wt in zip(boxes, np.ravel(weights) if len(boxes) else []):
            conf = float(1 / (1 + np.exp(-float(wt))))  # squash the cascade's level weight to (0, 1)
            if min_confidence is None or conf >= min_confidence:
                out.append(Detection(float(x), float(y), float(w), float(h), conf))
        return out

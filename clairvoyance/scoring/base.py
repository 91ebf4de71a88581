"""The quality-model contract: a batch of 256x256 face crops in, one Scores per crop out."""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from ..types import AXES, Face, Scores

#: A whole image passes an axis when its best areas do: the mean of the best quarter of its tiles,
#: per axis. A scene's subject (a sharp flower before a soft background, a lit face of rock beside a
#: shadow) rarely fills the frame, and texture (foliage, a brick wall) reads as grain where a flat
#: sky does not; sensor grain and a global focus or exposure miss spoil every area alike.
SCENE_BEST_SHARE = 0.25


def best_share(tile_scores: np.ndarray, share: float = SCENE_BEST_SHARE) -> np.ndarray:
    """Per axis, the mean of the best ``share`` of the rows of an N x 3 array (at least one row)."""
    k = max(1, int(math.ceil(len(tile_scores) * share - 1e-9)))
    return np.sort(tile_scores, axis=0)[-k:].mean(0)


class QualityModel:
    """Base class of quality models (classical or learned), registered by name in ``scoring``."""

    name: str = "base"
    version: str = "0"

    @property
    def label(self) -> str:
        """``name@version``, as written in reports and caches."""
        return f"{self.name}@{self.version}"

    def predict(self, crops: Sequence[np.ndarray], native_sizes: Sequence[int] | None = None) -> list[Scores]:
        """Score each HxWx3 uint8 RGB crop. ``native_sizes`` are the sides in original pixels the
        crops were resized from (a face smaller than 256 px is upscaled, not blurred)."""
        raise NotImplementedError

    def predict_array(self, crops: Sequence[np.ndarray], batch: int = 32,
                      native_sizes: Sequence[int] | None = None) -> np.ndarray:
        """Scores of many crops as an N x 3 array (focus, noise, lighting), predicted in batches."""
        sizes = [int(n) for n in native_sizes] if native_sizes is not None else [256] * len(crops)
        rows = [[s.focus, s.noise, s.lighting] for i in range(0, len(crops), batch)
                for s in self.predict(list(crops[i : i + batch]), sizes[i : i + batch])]
        return np.array(rows, dtype=float).reshape(-1, 3)

    def score_faces(self, faces: Sequence[Face], batch: int = 32) -> list[Scores]:
        """Scores of each subject: a face from its crop; a whole image with ``tiles`` from its best
        areas (``best_share``), so that a sharp, clean scene is not judged on one reduced square."""
        crops: list[np.ndarray] = []
        sizes: list[int] = []
        spans = []
        for f in faces:
            tiled = f.whole_image and f.tiles is not None and len(f.tiles) > 0
            parts = list(f.tiles) if tiled else [f.crop]
            spans.append((len(crops), len(crops) + len(parts)))
            crops += parts
            sizes += [256] * len(parts) if tiled else [f.native_size]
        rows = self.predict_array(crops, batch, sizes)
        return [Scores(**dict(zip(AXES, (float(v) for v in best_share(rows[a:b]))))) for a, b in spans]

"""The quality-model contract: a batch of 256x256 face crops in, one Scores per crop out."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..types import Scores


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

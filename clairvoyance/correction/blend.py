"""Pasting a corrected region back into the full photo without a seam."""
from __future__ import annotations

import numpy as np

from ..types import Box


def feather_mask(h: int, w: int, feather: float = 0.15) -> np.ndarray:
    """1 in the middle, falling smoothly to exactly 0 on the border over ``feather`` of each side."""
    def ramp(n: int) -> np.ndarray:
        t = np.arange(n) / max(n - 1, 1)
        edge = np.minimum(t, 1 - t) / max(feather, 1e-6)
        e = np.clip(edge, 0, 1)
        return e * e * (3 - 2 * e)  # smoothstep
    return np.outer(ramp(h), ramp(w)).astype(np.float32)


def paste_back(photo: np.ndarray, patch: np.ndarray, where: Box, feather: float = 0.15) -> np.ndarray:
    """A copy of ``photo`` with ``patch`` blended into ``where`` (same size as the patch).

    Pixels on the border of ``where`` and outside it are unchanged, so no seam can show.
    """
    out = photo.copy()
    region = out[where.y : where.y + where.h, where.x : where.x + where.w]
    m = feather_mask(region.shape[0], region.shape[1], feather)[..., None]
    mixed = patch.astype(np.float32) * m + region.astype(np.float32) * (1 - m)
    out[where.y : where.y + where.h, where.x : where.x + where.w] = np.clip(mixed + 0.5, 0, 255).astype(np.uint8)
    return out

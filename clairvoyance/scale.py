"""What a score means: the one calibrated scale shared by labels, classical scores and the docs.

Every axis maps a physical degradation strength ``x`` to a score with the same monotone curve
``score = 1 / (1 + (x / x50) ** k)``: 1 for a perfect face, 0.5 at the edge of acceptable
(Appendix A of the 2018 report), towards 0 for unusable. Anchors, on the 256x256 face crop:

* focus:    Gaussian-equivalent blur sigma (px). sigma <= 0.5 -> >= 0.8, 1 -> 0.5, >= 2 -> <= 0.2
* noise:    noise standard deviation (8-bit levels). <= 2 -> >= 0.8, 8 -> 0.5, >= 20 -> <= 0.2
* lighting: exposure error |EV| (stops). <= 0.3 -> >= 0.8, 1 -> 0.5, >= 2 -> <= 0.2
"""
from __future__ import annotations

import math

#: axis -> (x50, k): the strength that scores 0.5 and the steepness of the curve.
CURVES: dict[str, tuple[float, float]] = {
    "focus": (1.0, 2.5),
    "noise": (8.0, 2.0),
    "lighting": (1.0, 2.5),
}


def score_from_strength(axis: str, x: float) -> float:
    """Score in [0, 1] for a degradation of strength ``x`` (>= 0) on ``axis``."""
    x50, k = CURVES[axis]
    x = max(0.0, float(x))
    return 1.0 / (1.0 + (x / x50) ** k)


def strength_from_score(axis: str, score: float) -> float:
    """Inverse of :func:`score_from_strength`: the strength that gives ``score`` (in (0, 1])."""
    x50, k = CURVES[axis]
    s = min(max(float(score), 1e-6), 1.0)
    if s >= 1.0:
        return 0.0
    return x50 * ((1.0 / s) - 1.0) ** (1.0 / k)


def blur_sigma_from_disk(radius: float) -> float:
    """Gaussian-equivalent sigma of a defocus disk of ``radius`` px (the disk's per-axis std)."""
    return radius / 2.0


def blur_sigma_from_motion(length: float) -> float:
    """Gaussian-equivalent sigma of linear motion blur of ``length`` px (a box's std)."""
    return length / math.sqrt(12.0)

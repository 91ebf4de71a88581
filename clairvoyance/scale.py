"""What a score means: the one calibrated scale shared by labels, classical scores and the docs.

Every axis maps a physical degradation strength ``x`` to a score with the same monotone curve
``score = 1 / (1 + (x / x50) ** k)``: 1 for a perfect face, 0.5 at the edge of acceptable
(Appendix A of the 2018 report), towards 0 for unusable. Anchors, on the 256x256 face crop:

* focus:    Gaussian-equivalent blur sigma (px). sigma <= 0.5 -> >= 0.8, 1 -> 0.5, >= 2 -> <= 0.2
* noise:    noise standard deviation (8-bit levels). <= 2 -> >= 0.8, 8 -> 0.5, >= 20 -> <= 0.2;
            compression artefacts count ``COMPRESSION_WEIGHT`` times their RMS (below)
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

#: How much more a level of JPEG/codec error counts than a level of grain. Blocks and ringing are
#: structured (8x8 edges, halos at every contour) and plainly visible at an RMS that would be faint
#: grain: by RMS alone a 256 px face saved at JPEG quality 10 scores 0.5. Weighted 1.75, quality ~35
#: (where blocks and ringing become plain on a face at 100%) scores 0.5 and quality >= 90 stays >= 0.8.
COMPRESSION_WEIGHT = 1.75


def noise_strength(grain: float, total: float) -> float:
    """The noise strength of a face whose grain alone measures ``grain`` and whose grain plus
    compression measure ``total`` (both RMS against the clean face, 8-bit levels): compression's
    share of the error counts ``COMPRESSION_WEIGHT`` times. Compression that smooths grain away
    (``total`` < ``grain``) adds nothing and takes nothing off."""
    extra = math.sqrt(max(float(total) ** 2 - float(grain) ** 2, 0.0))
    return math.hypot(float(grain), COMPRESSION_WEIGHT * extra)


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
    """Gaussian-equivalent sigma of linear motion blur of ``length`` px: the isotropic Gaussian with
    the same total second moment (a box's variance L^2/12 along the motion, none across, shared by
    two axes), as for the disk. A face keeps 1.0-1.45x the gradient energy that Gaussian leaves it
    (the cross direction stays sharp), against up to 2x under the along-streak std L/sqrt(12)."""
    return length / math.sqrt(24.0)

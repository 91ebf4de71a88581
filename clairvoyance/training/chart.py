"""The calibration chart (Figure 3 of the 2018 report): one real face degraded to labels 0, 0.25,
0.5, 0.75 and 1 on each axis, so that every labeller judges on the same scale.

Each reference crop is made with the same degradations and the same strength-to-label curves as the
synthetic training labels (``clairvoyance.degrade``, ``clairvoyance.scale``), so a label given by eye
against the chart means what the model's label means. Label 0 is drawn at score 0.05: the curves
reach 0 only at infinite strength.

The face is scikit-image's ``astronaut`` (Eileen Collins, a NASA photo in the public domain), cut
by the pipeline's detector and shipped as ``chart-face.png`` so the chart needs no extra package.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .. import degrade, scale

LEVELS: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0)
#: The score label 0 is drawn at.
FLOOR = 0.05
FACE_FILE = Path(__file__).resolve().parent / "chart-face.png"


@dataclass(frozen=True)
class Row:
    """One row of the chart: an axis, and for lighting which way the exposure goes."""

    key: str
    axis: str
    title: str
    unit: str


ROWS: tuple[Row, ...] = (
    Row("focus", "focus", "focus (blur)", "blur σ px"),
    Row("noise", "noise", "noise", "noise σ levels"),
    Row("lighting-under", "lighting", "lighting (under-exposed)", "EV"),
    Row("lighting-over", "lighting", "lighting (over-exposed)", "EV"),
)
ROW_KEYS = {r.key: r for r in ROWS}


@lru_cache(maxsize=1)
def reference_face() -> np.ndarray:
    """The chart's clean 256x256 face crop (RGB uint8)."""
    from PIL import Image

    with Image.open(FACE_FILE) as im:
        return np.asarray(im.convert("RGB"))


def target_strength(axis: str, level: float) -> float:
    """The degradation strength that the scale maps to ``level`` (label 0 drawn at ``FLOOR``)."""
    return scale.strength_from_score(axis, max(level, FLOOR))


def _solve(measure, target: float, lo: float, hi: float, steps: int = 16) -> float:
    """The parameter in [lo, hi] whose measured strength is ``target`` (measure grows with it)."""
    for _ in range(steps):
        mid = (lo + hi) / 2
        if measure(mid) < target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


@lru_cache(maxsize=64)
def chart_crop(row_key: str, level: float) -> tuple[np.ndarray, float]:
    """The reference face degraded to ``level`` on the row's axis, and the strength used (in the row's unit;
    negative EV for under-exposure)."""
    row = ROW_KEYS[row_key]
    face = reference_face()
    x = target_strength(row.axis, level)
    if x <= 0:
        return face.copy(), 0.0
    if row.axis == "focus":
        return degrade.gaussian_blur(face, x), x
    if row.axis == "noise":
        rng = lambda: np.random.default_rng(7)  # the same grain at every level
        sigma = _solve(lambda s: degrade.noise_level(face, degrade.sensor_noise(face, s, rng())), x, 0.0, 4 * x + 5)
        return degrade.sensor_noise(face, sigma, rng()), x
    sign = -1.0 if row.key.endswith("under") else 1.0
    mask = degrade.face_mask(256) > 0.5
    ev = _solve(lambda e: degrade.exposure_error(face, degrade.exposure(face, sign * e), mask), x, 0.0, 8.0)
    return degrade.exposure(face, sign * ev), sign * x

"""The classical quality back-end: hand-made measures, the baseline learned models must beat.

* focus: variance of the Laplacian over the face, normalised by the face's contrast, at the face's
  native resolution (an upscaled small face is not penalised for the upscaling);
* noise: a wavelet estimate (median absolute finest-scale diagonal Haar coefficient / 0.6745, per
  channel), which texture such as hair and fabric inflates;
* lighting: mean linear luminance of the face against a calibrated target, plus clipped pixels.

Each measure is turned into a strength on the axis's physical scale and mapped to [0, 1] with the
curves of ``clairvoyance.scale``. Constants were fitted on sharp studio faces (scripts/calibrate_classical.py).
"""
from __future__ import annotations

import math
from functools import lru_cache
from typing import Sequence

import cv2
import numpy as np

from .. import scale
from ..degrade import face_mask, srgb_to_linear
from ..types import Scores
from .base import QualityModel

# Fitted by scripts/calibrate_classical.py on Face Research Lab London crops.
#: log10 of the normalised Laplacian variance of a face blurred to sigma = 1 px, and its slope per
#: log2(sigma) (fitted on sigma = 1..3 px).
FOCUS_LOG_AT_SIGMA1 = -1.889
FOCUS_SLOPE = -0.526
#: Linear mean face luminance that counts as exposed right (an 18%-grey-like target for skin).
TARGET_LUMINANCE = 0.200


@lru_cache(maxsize=4)
def _mask(size: int) -> np.ndarray:
    return face_mask(size) > 0.5


def focus_sigma(crop: np.ndarray, native: int = 256) -> float:
    """Estimated Gaussian-equivalent blur sigma, in 256-crop pixels."""
    size = int(min(256, max(32, native)))
    g = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY).astype(np.float32)
    if size < g.shape[0]:
        g = cv2.resize(g, (size, size), interpolation=cv2.INTER_AREA)
    m = _mask(g.shape[0])
    lap = cv2.Laplacian(g, cv2.CV_32F, ksize=1)
    energy = float(lap[m].var()) / max(float(g[m].var()), 1.0)
    log_e = math.log10(max(energy, 1e-8))
    # log energy falls linearly in log2(sigma) once blur dominates the face's own sharpness
    log2_sigma = (log_e - FOCUS_LOG_AT_SIGMA1) / FOCUS_SLOPE
    sigma_native = 2.0 ** log2_sigma
    return sigma_native * 256.0 / size if size < 256 else sigma_native


def noise_sigma(crop: np.ndarray) -> float:
    """Wavelet (Donoho) noise estimate in 8-bit levels, averaged over channels, on the face."""
    x = crop.astype(np.float32)
    h, w = (x.shape[0] // 2) * 2, (x.shape[1] // 2) * 2
    x = x[:h, :w]
    hh = (x[0::2, 0::2] - x[0::2, 1::2] - x[1::2, 0::2] + x[1::2, 1::2]) / 2.0
    m = _mask(h)[0::2, 0::2]
    return float(np.mean([np.median(np.abs(hh[..., c][m])) / 0.6745 for c in range(3)]))


def exposure_stops(crop: np.ndarray) -> float:
    """Exposure error in stops (|EV|) of the face, plus a penalty for clipped pixels."""
    lin = srgb_to_linear(crop)
    lum = lin @ np.array([0.2126, 0.7152, 0.0722], np.float32)
    face = lum[_mask(lum.shape[0])]
    ev = math.log2(max(float(np.exp(np.log(face + 1e-4).mean())), 1e-4) / TARGET_LUMINANCE)
    clipped = float(np.mean((face > 0.985) | (face < 0.0015)))
    return abs(ev) + 3.0 * clipped


class ClassicalModel(QualityModel):
    """Hand-made measures mapped to the calibrated scale; no training, no weights."""

    name = "classical"
    version = "1"

    def predict(self, crops: Sequence[np.ndarray], native_sizes: Sequence[int] | None = None) -> list[Scores]:
        natives = list(native_sizes) if native_sizes is not None else [256] * len(crops)
        return [
            Scores(
                focus=scale.score_from_strength("focus", focus_sigma(c, n)),
                noise=scale.score_from_strength("noise", noise_sigma(c)),
                lighting=scale.score_from_strength("lighting", exposure_stops(c)),
            )
            for c, n in zip(crops, natives)
        ]

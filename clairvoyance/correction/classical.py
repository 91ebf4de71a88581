"""Classical correctors: exposure curve, non-local-means denoising, deconvolution + unsharp mask.

Each estimates its strength with the classical quality measures, so a well-exposed, clean or
sharp input is left nearly unchanged.
"""
from __future__ import annotations

import cv2
import numpy as np

from ..degrade import linear_to_srgb, srgb_to_linear
from ..scoring import classical as measure
from .base import Corrector


def exposure_correct(image: np.ndarray, reference: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """Shift exposure so the face's mean linear luminance meets the target, with a soft shoulder."""
    lin_ref = srgb_to_linear(reference) @ np.array([0.2126, 0.7152, 0.0722], np.float32)
    face = lin_ref[measure._mask(lin_ref.shape[0])]
    g = float(np.exp(np.log(face + 1e-4).mean()))
    gain = float(np.clip(measure.TARGET_LUMINANCE / max(g, 1e-4), 1 / 16, 16))
    lin = srgb_to_linear(image) * gain
    if gain < 1:  # darkening cannot restore clipped highlights; lift them off pure white smoothly
        return linear_to_srgb(lin)
    knee = 0.8  # roll highlights off above the knee instead of clipping them
    over = lin > knee
    lin[over] = knee + (1 - knee) * (1 - np.exp(-(lin[over] - knee) / (1 - knee)))
    return linear_to_srgb(lin)


def denoise(image: np.ndarray, reference: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """Non-local means with a filter strength set by the measured noise level."""
    sigma = measure.noise_sigma(reference)
    h = float(np.clip(sigma * 0.9, 3, 30))
    return cv2.fastNlMeansDenoisingColored(image, None, h, h * 0.8, 7, 21)


def sharpen(image: np.ndarray, reference: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """Richardson-Lucy deconvolution with a Gaussian PSF of the measured blur, then a light unsharp mask.

    The PSF sigma is measured on the 256 px crop and scaled to ``image``'s resolution by ``scale``.
    """
    sigma = min(measure.focus_sigma(reference), 4.0) * scale
    if sigma < 0.3:
        return image.copy()
    lin = srgb_to_linear(image)
    est = lin.copy()
    blur = lambda x: cv2.GaussianBlur(x, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    for _ in range(12):
        ratio = lin / np.maximum(blur(est), 1e-4)
        est = np.clip(est * blur(ratio), 0, 1.0)
    soft = cv2.GaussianBlur(est, (0, 0), max(0.8, sigma / 2))
    est = est + 0.3 * (est - soft)
    return linear_to_srgb(est)


class ClassicalCorrector(Corrector):
    name = "classical"
    version = "1"

    def correct_axis(self, image: np.ndarray, axis: str, reference: np.ndarray, scale: float) -> np.ndarray:
        fn = {"lighting": exposure_correct, "noise": denoise, "focus": sharpen}[axis]
        return fn(image, reference, scale)

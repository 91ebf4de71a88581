"""Does a model take a photographer's look for a defect?

Good photos leave the editor with a look: faded blacks (a matte, film-like finish), an S-curve,
local contrast (an HDR or "clarity" slider), a vignette, smoothed skin, less or more colour. None
of these is in the ladder, and a culling tool that rejects a keeper for its style costs the
photographer a picture. This sends the clean test-split faces of DATA_DIR through each look, at
the strengths an editor's sliders reach, and prints the lighting label the ladder would give them
(the measured exposure error, ``degrade.exposure_error``: a matte finish flattens the face a
little), how much the look raises the face's fine texture (the RMS of its luminance minus a 1 px
Gaussian blur of it, as a ratio to the face as it was: grain and pores), then each model's median
focus, noise and lighting scores and the share passing under the default rule ``budget`` (in
brackets ``per-axis``).

Where the scale itself counts a look, a lower score is right: a strong matte finish flattens the
face, which the lighting label counts, and local contrast raises whatever grain the face has.

Usage: python scripts/probe_looks.py DATA_DIR [--model NAME ...]
"""
from __future__ import annotations

import cv2
import numpy as np

from clairvoyance import degrade
from clairvoyance.training.probe import lighting_label, pass_rates, probe_setup


def matte(img: np.ndarray, black: float) -> np.ndarray:
    """Blacks lifted to ``black`` (of white), the whites kept: a faded, film-like finish."""
    return _to_uint8(black + (1.0 - black) * img / 255.0)


def s_curve(img: np.ndarray, gain: float) -> np.ndarray:
    """Mid-tone contrast raised by ``gain`` around middle grey, in sRGB, as a tone curve does."""
    return _to_uint8(0.5 + (img / 255.0 - 0.5) * gain)


def vignette(img: np.ndarray, stops: float) -> np.ndarray:
    """Corners darkened by ``stops`` in linear light, smoothly from the middle."""
    yy, xx = (np.mgrid[:256, :256] + 0.5) / 256 - 0.5
    falloff = np.exp2(-stops * (xx**2 + yy**2) / 0.5).astype(np.float32)[..., None]
    return degrade.linear_to_srgb(degrade.srgb_to_linear(img) * falloff)


def smooth_skin(img: np.ndarray, strength: float, face: np.ndarray) -> np.ndarray:
    """A beauty filter: an edge-keeping (bilateral) smoothing on the face, the rest untouched."""
    return degrade.blend(cv2.bilateralFilter(img, 0, strength, strength / 8), img, face)


def saturation(img: np.ndarray, factor: float) -> np.ndarray:
    """Colour scaled by ``factor`` around each pixel's grey (0: black and white)."""
    grey = cv2.cvtColor(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB).astype(np.float32)
    return _to_uint8((grey + factor * (img - grey)) / 255.0)


def fine_texture(img: np.ndarray, mask: np.ndarray) -> float:
    """RMS of the face's luminance minus its 1 px Gaussian blur (grain, pores, fine detail)."""
    lum = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)
    return float(np.sqrt(np.mean((lum - cv2.GaussianBlur(lum, (0, 0), 1.0))[mask] ** 2)))


def _to_uint8(x: np.ndarray) -> np.ndarray:
    return np.clip(x * 255.0 + 0.5, 0, 255).astype(np.uint8)


def main() -> None:
    crops, models, mask = probe_setup(__doc__)
    print(f"{len(crops.images)} clean test-split faces with a photographer's look")
    soft_face = degrade.face_mask(256, 0.25, 0.1)
    looks = {
        "as they are": lambda c: c,
        "matte, blacks at 8%": lambda c: matte(c, 0.08),
        "matte, blacks at 15%": lambda c: matte(c, 0.15),
        "S-curve, contrast x1.3": lambda c: s_curve(c, 1.3),
        "local contrast, CLAHE 2": lambda c: degrade.local_contrast(c, 2.0),
        "local contrast, CLAHE 4": lambda c: degrade.local_contrast(c, 4.0),
        "vignette, corners -1 stop": lambda c: vignette(c, 1.0),
        "skin smoothed, 40": lambda c: smooth_skin(c, 40.0, soft_face),
        "skin smoothed, 80": lambda c: smooth_skin(c, 80.0, soft_face),
        "half the colour": lambda c: saturation(c, 0.5),
        "colour x1.5": lambda c: saturation(c, 1.5),
    }
    for name, look in looks.items():
        x = np.stack([look(c) for c in crops.images])
        label = lighting_label(crops.images, x, mask)
        texture = np.median([fine_texture(s, mask) / max(fine_texture(c, mask), 1e-3)
                             for c, s in zip(crops.images, x)])
        line = f"{name:26s} lighting label {label:.2f}, fine texture x{texture:.2f}"
        for m in models:
            scores = m.predict_array(x, batch=32, native_sizes=crops.natives)
            med = np.median(scores, axis=0)
            line += (f" | {m.label} focus {med[0]:.2f} noise {med[1]:.2f} lighting {med[2]:.2f},"
                     f" pass {pass_rates(scores)}")
        print(line)


if __name__ == "__main__":
    main()

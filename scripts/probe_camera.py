"""Does the quality model judge a camera's own blur and grain, which its training never drew?

The ladder blurs with discs, Gaussians and straight streaks, and adds grain pixel by pixel. A
hand-held camera's shake is a curved path (``degrade.shake_kernel``), and a sensor's grain is added
on the raw mosaic and then demosaiced, which clumps it and colours it in blotches
(``degrade.raw_noise``); a camera then denoises and saves a JPEG. This sends the clean test-split
faces of DATA_DIR through each such trip at strengths around the edge, labels them on the one
scale (shake: ``degrade.kernel_sigma`` of the path's kernel; grain: its RMS, the camera's JPEG
counted as ``scale.noise_strength`` counts compression) and prints, per trip, the median label and
the share of faces it passes, then each model's median score on that axis, its pass share and its
accuracy (the faces on the label's side of the 0.5 edge). A straight streak of the same strength
is the control: the ladder's own kind. A model that learnt blur and grain, not the ladder's
kernels, scores both alike.

Usage: python scripts/probe_camera.py DATA_DIR [--model NAME ...]
"""
from __future__ import annotations

import math

import numpy as np

from clairvoyance import degrade, scale
from clairvoyance.training.probe import probe_setup

#: Gaussian-equivalent blur sigmas (px on the 256 crop) around the focus edge (1 px).
SHAKES = [0.5, 0.8, 1.0, 1.3, 2.0]
#: Raw shot-noise gains: from none (a control) to grain past the noise edge.
GAINS = [0.0, 0.0005, 0.001, 0.002, 0.004, 0.008, 0.016]
#: A camera's own processing after the grain: edge-preserving denoising, then JPEG at this quality.
CAMERA_JPEG = 90


def shaken(img: np.ndarray, sigma: float, rng: np.random.Generator, straight: bool) -> tuple[np.ndarray, float]:
    """The face blurred by a shake path (or, ``straight``, a streak at a random angle) and its
    focus label."""
    k = (degrade.motion_kernel(sigma * math.sqrt(24.0), rng.uniform(0, 180)) if straight
         else degrade.shake_kernel(sigma, rng))
    return degrade.convolve(img, k), scale.score_from_strength("focus", degrade.kernel_sigma(k))


def grained(img: np.ndarray, gain: float, rng: np.random.Generator, camera: bool) -> tuple[np.ndarray, float]:
    """The face with raw sensor grain (and, ``camera``, the camera's denoising and JPEG) and its
    noise label, measured against the face through the same processing."""
    noisy, ref = degrade.raw_noise(img, gain, rng), img
    if not camera:
        return noisy, scale.score_from_strength("noise", degrade.noise_level(ref, noisy))
    denoise = lambda a: degrade.smooth_texture(a, 5, 25.0)
    noisy, ref = denoise(noisy), denoise(ref)
    out = degrade.jpeg(noisy, CAMERA_JPEG)
    strength = scale.noise_strength(degrade.noise_level(ref, noisy), degrade.noise_level(ref, out))
    return out, scale.score_from_strength("noise", strength)


def report(name: str, axis: int, faces: list[tuple[np.ndarray, float]], models: list) -> str:
    """One line: the trip's labels, then each model's scores on ``axis`` against them."""
    x = np.stack([f[0] for f in faces])
    labels = np.array([f[1] for f in faces])
    line = f"{name:34s} label {np.median(labels):.2f} pass {(labels >= 0.5).mean():4.0%}"
    for m in models:
        p = m.predict_array(x, batch=32, native_sizes=np.full(len(x), 256))[:, axis]
        right = ((p >= 0.5) == (labels >= 0.5)).mean()
        line += f" | {m.label} {np.median(p):.2f} pass {(p >= 0.5).mean():4.0%} right {right:4.0%}"
    return line


def main() -> None:
    crops, models, _ = probe_setup(__doc__)
    rng = np.random.default_rng(0)
    print(f"{len(crops.images)} clean test-split faces; a face passes an axis at >= 0.5")
    for sigma in SHAKES:
        for straight in (False, True):
            kind = "streak (ladder's kind)" if straight else "shake path"
            faces = [shaken(img, sigma, rng, straight) for img in crops.images]
            print(report(f"focus: {kind} {sigma} px", 0, faces, models))
    for camera in (False, True):
        for gain in GAINS:
            kind = "raw grain, denoised, JPEG" if camera else "raw grain"
            faces = [grained(img, gain, rng, camera) for img in crops.images]
            print(report(f"noise: {kind} {gain:g}", 1, faces, models))


if __name__ == "__main__":
    main()

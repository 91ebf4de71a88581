"""How good is a corrector? PSNR/SSIM gain, colour shift and IQA verdicts on held-out pairs.

Pairs are test-split faces (people never used in training) degraded on one axis with
``gan_data.degrade_axis``; the corrector sees the degraded 256 px crop as a face crop.
"""
from __future__ import annotations

import time

import cv2
import numpy as np

from ..types import AXES
from .train_gan import psnr


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean structural similarity of the luminance (Wang et al. 2004, Gaussian window sigma 1.5)."""
    x = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY).astype(np.float64)
    y = cv2.cvtColor(b, cv2.COLOR_RGB2GRAY).astype(np.float64)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    g = lambda z: cv2.GaussianBlur(z, (11, 11), 1.5)
    mx, my = g(x), g(y)
    sxx, syy, sxy = g(x * x) - mx * mx, g(y * y) - my * my, g(x * y) - mx * my
    m = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
    return float(m.mean())


def colour_shift(a: np.ndarray, b: np.ndarray) -> float:
    """Difference of the mean chroma (a*, b* of CIELAB) of two images: 0 = same overall colour."""
    la = cv2.cvtColor(a, cv2.COLOR_RGB2LAB).reshape(-1, 3).astype(np.float64).mean(0)
    lb = cv2.cvtColor(b, cv2.COLOR_RGB2LAB).reshape(-1, 3).astype(np.float64).mean(0)
    return float(np.hypot(la[1] - lb[1], la[2] - lb[2]))


def correct_crop(corrector, crop: np.ndarray, axis: str) -> np.ndarray:
    """Correct a face crop on one axis, the way ``clairvoyance correct --no-detect`` does."""
    if axis == "lighting":
        return corrector.correct_lighting(crop, crop)
    return corrector.correct(crop, [axis], crop)


def evaluate_corrector(corrector, bad: np.ndarray, good: np.ndarray, axis: str, iqa=None) -> dict:
    t0 = time.perf_counter()
    fixed = np.stack([correct_crop(corrector, b, axis) for b in bad])
    dt = (time.perf_counter() - t0) / max(len(bad), 1)
    out = {
        "n": int(len(bad)),
        "psnr_in": float(np.mean([psnr(b, g) for b, g in zip(bad, good)])),
        "psnr_out": float(np.mean([psnr(f, g) for f, g in zip(fixed, good)])),
        "ssim_in": float(np.mean([ssim(b, g) for b, g in zip(bad, good)])),
        "ssim_out": float(np.mean([ssim(f, g) for f, g in zip(fixed, good)])),
        "colour_shift": float(np.mean([colour_shift(f, g) for f, g in zip(fixed, good)])),
        "seconds_per_face": dt,
    }
    out["psnr_gain"] = out["psnr_out"] - out["psnr_in"]
    out["ssim_gain"] = out["ssim_out"] - out["ssim_in"]
    if iqa is not None:
        j = AXES.index(axis)
        sb, sf = iqa.predict_array(bad), iqa.predict_array(fixed)
        failing = sb[:, j] < 0.5
        out["iqa_pass_after"] = float(np.mean(sf[failing, j] >= 0.5)) if failing.any() else float("nan")
        others = [k for k in range(3) if k != j]
        passed_before = sb[:, others] >= 0.5
        broke = passed_before & (sf[:, others] < 0.5)
        out["other_axis_broken"] = float(broke.sum() / max(passed_before.sum(), 1))
    return out, fixed

"""Data for the correctors: per-axis domains of bad and good faces, and held-out pairs.

Bad faces are clean crops degraded on one axis only, at strengths that fail (focus: blur sigma
1-3 px; noise: sigma 8-35 levels, sometimes JPEG; lighting: -3 to -1 or +1 to +2 EV). As in the
report, the IQA model then splits them: a degraded crop joins the bad domain only if the IQA
fails it on that axis, a clean crop joins the good domain only if it passes. Pairs keep their
index, so paired training and held-out evaluation use (bad, good) of the same face.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from .. import degrade
from . import synth

AXIS_INDEX = {"focus": 0, "noise": 1, "lighting": 2}


def degrade_axis(crop: np.ndarray, axis: str, rng: np.random.Generator) -> np.ndarray:
    if axis == "focus":
        sigma = float(math.exp(rng.uniform(math.log(1.0), math.log(3.0))))
        kind = rng.choice(["gaussian", "defocus", "motion"], p=[0.4, 0.4, 0.2])
        if kind == "gaussian":
            return degrade.gaussian_blur(crop, sigma)
        if kind == "defocus":
            return degrade.defocus_blur(crop, 2 * sigma)
        return degrade.motion_blur(crop, sigma * math.sqrt(12), rng.uniform(0, 180))
    if axis == "noise":
        out = degrade.sensor_noise(crop, rng.uniform(8, 35), rng, chroma=rng.uniform(0.2, 0.7),
                                   signal_dependence=rng.uniform(0, 0.8))
        return degrade.jpeg(out, int(rng.uniform(40, 90))) if rng.random() < 0.3 else out
    if axis == "lighting":
        ev = rng.uniform(-3, -1) if rng.random() < 0.65 else rng.uniform(1, 2)
        out = degrade.exposure(crop, ev)
        return degrade.gamma(out, rng.uniform(0.8, 1.25)) if rng.random() < 0.3 else out
    raise ValueError(f"unknown axis {axis!r}")


def make_pairs(crops: np.ndarray, axis: str, variants: int, seed: int, model=None,
               augment: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(bad, good) uint8 arrays: ``variants`` degradations of each crop, filtered by ``model`` if given."""
    bad, good = [], []
    for i in range(len(crops) * variants):
        rng = np.random.default_rng([seed, 20_000 + AXIS_INDEX[axis], i])
        clean = synth.augment(crops[i % len(crops)], rng) if augment else crops[i % len(crops)]
        bad.append(degrade_axis(clean, axis, rng))
        good.append(clean)
    bad_a, good_a = np.stack(bad), np.stack(good)
    if model is not None:
        j = AXIS_INDEX[axis]
        sb = model.predict_array(bad_a)[:, j]
        sg = model.predict_array(good_a)[:, j]
        keep = (sb < 0.5) & (sg >= 0.5)
        bad_a, good_a = bad_a[keep], good_a[keep]
    return bad_a, good_a


def to_tensor(u8: np.ndarray) -> torch.Tensor:
    """uint8 NHWC -> float NCHW in [-1, 1]."""
    return torch.from_numpy(np.ascontiguousarray(u8)).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)


def to_uint8(t: torch.Tensor) -> np.ndarray:
    return ((t.detach().clamp(-1, 1) + 1) * 127.5 + 0.5).byte().permute(0, 2, 3, 1).cpu().numpy()


class PatchSampler:
    """Random aligned patches (and flips) of the pairs; unpaired draws ``good`` from another face."""

    def __init__(self, bad: np.ndarray, good: np.ndarray, size: int, paired: bool, seed: int, resize: bool = False):
        self.paired, self.size = paired, size
        if resize:  # whole faces, downscaled to the patch size
            import cv2
            shrink = lambda a: np.stack([cv2.resize(x, (size, size), interpolation=cv2.INTER_AREA) for x in a])
            bad, good = shrink(bad), shrink(good)
        self.bad, self.good = bad, good
        self.rng = np.random.default_rng(seed)

    def batch(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        N, H = len(self.bad), self.bad.shape[1]
        idx = self.rng.integers(0, N, n)
        jdx = idx if self.paired else self.rng.integers(0, N, n)
        s = self.size
        b, g = [], []
        for i, j in zip(idx, jdx):
            y, x = self.rng.integers(0, H - s + 1, 2)
            bi = self.bad[i, y : y + s, x : x + s]
            if not self.paired:
                y, x = self.rng.integers(0, H - s + 1, 2)
            gj = self.good[j, y : y + s, x : x + s]
            if self.rng.random() < 0.5:
                bi, gj = bi[:, ::-1], gj[:, ::-1]
            b.append(bi)
            g.append(gj)
        return to_tensor(np.stack(b)), to_tensor(np.stack(g))

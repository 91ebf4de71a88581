"""Fit the constants of the classical back-end on sharp, well-lit studio faces.

Usage: python scripts/calibrate_classical.py [../shared/data/faces/frl_london/neutral]
Prints the values to paste into clairvoyance/scoring/classical.py.
"""
from __future__ import annotations

import math
import sys
from pathlib import Path

import cv2
import numpy as np

from clairvoyance import degrade
from clairvoyance.detection import identify
from clairvoyance.scoring import classical


def main(folder: str) -> None:
    files = sorted(Path(folder).glob("*.jpg"))[::3]
    crops = [f.crop for p in files for f in identify(str(p))[:1]]
    print(f"{len(crops)} crops")
    sigmas = [1.0, 1.5, 2.0, 3.0]
    logs = {s: [] for s in [0.0] + sigmas}
    for c in crops:
        g = cv2.cvtColor(c, cv2.COLOR_RGB2GRAY)
        for s in logs:
            b = degrade.gaussian_blur(c, s)
            g = cv2.cvtColor(b, cv2.COLOR_RGB2GRAY).astype(np.float32)
            m = classical._mask(256)
            lap = cv2.Laplacian(g, cv2.CV_32F, ksize=1)
            logs[s].append(math.log10(float(lap[m].var()) / max(float(g[m].var()), 1.0)))
    med = {s: float(np.median(v)) for s, v in logs.items()}
    print("median log10 energy per sigma:", {k: round(v, 3) for k, v in med.items()})
    x = np.log2(sigmas)
    y = np.array([med[s] for s in sigmas])
    slope, icept = np.polyfit(x, y, 1)
    print(f"FOCUS_LOG_AT_SIGMA1 = {icept:.3f}")
    print(f"FOCUS_SLOPE = {slope:.3f}")
    lin = [degrade.srgb_to_linear(c) @ np.array([0.2126, 0.7152, 0.0722], np.float32) for c in crops]
    gm = [float(np.exp(np.log(l[classical._mask(256)] + 1e-4).mean())) for l in lin]
    print(f"TARGET_LUMINANCE = {float(np.median(gm)):.3f}")
    print("noise sigma of clean crops (median):", float(np.median([classical.noise_sigma(c) for c in crops])))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/faces/frl_london/neutral")

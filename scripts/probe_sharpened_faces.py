"""Does a model take sharpening for focus?

Real camera JPEGs, TV stills and web copies are sharpened: edges come back crisp while the fine
detail a blur or a low resolution took stays lost. This scores the clean test-split faces of
DATA_DIR softened (a Gaussian blur, or a trip down to 100 px and back) with and without an unsharp
mask after it, and prints the median focus score and the share that pass every axis: a model that
judges focus by edge contrast passes the sharpened soft faces.

Usage: python scripts/probe_sharpened_faces.py DATA_DIR [--model NAME ...]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from clairvoyance import degrade
from clairvoyance.scoring import get_model
from clairvoyance.training.dataset import Crops
from clairvoyance.types import Tolerances


def from_100px(a: np.ndarray) -> np.ndarray:
    small = cv2.resize(a, (100, 100), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (256, 256), interpolation=cv2.INTER_CUBIC)


PROBES = {
    "clean": lambda a: a,
    "clean, sharpened (r 1, amount 1)": lambda a: degrade.unsharp_mask(a, 1.0, 1.0),
    "Gaussian blur 1.5": lambda a: degrade.gaussian_blur(a, 1.5),
    "Gaussian blur 1.5, sharpened (r 2, amount 1.5)": lambda a: degrade.unsharp_mask(degrade.gaussian_blur(a, 1.5), 2.0, 1.5),
    "from 100 px": from_100px,
    "from 100 px, sharpened (r 1.5, amount 1)": lambda a: degrade.unsharp_mask(from_100px(a), 1.5, 1.0),
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("--model", action="append")
    a = ap.parse_args()
    test = Crops.load(a.data_dir, "test")
    tol = Tolerances()
    for name in a.model or ["iqa-fast"]:
        m = get_model(name)
        print(f"## {m.label}: {len(test.images)} clean test-split faces")
        for probe, fn in PROBES.items():
            scores = m.predict([fn(c) for c in test.images], list(test.natives))
            focus = np.median([s.focus for s in scores])
            passed = np.mean([not tol.failed(s) for s in scores])
            print(f"  {probe:48s} median focus {focus:.2f}  pass {passed:.0%}")


if __name__ == "__main__":
    main()

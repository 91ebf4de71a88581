"""How fast is correction? Seconds per face (the pipeline's face path) and per megapixel (--scope image).

Usage: python bench/bench_correct.py [--corrector learned|classical] [--repeats 3]
Uses scikit-image's astronaut (a real photo), degraded on each axis.
"""
from __future__ import annotations

import argparse
import time

import cv2
import numpy as np
from skimage import data

from clairvoyance import degrade
from clairvoyance.detection import identify
from clairvoyance.images import Photo
from clairvoyance.correction.base import default_corrector_name
from clairvoyance.pipeline import Clairvoyance


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corrector", default=None, help="learned (default when shipped) or classical")
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    cv = Clairvoyance(model="classical", corrector=a.corrector or default_corrector_name())
    print(f"corrector: {cv.corrector.label}")
    rgb = cv2.resize(data.astronaut(), (1024, 1024), interpolation=cv2.INTER_CUBIC)
    faces = identify(Photo(path=None, rgb=rgb, size=(1024, 1024)))
    bad = {"focus": degrade.gaussian_blur(rgb, 3.0), "noise": degrade.sensor_noise(rgb, 20, np.random.default_rng(0)),
           "lighting": degrade.exposure(rgb, -2.0)}
    for axis, img in bad.items():
        cv.correct(img, faces[:1], [[axis]])  # warm-up
        t = time.perf_counter()
        for _ in range(a.repeats):
            cv.correct(img, faces[:1], [[axis]])
        per_face = (time.perf_counter() - t) / a.repeats
        t = time.perf_counter()
        cv.correct_image(img, faces[:1], [[axis]])
        per_mp = (time.perf_counter() - t) / (img.shape[0] * img.shape[1] / 1e6)
        print(f"{axis:9s} face path {per_face:.3f} s/face   whole image (--scope image) {per_mp:.2f} s/megapixel")


if __name__ == "__main__":
    main()
